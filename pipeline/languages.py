"""The project's language codes, their English names and their NLLB-200 (FLORES-200) codes.

Codes are ISO 639-1 where one exists, else ISO 639-3, with a script subtag only where NLLB
has two scripts for one language (`zh` / `zh-Hant`). `und` means undetermined.
The table lives in data/languages.tsv so it can be read and reviewed as data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

UNDETERMINED = "und"


@dataclass(frozen=True)
class LanguageInfo:
    code: str
    name: str
    flores: str | None  # None: NLLB-200 does not cover it


@cache
def table() -> dict[str, LanguageInfo]:
    text = resources.files("pipeline").joinpath("data/languages.tsv").read_text(encoding="utf-8")
    out: dict[str, LanguageInfo] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, flores, name = line.split("\t")
        out[code] = LanguageInfo(code, name, None if flores == "-" else flores)
    return out


def is_known(code: str) -> bool:
    return code in table()


def name_of(code: str) -> str:
    if code == UNDETERMINED:
        return "undetermined"
    info = table().get(code)
    return info.name if info else code


def flores_code(code: str) -> str | None:
    info = table().get(code)
    return info.flores if info else None


# Serbian Latin (Gaj) to Cyrillic (Vuk): one letter for one letter, lj nj dž as one letter each.
# NLLB-200 learnt Serbian in Cyrillic only (srp_Cyrl), so Latin Serbian is written in Cyrillic
# before it is translated. Words with letters Serbian does not write (q w x y: names, brands, URLs)
# stay as they are.
_SR_DIGRAPHS = {
    "lj": "љ",
    "nj": "њ",
    "dž": "џ",
    "Lj": "Љ",
    "LJ": "Љ",
    "Nj": "Њ",
    "NJ": "Њ",
    "Dž": "Џ",
    "DŽ": "Џ",
}
_SR_LETTERS = dict(zip("abvgdđežzijklmnoprstćufhcčš", "абвгдђежзијклмнопрстћуфхцчш", strict=True)) | dict(
    zip("ABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠ", "АБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШ", strict=True)
)
_SR_TOKEN = re.compile(r"(?:lj|nj|dž|Lj|LJ|Nj|NJ|Dž|DŽ)|.", re.DOTALL)
_SR_WORD = re.compile(r"\S+")
_NOT_SERBIAN = re.compile(r"[qwxyQWXY@/]|\d[a-zA-Z]")


def serbian_to_cyrillic(text: str) -> str:
    """Serbian written in Latin letters, in Cyrillic letters (foreign words kept in Latin)."""

    def word(m: re.Match[str]) -> str:
        token = m.group(0)
        if _NOT_SERBIAN.search(token):
            return token
        return "".join(_SR_DIGRAPHS.get(t) or _SR_LETTERS.get(t, t) for t in _SR_TOKEN.findall(token))

    return _SR_WORD.sub(word, text)


def is_latin_text(text: str) -> bool:
    """Whether most letters of `text` are Latin (ASCII or Latin Extended)."""
    latin = other = 0
    for ch in text:
        if ch.isalpha():
            if ch < "\u0250":
                latin += 1
            else:
                other += 1
    return latin > other
