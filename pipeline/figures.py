"""Figures: a number, its qualifier and the quantity it counts ("about 13,000 troops").

The digest exists to show who said which number when: one article says "more than 10,000
troops", a later one "about 13,000", and a reader must see both, with their dates and sources.
So a figure keeps its qualifier (about / more than / up to / at least / nearly / less than) and
the quantity it counts: the noun after the number ("troops"), an event word around it ("soldiers
killed", "hectares burned"), a "per" unit ("euros per household"), and for money and
percentages the thing measured ("1.6 billion euros in funding" → euros (funding)). Quantities
are compared by a canonical key: plurals folded, synonyms merged (soldiers = troops =
military personnel, residents = villagers = people, € = EUR = euros), so figures from different
articles line up.

One thing counted is one key however it is phrased, because the change between reports is what
a reader opens the digest for: the event as a verb after or before the number ("were evacuated",
"killing 12"), as a noun before it ("the evacuation of 1,200 residents") or in the noun itself
("800 evacuees", "Deaths: 41"); the number after its quantity ("the number of people evacuated
has risen to 3,000", "the death toll rose to four", "Confirmed cases: 263", "a crowd of
45,000"); a bare number taking its neighbour's noun with its own event ("14 killed and 120
injured", "17 miners freed and six remain trapped"); numbers in words ("two", "twenty-five", "a
dozen") and vague amounts ("dozens of", "hundreds of": the qualifier says so); ranges
("between 40,000 and 50,000") as one figure. bench/figures.py measures all of it.

These are orthographic rules on English (every brief's text is English by then), not a parser:
they read "10,000", "10 000", "13 thousand", "1.6 billion euros", "€1.6bn", "12%", and leave
out years, dates, ordinals, durations ("24 hours", "18-month"; a prison term is kept) and numbers
that are names ("Boeing 737", "Article 5"). A number without a countable quantity is not a figure.
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
    # Who is counted, whatever the article calls them: "residents … evacuated", "people evacuated".
    "people": ["person", "individual", "resident", "inhabitant", "villager", "local", "citizen", "protester",
               "demonstrator", "crowd"],
    "spectators": ["spectator", "fan", "supporter"],
    "workers": ["worker", "employee"],
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
    "homes": ["home", "house", "dwelling", "household"],
}  # fmt: skip
# Quantities measured in a unit: the thing measured is part of the quantity ("euros (damage)").
UNITS = frozenset({"euros", "dollars", "pounds", "lari", "roubles", "percent", "yuan", "yen", "manat",
                   "lev", "hryvnia", "zloty", "francs", "kroner"})  # fmt: skip
# What money and percentages measure, when named next to them ("damage of", "in funding").
SUBJECTS = frozenset(
    """aid budget compensation cost costs damage damages debt deficit exports fine funding grant grants
    growth imports income inflation investment investments loan loans loss losses pension price prices
    profit profits revenue revenues salary salaries sales spending support subsidy subsidies tax taxes
    turnout turnover unemployment value vote votes wage wages rate economy""".split()
)
# A subject named differently from what it measures: "the economy grew by 0.4%" is growth.
SUBJECT_NAMES = {"economy": "growth"}
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
    "hurt": "wounded", "die": "killed", "dying": "killed", "scorched": "burned", "freed": "rescued",
    "trapped": "trapped", "fled": "fled", "fleeing": "fled", "charged": "charged", "acquitted": "acquitted",
    "downed": "shot down", "treated": "treated",
}  # fmt: skip
# Nouns that name the event before "of": "the evacuation of 1,200 residents", "the bodies of eight people".
EVENT_NOUNS = {"evacuation": "evacuated", "death": "killed", "deaths": "killed", "body": "killed",
               "bodies": "killed", "arrest": "arrested", "rescue": "rescued"}  # fmt: skip
# Nouns that carry their event: "800 evacuees" are people evacuated, "the number of arrests" people arrested.
HEAD_EVENTS = {"evacuee": "evacuated", "death": "killed", "fatality": "killed", "injury": "wounded",
               "arrest": "arrested"}  # fmt: skip
# A number after its quantity: "the death toll rose to 23" counts people killed.
TOLLS = {"toll": "killed"}
AUXILIARIES = frozenset(
    "were was had have has been be are is reportedly also already being now all remain remained still".split()
)
# Words that may open the noun phrase: "6,000 more troops" are additional troops, a quantity of
# their own; "new", "other" say nothing about what is counted.
NP_OPENERS = {"more": "additional", "additional": "additional", "further": "additional",
              "extra": "additional", "new": "", "other": ""}  # fmt: skip
# Where the clause of a number ends, for finding its event ("600 soldiers fighting for Russia
# were killed" is one clause; "10,000 troops, and 600 were killed" is two).
CLAUSE_ENDS = frozenset("and but while whereas where when after before although though since".split())
# Verbs of movement: "rose up to 6.1%" is where a figure went, not a ceiling.
MOVES = frozenset(
    "rose risen rise rising edged went gone climbed jumped increased moved crept soared".split()
)
TRAILING_VERB_RE = re.compile(
    r"\s*(?:(?:were|was|have|has|had|also|all|remain|remained|still)\s+)*([a-z]+ed)\b"
)
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
    "long wide high deep tall old away ago later earlier apart apiece overall alone short overnight today "
    "yesterday tonight now".split()
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
    "close to": "nearly", "just over": "more than", "less than": "less than", "fewer than": "less than",
    "under": "less than", "below": "less than", "exactly": "exactly", "just under": "less than",
}  # fmt: skip
SCALES = {"thousand": 10**3, "million": 10**6, "mln": 10**6, "mn": 10**6, "billion": 10**9, "bn": 10**9,
          "trillion": 10**12}  # fmt: skip
SHORT_SCALES = {"k": 10**3, "m": 10**6, "b": 10**9}  # only right after a currency amount: "$5m"
CURRENCY = r"[€$£₾₽¥]|US\$|\b(?:EUR|USD|GBP|GEL|RUB)\s?"
# Numbers in words. "one" only counts before its noun ("one person died", not "one of them").
UNITS_WORDS = {w: n for n, w in enumerate(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split(), 1)}  # fmt: skip
TENS_WORDS = {
    w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)
}
# Vague amounts: the value is the order of magnitude, the qualifier says it is vague.
VAGUE = {"dozens": ("dozens", 12), "hundreds": ("hundreds", 100), "thousands": ("thousands", 1000),
         "tens of thousands": ("tens of thousands", 10_000),
         "hundreds of thousands": ("hundreds of thousands", 100_000),
         "millions": ("millions", 10**6)}  # fmt: skip
_WORD = (
    r"(?:a\s+)?dozen|(?:a|one)\s+hundred|(?:a|one)\s+thousand"
    rf"|(?:{'|'.join(TENS_WORDS)})(?:[-\s](?:{'|'.join(list(UNITS_WORDS)[:9])}))?"
    rf"|{'|'.join(sorted(UNITS_WORDS, key=len, reverse=True))}"
)
VAGUE_QUALIFIERS = frozenset(q for q, _ in VAGUE.values())
_VAGUE = "|".join(re.escape(v) for v in sorted(VAGUE, key=len, reverse=True))
_QUAL = "|".join(re.escape(q) for q in sorted(QUALIFIERS, key=len, reverse=True))
FIGURE_RE = re.compile(
    rf"""
    (?:\b(?P<qual>{_QUAL})\s+)?
    (?P<cur>{CURRENCY})?
    (?:
      (?<![\w.,:/\-])
      (?P<num>\d{{1,3}}(?:(?:,|[ \u00a0\u202f\u2009])\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)*
        |\d{{1,3}},\d{{1,2}}(?=\s?(?:thousand|million|billion|trillion|bn|mln|mn)\b))
      (?!\d|[.,:/]\d)
    | \b(?P<vague>{_VAGUE})\s+of\b
    | (?<![\w-])(?P<word>{_WORD})\b(?!-)
    )
    (?:\s?(?P<scale>thousand|million|billion|trillion|bn|mln|mn)\b)?
    (?P<pct>\s?%|\s(?:percent|per\s?cent)\b)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Prepositions the shared stopword list lacks: "250,000 homes without power" counts homes.
