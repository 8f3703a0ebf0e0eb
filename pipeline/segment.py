"""Sentence splitting, chosen per language, and clause splitting for over-long sentences.

Translation is only as good as its sentence boundaries: a model fed two sentences drops one,
a model fed half a sentence invents the rest. Initials ("V. Putinas"), abbreviations common in
news ("2024 m.", "т.е.", "ე.წ.") and numbers ("10 000", "3.5") never end a sentence.

The rules are orthographic facts, not a trained model: a dot ends a sentence unless it closes an
abbreviation, an initial or a list number, and nothing ends before a lower-case word. Georgian has
no letter case, so there the abbreviation lists alone decide. Scored by `python -m bench.segment`
against treebank sentences (lt, bg, ka, az); maintained splitters (sentencex, pysbd) scored lower
there, mainly for lack of Lithuanian, Georgian and Azerbaijani abbreviations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Abbreviations, lower-cased, without the final dot; inner spaces are ignored ("t. t." = "t.t",
# "və s." = "vəs"). Three kinds, because "2024 m." may end a sentence and "prof." never does.
# PREFIXES stand before what they qualify (a title, a name, a number) and never end a sentence.
PREFIXES: dict[str, frozenset[str]] = {
    "*": _words("mr mrs ms dr prof gen col st nr vs e.g i.e cf ca"),
    # titles, "p." ponas, "pvz." for example, "t. y." that is, "žr." see, "str." article, "gim." born,
    # language names before a gloss ("angl.")
    "lt": _words(
        "nr prof doc dr gen plk mjr kun šv gerb p pvz t.y žr plg str pav psl tel gim mir žin red sud vert "
        "lot angl vok rus lenk pranc š.m"
    ),
    # titles, "т.е." that is, "т.нар." so-called, addresses (ул. бул. бл. вх. ет. ап. жк), "с." village,
    # "р." river, "о." island, "чл." article, "в." newspaper (the century "в." is a unit below)
    "bg": _words(
        "т.е т.нар напр проф доц д-р акад ген полк арх инж св еп митр ул бул пл бл вх ет ап жк кв гр с обл "
        "р о чл ал т стр изд вж срв тел г-н г-жа г-ца лат англ фр нем рус в"
    ),
    # "ე.წ." so-called, "მ.შ." including, "ძვ. წ." BC, "ახ. წ." AD, titles, "ქ." city, "სოფ." village,
    # "იხ." see, compass points, language names before a gloss ("ლათ.", "ბერძნ.")
    "ka": _words(
        "ე.წ მ.შ ე.ი ძვ ძვ.წ ახ.წ პროფ აკად დოც ბ-ნ ქ-ნ ქ სოფ არქ იხ შდრ გვ მაგ ჩრდ სამხ აღმ დას დაახლ "
        "ლათ ბერძნ ინგლ ფრ გერმ რუს არაბ სპარს თურქ ესპ იტალ პორტ ჰოლ ებრ იაპ ჩინ შემოკლ"
    ),
    "az": _words("prof dos akad dr məs bax səh"),
    # "букв." literally, "род." born, "ум." died, "ок." about, "рис." figure, "гл." chapter
    "ru": _words("т.е т.н т.к напр проф акад ген ул см ср с стр г-н букв род ум ок рис гл"),
    # "мал." and "рис." figure, "букв." literally
    "uk": _words("т.зв напр проф акад ген вул ім див с стор мал рис букв"),
    "de": _words("z.b d.h u.a vgl nr dr prof hr fr st bzw ca"),
}

# ENDINGS often close a sentence ("etc.", a street or district after its name): a boundary only
# when a capitalised word follows.
ENDINGS: dict[str, frozenset[str]] = {
    "*": _words("etc jr sr inc ltd co"),
    # "ir kt.", "ir pan.", "ir t. t." etc.; "g." street, "pr." avenue, "k." village, "r." district
    "lt": _words("kt pan t.t mėn g pr al pl k r sen aut"),
    "bg": _words("т.н др пр"),
    "ka": _words("ა.შ სხვ რ-ნ"),
    # "və s." etc., "küç." street, "ş." city, "r." district, "qəs." settlement, "pr." avenue
    "az": _words("vəs küç ş r qəs pr"),
    "ru": _words("т.д т.п др пр"),
    "uk": _words("т.д т.п ін"),
    "de": _words("usw etc"),
}

# UNITS follow a number ("2024 m.", "1999 г.", "XX в.", "9,1 proc.") and, there, may end a sentence
# before a capitalised word; after a word they are another abbreviation ("в. Труд" is a newspaper).
UNITS: dict[str, frozenset[str]] = {
    "*": _words("km kg cm mm"),
    "lt": _words("m d val min sek tūkst mln mlrd proc a ct eur lt ha vnt t"),
    "bg": _words("г гг в вв ч мин млн млрд хил лв ст м см т"),
    "ka": _words("ს წ წწ ათ მლნ მლრდ კმ კგ მ ლ"),
    "az": _words("mln mlrd min kq man"),
    "ru": _words("г гг в вв ч мин млн млрд тыс руб коп м т чел"),
    "uk": _words("р рр ст год хв млн млрд тис грн коп м т"),
    "de": _words("jh mio mrd std min"),
}

# Multipliers: "5 mln. JAV dolerių", "2 mlrd. Lt" — before a currency or an acronym they go on.
MULTIPLIERS = _words("mln mlrd tūkst млн млрд хил тыс тис mio mrd")
CURRENCY_RE = re.compile(r"(?:[A-Z]{2,}|Lt|Eur|[$€£]).*")
# Languages that write an ordinal number with a dot ("am 5. September", "3. sınıf", "5. kesäkuuta").
ORDINAL_DOT = frozenset("de da nb nn no fi et cs sk sl hr bs sr hu lv is tr fo".split())
# Languages whose list numbers stand alone before a capitalised item ("1. Затвердити").
LIST_NUMBER_ALONE = frozenset({"uk"})
# Abbreviations that never open a sentence ("9 d. Nr. 3D-473"): a dot before them ends nothing.
NEVER_FIRST_RE = re.compile(r"(?:Nr|No|Nº|№)\.?\s")
# How far ahead a bracket or quotation opened in the sentence may close.
QUOTE_REACH = 120

# Whose lists apply when no language is given, by the script of the text. Not for Latin script:
# too many languages share it, and "red", "sud", "mir" or "pan" are ordinary words in some of them.
SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {"georgian": ("ka",), "cyrillic": ("bg", "ru", "uk")}

# Initials that are two letters in the spelling of a name ("Dž. Bušas").
INITIAL_DIGRAPHS = {"Dž", "Ch", "Dz", "Sz"}
NUMBER_RE = re.compile(r"[\d.,:/\-–]*\d[\d.,:/\-–]*(?:-\w+)?|[IVXLC]+")

OPENERS = "\"'«„“‘‚‹([{"
CLOSERS = "\"'»”“’›)]}"
DASHES = "-–—"
# A candidate boundary: terminal punctuation, closing quotes or brackets, white space — and
# closing punctuation that stands alone after the space still closes the sentence ("... metų. “",
# "стосується ! ) .", the wiki quotes of "любовь? ``.").
BOUNDARY_RE = re.compile(
    rf"[.!?…]+[{re.escape(CLOSERS)}]*"
    rf"(?:\s+(?:[{re.escape(CLOSERS)}`]+[.!?…]*|[.!?])(?=\s|$))*(?P<space>\s+|$)"
)
ROMAN_RE = re.compile(r"[IVXLC]+")
# After a comma, semicolon or colon, or before a dash set off by spaces ("Viena jų - Lietuva").
CLAUSE_RE = re.compile(r"(?<=[,;:])\s+|\s+(?=[-–—]\s)")
WORD_GAP_RE = re.compile(r"\s+")


class SegmentOptions(BaseModel):
    """How text is split into sentences.

    Attributes:
        extra_abbreviations: per language, more abbreviations (without their final dot)
            after which a dot does not end a sentence.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    extra_abbreviations: dict[str, list[str]] = {}


