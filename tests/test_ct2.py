"""The CTranslate2 backend against transformers on the tiny models of the real classes.

Converted without quantization (float32), greedy CTranslate2 must produce exactly the tokens
transformers produces, and score every target token with the same probability: the second check
sees a wrong source mapping, decoder start token or position offset even where a random tiny
model emits the same tokens for every input.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.backends import SummaryDecoding, TransformersBackend
from pipeline.config import Config, load_config
from pipeline.ct2 import (
    LATIN_DIR,
    STAMP_FILE,
    VMAP_FILE,
    CTranslate2Backend,
    convert,
    is_latin_output,
    load_translator,
)
from pipeline.languages import flores_code
from pipeline.models import LoadedModel, ModelStore
from pipeline.tokenizer import load_tokenizer
from pipeline.translate import TARGET_FLORES, DecodingOptions, Translator, provenance
from tests.conftest import ROOT

# tiny model folder → (its name in config.tiny.yaml, source language, sentences)
CASES = {
    "nllb": (
        "tiny-nllb",
        "lt",
        [
            "Vilniaus geležinkelio stotis bus atnaujinta iki 2026 metų.",
            "Vyriausybė pritarė projektui.",
            "Traukiniai į Rygą važiuos dažniau, sakė ministras, o bilietai nebrangs.",
            "Rail Baltica.",
        ],
    ),
    "marian-bg-en": (
        "tiny-marian-bg-en",
        "bg",
        [
            "Влакът пристигна в София рано сутринта.",
            "Правителството одобри проекта.",
            "Министърът каза, че билетите няма да поскъпнат до края на годината.",
        ],
    ),
}
GREEDY = DecodingOptions(num_beams=1, max_length_ratio=1.5, max_new_tokens=64)


@pytest.fixture(scope="module")
def config(tiny_models: Path) -> Config:
    return load_config(ROOT / "config.tiny.yaml")


@pytest.fixture(scope="module")
def store(config: Config) -> ModelStore:
    return ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)


@pytest.fixture(scope="module")
def converted(tiny_models: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ct2")
    return {name: convert(tiny_models / name, out / name, "float32") for name in CASES}


def _ct2_loaded(hf: LoadedModel, path: Path, compute_type: str = "float32") -> LoadedModel:
    translator = load_translator(path, "cpu", 1, compute_type=compute_type)
    return replace(hf, model=translator, backend=CTranslate2Backend())


def _encode(loaded: LoadedModel, lang: str, sentences: list[str]) -> list[list[int]]:
    if loaded.spec.family == "nllb":
        loaded.tokenizer.src_lang = flores_code(lang)
    return [loaded.tokenizer(s)["input_ids"] for s in sentences]


@pytest.mark.parametrize("name", CASES)
def test_greedy_float32_tokens_equal_transformers(name, store, converted):
    import torch

    route, lang, sentences = CASES[name]
    hf = store.load(route)
    tok = hf.tokenizer
    target = TARGET_FLORES if hf.spec.family == "nllb" else None
    ids = _encode(hf, lang, sentences)
    budget = 24
    kwargs = {"num_beams": 1, "max_new_tokens": budget}
    if target:
        kwargs["forced_bos_token_id"] = tok.convert_tokens_to_ids(target)
    with torch.inference_mode():
        out = hf.model.generate(**tok.pad({"input_ids": ids}, return_tensors="pt"), **kwargs)
    translator = load_translator(converted[name], "cpu", 1, compute_type="float32")
    results = translator.translate_batch(
        [tok.convert_ids_to_tokens(i) for i in ids],
        target_prefix=[[target]] * len(ids) if target else None,
        beam_size=1,
        max_decoding_length=budget,
        return_end_token=True,
    )
    forced_eos = hf.model.generation_config.forced_eos_token_id
    for row, result in enumerate(results):
        expected = [t for t in out[row].tolist()[1:] if t != tok.pad_token_id]  # less the start token
        got = tok.convert_tokens_to_ids(result.hypotheses[0])
        if forced_eos is not None and len(expected) == budget and len(got) == budget:
            # transformers forces </s> as the last token of an output that reaches its budget
            # (Marian's forced_eos_token_id); CTranslate2 has no such option.
            assert expected[-1] == forced_eos
            expected, got = expected[:-1], got[:-1]
        assert got == expected, sentences[row]
        assert len(got) >= budget - 1 or got[-1] == tok.eos_token_id


@pytest.mark.parametrize("name", CASES)
def test_float32_scores_equal_transformers(name, store, converted):
    """Each target token's log-probability given the source, computed by both runtimes."""
    import torch

    route, lang, sentences = CASES[name]
    hf = store.load(route)
    tok = hf.tokenizer
    ids = _encode(hf, lang, sentences)
    first = [tok.convert_tokens_to_ids(TARGET_FLORES)] if hf.spec.family == "nllb" else []
    targets = [first + tok("A short English sentence.", add_special_tokens=False)["input_ids"]] * len(ids)
    translator = load_translator(converted[name], "cpu", 1, compute_type="float32")
    scored = translator.score_batch(
        [tok.convert_ids_to_tokens(i) for i in ids], [tok.convert_ids_to_tokens(t) for t in targets]
    )
    start = hf.model.config.decoder_start_token_id
    expected = []
    for row in range(len(ids)):
        decoder_in = torch.tensor([[start, *targets[row]]])
        with torch.inference_mode():
            logits = hf.model(input_ids=torch.tensor([ids[row]]), decoder_input_ids=decoder_in).logits[0]
            if hf.spec.family == "marian":  # <pad>: banned in generation, gone from the converted vocabulary
                logits[:, tok.pad_token_id] = -math.inf
            logp = torch.log_softmax(logits, dim=-1)
        expected.append([logp[i, t].item() for i, t in enumerate([*targets[row], tok.eos_token_id])])

    def distance(a: list[float], b: list[float]) -> float:
        return max(abs(x - y) for x, y in zip(a, b, strict=True))

    for row, result in enumerate(scored):
        assert result.log_probs == pytest.approx(expected[row], abs=1e-4), sentences[row]
        # A random tiny model barely listens to its source, so "close" is not enough: the
        # scores must be closer to those of their own source than to any other sentence's.
        others = [distance(result.log_probs, expected[j]) for j in range(len(ids)) if j != row]
        assert distance(result.log_probs, expected[row]) < min(others), sentences[row]