PREPOSITIONS = frozenset(
    "without within across near outside inside through during among against toward towards via despite "
    "amid".split()
)
STOPS = (
    STOPWORDS | VERBS | MONTHS | POSTMODIFIERS | CLAUSE_ENDS | PREPOSITIONS | MOVES | LINKS | {"per"}
)  # where a quantity's noun phrase ends
TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*(?:-?\d[\w-]*)?|\d[\d,.]*|[^\w\s]")  # "F-16" is one word


@dataclass(frozen=True)
class Figure:
    """One number as one article gives it."""

    value: float
    qualifier: str  # "" or one of: about, more than, up to, at least, nearly, less than, exactly
    quantity: str  # what it counts, for readers: "troops killed", "euros (funding)"
    key: str  # the quantity for comparison: synonyms and plurals folded
    text: str  # the words as written: "about 13 thousand military personnel"
    upper: float | None = None  # a range's top: "between 40,000 and 50,000 refugees" (value is 40,000)

    @property
    def vague(self) -> bool:
        """ "dozens of", "hundreds of": an order of magnitude, not a count."""
        return self.qualifier in VAGUE_QUALIFIERS

    @property
    def display(self) -> str:
        """The qualifier and the number, normalised so figures compare at a glance."""
        if self.vague:
            return self.qualifier
        sign = "%" if self.key.split("|")[1].endswith("percent") else ""
        number = format_number(self.value)
        if self.upper is not None:
            if _same_scale(self.value, self.upper):
                number = number.rsplit(" ", 1)[0]
            number = f"{number}–{format_number(self.upper)}"
        return f"{self.qualifier} {number}{sign}".strip()


