"""The CTranslate2 backend: the same checkpoints, converted once to int8, decoded fast on a small CPU.

`convert` turns a local transformers seq2seq model (NLLB/M2M100, Marian, BART) into a
CTranslate2 model directory; `load_translator` opens it; `CTranslate2Backend` runs batches
through it behind the same `Backend` interface as transformers, so a route switches backend in
config.yaml alone.

The converted directory holds the model (`config.json`, `model.bin`,
`shared_vocabulary.json`), the tokenizer files that pipeline/tokenizer.py reads without
transformers or torch (written from transformers' own tokenizer at conversion), the generation
settings transformers uses for the checkpoint (`newsbrief-generation.json`, also for checkpoints
that keep them in config.json only), and a stamp. A CTranslate2 route therefore runs in a process
that never imports torch.

What the converted config takes care of (checked by tests/test_ct2.py against transformers):
NLLB decodes from `</s>` and gets `eng_Latn` as a target prefix (transformers' forced BOS);
Marian decodes from a zero embedding (transformers' `<pad>` start token, whose embedding is
zero) and its `<pad>` is dropped from the vocabulary, so it can never be generated (transformers
bans it with `bad_words_ids`). One difference remains: transformers forces `</s>` as the last
token of a Marian or BART output that reaches its budget (`forced_eos_token_id`); CTranslate2
does not, so a cut translation differs in that one token (a summary stops one token early
instead, so that its beam search picks transformers' beam). Cut outputs are flagged either way.
tests/test_realckpt.py checks all of this on the real checkpoints' files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.tokenizer import save_tokenizer

if TYPE_CHECKING:
    import ctranslate2

    from pipeline.backends import DecodingOptions, LoadedModel, SummaryDecoding

log = logging.getLogger("newsbrief.ct2")

# No bfloat16: on CPU its matmuls can crash with SIGILL (oneDNN's AMX path).
QUANTIZATIONS = ("int8", "int8_float32", "int8_float16", "float16", "float32")
STAMP_FILE = "newsbrief-ct2.json"
# Bumped when a converted folder gains files: older conversions are then redone.
#   2: the tokenizer files (pipeline/tokenizer.py) are saved beside the model.
#   3: translation models get `vmap.txt`, their Latin-script output vocabulary.
#   4: `newsbrief-generation.json`, the generation settings transformers derives for the checkpoint.
#   5: `vmap.txt` is the English output vocabulary (`write_english_vmap`); the Latin one moved
#      to `latin/` (a folder of links to the same model with its own `vmap.txt`).
LAYOUT = 5
VMAP_FILE = "vmap.txt"
# CTranslate2 reads `vmap.txt` from the model's folder when it loads it, so each map is a folder:
# the English map beside the model, the Latin one in this subfolder (links to the same files).
LATIN_DIR = "latin"
_MODEL_FILES = ("config.json", "model.bin", "shared_vocabulary.json")
# English words tokenised for the English output vocabulary (wordfreq's most frequent first).
ENGLISH_WORDS = 50_000
# Punctuation an English sentence may hold beyond ASCII's: typographic quotes, dashes, ellipsis,
# guillemets (kept by some translations of quotes), degree, currencies, section and bullets.
TYPOGRAPHIC = "“”‘’„‚«»‹›–—―…·•°′″€£¥¢§©®™±×÷½¼¾"
GENERATION_FILE = "newsbrief-generation.json"
# transformers' model_type → the family whose tokenizer files are saved beside the model.
FAMILIES = {"m2m_100": "nllb", "marian": "marian", "bart": "bart"}
# The files of a transformers checkpoint that decide what the converted model holds.
_SOURCE_FILES = ("config.json", "generation_config.json", "model.safetensors", "pytorch_model.bin")


def _ctranslate2() -> Any:
    try:
        import ctranslate2
    except ImportError as exc:
        raise ImportError(
            "the ctranslate2 backend needs the ctranslate2 package: "
            "`pip install ctranslate2` (pinned in requirements.txt)"
        ) from exc
    return ctranslate2


# ---- converting ------------------------------------------------------------------------------


def convert(src_dir: Path, out_dir: Path, quantization: str = "int8", *, force: bool = False) -> Path:
    """Writes the CTranslate2 copy of the transformers model in `src_dir` to `out_dir`.

    Weights are stored quantized (int8: a quarter of float32 on disk and in memory). The work is
    skipped when `out_dir` already holds a conversion of the same source files with the same
    quantization (unless `force`). The copy is written to a scratch folder beside `out_dir` and
    moved into place, so an interrupted conversion never leaves a half-written model.
    """
    ct2 = _ctranslate2()
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r} (valid: {', '.join(QUANTIZATIONS)})")
    if not (src_dir / "config.json").is_file():
        raise FileNotFoundError(f"{src_dir} is not a transformers model directory (no config.json)")
    stamp = _stamp(src_dir, quantization, ct2.__version__)
    if not force and _read_stamp(out_dir) == stamp and (out_dir / "model.bin").is_file():
        log.info("%s is already converted (%s) in %s", src_dir, quantization, out_dir)
        return out_dir

    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a nightly log
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}-", dir=out_dir.parent) as tmp:
            scratch = Path(tmp) / "model"
            converter = _converter(src_dir)
            converter.convert(str(scratch), quantization=quantization)
            family = family_of(src_dir)
            tokens = save_tokenizer(src_dir, scratch, family)
            settings = generation_settings(converter.generation_config, src_dir)
            # Rows of the embedding that no token owns (NLLB has two: `madeupword0`, `madeupword1`
            # in the converted vocabulary): the model must never produce them.
            vocabulary = json.loads((scratch / "shared_vocabulary.json").read_text(encoding="utf-8"))
            settings["suppress_tokens"] = vocabulary[tokens:]
            _write_json(scratch / GENERATION_FILE, settings)
            if family != "bart":  # the summarizer reads and writes English only
                write_english_vmap(scratch, family)
                write_latin_vmap(scratch)
            (scratch / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            if out_dir.exists():
                shutil.rmtree(out_dir)
            scratch.rename(out_dir)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    log.info("converted %s to %s (%s)", src_dir, out_dir, quantization)
    return out_dir


def family_of(model_dir: Path) -> str:
    """The tokenizer family of a transformers model directory, from its model type."""
    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    model_type = config.get("model_type")
    if model_type not in FAMILIES:
        raise ValueError(f"{model_dir}: model type {model_type!r} is not one of {', '.join(FAMILIES)}")
    return FAMILIES[model_type]


def is_latin_output(token: str) -> bool:
    """Whether an English output may contain this token: Latin letters, ASCII digits, marks,
    punctuation, symbols and spaces. Out go the pieces of every other script (Cyrillic,
    Georgian, Arabic, Han...), and the other scripts' digits."""
    for char in token.replace("▁", ""):
        category = unicodedata.category(char)
        if category.startswith("L"):
            if not unicodedata.name(char, "").startswith("LATIN"):
                return False
        elif category.startswith("N"):
            if not char.isascii():
                return False
        elif not category.startswith(("M", "P", "S", "Z")):
            return False
    return True


