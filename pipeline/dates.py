"""An article's own date, kept at the precision the source gives ("2024-11" stays a month).

Sources, in order: a `date YYYY-MM[-DD]` header line, then a localised date standing alone in
the first lines ("24 Ноември, 2024"). Dates inside body sentences are not the article's date.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

log = logging.getLogger("newsbrief.dates")

# ` date 2025-09-03 Body text…`: the seeds put the header on the same line as the first paragraph.
HEADER_RE = re.compile(r"^\s*date:?\s+(\d{4})-(\d{2})(?:-(\d{2}))?(?=\s|$)", re.IGNORECASE)
# A header that is not a date (`date ../../etc`, `date 9999-99-99`, `Date: tomorrow`): the
# keyword then one token, alone on the line, or a date-like token (digits and separators)
# before the text. Lower-case `date ` or a colon, so "Date palms grow…" stays a sentence.
BAD_HEADER_RE = re.compile(
    r"^\s*(?:(?i:date):|date\s)\s*(\S+)\s*$|^\s*(?:(?i:date):|date\s)\s*(\d[\d./:-]*)(?=\s|$)"
)
# A line that could be a date on its own: short, holds a 4-digit year, no sentence punctuation.
DATE_LINE_MAX_CHARS = 40
YEAR_RE = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@dataclass(frozen=True, order=True)
class ArticleDate:
    """A calendar date with a precision: year, year-month or year-month-day."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        # Validates the fields; raises ValueError for 2024-13 or 2024-02-30.
        date(self.year, self.month or 1, self.day or 1)
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def __str__(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def sort_key(self) -> tuple[int, int, int]:
        """Orders a month before the days inside it would be ambiguous; put it at its start."""
        return (self.year, self.month or 0, self.day or 0)

    @classmethod
    def parse(cls, text: str) -> ArticleDate:
        """Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`."""
        m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text.strip())
        if not m:
            raise ValueError(f"not a date: {text!r} (expected YYYY, YYYY-MM or YYYY-MM-DD)")
        y, mo, d = m.groups()
        return cls(int(y), int(mo) if mo else None, int(d) if d else None)


@dataclass(frozen=True)
class Header:
    """What a first line's `date` header gave: a date, or the reason there is none."""

    date: ArticleDate | None
    rest: str  # the line without the header
    problem: str | None = None  # a header was there but is not a date: why


def read_header(first_line: str) -> Header:
    """The `date` header of a first line. A header that is not a date is still a header: it is
    taken off the text (it must not become the headline) and its problem is reported."""
    m = HEADER_RE.match(first_line)
    if m:
        y, mo, d = m.groups()
        try:
            found = ArticleDate(int(y), int(mo), int(d) if d else None)
            return Header(found, first_line[m.end() :].strip())
        except ValueError:
            pass  # an impossible date (2024-13-01): reported below as not a date
    bad = BAD_HEADER_RE.match(first_line)
    if not bad:
        return Header(None, first_line)
    token = bad.group(1) or bad.group(2)
    problem = f"the date header {token!r} is not a date, expected YYYY-MM-DD"
    log.warning("ignoring a date header that is not a date: %r", token)
    return Header(None, first_line[bad.end() :].strip(), problem)


def split_header(first_line: str) -> tuple[ArticleDate | None, str]:
    """Returns the header date of a first line and what follows it on that line."""
    header = read_header(first_line)
    return header.date, header.rest


def parse_date_line(line: str, languages: list[str] | None = None) -> ArticleDate | None:
    """A localised date that makes up the whole line ("24 Ноември, 2024", "3 სექტემბერი 2025")."""
    line = line.strip()
    if not line or len(line) > DATE_LINE_MAX_CHARS or not YEAR_RE.search(line):
        return None
    import dateparser  # heavy import; only needed for the few lines that could be dates

    settings = {"REQUIRE_PARTS": ["year"], "PREFER_DAY_OF_MONTH": "first", "STRICT_PARSING": False}
    data = dateparser.date.DateDataParser(languages=languages or None, settings=settings).get_date_data(line)
    if data is None or data.date_obj is None:
        return None
    d = data.date_obj
    period = data.period or "day"
    if period == "year":
        return ArticleDate(d.year)
    if period == "month":
        return ArticleDate(d.year, d.month)
    return ArticleDate(d.year, d.month, d.day)