def _same_scale(a: float, b: float) -> bool:
    """Both in millions (or both in billions): "1.2–1.5 million" reads better than repeating it."""
    return (1e6 <= a < 1e9 and 1e6 <= b < 1e9) or (1e9 <= a < 1e12 and 1e9 <= b < 1e12)


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
            if singular(r.head) in TIME_UNITS:
                continue  # "24 hours", "three days": durations are not what a story counts
            if singular(r.head) in HEAD_EVENTS:  # "800 evacuees", "Deaths: 41"
                r.head, r.event = "people", r.event or HEAD_EVENTS[singular(r.head)]
            head = self.canonical(r.head)
            subject = r.subject if head in UNITS else ""
            per = self.canonical(r.per) if r.per else ""
            modifier = f"{r.modifier} " if r.modifier else ""
            key = f"{subject}|{modifier}{head}|{r.event}|{per}"
            name = head if head in self.names else r.head.lower()  # "troops" for soldiers; else as written
            label = modifier + name + (f" {r.event}" if r.event else "") + (f" per {r.per}" if r.per else "")
            label += f" ({subject})" if subject else ""
            text = sentence[r.start : r.end].strip()
            out.append(Figure(r.value, r.qualifier, label, key, text, r.upper))
        return out

    def _raw(self, sentence: str, m: re.Match[str]) -> _Raw | None:
        """The figure `m` found in `sentence`, read in phases: its value, a unit glued to it
        ("5km", "$5m"), the noun phrase it counts, then the event, rate and subject around it;
        None where it counts nothing (a year, a date, a duration, an ordinal)."""
        after = sentence[m.end() :]
        before = TOKEN_RE.findall(sentence[: m.start()])
        prev = [w.lower() for w in before]
        qualifier = QUALIFIERS.get((m.group("qual") or "").lower(), "")
        if qualifier == "up to" and prev and prev[-1] in MOVES:
            qualifier = ""  # "unemployment edged up to 6.1%": a movement, not a ceiling
        number = _value(m, after, before, prev)
        if number is None:
            return None
        value, digits, vague_qualifier = number
        qualifier = vague_qualifier if m.group("vague") else qualifier
        unit = _unit(m, after, value, digits)
        if unit is None:
            return None
        head, end, value = unit
        tokens = list(TOKEN_RE.finditer(sentence, end))
        words = [t.group(0) for t in tokens]
        low = [w.lower() for w in words]
        if low[:1] and low[0] in MONTHS:
            return None  # "3 September"
        i, inherit, partitive = 0, False, False
        if low[:1] == ["of"] and len(low) > 1 and low[1] in {"them", "whom", "which"}:
            inherit, i = True, 2
        elif low[:1] == ["of"] and len(low) > 2 and low[1] == "the" and low[2][:1].isdigit():
            partitive, i = True, 1  # "146 of the 300 seats": the part takes the whole's noun
        elif low[:1] == ["of"] and len(low) > 1 and low[1] in {"the", "its", "their", "his", "her"}:
            i = 2
        event = ""
        modifier = ""  # "an additional 6,000 troops", "6,000 more troops"
        if prev and m.group("qual") is None:
            modifier = NP_OPENERS.get(prev[-1], "")
        if not head and not inherit and not partitive:
            phrase, i, event, modifier = _noun_phrase(words, low, i, modifier)
            if phrase:
                head, end = phrase[-1], tokens[i - 1].end()
        if head and singular(head) in TIME_UNITS:
            if low[i : i + 2] in (["in", "prison"], ["in", "jail"], ["behind", "bars"]):
                head, end = f"{singular(head)}s in prison", tokens[i + 1].end()  # a sentence
                i += 2
            else:
                return None  # "24 hours", "three days": durations are not what a story counts
        per = ""
        if i + 1 < len(words) and low[i] == "per" and words[i + 1][:1].isalpha():
            per, end, i = words[i + 1].lower(), tokens[i + 1].end(), i + 2
        event = event or _event_before(prev)
        if not event:
            event = _event_after(low[i:])
        if not head and not inherit and not partitive:
            head, looked = _head_before(prev)
            event = event or looked
        subject = _subject_before(prev) or _subject_after(low[i:])
        return _Raw(value, qualifier, head, event, per, subject, inherit, m.start(), end, modifier, partitive)