def test_translator_gives_the_same_english_and_flags_with_either_backend(config, store, converted):
    """The product's batching code, run once per backend on the tiny NLLB (greedy, float32)."""
    route, lang, sentences = CASES["nllb"]
    hf = store.load(route)
    translator = Translator(config.translate.model_copy(update={"decoding": GREEDY}), store)
    with_hf = translator.translate_sentences(hf, lang, sentences)
    with_ct2 = translator.translate_sentences(_ct2_loaded(hf, converted["nllb"]), lang, sentences)
    assert with_ct2 == with_hf
    assert all(english for english, _, _ in with_ct2)


def test_a_marian_output_that_runs_out_of_budget_is_flagged(config, store, converted):
    """transformers forces </s> at Marian's budget, so only CTranslate2 can tell the output was cut."""
    route, lang, sentences = CASES["marian-bg-en"]
    hf = store.load(route)
    translator = Translator(config.translate.model_copy(update={"decoding": GREEDY}), store)
    results = translator.translate_sentences(_ct2_loaded(hf, converted["marian-bg-en"]), lang, sentences)
    assert all(english and flags == ["cut at max_new_tokens"] for english, flags, _ in results)


def test_int8_conversion_runs_generates_and_is_not_redone(store, tiny_models, tmp_path):
    route, lang, sentences = CASES["nllb"]
    out = convert(tiny_models / "nllb", tmp_path / "nllb-int8")  # int8 is the default
    assert (out / STAMP_FILE).is_file()
    written = (out / "model.bin").stat().st_mtime_ns
    assert convert(tiny_models / "nllb", out) == out
    assert (out / "model.bin").stat().st_mtime_ns == written, "an up-to-date conversion was redone"
    assert (out / "model.bin").stat().st_size < (tiny_models / "nllb" / "model.safetensors").stat().st_size

    hf = store.load(route)
    loaded = _ct2_loaded(hf, out, compute_type="auto")
    assert loaded.model.compute_type.startswith("int8")
    ids = _encode(hf, lang, sentences)
    beams = DecodingOptions(num_beams=2, max_new_tokens=12)
    outputs = loaded.backend.generate_batch(loaded, ids, 12, beams, TARGET_FLORES)
    assert len(outputs) == len(sentences)
    for text, cut in outputs:
        assert text and TARGET_FLORES not in text
        assert isinstance(cut, bool)