def write_latin_vmap(model_dir: Path) -> tuple[int, int]:
    """Writes the model's Latin-script output vocabulary as CTranslate2's vocabulary map, in
    `latin/` (see `LATIN_DIR`).

    A line with an empty source n-gram lists the target tokens that are always candidates; with
    `use_vmap` each decoding step scores only those (plus the special tokens and the target
    prefix) instead of the whole vocabulary: NLLB's output layer is 256k rows, more than half of
    a decoder step's work. Returns (tokens kept, vocabulary size).
    """
    vocabulary = _vocabulary(model_dir)
    keep = [t for t in vocabulary if t and " " not in t and is_latin_output(t)]
    folder = _map_folder(model_dir, LATIN_DIR)
    _write_vmap(folder, keep)
    log.info("Latin output vocabulary: %d of %d tokens", len(keep), len(vocabulary))
    return len(keep), len(vocabulary)


def write_english_vmap(model_dir: Path, family: str, words: int = ENGLISH_WORDS) -> tuple[int, int]:
    """Writes the English output vocabulary as `vmap.txt` beside the model: the pieces the model's
    own tokenizer cuts English into, and nothing else.

    The pieces of wordfreq's `words` most frequent English words (as written, capitalised, in
    capitals when short, and after an opening bracket, where SentencePiece starts no word), every
    token made only of digits and punctuation, every single Latin letter (so that any name can
    still be spelled), and the special tokens with NLLB's `eng_Latn`. Returns (tokens kept,
    vocabulary size).
    """
    from wordfreq import top_n_list

    vocabulary = _vocabulary(model_dir)
    known = set(vocabulary)
    texts: list[str] = []
    for word in filter(_english_word, top_n_list("en", words)):
        forms = {word, word.capitalize(), *([word.upper()] if len(word) <= 5 else [])}
        texts += [*forms, *(f"({form}" for form in forms)]
    keep = {t for t in vocabulary if _english_bare_piece(t)}
    keep |= {t for pieces in _tokenize_english(model_dir, family, texts) for t in pieces}
    keep |= set(_special_tokens(model_dir, family)) | {"▁"}
    ordered = [t for t in vocabulary if t in keep and t in known and t and " " not in t]
    _write_vmap(model_dir, ordered)
    log.info("English output vocabulary: %d of %d tokens", len(ordered), len(vocabulary))
    return len(ordered), len(vocabulary)


