"""Translation with tiny random-weight models of the real classes: routes, codes, no sentence lost."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from pipeline.article import Article
from pipeline.backends import TransformersBackend, generate_kwargs
from pipeline.checks import CheckOptions, check_sentence, repetition
from pipeline.config import Config
from pipeline.errors import UnsupportedLanguageError
from pipeline.langid import Detection, Guess, LanguageDetector
from pipeline.languages import table
from pipeline.run import EXIT_OK, Pipeline, run_digest
from pipeline.segment import split_sentences
from pipeline.translate import PASSTHROUGH, DecodingOptions
from tests.conftest import ROOT


def make_article(paragraphs: list[str], lang: str) -> Article:
    article = Article(Path("x.txt"), "x.txt", "0" * 64, "utf-8", paragraphs=paragraphs)
    article.detection = Detection(lang, 1.0, lang, [Guess(lang, 1.0) for _ in paragraphs])
    return article


def corpus_sentences(lang: str, n: int) -> list[str]:
    lines = (ROOT / "tests" / "fixtures" / "corpus" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
    sentences = [s for line in lines for s in split_sentences(line, lang) if len(s) > 20 and s[-1] in ".!?"]
    return [sentences[i % len(sentences)] for i in range(n)]


@pytest.fixture
def pipeline(tiny_config: Config) -> Pipeline:
    return Pipeline(tiny_config)


def test_routes_follow_config(pipeline: Pipeline):
    route = pipeline.translator.route_for
    assert (route("lt"), route("bg"), route("ka"), route("az"), route("en")) == (
        "tiny-marian-lt-en", "tiny-marian-bg-en", "tiny-nllb", "tiny-nllb", PASSTHROUGH,
    )  # fmt: skip
    with pytest.raises(UnsupportedLanguageError, match="Latin"):
        route("la")


def test_every_language_the_detector_can_output_has_a_route():
    config = Config.model_validate(yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")))
    pipeline = Pipeline(config)
    from lingua import Language

    codes = {lang.iso_code_639_1.name.lower() for lang in Language.all()}
    unsupported = {"la"}  # Latin: NLLB-200 has no Latin; such articles fail with a clear message
    for code in sorted(codes - unsupported):
        name = pipeline.translator.route_for(code)
        assert name == PASSTHROUGH or name in config.models, code
    assert len([c for c, info in table().items() if info.flores]) == 202  # the whole FLORES-200 map


def test_nllb_gets_its_source_code_first_and_is_forced_to_english(pipeline: Pipeline):
    loaded = pipeline.store.load("tiny-nllb")
    tok = loaded.tokenizer
    seen: list[list[int]] = []

    class Spy(TransformersBackend):
        def generate_batch(self, loaded, input_ids, max_new_tokens, decoding, target_token):
            seen.extend(input_ids)
            assert target_token == "eng_Latn"
            return super().generate_batch(loaded, input_ids, max_new_tokens, decoding, target_token)

    loaded.backend = Spy()
    pipeline.translator.translate_sentences(loaded, "ka", ["საქართველოს რკინიგზამ ახალი მარშრუტი გახსნა."])
    assert seen[0][0] == tok.convert_tokens_to_ids("kat_Geor") and seen[0][-1] == tok.eos_token_id
    kwargs = generate_kwargs(tok, 8, DecodingOptions(num_beams=1), "eng_Latn")
    out = loaded.model.generate(torch.tensor(seen[:1]), **kwargs)
    assert out[0][1].item() == tok.convert_tokens_to_ids("eng_Latn")  # first generated token


def test_marian_gets_no_language_codes(pipeline: Pipeline):
    loaded = pipeline.store.load("tiny-marian-lt-en")
    ids = loaded.tokenizer("Vilniuje vakar pasirašyta sutartis.")["input_ids"]
    tokens = loaded.tokenizer.convert_ids_to_tokens(ids)
    assert tokens[-1] == "</s>" and not any(t.startswith(">>") for t in tokens)


def test_three_hundred_sentences_come_back_in_order(pipeline: Pipeline):
    sentences = [f"{s[:-1]} ({i})." for i, s in enumerate(corpus_sentences("lt", 300))]
    paragraphs = [" ".join(sentences[i : i + 10]) for i in range(0, 300, 10)]
    translation = pipeline.translator.translate_article(make_article(paragraphs, "lt"))
    assert [p.source for p in translation.pairs] == sentences
    assert all(p.english for p in translation.pairs)
    assert len(translation.paragraphs()) == 30  # paragraph breaks kept


def test_a_piece_without_letters_is_copied_not_translated(pipeline: Pipeline):
    # A Ukrainian decree's points come out of the splitter as "1." and "2."; a random-weight model
    # would turn them into tokens of its vocabulary, so an unchanged "1." shows it never ran on them.
    loaded = pipeline.store.load("tiny-nllb")
    sentence = corpus_sentences("ka", 1)[0]
    out = pipeline.translator.translate_sentences(loaded, "ka", ["1.", sentence, "2.", "***", "2023 - 2024"])
    assert [english for english, _, _ in out][::2] == ["1.", "2.", "2023 - 2024"]
    assert out[3][0] == "***" and out[1][0]
    assert all(not out[i][1] for i in (0, 2, 3, 4))  # nothing to flag in a copy


def test_a_sentence_of_two_thousand_tokens_is_split_not_cut(pipeline: Pipeline):
    loaded = pipeline.store.load("tiny-nllb")
    words = " ".join(corpus_sentences("ka", 400)).replace(".", ",")
    count = len(loaded.tokenizer(words, add_special_tokens=False)["input_ids"])
    assert count >= 2000
    ((english, flags, notes),) = pipeline.translator.translate_sentences(loaded, "ka", [words])
    assert english and "split into" in notes[0]
    pieces = int(notes[0].split("split into ")[1].split()[0])
    assert pieces >= count // loaded.spec.max_input_tokens


def test_output_checks_catch_known_failures():
    options = CheckOptions()
    source = "Ši sutartis buvo pasirašyta vakar Vilniuje, sakė ministras."
    assert check_sentence(source, source, "lt", options, None) == ["copy of the source"]
    assert check_sentence(source, "", "lt", options, None) == ["empty output"]
    assert (
        "repetition loop"
        in check_sentence(source, "the deal the deal the deal the deal was", "lt", options, None)[0]
    )
    assert "length ratio" in check_sentence(source, "Yes.", "lt", options, None)[0]
    detector = LanguageDetector()
    german = "Dieser Vertrag wurde gestern in Vilnius unterzeichnet, sagte der Minister."
    assert "not English" in check_sentence(source, german, "lt", options, detector)[0]
    good = "This agreement was signed in Vilnius yesterday, the minister said."
    assert check_sentence(source, good, "lt", options, detector) == []
    assert repetition("a b c d e f", 4) is None


def test_a_copying_model_is_caught_and_retried_on_the_fallback(tiny_config: Config):
    checks = CheckOptions(enabled=True)
    config = tiny_config.model_copy(
        update={"translate": tiny_config.translate.model_copy(update={"checks": checks})}
    )
    pipeline = Pipeline(config)
    loaded = pipeline.store.load("tiny-marian-lt-en")

    class CopyBackend(TransformersBackend):
        """A model that copies its input through: the failure the checks exist for."""

        def generate_batch(self, loaded, input_ids, max_new_tokens, decoding, target_token):
            return [(loaded.tokenizer.decode(ids, skip_special_tokens=True), False) for ids in input_ids]

    loaded.backend = CopyBackend()
    sentence = "Bendrovės vadovas teigė, kad sutartis su partneriais jau duoda rezultatų."
    translation = pipeline.translator.translate_article(make_article([sentence], "lt"))
    (pair,) = translation.pairs
    assert pair.fallback_from == "tiny-marian-lt-en" or "fallback to tiny-nllb" in pair.notes[0]
    assert "copy of the source" in pair.notes[0]
    assert translation.models["fallback"]["model"] == "newsbrief-fixtures/tiny-nllb"
    assert translation.fallback_count == 1


def test_failing_sentences_are_marked_and_counted_in_brief_and_digest(tiny_config: Config):
    checks = CheckOptions(enabled=True, length_ratio=(50.0, 100.0))  # no translation can pass this
    config = tiny_config.model_copy(
        update={"translate": tiny_config.translate.model_copy(update={"checks": checks})}
    )
    result = run_digest(config)
    assert result.exit_code == EXIT_OK  # flagged sentences are kept and reported, not failures
    briefs = [b.read_text(encoding="utf-8") for b in (config.output_dir / "briefs").glob("*-lt-*.md")]
    (text,) = [t for t in briefs if "source_file: lt-railway.txt" in t]
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert front["fallback_sentences"] >= 1
    assert any("retried on newsbrief-fixtures/tiny-nllb" in w for w in front["warnings"])
    assert any("flagged in translation" in w for w in front["warnings"])
    assert "[⚠ " in text and "check: " in text and "outside 50-100" in text  # after "cut at max_new_tokens"
    assert front["translation"]["fallback"]["model"] == "newsbrief-fixtures/tiny-nllb"
    assert front["decoding"]["lt"]["num_beams"] == config.translate.decoding.num_beams


def test_at_most_n_models_stay_loaded(tiny_config: Config):
    runtime = tiny_config.runtime.model_copy(update={"max_loaded_models": 1})
    pipeline = Pipeline(tiny_config.model_copy(update={"runtime": runtime}))
    for name in ("tiny-marian-lt-en", "tiny-nllb", "tiny-marian-lt-en"):
        pipeline.store.load(name)
    assert pipeline.store.loads == 3 and pipeline.store.loaded_names() == ["tiny-marian-lt-en"]
    pipeline.store.load("tiny-marian-lt-en")
    assert pipeline.store.loads == 3  # already loaded: not read again


def test_a_route_can_run_on_ctranslate2_int8(tiny_config: Config, tmp_path: Path):
    from pipeline.errors import ModelMissingError

    models = dict(tiny_config.models)
    models["tiny-marian-lt-en"] = models["tiny-marian-lt-en"].model_copy(update={"backend": "ctranslate2"})
    paths = tiny_config.paths.model_copy(update={"models": tmp_path / "store"})  # converted copies go here
    pipeline = Pipeline(tiny_config.model_copy(update={"models": models, "paths": paths}))
    with pytest.raises(ModelMissingError, match="newsbrief models convert"):
        pipeline.store.local_path("tiny-marian-lt-en")
    out = pipeline.store.convert("tiny-marian-lt-en")
    assert (out / "model.bin").is_file() and out.name.endswith("-int8")
    sentences = corpus_sentences("lt", 12)
    translation = pipeline.translator.translate_article(make_article([" ".join(sentences)], "lt"))
    assert [p.source for p in translation.pairs] == sentences and all(p.english for p in translation.pairs)
    assert translation.models["lt"]["backend"] == "ctranslate2 int8"
    assert translation.models["lt"]["revision"].startswith("local-")


def test_articles_translated_together_fail_alone(tiny_config: Config, tmp_path: Path):
    """A group shares batches, but one article's problem (here: its Georgian paragraph needs a
    model that is missing) fails that article only; a Latin paragraph is kept and flagged."""
    from pipeline.models import ModelSpec

    inbox = tiny_config.input_dir
    for p in inbox.iterdir():
        p.unlink()
    lt = corpus_sentences("lt", 40)
    ka = " ".join(corpus_sentences("ka", 3))
    latin = (
        "Gallia est omnis divisa in partes tres, quarum unam incolunt Belgae, aliam Aquitani, tertiam Galli."
    )
    for i in range(4):
        body = "\n".join(lt[i * 8 : i * 8 + 8])
        (inbox / f"lt-{i}.txt").write_text(f"date 2025-01-0{i + 1}\n{body}\n", encoding="utf-8")
    (inbox / "lt-with-georgian.txt").write_text("\n".join(lt[32:40]) + f"\n{ka}\n", encoding="utf-8")
    (inbox / "lt-with-latin.txt").write_text("\n".join(lt[:6]) + f"\n{latin}\n", encoding="utf-8")
    models = dict(tiny_config.models)
    models["tiny-nllb"] = ModelSpec(
        id="newsbrief-fixtures/tiny-nllb", path=str(tmp_path / "gone"), family="nllb"
    )
    config = tiny_config.model_copy(update={"models": models})
    result = run_digest(config)
    assert [f.source_file for f in result.failed] == ["lt-with-georgian.txt"]
    assert "tiny-nllb" in result.failed[0].reason
    assert result.processed == 5
    (latin_brief,) = [
        b.read_text(encoding="utf-8")
        for b in (config.output_dir / "briefs").glob("*.md")
        if "source_file: lt-with-latin.txt" in b.read_text(encoding="utf-8")
    ]
    assert "not translated: no route translates Latin (la)" in latin_brief