def _value(
    m: re.Match[str], after: str, before: list[str], prev: list[str]
) -> tuple[float, Decimal | None, str] | None:
    """The number `m` says (exact where it is written in digits, which are returned too) and the
    qualifier a vague one carries ("dozens of"); None where it is no count: a year, a date, the
    number in a name, "one of"."""
    num, cur, scale, pct = m.group("num"), m.group("cur"), m.group("scale"), m.group("pct")
    word, vague = m.group("word"), m.group("vague")
    plain = not (scale or cur or pct or m.group("qual"))
    if vague:
        qualifier, value = VAGUE[re.sub(r"\s+", " ", vague.lower())]
        return float(value), None, qualifier
    if word:
        if word.lower() == "one" and re.match(r"\s*(?:of|another|day|by)\b", after, re.IGNORECASE):
            return None  # "one of the protesters", "one by one"
        return float(word_value(word) * SCALES.get((scale or "").lower(), 1)), None, ""
    if plain and re.fullmatch(r"(19|20)\d\d", num):
        return None  # a year
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
    return float(digits * Decimal(SCALES.get((scale or "").lower(), 1))), digits, ""  # exact: 1.1 billion


def _unit(
    m: re.Match[str], after: str, value: float, digits: Decimal | None
) -> tuple[str, int, float] | None:
    """The unit the figure `m` carries in its own characters ("%", "$", "5km", "870-kilometre",
    "$5m"), where the figure ends, and its value (a glued "m" or "k" scales it); None for an
    ordinal, a decade, a duration or a month ("80th", "the 80s", "18-month", "3-June")."""
    cur, scale, pct = m.group("cur"), m.group("scale"), m.group("pct")
    head = "percent" if pct else (cur or "").strip()
    end = m.end()
    attached = (
        None if pct or scale or m.group("word") or m.group("vague") else re.match(r"-?([^\W\d_]+)", after)
    )
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
    return head, end, value


def _noun_phrase(words: list[str], low: list[str], i: int, modifier: str) -> tuple[list[str], int, str, str]:
    """The noun phrase that a number counts, from words[i] on ("6,000 more troops", "200 injured
    people"): its words, the index past it, an event adjective before the noun, and the modifier
    ("additional", "more") found on the way."""
    phrase: list[str] = []
    event = ""
    while i < len(words) and len(phrase) < 4:
        w = words[i]
        if not phrase and low[i] in NP_OPENERS:
            modifier = modifier or NP_OPENERS[low[i]]
            i += 1
            continue
        if not phrase and low[i] in EVENTS and i + 1 < len(low) and _nounlike(low[i + 1]):
            event = EVENTS[low[i]]  # "200 injured people": an adjective, then the noun
            i += 1
            continue
        if not w[:1].isalpha() or low[i] in STOPS or low[i] in EVENTS:
            break
        if low[i].endswith(("ed", "ing")) and (phrase or not _nounlike(_at(low, i + 1))):
            break  # a verb: "troops fought", "people fleeing", "45,000 watched the final"
        if phrase and singular(phrase[-1]) != phrase[-1].lower():
            break  # a plural ends the noun phrase: "800 evacuees slept"
        phrase.append(w)
        i += 1
    return phrase, i, event, modifier


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
    partitive: bool = False  # "146 of the 300 seats"
    upper: float | None = None  # the top of a range: "between 40,000 and 50,000"


