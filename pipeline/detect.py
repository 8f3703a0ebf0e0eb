"""Language identification: which language an article (and each paragraph) is in, and how sure.

Why this is more than a call to lingua: the label routes the article to a translation model, so a
wrong label is a wrong translation, and lingua alone confuses close neighbours (Azerbaijani read as
Turkish, Ukrainian as Kazakh, Czech as Slovak) and returns a rule-made 1.0 even when the letters
say otherwise. Order of evidence:

1. A script that only one language writes (Georgian, Armenian, Greek, Hebrew, Hangul, kana, Thai...)
   decides at once.
2. lingua ranks the candidate languages (`DetectOptions.languages`, else all it knows).
3. Letters adjust lingua's values as evidence, not as overrides: a letter outside a language's
   alphabet (ə is not Turkish, ї is not Russian, ě is not Slovak) makes that language much less
   likely; a Kazakh text with none of Kazakh's own letters is unlikely to be Kazakh.
4. Where lingua's answer came from one of its hard rules and the letters contradict it, the text is
   re-read word by word, which sidesteps that rule.

An article's label comes from its paragraphs weighted by length and confidence, so an English
quotation cannot flip it. Below `min_confidence` the article is `und` (undetermined).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.languages import UNDETERMINED, is_known

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

_A_Z = "abcdefghijklmnopqrstuvwxyz"
_VIETNAMESE = "àáâãèéêìíòóôõùúýăđĩũơư" + "".join(chr(c) for c in range(0x1EA1, 0x1EFA, 2))

# Alphabets (lower case): the letters of native words, and letters seen only in loans and names.
# Letters of the same script outside both count against the language; letters of other scripts
# (an English name in a Russian text) are ignored. Every language lingua knows in these scripts is
# listed, so that no language escapes the penalty just by being left out.
_NATIVE: dict[str, str] = {
    # Latin
    "af": _A_Z + "áäéèêëíîïóôöúûüýŉ",
    "az": _A_Z.replace("w", "") + "çəğıöşüä",  # ä: an older spelling of ə
    "bs": _A_Z.replace("q", "").replace("w", "").replace("x", "").replace("y", "") + "čćđšž",
    "ca": _A_Z + "àçéèíïóòúü",
    "cs": _A_Z.replace("q", "").replace("w", "") + "áčďéěíňóřšťúůýž",
    "cy": "abcdefghijlmnoprstuwyâêîôûŵŷäëïöüáéíóúàèìòù",
    "da": _A_Z + "æøåéóè",
    "de": _A_Z + "äöüß",
    "en": _A_Z,
    "eo": "abcĉdefgĝhĥijĵklmnoprsŝtuŭvz",
    "es": _A_Z.replace("k", "").replace("w", "") + "áéíóúüñ",
    "et": "abdeghijklmnoprstuvõäöü",
    "eu": "abdefghijklmnñoprstuxz",
    "fi": "adeghijklmnoprstuvyäö",
    "fr": _A_Z + "àâæçéèêëîïôœùûüÿ",
    "ga": "abcdefghilmnoprstuáéíóú",
    "hr": _A_Z.replace("q", "").replace("w", "").replace("x", "").replace("y", "") + "čćđšž",
    "hu": _A_Z.replace("q", "").replace("w", "").replace("x", "") + "áéíóöőúüű",
    "id": _A_Z,
    "is": "aábdðeéfghiíjklmnoóprstuúvxyýþæö",
    "it": _A_Z.replace("j", "").replace("k", "").replace("w", "").replace("x", "").replace("y", "")
    + "àèéìíîòóùú",
    "la": _A_Z.replace("w", "") + "āēīōūȳæœ",
    "lg": _A_Z.replace("h", "").replace("q", "").replace("x", "") + "ŋ",
    "lt": "aąbcčdeęėfghiįyjklmnoprsštuųūvzž",
    "lv": "aābcčdeēfgģhiījkķlļmnņoprsštuūvzž",
    "mi": "aehikmnoprtuwgāēīōū",
    "ms": _A_Z,
    "nb": _A_Z + "æøåéóèêòô",
    "nl": _A_Z + "éëïóöüèáà",
    "nn": _A_Z + "æøåéóèêòô",
    "pl": "aąbcćdeęfghijklłmnńoóprsśtuwyzźż",
    "pt": _A_Z.replace("k", "").replace("w", "").replace("y", "") + "áâãàçéêíóôõúü",
    "ro": _A_Z.replace("k", "").replace("q", "").replace("w", "").replace("y", "") + "ăâîșțşţ",
    "sk": _A_Z.replace("q", "").replace("w", "") + "áäčďéíĺľňóôŕšťúýž",
    "sl": "abcčdefghijklmnoprsštuvzž",
    "sn": _A_Z.replace("l", "").replace("q", "").replace("x", ""),
    "so": _A_Z.replace("p", "").replace("v", "").replace("z", ""),
    "sq": _A_Z.replace("w", "") + "çë",
    "st": _A_Z + "êôš",
    "sv": _A_Z.replace("q", "").replace("w", "") + "åäöé",
    "sw": _A_Z.replace("q", "").replace("x", ""),
    "tl": _A_Z + "ñ",
    "tn": _A_Z + "êôš",
    "tr": "abcçdefgğhıijklmnoöprsştuüvyzâîû",
    "ts": _A_Z,
    "vi": _A_Z.replace("f", "").replace("j", "").replace("w", "").replace("z", "") + _VIETNAMESE,
    "xh": _A_Z,
    "yo": "abdeẹfghijklmnoọprsṣtuwyàáèéìíòóùúńḿ",
    "zu": _A_Z,
    # Cyrillic: Ukrainian has no ё ъ ы э; Belarusian no и щ ъ; Bulgarian no ё ы э; Serbian and
    # Macedonian none of й щ ъ ы ь э ю я ё; Kazakh and Mongolian add their own letters to Russian's.
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюяѝ",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџшѐѝ",
    "sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
    "kk": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
    "mn": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяөү",
    # Arabic script: Persian adds پ چ ژ گ and writes ک ی; Urdu adds ٹ ڈ ڑ ں ے and writes ہ ھ.
    "ar": "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهويىٱ",
    "fa": "ءآأؤئابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی",
    "ur": "ءآأؤئابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنںوہھیے",
}
_LOAN: dict[str, str] = {
    "az": "w",
    "bs": "qwxy",
    "cs": "qw",
    "cy": "kqvxz",
    "en": "éèàâçêëïîôöüñáó",  # café, naïve, résumé
    "eo": "qwxy",
    "es": "kw",
    "et": "cfqwxyzšž",
    "eu": "cqvwyç",
    "fi": "bcfqwxzåšž",
    "ga": "jkqvwxyz",
    "hr": "qwxy",
    "hu": "qwx",
    "is": "cqwz",
    "it": "jkwxy",
    "la": "w",
    "lt": "qwx",
    "lv": "qwxy",
    "mi": "bcdfjlqsvxyz",
    "pl": "qvx",
    "pt": "kwy",
    "ro": "kqwy",
    "sk": "qw",
    "sl": "qwxyćđ",
    "sn": "lqx",
    "so": "pvz",
    "sq": "w",
    "sv": "qwz",
    "sw": "qx",
    "tr": "qwx",
    "vi": "fjwz",
    "ar": "پچژگکی",  # foreign names, Persian keyboards
    "fa": "ةيكإى",  # Arabic letter forms in quotations and on Arabic keyboards
    "ur": "ةيكهى",
}
# Letters that only this language writes among its neighbours, with a cautious estimate of how
# often they occur: a long text without any of them is unlikely to be in that language.
_MARKERS: dict[str, tuple[str, float]] = {
    # ә ғ қ ң ө ұ ү һ make up about a tenth of Kazakh letters (Kazakh text without them is rare).
    "kk": ("әғқңөұүһ", 0.06),
    # ٹ ڈ ڑ ں ے ہ ھ: Urdu's own letters, in almost every Urdu word group (ہے، کے، میں).
    "ur": ("ٹڈڑںےہھ", 0.06),
}

# Evidence weights (natural log). A letter outside a language's alphabet multiplies its
# probability by about 1/100; a loan letter by about 1/3.
_FOREIGN_LETTER = 4.6
_LOAN_LETTER = 1.1
_MAX_LETTERS_COUNTED = 3
# lingua returns exact zeros for languages its rules exclude; treat those as very unlikely, not impossible.
_FLOOR = 1e-12
_WORD_FLOOR = 1e-3
_RULE_MADE = 0.99999  # lingua's top value at or above this came from one of its rules
# How much lingua's whole-text reading counts next to the sum of its word-by-word readings.
_WHOLE_WEIGHT = 0.3
_WORD_CACHE_SIZE = 200_000

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


class DetectOptions(BaseModel):
    """How languages are identified.

    Attributes:
        languages: the candidate languages a deployment expects; empty means every language
            the detector knows. A smaller set is both faster and more accurate.
        min_confidence: below this the article is `und` (undetermined).
        undetermined: `best_guess` routes an undetermined article by its best guess with a
            warning in the brief; `fail` fails it.
        paragraph_min_chars: shorter paragraphs inherit the article's language.
        paragraph_switch_confidence: a paragraph is translated from its own language only
            when the detector is at least this sure that it differs from the article's.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: list[str] = []
    min_confidence: float = Field(0.5, ge=0, le=1)
    undetermined: Literal["best_guess", "fail"] = "best_guess"
    paragraph_min_chars: int = Field(40, ge=1)
    paragraph_switch_confidence: float = Field(0.9, ge=0, le=1)

    @field_validator("languages")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        unknown = [c for c in codes if not is_known(c)]
        if unknown:
            raise ValueError(f"unknown language code(s) {unknown}; use ISO 639-1 codes such as 'ka', 'bg'")
        return codes


