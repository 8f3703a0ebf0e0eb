"""The run's digest: every article of the run, newest first, and every file that failed and why.

Written as `digest-<run-date>.md` with a JSON twin for other tools, plus `index.md` (every
digest, newest first) and `digest-latest.md` (a copy of the newest one).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.article import Article
from pipeline.languages import name_of
from pipeline.render import environment, write_atomic

DIGEST_RE = re.compile(r"^digest-(\d{4}-\d{2}-\d{2})\.md$")


class DigestOptions(BaseModel):
    """Attributes: title: the digest's heading."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = "News digest"


@dataclass(frozen=True)
class Failure:
    source_file: str
    reason: str


@dataclass
class DigestEntry:
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


@dataclass
class Digest:
    run_date: str
    generated: str
    articles: list[DigestEntry]
    failed: list[Failure]

    @property
    def exit_ok(self) -> bool:
        return not self.failed


def entry_for(article: Article, output_dir: Path) -> DigestEntry:
    assert article.summary and article.translation and article.brief_path  # noqa: S101
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
    )


def build_digest(run_date: str, entries: list[DigestEntry], failed: list[Failure], now: datetime) -> Digest:
    ordered = sorted(entries, key=lambda e: (tuple(-x for x in e.sort_key[0]), e.sort_key[1]))
    return Digest(
        run_date=run_date,
        generated=now.isoformat(timespec="seconds"),
        articles=ordered,
        failed=sorted(failed, key=lambda f: f.source_file),
    )


def write_digest(digest: Digest, output_dir: Path, options: DigestOptions) -> Path:
    """Writes digest-<run-date>.md and .json, digest-latest.md and index.md; returns the digest's path."""
    md = (
        environment()
        .get_template("digest.md.j2")
        .render(
            title=options.title,
            run_date=digest.run_date,
            generated=digest.generated,
            articles=digest.articles,
            failed=digest.failed,
            language_count=len({a.language for a in digest.articles}),
            warned=sum(1 for a in digest.articles if a.warnings),
            fallback_sentences=sum(a.flagged_sentences for a in digest.articles),
        )
    )
    path = output_dir / f"digest-{digest.run_date}.md"
    write_atomic(path, md)
    write_atomic(output_dir / "digest-latest.md", md)
    payload = {
        "run_date": digest.run_date,
        "generated": digest.generated,
        "articles": [{k: v for k, v in asdict(a).items() if k != "sort_key"} for a in digest.articles],
        "failed": [asdict(f) for f in digest.failed],
    }
    write_atomic(path.with_suffix(".json"), json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    write_index(output_dir)
    return path


def write_index(output_dir: Path) -> None:
    runs = sorted((m.group(1) for p in output_dir.iterdir() if (m := DIGEST_RE.match(p.name))), reverse=True)
    digests = [{"run_date": r, "file": f"digest-{r}.md"} for r in runs]
    write_atomic(output_dir / "index.md", environment().get_template("index.md.j2").render(digests=digests))
