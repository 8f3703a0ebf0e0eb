"""Random-weight models with the exact architectures of the default routes, for speed benchmarks.

The real checkpoints need a download; their speed does not depend on what the weights say, only
on their shapes. So the benchmark builds, once, models of the real classes with the real
dimensions (layers, heads, FFN, vocabulary, positions, activation, embedding scale), random
weights saved in float32 safetensors, and CTranslate2 int8 copies made by `pipeline.ct2.convert`.

Tokenizers are synthetic: a vocabulary of the real size and layout (special tokens at the real
ids, NLLB's 202 language codes and `<mask>` after the pieces, Marian's `<pad>` last) whose
pieces are placeholders. The benchmark feeds token ids directly; the converter and the
CTranslate2 backend only need the tokenizer to map ids to token strings and back.

Run `python -m bench.realsize [--only nllb-600m ...]` to build into bench/.cache/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("newsbrief.bench")

CACHE = Path(__file__).resolve().parent / ".cache"
STAMP = ".realsize-stamp"
SEED = 20240601
BUILD_VERSION = 1  # bump when a builder changes what it writes


@dataclass(frozen=True)
class Arch:
    """One default route's model: the real checkpoint's shape and generation settings.

    Attributes:
        name: folder name under the cache.
        real: the checkpoint whose shape this copies.
        family: `nllb`, `marian` or `bart`, as in config.yaml.
        config: keyword arguments of the transformers config class.
        num_beams: the beams the product uses with it.
        no_repeat_ngram_size: n-gram blocking the product uses with it (0 = off).
    """

    name: str
    real: str
    family: str
    config: dict[str, Any]
    num_beams: int = 4
    no_repeat_ngram_size: int = 0
    notes: list[str] = field(default_factory=list)


_BIG = {
    "d_model": 1024,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "max_position_embeddings": 1024,
    "dropout": 0.1,
    "attention_dropout": 0.1,
}

ARCHS: dict[str, Arch] = {
    "nllb-600m": Arch(
        "nllb-600m",
        "facebook/nllb-200-distilled-600M",
        "nllb",
        {
            **_BIG,
            "vocab_size": 256_206,
            "encoder_layers": 12,
            "decoder_layers": 12,
            "activation_function": "relu",
            "scale_embedding": True,
            "encoder_layerdrop": 0.0,
            "decoder_layerdrop": 0.0,
            "tie_word_embeddings": True,
        },
    ),
    "marian-tc-big": Arch(
        "marian-tc-big",
        "Helsinki-NLP/opus-mt-tc-big-bg-en",
        "marian",
        {
            **_BIG,
            "vocab_size": 57_000,  # tc-big vocabularies are 53-59k; ≈57k is typical
            "encoder_layers": 6,
            "decoder_layers": 6,
            "activation_function": "relu",
            "scale_embedding": True,
            "share_encoder_decoder_embeddings": True,
            "tie_word_embeddings": True,
            "normalize_embedding": False,
        },
    ),
    "distilbart-12-6": Arch(
        "distilbart-12-6",
        "sshleifer/distilbart-cnn-12-6",
        "bart",
        {
            **_BIG,
            "vocab_size": 50_264,
            "encoder_layers": 12,
            "decoder_layers": 6,
            "activation_function": "gelu",
            "scale_embedding": False,
        },
        no_repeat_ngram_size=3,
    ),
}

NLLB_PIECES = 256_001  # ids 0-3 specials, then pieces, then 202 language codes and <mask>


# ---- synthetic tokenizers --------------------------------------------------------------------


def _nllb_tokenizer() -> Any:
    from transformers import NllbTokenizer
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    vocab.update({f"▁w{i}": i for i in range(4, NLLB_PIECES)})
    for code in [*FAIRSEQ_LANGUAGE_CODES, "<mask>"]:
        vocab[code] = len(vocab)
    return NllbTokenizer(
        vocab=vocab,
        merges=[],
        extra_special_tokens=list(FAIRSEQ_LANGUAGE_CODES),
        src_lang="lit_Latn",
        tgt_lang="eng_Latn",
        model_max_length=1024,
    )


def _marian_tokenizer(vocab_size: int, work: Path) -> Any:
    from transformers import MarianTokenizer

    # MarianTokenizer needs sentencepiece models; the tiny fixture's serve, since the benchmark
    # never tokenizes text with them. The vocabulary is what sets the model's shape.
    from tests.fixtures.tiny_models import build_marian

    tiny = build_marian("bg", work / "tiny-marian", work / "tiny-work")
    vocab = {"</s>": 0, "<unk>": 1}
    vocab.update({f"▁w{i}": i for i in range(2, vocab_size - 1)})
    vocab["<pad>"] = vocab_size - 1  # last, as the conversion script writes it
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return MarianTokenizer(
        source_spm=str(tiny / "source.spm"),
        target_spm=str(tiny / "target.spm"),
        vocab=str(work / "vocab.json"),
        source_lang="bg",
        target_lang="en",
        model_max_length=512,
    )


def _bart_tokenizer() -> Any:
    from transformers import BartTokenizer

    # bart-large-cnn's vocab.json has 50,265 entries for a 50,264-row embedding (<mask> is past
    # the end); the converter drops the extra token, as it must for the real checkpoint.
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    vocab.update({f"Ġw{i}": i for i in range(4, 50_264)})
    vocab["<mask>"] = 50_264
    return BartTokenizer(vocab=vocab, merges=[], model_max_length=1024)


# ---- models ----------------------------------------------------------------------------------


def _build(arch: Arch, out: Path, work: Path) -> Path:
    import torch
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        GenerationConfig,
        M2M100Config,
        M2M100ForConditionalGeneration,
        MarianConfig,
        MarianMTModel,
    )

    torch.manual_seed(SEED)
    c = arch.config
    if arch.family == "nllb":
        tokenizer = _nllb_tokenizer()
        config = M2M100Config(**c, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2)
        model = M2M100ForConditionalGeneration(config)
        generation = GenerationConfig(
            bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2
        )
    elif arch.family == "marian":
        tokenizer = _marian_tokenizer(c["vocab_size"], work)
        pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
        config = MarianConfig(
            **c,
            decoder_vocab_size=c["vocab_size"],
            pad_token_id=pad,
            decoder_start_token_id=pad,
            eos_token_id=eos,
            forced_eos_token_id=eos,
        )
        model = MarianMTModel(config)
        generation = GenerationConfig(
            pad_token_id=pad,
            eos_token_id=eos,
            forced_eos_token_id=eos,
            decoder_start_token_id=pad,
            bad_words_ids=[[pad]],
            num_beams=4,
            renormalize_logits=True,
        )
    else:
        tokenizer = _bart_tokenizer()
        config = BartConfig(
            **c,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            decoder_start_token_id=2,
            forced_eos_token_id=2,
        )
        model = BartForConditionalGeneration(config)
        generation = GenerationConfig(
            bos_token_id=0,
            pad_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=2,
            forced_bos_token_id=0,
            forced_eos_token_id=2,
            num_beams=4,
            length_penalty=2.0,
            no_repeat_ngram_size=3,
            early_stopping=True,
        )
    model.eval()
    model.generation_config = generation
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)  # float32 safetensors
    tokenizer.save_pretrained(out)
    return out


def hf_dir(name: str, cache: Path = CACHE) -> Path:
    return cache / name / "hf"


def ct2_dir(name: str, cache: Path = CACHE) -> Path:
    return cache / name / "ct2-int8"


def _stamp(arch: Arch) -> str:
    from importlib.metadata import version

    parts = {"arch": arch.config, "family": arch.family, "seed": SEED, "build": BUILD_VERSION}
    parts.update({d: version(d) for d in ("transformers", "tokenizers", "torch", "ctranslate2")})
    return json.dumps(parts, sort_keys=True)


def build(name: str, cache: Path = CACHE, *, force: bool = False) -> tuple[Path, Path, float]:
    """Builds one model and its int8 CTranslate2 copy unless up to date; returns (hf, ct2, seconds)."""
    from pipeline.ct2 import convert

    arch = ARCHS[name]
    folder = cache / name
    stamp = _stamp(arch)
    hf, ct2 = hf_dir(name, cache), ct2_dir(name, cache)
    stamp_file = folder / STAMP
    built = (hf / "model.safetensors").is_file() and (ct2 / "model.bin").is_file()
    started = time.perf_counter()
    if not force and built and stamp_file.is_file() and stamp_file.read_text(encoding="utf-8") == stamp:
        # Redone only where newsbrief's converted layout changed (convert checks its own stamp).
        before = (ct2 / "model.bin").stat().st_mtime_ns
        convert(hf, ct2, "int8")
        redone = (ct2 / "model.bin").stat().st_mtime_ns != before
        return hf, ct2, time.perf_counter() - started if redone else 0.0
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder.mkdir(parents=True, exist_ok=True)
    stamp_file.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=folder) as tmp:
        built = _build(arch, Path(tmp) / "hf", Path(tmp) / "work")
        if hf.exists():
            shutil.rmtree(hf)
        built.rename(hf)
    convert(hf, ct2, "int8", force=True)
    stamp_file.write_text(stamp, encoding="utf-8")
    seconds = time.perf_counter() - started
    log.info("built %s (%s shape) in %.0fs", name, arch.real, seconds)
    return hf, ct2, seconds


def build_all(names: Iterable[str], cache: Path = CACHE, *, force: bool = False) -> dict[str, float]:
    """Builds the named models; returns the seconds each took (0 when it was already built)."""
    return {name: build(name, cache, force=force)[2] for name in names}


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.realsize", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(ARCHS), default=list(ARCHS))
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    for name, seconds in build_all(args.only, args.cache, force=args.force).items():
        print(f"{name:16} {'up to date' if not seconds else f'built in {seconds:.0f}s'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