@dataclass(frozen=True)
class Guess:
    lang: str
    confidence: float


@dataclass
class Detection:
    """An article's language, how sure we are, and the languages of its paragraphs."""

    lang: str  # a language code, or "und"
    confidence: float
    best_guess: str  # the most likely language even when `lang` is "und"
    paragraphs: list[Guess] = field(default_factory=list)  # one per input paragraph, final labels
    method: str = "lingua"

    @property
    def languages(self) -> list[str]:
        """The languages found, the article's own first."""
        counts = Counter(g.lang for g in self.paragraphs if g.lang != UNDETERMINED)
        rest = [lang for lang, _ in counts.most_common() if lang != self.best_guess]
        return [self.best_guess, *rest]


@dataclass
class _Letters:
    """What the letters of one text say, computed once per text."""

    letters: list[str]  # lower-case letters, in order
    scripts: Counter[str]  # letters per script
    common: frozenset[str]  # letters of lower-case (and all-capitals) words
    names: frozenset[str]  # letters seen only in capitalised words, which are often names

    @property
    def script(self) -> str:
        """The dominant script, or "" when none has half the letters."""
        if not self.scripts:
            return ""
        script, n = self.scripts.most_common(1)[0]
        return script if n / len(self.letters) >= 0.5 else ""


class LanguageDetector:
    """Owns the lingua model; build once per run and reuse (its models are large)."""

    def __init__(self, options: DetectOptions | None = None) -> None:
        self.options = options or DetectOptions()

    @cached_property
    def _lingua(self):
        from lingua import LanguageDetectorBuilder

        langs = [_lingua_language(code) for code in self.options.languages]
        langs = [lang for lang in langs if lang is not None]
        for code in self.options.languages:
            if _lingua_language(code) is None:
                log.debug("lingua has no model for %s; script rules only", code)
        if self.options.languages and len(langs) >= 2:
            return LanguageDetectorBuilder.from_languages(*langs).build()
        if self.options.languages and len(langs) == 1:
            return None  # one candidate: nothing for lingua to decide
        return LanguageDetectorBuilder.from_all_languages().build()

    @cached_property
    def _only_candidate(self) -> str | None:
        known = [c for c in self.options.languages if _lingua_language(c) is not None]
        return known[0] if len(known) == 1 else None

    def guess(self, text: str) -> Guess:
        """The language of one piece of text (a sentence or a paragraph)."""
        return self.guess_many([text])[0]

    def guess_many(self, texts: Sequence[str]) -> list[Guess]:
        """`guess` for many texts at once; lingua scores them in parallel."""
        results: list[Guess | None] = [None] * len(texts)
        pending: list[int] = []
        letters = [_letters(t) for t in texts]
        for i, lt in enumerate(letters):
            if not lt.letters:
                results[i] = Guess(UNDETERMINED, 0.0)
                continue
            by_script = self._by_script(lt)
            if by_script is not None:
                results[i] = by_script
            elif self._lingua is None:
                only = self._only_candidate
                results[i] = Guess(only, 1.0) if only else Guess(UNDETERMINED, 0.0)
            else:
                pending.append(i)
        if pending:
            pending_texts = [texts[i] for i in pending]
            values = self._lingua.compute_language_confidence_values_in_parallel(pending_texts)
            by_words = self._word_scores(pending_texts)
            for i, vals, words in zip(pending, values, by_words, strict=True):
                whole = {_code(v.language): v.value for v in vals}
                if not whole and not words:
                    results[i] = Guess(UNDETERMINED, 0.0)
                    continue
                # lingua's rules sometimes hand a whole text to one language (Ukrainian to Kazakh)
                # that its letters rule out; then only the word-by-word reading counts.
                weight = 0.0 if _rule_contradicted(whole, letters[i]) else _WHOLE_WEIGHT
                langs = whole.keys() | words.keys()
                base = {
                    lang: weight * math.log(max(whole.get(lang, 0.0), _FLOOR)) + words.get(lang, 0.0)
                    for lang in langs
                }
                results[i] = _decide(base, letters[i])
        return [g if g is not None else Guess(UNDETERMINED, 0.0) for g in results]

    def detect(self, paragraphs: list[str]) -> Detection:
        """The article's language from its paragraphs (length-weighted), plus per-paragraph labels."""
        guesses = self.guess_many(paragraphs)
        weights: Counter[str] = Counter()
        for p, g in zip(paragraphs, guesses, strict=True):
            if g.lang != UNDETERMINED:
                weights[g.lang] += len(p) * g.confidence
        if not weights:
            return Detection(UNDETERMINED, 0.0, UNDETERMINED, [Guess(UNDETERMINED, 0.0) for _ in paragraphs])
        best, _ = weights.most_common(1)[0]
        # Confidence: the detector's own confidence on the paragraphs it labelled `best`,
        # scaled by the share of the text they make up.
        total_len = sum(len(p) for p, g in zip(paragraphs, guesses, strict=True) if g.lang != UNDETERMINED)
        best_len = sum(len(p) for p, g in zip(paragraphs, guesses, strict=True) if g.lang == best)
        own = [g.confidence for g in guesses if g.lang == best]
        confidence = round((sum(own) / len(own)) * (best_len / total_len), 4)
        labels = []
        for p, g in zip(paragraphs, guesses, strict=True):
            switch = (
                g.lang not in (best, UNDETERMINED)
                and len(p) >= self.options.paragraph_min_chars
                and g.confidence >= self.options.paragraph_switch_confidence
            )
            labels.append(g if switch else Guess(best, g.confidence if g.lang == best else 0.0))
        lang = best if confidence >= self.options.min_confidence else UNDETERMINED
        return Detection(lang, confidence, best, labels)

    def _by_script(self, lt: _Letters) -> Guess | None:
        """A decision from the script alone, or None when the script is shared."""
        # Any kana means Japanese (Chinese never writes kana); Hangul means Korean.
        kana = lt.scripts["HIRAGANA"] + lt.scripts["KATAKANA"]
        if kana and kana + lt.scripts["CJK"] >= 0.5 * len(lt.letters):
            return Guess("ja", 1.0)
        script = lt.script
        lang = SINGLE_LANGUAGE_SCRIPTS.get(script)
        if lang is None:
            return None
        if self.options.languages and lang not in self.options.languages:
            log.debug("%s script, but %s is not a candidate language", script.title(), lang)
        # The share of letters in that script: a Georgian text is Georgian, a mixed one less surely.
        share = lt.scripts[script] / len(lt.letters)
        return Guess(lang, round(min(1.0, share / 0.9), 4))

    def _word_scores(self, texts: list[str]) -> list[dict[str, float]]:
        """Log-scores per language summed over each text's words (naive Bayes over words).

        Measured on the benchmark, this reading beats lingua's whole-text one on short texts and
        is immune to its whole-text rules; the two together beat either.
        """
        words_per_text = [[w.lower() for w in _WORD.findall(t)] for t in texts]
        cache = self._word_cache
        missing = list({w for words in words_per_text for w in words if w not in cache})
        if missing:
            if len(cache) + len(missing) > _WORD_CACHE_SIZE:
                cache.clear()  # a run sees a bounded vocabulary; start over rather than track age
            values = self._lingua.compute_language_confidence_values_in_parallel(missing)
            for word, vals in zip(missing, values, strict=True):
                cache[word] = {_code(v.language): math.log(max(v.value, _WORD_FLOOR)) for v in vals}
        out: list[dict[str, float]] = []
        for words in words_per_text:
            total: dict[str, float] = {}
            for w in words:
                for lang, score in cache.get(w, {}).items():
                    total[lang] = total.get(lang, 0.0) + score
            out.append(total)
        return out

    @cached_property
    def _word_cache(self) -> dict[str, dict[str, float]]:
        return {}