def _english_word(word: str) -> bool:
    """A word of wordfreq's English list written in Latin letters (the list also holds `и`,
    Greek letters and emoji, from the web text it counts)."""
    return any(c.isalpha() for c in word) and all(
        c.isascii() or c in TYPOGRAPHIC or (c.isalpha() and unicodedata.name(c, "").startswith("LATIN"))
        for c in word
    )


def _english_bare_piece(token: str) -> bool:
    """Digits, punctuation and single Latin letters, with or without the word-start mark."""
    body = token.removeprefix("▁")
    if not body:
        return False
    if len(body) == 1 and body.isalpha():
        return unicodedata.name(body, "").startswith("LATIN")
    return all((c.isascii() and not c.isalpha() and not c.isspace()) or c in TYPOGRAPHIC for c in body)


def _tokenize_english(model_dir: Path, family: str, texts: list[str]) -> list[list[str]]:
    """The pieces the model's own tokenizer (saved beside it) cuts each text into, for the output
    side: Marian's target SentencePiece model, NLLB's `tokenizer.json`."""
    if family == "marian":
        import sentencepiece

        target = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / "target.spm"))
        return target.encode(texts, out_type=str)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    return [e.tokens for e in tok.encode_batch(texts, add_special_tokens=False)]


def _special_tokens(model_dir: Path, family: str) -> list[str]:
    """The tokens a translation into English begins or ends with, and the padding."""
    specials = ["</s>", "<s>", "<pad>", "<unk>"]
    return [*specials, "eng_Latn"] if family == "nllb" else specials


def _vocabulary(model_dir: Path) -> list[str]:
    return json.loads((Path(model_dir) / "shared_vocabulary.json").read_text(encoding="utf-8"))


def _write_vmap(folder: Path, tokens: list[str]) -> None:
    (folder / VMAP_FILE).write_text("\t" + " ".join(tokens) + "\n", encoding="utf-8")


def _map_folder(model_dir: Path, name: str) -> Path:
    """A subfolder that CTranslate2 opens as the same model (links to its files) with another map."""
    folder = Path(model_dir) / name
    folder.mkdir(exist_ok=True)
    for file in _MODEL_FILES:
        link = folder / file
        if not link.exists():
            try:
                link.symlink_to(Path("..") / file)
            except OSError:  # a file system without symbolic links: a hard link costs no space either
                os.link(Path(model_dir) / file, link)
    return folder


def read_vmap(folder: Path) -> set[str]:
    """The tokens a folder's `vmap.txt` lets the model produce (empty when it has none)."""
    path = Path(folder) / VMAP_FILE
    return set(path.read_text(encoding="utf-8").split()) if path.is_file() else set()


def vmap_sha256(folder: Path) -> str | None:
    """A short hash of a folder's `vmap.txt`: a verified decision holds for this map only."""
    import hashlib

    path = Path(folder) / VMAP_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None


def model_folder(model_dir: Path, vocabulary: str) -> Path:
    """The folder to open for an output vocabulary: `latin` has its own, the rest the model's."""
    return Path(model_dir) / LATIN_DIR if vocabulary == "latin" else Path(model_dir)


# What a converted model needs of the checkpoint's generation settings (the rest is in its config).
GENERATION_KEYS = (
    "decoder_start_token_id",
    "forced_bos_token_id",
    "forced_eos_token_id",
    "length_penalty",
    "no_repeat_ngram_size",
    "min_length",
    "max_length",
    "num_beams",
    "early_stopping",
    "bad_words_ids",
)


