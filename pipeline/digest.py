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

from pipeline.article import Article, DigestEntry
from pipeline.languages import name_of
from pipeline.render import environment, render_page, translated_by, write_atomic
from pipeline.stories import (
    DigestOptions,
    Story,
    SummarySentence,
    TimelineItem,
    build_stories,
    merged_summary,
    story_of,
)

log = logging.getLogger("newsbrief.digest")

DIGEST_RE = re.compile(r"^digest-(\d{4}-\d{2}-\d{2})\.md$")


@dataclass(frozen=True)
class Failure:
    source_file: str
    reason: str


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
        vocabulary_map=article.translation.used_a_vocabulary_map,
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
        "vocabulary_map": sum(1 for e in a if e.vocabulary_map),
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
