"""`newsbrief models verify`: each routed model translates or summarizes a few short built-in
texts, and its output goes through the same checks as every brief's (English, not a copy, no
loop, a sane length).

A checkpoint that produces garbage (tc-big Marian checkpoints did under transformers 4.31 until
they were re-uploaded, transformers #26271) or a copy converted with the wrong settings is then
caught the day it is downloaded, with one line per model and a non-zero exit, instead of in the
briefs. `make models` runs it after downloading, and `newsbrief doctor` runs it too.

The texts below were written for this check: plain news sentences, two per language, long
enough (over `checks.min_chars`) for every check to apply.

It also decides whether a CTranslate2 translation model with `output_vocabulary: auto` decodes
with its English output vocabulary (`vmap.txt`, written by `models convert`): the texts of every
language routed to it are translated with the whole vocabulary and with the map, beam for beam
(`compare_vocabularies`). The map is switched on only when the outputs pass the checks and every
beam is the same, or differs only where the whole vocabulary chose a piece the map leaves out (a
non-English piece, counted and shown), in at most `MAX_NON_ENGLISH_SHARE` of the texts. The
decision and its evidence go into models/models.lock.json, for this converted copy and map only.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.checks import check_sentence, check_summary
from pipeline.errors import ArticleError

if TYPE_CHECKING:
    from pipeline.backends import LoadedModel
    from pipeline.config import Config
    from pipeline.models import ModelStore
    from pipeline.translate import Translator

log = logging.getLogger("newsbrief.verify")

SENTENCES: dict[str, list[str]] = {
    "bg": [
        "Правителството одобри новия бюджет след дълъг дебат в парламента.",
        "Цените на горивата са се повишили с три процента през март.",
    ],
    "lt": [
        "Vyriausybė po ilgų diskusijų Seime patvirtino naująjį biudžetą.",
        "Degalų kainos kovo mėnesį pakilo trimis procentais.",
    ],
    "ka": [
        "მთავრობამ პარლამენტში ხანგრძლივი დებატების შემდეგ ახალი ბიუჯეტი დაამტკიცა.",
        "საწვავის ფასები მარტში სამი პროცენტით გაიზარდა.",
    ],
    "az": [
        "Hökumət parlamentdə uzun müzakirələrdən sonra yeni büdcəni təsdiqləyib.",
        "Mart ayında yanacağın qiyməti üç faiz artıb.",
    ],
    "de": [
        "Die Regierung hat nach einer langen Debatte im Parlament den neuen Haushalt beschlossen.",
        "Die Treibstoffpreise sind im März um drei Prozent gestiegen.",
    ],
    "fr": [
        "Le gouvernement a adopté le nouveau budget après un long débat au Parlement.",
        "Les prix des carburants ont augmenté de trois pour cent en mars.",
    ],
    "es": [
        "El Gobierno aprobó el nuevo presupuesto tras un largo debate en el Parlamento.",
        "Los precios del combustible subieron un tres por ciento en marzo.",
    ],
    "ru": [
        "Правительство утвердило новый бюджет после долгих дебатов в парламенте.",
        "Цены на топливо в марте выросли на три процента.",
    ],
    "uk": [
        "Уряд ухвалив новий бюджет після тривалих дебатів у парламенті.",
        "Ціни на пальне в березні зросли на три відсотки.",
    ],
    "pl": [
        "Rząd przyjął nowy budżet po długiej debacie w parlamencie.",
        "Ceny paliw wzrosły w marcu o trzy procent.",
    ],
}
# The summarizer's texts: English news paragraphs, summarized as an article is.
ARTICLES = [
    "The city council approved a new budget on Tuesday after a debate that lasted more than six "
    "hours. The plan raises spending on public transport by twelve percent and funds two new "
    "schools in the northern districts. Opposition members said the budget relies on optimistic "
    "tax forecasts and voted against it. The mayor said construction of the schools would begin "
    "in the spring and that bus fares would not rise this year. The budget passed by 31 votes to 18.",
    "Heavy rain caused flooding in several villages along the river on Sunday, forcing about 400 "
    "people to leave their homes. Emergency services said no one was injured, but dozens of roads "
    "were closed and power was cut to nearly 2,000 households. The regional government promised "
    "compensation for damaged houses and said it would review the state of the river embankments. "
    "Forecasters expect the water level to fall by Wednesday.",
]
NLLB_SAMPLE = 3  # languages a default (NLLB) route is verified on, beyond those routed to it
FAIL_SHARE = 1 / 3  # a model fails when more than this share of its outputs fail a check
# The English map stays off when the whole vocabulary chose a non-English piece in more than this
# share of the texts: a model that does so that often is not writing English, and the map would
# hide it rather than match it.
MAX_NON_ENGLISH_SHARE = 0.25
SHOWN = 5  # differences quoted in the evidence, per kind


@dataclass
class Verdict:
    name: str
    model_id: str
    outputs: int = 0
    failures: list[str] = field(default_factory=list)  # "lang: problem; problem"
    error: str | None = None  # the model could not run at all
    languages: list[str] = field(default_factory=list)
    vocabulary: str | None = None  # what the output vocabulary self-test decided, in words

    @property
    def ok(self) -> bool:
        return self.error is None and self.outputs > 0 and len(self.failures) <= self.outputs * FAIL_SHARE

    def line(self) -> str:
        """The one line `models verify` prints for this model."""
        head = f"{self.name}: {self.model_id}"
        what = f" ({', '.join(self.languages)})" if self.languages else ""
        if self.error is not None:
            return f"{head}: NOT VERIFIED: {self.error}"
        passed = self.outputs - len(self.failures)
        if self.ok:
            return f"{head}: ok, {passed} of {self.outputs} outputs pass the output checks{what}"
        example = self.failures[0]
        return (
            f"{head}: FAILED: {len(self.failures)} of {self.outputs} outputs fail the output checks{what}, "
            f"e.g. {example}; the checkpoint produces garbage or was converted with the wrong settings: "
            "check its revision in config.yaml, then `newsbrief models convert --force`"
        )


def languages_for(config: Config, name: str) -> list[str]:
    """The built-in languages a translation model is verified on: those routed to it, and for the
    default route a few more that no other route takes."""
    routed = sorted(lang for lang, model in config.translate.routes.items() if model == name)
    langs = [lang for lang in routed if lang in SENTENCES]
    if name == config.translate.default:
        taken = set(config.translate.routes)
        langs += [lang for lang in SENTENCES if lang not in taken][:NLLB_SAMPLE]
    return langs


def verify_models(config: Config, names: list[str], store: ModelStore | None = None) -> list[Verdict]:
    """One verdict per model name (translation models and the summarizer), in order."""
    from pipeline.backends import SummaryDecoding
    from pipeline.langid import LanguageDetector
    from pipeline.models import ModelStore
    from pipeline.translate import Translator

    store = store or ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)
    # The checks run even where config.yaml switches them off for briefs (config.tiny.yaml):
    # verifying a model is asking exactly what they answer.
    checks = config.translate.checks.model_copy(update={"enabled": True})
    expected = config.detect.languages
    detect = (
        config.detect.model_copy(update={"languages": sorted({*expected, "en"})})
        if expected
        else config.detect
    )
    detector = LanguageDetector(detect)
    translator = Translator(config.translate, store, config.segment, detector)
    verdicts = []
    for name in names:
        spec = store.spec(name)
        verdict = Verdict(name, spec.id)
        try:
            loaded = store.load(name)
            if spec.family == "bart":
                o = config.summarize
                decoding = SummaryDecoding(o.num_beams, o.min_new_tokens, o.max_new_tokens)
                summaries = loaded.backend.summarize_batch(loaded, ARTICLES, decoding)
                verdict.languages = ["en"]
                for source, summary in zip(ARTICLES, summaries, strict=True):
                    _record(verdict, "summary", summary, check_summary(source, summary, checks, detector))
            else:
                verdict.languages = languages_for(config, name)
                if not verdict.languages:
                    verdict.error = "no built-in sentences in the languages routed to it"
                for lang in verdict.languages:
                    results = translator.translate_sentences(loaded, lang, SENTENCES[lang])
                    for source, (english, flags, _) in zip(SENTENCES[lang], results, strict=True):
                        problems = check_sentence(source, english, lang, checks, detector)
                        problems += [f for f in flags if f.startswith("cut")]
                        _record(verdict, lang, english, problems)
                if spec.backend == "ctranslate2" and spec.output_vocabulary == "auto" and verdict.languages:
                    langs = vocabulary_languages(config, name)
                    evidence = compare_vocabularies(loaded, translator, langs, store.ct2_path(name))
                    decision = decide(evidence, verdict.ok)
                    store.record_vocabulary_decision(name, decision)
                    verdict.vocabulary = describe(decision)
        except ArticleError as exc:  # the model is missing, or cannot translate the language
            verdict.error = str(exc)
        log.debug("%s: %d outputs, %d failing", name, verdict.outputs, len(verdict.failures))
        verdicts.append(verdict)
    return verdicts


def _record(verdict: Verdict, what: str, output: str, problems: list[str]) -> None:
    verdict.outputs += 1
    if problems:
        shown = output if len(output) <= 60 else output[:57] + "…"
        verdict.failures.append(f"{what} {shown!r}: {'; '.join(problems)}")


# ---- the output vocabulary self-test ---------------------------------------------------------


def vocabulary_languages(config: Config, name: str) -> list[str]:
    """Every built-in language a translation model translates: those routed to it, and for the
    default route all that no other route takes."""
    langs = [lang for lang, model in sorted(config.translate.routes.items()) if model == name]
    if name == config.translate.default:
        langs += [lang for lang in SENTENCES if lang not in config.translate.routes]
    return [lang for lang in langs if lang in SENTENCES]


def compare_beams(full: list[list[str]], mapped: list[list[str]], english: set[str]) -> tuple[str, str]:
    """How one text's final beams (best first) with the whole vocabulary and with the English map
    compare: `same`; `non-English` (they differ only where the whole vocabulary chose a piece the
    map leaves out); or `different`. With the reason in words."""
    if full == mapped:
        return "same", ""
    foreign = sorted({t for t in full[0] if t not in english})
    # Every beam the whole vocabulary built from English pieces alone must still be there, in
    # the same order: the map may only remove candidates, never rescore the rest.
    english_beams = [h for h in full if all(t in english for t in h)]
    kept = [h for h in mapped if h in english_beams]
    if kept != english_beams:
        return "different", "a beam made of English pieces only was lost or reordered"
    if full[0] != mapped[0] and not foreign:
        return "different", "the best beam changed although it holds English pieces only"
    more = f" (+{len(foreign) - 8} more)" if len(foreign) > 8 else ""
    return "non-English", f"the whole vocabulary chose {' '.join(foreign[:8]) or 'a non-English piece'}{more}"


def compare_vocabularies(
    loaded: LoadedModel, translator: Translator, languages: list[str], folder: Any
) -> dict[str, Any]:
    """Translates the built-in texts of `languages` with the whole vocabulary and with the English
    map (the `vmap.txt` in `folder`), keeping every final beam; returns the evidence."""
    from pipeline.ct2 import read_vmap, translate_ids
    from pipeline.translate import TARGET_FLORES, _set_source_language

    english = read_vmap(folder)
    dec = translator.options.decoding_for(loaded.spec.family)
    target = TARGET_FLORES if loaded.spec.family == "nllb" else None
    evidence: dict[str, Any] = {
        "languages": languages,
        "beams": dec.num_beams,
        "map_tokens": len(english),
        "texts": 0,
        "same": 0,
        "non_english": [],
        "different": [],
    }
    if not english:
        evidence["different"].append("the converted copy has no English map (vmap.txt)")
        return evidence
    tok = loaded.tokenizer
    for lang in languages:
        _set_source_language(loaded, lang)
        ids = [tok(text)["input_ids"] for text in SENTENCES[lang]]
        budget = min(dec.max_new_tokens, int(max(map(len, ids)) * dec.max_length_ratio) + 10)
        runs = [
            translate_ids(loaded, ids, budget, dec, target, use_vmap=use, hypotheses=dec.num_beams)
            for use in (False, True)
        ]
        for text, full, mapped in zip(SENTENCES[lang], *runs, strict=True):
            kind, why = compare_beams(full.hypotheses, mapped.hypotheses, english)
            evidence["texts"] += 1
            if kind == "same":
                evidence["same"] += 1
                continue
            shown = text if len(text) <= 50 else text[:47] + "…"
            before, after = _text(tok, full.hypotheses[0]), _text(tok, mapped.hypotheses[0])
            line = f"{lang} {shown!r}: {why}: {before!r} → {after!r}"
            evidence["non_english" if kind == "non-English" else "different"].append(line)
    return evidence


def decide(evidence: dict[str, Any], checks_passed: bool) -> dict[str, Any]:
    """The decision `models verify` records: `english` or `all`, the reason, and the evidence
    (the differences, `SHOWN` of each kind, with their counts)."""
    texts, foreign, different = evidence["texts"], evidence["non_english"], evidence["different"]
    if not checks_passed:
        vocabulary, reason = "all", "the model's outputs fail the output checks, so they prove nothing"
    elif different:
        vocabulary, reason = "all", f"{len(different)} of {texts} texts translate differently with the map"
    elif not texts:
        vocabulary, reason = "all", "no built-in text to compare"
    elif len(foreign) > texts * MAX_NON_ENGLISH_SHARE:
        vocabulary, reason = (
            "all",
            f"the whole vocabulary chose non-English pieces in {len(foreign)} of {texts} texts",
        )
    else:
        vocabulary = "english"
        reason = f"{evidence['same']} of {texts} texts identical beam for beam"
        if foreign:
            reason += f", {len(foreign)} differing only where the whole vocabulary chose a non-English piece"
    return {
        "vocabulary": vocabulary,
        "reason": reason,
        "verified": dt.datetime.now(dt.UTC).date().isoformat(),
        "evidence": {
            **{k: v for k, v in evidence.items() if k not in ("non_english", "different")},
            "non_english": len(foreign),
            "different": len(different),
            "shown": (foreign[:SHOWN] + different[:SHOWN]),
        },
    }


def describe(decision: dict[str, Any]) -> str:
    """The line `models verify` prints for the decision."""
    on = decision["vocabulary"] == "english"
    size = decision["evidence"].get("map_tokens", 0)
    state = f"English map ON ({size:,} tokens)" if on else "whole vocabulary (English map off)"
    shown = "".join(f"\n    {line}" for line in decision["evidence"]["shown"])
    return f"output vocabulary: {state}: {decision['reason']}{shown}"


def _text(tok: Any, tokens: list[str]) -> str:
    ids = tok.convert_tokens_to_ids(tokens)
    text = tok.decode(ids, skip_special_tokens=True).strip()
    return text if len(text) <= 60 else text[:57] + "…"