def _decide(base: dict[str, float], lt: _Letters) -> Guess:
    """Combine lingua's log-scores with the letter evidence; the winner and its probability."""
    scores = {lang: s + _letter_evidence(lang, lt) for lang, s in base.items()}
    best = max(scores, key=scores.__getitem__)
    top = scores[best]
    z = sum(math.exp(s - top) for s in scores.values())
    return Guess(best, round(1.0 / z, 4))


def _rule_contradicted(probs: dict[str, float], lt: _Letters) -> bool:
    best = max(probs, key=probs.__getitem__)
    return probs[best] >= _RULE_MADE and _letter_evidence(best, lt) <= -1.0


def _letter_evidence(lang: str, lt: _Letters) -> float:
    """Log-likelihood adjustment for `lang` from the letters (0 when they say nothing)."""
    native = _native(lang)
    if native is None:
        return 0.0
    script = _alphabet_script(lang)
    loans = _loan(lang)
    foreign = loan = 0
    for ch in lt.common:
        if ch in native or _script_of(ch) != script:
            continue
        if ch in loans:
            loan += 1
        else:
            foreign += 1
    # Letters only in capitalised words weigh as loans: "Zaldívar" in a Finnish text is a name.
    loan += sum(1 for ch in lt.names if ch not in native and _script_of(ch) == script)
    score = -_FOREIGN_LETTER * min(foreign, _MAX_LETTERS_COUNTED) - _LOAN_LETTER * min(
        loan, _MAX_LETTERS_COUNTED
    )
    marker = _MARKERS.get(lang)
    if marker is not None:
        own, rate = marker
        if not any(ch in own for ch in lt.common | lt.names):
            n = lt.scripts[script]
            score += n * math.log1p(-rate)
    return score


