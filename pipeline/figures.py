"""Figures: a number, its qualifier and the quantity it counts ("about 13,000 troops").

The digest exists to show who said which number when: one article says "more than 10,000
troops", a later one "about 13,000", and a reader must see both, with their dates and sources.
So a figure keeps its qualifier (about / more than / up to / at least / nearly / less than) and
the quantity it counts: the noun after the number ("troops"), an event word around it ("soldiers
killed", "hectares burned"), a "per" unit ("euros per household"), and for money and
percentages the thing measured ("1.6 billion euros in funding" → euros (funding)). Quantities
are compared by a canonical key: plurals folded, synonyms merged (soldiers = troops =
military personnel, € = EUR = euros), so figures from different articles line up.

These are orthographic rules on English (every brief's text is English by then), not a parser:
they read "10,000", "10 000", "13 thousand", "1.6 billion euros", "€1.6bn", "12%", and leave
out years, dates, ordinals, durations ("24 hours", "18-month") and numbers that are names
("Boeing 737", "Article 5"). A number without a countable quantity is not a figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from pipeline.summarize import STOPWORDS

# Canonical quantity → the words (singular, lower-case) and symbols that name it.
DEFAULT_SYNONYMS: dict[str, list[str]] = {
    "troops": ["troop", "soldier", "serviceman", "servicemember", "military", "personnel", "fighter",
               "combatant"],
    "people": ["person", "individual"],
    "civilians": ["civilian"],
    "euros": ["euro", "eur", "€"],
    "dollars": ["dollar", "usd", "$", "us$"],
    "pounds": ["pound", "gbp", "£"],
    "lari": ["gel", "₾"],
    "roubles": ["rouble", "ruble", "rub", "₽"],
    "percent": ["%", "per cent", "pct"],
    "kilometres": ["kilometre", "kilometer", "km"],
    "hectares": ["hectare", "ha"],
    "tonnes": ["tonne", "ton"],
    "aircraft": ["plane", "airplane", "aeroplane", "airplanes"],
    "homes": ["home", "house", "dwelling"],
}  # fmt: skip
# Quantities measured in a unit: the thing measured is part of the quantity ("euros (damage)").
UNITS = frozenset({"euros", "dollars", "pounds", "lari", "roubles", "percent", "yuan", "yen", "manat",
                   "lev", "hryvnia", "zloty", "francs", "kroner"})  # fmt: skip
# What money and percentages measure, when named next to them ("damage of", "in funding").
SUBJECTS = frozenset(
    """aid budget compensation cost costs damage damages debt deficit exports fine funding grant grants
    growth imports income inflation investment investments loan loans loss losses pension price prices
    profit profits revenue revenues salary salaries sales spending support subsidy subsidies tax taxes
    turnout turnover unemployment value vote votes wage wages""".split()
)
# Words between a subject and its number: "the damage was put at about", "losses reached".
LINKS = frozenset(
    """of at to by was is were are be been put estimated totalling totaling totalled totaled worth reached
    hit stood rose fell grew increased decreased dropped climbed the a an its their his her total""".split()
)
EVENTS = {
    "killed": "killed", "killing": "killed", "dead": "killed", "died": "killed",
    "wounded": "wounded", "wounding": "wounded", "injured": "wounded", "injuring": "wounded",
    "missing": "missing", "arrested": "arrested", "arresting": "arrested", "detained": "arrested",
    "evacuated": "evacuated", "evacuating": "evacuated", "displaced": "displaced",
    "destroyed": "destroyed", "destroying": "destroyed", "damaged": "damaged", "damaging": "damaged",
    "burned": "burned", "burnt": "burned", "burning": "burned", "captured": "captured",
    "rescued": "rescued", "hospitalised": "hospitalised", "hospitalized": "hospitalised",
}  # fmt: skip
AUXILIARIES = frozenset("were was had have has been be are is reportedly also already being now all".split())
# Words that may open the noun phrase: "6,000 more troops" are additional troops, a quantity of
# their own; "new", "other" say nothing about what is counted.
NP_OPENERS = {"more": "additional", "additional": "additional", "further": "additional",
              "extra": "additional", "new": "", "other": ""}  # fmt: skip
# Where the clause of a number ends, for finding its event ("600 soldiers fighting for Russia
# were killed" is one clause; "10,000 troops, and 600 were killed" is two).
CLAUSE_ENDS = frozenset("and but while whereas where when after before although though since".split())
# Words a quantity cannot be: durations, and nouns that make the number a date or an age.
TIME_UNITS = frozenset(
    "second minute hour day night week weekend month year decade century old time times".split()
)
MONTHS = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
# Verbs that end a quantity's noun phrase without the -ed / -ing the rule below catches.
VERBS = frozenset(
    """say says said fled fought took left went made gave came lost won remain remained stay stayed joined
    signed crossed arrived returned serve served fight""".split()
)
# Words that follow a quantity without being it: "9 kilometres long", "3 days ago".
POSTMODIFIERS = frozenset(
    "long wide high deep tall old away ago later earlier apart apiece overall alone".split()
)
ORDINAL_SUFFIXES = ("st", "nd", "rd", "th")
IRREGULAR = {
    "people": "person", "men": "man", "women": "woman", "children": "child", "servicemen": "serviceman",
    "personnel": "personnel", "police": "police", "aircraft": "aircraft", "media": "media", "data": "data",
    "lari": "lari", "yen": "yen", "yuan": "yuan", "series": "series", "news": "news", "gas": "gas",
}  # fmt: skip
QUALIFIERS = {
    "more than": "more than", "over": "more than", "above": "more than", "in excess of": "more than",
    "upwards of": "more than", "at least": "at least", "no fewer than": "at least",
    "no less than": "at least", "up to": "up to", "as many as": "up to", "at most": "up to",
    "about": "about", "around": "about", "approximately": "about", "roughly": "about", "some": "about",
    "an estimated": "about", "estimated": "about", "almost": "nearly", "nearly": "nearly",
    "close to": "nearly", "less than": "less than", "fewer than": "less than", "under": "less than",
    "below": "less than", "exactly": "exactly", "just over": "more than", "just under": "less than",
}  # fmt: skip
SCALES = {"thousand": 10**3, "million": 10**6, "mln": 10**6, "mn": 10**6, "billion": 10**9, "bn": 10**9,
          "trillion": 10**12}  # fmt: skip
SHORT_SCALES = {"k": 10**3, "m": 10**6, "b": 10**9}  # only right after a currency amount: "$5m"
CURRENCY = r"[€$£₾₽¥]|US\$|\b(?:EUR|USD|GBP|GEL|RUB)\s?"
_QUAL = "|".join(re.escape(q) for q in sorted(QUALIFIERS, key=len, reverse=True))
FIGURE_RE = re.compile(
    rf"""
    (?:\b(?P<qual>{_QUAL})\s+)?
    (?P<cur>{CURRENCY})?
    (?<![\w.,:/\-])
    (?P<num>\d{{1,3}}(?:(?:,|[ \u00a0\u202f\u2009])\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)*
      |\d{{1,3}},\d{{1,2}}(?=\s?(?:thousand|million|billion|trillion|bn|mln|mn)\b))
    (?!\d|[.,:/]\d)
    (?:\s?(?P<scale>thousand|million|billion|trillion|bn|mln|mn)\b)?
    (?P<pct>\s?%|\s(?:percent|per\s?cent)\b)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
