"""A headline for an article that has no title line: short, complete, and saying what happened.

News puts what happened in its lead sentence, wrapped in what a headline leaves out: who said it
(", the interior ministry said on Tuesday"), when (dates and weekdays), a dateline ("VIDIN
(Reuters) -"), an opening clause ("After a week of rain,"), relative clauses (", which …") and
asides in brackets. So the headline is the lead with those removed. When it is still long, it is
cut only where a phrase ends (before a comma, a conjunction or a preposition that opens a new
phrase), never mid-phrase and never with "…". When the lead is no news sentence (a question, a
quotation, a few words), the summary's first sentence is used the same way.

Rules on English (every brief's text is English by then); the ROUGE-1 of these headlines against
real titles is measured by `python -m bench.headlines`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.?|Feb\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
)
PART_OF_DAY = r"(?:\s+(?:morning|afternoon|evening|night))?"
# When: a headline says what happened, the date is in the brief's front matter.
WHEN_RE = re.compile(
    rf",?\s*\b(?:(?:early|late|earlier|later)\s+)?(?:on\s+|last\s+|this\s+|next\s+)?{WEEKDAY}{PART_OF_DAY}"
    rf"(?:,?\s+(?:{MONTH}\s+\d{{1,2}}|\d{{1,2}}\s+{MONTH})(?:,?\s+\d{{4}})?)?\b"
    rf"|,?\s*\b(?:on\s+|in\s+|since\s+)?(?:{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH})"
    rf"(?:,?\s+\d{{4}})?\b"
    rf"|,?\s*\b(?:yesterday|today|tomorrow|tonight|overnight){PART_OF_DAY}\b"
    rf"|,?\s*\b(?:this|last)\s+(?:morning|afternoon|evening|night|week|weekend|month|year)\b",
    re.IGNORECASE,
)
# A dateline: "VIDIN, Bulgaria (Reuters) - ", "(CNN) -- ", "LONDON — ".
DATELINE_RE = re.compile(
    r"^\s*(?:[A-Z][A-Z .'’-]+(?:,\s*[A-Z][\w .'’-]*)?\s*)?(?:\([^)]{1,40}\)\s*)?(?:--|[-—–])\s+"
)
ATTRIBUTION_VERBS = (
    r"(?:said|says|say|told\s+[^,.]{1,40}|reported|reports|announced|confirmed|added|stated|claimed|"
    r"warned|insisted|explained|wrote|tweeted|declared)"
)
# ", the interior ministry said on Tuesday." / ", according to police." at the end of the lead.
TRAILING_ATTRIBUTION_RE = re.compile(
    rf"(?:,|\s+-|\s+—)\s*(?:(?:[^,]{{0,80}}?\s)?{ATTRIBUTION_VERBS}\b[^,]{{0,40}}|according\s+to\s+[^,]{{1,80}})\s*$",
    re.IGNORECASE,
)
TRAILING_ACCORDING_RE = re.compile(
    r"\s+according\s+to\s+[^,]{1,80}$|,\s+citing\s+[^,]{1,120}$", re.IGNORECASE
)
# "Police said on Monday that …": the speaker goes, what they said stays.
LEADING_ATTRIBUTION_RE = re.compile(
    rf"^(?:[^,]{{1,60}}?\s){ATTRIBUTION_VERBS}(?:\s+on\s+\w+)?(?:\s+that)?\s+(?=\w)", re.IGNORECASE
)
# ", which …" / ", who …": a relative clause says more about a noun than a headline needs.
RELATIVE_RE = re.compile(r",\s+(?:which|who|whose|whom|where)\b[^,;]*(?:,|(?=[;.!?]?$))", re.IGNORECASE)
BRACKETS_RE = re.compile(r"\s*\([^()]*\)|\s*\[[^\[\]]*\]")
# An opening adverbial clause: "After a week of rain, the Danube …" / "With X unveiled, Apple …".
OPENERS = frozenset(
    """after with following as while despite amid in before since although though when because once
    during unlike like according on at for from by under over earlier later meanwhile however also""".split()
)
# Where a long headline may end: before these words a clause begins (the best place)…
CLAUSE_BREAKS = frozenset(
    "as while when after because since although though whereas amid that who which where".split()
)
# …or a phrase: a preposition, or "and" / "but", which may join two verbs of one clause.
PHRASE_BREAKS = frozenset(
    "in on at near after during amid following with from for as over across before despite since into "
    "and but".split()
)
# "a"/"an" stays after these: "about a week", "once a year", "more than a dozen".
KEEP_ARTICLE_AFTER = frozenset(
    "about around nearly almost once than half such quite only per twice what".split()
)
ARTICLES_RE = re.compile(r"(?:\b(\w+)\s+|^)(?:the|a|an)\s+(?=[\w“\"'])", re.IGNORECASE)
AUXILIARY_RE = re.compile(
    r"\b(?:has been|have been|had been|was being|were being|was|were|has|have|had)\s+(?=[a-z]+ed\b)"
)
# A headline never ends on one of these: it would stop mid-phrase.
FUNCTION_WORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this
    that these those he she they them his her their we our you your i not no so than then there has have
    had will would can could may might which who whom whose what when where how after before about into
    over under more most other some such only own same too very just said says""".split()
)
QUOTES = "\"'“”«»‘’"