def word_value(word: str) -> int:
    """ "two" → 2, "twenty-five" → 25, "a dozen" → 12, "a hundred" → 100."""
    parts = re.split(r"[-\s]+", word.lower())
    if parts[-1] == "dozen":
        return 12
    if parts[-1] in {"hundred", "thousand"}:
        return 100 if parts[-1] == "hundred" else 1000
    return sum(TENS_WORDS.get(p, 0) + UNITS_WORDS.get(p, 0) for p in parts)


def _at(low: list[str], i: int) -> str:
    return low[i] if i < len(low) else ""


def _nounlike(word: str) -> bool:
    """Could open or continue a noun phrase (not a function word, verb ending, number or sign)."""
    return bool(word) and word[:1].isalpha() and word not in STOPS and word not in EVENTS


def _event_before(prev: list[str]) -> str:
    """ "killing 12", "shot down 38", "the evacuation of 1,200"."""
    if prev[-2:] == ["shot", "down"]:
        return "shot down"
    if prev and prev[-1] in EVENTS:
        return EVENTS[prev[-1]]
    if len(prev) > 1 and prev[-1] == "of" and prev[-2] in EVENT_NOUNS:
        return EVENT_NOUNS[prev[-2]]
    return ""


def _event_after(low: list[str]) -> str:
    """ "… people were evacuated", "… people lost their lives", within the number's clause."""
    for k in range(min(8, len(low))):
        if low[k] in EVENTS:
            return EVENTS[low[k]]
        if low[k] in {"lost", "lose"} and _at(low, k + 2) in {"life", "lives"}:
            return "killed"
        if not low[k][:1].isalpha() or low[k] in CLAUSE_ENDS:
            break  # punctuation, another number or a new clause
    return ""


def _head_before(prev: list[str]) -> tuple[str, str]:
    """(head, event) of a number written after its quantity: "the number of people evacuated has
    risen to 3,000", "the death toll rose to four", "Confirmed cases: 263", "a crowd of 45,000"."""
    if len(prev) > 1 and prev[-1] == ":" and _nounlike(prev[-2]):
        return prev[-2], HEAD_EVENTS.get(singular(prev[-2]), "")
    if len(prev) > 1 and prev[-1] in {"of", "at"} and prev[-2] in TOLLS:
        return "people", TOLLS[prev[-2]]  # "put the death toll at 31"
    if len(prev) > 1 and prev[-1] in {"of", "at"} and _nounlike(prev[-2]) and not prev[-2].endswith("ed"):
        return prev[-2], ""  # "a crowd of 45,000", "estimated the crowd at 40,000"
    window = prev[-16:]
    for k in range(len(window) - 1, -1, -1):
        w = window[k]
        if w in {";", ":"} or w[:1].isdigit():
            break  # another clause or another number owns what came before
        if w in TOLLS:
            return "people", TOLLS[w]
        if w == "number" and _at(window, k + 1) == "of":
            phrase = []
            for x in window[k + 2 :]:
                if not _nounlike(x) or (phrase and x.endswith(("ed", "ing"))):
                    break
                phrase.append(x)
            if phrase:
                rest = window[k + 2 + len(phrase) :]
                return phrase[-1], EVENTS.get(_at(rest, 0), "")
    return "", ""


def _subject_before(prev: list[str]) -> str:
    """ "the damage was put at …", "losses reached …", "annual inflation slowed to …", within the
    number's clause; "consumer prices" measure inflation."""
    for k in range(len(prev) - 1, max(-1, len(prev) - 9), -1):
        w = prev[k]
        if w in SUBJECTS:
            if singular(w) == "price" and k > 0 and prev[k - 1] == "consumer":
                return "inflation"
            return SUBJECT_NAMES.get(w, singular(w))
        if not w[:1].isalpha() or w in CLAUSE_ENDS:
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
    """A number takes the quantity of its neighbour: "between 500 and 700 people" (a range),
    "13,000 troops, of whom up to 2,000 were killed" and "14 killed and 120 injured" (the
    previous one, with its own event), "146 of the 300 seats" (the whole's noun; the whole is a
    total), "63 percent, up from 58 percent" (what the first measures)."""
    _join_ranges(found, sentence)
    _borrow_from_neighbours(found, sentence)
    _share_subjects(found, sentence)


