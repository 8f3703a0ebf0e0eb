"""Evidence from the original text: what an article names and counts, in any language or script.

Why this layer: story grouping compared only the English translation, so where translation was
weak (a low-resource language, a fallback, a model not downloaded yet) articles about one story
fell apart, and meaningless English even tied unrelated stories together. What identifies a
story survives any script: the people, organisations and places an article names, and the figures
it gives. This module reads them from the original, independently of the translator:

- **names**: capitalised words of a cased script (Latin, Cyrillic, Greek, Armenian) that do not
  merely open a sentence, romanised with anyascii, folded to one spelling of the sounds
  (`fold_latin`: Kim Čen / Kim Chen / Kim Çen are one), and cut to a stem so inflections meet
  (Lithuanian Putinas / Putino, Georgian პუტინის). In a caseless script (Georgian, Arabic,
  Persian, Hebrew, …) any word may be a name: those words count only when another article of
  the night names the same stem in a cased script (`resolve_weak`).
- **places**: country and territory names from CLDR (Babel) in the article's language and in
  English, and the cities CLDR names for time zones (Pyongyang, Moscow, Kyiv), mapped to one
  identifier, so `Šiaurės Korėjos`, `Северна Корея`, `Şimali Koreya` and `ჩრდილოეთ კორეის` are
  all `KP`.
- **figures**: numbers written in digits (grouping separators read as such), years left out:
  they are shared by every story of a season.
- **words**: the original's content words, tagged with the language, for comparing two articles
  written in one language (their words are then evidence, as the English words are).

Every field is plain data, so the evidence of an article can be stored and compared later.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from anyascii import anyascii

log = logging.getLogger("newsbrief.evidence")

WORD_RE = re.compile(r"[^\W\d_]+(?:[’'\-][^\W\d_]+)*")
NUMBER_RE = re.compile(
    r"(?<![\w.,])\d{1,3}(?:[ \u00a0\u202f.,’']\d{3})+(?:[.,]\d+)?(?![\w])|(?<![\w.,])\d+(?:[.,]\d+)?"
)
# A name is cut to this many letters after folding: long enough that unrelated names rarely meet
# (`putin`, `kursk`, `korei`), short enough that case endings fall away (Putinas, Путина, პუტინის).
# Set by that reasoning, not fitted; the benches' grid did not vary it.
NAME_STEM = 5
MIN_NAME_LETTERS = 3  # shorter romanised words (Un, In, de) are initials or particles, not evidence
WORD_STEM = 6  # the original's words, for comparing articles in one language, cut like names
MIN_WORD_LETTERS = 4
# Scripts whose words carry no case, so that a capital cannot mark a name.
CJK = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")


@dataclass(frozen=True)
class Evidence:
    """What one article names and counts, independent of its language.

    Attributes:
        names: name stems (romanised, folded) → mentions; from a cased script.
        weak: stems of words of a caseless script: names only where another article has the
            same stem as a name (`resolve_weak`).
        places: place identifiers (ISO 3166 region codes, or `tz:Area/City`) → mentions.
        figures: numbers written in digits, normalised (`12000`, `3.5`).
        words: the original's content-word stems, tagged `lang:stem`, → count.
        labels: a readable English form of each name, place and figure, for "why joined" lines.
        links: pairs of stems written side by side as one name (Kanye West, კიმ ჩენ ინი): two
            articles sharing both words of one name share one name, not two.
    """

    names: dict[str, int] = field(default_factory=dict)
    weak: frozenset[str] = frozenset()
    places: dict[str, int] = field(default_factory=dict)
    figures: frozenset[str] = frozenset()
    words: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    links: frozenset[tuple[str, str]] = frozenset()

    @property
    def marks(self) -> set[str]:
        """Language-independent marks, as the story store indexes them: `~name`, `^place`, `=figure`."""
        return (
            {f"~{n}" for n in self.names}
            | {f"~{n}" for n in self.weak}
            | {f"^{p}" for p in self.places}
            | {f"={f}" for f in self.figures}
        )


def romanise(text: str) -> str:
    """Latin letters for any script (anyascii), lower-cased, apostrophes of ejectives dropped."""
    text = text.replace("ու", "u").replace("Ու", "U")  # Armenian u is a digraph anyascii spells "ow"
    return re.sub(r"[`'’ʼ]", "", anyascii(text)).lower()


@functools.lru_cache(maxsize=65536)  # a night's words repeat: each is romanised once
def fold(word: str) -> str:
    """A word of any script, romanised and spelled the way most transliterations agree on."""
    return fold_latin(romanise(word))


def _is_cased(word: str) -> bool:
    # Georgian has capitals (Mtavruli) in Unicode, but running text never uses them for names.
    return word.lower() != word.upper() and not ("\u10d0" <= word[:1] <= "\u10ff")


def _caseless_cjk(word: str) -> bool:
    return any(unicodedata.name(c, "").startswith(CJK) for c in word[:2])


def read(sentences: Sequence[str], lang: str, headline: str = "") -> Evidence:
    """The evidence of one article from its original headline and sentences."""
    return _read(tuple(sentences), (lang or "und").split("-")[0], headline)


@functools.lru_cache(maxsize=4096)  # grouping, the story store and the quality check ask alike
def _read(sentences: tuple[str, ...], lang: str, headline: str) -> Evidence:
    tokens = [WORD_RE.findall(s) for s in sentences]
    head = WORD_RE.findall(headline)
    lowered = {w.lower() for ws in tokens for w in ws if w[:1].islower()}
    lowered |= {w.lower() for w in head if w[:1].islower()}
    names: Counter[str] = Counter()
    weak: set[str] = set()
    words: Counter[str] = Counter()
    labels: dict[str, str] = {}
    # Places first: a word that is part of a place's name is that place, not a name as well.
    places, taken = _places([w for ws in [head, *tokens] for w in ws], lang, labels)
    links: set[tuple[str, str]] = set()
    flat = -1
    for n, ws in enumerate([head, *tokens]):
        prev = None  # the stem before, when it was a name (or a caseless word): one name's words
        for k, w in enumerate(ws):
            flat += 1
            stem_before, prev = prev, None
            if _caseless_cjk(w):
                # No spaces and no case: character pairs compare articles in one language.
                words.update(f"{lang}:{w[i : i + 2]}" for i in range(len(w) - 1))
                continue
            f = fold(w)
            letters = sum(c.isalpha() for c in f)
            if letters >= MIN_WORD_LETTERS and w.lower() not in lowered_stop(lang):
                words[f"{lang}:{f[:WORD_STEM]}"] += 1
            if letters < MIN_NAME_LETTERS or flat in taken:
                continue
            key = f[:NAME_STEM]
            if not _is_cased(w):
                weak.add(key)
                prev = key
                if stem_before and stem_before != key:
                    links.add((min(stem_before, key), max(stem_before, key)))
                continue
            opens = n == 0 or k == 0  # a headline (often title case) or a sentence's first word
            capital = w[:1].isupper() and w.lower() not in lowered_stop(lang)
            if capital and ((w.isupper() and len(w) > 1) or not opens or w.lower() not in lowered):
                names[key] += 1
                labels.setdefault(key, romanise(w).capitalize())
                prev = key
                if stem_before and stem_before != key:
                    links.add((min(stem_before, key), max(stem_before, key)))
    return Evidence(
        names=dict(names),
        weak=frozenset(weak - set(names)),
        places=dict(places),
        figures=frozenset(_figures([headline, *sentences], labels)),
        words=dict(words),
        labels=labels,
        links=frozenset(links),
    )


@functools.lru_cache(maxsize=64)
def lowered_stop(lang: str) -> frozenset[str]:
    """The language's most frequent words (wordfreq), which say nothing about a story."""
    from wordfreq import available_languages, top_n_list

    if lang not in available_languages():  # wordfreq would answer with a neighbour's list
        return frozenset()
    return frozenset(top_n_list(lang, 300))