class HeadlineOptions(BaseModel):
    """How a headline is made for an article without a title.

    Attributes:
        max_words: a longer headline is cut where a phrase ends, at or before this many words.
        min_words: the shortest cut worth keeping; a lead that cannot be cut between the two
            is kept whole rather than cut mid-phrase.
        hard_max_words: a lead still longer than this after compression gives way to the
            summary's first sentence, when that one is shorter.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_words: int = Field(14, ge=4)
    min_words: int = Field(4, ge=2)
    hard_max_words: int = Field(24, ge=8)


def make_headline(
    title: str | None, sentences: Sequence[str], summary: str, options: HeadlineOptions | None = None
) -> str:
    """The original title when there is one; otherwise the lead, or the summary, compressed."""
    if title and title.strip():
        return title.strip()
    options = options or HeadlineOptions()
    first_of_summary = re.split(r"(?<=[.!?])\s+", summary.strip(), maxsplit=1)[0] if summary.strip() else ""
    lead = next((s for s in sentences if news_sentence(s)), "")
    candidates = [compress(s, options) for s in (lead, first_of_summary) if s.strip()]
    candidates = [c for c in candidates if c]
    if not candidates:
        fallback = next((s.strip() for s in sentences if s.strip()), "")
        return _finish(fallback) if fallback else "Untitled article"
    best = candidates[0]
    for other in candidates[1:]:
        if len(best.split()) > options.hard_max_words and len(other.split()) < len(best.split()):
            best = other
    return best


def news_sentence(sentence: str) -> bool:
    """A sentence that can carry a headline: a statement of five words or more, not a question
    and not a quotation."""
    s = sentence.strip()
    lower = sum(1 for w in s.split() if w[:1].islower())  # a clause, not a dateline or a byline
    return len(s.split()) >= 5 and lower >= 3 and not s.endswith("?") and s[:1] not in QUOTES


def compress(sentence: str, options: HeadlineOptions) -> str:
    """The sentence without attribution, dates, asides, relative clauses and an opening clause,
    cut where a phrase ends if it is still longer than max_words."""
    s = " ".join(sentence.split())
    s = DATELINE_RE.sub("", s)
    s = re.sub(r"\s*(?:…|\.\.\.)\s*$", "", s)  # a lead the source itself cut off
    s = s.rstrip(" .!?;:")
    s = BRACKETS_RE.sub("", s)
    s = WHEN_RE.sub("", s).strip(" ,")
    for _ in range(3):  # ", X reported, citing Y": each removal can uncover the next
        before = s
        for rx in (TRAILING_ACCORDING_RE, TRAILING_ATTRIBUTION_RE, LEADING_ATTRIBUTION_RE):
            shorter = rx.sub("", s).strip(" ,")
            if len(shorter.split()) >= options.min_words:
                s = shorter
        if s == before:
            break
    s = RELATIVE_RE.sub("", s)
    s = _drop_opening_clause(s, options)
    s = _headline_style(s)
    s = re.sub(r"\s+([,;:])", r"\1", s)
    s = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", s).strip(" ,;:-—–")
    words = s.split()
    if len(words) > options.max_words:
        s = _cut(words, options)
    return _finish(s)


def _drop_opening_clause(s: str, options: HeadlineOptions) -> str:
    first = s.split(" ", 1)[0].lower().strip(QUOTES)
    if first not in OPENERS or "," not in s:
        return s
    rest = s.split(",", 1)[1].strip()
    words = rest.split()
    # What follows must be a clause of its own: long enough, and not a list going on.
    if len(words) >= options.min_words and words[0].lower() not in {"and", "or", "but"}:
        return rest
    return s


def _headline_style(s: str) -> str:
    """Headline English: no articles, and a participle without its auxiliary ("five people
    were killed" → "five people killed", "police have arrested" → "police arrested")."""

    def drop(m: re.Match[str]) -> str:
        word = m.group(1)
        if word is None:
            return ""  # the article opening the headline
        return m.group(0) if word.lower() in KEEP_ARTICLE_AFTER else word + " "

    return AUXILIARY_RE.sub("", ARTICLES_RE.sub(drop, s))


def _cut(words: list[str], options: HeadlineOptions) -> str:
    """The longest start of at most max_words words that ends where a phrase ends: before a
    comma or a clause word first, else before a preposition; the whole when there is none."""
    clause: list[int] = []
    phrase: list[int] = []
    for k in range(options.min_words, min(len(words), options.hard_max_words) + 1):
        prev, nxt = words[k - 1], words[k].lower().strip(QUOTES) if k < len(words) else ""
        if prev.lower().strip(QUOTES + ",;:") in FUNCTION_WORDS:
            continue  # never end on a function word ("the", "of", "with")
        if prev.endswith((",", ";", ":")) or nxt in CLAUSE_BREAKS:
            clause.append(k)
        elif nxt in PHRASE_BREAKS:
            phrase.append(k)
    # The longest cut within max_words (a clause end before a phrase end); past it, the shortest.
    for ends in (clause, phrase):
        within = [k for k in ends if k <= options.max_words]
        if within:
            return " ".join(words[: within[-1]])
    beyond = sorted(clause + phrase)
    return " ".join(words[: beyond[0]]) if beyond else " ".join(words)


def _finish(s: str) -> str:
    s = s.strip().rstrip(" .,;:-—–")
    words = s.split()
    while len(words) > 2 and words[-1].lower() in FUNCTION_WORDS:
        words.pop()  # "a strong move to improve within the" (a lead the source cut off)
    s = " ".join(words).rstrip(" .,;:-—–")
    if s.count("“") != s.count("”") or s.count('"') % 2:
        s = s.replace("“", "").replace("”", "").replace('"', "")  # a quotation cut open
    return s[:1].upper() + s[1:] if s else s
