"""Serbian in Latin letters reaches NLLB-200 (which knows it as srp_Cyrl) written in Cyrillic."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.backends import TransformersBackend
from pipeline.config import Config
from pipeline.run import Pipeline
from pipeline.translate import SERBIAN_LATIN_NOTE


@pytest.fixture(scope="module")
def pipeline(tiny_models, tmp_path_factory) -> Pipeline:
    from pipeline.config import Paths, load_config
    from tests.conftest import ROOT

    config: Config = load_config(ROOT / "config.tiny.yaml")
    out = tmp_path_factory.mktemp("out")
    paths = Paths(input=out, output=out / "briefs", models=config.paths.models)
    return Pipeline(config.model_copy(update={"paths": paths}))


def test_latin_serbian_is_transliterated_and_the_sentence_says_so(pipeline: Pipeline) -> None:
    loaded = pipeline.store.load("tiny-nllb")
    seen: list[list[int]] = []

    class Spy(TransformersBackend):
        def generate_batch(self, loaded, input_ids, max_new_tokens, decoding, target_token):
            seen.extend(input_ids)
            return super().generate_batch(loaded, input_ids, max_new_tokens, decoding, target_token)

    loaded.backend = Spy()
    sentences = ["Vlada je juče usvojila novi zakon.", "Влада је јуче усвојила нови закон."]
    results = pipeline.translator.translate_sentences(loaded, "sr", sentences)
    tok = loaded.tokenizer
    assert all(ids[0] == tok.convert_tokens_to_ids("srp_Cyrl") for ids in seen)
    assert [SERBIAN_LATIN_NOTE in notes for _, _, notes in results] == [True, False]
    # Both spellings of the sentence reach the model as the same Cyrillic text.
    assert sorted(seen[0]) == sorted(seen[1])


def test_the_brief_says_latin_serbian_went_in_as_cyrillic(pipeline: Pipeline) -> None:
    from pipeline.article import Article
    from pipeline.langid import Detection, Guess
    from pipeline.translate import SERBIAN_LATIN_INPUT

    text = "Vlada je juče usvojila novi zakon o železnici."
    article = Article(Path("sr.txt"), "sr.txt", "0" * 64, "utf-8", paragraphs=[text])
    article.detection = Detection("sr", 0.9, "sr", [Guess("sr", 0.9)])
    translation = pipeline.translator.translate_article(article)
    assert translation.models["sr"]["input"] == SERBIAN_LATIN_INPUT
