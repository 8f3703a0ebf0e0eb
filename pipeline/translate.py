"""Translation into English, sentence by sentence, in length-sorted batches, losing nothing.

Paragraphs → sentences → pieces no longer than the model's input limit → batches by padded
tokens → generate → back in the original order, paragraph breaks kept (EasyNMT's algorithm,
without its silent truncation). Each language is routed to a model by config.yaml; English
passes through. An output that hits `max_new_tokens` is flagged, never silently kept.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.article import Article, SentencePair, Translation
from pipeline.backends import DecodingOptions, LoadedModel, token_batches
from pipeline.checks import CheckOptions, check_sentence
from pipeline.errors import UnsupportedLanguageError
from pipeline.languages import UNDETERMINED, flores_code, is_latin_text, name_of, serbian_to_cyrillic
from pipeline.segment import SegmentOptions, split_long, split_sentences

if TYPE_CHECKING:
    from pipeline.langid import LanguageDetector
    from pipeline.models import ModelStore

log = logging.getLogger("newsbrief.translate")

PASSTHROUGH = "passthrough"
UNTRANSLATED = "untranslated"  # a paragraph in a language no route covers: kept as is, flagged
TARGET_FLORES = "eng_Latn"


class TranslateOptions(BaseModel):
    """Which model translates which language, and how batches are built.

    Attributes:
        routes: language code → model name under `models:` (or `passthrough`).
        default: the model for every language without a route (NLLB covers 200 languages).
        fallback: the model that retries a sentence whose output fails a check (none: no retry).
        batch_tokens: at most this many padded source tokens per batch.
        max_batch_sentences: at most this many sentences per batch.
        group_articles: articles of one route translated together, so that their sentences
            share batches (fuller batches, less padding); memory grows with it, not with the inbox.
        decoding: generation settings.
        decoding_by_family: per model family (`nllb`, `marian`), settings that differ from `decoding`.
        checks: the output checks (see pipeline/checks.py).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    routes: dict[str, str] = {"en": PASSTHROUGH}
    default: str = "nllb"
    fallback: str | None = "nllb"
    batch_tokens: int = Field(2048, gt=0)
    max_batch_sentences: int = Field(32, gt=0)
    group_articles: int = Field(32, ge=1)
    decoding: DecodingOptions = DecodingOptions()
    decoding_by_family: dict[Literal["nllb", "marian"], dict[str, Any]] = {}
    checks: CheckOptions = CheckOptions()

    @model_validator(mode="after")
    def _family_decoding_valid(self) -> TranslateOptions:
        for family in self.decoding_by_family:
            self.decoding_for(family)  # raises a ValidationError naming the bad field
        return self

    def decoding_for(self, family: str) -> DecodingOptions:
        override = self.decoding_by_family.get(family)  # type: ignore[call-overload]
        return DecodingOptions(**{**self.decoding.model_dump(), **override}) if override else self.decoding


