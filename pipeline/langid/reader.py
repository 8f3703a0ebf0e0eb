"""The lingua reader: lingua's two readings of a text among the candidate languages it should be
read with, whole and word by word, loading lingua's full models only for the languages a text
calls for.

lingua's models for all 75 languages take about 1.1 GB and ten seconds or more to load, while a
text needs a handful of them. So reading runs in two stages: lingua's small trigram models (about
60 MB for all languages) screen the candidates, and only the leading ones and their close
neighbours are read with the full models. lingua shares a language's models among all its
detectors and loads each on first use, so memory grows with the languages actually seen.
Measured by `python -m bench.langid --cost-only` (one `newsbrief detect` on a Latin file, all
languages): 7.1 s / 459 MB with every full model, 2.4 s / 191 MB screened (3f873bd).
"""

from __future__ import annotations

import logging
import math
from functools import cache, cached_property

from pipeline.langid.alphabets import cannot_write, foreign_in, homes_of_letter
from pipeline.langid.options import DetectOptions
from pipeline.langid.scripts import scripts_of_language
from pipeline.langid.text import Text, read_text

log = logging.getLogger("newsbrief.detect")

# lingua's word-by-word values below this say nothing of a word: it scores the floor, which every
# language gets, so a word's cache entry keeps only the few languages it speaks for.
_WORD_FLOOR = 1e-3
_WORD_CACHE_SIZE = 100_000  # words kept per run: a night's vocabulary, not a memory leak
# The two-stage reading: the trigram screen's leading languages read in full, with the close
# neighbours of its first few, which trigrams alone do not tell apart (`DetectOptions.screen_top`
# and `screen_share` say how many leaders).
_SHORT_EXTRA = 8  # trigrams say less about a title or a caption: keep more of its candidates
_SHORT_CHARS = 40  # ...of a text shorter than this
_NEIGHBOUR_TOP = 5  # the leaders whose close neighbours are read too
# The share of a text's words with letters a language does not write that leaves it out of the
# screen altogether (lower, and mixed or mis-decoded text loses its own language: Arabic typed with
# Urdu's ھ). bdc8c4d: a Cyrillic text screened 8 languages rather than 75.
_FOREIGN_SHARE_OUT = 0.3
_MAX_DETECTORS = 512  # full-model detectors kept, one per candidate set; the models they share stay
# The close-neighbour groups: read with the screen's leaders, since trigrams do not tell
# them apart. Not tuned; from the confusions `make bench-langid` lists (cs->sk, es->pt, mk->bg...).
_NEIGHBOUR_GROUPS = (
    "bs hr sr sl mk",
    "cs sk pl",
    "es pt ca it la",
    "da nb nn sv",
    "id ms tl",
    "az tr",
    "lt lv",
    "et fi",
    "nl af de",
    "ru uk be bg mk sr",
    "xh zu sn st tn ts",
    "ar fa ur",
)
_NEIGHBOURS: dict[str, frozenset[str]] = {
    code: frozenset(c for group in _NEIGHBOUR_GROUPS if code in group.split() for c in group.split())
    for code in {c for group in _NEIGHBOUR_GROUPS for c in group.split()}
} | {
    # Kazakh and Mongolian are told from the Slavic languages by letters of their own (ә қ ү ө),
    # which keep them in whenever a text has them; a Slavic text the screen calls Kazakh or
    # Mongolian is still read with its Slavic neighbours.
    code: frozenset("ru uk be bg mk sr kk mn".split())
    for code in ("kk", "mn")
}


