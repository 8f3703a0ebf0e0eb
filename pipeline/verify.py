"""`newsbrief models verify`: each routed model translates or summarizes a few short built-in
texts, and its output goes through the same checks as every brief's (English, not a copy, no
loop, a sane length).

A checkpoint that produces garbage (tc-big Marian checkpoints did under transformers 4.31 until
they were re-uploaded, transformers #26271) or a copy converted with the wrong settings is then
caught the day it is downloaded, with one line per model and a non-zero exit, instead of in the
briefs. `make models` runs it after downloading, and `newsbrief doctor` runs it too.

The texts below were written for this check: plain news sentences, two per language, long
enough (over `checks.min_chars`) for every check to apply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.checks import check_sentence, check_summary
from pipeline.errors import ArticleError

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.models import ModelStore

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


@dataclass
class Verdict:
    name: str
    model_id: str
    outputs: int = 0
    failures: list[str] = field(default_factory=list)  # "lang: problem; problem"
    error: str | None = None  # the model could not run at all
    languages: list[str] = field(default_factory=list)

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
