"""The detector: one `detect()` that combines the evidence of the other modules.

For each text: the script screen (scripts.py) may decide at once; otherwise lingua reads it whole
and word by word (reader.py), the letter and word rules adjust those scores (rules.py), a close
call is re-ranked by word frequencies (lexicon.py), and a Latin Serbo-Croatian text is weighed by
its Serbian, Croatian and Bosnian evidence (serbocroatian.py). The winner's share of the combined
probability is the confidence. An article's label comes from its paragraphs weighted by length and
confidence, so an English quotation cannot flip it; below `min_confidence` it is `und`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from pipeline.langid.lexicon import lexicon_adjust
from pipeline.langid.reader import LinguaReader
from pipeline.langid.records import Detection, Guess
from pipeline.langid.rules import evidence
from pipeline.langid.scripts import by_script, scripts_of_language
from pipeline.langid.serbocroatian import SERBO_CROATIAN, read_serbo_croatian
from pipeline.langid.text import Text, read_text
from pipeline.languages import UNDETERMINED

# lingua returns exact zeros for languages its rules exclude; treat those as very unlikely, not impossible.
_FLOOR = 1e-12
_RULE_MADE = 0.99999  # lingua's top value at or above this came from one of its rules
# How much lingua's whole-text reading counts next to the sum of its word-by-word readings (the
# two together beat either on the benchmark, 5a4bcd0; the word reading wins on short texts).
_WHOLE_WEIGHT = 0.3
# Log-prior of a news article's language where it is far from even: Latin is quoted in the news
# (mottos, legal and scientific terms) but no newsroom writes in it, and a short Italian, Spanish
# or English line that lingua calls Latin goes to a route that does not exist. A real Latin
# text outweighs it within a sentence. cb2f598, all languages: pairs 95.43 -> 95.69 %.
_NEWS_PRIOR = {"la": math.log(1 / 20)}


class LanguageDetector(LinguaReader):
    """Names the language of texts and articles; build once per run and reuse (it owns lingua's
    models, see `LinguaReader`)."""

    def guess(self, text: str) -> Guess:
        """The language of one piece of text (a sentence or a paragraph)."""
        return self.guess_many([text])[0]

    def guess_many(self, texts: Sequence[str]) -> list[Guess]:
        """`guess` for many texts at once; lingua scores them in parallel."""
        results: list[Guess] = [Guess(UNDETERMINED, 0.0)] * len(texts)
        facts = [read_text(t) for t in texts]
        pending: list[int] = []
        for i, text in enumerate(facts):
            if not text.letters:
                continue  # digits and punctuation: undetermined
            decided = by_script(text, self.options.languages)
            if decided is not None:
                results[i] = decided
            elif self._universe == {"en"}:  # English is the only candidate
                if text.scripts["LATIN"]:
                    results[i] = Guess("en", 1.0)
            else:
                pending.append(i)
        if not pending:
            return results
        groups: dict[frozenset[str], list[int]] = {}
        for i, codes in zip(pending, self._candidates([facts[i].text for i in pending]), strict=True):
            if len(codes) == 1:
                codes = codes | {"en"}  # lingua needs two languages to compare
            if codes:
                groups.setdefault(codes, []).append(i)
        for codes, members in groups.items():
            self._read_with(codes, members, facts, results)
        return results

    def _read_with(
        self, codes: frozenset[str], members: list[int], facts: list[Text], results: list[Guess]
    ) -> None:
        """Reads the texts `members` with the full models of `codes`, into `results`."""
        readings = self.readings(codes, [facts[i] for i in members])
        for i, (whole, words) in zip(members, readings, strict=True):
            if not whole and not words:
                continue
            # lingua's rules sometimes hand a whole text to one language (Ukrainian to Kazakh)
            # that its letters rule out; then only the word-by-word reading counts.
            weight = 0.0 if whole and _rule_contradicted(whole, facts[i]) else _WHOLE_WEIGHT
            base = {
                lang: weight * math.log(max(whole.get(lang, 0.0), _FLOOR)) + words.get(lang, 0.0)
                for lang in whole.keys() | words.keys()
            }
            results[i] = decide(base, facts[i])

    def detect(self, paragraphs: list[str]) -> Detection:
        """The article's language from its paragraphs (length-weighted), plus per-paragraph labels."""
        guesses = self._pool_serbo_croatian(paragraphs, self.guess_many(paragraphs))
        weights: Counter[str] = Counter()
        for p, g in zip(paragraphs, guesses, strict=True):
            if g.lang != UNDETERMINED:
                weights[g.lang] += len(p) * g.confidence
        if not weights:
            return Detection(UNDETERMINED, 0.0, UNDETERMINED, [Guess(UNDETERMINED, 0.0) for _ in paragraphs])
        best, _ = weights.most_common(1)[0]
        # Confidence: the detector's own confidence on the paragraphs it labelled `best` (weighted
        # by length, so that a short title does not drag it down), scaled by the share of the text
        # they make up: an article half in English and half in Lithuanian is no sure Lithuanian.
        sized = [(len(p), g) for p, g in zip(paragraphs, guesses, strict=True) if g.lang != UNDETERMINED]
        total_len = sum(n for n, _ in sized)
        best_len = sum(n for n, g in sized if g.lang == best)
        own = sum(n * g.confidence for n, g in sized if g.lang == best) / max(1, best_len)
        confidence = round(own * best_len / max(1, total_len), 4)
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

    def _pool_serbo_croatian(self, paragraphs: list[str], guesses: list[Guess]) -> list[Guess]:
        """One reading for the article's Latin Serbian, Croatian and Bosnian paragraphs together.

        What tells the three apart (jat, a few words) is rare in any one paragraph, and a paragraph
        without it leans Serbian (see `_decide`); an article as a whole nearly always has it.
        """
        family = [
            i
            for i, g in enumerate(guesses)
            if g.lang in SERBO_CROATIAN and read_text(paragraphs[i]).script == "LATIN"
        ]
        if len(family) < 2:
            return guesses
        pooled = self.guess("\n".join(paragraphs[i] for i in family))
        if pooled.lang not in SERBO_CROATIAN:
            return guesses
        out = list(guesses)
        for i in family:
            out[i] = Guess(pooled.lang, pooled.confidence)
        return out


def decide(base: dict[str, float], text: Text) -> Guess:
    """Combine lingua's log-scores with the letter and word evidence; the winner and its probability."""
    # A language whose script has no letter in the text is out (no Georgian letter: not Georgian).
    scores = {
        lang: score + evidence(lang, text) + _NEWS_PRIOR.get(lang, 0.0)
        for lang, score in base.items()
        if not scripts_of_language(lang) or scripts_of_language(lang) & text.scripts.keys()
    }
    if not scores:
        return Guess(UNDETERMINED, 0.0)
    lexicon_adjust(scores, text)
    best = max(scores, key=scores.__getitem__)
    if best in SERBO_CROATIAN and text.script == "LATIN":
        guess = read_serbo_croatian(scores, best, text)
        if guess is not None:
            return guess
    top = scores[best]
    z = sum(math.exp(score - top) for score in scores.values())
    return Guess(best, round(1.0 / z, 4))


def _rule_contradicted(probs: dict[str, float], text: Text) -> bool:
    """Whether lingua's whole-text value for its leader came from one of its rules (a flat 1.0)
    that the text's letters and words speak against."""
    best = max(probs, key=probs.__getitem__)
    return probs[best] >= _RULE_MADE and evidence(best, text) <= -1.0
