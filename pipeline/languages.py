"""The project's language codes, their English names and their NLLB-200 (FLORES-200) codes.

Codes are ISO 639-1 where one exists, else ISO 639-3, with a script subtag only where NLLB
has two scripts for one language (`zh` / `zh-Hant`). `und` means undetermined.
The table lives in data/languages.tsv so it can be read and reviewed as data.
"""

from __future__ import annotations

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