# Transliteration folding: one spelling for the ways languages write the same sounds in Latin
# letters (Zelenskyy / Zelenskij / Selenskyj, Kim Chen / Kim Čen, Tchaikovsky / Tschaikowski).
# Diacritics go first (NFKD), then digraphs, then letters, then doubled letters.
FOLD_DIGRAPHS = (("tsch", "c"), ("sch", "s"), ("tch", "c"), ("kh", "h"), ("ch", "c"), ("sh", "s"),
                 ("zh", "z"), ("ts", "c"), ("tz", "c"), ("ph", "f"), ("th", "t"), ("ck", "k"),
                 ("ou", "u"), ("oo", "u"), ("ee", "i"), ("ij", "i"), ("iy", "i"), ("yi", "i"))  # fmt: skip
FOLD_LETTERS = str.maketrans({"w": "v", "y": "i", "j": "i", "q": "k", "x": "k", "z": "s", "ß": "s"})
DOUBLE_RE = re.compile(r"(.)\1+")


def fold_latin(name: str) -> str:
    """A name spelled the way most transliterations agree on, for comparing across languages."""
    s = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    for a, b in FOLD_DIGRAPHS:
        s = s.replace(a, b)
    return DOUBLE_RE.sub(r"\1", s.translate(FOLD_LETTERS))


