"""The record that flows through the stages; each stage fills its part and never hides a failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.dates import ArticleDate
    from pipeline.langid import Detection
    from pipeline.summarize import Summary
    from pipeline.translate import Translation


@dataclass
class Article:
    # ingest
    source_path: Path
    source_file: str  # path relative to the input folder, as users see it
    sha256: str
    encoding: str
    paragraphs: list[str]  # the story's paragraphs, page furniture removed
    title: str | None = None  # the original headline, when the source has one
    date: ArticleDate | None = None
    date_source: str | None = None  # "header", "text", "html", "feed"
    date_note: str | None = None  # why the date is unknown (a `date` header that is not a date)
    ingested_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    removed: list[str] = field(default_factory=list)  # what ingest stripped, in words
    source_url: str | None = None  # the page's address, when `newsbrief fetch` saved it
    feed_title: str | None = None  # the feed that linked it
    # later stages
    detection: Detection | None = None
    translation: Translation | None = None
    summary: Summary | None = None
    warnings: list[str] = field(default_factory=list)
    brief_path: Path | None = None

    @property
    def text(self) -> str:
        """Title and body as running text, paragraphs separated by blank lines."""
        parts = ([self.title] if self.title else []) + self.paragraphs
        return "\n\n".join(parts)

    @property
    def language(self) -> str:
        return self.detection.lang if self.detection else "und"

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