@cache
def _native(lang: str) -> frozenset[str] | None:
    letters = _NATIVE.get(lang)
    return frozenset(letters) if letters is not None else None


@cache
def _loan(lang: str) -> frozenset[str]:
    return frozenset(_LOAN.get(lang, ""))


@cache
def _alphabet_script(lang: str) -> str:
    return _script_of(_NATIVE[lang][0])


@cache
def _script_of(ch: str) -> str:
    try:
        return unicodedata.name(ch).split()[0]
    except ValueError:
        return ""


def _letters(text: str) -> _Letters:
    text = unicodedata.normalize("NFC", text[:5000])
    letters = [ch for ch in text.lower() if ch.isalpha()]
    scripts = Counter(_script_of(ch) for ch in letters)
    common: set[str] = set()
    capitalised: set[str] = set()
    for word in _WORD.findall(text):
        # A capitalised word (not all capitals) may be a name, and names keep a foreign spelling.
        (capitalised if word[0].isupper() and not word.isupper() else common).update(word.lower())
    common.discard("'")
    common.discard("’")
    return _Letters(letters, scripts, frozenset(common), frozenset(capitalised - common))


@cache
def _lingua_language(code: str):
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        return None


def _code(language) -> str:
    return language.iso_code_639_1.name.lower()