# ---- places ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def gazetteer(lang: str, latin: bool = True) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """Place names of CLDR (via Babel) in `lang`, and in English for text in Latin letters:
    first stem → [(stems, id)], longest first. A stem is the folded name less a final vowel, so
    case endings still match. (English names are left out for other scripts: romanised Arabic
    or Persian has no vowels, and short English stems would match it by chance.)"""
    english = ["en"] if latin else []
    from babel import Locale, UnknownLocaleError

    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    locales = []
    for code in dict.fromkeys([lang, *english]):
        try:
            locales.append(Locale.parse(code))
        except (UnknownLocaleError, ValueError):
            log.debug("no CLDR place names for %r", code)
    for loc in locales:
        entries = [(name, code) for code, name in loc.territories.items() if code.isalpha()]
        # CLDR lists a city only where the language's name differs from the zone's own (English).
        zones = dict.fromkeys([*loc.time_zones, *(_zones() if loc.language == "en" else ())])
        for zone in zones:
            info = loc.time_zones.get(zone)
            city = info.get("city") if info is not None and hasattr(info, "get") else None
            if zone.count("/") == 1 and (city or loc.language == "en"):
                # One level only: America/Indiana/Tell_City names towns no one else does.
                entries.append((city or zone.rsplit("/", 1)[-1].replace("_", " "), f"tz:{zone}"))
        for name, ident in entries:
            parts = tuple(_place_stem(w) for w in WORD_RE.findall(name))
            # A short name (Truk, Nome) would be any word that starts like it.
            if parts and all(parts) and sum(map(len, parts)) >= (5 if ident.startswith("tz:") else 4):
                table.setdefault(parts[0], []).append((parts, ident))
    for options in table.values():
        options.sort(key=lambda o: (-len(o[0]), o[1]))
    return table


@functools.lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    import zoneinfo

    areas = ("Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")
    return tuple(sorted(z for z in zoneinfo.available_timezones() if z.startswith(areas)))


def _is_latin_script(tokens: Sequence[str]) -> bool:
    letters = [c for w in tokens[:200] for c in w if c.isalpha()]
    return sum("LATIN" in unicodedata.name(c, "") for c in letters) >= 0.5 * max(1, len(letters))


def _place_stem(word: str) -> str:
    f = fold(word)
    # Less a nominative ending (Rusija, Vladivostokas, Kijevas), so other cases still match.
    cut = re.sub(r"[aeiou]s?$", "", f)
    f = cut if len(cut) >= 4 else f
    return f if len(f) >= 3 else ""


def _places(tokens: Sequence[str], lang: str, labels: dict[str, str]) -> tuple[Counter[str], set[int]]:
    """The places among `tokens` (longest name first) and the positions of the words they took."""
    table = gazetteer(lang, _is_latin_script(tokens))
    folded = [fold(w) for w in tokens]
    out: Counter[str] = Counter()
    taken: set[int] = set()
    k = 0
    while k < len(folded):
        found = None
        for length in range(min(4, len(folded) - k), 0, -1):  # the longest name wins
            first = folded[k]
            for cut in range(len(first), 2, -1):
                for parts, ident in table.get(first[:cut], ()):
                    if len(parts) == length and all(
                        folded[k + i].startswith(p)
                        and len(folded[k + i]) - len(p) <= (4 if len(p) >= 5 else 3)
                        for i, p in enumerate(parts)
                    ):
                        found = (length, ident)
                        break
                if found:
                    break
            if found:
                break
        if found:
            out[found[1]] += 1
            labels.setdefault(found[1], english_place(found[1]))
            taken.update(range(k, k + found[0]))
            k += found[0]
        else:
            k += 1
    return out, taken


@functools.lru_cache(maxsize=4096)
def english_place(ident: str) -> str:
    from babel import Locale

    en = Locale("en")
    if ident.startswith("tz:"):
        info = en.time_zones.get(ident[3:])
        city = info.get("city") if info is not None and hasattr(info, "get") else None
        return city or ident[3:].rsplit("/", 1)[-1].replace("_", " ")
    return en.territories.get(ident, ident)


# ---- figures ---------------------------------------------------------------------------


def _figures(texts: Sequence[str], labels: dict[str, str]) -> set[str]:
    out = set()
    for text in texts:
        for m in NUMBER_RE.finditer(text or ""):
            raw = m.group()
            value = _number(raw)
            if (
                value is None
                or value < 10
                or (value.is_integer() and 1900 <= value <= 2100 and len(raw) == 4)
            ):
                continue  # small counts and years are in every story
            key = f"{value:g}" if not value.is_integer() else str(int(value))
            out.add(key)
            labels.setdefault(key, f"{int(value):,}" if value.is_integer() else f"{value:g}")
    return out


def _number(raw: str) -> float | None:
    s = re.sub(r"[ \u00a0\u202f’']", "", raw)
    groups = re.fullmatch(r"\d{1,3}(?:([.,])\d{3})+(?:([.,])\d+)?", s)
    if groups and (groups.group(2) is None or groups.group(2) != groups.group(1)):
        sep = groups.group(1)
        s = s.replace(sep, "")
    s = s.replace(",", ".")
    try:
        return float(s) if s.count(".") <= 1 else None
    except ValueError:
        return None


# ---- a night ---------------------------------------------------------------------------


def distinct_shared(a: set[str], b: set[str], links_a: frozenset, links_b: frozenset) -> int:
    """How many different things two articles share: their common marks (`~name`, `^place`,
    `=figure`), the words of one name that both write as one counted once."""
    common = a & b
    parent = {m: m for m in common}

    def root(m: str) -> str:
        while parent[m] != m:
            m = parent[m]
        return m

    joined = 0
    for x, y in links_a & links_b:
        mx, my = f"~{x}", f"~{y}"
        if mx in parent and my in parent and root(mx) != root(my):
            parent[root(mx)] = root(my)
            joined += 1
    return len(common) - joined


def resolve_weak(evidence: Sequence[Evidence]) -> list[dict[str, int]]:
    """Each article's names, with the words of a caseless script that another article of the
    night names in a cased script (or as a place: its stem) counted as names."""
    strong = Counter(n for ev in evidence for n in ev.names)
    out = []
    for ev in evidence:
        names = dict(ev.names)
        for w in ev.weak:
            if strong[w]:
                names[w] = 1
        out.append(names)
    return out