def split_sentences(text: str, lang: str | None = None, options: SegmentOptions | None = None) -> list[str]:
    """Splits a paragraph (or running text) into sentences; newlines always end a sentence."""
    options = options or SegmentOptions()
    langs = (lang,) if lang else _languages_of_script(text)
    extra = frozenset(a for code in (*langs, "*") for a in options.extra_abbreviations.get(code, []))
    abbrevs = _abbreviations(langs, extra)
    sentences: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        start = 0
        for m in BOUNDARY_RE.finditer(line):
            end = m.start("space")
            if _is_boundary(line, start, m.start(), m.end(), abbrevs, lang):
                sentences.append(line[start:end].strip())
                start = m.end()
        if line[start:].strip():
            sentences.append(line[start:].strip())
    return sentences


@dataclass(frozen=True)
class Abbreviations:
    prefixes: set[str]
    endings: set[str]
    units: set[str]


@lru_cache(maxsize=64)
def _abbreviations(langs: tuple[str, ...], extra: frozenset[str]) -> Abbreviations:
    def merge(table: dict[str, frozenset[str]]) -> set[str]:
        return {_norm(a) for code in ("*", *langs) for a in table.get(code, ())}

    return Abbreviations(
        prefixes=merge(PREFIXES) | {_norm(a) for a in extra}, endings=merge(ENDINGS), units=merge(UNITS)
    )


