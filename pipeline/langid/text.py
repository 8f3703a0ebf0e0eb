"""Reading a text before any language is weighed: what its letters and words are.

Addresses are dropped, mojibake (UTF-8 read as cp1252/cp1250, Turkish cp1254 read as cp1252) is
undone, and Latin/Cyrillic look-alike letters inside one word are written in the text's script.
Every rule of the package reads the `Text` this builds, once per text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache

# A capitalised word after the first counts half: it may be a name, and names keep their own
# spelling. Not tuned: half is "may be a name"; `make bench-langid` guards it.
NAME_WEIGHT = 0.5
# Letters beyond this add nothing to the decision, only time: lingua is sure long before 5,000
# characters, and a paragraph rarely has more.
_MAX_CHARS = 5000
# Words may hold apostrophes and hyphens (Ukrainian п'ять, Portuguese fazê-lo).
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# Addresses are not language: e-mail, URLs and file paths are dropped before reading.
_ADDRESS = re.compile(r"\S+@\S+\.\w+|\b(?:https?://|www\.)\S+|\S*/\S*/\S*")
# Letters that look alike in Latin and Cyrillic; web text mixes them inside one word. Toward
# Cyrillic, i and j stand for і and ј; s and h stay (they would become Macedonian ѕ, Kazakh һ).
_TO_LATIN = str.maketrans("аеорсухіјѕәһАВЕКМНОРСТХІЈЅӘҺ", "aeopcyxijsəhABEKMHOPCTXIJSƏH")
_TO_CYRILLIC = str.maketrans("aeopcyxijABEKMHOPCTXIJ", "аеорсухіјАВЕКМНОРСТХІЈ")
# UTF-8 read as a Windows code page ("Ăşnora" for "února", "sÃ¤Ã¤stÃ¶" for "säästö").
_MOJIBAKE_CODECS = ("cp1252", "cp1250")
# Turkish written in Windows-1254 and read as Windows-1252 (Latin-1) turns ı ş ğ İ Ş Ğ into
# ý þ ð Ý Þ Ð and leaves ç ö ü â î û as they are ("yatýrým", "baþbakanlýk"). Icelandic, the
# language that writes þ and ð, and Czech and Slovak, which write ý, almost always show other
# accented letters (á é í ó ú æ č ř ž...) as well.
_TURKISH_AS_LATIN1 = str.maketrans("ýþðÝÞÐ", "ışğİŞĞ")
_TURKISH_LATIN1_LETTERS = frozenset("ýþðçöüâîû")


@dataclass
class Text:
    """What one text's letters and words say, computed once per text."""

    text: str  # the text as read: addresses dropped, mojibake and look-alike letters repaired
    letters: list[str]  # lower-case letters, in order
    scripts: Counter[str]  # letters per script
    common: frozenset[str]  # letters of lower-case (and all-capitals) words
    names: frozenset[str]  # letters seen only in capitalised words, which are often names
    words: list[str]  # lower-case words, in order
    weights: list[float]  # how much each word counts: capitalised words inside a text are often names

    @property
    def script(self) -> str:
        """The dominant script, or "" when none has half the letters."""
        if not self.scripts:
            return ""
        script, n = self.scripts.most_common(1)[0]
        return script if n / len(self.letters) >= 0.5 else ""


@cache
def script_of(ch: str) -> str:
    """The Unicode script of a letter, as the first word of its name ("LATIN", "CYRILLIC")."""
    try:
        return unicodedata.name(ch).split()[0]
    except ValueError:
        return ""


def read_text(raw: str) -> Text:
    """What `raw`'s letters and words say, read once for every rule."""
    text = _repair(unicodedata.normalize("NFC", _ADDRESS.sub(" ", raw[:_MAX_CHARS])))
    letters = [ch for ch in text.lower() if ch.isalpha()]
    scripts = Counter(script_of(ch) for ch in letters)
    common: set[str] = set()
    capitalised: set[str] = set()
    words: list[str] = []
    weights: list[float] = []
    for k, word in enumerate(_WORD.findall(text)):
        # A capitalised word (not all capitals) may be a name, and names keep their own spelling
        # and say little about the language around them ("Deniz" in an Azerbaijani sentence).
        name = word[0].isupper() and not word.isupper()
        (capitalised if name else common).update(ch for ch in word.lower() if ch.isalpha())
        words.append(word.lower())
        weights.append(NAME_WEIGHT if name and k > 0 else 1.0)
    return Text(text, letters, scripts, frozenset(common), frozenset(capitalised - common), words, weights)


def _repair(text: str) -> str:
    """Undo two kinds of damage that hide a text's language: mojibake and mixed look-alike letters."""
    if not text.isascii():
        text = " ".join(_unmojibake(token) for token in text.split(" "))
        text = _untangle_turkish(text)
    latin = cyrillic = 0
    for ch in text:
        if ch.isalpha():
            script = script_of(ch)
            latin += script == "LATIN"
            cyrillic += script == "CYRILLIC"
    if latin and cyrillic:
        # In a word that mixes both scripts, write the look-alike letters in the text's main
        # script ("Bеlә" with Cyrillic е and ә is Azerbaijani "Belə"); whole words stay as they are.
        table = _TO_LATIN if latin >= cyrillic else _TO_CYRILLIC
        text = " ".join(_unmix(token, table) for token in text.split(" "))
    return text


def _untangle_turkish(text: str) -> str:
    """Turkish read as Latin-1 ("baþbakanlýk") written back in Turkish letters ("başbakanlık")."""
    lower = text.lower()
    accented = {ch for ch in lower if ch.isalpha() and not ch.isascii()}
    if not accented <= _TURKISH_LATIN1_LETTERS:
        return text
    # Only þ or ð tell: "ý" alone may be Czech or Slovak without other accents ("nový"), so it
    # stays, and counts as a loan letter in Turkish rather than a foreign one.
    if "þ" in accented or "ð" in accented:
        return text.translate(_TURKISH_AS_LATIN1)
    return text


def _unmix(token: str, table: dict[int, str]) -> str:
    scripts = {script_of(ch) for ch in token if ch.isalpha()}
    return token.translate(table) if {"LATIN", "CYRILLIC"} <= scripts else token


def _unmojibake(token: str) -> str:
    if token.isascii():
        return token
    for codec in _MOJIBAKE_CODECS:
        try:
            fixed = token.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        # Real text almost never encodes to valid multi-byte UTF-8 by chance.
        if fixed != token:
            return fixed
    return token
