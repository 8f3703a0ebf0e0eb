"""The lexicon: how common a text's words are in each of the leading languages of a close call.

For a short text, lingua's character n-grams say little that tells close neighbours apart (Spanish
and Portuguese "principal", Macedonian and Bulgarian "бугарските"); how common each word is in each
language does. wordfreq's lists are read only for the languages compared (3 to 10 MB each), re-rank
only the few leading languages of a close call, and count less as a text grows longer.
Introduced in b575a20: `make bench-langid`, candidate set, pairs 95.48 -> 96.68 %, sentences
99.57 -> 99.71 %, UD 98.64 -> 99.26 %; all languages, pairs 94.15 -> 95.43 %; no language went down.
"""

from __future__ import annotations

import math
from functools import cache

from pipeline.langid.text import Text

# wordfreq's "small" lists: the words used at least once per million, with their frequency in
# centibels (-200 = once per 100 words). Languages without a list (Azerbaijani, Estonian, Kazakh)
# are never lifted or lowered by the lexicon.
_LEXICON_CODES = {
    code: code
    for code in "ar bg ca cs da de en es fa fi fr hu id is it lt lv mk ms nb nl pl pt ro ru sk sl sv "
    "tr uk ur vi".split()
} | {"sr": "sh", "hr": "sh", "bs": "sh", "tl": "fil"}  # one list for Serbo-Croatian, in Latin letters
_LEXICON_FLOOR = -700  # centibels for a word not in a list: once per ten million
# Weight of the lexicon log-likelihood next to lingua's (tuned on the benchmark, b575a20: 0.6 to
# 1.0 all score within 0.15 points on word pairs). It counts in full up to _LEXICON_WORDS words,
# and as much as that many words on a longer text (a long text's n-grams need no help).
_LEXICON_WEIGHT = 0.8
_LEXICON_WORDS = 8
# The leading languages a lexicon may re-rank: 10 rather than 3 lifted every set (bdc8c4d, all
# languages: sentences 99.63 -> 99.66 %, pairs 95.69 -> 95.75 %, UD 99.14 -> 99.18 %)...
_LEXICON_TOP = 10
_LEXICON_MARGIN = 6.0  # ...when they are within this many nats of the first (b575a20, with the weight)
# Spellings as the lists write them: Serbian Cyrillic in the Latin letters of the Serbo-Croatian
# list, and Persian and Urdu typed with Arabic ي and ك (Arabic keyboards) with their own ی and ک.
_PERSIAN_LETTERS = str.maketrans("يك", "یک")
LEXICON_SPELLING = {
    "sr": str.maketrans(
        dict(zip("абвгдђежзијклмнопрстћуфхцчш", "abvgdđežzijklmnoprstćufhcčš", strict=True))
        | {"љ": "lj", "њ": "nj", "џ": "dž"}
    ),
    "fa": _PERSIAN_LETTERS,
    "ur": _PERSIAN_LETTERS,
}


def lexicon_adjust(scores: dict[str, float], text: Text) -> None:
    """Re-rank the leading languages of a close call by how common the text's words are in each.

    Each word scores its log-frequency in each language's word list (a unigram model, with a floor
    for a word the list lacks). Only the leading languages that have a list take part, and each is
    lowered by its shortfall against the best of them: a language without a list (Azerbaijani,
    Estonian, Kazakh) is never lifted or lowered by this, only compared as before.
    """
    if not text.words:
        return
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)[:_LEXICON_TOP]
    top = scores[ranked[0]]
    close = [lang for lang in ranked if top - scores[lang] <= _LEXICON_MARGIN and lang in _LEXICON_CODES]
    if len(close) < 2:
        return
    words = sum(text.weights)
    weight = _LEXICON_WEIGHT * min(1.0, _LEXICON_WORDS / words) * math.log(10) / 100  # per centibel
    totals = {}
    for lang in close:
        table = lexicon(_LEXICON_CODES[lang])
        spelling = LEXICON_SPELLING.get(lang)
        totals[lang] = sum(
            w * max(table.get(word.translate(spelling) if spelling else word, _LEXICON_FLOOR), _LEXICON_FLOOR)
            for word, w in zip(text.words, text.weights, strict=True)
        )
    best = max(totals.values())
    for lang, total in totals.items():
        scores[lang] += weight * (total - best)


@cache
def lexicon(code: str) -> dict[str, int]:
    """wordfreq's small word list for `code`: word -> frequency in centibels (loaded on first use)."""
    from wordfreq import get_frequency_dict

    return {word: round(100 * math.log10(f)) for word, f in get_frequency_dict(code, "small").items()}