class Translator:
    """Routes sentences to models from config.yaml and translates them in batches."""

    def __init__(
        self,
        options: TranslateOptions,
        store: ModelStore,
        segment: SegmentOptions | None = None,
        english_detector: LanguageDetector | None = None,
    ):
        self.options = options
        self.store = store
        self.segment = segment or SegmentOptions()
        self.english_detector = english_detector  # the project's own detector judges "is it English?"

    def route_for(self, lang: str) -> str:
        """The model name (or `passthrough`) that translates `lang`, or UnsupportedLanguageError."""
        if lang == UNDETERMINED:
            raise UnsupportedLanguageError("the language could not be determined, so no route applies")
        name = self.options.routes.get(lang, self.options.default)
        if name == PASSTHROUGH:
            return name
        spec = self.store.spec(name)
        if spec.family == "nllb" and flores_code(lang) is None:
            raise UnsupportedLanguageError(
                f"no route translates {name_of(lang)} ({lang}): NLLB-200 does not cover it and "
                "config.yaml's translate.routes names no model for it"
            )
        return name

    def translate_article(self, article: Article) -> Translation:
        """Translates the title and every paragraph, each from its own detected language."""
        return self.translate_articles([article])[0]

    def translate_articles(self, articles: list[Article]) -> list[Translation]:
        """Translates several articles at once: each route's sentences from all of them share
        batches (fuller batches, less padding), then go back to their article, in order."""
        units: list[tuple[int, int, str, str]] = []  # (article, paragraph, lang, sentence)
        for a, article in enumerate(articles):
            units += [(a, *unit) for unit in self._units(article)]
        by_route: dict[tuple[str, str], list[int]] = {}
        for idx, (a, _, lang, _) in enumerate(units):
            by_route.setdefault((self._paragraph_route(lang, articles[a]), lang), []).append(idx)
        pairs: list[SentencePair | None] = [None] * len(units)
        models: list[dict[str, dict[str, str]]] = [{} for _ in articles]
        decoding: list[dict[str, dict[str, object]]] = [{} for _ in articles]
        vocabularies: list[dict[str, str]] = [{} for _ in articles]
        for (route, lang), indices in by_route.items():
            sources = [units[i][3] for i in indices]
            fallback = None
            vocabulary = fallback_vocabulary = None
            if route == UNTRANSLATED:
                used = {"route": UNTRANSLATED, "model": "none", "revision": "-"}
                settings = None
                flag = f"not translated: no route translates {name_of(lang)} ({lang})"
                results = [
                    SentencePair(units[i][1], src, src, lang, UNTRANSLATED, [flag])
                    for i, src in zip(indices, sources, strict=True)
                ]
            elif route == PASSTHROUGH:
                used = {"route": PASSTHROUGH, "model": PASSTHROUGH, "revision": "-"}
                settings = None
                results = [
                    SentencePair(units[i][1], src, src, lang, PASSTHROUGH)
                    for i, src in zip(indices, sources, strict=True)
                ]
            else:
                loaded = self.store.load(route)
                used, settings = (
                    provenance(loaded),
                    self.options.decoding_for(loaded.spec.family).model_dump(),
                )
                results = [
                    SentencePair(units[i][1], src, english, lang, route, flags, notes)
                    for i, src, (english, flags, notes) in zip(
                        indices, sources, self.translate_sentences(loaded, lang, sources), strict=True
                    )
                ]
                vocabulary = loaded.vocabulary_label
                fallback = self._check_and_fall_back(results, lang)
                if fallback:  # the fallback model was loaded just now, to retry these
                    fallback_vocabulary = self.store.load(fallback["route"]).vocabulary_label
            for i, pair in zip(indices, results, strict=True):
                a = units[i][0]
                pairs[i] = pair
                # The brief's front matter says when Latin Serbian went in as Cyrillic.
                written = SERBIAN_LATIN_NOTE in pair.notes or "input" in models[a].get(lang, {})
                models[a][lang] = {**used, "input": SERBIAN_LATIN_INPUT} if written else used
                if settings is not None:
                    decoding[a][lang] = settings
                if vocabulary is not None:
                    vocabularies[a][lang] = vocabulary
                if fallback and any(n.startswith("fallback to") for n in pair.notes):
                    models[a]["fallback"] = fallback
                    vocabularies[a]["fallback"] = fallback_vocabulary
        assert all(p is not None for p in pairs), "a sentence went missing"  # noqa: S101 - invariant, cheap
        out = []
        for a in range(len(articles)):
            mine = [p for (owner, *_), p in zip(units, pairs, strict=True) if owner == a and p is not None]
            out.append(Translation(mine, models[a], decoding[a], vocabularies[a]))
        return out

    def _paragraph_route(self, lang: str, article: Article) -> str:
        """A paragraph's route; one in a language no route translates (a Latin quotation in a
        Lithuanian article) is kept in the original and flagged, rather than failing the article."""
        try:
            return self.route_for(lang)
        except UnsupportedLanguageError:
            if lang == article.language or (article.detection and lang == article.detection.best_guess):
                raise
            return UNTRANSLATED

    def _units(self, article: Article) -> list[tuple[int, str, str]]:
        """(paragraph, language, sentence) for the title (paragraph -1) and the body, in order."""
        det = article.detection
        if det is None:
            raise ValueError("detect the article's language before translating it")
        article_lang = det.lang if det.lang != UNDETERMINED else det.best_guess
        units: list[tuple[int, str, str]] = []
        if article.title:
            units += [
                (-1, article_lang, s) for s in split_sentences(article.title, article_lang, self.segment)
            ]
        for i, para in enumerate(article.paragraphs):
            lang = det.paragraphs[i].lang if i < len(det.paragraphs) else article_lang
            lang = article_lang if lang == UNDETERMINED else lang
            units += [(i, lang, s) for s in split_sentences(para, lang, self.segment)]
        return units

    def _check_and_fall_back(self, pairs: list[SentencePair], lang: str) -> dict[str, str] | None:
        """Checks each output; retries failures on the fallback route; flags what still fails.

        Returns the fallback model's provenance when it was used.
        """
        checks = self.options.checks
        problems = [check_sentence(p.source, p.english, lang, checks, self.english_detector) for p in pairs]
        failing = [k for k, found in enumerate(problems) if found]
        fallback = self.options.fallback
        used: dict[str, str] | None = None
        if failing and fallback and fallback != pairs[0].route and self._can_route(fallback, lang):
            loaded = self.store.load(fallback)
            retried = self.translate_sentences(loaded, lang, [pairs[k].source for k in failing])
            used = provenance(loaded)
            for k, (english, flags, notes) in zip(failing, retried, strict=True):
                again = check_sentence(pairs[k].source, english, lang, checks, self.english_detector)
                pairs[k].notes.append(f"fallback to {fallback}: {'; '.join(problems[k])}")
                if len(again) < len(problems[k]):  # keep whichever output fails fewer checks
                    p = pairs[k]
                    pairs[k] = SentencePair(
                        p.paragraph, p.source, english, lang, fallback, flags, p.notes + notes, p.route
                    )
                    problems[k] = again
        for k in failing:
            pairs[k].flags.extend(f"check: {problem}" for problem in problems[k])
        return used

    def _can_route(self, name: str, lang: str) -> bool:
        spec = self.store.spec(name)
        return spec.family != "nllb" or flores_code(lang) is not None

    def translate_sentences(
        self, loaded: LoadedModel, lang: str, sentences: list[str]
    ) -> list[tuple[str, list[str], list[str]]]:
        """(english, flags, notes) for each sentence, in order; over-long sentences are split first."""
        tok = loaded.tokenizer
        limit = loaded.spec.max_input_tokens - 4  # room for language and end-of-sentence tokens
        _set_source_language(loaded, lang)

        def count(text: str) -> int:
            return len(tok(text, add_special_tokens=False)["input_ids"])

        pieces: list[tuple[int, str]] = []  # (sentence index, piece)
        notes: list[list[str]] = [[] for _ in sentences]
        if lang == "sr" and loaded.spec.family == "nllb":
            sentences = list(sentences)
            for i, sentence in enumerate(sentences):
                if is_latin_text(sentence):
                    # NLLB knows Serbian as srp_Cyrl only: Latin Serbian is written in Cyrillic
                    # (letter for letter, reversibly) rather than passed off as Croatian or Bosnian.
                    sentences[i] = serbian_to_cyrillic(sentence)
                    notes[i].append(SERBIAN_LATIN_NOTE)
        for i, sentence in enumerate(sentences):
            parts = split_long(sentence, limit, count)
            if len(parts) > 1:
                notes[i].append(f"split into {len(parts)} pieces at clause boundaries (over {limit} tokens)")
            pieces += [(i, p) for p in parts]
        # A piece without letters ("1.", "2023", "***") is copied as it is: there is nothing to
        # translate, and a model handed one alone may invent a sentence.
        bare = [not any(ch.isalpha() for ch in p) for _, p in pieces]
        generated = iter(self._generate(loaded, [p for (_, p), b in zip(pieces, bare, strict=True) if not b]))
        outputs = [(p, False) if b else next(generated) for (_, p), b in zip(pieces, bare, strict=True)]
        english: list[list[str]] = [[] for _ in sentences]
        flags: list[list[str]] = [[] for _ in sentences]
        for (i, _), (text, cut) in zip(pieces, outputs, strict=True):
            english[i].append(text)
            if cut and "cut at max_new_tokens" not in flags[i]:
                flags[i].append("cut at max_new_tokens")
        return [(" ".join(e).strip(), f, n) for e, f, n in zip(english, flags, notes, strict=True)]

    def _generate(self, loaded: LoadedModel, texts: list[str]) -> list[tuple[str, bool]]:
        """Translates texts in length-sorted, token-bounded batches; returns (english, was_cut)."""
        tok, dec = loaded.tokenizer, self.options.decoding_for(loaded.spec.family)
        encoded = [tok(t)["input_ids"] for t in texts]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]), reverse=True)
        target = TARGET_FLORES if loaded.spec.family == "nllb" else None
        results: list[tuple[str, bool]] = [("", False)] * len(texts)
        lengths = [len(e) for e in encoded]
        for batch in token_batches(
            order, lengths, self.options.batch_tokens, self.options.max_batch_sentences
        ):
            longest = max(len(encoded[i]) for i in batch)
            budget = min(dec.max_new_tokens, int(longest * dec.max_length_ratio) + 10)
            outputs = loaded.backend.generate_batch(loaded, [encoded[i] for i in batch], budget, dec, target)
            for i, result in zip(batch, outputs, strict=True):
                results[i] = result
        return results


SERBIAN_LATIN_NOTE = "Serbian in Latin letters, transliterated to Cyrillic for NLLB (srp_Cyrl)"
SERBIAN_LATIN_INPUT = "Serbian Latin transliterated to Cyrillic (srp_Cyrl)"


def provenance(loaded: LoadedModel) -> dict[str, str]:
    """What made a translation: the route, the model id, its exact revision and how it ran."""
    spec = loaded.spec
    backend = f"ctranslate2 {spec.quantization}" if spec.backend == "ctranslate2" else "transformers"
    if loaded.vocabulary != "all":  # the whole vocabulary is said nowhere: briefs stay as they were
        backend += f", {loaded.vocabulary} output vocabulary"
    return {"route": loaded.name, "model": spec.id, "revision": loaded.revision, "backend": backend}


def _set_source_language(loaded: LoadedModel, lang: str) -> None:
    if loaded.spec.family == "nllb":
        code = flores_code(lang)
        if code is None:
            raise UnsupportedLanguageError(f"NLLB-200 has no code for {name_of(lang)} ({lang})")
        loaded.tokenizer.src_lang = code