def test_bart_converts_and_summarizes(store, tiny_models, tmp_path):
    """transformers 5 dropped BartConfig.normalize_before, which the converter's BART loader reads."""
    tok = store.load("tiny-bart").tokenizer
    out = convert(tiny_models / "bart", tmp_path / "bart-int8")
    translator = load_translator(out, "cpu", 1)
    source = tok.convert_ids_to_tokens(tok("The railway opens in 2026. Trains will be faster.")["input_ids"])
    result = translator.translate_batch([source], beam_size=2, min_decoding_length=3, max_decoding_length=8)
    assert 3 <= len(result[0].hypotheses[0]) <= 8


def test_load_translator_names_what_is_wrong(converted):
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        load_translator(converted["nllb"], "mps", 1)
    with pytest.raises(ValueError, match="supported: "):
        load_translator(converted["nllb"], "cpu", 1, compute_type="float16")
    with pytest.raises(FileNotFoundError, match="convert it first"):
        load_translator(converted["nllb"].parent, "cpu", 1)


def test_bart_summaries_equal_transformers_greedy(store, tiny_models, tmp_path):
    """The summarizer's CTranslate2 path: forced <s> prefix, lengths, no-repeat; file-based tokenizer."""
    hf = store.load("tiny-bart")
    out = convert(tiny_models / "bart", tmp_path / "bart-float32", "float32")
    ct2 = replace(
        hf,
        model=load_translator(out, "cpu", 1, compute_type="float32"),
        tokenizer=load_tokenizer(out, "bart"),
        backend=CTranslate2Backend(),
    )
    texts = [
        "The railway opens in 2026. Trains will be faster, the minister said.",
        "Firefighters contained the wildfire after a week. About 1,200 people were evacuated.",
    ]
    for decoding in (SummaryDecoding(1, 4, 12), SummaryDecoding(1, 12, 12)):
        expected = TransformersBackend().summarize_batch(hf, texts, decoding)
        got = CTranslate2Backend().summarize_batch(ct2, texts, decoding)
        for e, g in zip(expected, got, strict=True):
            assert e.strip()
            # transformers forces </s> as the last token of an output that reaches its budget;
            # CTranslate2 writes one more real token there instead.
            assert g == e or (g.startswith(e) and len(g.split()) <= len(e.split()) + 1), (e, g)


def test_a_ctranslate2_digest_never_imports_torch(tiny_models, tmp_path):
    """Every model on CTranslate2 (as config.yaml ships): the nightly process stays torch-free."""
    import subprocess
    import sys

    import yaml

    config = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    for spec in config["models"].values():
        spec["backend"] = "ctranslate2"
        spec["path"] = str(ROOT / spec["path"])
    config["paths"] = {"input": str(ROOT / "inbox"), "output": str(tmp_path / "out"), "models": str(tmp_path)}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    python = [sys.executable, "-m", "pipeline"]
    subprocess.run([*python, "models", "convert", "--config", str(path)], check=True, capture_output=True)
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipeline", "digest", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "import time:" in line}
    assert "ctranslate2" in imported and "tokenizers" in imported
    assert not imported & {"torch", "transformers"}
    briefs = list((tmp_path / "out" / "briefs").glob("*.md"))
    assert len(briefs) == 6
    text = "\n".join(b.read_text(encoding="utf-8") for b in briefs)
    assert "ctranslate2 int8" in text and "summary_model: newsbrief-fixtures/tiny-bart" in text