STOPS = STOPWORDS | VERBS | MONTHS | POSTMODIFIERS | {"per"}  # where a quantity's noun phrase ends
TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*(?:-?\d[\w-]*)?|\d[\d,.]*|[^\w\s]")  # "F-16" is one word


@dataclass(frozen=True)
class Figure:
    """One number as one article gives it."""

    value: float
    qualifier: str  # "" or one of: about, more than, up to, at least, nearly, less than, exactly
    quantity: str  # what it counts, for readers: "troops killed", "euros (funding)"
    key: str  # the quantity for comparison: synonyms and plurals folded
    text: str  # the words as written: "about 13 thousand military personnel"

    @property
    def display(self) -> str:
        """The qualifier and the number, normalised so figures compare at a glance."""
        number = format_number(self.value) + ("%" if self.key.split("|")[1].endswith("percent") else "")
        return f"{self.qualifier} {number}".strip()


def format_number(value: float) -> str:
    """13000 → "13,000"; 1.6e9 → "1.6 billion"; 3.125 → "3.125"."""
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(value) >= scale:
            return f"{value / scale:,.2f}".rstrip("0").rstrip(".") + f" {word}"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def singular(word: str) -> str:
    """A plain English singular ("troops" → "troop", "casualties" → "casualty")."""
    w = word.lower()
    if w in IRREGULAR:
        return IRREGULAR[w]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