class LinguaReader:
    """Owns the lingua models; build once per run and reuse."""

    def __init__(self, options: DetectOptions | None = None) -> None:
        self.options = options or DetectOptions()
        self._detectors: dict[frozenset[str], object] = {}

    def readings(
        self, codes: frozenset[str], texts: list[Text]
    ) -> list[tuple[dict[str, float], dict[str, float]]]:
        """lingua's two readings of each text among `codes`: the whole text's probabilities, and
        log-scores summed over its words."""
        detector = self._detector(codes)
        values = _values(detector, [t.text for t in texts])
        by_words = self._word_scores(detector, codes, texts)
        return [
            ({_code(v.language): v.value for v in vals}, words)
            for vals, words in zip(values, by_words, strict=True)
        ]

    @cached_property
    def _universe(self) -> frozenset[str]:
        """The candidate languages lingua knows: the options' list (with English), else all."""
        from lingua import Language

        if not self.options.languages:
            return frozenset(_code(lang) for lang in Language.all())
        codes = set()
        for code in self.options.languages:
            if _lingua_language(code) is None:
                log.debug("lingua has no model for %s; script rules only", code)
            else:
                codes.add(code)
        if not codes:
            return frozenset(_code(lang) for lang in Language.all())
        # One candidate leaves lingua nothing to compare; English, the language of quotations
        # and boilerplate in any news text, lets it still say "not this language".
        return frozenset(codes | {"en"})

    @cached_property
    def _screened(self) -> bool:
        """Whether the universe is large enough for the trigram screen to pay."""
        top = self.options.screen_top
        return top > 0 and len(self._universe) > top + 2

    def _written_in(self, scripts: frozenset[str]) -> frozenset[str]:
        """The candidates written in any of `scripts` (all of them for a text without letters)."""
        return frozenset(c for c in self._universe if scripts_of_language(c) & scripts) or self._universe

    def _screen(self, codes: frozenset[str]) -> tuple[object | None, frozenset[str]]:
        """lingua's low-accuracy (trigram) detector over `codes` (None for one or two, which are
        read in full), and those codes. A Cyrillic text needs the trigram models of 8 languages,
        not of 75."""
        if len(codes) <= 2:
            return None, codes
        screen = self._screens.get(codes)
        if screen is None:
            from lingua import LanguageDetectorBuilder

            langs = [_lingua_language(code) for code in sorted(codes)]
            screen = self._screens[codes] = (
                LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()
            )
        return screen, codes

    @cached_property
    def _screens(self) -> dict[frozenset[str], object]:
        return {}

    def _detector(self, codes: frozenset[str]):
        """A full-model lingua detector for `codes` (models are loaded on first use, and shared)."""
        detector = self._detectors.get(codes)
        if detector is None:
            from lingua import LanguageDetectorBuilder

            if len(self._detectors) >= _MAX_DETECTORS:
                self._detectors.clear()  # detectors are cheap: the models they share stay loaded
            detector = LanguageDetectorBuilder.from_languages(
                *(_lingua_language(c) for c in sorted(codes))
            ).build()
            self._detectors[codes] = detector
        return detector

    def _candidates(self, texts: list[str]) -> list[frozenset[str]]:
        """The languages to read each text with in full: the universe when small, else the leaders
        of the trigram screen and their close neighbours."""
        if not self._screened:
            return [self._universe] * len(texts)
        # One screen per set of scripts the texts are written in (a script counts from a tenth
        # of a text's letters): a language is never read in a script it does not write.
        # Nor in one whose alphabet the text's own words keep leaving (see `alphabets.cannot_write`): a
        # Lithuanian paragraph's ė, į and ų leave few languages to screen.
        facts = [read_text(text) for text in texts]
        by_universe: dict[frozenset[str], list[int]] = {}
        for i, fact in enumerate(facts):
            scripts = frozenset(s for s, n in fact.scripts.items() if n >= 0.1 * len(fact.letters))
            codes = self._written_in(scripts)
            codes = frozenset(c for c in codes if not cannot_write(c, fact, _FOREIGN_SHARE_OUT)) or codes
            by_universe.setdefault(codes, []).append(i)
        out: list[frozenset[str]] = [self._universe] * len(texts)
        for universe, members in by_universe.items():
            screen, codes = self._screen(universe)
            if screen is None:
                for i in members:
                    out[i] = codes
                continue
            chosen = self._screen_candidates([texts[i] for i in members], [facts[i] for i in members], screen)
            for i, candidates in zip(members, chosen, strict=True):
                out[i] = candidates
        return out

    def _screen_candidates(self, texts: list[str], facts: list[Text], screen) -> list[frozenset[str]]:
        """The leaders of the trigram screen for each text, with their close neighbours."""
        out = []
        for text, fact, values in zip(texts, facts, _values(screen, texts), strict=True):
            top = (
                self.options.screen_top + _SHORT_EXTRA
                if len(text) < _SHORT_CHARS
                else self.options.screen_top
            )
            # The leaders until they hold `screen_share` of the screen's belief: one or two for a
            # clear paragraph, up to `top` for a short or mixed text.
            ranked: list[str] = []
            held = 0.0
            for v in values:
                if v.value <= 0.0 or len(ranked) >= top:
                    break
                if held >= self.options.screen_share and not cannot_write(ranked[0], fact):
                    break  # sure, and of a language that writes these words' letters
                ranked.append(_code(v.language))
                held += v.value
            if not ranked:
                # The trigrams found nothing to go on: every language written in the text's script.
                script = fact.script
                out.append(
                    frozenset(
                        c
                        for c in self._universe
                        if not scripts_of_language(c) or script in scripts_of_language(c)
                    )
                )
                continue
            chosen = set(ranked)
            # Close neighbours of the leaders, but not one whose alphabet lacks letters of the
            # text's own words (Bulgarian ъ and щ rule out Ukrainian, Macedonian and Serbian). One
            # such word is not enough: a Ukrainian text may borrow a Russian spelling.
            for code in ranked[:_NEIGHBOUR_TOP]:
                chosen |= {n for n in _NEIGHBOURS.get(code, frozenset()) if not cannot_write(n, fact)}
            # A letter only one or two languages write (Azerbaijani ə, Esperanto ĉ) keeps them in,
            # whatever trigrams of a two-word title say.
            for ch in {c for c in text.lower() if c.isalpha() and not c.isascii()}:
                homes = homes_of_letter(ch)
                if len(homes) <= 2:
                    chosen |= homes
            out.append(frozenset(chosen & self._universe))
        return out

    def _word_scores(self, detector, codes: frozenset[str], texts: list[Text]) -> list[dict[str, float]]:
        """Log-scores per language summed over each text's words (naive Bayes over words).

        Measured on the benchmark, this reading beats lingua's whole-text one on short texts and
        is immune to its whole-text rules; the two together beat either. Scores are kept relative
        to the floor, which every language gets for a word lingua gives it no chance on, so that
        a word stores only the few languages it speaks for.
        """
        # lingua's values are shares among the detector's languages: a word's scores hold for
        # one candidate set only.
        cache = self._word_cache.setdefault(codes, {})
        missing = list({w for text in texts for w in text.words if w not in cache})
        if missing:
            if sum(map(len, self._word_cache.values())) + len(missing) > _WORD_CACHE_SIZE:
                # a run sees a bounded vocabulary; start over rather than track age
                self._word_cache.clear()
                cache = self._word_cache.setdefault(codes, {})
            floor = math.log(_WORD_FLOOR)
            for word, vals in zip(missing, _values(detector, missing), strict=True):
                scores = {_code(v.language): math.log(v.value) - floor for v in vals if v.value > _WORD_FLOOR}
                # A word spelt with a letter its language does not write is no word of it, whatever
                # lingua's n-grams say ("olacax" is not Turkish: Turkish has no x). Names (weight
                # below 1) keep lingua's reading: they keep their own spelling in any language.
                cache[word] = (scores, {lang: s for lang, s in scores.items() if not foreign_in(word, lang)})
        out: list[dict[str, float]] = []
        for text in texts:
            total: dict[str, float] = {}
            for word, weight in zip(text.words, text.weights, strict=True):
                scores, own = cache.get(word, ({}, {}))
                for lang, score in (own if weight == 1.0 else scores).items():
                    total[lang] = total.get(lang, 0.0) + weight * score
            out.append(total)
        return out

    @cached_property
    def _word_cache(self) -> dict[frozenset[str], dict[str, tuple[dict[str, float], dict[str, float]]]]:
        return {}


def _values(detector, texts: list[str]) -> list:
    """lingua's confidence values per text; one text (a title, a check) skips its thread pool."""
    if len(texts) == 1:
        return [detector.compute_language_confidence_values(texts[0])]
    return detector.compute_language_confidence_values_in_parallel(texts)


@cache
def _lingua_language(code: str):
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        return None


def _code(language) -> str:
    return language.iso_code_639_1.name.lower()