def _languages_of_script(text: str) -> tuple[str, ...]:
    """Without a language, the lists of every language written in the text's script apply."""
    counts = dict.fromkeys(SCRIPT_LANGUAGES, 0)
    for ch in text[:2000]:
        if "\u10a0" <= ch <= "\u10ff":
            counts["georgian"] += 1
        elif "\u0400" <= ch <= "\u04ff":
            counts["cyrillic"] += 1
    script = max(counts, key=lambda k: counts[k])
    return SCRIPT_LANGUAGES[script] if counts[script] else ()


def _norm(abbrev: str) -> str:
    return re.sub(r"\s+", "", abbrev.lower()).rstrip(".")


def _case(ch: str) -> str | None:
    """'upper', 'lower' or None where the script has no case (Georgian Mkhedruli has lower-case
    code points, but its capitals are not used in running text)."""
    if "\u10d0" <= ch <= "\u10ff" or "\u1c90" <= ch <= "\u1cbf" or ch.lower() == ch.upper():
        return None
    return "upper" if ch.isupper() else "lower"


def _inside_brackets(line: str, sent_start: int, punct_start: int, next_start: int) -> bool:
    """Whether the punctuation sits inside brackets opened in this sentence and closed a little
    further on: "(ум. ок. 934)", "(мал. 8).", "(ესპ. ...)"."""
    sentence = line[sent_start:punct_start]
    ahead = line[next_start : next_start + QUOTE_REACH]
    for opener, closer in (("(", ")"), ("[", "]")):
        depth = sentence.count(opener) - sentence.count(closer) - line[punct_start:next_start].count(closer)
        closes, reopens = ahead.find(closer), ahead.find(opener)
        if depth > 0 and closes >= 0 and not 0 <= reopens < closes:
            return True
    return False


def _quoted_speech_goes_on(line: str, sent_start: int, punct_start: int, next_start: int) -> bool:
    """Whether "!" or "?" inside a quotation belongs to a sentence that goes on after the quotation
    closes ("Hayır! Gelmem!" dedi. — "Stop! Wait!" he said.): the quotation is open here and a
    lower-case word follows its closing quote."""
    sentence = line[sent_start:punct_start]
    punct = line[punct_start:next_start]
    ahead = line[next_start : next_start + QUOTE_REACH]
    for opener, closers in (("«", "»"), ("„", "“”"), ("“", "”"), ('"', '"')):
        if opener == '"':
            open_here = (sentence.count('"') + punct.count('"')) % 2 == 1
        else:
            open_here = sentence.count(opener) > sum(sentence.count(c) + punct.count(c) for c in closers)
        if not open_here:
            continue
        m = re.search(f"[{re.escape(closers)}][,]?\\s+(\\w)", ahead)
        return bool(m) and _case(m.group(1)) == "lower"
    return False


def _is_boundary(
    line: str, sent_start: int, punct_start: int, next_start: int, abbrevs: Abbreviations, lang: str | None
) -> bool:
    """Whether the punctuation at `punct_start`, with its white space up to `next_start`, ends the
    sentence that began at `sent_start`."""
    if next_start >= len(line):
        return True
    sentence = line[sent_start:punct_start]
    if not any(c.isalnum() for c in sentence):
        return False  # never a sentence of punctuation alone ("... Then", "1. ")
    nxt = line[next_start : next_start + 40]  # enough to find the next word; slicing the rest is quadratic
    if nxt[0] in ",;:":
        return False
    # The first letter or digit of what follows, past opening quotes and dialogue dashes.
    lead = nxt.lstrip(OPENERS + CLOSERS + DASHES + " ")
    first = lead[:1]
    if first and _case(first) == "lower":
        return False  # "kovo mėn. pabaigoje", "– Einu! – surikau."
    if _inside_brackets(line, sent_start, punct_start, next_start):
        return False
    punct = line[punct_start:next_start].rstrip()
    if punct[:1] in "!?" and _quoted_speech_goes_on(line, sent_start, punct_start, next_start):
        return False
    if punct.startswith(".") and NEVER_FIRST_RE.match(lead):
        return False  # "2004 m. rugpjūčio 9 d. Nr. 3D-473"
    if not (punct.startswith(".") and not punct.startswith("..")):
        return True  # ! ? … end a sentence before anything but a lower-case word
    return _full_stop_ends(sentence, punct, lead, abbrevs, lang)


