"""The run's digest: the day's articles merged into stories, and every file that failed and why.

A reader opens it in the morning and must learn in a few minutes what happened, in which order
and who said which number: so the digest is a list of stories (see stories.py), newest first,
each with a merged summary, a timeline and its key figures, under a one-line-per-story "In
brief". A table of every article (newest first) and the failures close it, for whoever runs
the pipeline.

Written as `digest-<run-date>.md` (GitHub-flavoured Markdown with YAML front matter for
Jekyll or Hugo) with a JSON twin that carries the same content for other tools, plus
`index.md` (every digest, newest first) and `digest-latest.md` (a copy of the newest one). Each
brief is linked exactly once, from its story's timeline. Apart from `generated` and `executor`, the output
depends only on the entries, so the same articles give byte-identical digests.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.article import Article
from pipeline.languages import name_of
from pipeline.render import environment, render_page, translated_by, write_atomic
from pipeline.stories import Story, SummarySentence, TimelineItem, build_stories, merged_summary, story_of

log = logging.getLogger("newsbrief.digest")

DIGEST_RE = re.compile(r"^digest-(\d{4}-\d{2}-\d{2})\.md$")


class DigestOptions(BaseModel):
    """How the digest groups articles into stories and what it shows of each.

    Attributes:
        title: the digest's heading.
        min_similarity: groups of articles merge into one story while their average pairwise
            similarity (0-1) is at least this. Lower merges more; 1 keeps every article apart.
        name_weight: how many words one mention of a name or place weighs in the TF-IDF vectors
            whose cosine is that similarity (names are the evidence that survives translation).
        min_shared_names: a pair of articles sharing fewer names, places or figures than this
            is not similar at all, whatever its words (0 turns the rule off).
        name_share: two groups never merge when each owns a name: at least this share of its
            articles (it has five or more) are about the name (headline, lead, or twice), and
            hardly any of the other's mention it. This parts look-alike events (two arrests of
            players of one team, two fires at one supermarket chain). 0 turns the rule off.
        translation_weight: how much the English weighs in a pair's similarity when both
            translations are trusted; the rest is the originals' evidence (the names, places
            and figures they give, and for two articles in one language their words). A pair
            whose English is flagged, fell back or lost what the original names weighs its
            English in proportion less (stories.translation_quality). 0: originals only.
        min_shared_source: on the originals' side, a pair of articles sharing fewer names,
            places or figures than this is not similar at all: one famous name (Trump, Putin)
            or one country is not a story.
        summary_sentences: the most sentences in a story's merged summary; a story gets at most
            two more than it has articles (a one-article story: 3).
        max_figure_groups: the most quantities listed under a story's key figures.
        gist_max_chars: a timeline line's sentence is cut at a word boundary past this length.
        story_window_days: how long a story stays open without a new article: a new article is
            only matched with stories updated within this many days of the run date (the most
            recently updated first); older stories are closed and keep their page.
        figure_synonyms: more quantity synonyms, added to the built-in table in figures.py
            (troops = soldiers = military personnel, euros = EUR = €, …): a quantity's name →
            the words (singular) and symbols that count the same thing. A name given here
            replaces the built-in entry of that name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = "News digest"
    min_similarity: float = Field(0.125, ge=0.0, le=1.0)
    name_weight: int = Field(2, ge=0, le=10)
    min_shared_names: int = Field(1, ge=0)
    name_share: float = Field(0.67, ge=0.0, le=1.0)
    translation_weight: float = Field(0.75, ge=0.0, le=1.0)
    min_shared_source: int = Field(2, ge=0)
    summary_sentences: int = Field(5, ge=1, le=12)
    max_figure_groups: int = Field(6, ge=0)
    gist_max_chars: int = Field(220, ge=40)
    story_window_days: int = Field(365, ge=1)
    figure_synonyms: dict[str, list[str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _retired_keys(cls, data: Any) -> Any:
        # `text_weight` mixed two cosines until names joined the one TF-IDF vector (name_weight):
        # a config written for the old grouping still loads, and says the key does nothing now.
        if isinstance(data, dict) and "text_weight" in data:
            data = {k: v for k, v in data.items() if k != "text_weight"}
            log.warning("digest.text_weight is no longer used (names weigh in via name_weight): remove it")
        return data


@dataclass(frozen=True)
class Failure:
    source_file: str
    reason: str


@dataclass
class DigestEntry:
    """What the digest knows of one article. Plain JSON-able fields: it is stored between runs
    (a later run on the same day rebuilds the day's digest from it), so new fields get defaults."""

    brief: str  # link relative to the output folder
    date: str
    language: str
    language_name: str
    source_file: str
    headline: str
    summary: str
    warnings: list[str]
    flagged_sentences: int
    sort_key: tuple = field(repr=False, default=())
    date_precision: str | None = None  # "day", "month", "year"; None when undated
    sentences: list[str] = field(default_factory=list, repr=False)  # the English body, in order
    flagged: list[int] = field(default_factory=list, repr=False)  # indices of flagged sentences
    key_points: list[str] = field(default_factory=list, repr=False)
    summary_method: str = ""
    fallback_sentences: int = 0  # sentences a fallback model translated
    source_url: str | None = None  # the original page, when `newsbrief fetch` saved it
    # For the site's brief page (site.py), which sets translation and original side by side:
    original: list[str] = field(default_factory=list, repr=False)  # the source paragraphs, as read
    original_title: str | None = None
    paragraphs: list[int] = field(default_factory=list, repr=False)  # source paragraph of each sentence
    flags: dict[str, list[str]] = field(default_factory=dict, repr=False)  # sentence index → its flags
    feed_title: str | None = None
    translated_by: str = ""  # per language: the model and its revision, as the brief says it
    # The original beside the English (`sentences`, index for index), for evidence that does not
    # depend on the translation (pipeline/evidence.py); empty in entries stored before it.
    source_sentences: list[str] = field(default_factory=list, repr=False)


@dataclass
class TrackedStory:
    """A story as tonight's digest shows it: every article it has gathered over the nights,
    those new tonight marked, with its id and page when the state database keeps it."""

    story: Story  # all its articles, oldest first; figures across all of them
    tonight: list[SummarySentence]  # the summary of what is new tonight
    new: frozenset[str]  # source files new tonight
    id: str = ""  # "" for a story kept for one digest only (no state database)
    first_seen: str = ""
    last_update: str = ""
    continues: bool = False  # started on an earlier night
    page: str = ""  # relative to the output folder
    joined: dict[str, str] = field(default_factory=dict)  # source file → run date it joined
    merged_from: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.story.title

    @property
    def articles(self) -> list[DigestEntry]:
        return self.story.articles

    @property
    def languages(self) -> list[str]:
        return self.story.languages

    @property
    def span(self) -> str:
        return self.story.span

    @property
    def fresh(self) -> list[TimelineItem]:
        return [t for t in self.story.timeline if t.entry.source_file in self.new]

    @property
    def earlier(self) -> list[TimelineItem]:
        return [t for t in self.story.timeline if t.entry.source_file not in self.new]


@dataclass
class Digest:
    run_date: str
    generated: str
    articles: list[DigestEntry]  # newest first
    failed: list[Failure]
    stories: list[TrackedStory] = field(default_factory=list)  # newest first
    executor: str = "local"  # what ran the models: `local`, or `ray (N nodes, C CPUs, G GPUs)`

    @property
    def exit_ok(self) -> bool:
        return not self.failed


def entry_for(article: Article, output_dir: Path, fallback_sentences: int = 0) -> DigestEntry:
    assert article.summary and article.translation and article.brief_path  # noqa: S101
    body = [p for p in article.translation.pairs if p.paragraph >= 0]
    return DigestEntry(
        brief=article.brief_path.relative_to(output_dir).as_posix(),
        date=str(article.date) if article.date else f"undated (ingested {article.ingested_at:%Y-%m-%d})",
        language=article.language,
        language_name=name_of(article.language),
        source_file=article.source_file,
        headline=article.summary.headline,
        summary=article.summary.summary,
        warnings=list(article.warnings),
        flagged_sentences=len(article.translation.flagged),
        # Newest first; an undated article goes last; ties broken by file name for determinism.
        sort_key=(article.date.sort_key() if article.date else (0, 0, 0), article.source_file),
        date_precision=article.date.precision if article.date else None,
        sentences=[p.english for p in body],
        flagged=[i for i, p in enumerate(body) if p.flags],
        key_points=list(article.summary.key_points),
        summary_method=article.summary.method,
        fallback_sentences=fallback_sentences,
        source_url=article.source_url,
        original=list(article.paragraphs),
        original_title=article.title,
        paragraphs=[p.paragraph for p in body],
        flags={str(i): list(p.flags) for i, p in enumerate(body) if p.flags},
        feed_title=article.feed_title,
        translated_by=translated_by(article.translation.models),
        source_sentences=[p.source for p in body],
    )


def entry_from_json(data: dict) -> DigestEntry:
    """A stored entry (state database) back into a DigestEntry."""
    known = {f.name for f in fields(DigestEntry)}
    data = {k: v for k, v in data.items() if k in known}  # a field a later version stored is ignored
    data["sort_key"] = (tuple(data["sort_key"][0]), data["sort_key"][1])
    return DigestEntry(**data)


def tracked_story(
    entries: list[DigestEntry], new: set[str], options: DigestOptions, **kept: Any
) -> TrackedStory:
    """One stored story for tonight's digest and its page: built from all its articles, with
    every figure group (the digest shows the first `max_figure_groups`, the page all)."""
    everything = options.model_copy(update={"max_figure_groups": 10**6})
    story = story_of(entries, everything)
    fresh = [t.entry for t in story.timeline if t.entry.source_file in new]
    earlier = len(fresh) < len(story.timeline)
    tonight = merged_summary(fresh, options) if earlier and fresh else story.summary
    return TrackedStory(story, tonight, frozenset(new), **kept)


def build_digest(
    run_date: str,
    entries: list[DigestEntry],
    failed: list[Failure],
    now: datetime,
    options: DigestOptions | None = None,
    stories: list[TrackedStory] | None = None,
    executor: str = "local",
) -> Digest:
    """Tonight's digest. `stories`: the stored stories tonight's articles joined (see
    storystore.py); without them, tonight's articles are grouped among themselves."""
    options = options or DigestOptions()
    ordered = sorted(entries, key=lambda e: (tuple(-x for x in e.sort_key[0]), e.sort_key[1]))
    if stories is None:
        files = {e.source_file for e in ordered}
        stories = [TrackedStory(s, s.summary, frozenset(files)) for s in build_stories(ordered, options)]
    return Digest(
        run_date=run_date,
        generated=now.isoformat(timespec="seconds"),
        articles=ordered,
        failed=sorted(failed, key=lambda f: f.source_file),
        stories=sorted(stories, key=_newest_first),
        executor=executor,
    )


def _newest_first(s: TrackedStory) -> tuple:
    """By the newest article new tonight, then the story's oldest file (for determinism)."""
    dated = [tuple(t.entry.sort_key[0]) for t in s.fresh if t.entry.sort_key] or [(0, 0, 0)]
    return (tuple(-x for x in max(dated)), s.story.articles[0].source_file if s.story.articles else "")


def counts(digest: Digest) -> dict[str, int]:
    a = digest.articles
    return {
        "articles": len(a),
        "stories": len(digest.stories),
        "new_stories": sum(1 for s in digest.stories if not s.continues),
        "continuing_stories": sum(1 for s in digest.stories if s.continues),
        "languages": len({e.language for e in a}),
        "failed": len(digest.failed),
        "with_warnings": sum(1 for e in a if e.warnings),
        "flagged_sentences": sum(e.flagged_sentences for e in a),
        "fallback_sentences": sum(e.fallback_sentences for e in a),
    }


def write_digest(
    digest: Digest, output_dir: Path, options: DigestOptions, open_stories: list[dict] | None = None
) -> Path:
    """Writes digest-<run-date>.md and .json, digest-latest.md and index.md (with `open_stories`,
    last updated first); returns the digest's path."""
    n = counts(digest)
    number = {e.source_file: k for k, s in enumerate(digest.stories, 1) for e in s.articles}
    front = {
        "title": f"{options.title}: {digest.run_date}",
        "date": digest.run_date,
        "generated": digest.generated,
        "executor": digest.executor,
        **n,
    }
    md = render_page(
        "digest.md.j2",
        front,
        title=options.title,
        run_date=digest.run_date,
        generated=digest.generated,
        n=n,
        stories=digest.stories,
        max_figures=options.max_figure_groups,
        articles=digest.articles,
        story_of=number,
        failed=digest.failed,
    )
    path = output_dir / f"digest-{digest.run_date}.md"
    write_atomic(path, md)
    write_atomic(output_dir / "digest-latest.md", md)
    data = payload(digest, options.max_figure_groups)
    write_atomic(path.with_suffix(".json"), json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    write_index(output_dir, open_stories or [])
    return path


def payload(digest: Digest, max_figure_groups: int = DigestOptions().max_figure_groups) -> dict[str, Any]:
    """The digest as JSON-able data: the Markdown's content, for other tools."""
    return {
        "run_date": digest.run_date,
        "generated": digest.generated,
        "executor": digest.executor,
        "counts": counts(digest),
        "stories": [_story_json(s, max_figure_groups) for s in digest.stories],
        "articles": [_entry_json(e) for e in digest.articles],
        "failed": [asdict(f) for f in digest.failed],
    }


def _entry_json(e: DigestEntry) -> dict[str, Any]:
    hidden = {"sort_key", "sentences", "flagged", "key_points", "source_sentences", *SITE_ONLY}
    return {k: v for k, v in asdict(e).items() if k not in hidden}


# Entry fields only the site shows: the digest's JSON twin stays as it was.
SITE_ONLY = ("original", "original_title", "paragraphs", "flags", "feed_title", "translated_by")


def _story_json(s: TrackedStory, max_figure_groups: int) -> dict[str, Any]:
    return {
        "id": s.id or None,
        "first_seen": s.first_seen or None,
        "page": s.page or None,
        "continues": s.continues,
        "title": s.title,
        "summary": " ".join(x.text for x in s.tonight),
        "summary_sources": [{"sentence": x.text, "brief": x.source.brief} for x in s.tonight],
        "languages": s.languages,
        "articles": [
            {
                "new": t.entry.source_file in s.new,
                "brief": t.entry.brief,
                "date": t.entry.date,
                "date_precision": t.entry.date_precision,
                "language": t.entry.language,
                "language_name": t.entry.language_name,
                "source_file": t.entry.source_file,
                "source_url": t.entry.source_url,
                "headline": t.entry.headline,
                "gist": t.gist,
                "shares": t.why,
            }
            for t in s.story.timeline
        ],
        "figures": [
            {
                "quantity": g.quantity,
                "differs": g.differs,
                "change": g.change,
                "values": [
                    {
                        "value": _number(f.figure.value),
                        "qualifier": f.figure.qualifier,
                        "display": f.figure.display,
                        "upper": None if f.figure.upper is None else _number(f.figure.upper),
                        "change": g.change_of(f),
                        "text": f.figure.text,
                        "date": f.source.date,
                        "date_precision": f.source.date_precision,
                        "language": f.source.language,
                        "language_name": f.source.language_name,
                        "source_file": f.source.source_file,
                        "brief": f.source.brief,
                        "new": f.source.source_file in s.new,
                    }
                    for f in g.figures
                ],
            }
            for g in s.story.figures[:max_figure_groups]
        ],
    }


def _number(x: float) -> int | float:
    return int(x) if x.is_integer() else x


def write_index(output_dir: Path, open_stories: list[dict]) -> None:
    runs = sorted((m.group(1) for p in output_dir.iterdir() if (m := DIGEST_RE.match(p.name))), reverse=True)
    digests = [{"run_date": r, "file": f"digest-{r}.md"} for r in runs]
    text = environment().get_template("index.md.j2").render(digests=digests, stories=open_stories)
    write_atomic(output_dir / "index.md", text)


def write_story_page(s: TrackedStory, output_dir: Path, status: str = "open") -> Path:
    """The story's page: its merged summary, full timeline and every figure, with front matter
    that lists its id and articles (what `storystore.recover_from_pages` reads back)."""
    front = {
        "title": s.title,
        "id": s.id,
        "status": status,
        "first_seen": s.first_seen,
        "last_update": s.last_update,
        "languages": s.languages,
        "articles": [
            {
                "source_file": e.source_file,
                "brief": e.brief,
                "date": e.date,
                "language": e.language,
                "joined": s.joined.get(e.source_file, s.last_update),
            }
            for e in s.articles
        ],
    }
    if s.merged_from:
        front["merged_from"] = list(s.merged_from)
    md = render_page("story.md.j2", front, s=s, up="../" * s.page.count("/"))
    path = output_dir / s.page
    write_atomic(path, md)
    return path


def write_merged_page(page: str, sid: str, title: str, into: TrackedStory, output_dir: Path) -> None:
    """A merged story's page becomes a pointer, so links from earlier digests still lead on."""
    front = {"title": title, "id": sid, "status": "merged", "merged_into": into.id}
    md = render_page(
        "story-merged.md.j2", front, title=title, into_title=into.title, into=Path(into.page).name
    )
    write_atomic(output_dir / page, md)
