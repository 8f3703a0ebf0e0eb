"""Translation speed on this machine: naive, EasyNMT-style and the default path, side by side.

Models: random-weight copies of the default routes with their exact architectures
(bench/realsize.py, built once into bench/.cache/). Their speed is the real models' speed; their
output is noise, so every variant is made to do the same work: each sentence's output length is
fixed from its source length (`min = max` new tokens, 1.1 × source tokens), the same for every
variant, with the same beams.

Workload: the sentences of the sample inbox (or `--input DIR`), split as the pipeline splits
them. The models are fed token ids, not text: a sentence's source length comes from the tiny
fixture tokenizer of the same family, scaled so that the whole workload has the real
tokenizer's tokens per word (`TOKENS_PER_WORD`). The tiny tokenizers are trained on a few pages
of text, so they cut words far finer than the real 57k-256k vocabularies; the scaling keeps their
per-sentence differences (Georgian longer than Lithuanian) at a realistic total. For the
summarizer the unit is the article, and the summary length is 0.35 × its tokens within 56-142.

Variants (same beams, same output lengths):
  naive            one `generate` call per sentence, transformers, float32; timed on a random
                   subset within a time box;
  easynmt          sentences sorted by length, batches of 16, transformers, float32 (EasyNMT);
  default          CTranslate2 int8, sorted, batched by padded tokens with the product's own
                   `token_batches`, threads = cores: what the product runs;
  default/article  (full run) the same, batching within one article at a time, as a
                   translator without cross-article groups would;
  latin Nk         (NLLB) the default with `output_vocabulary: latin` scoring N thousand tokens;
  english Nk       (NLLB) the default with the English output vocabulary of N thousand tokens:
                   the path `output_vocabulary: auto` takes once `models verify` has passed.
                   Forced on here: random weights decide nothing about quality. N is the size
                   of the real model's English map when `make models` has converted it under
                   models/, else `ENGLISH_TOKENS_ASSUMED` (and the row's name says "assumed").

On CUDA (`torch.cuda.is_available()` and CTranslate2 sees the GPU) the same rows run again on the
GPU, prefixed `cuda`: transformers float16, CTranslate2 int8_float16 and float16, and the English
map, with batches of `GPU_BATCH_TOKENS` padded tokens (a whole night in a few batches: what fills
the GPU); each reports its GPU memory and its ratio to `cuda naive`. Without a GPU they are
skipped, with one line saying so.

Each variant runs in its own process, so its peak RSS (ru_maxrss, model load included) is its
own. A batch runs to its longest output (as generate and translate_batch do when nothing ends
early), but throughput counts only each sentence's own tokens: padding is paid for, not counted.
The CTranslate2 rows report the median of three runs.

Run: python -m bench.speed [--quick] [--input DIR] [--repeat N] [--models ...] [--variants ...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.realsize import ARCHS, CACHE, build_all, ct2_dir, hf_dir

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results.json"
DEFAULT_INPUT = ROOT / "inbox"
TINY = ROOT / "models" / "tiny"
# Real tokenizers' tokens per word on news text: NLLB's 256k SentencePiece and OPUS-MT's
# per-pair vocabularies on the inbox's languages, BART's byte-level BPE on English.
TOKENS_PER_WORD = {"nllb": 1.5, "marian": 1.5, "bart": 1.3}
TINY_TOKENIZER = {"nllb": "nllb", "marian": "marian-bg-en", "bart": "bart"}
OUTPUT_RATIO = 1.1  # output tokens per source token
SUMMARY_RATIO = 0.35  # summary tokens per article token, within the summarizer's 56-142
SUMMARY_MIN, SUMMARY_MAX = 56, 142
EASYNMT_BATCH = 16
NLLB_SOURCE, NLLB_TARGET = "lit_Latn", "eng_Latn"
NLLB_ORDINARY = 256_000  # ids below the language codes
QUICK_SENTENCES = 8
# The English map's size when no real NLLB English map is at hand: about what the Marian fr-en
# vocabulary keeps (31,343 of 53,016, tests/test_realckpt.py), rounded; NLLB's 256k vocabulary
# cuts English no finer, so its map is of that order.
ENGLISH_TOKENS_ASSUMED = 32_000
REAL_NLLB = "facebook--nllb-200-distilled-600M@*-int8"
# GPU rows: batches as large as a night's translation fits in (H100/H200-class memory).
GPU_BATCH_TOKENS = 32_768
GPU_MAX_BATCH_SENTENCES = 1024
# Settings' defaults; the driver passes config.yaml's batching (or the command line's).
BATCH_TOKENS = 384
MAX_BATCH_SENTENCES = 16


def product_batching(family: str) -> tuple[int, int]:
    """(batch_tokens, most inputs per batch) that config.yaml gives the translator or the summarizer."""
    from pipeline.config import load_config

    config = load_config(ROOT / "config.yaml")
    if family == "bart":
        return config.summarize.batch_tokens, config.summarize.max_batch_articles
    return config.translate.batch_tokens, config.translate.max_batch_sentences


Generate = Callable[[list[list[int]], int], list[int]]


@dataclass
class Unit:
    """One input to the model: a sentence (translation) or a whole article (summary)."""

    article: int
    source_len: int  # tokens, special tokens included
    output_len: int  # forced new tokens (NLLB's eng_Latn included, as transformers counts it)


@dataclass
class Settings:
    """What one variant does; serialised to its worker process.

    Attributes:
        variant: the row's name in the table.
        runner: `transformers` or `ctranslate2`.
        batching: `single` (one unit per call), `easynmt` (sorted, 16 per batch), `tokens`
            (sorted, padded-token budget, across the workload) or `article` (the same, within
            each article).
        tokenizer: `transformers` (AutoTokenizer, which imports torch) or `product` (the
            file-based tokenizer the product's CTranslate2 routes load: no torch in the process).
        time_budget_s: stop starting new batches after this long (0 = run everything); single
            units then run in a fixed shuffled order, so that the subset is a fair sample.
        env: extra environment of the worker process (e.g. `CT2_FORCE_CPU_ISA`), for tuning.
        vmap_tokens: CTranslate2 only: score this many output tokens per step (a vocabulary map,
            as `output_vocabulary: latin` or `english` uses) instead of the whole vocabulary; 0 = all.
        device: `cpu` or `cuda` (transformers in float16 there; CTranslate2 in `compute_type`).
        batches: unit indices per call, in order (filled in by `batches_for`).
    """

    variant: str
    runner: str
    batching: str
    model: str
    units: list[dict[str, int]]
    num_beams: int
    no_repeat_ngram_size: int = 0
    threads: int = 0
    batch_tokens: int = BATCH_TOKENS
    max_batch_sentences: int = MAX_BATCH_SENTENCES
    tokenizer: str = "transformers"
    time_budget_s: float = 0.0
    compute_type: str = "auto"
    env: dict[str, str] = field(default_factory=dict)
    vmap_tokens: int = 0
    device: str = "cpu"
    batches: list[list[int]] = field(default_factory=list)


# ---- workload --------------------------------------------------------------------------------


def read_workload(folder: Path) -> list[list[str]]:
    """The sentences of each readable article under `folder`, title first, split as the pipeline does."""
    from pipeline.errors import IngestError
    from pipeline.ingest import IngestOptions, iter_input_files, read_article
    from pipeline.segment import split_sentences

    articles = []
    for path in iter_input_files(folder):
        try:
            article = read_article(path, folder, IngestOptions())
        except IngestError as exc:
            print(f"skipping {path.name}: {exc}", file=sys.stderr)
            continue
        parts = ([article.title] if article.title else []) + article.paragraphs
        sentences = [s for part in parts for s in split_sentences(part)]
        if sentences:
            articles.append(sentences)
    if not articles:
        raise SystemExit(f"no readable articles in {folder}")
    return articles


def units_for(family: str, articles: list[list[str]]) -> list[Unit]:
    """Sentence units (translation) or article units (summary) with realistic token lengths."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from tests.fixtures.tiny_models import build_all as build_tiny

    hf_logging.set_verbosity_error()
    build_tiny(TINY)
    tok = AutoTokenizer.from_pretrained(TINY / TINY_TOKENIZER[family])
    if family == "bart":
        texts = [(i, " ".join(sentences)) for i, sentences in enumerate(articles)]
    else:
        texts = [(i, s) for i, sentences in enumerate(articles) for s in sentences]
    tiny = [len(tok(t, add_special_tokens=False)["input_ids"]) for _, t in texts]
    scale = TOKENS_PER_WORD[family] * sum(len(t.split()) for _, t in texts) / sum(tiny)
    specials = 1 if family == "marian" else 2  # </s>, and NLLB's language code or BART's <s>
    units = []
    for (article, _), n in zip(texts, tiny, strict=True):
        source = min(max(1, round(n * scale)) + specials, 1024)
        if family == "bart":
            output = min(max(round(SUMMARY_RATIO * source), SUMMARY_MIN), SUMMARY_MAX)
        else:
            output = max(4, round(OUTPUT_RATIO * source))
        units.append(Unit(article, source, output))
    return units


def first_sentences(articles: list[list[str]], n: int) -> list[list[str]]:
    out: list[list[str]] = []
    for sentences in articles:
        take = sentences[: n - sum(len(a) for a in out)]
        if take:
            out.append(take)
    return out


# ---- the worker: one variant in its own process -----------------------------------------------


def batches_for(units: list[Unit], settings: Settings) -> list[list[int]]:
    """Indices of units per batch, in the order the variant runs them."""
    n = len(units)
    if settings.batching == "single":
        order = list(range(n))
        if settings.time_budget_s:
            random.Random(11).shuffle(order)
        return [[i] for i in order]
    if settings.batching == "easynmt":
        order = sorted(range(n), key=lambda i: units[i].source_len, reverse=True)
        return [order[i : i + EASYNMT_BATCH] for i in range(0, n, EASYNMT_BATCH)]
    from pipeline.backends import token_batches

    lengths = [u.source_len for u in units]
    if settings.batching == "tokens":
        groups = [list(range(n))]
    else:  # "article"
        groups = [[i for i in range(n) if units[i].article == a] for a in sorted({u.article for u in units})]
    batches: list[list[int]] = []
    for group in groups:
        order = sorted(group, key=lambda i: lengths[i], reverse=True)
        batches += token_batches(order, lengths, settings.batch_tokens, settings.max_batch_sentences)
    return batches


def source_ids(units: list[Unit], family: str, tok: Any, vocab: int) -> list[list[int]]:
    """Random ordinary token ids framed by the family's special tokens, as its tokenizer lays them out."""
    rng = random.Random(7)
    ordinary = range(4, min(vocab, NLLB_ORDINARY)) if family == "nllb" else range(4, vocab - 1)
    if family == "nllb":
        head, tail = [tok.convert_tokens_to_ids(NLLB_SOURCE)], [tok.eos_token_id]
    elif family == "marian":
        head, tail = [], [tok.eos_token_id]
    else:
        head, tail = [tok.bos_token_id], [tok.eos_token_id]
    body = len(head) + len(tail)
    return [head + [rng.choice(ordinary) for _ in range(u.source_len - body)] + tail for u in units]


def _rss_mb() -> float:
    """This process's peak resident memory so far.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec,
    so a worker would report at least the driver's own size.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:  # not Linux: ru_maxrss is in bytes on macOS, kB elsewhere
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1024 / (1024 if sys.platform == "darwin" else 1)
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kb) / 1024


def run_worker(settings: Settings) -> dict[str, Any]:
    """Loads the model, warms it up, runs the batches and measures (in its own process)."""
    arch = ARCHS[settings.model]
    units = [Unit(**u) for u in settings.units]
    threads = settings.threads or _cores()

    started = time.perf_counter()
    if settings.tokenizer == "product":
        from pipeline.tokenizer import load_tokenizer

        tok: Any = load_tokenizer(ct2_dir(settings.model), arch.family)
    else:
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        tok = AutoTokenizer.from_pretrained(hf_dir(settings.model))
    rss_before_model = _rss_mb()
    runner = _transformers_runner if settings.runner == "transformers" else _ct2_runner
    generate = runner(settings, tok, threads)
    load_s = time.perf_counter() - started
    ids = source_ids(units, arch.family, tok, arch.config["vocab_size"])
    batches = settings.batches
    generate([ids[batches[0][0]]], 4)  # warm-up: first-call allocations and kernel selection

    done: list[int] = []
    ran = 0
    generated = 0
    started = time.perf_counter()
    for batch in batches:
        if settings.time_budget_s and done and time.perf_counter() - started > settings.time_budget_s:
            break
        length = max(units[i].output_len for i in batch)
        produced = generate([ids[i] for i in batch], length)
        if any(n != length for n in produced):
            raise RuntimeError(f"{settings.variant}: asked for {length} tokens, got {produced}")
        generated += length * len(batch)
        done += batch
        ran += 1
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "load_s": load_s,
        "sentences": len(done),
        "output_tokens": sum(units[i].output_len for i in done),
        "generated_tokens": generated,
        "batches": ran,
        "largest_batch": max(len(b) for b in batches),
        "threads": threads,
        "rss_before_model_mb": rss_before_model,
        "peak_rss_mb": _rss_mb(),
        "gpu_mb": _gpu_mb() if settings.device == "cuda" else None,
        "torch_loaded": "torch" in sys.modules,
    }


def _gpu_mb() -> float | None:
    """This process's GPU memory at the end of its run, as nvidia-smi reports it (both runtimes
    keep their caching allocator's blocks, so this is about their peak)."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    rows = [line.split(",") for line in out.splitlines() if "," in line]
    mine = [float(mb) for pid, mb in rows if pid.strip() == str(os.getpid())]
    return mine[0] if mine else None


def _cores() -> int:
    from pipeline.ct2 import cpu_count

    return cpu_count()


def _transformers_runner(settings: Settings, tok: Any, threads: int) -> Generate:
    import torch
    from transformers import AutoModelForSeq2SeqLM

    torch.set_num_threads(threads)
    dtype = torch.float16 if settings.device == "cuda" else torch.float32
    model = AutoModelForSeq2SeqLM.from_pretrained(hf_dir(settings.model), dtype=dtype).eval()
    model.to(settings.device)
    model.generation_config.max_length = None  # as pipeline.models loads it
    model.generation_config.min_length = None
    extra: dict[str, Any] = {"num_beams": settings.num_beams}
    if settings.no_repeat_ngram_size:
        extra["no_repeat_ngram_size"] = settings.no_repeat_ngram_size
    if ARCHS[settings.model].family == "nllb":
        extra["forced_bos_token_id"] = tok.convert_tokens_to_ids(NLLB_TARGET)

    def generate(batch: list[list[int]], length: int) -> list[int]:
        inputs = tok.pad({"input_ids": batch}, return_tensors="pt").to(settings.device)
        with torch.inference_mode():
            out = model.generate(**inputs, min_new_tokens=length, max_new_tokens=length, **extra)
        return [out.shape[1] - 1] * len(batch)  # less the decoder start token

    return generate


def _ct2_runner(settings: Settings, tok: Any, threads: int) -> Generate:
    from pipeline.ct2 import load_translator

    folder = ct2_dir(settings.model)
    if settings.vmap_tokens:
        _write_vmap(folder, settings.vmap_tokens)
    translator = load_translator(folder, settings.device, threads, compute_type=settings.compute_type)
    nllb = ARCHS[settings.model].family == "nllb"

    def generate(batch: list[list[int]], length: int) -> list[int]:
        # The arguments CTranslate2Backend.generate_batch passes, plus the forced minimum length.
        results = translator.translate_batch(
            [tok.convert_ids_to_tokens(ids) for ids in batch],
            target_prefix=[[NLLB_TARGET] for _ in batch] if nllb else None,
            beam_size=settings.num_beams,
            min_decoding_length=length,
            max_decoding_length=length,
            no_repeat_ngram_size=settings.no_repeat_ngram_size,
            return_end_token=True,
            max_input_length=0,
            max_batch_size=0,
            use_vmap=bool(settings.vmap_tokens),
        )
        return [len(r.hypotheses[0]) for r in results]

    return generate


def english_map_size() -> tuple[int, bool]:
    """(tokens of the English map, whether that is the real NLLB map's size): the map `make
    models` wrote for the real NLLB-600M under models/, else `ENGLISH_TOKENS_ASSUMED`."""
    from pipeline.ct2 import VMAP_FILE

    for path in sorted((ROOT / "models" / "ctranslate2").glob(f"{REAL_NLLB}/{VMAP_FILE}")):
        return len(path.read_text(encoding="utf-8").split()), True
    return ENGLISH_TOKENS_ASSUMED, False


def cuda_unavailable() -> str | None:
    """Why the GPU rows cannot run here, or None when they can."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "torch.cuda.is_available() is false: no GPU here"
    import ctranslate2

    if ctranslate2.get_cuda_device_count() < 1:
        return "this CTranslate2 build sees no CUDA device"
    return None


def _write_vmap(folder: Path, size: int) -> None:
    """A vocabulary map of `size` ordinary tokens: the cost of a Latin-script or English output
    vocabulary of that size. The synthetic vocabulary has no scripts or words to filter, so the
    real size (printed by `newsbrief models convert`) is not known here; the table names the
    size each row assumed."""
    from pipeline.ct2 import VMAP_FILE

    vocabulary = json.loads((folder / "shared_vocabulary.json").read_text(encoding="utf-8"))
    ordinary = [t for t in vocabulary[4:NLLB_ORDINARY] if not t.startswith("<")]
    keep = random.Random(5).sample(ordinary, min(size, len(ordinary)))
    (folder / VMAP_FILE).write_text("\t" + " ".join(keep) + "\n", encoding="utf-8")


# ---- the driver ------------------------------------------------------------------------------


def run_variant(settings: Settings) -> dict[str, Any]:
    """Runs one variant in a fresh process and returns its measurements."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.speed", "--worker", json.dumps(asdict(settings))],
        cwd=ROOT,
        env={**os.environ, **settings.env},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{settings.model} {settings.variant} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_run(settings: Settings, runs: int) -> dict[str, Any]:
    """The median of `runs` runs (by speed) for the CTranslate2 rows, which take seconds each and
    vary by up to 10 % from run to run; the baselines run once (naive in its time box, EasyNMT
    for about a minute)."""
    if settings.runner != "ctranslate2" or runs <= 1:
        return run_variant(settings)
    measured = sorted(
        (run_variant(settings) for _ in range(runs)), key=lambda m: m["output_tokens"] / m["seconds"]
    )
    return measured[len(measured) // 2]


def variants(model: str, units: list[Unit], args: argparse.Namespace) -> list[Settings]:
    arch = ARCHS[model]
    batch_tokens, max_items = product_batching(arch.family)
    common: dict[str, Any] = {
        "model": model,
        "units": [asdict(u) for u in units],
        "num_beams": arch.num_beams,
        "no_repeat_ngram_size": arch.no_repeat_ngram_size,
        "threads": args.threads,
        "batch_tokens": args.batch_tokens or batch_tokens,
        "max_batch_sentences": args.max_batch_sentences or max_items,
    }
    out = [
        Settings("naive", "transformers", "single", time_budget_s=args.naive_seconds, **common),
        Settings("easynmt", "transformers", "easynmt", **common),
        Settings("default", "ctranslate2", "tokens", tokenizer="product", **common),
    ]
    if not args.quick and arch.family != "bart":
        out.append(Settings("default/article", "ctranslate2", "article", tokenizer="product", **common))
    english = f"english {round(args.english_tokens / 1000)}k"
    if arch.family == "nllb":
        for size in args.latin_tokens:
            name = f"latin {size // 1000}k"
            out.append(
                Settings(name, "ctranslate2", "tokens", tokenizer="product", vmap_tokens=size, **common)
            )
        if args.english_tokens:
            name = english + ("" if args.english_real else " (assumed)")
            vmap = args.english_tokens
            out.append(
                Settings(name, "ctranslate2", "tokens", tokenizer="product", vmap_tokens=vmap, **common)
            )
    if args.gpu:
        gpu = {
            **common,
            "device": "cuda",
            "batch_tokens": GPU_BATCH_TOKENS,
            "max_batch_sentences": GPU_MAX_BATCH_SENTENCES,
        }
        fast: dict[str, Any] = {"tokenizer": "product", "compute_type": "int8_float16"}
        out += [
            Settings("cuda naive", "transformers", "single", time_budget_s=args.naive_seconds, **gpu),
            Settings("cuda easynmt", "transformers", "easynmt", **gpu),
            Settings("cuda int8_float16", "ctranslate2", "tokens", **fast, **gpu),
            Settings("cuda float16", "ctranslate2", "tokens", **{**fast, "compute_type": "float16"}, **gpu),
        ]
        if arch.family == "nllb" and args.english_tokens:
            vmap = args.english_tokens
            out.append(Settings(f"cuda {english}", "ctranslate2", "tokens", vmap_tokens=vmap, **fast, **gpu))
    for settings in out:
        settings.batches = batches_for(units, settings)
    return out


def make_row(
    settings: Settings, measured: dict[str, Any], units: list[Unit], articles: int
) -> dict[str, Any]:
    tokens_per_s = measured["output_tokens"] / measured["seconds"]
    per_article = sum(u.output_len for u in units) / articles
    batched = settings.batching in ("tokens", "article")
    return {
        "model": settings.model,
        "variant": settings.variant,
        "runner": settings.runner,
        "device": settings.device,
        "compute": _compute(settings),
        "tokens_per_s": round(tokens_per_s, 2),
        "sentences_per_s": round(measured["sentences"] / measured["seconds"], 3),
        "seconds_per_article": round(per_article / tokens_per_s, 2),
        "peak_rss_mb": round(measured["peak_rss_mb"]),
        "gpu_mb": round(measured["gpu_mb"]) if measured.get("gpu_mb") is not None else None,
        "sentences": measured["sentences"],
        "sentences_total": len(units),
        "num_beams": settings.num_beams,
        "batch_tokens": settings.batch_tokens if batched else None,
        "max_batch_sentences": (
            settings.max_batch_sentences
            if batched
            else EASYNMT_BATCH
            if settings.batching == "easynmt"
            else 1
        ),
        **{k: measured[k] for k in ("seconds", "load_s", "output_tokens", "generated_tokens", "batches")},
        "rss_before_model_mb": round(measured["rss_before_model_mb"]),
        "tokenizer": settings.tokenizer,
        "torch_loaded": measured["torch_loaded"],
        "threads": measured["threads"],
        "load_avg": round(os.getloadavg()[0], 2),
    }


def _compute(settings: Settings) -> str:
    if settings.runner == "transformers":
        return "float16" if settings.device == "cuda" else "float32"
    if settings.compute_type == "auto":
        return "int8_float16" if settings.device == "cuda" else "int8"
    return settings.compute_type


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'model':16} {'variant':22} {'sents':>7} {'sent/s':>7} {'out tok/s':>9} {'s/article':>9} "
        f"{'peak RSS MB':>11} {'x naive':>8} {'x EasyNMT':>9}"
    )
    gpu = any(r.get("gpu_mb") is not None for r in rows)
    if gpu:
        head += f" {'GPU MB':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        sents = f"{r['sentences']}/{r['sentences_total']}"
        gpu_mb = r.get("gpu_mb")
        lines.append(
            f"{r['model']:16} {r['variant']:22} {sents:>7} {r['sentences_per_s']:>7.2f} "
            f"{r['tokens_per_s']:>9.1f} {r['seconds_per_article']:>9.1f} {r['peak_rss_mb']:>11} "
            f"{_ratio(r['vs_naive']):>8} {_ratio(r['vs_easynmt']):>9}"
            + (f" {'-' if gpu_mb is None else gpu_mb:>7}" if gpu else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"NLLB only, the first {QUICK_SENTENCES} sentences"
    )
    parser.add_argument(
        "--input", type=Path, default=DEFAULT_INPUT, help="folder of articles (default: inbox/)"
    )
    parser.add_argument("--models", nargs="+", choices=list(ARCHS), help="default: all; --quick: nllb-600m")
    parser.add_argument("--naive-seconds", type=float, help="time box of the naive baseline (60; quick 15)")
    parser.add_argument(
        "--batch-tokens", type=int, help="default path's token budget (default: config.yaml's)"
    )
    parser.add_argument(
        "--max-batch-sentences", type=int, help="default: config.yaml's (the summarizer's: articles)"
    )
    parser.add_argument("--threads", type=int, default=0, help="0 = every core")
    parser.add_argument(
        "--latin-tokens",
        type=int,
        nargs="*",
        default=None,
        help="NLLB rows with output_vocabulary: latin of these sizes (default 128000 64000; quick: none)",
    )
    parser.add_argument(
        "--english-tokens",
        type=int,
        default=None,
        help="NLLB row with the English output vocabulary of this size (default: the real map's "
        f"size under models/, else {ENGLISH_TOKENS_ASSUMED}; 0: no row)",
    )
    parser.add_argument(
        "--gpu",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the cuda rows (default: when torch and CTranslate2 see a GPU)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="the workload this many times over (a night's volume)"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="JSON rows (default: bench-results.json)"
    )
    parser.add_argument("--runs", type=int, help="CTranslate2 rows: median of this many runs (3; quick 1)")
    parser.add_argument("--variants", nargs="+", help="run only these rows (e.g. default 'latin 64k')")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(Settings(**json.loads(args.worker)))))
        return 0
    if args.naive_seconds is None:
        args.naive_seconds = 15.0 if args.quick else 60.0
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.latin_tokens is None:
        args.latin_tokens = [] if args.quick else [128_000, 64_000]
    args.english_real = False
    if args.english_tokens is None:
        args.english_tokens, args.english_real = english_map_size()
    where = (
        "the real NLLB-600M map under models/"
        if args.english_real
        else "assumed: no real NLLB map under models/"
    )
    no_gpu = cuda_unavailable()
    if args.gpu is None:
        args.gpu = no_gpu is None
    elif args.gpu and no_gpu:
        raise SystemExit(f"--gpu: {no_gpu}")
    models = args.models or (["nllb-600m"] if args.quick else list(ARCHS))
    load_start = os.getloadavg()[0]
    started = time.perf_counter()

    built = build_all(models)
    build_s = time.perf_counter() - started
    if any(built.values()):
        print(f"built {', '.join(m for m, s in built.items() if s)} into {CACHE} in {build_s:.0f}s")
    else:
        print(f"models in {CACHE} are up to date (checked in {build_s:.1f}s)")

    articles = read_workload(args.input)
    if args.quick:
        articles = first_sentences(articles, QUICK_SENTENCES)
    articles = articles * max(1, args.repeat)
    print(f"workload: {len(articles)} articles, {sum(len(a) for a in articles)} sentences from {args.input}")

    rows: list[dict[str, Any]] = []
    for model in models:
        arch = ARCHS[model]
        units = units_for(arch.family, articles)
        print(
            f"{model} ({arch.real} shape): {len(units)} inputs, {sum(u.source_len for u in units)} "
            f"source tokens, {sum(u.output_len for u in units)} output tokens, {arch.num_beams} beams",
            flush=True,
        )
        model_rows = []
        for settings in variants(model, units, args):
            if args.variants and settings.variant not in args.variants:
                continue
            r = make_row(settings, median_run(settings, args.runs), units, len(articles))
            print(
                f"  {settings.variant:22} {r['tokens_per_s']:8.1f} tok/s {r['peak_rss_mb']:6} MB  "
                f"({r['sentences']}/{r['sentences_total']} in {r['seconds']:.0f}s, load average "
                f"{r['load_avg']})",
                flush=True,
            )
            model_rows.append(r)
        speed = {r["variant"]: r["tokens_per_s"] for r in model_rows}
        for r in model_rows:
            for base in ("naive", "easynmt"):  # absent when --variants left the baseline out
                # A GPU row is compared with the GPU's own baselines.
                name = f"cuda {base}" if r["device"] == "cuda" else base
                r[f"vs_{base}"] = round(r["tokens_per_s"] / speed[name], 2) if name in speed else None
        rows += model_rows

    print()
    print(format_table(rows))
    print()
    print(
        f"naive: timed on a random subset (sents column) in a {args.naive_seconds:.0f}s box. "
        f"CTranslate2 rows: the median of {args.runs} run(s). "
        "default: CTranslate2 int8, batches of "
        + "; ".join(
            f"{m}: {r['batch_tokens']} padded tokens, at most {r['max_batch_sentences']} inputs"
            for m, r in {r["model"]: r for r in rows if r["variant"] == "default"}.items()
        )
        + f"; threads={rows[0]['threads']}. "
        "Others: transformers float32."
    )
    if args.english_tokens:
        print(
            f"english: the English output vocabulary map, {args.english_tokens:,} tokens ({where}); "
            "forced on for this row: random weights say nothing about translation quality, "
            "`newsbrief models verify` decides on the real model."
        )
    print(
        f"GPU rows: batches of {GPU_BATCH_TOKENS} padded tokens; x naive and x EasyNMT against "
        "cuda naive and cuda easynmt."
        if args.gpu
        else f"GPU rows: skipped ({no_gpu})."
    )
    print(
        f"load average {load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end; "
        f"{time.perf_counter() - started:.0f}s in all, {build_s:.0f}s of it building/checking models"
    )
    args.output.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"rows written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