def _between(sentence: str, a: _Raw, b: _Raw) -> str:
    return sentence[a.end : b.start] if b.start >= a.end else "?"


def _before(sentence: str, r: _Raw) -> str:
    return sentence[: r.start].rstrip().lower()


def _join_ranges(found: list[_Raw], sentence: str) -> None:
    """One figure for a range, from the low end to the high one: "between 500 and 700 people",
    "500 to 700 people" (not "from 500 to 700", a change)."""
    n = 0
    while n < len(found):
        r = found[n]
        nxt = found[n + 1] if n + 1 < len(found) else None
        if (
            nxt
            and not r.head
            and not r.inherit
            and not r.partitive
            and nxt.head
            and not _before(sentence, r).endswith("from")
            and (
                re.fullmatch(r"\s*(to|-|–)\s*", _between(sentence, r, nxt))
                or (
                    _before(sentence, r).endswith("between")
                    and re.fullmatch(r"\s*and\s*", _between(sentence, r, nxt))
                )
            )
        ):
            # A range: one figure from the low end to the high one.
            nxt.upper, nxt.value, nxt.start = nxt.value, r.value, r.start
            nxt.qualifier = r.qualifier or nxt.qualifier
            nxt.event = nxt.event or r.event
            del found[n]
            continue
        n += 1


def _borrow_from_neighbours(found: list[_Raw], sentence: str) -> None:
    """A figure without a noun takes its neighbour's: the whole's in "146 of the 300 seats", the
    next one's in "14 killed and 120 injured", the previous one's in "13,000 troops, of whom up
    to 2,000 were killed" and in "rose from 1,200 evacuees to 3,000"."""
    for n, r in enumerate(found):
        nxt = found[n + 1] if n + 1 < len(found) else None
        if r.partitive and nxt and nxt.head:
            r.head, r.per, r.subject = nxt.head, nxt.per, nxt.subject
            nxt.modifier = nxt.modifier or "total"
            continue
        if r.head:
            continue
        joined = r"\s*(and|or)\s*" if not _before(sentence, r).endswith("from") else r"\s*(and|or|to)\s*"
        if not r.inherit and nxt and nxt.head and re.fullmatch(joined, _between(sentence, r, nxt)):
            r.head, r.per, r.subject = nxt.head, nxt.per, nxt.subject
            r.event = r.event or nxt.event
            continue
        prev = next((p for p in reversed(found[:n]) if p.head), None)
        if not prev:
            continue
        if _before(sentence, prev).endswith("from") and re.fullmatch(
            r"\s*to\s*", _between(sentence, prev, r)
        ):
            r.head, r.per, r.subject, r.event = prev.head, prev.per, prev.subject, r.event or prev.event
            continue  # "rose from 1,200 evacuees to 3,000": a change, two figures of one quantity
        if not r.event and not r.inherit:
            verb = TRAILING_VERB_RE.match(sentence[r.end :])
            r.event = verb.group(1).lower() if verb else ""  # "30,000 started and about 28,500 finished"
        if r.inherit or r.event:
            r.head, r.per, r.subject = prev.head, prev.per, prev.subject


def _share_subjects(found: list[_Raw], sentence: str) -> None:
    """A comparison measures what the first figure measures: "turnout was 63 percent, up from
    58 percent"."""
    for n, r in enumerate(found[1:], 1):
        p = found[n - 1]
        same = r.head and not r.subject and p.subject and singular(p.head) == singular(r.head)
        if same and re.search(r"\b(from|against|compared with)\s*$", _between(sentence, p, r)):
            r.subject = p.subject  # "turnout was 63 percent, up from 58 percent"


def change(first: Figure, later: Figure) -> str | None:
    """How `later` differs from `first`, for the digest's change column: "+2,300", "−500",
    "+0.6 points" (percentages), "no change"; None when the two cannot be subtracted (a vague
    "hundreds of", a range). Qualifiers do not stop it: "up to 4,000" after "about 1,200" is
    +2,800, and the table shows both qualifiers beside it."""
    if first.vague or later.vague or first.upper is not None or later.upper is not None:
        return None
    delta = later.value - first.value
    if abs(delta) < 1e-9 * max(1.0, abs(first.value)):
        return "no change"
    sign = "+" if delta > 0 else "−"
    points = " points" if first.key.split("|")[1].endswith("percent") else ""
    return f"{sign}{format_number(abs(round(delta, 6)))}{points}"