def _full_stop_ends(sentence: str, punct: str, lead: str, abbrevs: Abbreviations, lang: str | None) -> bool:
    """Whether a full stop ends `sentence`, judged by the word before it: a list number, an
    ordinal, an initial or an abbreviation may keep the sentence going. `lead` is what follows,
    past opening quotes and dashes."""
    first = lead[:1]
    closed = any(c in CLOSERS for c in punct)
    words = sentence.rsplit(maxsplit=3)  # the last three words are all the rules look at
    token = words[-1].lstrip(OPENERS) if words else ""
    if not token or token[-1] in CLOSERS:
        return True
    if len(words) == 1 and (token.isdigit() and len(token) <= 3 or ROMAN_RE.fullmatch(token)):
        # A list number or section heading opens its item: "1. Pirminiai", "II. APIE". Ukrainian
        # writes the points of a decree as units of their own ("НАКАЗУЮ: 1. Затвердити…"); the
        # translator copies a piece without letters as it is, so either way reads the same.
        return lang in LIST_NUMBER_ALONE and bool(first) and _case(first) == "upper"
    if lang in ORDINAL_DOT and token.isdigit() and len(token) <= 3 and len(words) > 1:
        # An ordinal: "am 5. September", "im 6. Stock", "Am 17. Dezember" (a number after a
        # lower-case word, or after a short word opening the sentence, a preposition or an
        # article); "Platz 3." ends its sentence.
        prev_word = words[-2].lstrip(OPENERS)
        opening = sentence.split()[0] == words[-2] and len(prev_word) <= 4
        if prev_word[:1].islower() or opening:
            return False
    if (len(token) == 1 and token.isalpha() and _case(token) != "lower") or token in INITIAL_DIGRAPHS:
        return False  # an initial: "V. Putinas", "D. Trumpo", Georgian "ა. შანიძე"
    if re.fullmatch(r"(?:\w\.)+\w", token) and token.isupper():
        return False  # a chain of initials: "J.R.R."
    upper_next = bool(first) and _case(first) == "upper"
    ordinary = upper_next or not first or not first.isalpha() or _case(first) is None
    prev = words[-2].lstrip(OPENERS) if len(words) > 1 else ""
    # An upper-case "AP." is an acronym, not the abbreviation "ap." — unless the text around it
    # is all capitals anyway ("22 D. ĮSAKYMO NR. ĮV-459").
    if len(token) > 1 and token.isupper() and not (len(prev) > 1 and prev.isupper()):
        return ordinary
    # The longer reading first: "t. t." is "etc.", not the unit "t." (tonne); "və s." is "etc.".
    readings = [(_norm(token), prev)]
    if prev.endswith(".") or 0 < len(prev) <= 3:
        readings.insert(0, (_norm(prev + token), words[-3].lstrip(OPENERS) if len(words) > 2 else ""))
    known = _after_abbreviation(readings, sentence, lead, closed, upper_next, abbrevs)
    return ordinary if known is None else known


def _after_abbreviation(
    readings: list[tuple[str, str]],
    sentence: str,
    lead: str,
    closed: bool,
    upper_next: bool,
    abbrevs: Abbreviations,
) -> bool | None:
    """Whether a full stop after an abbreviation ends the sentence, for the first of `readings`
    (the abbreviation, the word before it) that is one; None when none is."""
    for key, before in readings:
        if key in abbrevs.units:
            # After a number ("2024 m.", "XX в.") or another unit ("6 mln. eur.") it may close the sentence.
            after_number = NUMBER_RE.fullmatch(before) is not None or _norm(before) in abbrevs.units
            if not after_number:
                return False
            if len(sentence.split()) <= 3:
                return False  # "През 2023 г. Северна Корея…": a date opening a sentence ends none
            if key in MULTIPLIERS and CURRENCY_RE.match(lead):
                return False  # "5 mln. JAV dolerių", "3 mlrd. Lt"
            return upper_next
        if key in abbrevs.prefixes:
            # Closed by a bracket or quote ("(žr. 5 psl.) Kitas"), it has nothing left to qualify.
            return upper_next if closed else False
        if key in abbrevs.endings:
            return upper_next
    return None


def split_long(sentence: str, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """Cuts a sentence longer than `max_tokens` at clause boundaries (comma, semicolon, dash).

    The pieces are joined again with a space after translation. A clause that is still too
    long is cut between words, and a word that is too long between characters: nothing is dropped.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, not {max_tokens}")
    if count_tokens(sentence) <= max_tokens or len(sentence) <= 1:
        return [sentence]
    for splitter in (CLAUSE_RE, WORD_GAP_RE):
        parts = [p for p in splitter.split(sentence) if p]
        if len(parts) > 1:
            return _pack(parts, max_tokens, count_tokens)
    mid = len(sentence) // 2
    return split_long(sentence[:mid], max_tokens, count_tokens) + split_long(
        sentence[mid:], max_tokens, count_tokens
    )


def _pack(parts: list[str], max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    pieces: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current} {part}".strip()
        if current and count_tokens(candidate) > max_tokens:
            pieces.append(current)
            current = part
        else:
            current = candidate
    if current:
        pieces.append(current)
    out: list[str] = []
    for piece in pieces:
        out.extend(
            split_long(piece, max_tokens, count_tokens) if count_tokens(piece) > max_tokens else [piece]
        )
    return out