@cache
def _lexicon(synonyms: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    """Word or symbol (lower-case singular) → canonical quantity name."""
    out: dict[str, str] = {}
    for canonical, variants in synonyms:
        for v in (canonical, *variants):
            out[v.lower()] = canonical
            out[singular(v)] = canonical
    return out


class FigureReader:
    """Reads figures from English sentences.

    `synonyms` are added to DEFAULT_SYNONYMS; a name given there replaces the built-in entry.
    """

    def __init__(self, synonyms: Mapping[str, Sequence[str]] | None = None):
        syn = {**DEFAULT_SYNONYMS, **(synonyms or {})}
        self.lexicon = _lexicon(tuple(sorted((k, tuple(v)) for k, v in syn.items())))
        self.names = frozenset(syn)

    def canonical(self, word: str) -> str:
        return self.lexicon.get(word.lower()) or self.lexicon.get(singular(word)) or singular(word)

    def read(self, sentence: str) -> list[Figure]:
        """Every figure in one sentence, in order."""
        found: list[_Raw] = []
        for m in FIGURE_RE.finditer(sentence):
            raw = self._raw(sentence, m)
            if raw is not None:
                found.append(raw)
        _borrow_heads(found, sentence)
        out = []
        for r in found:
            if not r.head:
                continue
            head = self.canonical(r.head)
            if singular(r.head) in TIME_UNITS:
                continue  # "24 hours", "three days": durations are not what a story counts
            subject = r.subject if head in UNITS else ""
            per = self.canonical(r.per) if r.per else ""
            modifier = f"{r.modifier} " if r.modifier else ""
            key = f"{subject}|{modifier}{head}|{r.event}|{per}"
            name = head if head in self.names else r.head.lower()  # "troops" for soldiers; else as written
            label = modifier + name + (f" {r.event}" if r.event else "") + (f" per {r.per}" if r.per else "")
            label += f" ({subject})" if subject else ""
            out.append(Figure(r.value, r.qualifier, label, key, sentence[r.start : r.end].strip()))
        return out

    def _raw(self, sentence: str, m: re.Match[str]) -> _Raw | None:
        num, cur, scale, pct = m.group("num"), m.group("cur"), m.group("scale"), m.group("pct")
        after = sentence[m.end() :]
        plain = not (scale or cur or pct or m.group("qual"))
        if plain and re.fullmatch(r"(19|20)\d\d", num):
            return None  # a year
        before = TOKEN_RE.findall(sentence[: m.start()])
        prev = [w.lower() for w in before]
        if prev and prev[-1] in MONTHS | WEEKDAYS:
            return None  # "September 3"
        if plain and len(before) > 1 and before[-1][:1].isupper() and re.fullmatch(r"\d+", num):
            return None  # "Boeing 737", "Article 5": the number is part of a name
        if re.fullmatch(r"\d{1,3},\d{1,2}", num):
            num = num.replace(",", ".")  # a decimal comma, as translation sometimes keeps: "1,6 billion"
        elif re.fullmatch(r"\d{1,3}(\.\d{3})+", num) and (num.count(".") > 1 or not (scale or cur or pct)):
            num = num.replace(".", "")  # dots between thousands: "10.000 soldiers" is 10,000
        elif num.count(".") > 1:
            return None  # "1.2.3": a version or a date, not a number
        digits = Decimal(re.sub(r"[,\s\u00a0\u202f\u2009]", "", num))
        value = float(digits * Decimal(SCALES.get((scale or "").lower(), 1)))  # exact: 1.1 billion
        qualifier = QUALIFIERS.get((m.group("qual") or "").lower(), "")
        head = "percent" if pct else (cur or "").strip()
        end = m.end()
        attached = None if pct or scale else re.match(r"-?([^\W\d_]+)", after)
        if attached and cur and attached.group(1).lower() in SHORT_SCALES and attached.group(0)[0] != "-":
            value = float(digits * Decimal(SHORT_SCALES[attached.group(1).lower()]))  # "$5m", "€300k"
            end, attached = end + attached.end(), None
        if attached:
            unit = attached.group(1).lower()
            if unit in ORDINAL_SUFFIXES or unit == "s" or singular(unit) in TIME_UNITS:
                return None  # "80th", "the 80s", "18-month", "10-year-old"
            if unit in MONTHS:
                return None
            head, end = unit, end + attached.end()  # "870-kilometre", "5km"
        tokens = list(TOKEN_RE.finditer(sentence, end))
        words = [t.group(0) for t in tokens]
        low = [w.lower() for w in words]
        if low[:1] and low[0] in MONTHS:
            return None  # "3 September"
        i, inherit = 0, False
        if low[:1] == ["of"] and len(low) > 1 and low[1] in {"them", "whom", "which"}:
            inherit, i = True, 2
        elif low[:1] == ["of"] and len(low) > 1 and low[1] in {"the", "its", "their", "his", "her"}:
            i = 2
        phrase: list[str] = []
        modifier = ""  # "an additional 6,000 troops", "6,000 more troops"
        if prev and m.group("qual") is None:
            modifier = NP_OPENERS.get(prev[-1], "")
        if not head and not inherit:
            while i < len(words) and len(phrase) < 4:
                w = words[i]
                if not phrase and low[i] in NP_OPENERS:
                    modifier = modifier or NP_OPENERS[low[i]]
                    i += 1
                    continue
                if not w[:1].isalpha() or low[i] in STOPS or low[i] in EVENTS:
                    break
                if phrase and low[i].endswith(("ed", "ing")):
                    break  # after the noun: a verb ("troops fought", "people fleeing")
                phrase.append(w)
                i += 1
            if phrase:
                head, end = phrase[-1], tokens[i - 1].end()
        per = ""
        if i + 1 < len(words) and low[i] == "per" and words[i + 1][:1].isalpha():
            per, end, i = words[i + 1].lower(), tokens[i + 1].end(), i + 2
        event = EVENTS.get(prev[-1], "") if prev else ""
        for k in range(i, min(i + 6, len(low))):
            if low[k] in EVENTS:
                event = EVENTS[low[k]]
                break
            if not low[k][:1].isalpha() or low[k] in CLAUSE_ENDS:
                break  # punctuation, another number or a new clause
        subject = _subject_before(prev) or _subject_after(low[i:])
        return _Raw(value, qualifier, head, event, per, subject, inherit, m.start(), end, modifier)


@dataclass
class _Raw:
    value: float
    qualifier: str
    head: str
    event: str
    per: str
    subject: str
    inherit: bool
    start: int
    end: int
    modifier: str = ""  # "additional"


def _subject_before(prev: list[str]) -> str:
    """ "the damage was put at …", "losses reached …"."""
    for w in reversed(prev[-5:]):
        if w in SUBJECTS:
            return singular(w)
        if w not in LINKS:
            return ""
    return ""


def _subject_after(low: list[str]) -> str:
    """ "… euros in new funding", "… percent of the vote"."""
    if low[:1] == ["in"]:
        for w in low[1:3]:
            if w in SUBJECTS:
                return singular(w)
    if low[:1] == ["of"]:
        rest = [w for w in low[1:4] if w not in {"the", "its", "their", "all"}]
        if rest and rest[0].isalpha() and rest[0] not in STOPWORDS:
            return singular(rest[0])
    return ""


def _borrow_heads(found: list[_Raw], sentence: str) -> None:
    """A bare number takes the quantity of its neighbour: "between 500 and 700 people" (the next
    one), "13,000 troops, of whom up to 2,000 were killed" (the previous one, plus its event)."""

    def between(a: _Raw, b: _Raw) -> str:
        return sentence[a.end : b.start] if b.start >= a.end else "?"

    for n, r in enumerate(found):
        if r.head:
            continue
        nxt = found[n + 1] if n + 1 < len(found) else None
        if not r.inherit and nxt and nxt.head and re.fullmatch(r"\s*(and|to|or|-|–)\s*", between(r, nxt)):
            r.head, r.per, r.subject = nxt.head, nxt.per, nxt.subject
            r.event = r.event or nxt.event
            continue
        prev = next((p for p in reversed(found[:n]) if p.head), None)
        if prev and (r.inherit or r.event):
            r.head, r.per, r.subject = prev.head, prev.per, prev.subject
