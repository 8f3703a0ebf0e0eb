"""The run's digest: the day's articles merged into stories, and every file that failed and why.

A reader opens it in the morning and must learn in a few minutes what happened, in which order
and who said which number: so the digest is a list of stories (see stories.py), newest first,
each with a merged summary, a timeline and its key figures, under a one-line-per-story "In
brief". A table of every article (newest first) and the failures close it, for whoever runs
the pipeline.

Written as `digest-<run-date>.md` (GitHub-flavoured Markdown with YAML front matter for
Jekyll or Hugo) with a JSON twin that carries the same content for other tools, plus
`index.md` (every digest, newest first) and `digest-latest.md` (a copy of the newest one). Each
brief is linked exactly once, from its story's timeline. Apart from `generated`, the output
depends only on the entries, so the same articles give byte-identical digests.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from pipeline.article import Article
from pipeline.languages import name_of
from pipeline.render import SITE_FRONT_MATTER, environment, write_atomic
from pipeline.stories import Story, build_stories

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
        summary_sentences: the most sentences in a story's merged summary; a story gets at most
            two more than it has articles (a one-article story: 3).
        max_figure_groups: the most quantities listed under a story's key figures.
        gist_max_chars: a timeline line's sentence is cut at a word boundary past this length.
        figure_synonyms: more quantity synonyms, added to the built-in table in figures.py
            (troops = soldiers = military personnel, euros = EUR = €, …): a quantity's name →
            the words (singular) and symbols that count the same thing. A name given here
            replaces the built-in entry of that name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = "News digest"
    min_similarity: float = Field(0.1, ge=0.0, le=1.0)
    name_weight: int = Field(2, ge=0, le=10)
    min_shared_names: int = Field(1, ge=0)
    name_share: float = Field(0.67, ge=0.0, le=1.0)
    summary_sentences: int = Field(5, ge=1, le=12)
    max_figure_groups: int = Field(6, ge=0)
    gist_max_chars: int = Field(220, ge=40)
    figure_synonyms: dict[str, list[str]] = {}


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


@dataclass
class Digest:
    run_date: str
    generated: str
    articles: list[DigestEntry]  # newest first
    failed: list[Failure]
    stories: list[Story] = field(default_factory=list)  # newest first

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
    )


def build_digest(
    run_date: str,
    entries: list[DigestEntry],
    failed: list[Failure],
    now: datetime,
    options: DigestOptions | None = None,
) -> Digest:
    options = options or DigestOptions()
    ordered = sorted(entries, key=lambda e: (tuple(-x for x in e.sort_key[0]), e.sort_key[1]))
    return Digest(
        run_date=run_date,
        generated=now.isoformat(timespec="seconds"),
        articles=ordered,
        failed=sorted(failed, key=lambda f: f.source_file),
        stories=build_stories(ordered, options),
    )


def counts(digest: Digest) -> dict[str, int]:
    a = digest.articles
    return {
        "articles": len(a),
        "stories": len(digest.stories),
        "languages": len({e.language for e in a}),
        "failed": len(digest.failed),
        "with_warnings": sum(1 for e in a if e.warnings),
        "flagged_sentences": sum(e.flagged_sentences for e in a),
        "fallback_sentences": sum(e.fallback_sentences for e in a),
    }


def write_digest(digest: Digest, output_dir: Path, options: DigestOptions) -> Path:
    """Writes digest-<run-date>.md and .json, digest-latest.md and index.md; returns the digest's path."""
    n = counts(digest)
    story_of = {e.source_file: k for k, s in enumerate(digest.stories, 1) for e in s.articles}
    front = {
        "title": f"{options.title}: {digest.run_date}",
        "date": digest.run_date,
        "generated": digest.generated,
        **n,
        **SITE_FRONT_MATTER,
    }
    md = (
        environment()
        .get_template("digest.md.j2")
        .render(
            front_matter=yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000),
            title=options.title,
            run_date=digest.run_date,
            generated=digest.generated,
            n=n,
            stories=digest.stories,
            articles=digest.articles,
            story_of=story_of,
            failed=digest.failed,
        )
    )
    path = output_dir / f"digest-{digest.run_date}.md"
    write_atomic(path, md)
    write_atomic(output_dir / "digest-latest.md", md)
    write_atomic(path.with_suffix(".json"), json.dumps(payload(digest), ensure_ascii=False, indent=2) + "\n")
    write_index(output_dir)
    return path


def payload(digest: Digest) -> dict[str, Any]:
    """The digest as JSON-able data: the Markdown's content, for other tools."""
    return {
        "run_date": digest.run_date,
        "generated": digest.generated,
        "counts": counts(digest),
        "stories": [_story_json(s) for s in digest.stories],
        "articles": [_entry_json(e) for e in digest.articles],
        "failed": [asdict(f) for f in digest.failed],
    }


def _entry_json(e: DigestEntry) -> dict[str, Any]:
    hidden = {"sort_key", "sentences", "flagged", "key_points"}
    return {k: v for k, v in asdict(e).items() if k not in hidden}


def _story_json(s: Story) -> dict[str, Any]:
    return {
        "title": s.title,
        "summary": s.summary_text,
        "summary_sources": [{"sentence": x.text, "brief": x.source.brief} for x in s.summary],
        "languages": s.languages,
        "articles": [
            {
                "brief": t.entry.brief,
                "date": t.entry.date,
                "date_precision": t.entry.date_precision,
                "language": t.entry.language,
                "language_name": t.entry.language_name,
                "source_file": t.entry.source_file,
                "source_url": t.entry.source_url,
                "headline": t.entry.headline,
                "gist": t.gist,
            }
            for t in s.timeline
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
                    }
                    for f in g.figures
                ],
            }
            for g in s.figures
        ],
    }


def _number(x: float) -> int | float:
    return int(x) if x.is_integer() else x


def write_index(output_dir: Path) -> None:
    runs = sorted((m.group(1) for p in output_dir.iterdir() if (m := DIGEST_RE.match(p.name))), reverse=True)
    digests = [{"run_date": r, "file": f"digest-{r}.md"} for r in runs]
    write_atomic(output_dir / "index.md", environment().get_template("index.md.j2").render(digests=digests))
