"""The records that flow through the stages; each stage fills its part and never hides a failure.

They sit at the bottom of the imports: stages import them, and this module imports no stage
(the types named only for hints are records of their own modules, which import nothing back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.dates import ArticleDate
    from pipeline.langid import Detection


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


@dataclass
class SentencePair:
    """One source sentence and its English, with where it came from and what happened to it."""

    paragraph: int  # -1 for the title
    source: str
    english: str
    lang: str
    route: str  # the model whose output is kept, or "passthrough"
    flags: list[str] = field(default_factory=list)  # problems a reader must see: "cut at max_new_tokens"
    notes: list[str] = field(default_factory=list)  # handling, not problems: "split into 3 pieces…"
    fallback_from: str | None = None  # the route whose output failed its checks, when a fallback was used


@dataclass
class Translation:
    pairs: list[SentencePair]
    models: dict[str, dict[str, str]]  # language → {"route", "model", "revision"}; "fallback" when used
    decoding: dict[str, dict[str, object]]  # language → the settings used
    # language (and "fallback" when used) → the output vocabulary its model decoded with, and why
    vocabularies: dict[str, str] = field(default_factory=dict)

    @property
    def used_a_vocabulary_map(self) -> bool:
        """Whether any of it was decoded with an output vocabulary map (`english` or `latin`)."""
        return any(not v.startswith("all") for v in self.vocabularies.values())

    @property
    def fallback_count(self) -> int:
        """Sentences that were retried on the fallback route."""
        return sum(1 for p in self.pairs if p.fallback_from or any(f.startswith("fallback") for f in p.notes))

    @property
    def title(self) -> str | None:
        parts = [p.english for p in self.pairs if p.paragraph == -1]
        return " ".join(parts) if parts else None

    def paragraphs(self) -> list[str]:
        """The English body, one string per source paragraph, in order."""
        out: dict[int, list[str]] = {}
        for p in self.pairs:
            if p.paragraph >= 0:
                out.setdefault(p.paragraph, []).append(p.english)
        return [" ".join(out[i]) for i in sorted(out)]

    def sentences(self) -> list[str]:
        return [p.english for p in self.pairs if p.paragraph >= 0]

    @property
    def flagged(self) -> list[SentencePair]:
        return [p for p in self.pairs if p.flags]


@dataclass
class Summary:
    headline: str
    key_points: list[str]
    summary: str
    method: str  # "abstractive" or "extractive"
    model: str  # "<id>@<revision>" or "extractive (TF-IDF centroid)"
    chunks: int = 1
    warnings: list[str] = field(default_factory=list)


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
    vocabulary_map: bool = False  # translated with an output vocabulary map (not the whole vocabulary)
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
