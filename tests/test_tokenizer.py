"""The file-based tokenizers of the CTranslate2 routes give exactly what transformers gives.

On the tiny models of each real class: the same ids with and without special tokens (NLLB's
source-language code first, BART's <s>, Marian's lone </s>), the same token strings, and the same
text back from any ids, special tokens skipped or kept.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.tokenizer import TokenizerFilesError, load_hf_tokenizer, load_tokenizer, save_tokenizer

TEXTS = [
    "Vilniaus geležinkelio stotis bus atnaujinta iki 2026 m. rugpjūčio.",
    "Влакът пристигна в София рано сутринта, т.е. преди 7 ч.",
    "ე.წ. საპროტესტო აქციაზე 10 000 ადამიანი შეიკრიბა.",
    'The railway opens in 2026. Trains will be "faster" - isn\'t it?',
    "  Spaces   and\ttabs… 3.5 %  ",
    "Azərbaycan Ünïcödé ğ ş — «quotes» [brackets] (D. Trumpo)",
    "",
    # Article text that spells special tokens stays text (see test_text_never_becomes_special_tokens).
    "A file named <mask> </s> <pad> <unk> <s> eng_Latn >>fra<< in a lit_Latn manual.",
]
MODELS = {"nllb": "nllb", "marian-bg-en": "marian", "marian-lt-en": "marian", "bart": "bart"}


@pytest.fixture(scope="module", params=sorted(MODELS))
def pair(request, tiny_models: Path, tmp_path_factory: pytest.TempPathFactory):
    name, family = request.param, MODELS[request.param]
    out = tmp_path_factory.mktemp(name)
    save_tokenizer(tiny_models / name, out, family)
    hf, ours = load_hf_tokenizer(tiny_models / name), load_tokenizer(out, family)
    if family == "nllb":
        hf.src_lang = ours.src_lang = "lit_Latn"
    return hf, ours


@pytest.mark.parametrize("text", TEXTS)
def test_the_same_ids_and_tokens_as_transformers(pair, text):
    hf, ours = pair
    for specials in (True, False):
        expected = hf(text, add_special_tokens=specials)["input_ids"]
        assert ours(text, add_special_tokens=specials)["input_ids"] == expected
        assert ours.convert_ids_to_tokens(expected) == hf.convert_ids_to_tokens(expected)
        assert ours.convert_tokens_to_ids(hf.convert_ids_to_tokens(expected)) == expected


def test_the_same_text_back_from_any_ids(pair):
    hf, ours = pair
    rng = random.Random(3)
    size = len(hf.get_vocab())
    for text in TEXTS:
        ids = hf(text)["input_ids"]
        noisy = [rng.randrange(size) for _ in range(25)] + ids + [hf.eos_token_id] + ids[:3]
        for skip in (True, False):
            assert ours.decode(noisy, skip_special_tokens=skip) == hf.decode(noisy, skip_special_tokens=skip)
    assert ours.eos_token_id == hf.eos_token_id


def test_nllb_needs_its_source_language(tiny_models, tmp_path):
    save_tokenizer(tiny_models / "nllb", tmp_path, "nllb")
    tok = load_tokenizer(tmp_path, "nllb")
    with pytest.raises(ValueError, match="src_lang"):
        tok("Labas")
    tok.src_lang = "kat_Geor"
    assert tok("Labas")["input_ids"][0] == tok.convert_tokens_to_ids("kat_Geor")


def test_an_old_conversion_without_tokenizer_files_says_how_to_redo_it(tmp_path):
    with pytest.raises(TokenizerFilesError, match="make models"):
        load_tokenizer(tmp_path, "marian")


def test_text_never_becomes_special_tokens(pair):
    """`<mask>` in an article crashed distilbart (no embedding row): both tokenizers read it as text."""
    hf, ours = pair
    if ours.family == "marian":
        # The tiny sentencepiece model never saw `<` or `>`, so `</s>` is one unknown piece whose
        # surface vocab.json maps to </s> (in transformers too). The real OPUS-MT model knows
        # both characters: tests/test_realckpt.py checks it there.
        pytest.skip("the tiny Marian vocabulary cannot spell `<`; checked on the real one")
    specials = set(hf.all_special_ids) - {hf.unk_token_id}
    for tok in (hf, ours):
        ids = tok(TEXTS[-1])["input_ids"]
        body = ids[1:-1] if ids[0] in specials else ids[:-1]  # less NLLB's code or BART's <s>, and </s>
        assert body and not set(body) & specials, tok.convert_ids_to_tokens(ids)
