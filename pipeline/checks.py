"""Checks on each translated sentence, for the ways machine translation is known to fail.

Text copied through untranslated, output in the wrong language, repetition loops, empty output
and wildly wrong length (argos-translate #496, kite-public #94, transformers #26271 where tc-big
Marian checkpoints produced garbage after a library upgrade). A sentence that fails is retried on
the fallback route; what still fails is kept, marked in the brief and counted.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from pipeline.langid import LanguageDetector


class CheckOptions(BaseModel):
    """Output checks on translated sentences.

    Attributes:
        enabled: turn all checks off (not recommended).
        min_chars: sentences shorter than this are only checked for emptiness: names, numbers
            and one-word lines are legitimately short, copied or undetectable.
        english_min_confidence: the detector must label the output English at least this sure.
        copy_similarity: an output this similar to its source (0-1) counts as copied through.
        repeat_times: an n-gram (n = 1-4 words) repeated this many times in a row is a loop.
        length_ratio: allowed output/source length (characters), for languages not listed below.
        length_ratio_by_language: per source language, e.g. Chinese and Japanese write far
            fewer characters than the English they translate to.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    min_chars: int = Field(20, ge=0)
    english_min_confidence: float = Field(0.5, ge=0, le=1)
    copy_similarity: float = Field(0.9, ge=0, le=1)
    repeat_times: int = Field(4, ge=2)
    length_ratio: tuple[float, float] = (0.3, 3.0)
    length_ratio_by_language: dict[str, tuple[float, float]] = {
        "zh": (0.8, 12.0),
        "zh-Hant": (0.8, 12.0),
        "yue": (0.8, 12.0),
        "ja": (0.6, 10.0),
        "ko": (0.6, 6.0),
    }


def check_sentence(
    source: str, english: str, lang: str, options: CheckOptions, detector: LanguageDetector | None
) -> list[str]:
    """The names of the checks `english` fails as a translation of `source` (empty: all passed)."""
    if not options.enabled:
        return []
    out = english.strip()
    if not out:
        return ["empty output"] if source.strip() else []
    problems: list[str] = []
    if len(source.strip()) < options.min_chars:
        return problems
    if _letters(source) and _similar(source, out) >= options.copy_similarity:
        problems.append("copy of the source")
    loop = repetition(out, options.repeat_times)
    if loop:
        problems.append(f"repetition loop ({loop!r})")
    low, high = options.length_ratio_by_language.get(lang, options.length_ratio)
    ratio = len(out) / max(1, len(source.strip()))
    if not low <= ratio <= high:
        problems.append(f"length ratio {ratio:.2f} outside {low:g}-{high:g}")
    if detector is not None and len(out) >= options.min_chars and "copy of the source" not in problems:
        guess = detector.guess(out)
        if guess.lang != "en" or guess.confidence < options.english_min_confidence:
            problems.append(f"not English (detected {guess.lang}, {guess.confidence:.2f})")
    return problems


# A summary's length over its article's: distilbart-cnn writes about 3 sentences of up to 142 tokens.
SUMMARY_RATIO = (0.05, 1.0)
# News summarizers reuse the article's words (CNN/DailyMail-trained ones mostly copy phrases), so
# fewer than half of a summary's longer words found in its article means it is about something else.
SUMMARY_MIN_OVERLAP = 0.5


def check_summary(
    source: str, summary: str, options: CheckOptions, detector: LanguageDetector | None
) -> list[str]:
    """The checks `summary` fails as an English summary of `source` (empty: all passed): the
    translation checks, with a summary's length band (shorter than its article)."""
    if not options.enabled:
        return []
    out = summary.strip()
    if not out:
        return ["empty output"]
    problems: list[str] = []
    if _similar(source, out) >= options.copy_similarity:
        problems.append("copy of the source")
    loop = repetition(out, options.repeat_times)
    if loop:
        problems.append(f"repetition loop ({loop!r})")
    low, high = SUMMARY_RATIO
    ratio = len(out) / max(1, len(source.strip()))
    if not low <= ratio <= high:
        problems.append(f"length ratio {ratio:.2f} outside {low:g}-{high:g}")
    words = [w for w in re.findall(r"\w+", out.casefold()) if len(w) > 3]
    if len(words) >= 3:
        known = set(re.findall(r"\w+", source.casefold()))
        overlap = sum(w in known for w in words) / len(words)
        if overlap < SUMMARY_MIN_OVERLAP:
            problems.append(f"unrelated to its article ({overlap:.0%} of its words are the article's)")
    if detector is not None and len(out) >= options.min_chars:
        guess = detector.guess(out)
        if guess.lang != "en" or guess.confidence < options.english_min_confidence:
            problems.append(f"not English (detected {guess.lang}, {guess.confidence:.2f})")
    return problems


def repetition(text: str, times: int) -> str | None:
    """The first n-gram (1-4 words) repeated `times` times in a row, if any."""
    words = text.lower().split()
    for n in range(1, 5):
        for i in range(len(words) - n * times + 1):
            gram = words[i : i + n]
            if all(words[i + k * n : i + (k + 1) * n] == gram for k in range(1, times)):
                return " ".join(gram)
    # Sub-word loops inside one token ("ababababab…"): a short unit repeated many times.
    m = re.search(r"(\w{1,6}?)\1{" + str(max(times, 6) - 1) + r",}", text)
    return m.group(1) * 2 + "…" if m else None


def _letters(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def _similar(a: str, b: str) -> float:
    norm_a = " ".join(a.casefold().split())
    norm_b = " ".join(b.casefold().split())
    if norm_a == norm_b:
        return 1.0
    return SequenceMatcher(None, norm_a, norm_b, autojunk=False).ratio()