def generation_settings(generation_config: Any, src_dir: Path) -> dict[str, Any]:
    """The settings transformers itself generates with for this checkpoint, as plain JSON.

    `generation_config` is the model's own, as `from_pretrained` built it: from
    `generation_config.json`, or, for checkpoints that predate that file (distilbart-cnn-12-6's
    Hub repository keeps forced_bos_token_id, length_penalty 2.0, no_repeat_ngram_size 3,
    min/max_length and num_beams in `config.json`), derived from `config.json` by
    `GenerationConfig.from_model_config`. `prefix` is the text transformers' summarization
    pipeline puts before every input (distilbart's is a space).
    """
    values = generation_config.to_dict() if generation_config is not None else {}
    settings = {key: values[key] for key in GENERATION_KEYS if values.get(key) is not None}
    config = json.loads((Path(src_dir) / "config.json").read_text(encoding="utf-8"))
    if config.get("prefix"):
        settings["prefix"] = config["prefix"]
    return settings


def read_generation_settings(model_dir: Path) -> dict[str, Any]:
    """What `convert` saved beside the model (see `generation_settings`)."""
    return json.loads((Path(model_dir) / GENERATION_FILE).read_text(encoding="utf-8"))


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _converter(src_dir: Path) -> Any:
    ct2 = _ctranslate2()

    class Converter(ct2.converters.TransformersConverter):
        generation_config: Any = None

        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            # Kept for `generation_settings`: what transformers derived for this very checkpoint.
            self.generation_config = getattr(model, "generation_config", None)
            # transformers 5 dropped BartConfig.normalize_before, which the BART loader reads;
            # BART is post-norm (the Marian and M2M100 loaders set the attribute themselves).
            if not hasattr(model.config, "normalize_before"):
                model.config.normalize_before = False
            return model

    return Converter(str(src_dir))


def _stamp(src_dir: Path, quantization: str, version: str) -> dict[str, object]:
    files = {}
    for name in _SOURCE_FILES:
        path = src_dir / name
        if path.is_file():
            st = path.stat()
            files[name] = [st.st_size, st.st_mtime_ns]
    return {
        "source": str(src_dir.resolve()),
        "source_files": files,
        "quantization": quantization,
        "ctranslate2": version,
        "layout": LAYOUT,
    }


def is_current(out_dir: Path) -> bool:
    """Whether `out_dir` holds a conversion in this newsbrief's layout (older ones lack files)."""
    stamp = _read_stamp(out_dir)
    return (out_dir / "model.bin").is_file() and isinstance(stamp, dict) and stamp.get("layout") == LAYOUT


