"""The real checkpoints' own files, through the real loading, conversion and decoding code.

`../shared/realckpt` holds the non-weight files of three Hub checkpoints (configs, generation
configs, tokenizers, special-token maps). Each is built here with random weights of its real
config, shrunk to one small layer per side (the vocabulary, special tokens and every other key
kept), converted with `newsbrief models convert` (float32, so both runtimes compute the same
numbers), then checked as a user would meet it:

- the file tokenizer of the converted copy gives transformers' ids and text;
- CTranslate2 generates what transformers generates on the same weights, greedy and with beams
  (the checkpoint's own settings), except transformers' forced final `</s>` at the budget;
- text that spells a special token (`<mask>`, `</s>`, `eng_Latn`, `>>fra<<`...) is text;
- neither runtime produces `<unk>` or an id that the tokenizer has no token for.

distilbart is built in both of its real layouts: as re-saved by transformers 4.44 (with
`generation_config.json`) and as its 2020 Hub repository has it (generation settings in
`config.json` only). NLLB's sentencepiece model could not be obtained: its checkpoint gets the
real config, generation config, tokenizer_config.json (ids of the 202 language codes and
`<mask>`) and special-token map, with the fixture NLLB vocabulary (tests/fixtures/tiny_models.py)
in place of the real pieces, padded to the real size so that every special token keeps its real id.

The texts are written here (English, French and others) plus, when present, the first lines of
`../shared/seeds`, read in place. Everything skips, with a message, when ../shared is absent.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SHARED

REAL = SHARED / "realckpt"
SEEDS = SHARED / "seeds"
pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"{REAL} is absent: the real checkpoints' files are not on this machine"
)

# One small layer per side: the vocabulary (and its embedding) stays the real size.
SMALL = {
    "d_model": 16,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "num_hidden_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 32,
    "decoder_ffn_dim": 32,
}
# distilbart's weights at ten times the real init scale: a random summarizer this small is
# otherwise close to indifferent between its beams over 141 tokens, and float rounding alone then
# picks between near-ties. (The translators keep the real scale: their `<unk>` rows are loud.)
BART_INIT_STD = 0.2
# Output rows that a careless runtime would produce: in the translators, `<unk>` and the rows no
# token owns are scaled up, so that without suppression they would win whenever their logit is
# positive. Not in distilbart: with beams and no_repeat_ngram_size, a banned token holding most
# of the probability makes the two runtimes rank beams differently (transformers' beam search
# bans after its softmax, CTranslate2 before), which a real checkpoint's <unk> never does.
LOUD = 40.0

ENGLISH = [
    "The city council approved the new budget on Tuesday after a long debate.",
    "Prices rose by 3.5% in March, the statistics office said; economists had expected 2%.",
    "“We will not give up,” the mayor told reporters — and then she left the room.",
]
FRENCH = [
    "Le gouvernement a présenté mardi un projet de loi sur l'énergie.",
    "Les prix ont augmenté de 3,5 % en mars, selon l'institut de la statistique.",
    "« Nous n'abandonnerons pas », a déclaré la maire aux journalistes.",
]
OTHER = [
    "Vyriausybė antradienį pristatė energetikos įstatymo projektą.",
    "Правителството представи законопроект за енергетиката във вторник.",
    "მთავრობამ სამშაბათს ენერგეტიკის კანონპროექტი წარადგინა.",
]
# Text that spells special tokens, language codes, target tags and characters the real Marian
# vocabulary lacks (`|`, `#`, `` ` ``, `<`).
SPECIAL = [
    "The file was named <mask> and the tag </s> closed it.",
    "Tokens <pad>, <unk>, <s> and </s> are plain words in this article.",
    "The code eng_Latn and the tag >>fra<< appeared in a lit_Latn manual.",
    "Results | 12 # 3 `quoted` <b>bold</b>",
]

CHECKPOINTS = {
    # name: (real folder, family, with generation_config.json)
    "distilbart": ("distilbart-cnn-12-6", "bart", True),
    "distilbart-2020": ("distilbart-cnn-12-6", "bart", False),
    "opus-mt-tc-big-fr-en": ("opus-mt-tc-big-fr-en", "marian", True),
    "nllb-600M": ("nllb-200/datn-600M", "nllb", True),
}
TOKENIZER_FILES = {
    "bart": (
        "vocab.json",
        "merges.txt",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ),
    "marian": ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json", "special_tokens_map.json"),
    "nllb": ("tokenizer_config.json", "special_tokens_map.json"),  # tokenizer.json: the fixture's
}


def seed_texts() -> list[str]:
    """The first paragraph of each seed article (read in place), at most 200 characters (a
    Georgian character is three byte-level BPE tokens: longer would pass BART's 1024)."""
    texts = []
    for path in sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        body = [line for line in lines if not line.startswith("date ")]
        if body:
            texts.append(max(body[:3], key=len)[:200])
    return texts


def nllb_code(text: str) -> str:
    """A plausible NLLB source code by script (the code only sets the first input token)."""
    if any("ა" <= c <= "ჰ" for c in text):
        return "kat_Geor"
    if any("а" <= c.lower() <= "я" for c in text):
        return "bul_Cyrl"
    return "lit_Latn"


# ---- building ---------------------------------------------------------------------------------


def _nllb_tokenizer_json(tiny_nllb: Path, real: Path, out: Path) -> None:
    """The fixture NLLB vocabulary with the real checkpoint's special-token ids.

    Real NLLB: ids 0-3 `<s> <pad> </s> <unk>`, the sentencepiece pieces up to 256000, the 202
    language codes from 256001 (eng_Latn = 256047), `<mask>` = 256203. The fixture's pieces take
    the first ids and unreachable filler entries the rest, so every special id is the real one.
    """
    data = json.loads((tiny_nllb / "tokenizer.json").read_text(encoding="utf-8"))
    added = json.loads((real / "tokenizer_config.json").read_text(encoding="utf-8"))["added_tokens_decoder"]
    specials = {int(i): t for i, t in added.items()}
    contents = {t["content"] for t in specials.values()}
    pieces = sorted((i, p) for p, i in data["model"]["vocab"].items() if p not in contents)
    vocab = {specials[i]["content"]: i for i in range(4)}
    for _, piece in pieces:
        vocab[piece] = len(vocab)
    first_code = min(i for i in specials if i > 3)
    while len(vocab) < first_code:
        vocab[f"<fixture-filler-{len(vocab)}>"] = len(vocab)
    for i in sorted(specials):
        vocab.setdefault(specials[i]["content"], i)
    assert all(vocab[t["content"]] == i for i, t in specials.items())
    data["model"]["vocab"] = vocab
    data["added_tokens"] = [{"id": i, **{k: v for k, v in t.items()}} for i, t in sorted(specials.items())]
    for token in data["post_processor"]["special_tokens"].values():
        token["ids"] = [vocab[t] for t in token["tokens"]]
    (out / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def build_checkpoint(name: str, out: Path, tiny_models: Path) -> Path:
    """A random-weight checkpoint of the real config (shrunk), with the real tokenizer files."""
    import torch
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    folder, family, with_generation = CHECKPOINTS[name]
    real = REAL / folder
    config = json.loads((real / "config.json").read_text(encoding="utf-8"))
    config.update({k: v for k, v in SMALL.items() if k in config})
    if family == "bart":
        config["init_std"] = BART_INIT_STD
    out.mkdir(parents=True)
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    torch.manual_seed(0)
    model = AutoModelForSeq2SeqLM.from_config(AutoConfig.from_pretrained(out))
    for name_ in TOKENIZER_FILES[family]:
        shutil.copyfile(real / name_, out / name_)
    if family == "nllb":
        _nllb_tokenizer_json(tiny_models / "nllb", real, out)
    from pipeline.tokenizer import load_hf_tokenizer

    tokenizer = load_hf_tokenizer(out)
    if family != "bart":
        with torch.no_grad():
            weight = model.get_input_embeddings().weight
            for row in [tokenizer.unk_token_id, *range(len(tokenizer), weight.shape[0])]:
                weight[row] *= LOUD
    model.save_pretrained(out)
    # save_pretrained rewrites config.json in transformers 5's terms and adds a
    # generation_config.json: put back the real files, as the Hub serves them.
    (out / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (out / "generation_config.json").unlink()
    if with_generation:
        shutil.copyfile(real / "generation_config.json", out / "generation_config.json")
    return out


@dataclass
class Built:
    config: object
    store: object
    sources: dict[str, Path]


@pytest.fixture(scope="module")
def built(tiny_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Every checkpoint built, and converted by `newsbrief models convert` (float32)."""
    import yaml

    from pipeline.cli import main
    from pipeline.config import load_config
    from pipeline.models import ModelStore

    root = tmp_path_factory.mktemp("realckpt")
    sources = {name: build_checkpoint(name, root / "src" / name, tiny_models) for name in CHECKPOINTS}
    models = {}
    for name, (_, family, _) in CHECKPOINTS.items():
        spec = {
            "id": f"realckpt/{name}",
            "path": str(sources[name]),
            "family": family,
            "max_input_tokens": 1024,
        }
        models[name] = spec
        models[f"{name}-ct2"] = {**spec, "backend": "ctranslate2", "quantization": "float32"}
    config = {
        "paths": {"input": str(root), "output": str(root / "out"), "models": str(root / "models")},
        "translate": {"routes": {"en": "passthrough"}, "default": "nllb-600M", "fallback": None},
        "summarize": {"method": "extractive"},
        "runtime": {"device": "cpu", "threads": 1},
        "models": models,
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["models", "convert", *[f"{n}-ct2" for n in CHECKPOINTS], "--config", str(path)]) == 0
    loaded = load_config(path)
    return Built(
        loaded, ModelStore(loaded.models_dir, loaded.models, loaded.runtime, loaded.base_dir), sources
    )


def _texts(family: str) -> list[str]:
    own = ENGLISH if family == "bart" else FRENCH + OTHER + ENGLISH
    return own + seed_texts() + SPECIAL


# ---- the tokenizers --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["distilbart", "opus-mt-tc-big-fr-en", "nllb-600M"])
def test_the_file_tokenizer_gives_transformers_ids_and_text(built: Built, name: str):
    hf, ours = built.store.load(name).tokenizer, built.store.load(f"{name}-ct2").tokenizer
    family = CHECKPOINTS[name][1]
    specials = set(hf.all_special_ids)
    for text in _texts(family) + ["", "   "]:
        if family == "nllb":
            hf.src_lang = ours.src_lang = nllb_code(text)
        for add in (True, False):
            expected = hf(text, add_special_tokens=add)["input_ids"]
            assert ours(text, add_special_tokens=add)["input_ids"] == expected, text
        ids = hf(text)["input_ids"]
        assert ours.convert_ids_to_tokens(ids) == hf.convert_ids_to_tokens(ids)
        for skip in (True, False):
            assert ours.decode(ids, skip_special_tokens=skip) == hf.decode(ids, skip_special_tokens=skip)
        # Text that spells a special token is text: the only special ids are the ones added.
        inner = ids[1:-1] if family in ("bart", "nllb") else ids[:-1]
        assert not (set(inner) & specials - {hf.unk_token_id}), (text, hf.convert_ids_to_tokens(ids))


def test_the_real_vocabularies_as_found(built: Built):
    """What the real files hold that the fixtures do not: recorded, so a change is noticed."""
    bart = built.store.load("distilbart").tokenizer
    assert len(bart) == 50265 and bart.convert_tokens_to_ids("<mask>") == 50264  # no embedding row
    marian = built.store.load("opus-mt-tc-big-fr-en").tokenizer
    unknown = [
        c for c in "|#`<" if marian(c, add_special_tokens=False)["input_ids"][-1] == marian.unk_token_id
    ]
    assert unknown == list("|#`<")
    nllb = built.store.load("nllb-600M")
    assert nllb.tokenizer.convert_tokens_to_ids("eng_Latn") == 256047
    assert nllb.model.config.vocab_size - len(nllb.tokenizer) == 2
    ct2 = built.store.load("nllb-600M-ct2")
    assert ct2.generation["suppress_tokens"] == ["madeupword0", "madeupword1"]


# ---- generation settings ---------------------------------------------------------------------


def test_the_2020_layout_converts_with_the_settings_transformers_derives(built: Built):
    """distilbart's 2020 repository keeps its generation settings in config.json only."""
    assert not (built.sources["distilbart-2020"] / "generation_config.json").exists()
    old, new = (built.store.load(f"{n}-ct2").generation for n in ("distilbart-2020", "distilbart"))
    for key, value in {
        "forced_bos_token_id": 0,
        "length_penalty": 2.0,
        "no_repeat_ngram_size": 3,
        "min_length": 56,
        "max_length": 142,
        "num_beams": 4,
        "prefix": " ",
    }.items():
        assert old[key] == value, key
    assert old == new
    transformers = built.store.load("distilbart-2020").generation  # what transformers itself uses
    assert transformers == {k: v for k, v in old.items() if k != "suppress_tokens"}


def _summary_decodings(generation: dict):
    from pipeline.backends import SummaryDecoding

    # transformers' min/max_length count the decoder start token; the pipeline counts new tokens.
    own = SummaryDecoding(
        generation["num_beams"],
        generation["min_length"] - 1,
        generation["max_length"] - 1,
        generation["no_repeat_ngram_size"],
    )
    return [SummaryDecoding(1, 8, 40), own]


def _same_up_to_forced_eos(expected: str, got: str) -> bool:
    """transformers forces `</s>` as the last token of an output at its budget; CTranslate2
    writes one more real token there instead."""
    return got == expected or (got.startswith(expected) and len(got.split()) <= len(expected.split()) + 1)


@pytest.mark.parametrize("name", ["distilbart", "distilbart-2020"])
def test_summaries_are_the_same_on_both_runtimes(built: Built, name: str):
    hf, ct2 = built.store.load(name), built.store.load(f"{name}-ct2")
    texts = [" ".join(ENGLISH), *SPECIAL, *seed_texts()[:2]]
    for decoding in _summary_decodings(ct2.generation):
        expected = hf.backend.summarize_batch(hf, texts, decoding)
        got = ct2.backend.summarize_batch(ct2, texts, decoding)
        for text, e, g in zip(texts, expected, got, strict=True):
            assert e.strip() and _same_up_to_forced_eos(e, g), (decoding, text, e, g)
            assert "<unk>" not in g and "<mask>" not in g


@pytest.mark.parametrize("name", ["opus-mt-tc-big-fr-en", "nllb-600M"])
def test_translations_are_the_same_on_both_runtimes(built: Built, name: str):
    from pipeline.translate import TARGET_FLORES, DecodingOptions

    hf, ct2 = built.store.load(name), built.store.load(f"{name}-ct2")
    family = CHECKPOINTS[name][1]
    target = TARGET_FLORES if family == "nllb" else None
    texts = _texts(family)
    beams = ct2.generation.get("num_beams") or 4  # NLLB's own is greedy: the pipeline's 4 beams
    for decoding in (DecodingOptions(num_beams=1), DecodingOptions(num_beams=beams)):
        for loaded in (hf, ct2):
            ids = []
            for text in texts:
                if family == "nllb":
                    loaded.tokenizer.src_lang = nllb_code(text)
                ids.append(loaded.tokenizer(text)["input_ids"])
            outputs = loaded.backend.generate_batch(loaded, ids, 24, decoding, target)
            if loaded is hf:
                expected = outputs
        for text, (e, e_cut), (g, g_cut) in zip(texts, expected, outputs, strict=True):
            assert _same_up_to_forced_eos(e, g) and e_cut == g_cut, (decoding, text, e, g)


@pytest.mark.parametrize("name", ["opus-mt-tc-big-fr-en", "nllb-600M"])
def test_unk_and_rows_without_a_token_are_never_generated(built: Built, name: str):
    """Their output rows are loud (see LOUD): greedy decoding would pick them at many steps."""
    ct2 = built.store.load(f"{name}-ct2")
    tok = ct2.tokenizer
    family = CHECKPOINTS[name][1]
    if family == "nllb":
        tok.src_lang = "fra_Latn"
    source = [tok.convert_ids_to_tokens(tok(t)["input_ids"]) for t in FRENCH + ENGLISH]
    never = {"<unk>", *ct2.generation.get("suppress_tokens", [])}
    loose = ct2.model.translate_batch(source, beam_size=1, max_decoding_length=24)
    assert any(set(r.hypotheses[0]) & never for r in loose), (
        "the loud rows are not loud: this test sees nothing"
    )
    from pipeline.ct2 import never_generated

    kept = ct2.model.translate_batch(source, beam_size=1, max_decoding_length=24, **never_generated(ct2))
    assert not any(set(r.hypotheses[0]) & never for r in kept)


# ---- the English output vocabulary -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "languages"), [("opus-mt-tc-big-fr-en", ["fr"]), ("nllb-600M", ["fr", "ru", "ka"])]
)
def test_the_english_map_stays_off_where_outputs_differ(built: Built, name: str, languages: list[str]):
    """Random weights on the real vocabularies: the map built from the real tokenizer changes
    the outputs, so the self-test's decision is the whole vocabulary, even with the checks granted."""
    from pipeline.ct2 import LATIN_DIR, read_vmap
    from pipeline.translate import Translator
    from pipeline.verify import compare_vocabularies, decide

    ct2 = built.store.load(f"{name}-ct2")
    assert ct2.vocabulary == "all" and ct2.vocabulary_note.startswith("auto: not verified yet")
    folder = built.store.ct2_path(f"{name}-ct2")
    english, latin = read_vmap(folder), read_vmap(folder / LATIN_DIR)
    vocabulary = json.loads((folder / "shared_vocabulary.json").read_text(encoding="utf-8"))
    assert "▁the" in english and len(english) <= len(latin) < len(vocabulary)
    evidence = compare_vocabularies(ct2, Translator(built.config.translate, built.store), languages, folder)
    assert evidence["texts"] == 2 * len(languages) and evidence["same"] < evidence["texts"], evidence
    decision = decide(evidence, checks_passed=True)
    assert decision["vocabulary"] == "all", decision
