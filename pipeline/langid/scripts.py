"""The script screen: a script only one language writes decides at once, and a language whose
script has no letter in the text is out (no Georgian letter: not Georgian)."""

from __future__ import annotations

import logging
from functools import cache

from pipeline.langid.alphabets import NATIVE, alphabet_script
from pipeline.langid.records import Guess
from pipeline.langid.text import Text

log = logging.getLogger("newsbrief.detect")

# Scripts that, among the project's languages, belong to exactly one language (Hebrew: Yiddish
# also uses it, but no identifier we ship knows Yiddish, and Hebrew is far the likelier news language).
SINGLE_LANGUAGE_SCRIPTS = {
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "GREEK": "el",
    "HEBREW": "he",
    "HANGUL": "ko",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "THAI": "th",
    "GUJARATI": "gu",
    "GURMUKHI": "pa",
    "TAMIL": "ta",
    "TELUGU": "te",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "SINHALA": "si",
    "KHMER": "km",
    "LAO": "lo",
    "ORIYA": "or",
}

# Scripts of the languages lingua knows beyond those in the alphabets below.
_OTHER_SCRIPTS: dict[str, tuple[str, ...]] = {
    "ja": ("CJK", "HIRAGANA", "KATAKANA"),
    "zh": ("CJK",),
    "ko": ("HANGUL", "CJK"),
    "hi": ("DEVANAGARI",),
    "mr": ("DEVANAGARI",),
    "bn": ("BENGALI",),
}
# The share of a text's letters in a single-language script at which it is that language with
# confidence 1.0 (a Georgian text with a Latin name in it is still sure Georgian). Not tuned.
_SURE_SHARE = 0.9
# Kana with Han characters at this share of the letters: Japanese (Chinese never writes kana).
_KANA_SHARE = 0.5


@cache
def scripts_of_language(lang: str) -> frozenset[str]:
    """The scripts `lang` is written in, where we know them (empty: unknown, no constraint)."""
    scripts = {script for script, code in SINGLE_LANGUAGE_SCRIPTS.items() if code == lang}
    if lang in NATIVE:
        scripts.add(alphabet_script(lang))
    if lang == "sr":
        scripts.add("LATIN")  # Serbian is written in both alphabets (see serbocroatian.jat_reflexes)
    scripts.update(_OTHER_SCRIPTS.get(lang, ()))
    return frozenset(scripts)


def by_script(text: Text, candidates: list[str]) -> Guess | None:
    """A decision from the script alone, or None when the script is shared."""
    # Any kana means Japanese (Chinese never writes kana); Hangul means Korean.
    kana = text.scripts["HIRAGANA"] + text.scripts["KATAKANA"]
    if kana and kana + text.scripts["CJK"] >= _KANA_SHARE * len(text.letters):
        return Guess("ja", 1.0)
    script = text.script
    lang = SINGLE_LANGUAGE_SCRIPTS.get(script)
    if lang is None:
        return None
    if candidates and lang not in candidates:
        log.debug("%s script, but %s is not a candidate language", script.title(), lang)
    # The share of letters in that script: a Georgian text is Georgian, a mixed one less surely.
    share = text.scripts[script] / len(text.letters)
    return Guess(lang, round(min(1.0, share / _SURE_SHARE), 4))