def test_the_latin_output_vocabulary_keeps_only_what_english_can_use(store, converted):
    """latin/vmap.txt: Latin letters, digits, punctuation; used, a translation never leaves it."""
    vmap = (converted["nllb"] / LATIN_DIR / VMAP_FILE).read_text(encoding="utf-8")
    assert vmap.startswith("\t") and vmap.count("\n") == 1
    kept = set(vmap.split())
    vocabulary = json.loads((converted["nllb"] / "shared_vocabulary.json").read_text(encoding="utf-8"))
    dropped = [t for t in vocabulary if t not in kept]
    assert {".", ",", "▁"} <= kept
    assert any("а" <= c <= "я" for t in dropped for c in t)  # Cyrillic pieces are out
    assert any("ა" <= c <= "ჰ" for t in dropped for c in t)  # Georgian pieces are out
    assert all(is_latin_output(t) for t in kept)
    assert not (converted["marian-bg-en"] / LATIN_DIR / VMAP_FILE).read_text(encoding="utf-8").count("а")

    hf = store.load("tiny-nllb")
    spec = hf.spec.model_copy(update={"backend": "ctranslate2", "output_vocabulary": "latin"})
    loaded = replace(_ct2_loaded(hf, converted["nllb"] / LATIN_DIR), spec=spec, vocabulary="latin")
    ids = _encode(loaded, "ka", ["საპროტესტო აქციაზე 10 000 ადამიანი შეიკრიბა.", "Влакът пристигна рано."])
    allowed = kept | {"</s>", "<unk>", "<s>", TARGET_FLORES}
    results = loaded.model.translate_batch(
        [hf.tokenizer.convert_ids_to_tokens(i) for i in ids],
        target_prefix=[[TARGET_FLORES]] * 2,
        beam_size=2,
        max_decoding_length=16,
        use_vmap=True,
    )
    for result in results:
        assert set(result.hypotheses[0]) <= allowed
    outputs = CTranslate2Backend().generate_batch(loaded, ids, 16, GREEDY, TARGET_FLORES)
    assert all(text for text, _ in outputs)
    assert provenance(loaded)["backend"] == "ctranslate2 int8, latin output vocabulary"


def test_latin_output_vocabulary_is_refused_where_it_cannot_apply():
    from pydantic import ValidationError

    from pipeline.models import ModelSpec

    with pytest.raises(ValidationError, match="needs backend ctranslate2"):
        ModelSpec(id="a/b", family="nllb", output_vocabulary="latin")
    with pytest.raises(ValidationError, match="needs backend ctranslate2"):
        ModelSpec(id="a/b", family="bart", backend="ctranslate2", output_vocabulary="latin")


def test_a_conversion_from_an_older_newsbrief_is_reported_and_redone(config, tmp_path):
    """An old copy lacks the tokenizer files: `models list` says so, `models convert` redoes it."""
    from pipeline.errors import ModelMissingError

    specs = {name: spec.model_copy(update={"backend": "ctranslate2"}) for name, spec in config.models.items()}
    store = ModelStore(tmp_path, specs, config.runtime, config.base_dir)
    with pytest.raises(ModelMissingError, match="has no CTranslate2 int8 copy"):
        store.local_path("tiny-marian-bg-en")
    folder = store.convert("tiny-marian-bg-en")
    stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    stamp["layout"] = 1  # as written before the tokenizer files were saved beside the model
    (folder / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
    (folder / "vocab.json").unlink()
    with pytest.raises(ModelMissingError, match="has an outdated CTranslate2 int8 copy: run `make models`"):
        store.local_path("tiny-marian-bg-en")
    assert store.convert("tiny-marian-bg-en") == folder
    assert (folder / "vocab.json").is_file() and store.load("tiny-marian-bg-en").backend