def _read_stamp(out_dir: Path) -> object:
    try:
        return json.loads((out_dir / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


# ---- loading ---------------------------------------------------------------------------------


def load_translator(
    path: Path,
    device: str,
    threads: int,
    *,
    compute_type: str = "auto",
    max_queued_batches: int = 0,
) -> ctranslate2.Translator:
    """Opens a converted model: int8 on CPU, int8_float16 on CUDA, unless `compute_type` says otherwise.

    `threads` is the number of CPU threads one batch uses (0 = every core this process may run
    on; CTranslate2's own 0 would mean "at most 4"). One batch runs at a time (`inter_threads=1`):
    on a small machine two concurrent batches only split the same cores and double the memory.
    """
    ct2 = _ctranslate2()
    path = Path(path)
    if not (path / "model.bin").is_file():
        raise FileNotFoundError(f"{path} holds no CTranslate2 model (model.bin): convert it first")
    if device == "auto":
        device = "cuda" if ct2.get_cuda_device_count() > 0 else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"CTranslate2 runs on 'cpu' or 'cuda', not {device!r}")
    if compute_type == "auto":
        compute_type = "int8_float16" if device == "cuda" else "int8"
    supported = ct2.get_supported_compute_types(device)
    if compute_type not in supported:
        raise ValueError(
            f"compute type {compute_type!r} is not supported on {device} here "
            f"(supported: {', '.join(sorted(supported))})"
        )
    translator = ct2.Translator(
        str(path),
        device=device,
        compute_type=compute_type,
        inter_threads=1,
        intra_threads=threads or cpu_count(),
        max_queued_batches=max_queued_batches,
    )
    log.info(
        "loaded %s on %s as %s with %d threads", path, device, translator.compute_type, threads or cpu_count()
    )
    return translator


def cpu_count() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# ---- generating ------------------------------------------------------------------------------


class CTranslate2Backend:
    """`Translator.translate_batch` on a converted copy; `loaded.model` is a `ctranslate2.Translator`."""

    def generate_batch(
        self,
        loaded: LoadedModel,
        input_ids: list[list[int]],
        max_new_tokens: int,
        decoding: DecodingOptions,
        target_token: str | None,
    ) -> list[tuple[str, bool]]:
        tok = loaded.tokenizer
        prefix = [[target_token] for _ in input_ids] if target_token else None
        results = translate_ids(loaded, input_ids, max_new_tokens, decoding, target_token)
        eos = tok.eos_token
        outputs = []
        for result in results:
            tokens = result.hypotheses[0]
            ended = bool(tokens) and tokens[-1] == eos
            cut = not ended and len(tokens) >= max_new_tokens
            if prefix and tokens[:1] == [target_token]:
                tokens = tokens[1:]
            if ended:
                tokens = tokens[:-1]
            ids = tok.convert_tokens_to_ids(tokens)
            outputs.append((tok.decode(ids, skip_special_tokens=True).strip(), cut))
        return outputs

    def summarize_batch(self, loaded: LoadedModel, texts: list[str], decoding: SummaryDecoding) -> list[str]:
        from pipeline.backends import with_prefix

        tok, generation = loaded.tokenizer, loaded.generation
        source = [tok.convert_ids_to_tokens(tok(text)["input_ids"]) for text in with_prefix(loaded, texts)]
        # BART summarizers force <s> as their first token (transformers' forced_bos_token_id);
        # here it is a target prefix, counted in the lengths as transformers counts it.
        bos = generation.get("forced_bos_token_id")
        prefix = [tok.convert_ids_to_tokens([bos]) for _ in source] if bos is not None else None
        # transformers forces </s> as the last token at the budget (forced_eos_token_id), and so
        # picks the best beam one step before it; stopping one token earlier picks the same beam.
        longest = decoding.max_new_tokens - (generation.get("forced_eos_token_id") is not None)
        results = loaded.model.translate_batch(
            source,
            target_prefix=prefix,
            beam_size=decoding.num_beams,
            min_decoding_length=min(decoding.min_new_tokens, longest),
            max_decoding_length=longest,
            no_repeat_ngram_size=decoding.no_repeat_ngram_size,
            length_penalty=generation.get("length_penalty", 1.0),
            max_input_length=0,  # the summarizer has already chunked its input
            max_batch_size=0,
            **never_generated(loaded),
        )
        ids = [tok.convert_tokens_to_ids(r.hypotheses[0]) for r in results]
        return [tok.decode(i, skip_special_tokens=True).strip() for i in ids]


def translate_ids(
    loaded: LoadedModel,
    input_ids: list[list[int]],
    max_new_tokens: int,
    decoding: DecodingOptions,
    target_token: str | None,
    *,
    use_vmap: bool | None = None,
    hypotheses: int = 1,
) -> list[Any]:
    """CTranslate2's results for a batch of token ids, with the pipeline's settings. `use_vmap`:
    the model's output vocabulary map (default: as `loaded.vocabulary` says); `hypotheses`: how
    many of the final beams each result keeps, best first."""
    tok = loaded.tokenizer
    source = [tok.convert_ids_to_tokens(ids) for ids in input_ids]
    prefix = [[target_token] for _ in source] if target_token else None
    return loaded.model.translate_batch(
        source,
        target_prefix=prefix,
        beam_size=decoding.num_beams,
        num_hypotheses=hypotheses,
        # Counts the target prefix, as transformers' max_new_tokens counts the forced BOS.
        max_decoding_length=max_new_tokens,
        no_repeat_ngram_size=decoding.no_repeat_ngram_size,
        repetition_penalty=decoding.repetition_penalty,
        return_end_token=True,  # tells an output that ended from one that ran out of budget
        max_input_length=0,  # never truncate: the Translator splits long inputs beforehand
        max_batch_size=0,  # the Translator has already batched by tokens
        use_vmap=loaded.vocabulary != "all" if use_vmap is None else use_vmap,
        length_penalty=loaded.generation.get("length_penalty", 1.0),
        **never_generated(loaded),
    )


def never_generated(loaded: LoadedModel) -> dict[str, Any]:
    """`<unk>` and the vocabulary rows that no token owns are never generated (as on transformers)."""
    rows = loaded.generation.get("suppress_tokens") or []
    return {"disable_unk": True, "suppress_sequences": [[t] for t in rows] or None}
