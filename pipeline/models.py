"""The one place that resolves, downloads, locks and loads models.

A model named in config.yaml is either a Hub repository at a pinned revision, stored under
`models/` in the Hub cache layout, or a local directory (`path:`), such as the tiny fixture
models or your own fine-tune. Both load through the same `from_pretrained` call.

`make models` resolves each Hub revision to its commit and writes `models/models.lock.json`;
digest runs are offline by default and load exactly the locked commit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.backends import LoadedModel, ModelSpec, backend_for
from pipeline.errors import ConfigError, ModelMissingError

log = logging.getLogger("newsbrief.models")

LOCK_FILE = "models.lock.json"
# What a transformers seq2seq model needs; other frameworks' weights are never fetched.
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.bin", "*.model", "*.spm", "*.txt", "*.vocab"]
IGNORE_PATTERNS = ["*.msgpack", "*.h5", "*.onnx", "*.ot", "flax_*", "tf_*", "rust_*", "onnx/*"]


class RuntimeOptions(BaseModel):
    """Where and how models run.

    Attributes:
        device: `auto` picks CUDA, then Apple MPS, then CPU.
        dtype: `auto` is float16 on CUDA and float32 elsewhere. bfloat16 on CPU can crash
            with SIGILL through oneDNN's AMX path; set ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 if you need it.
        threads: torch CPU threads; 0 means every core.
        max_loaded_models: at most this many models stay in memory (least recently used released).
        offline: digest runs never touch the network unless this is false.
        executor: where translation and summarization run: `local` (this process) or `ray`
            (actor pools on a Ray cluster; `pip install newsbrief[ray]`). Same briefs either way.
        ray_address: the cluster to join. `auto`: the one RAY_ADDRESS names or a head already
            running on this machine, else a local cluster sized to this machine; `local`: always
            a new local cluster; or `host:6379` / `ray://host:10001`.
        ray_cpus_per_actor: CPUs one translating or summarizing actor reserves; its CTranslate2
            threads when `threads` is 0.
        ray_gpus_per_actor: GPUs (or a fraction) one actor reserves when the device is CUDA.
        ray_max_actors: at most this many actors per stage; 0 = as many as the cluster fits.
        ray_max_restarts: a worker that dies is restarted and its group retried this many
            times; past that, the articles it held are listed as failed and the run goes on.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    threads: int = Field(0, ge=0)
    max_loaded_models: int = Field(3, ge=1)
    offline: bool = True
    executor: Literal["local", "ray"] = "local"
    ray_address: str = "auto"
    ray_cpus_per_actor: float = Field(1.0, gt=0)
    ray_gpus_per_actor: float = Field(1.0, gt=0)
    ray_max_actors: int = Field(0, ge=0)
    ray_max_restarts: int = Field(3, ge=0)


@dataclass(frozen=True)
class ModelStatus:
    name: str
    spec: ModelSpec
    present: bool
    location: str  # local directory, or what is missing
    revision: str | None


class ModelStore:
    """Resolves model names from config.yaml to local files and keeps loaded models (LRU)."""

    def __init__(
        self, models_dir: Path, specs: dict[str, ModelSpec], runtime: RuntimeOptions, base_dir: Path
    ):
        self.models_dir = models_dir
        self.specs = specs
        self.runtime = runtime
        self.base_dir = base_dir
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()
        self.loads = 0  # how many times a model was read from disk, for logs and tests

    # ---- resolving -------------------------------------------------------------------
    def spec(self, name: str) -> ModelSpec:
        try:
            return self.specs[name]
        except KeyError:
            raise ConfigError(
                f"no model named {name!r} under `models:` (have: {', '.join(self.specs)})"
            ) from None

    def lock(self) -> dict[str, dict[str, Any]]:
        path = self.models_dir / LOCK_FILE
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path} is unreadable ({exc}); delete it and run `make models`") from exc

    def local_path(self, name: str) -> tuple[Path, str]:
        """The model's local directory and exact revision (with its CTranslate2 copy, where that
        is the backend), or ModelMissingError saying which command fetches or makes it."""
        path, revision = self.source_path(name)
        spec = self.spec(name)
        if spec.backend == "ctranslate2":
            from pipeline.ct2 import is_current

            folder = self.ct2_path(name)
            if not is_current(folder):
                what = "an outdated" if (folder / "model.bin").is_file() else "no"
                raise ModelMissingError(
                    f"model {spec.id} has {what} CTranslate2 {spec.quantization} copy: run `make models` "
                    "(or `newsbrief models convert`)"
                )
        return path, revision

    def source_path(self, name: str) -> tuple[Path, str]:
        """The transformers directory of a model and the exact revision it holds, or ModelMissingError."""
        spec = self.spec(name)
        if spec.path:
            path = Path(spec.path) if Path(spec.path).is_absolute() else self.base_dir / spec.path
            if not (path / "config.json").exists():
                hint = "run `make tiny-models`" if "tiny" in str(path) else "check `path:` in config.yaml"
                raise ModelMissingError(f"model {name} ({spec.id}) is not at {path}: {hint}")
            return path, _fingerprint(path)
        locked = self.lock().get(spec.id, {})
        revision = locked.get("commit") if locked.get("revision") == spec.revision else None
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            path = Path(
                snapshot_download(
                    spec.id,
                    revision=revision or spec.revision,
                    cache_dir=self.models_dir,
                    local_files_only=True,
                    allow_patterns=ALLOW_PATTERNS,
                    ignore_patterns=IGNORE_PATTERNS,
                )
            )
        except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError):
            raise ModelMissingError(
                f"model {spec.id} (revision {spec.revision}) is not in {self.models_dir}/ and downloads "
                "are off: run `make models` (or `newsbrief models download`) on a machine with network"
            ) from None
        if not (path / "config.json").exists():
            raise ModelMissingError(f"model {spec.id} in {path} is incomplete: run `make models` again")
        return path, path.name  # the snapshot folder is named by its commit

    def ct2_path(self, name: str) -> Path:
        """Where the CTranslate2 copy of a model lives: one folder per source revision and type."""
        spec = self.spec(name)
        _, revision = self.source_path(name)
        rev = revision if revision.startswith("local-") else revision[:12]
        return self.models_dir / "ctranslate2" / f"{spec.id.replace('/', '--')}@{rev}-{spec.quantization}"

    def status(self, names: list[str] | None = None) -> list[ModelStatus]:
        """Whether each model (all, or those named) is present locally, and at which revision."""
        out = []
        for name, spec in self.specs.items():
            if names is not None and name not in names:
                continue
            try:
                path, rev = self.local_path(name)
                out.append(ModelStatus(name, spec, True, str(path), rev))
            except ModelMissingError as exc:
                out.append(ModelStatus(name, spec, False, str(exc), None))
        return out

    # ---- downloading -----------------------------------------------------------------
    def download(self, name: str) -> tuple[Path, str]:
        """Fetches a Hub model at its pinned revision and records the commit in the lock file."""
        spec = self.spec(name)
        if spec.path:
            return self.local_path(name)
        from huggingface_hub import HfApi, snapshot_download

        files = HfApi().list_repo_files(spec.id, revision=spec.revision)
        ignore = list(IGNORE_PATTERNS)
        if any(f.endswith(".safetensors") for f in files):
            ignore.append("*.bin")  # the same weights twice would double the download
        path = Path(
            snapshot_download(
                spec.id,
                revision=spec.revision,
                cache_dir=self.models_dir,
                allow_patterns=ALLOW_PATTERNS,
                ignore_patterns=ignore,
            )
        )
        lock = self.lock()
        # Other keys (the output vocabulary decisions, per converted copy) stay.
        lock[spec.id] = {**lock.get(spec.id, {}), "revision": spec.revision, "commit": path.name}
        _write_json(self.models_dir / LOCK_FILE, lock)
        log.info("downloaded %s at %s into %s", spec.id, path.name, path)
        return path, path.name

    # ---- loading ---------------------------------------------------------------------
    def load(self, name: str) -> LoadedModel:
        """The model and tokenizer, loaded once and kept while among the most recently used."""
        if name in self._loaded:
            self._loaded.move_to_end(name)
            return self._loaded[name]
        path, revision = self.local_path(name)
        spec = self.spec(name)
        while len(self._loaded) >= self.runtime.max_loaded_models:
            old, _ = self._loaded.popitem(last=False)
            log.info("released model %s (max_loaded_models=%d)", old, self.runtime.max_loaded_models)
        loaded = self._load(name, spec, path, revision)
        self._loaded[name] = loaded
        self.loads += 1
        return loaded

    def _load(self, name: str, spec: ModelSpec, path: Path, revision: str) -> LoadedModel:
        if spec.backend == "ctranslate2":
            return self._load_ctranslate2(name, spec, revision)
        import torch
        from transformers import AutoModelForSeq2SeqLM
        from transformers.utils import logging as hf_logging

        from pipeline.ct2 import generation_settings
        from pipeline.tokenizer import load_hf_tokenizer

        device = pick_device(self.runtime.device)
        dtype = pick_dtype(self.runtime.dtype, device)
        configure_threads(self.runtime.threads)
        log.info("loading %s (%s @ %s) on %s as %s", name, spec.id, revision[:12], device, dtype)
        tokenizer = load_hf_tokenizer(path)
        hf_logging.disable_progress_bar()  # a bar per load is noise in a nightly log
        model = AutoModelForSeq2SeqLM.from_pretrained(path, dtype=getattr(torch, dtype))
        model.to(device).eval()
        generation = generation_settings(model.generation_config, path)
        # Every generate() call passes explicit max/min_new_tokens; the checkpoint's own
        # max_length/min_length would only clash with them (and warn on every call).
        model.generation_config.max_length = None
        model.generation_config.min_length = None
        return LoadedModel(name, spec, model, tokenizer, revision, device, generation=generation)

    def _load_ctranslate2(self, name: str, spec: ModelSpec, revision: str) -> LoadedModel:
        """The int8 copy and its file-based tokenizer: neither imports torch or transformers."""
        from pipeline.ct2 import load_translator, model_folder, read_generation_settings
        from pipeline.tokenizer import load_tokenizer

        folder = self.ct2_path(name)
        vocabulary, note = self.output_vocabulary(name)
        device = self.runtime.device
        if device == "mps":
            log.warning("CTranslate2 has no Apple MPS backend; %s runs on the CPU", name)
            device = "cpu"
        # int8 means "the fast quantized type for the device": int8 on a CPU, int8_float16 on CUDA.
        compute = "auto" if spec.quantization == "int8" else spec.quantization
        translator = load_translator(
            model_folder(folder, vocabulary), device, self.runtime.threads, compute_type=compute
        )
        tokenizer = load_tokenizer(folder, spec.family)
        # Saved at conversion: what transformers would generate with (see ct2.generation_settings).
        generation = read_generation_settings(folder)
        return LoadedModel(
            name,
            spec,
            translator,
            tokenizer,
            revision,
            translator.device,
            backend_for(spec.backend),
            generation,
            vocabulary,
            note,
        )

    # ---- the output vocabulary ---------------------------------------------------------
    def output_vocabulary(self, name: str) -> tuple[str, str]:
        """(the output vocabulary model `name` decodes with, why), as a brief states it.

        `auto` is `english` only where `models verify` recorded that the English map translates
        its texts as the whole vocabulary does, for this very copy and map; else `all`.
        """
        spec = self.spec(name)
        if spec.backend != "ctranslate2" or spec.family == "bart":
            return "all", ""
        if spec.output_vocabulary != "auto":
            return spec.output_vocabulary, "set in config.yaml" if spec.output_vocabulary != "all" else ""
        decision = self.vocabulary_decision(name)
        if decision is None:
            return "all", "auto: not verified yet, `newsbrief models verify` decides"
        if decision["vocabulary"] == "english":
            return "english", f"auto: verified {decision['verified']}, same translations"
        return "all", f"auto: verified {decision['verified']}, kept off: {decision['reason']}"

    def vocabulary_decision(self, name: str) -> dict | None:
        """What `models verify` decided for this model's current converted copy and English map,
        or None (never verified, or verified on another copy or map)."""
        from pipeline.ct2 import vmap_sha256

        spec = self.spec(name)
        try:
            folder = self.ct2_path(name)
        except ModelMissingError:
            return None
        entry = self.lock().get(spec.id, {}).get("output_vocabulary", {}).get(folder.name)
        if not isinstance(entry, dict) or entry.get("vmap_sha256") != vmap_sha256(folder):
            return None
        return entry

    def record_vocabulary_decision(self, name: str, decision: dict) -> None:
        """Writes `decision` (vocabulary, reason, evidence) for the model's current copy and map
        into models.lock.json, and forgets the loaded model, which decoded under the old one."""
        from pipeline.ct2 import vmap_sha256

        spec = self.spec(name)
        folder = self.ct2_path(name)
        lock = self.lock()
        entry = lock.setdefault(spec.id, {})
        decisions = entry.setdefault("output_vocabulary", {})
        decisions[folder.name] = {**decision, "vmap_sha256": vmap_sha256(folder)}
        _write_json(self.models_dir / LOCK_FILE, lock)
        self._loaded.pop(name, None)

    def convert(self, name: str, force: bool = False) -> Path:
        """Writes (or finds up to date) the CTranslate2 copy of a downloaded model."""
        from pipeline.ct2 import convert

        spec = self.spec(name)
        path, _ = self.source_path(name)
        return convert(path, self.ct2_path(name), spec.quantization, force=force)

    def loaded_names(self) -> list[str]:
        return list(self._loaded)


DNS_TIMEOUT_S = 5.0


def hub_unreachable() -> str | None:
    """Why the Hub cannot be reached at all, in a few words, or None when it may be.

    Asked once before downloading: offline mode is set, or the Hub's host name does not resolve
    (no network, no DNS). A host that resolves but then fails is caught per download instead.
    """
    import socket
    import threading
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE"):
        return "HF_HUB_OFFLINE is set"
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    answer: list[BaseException | None] = []

    def resolve() -> None:
        try:
            socket.getaddrinfo(host, 443)
            answer.append(None)
        except OSError as exc:
            answer.append(exc)

    # getaddrinfo has no timeout of its own; a resolver that never answers must not hang `make models`.
    thread = threading.Thread(target=resolve, daemon=True)
    thread.start()
    thread.join(DNS_TIMEOUT_S)
    if not answer:
        return f"no answer for {host} within {DNS_TIMEOUT_S:g} s"
    if answer[0] is not None:
        return f"{host} cannot be resolved"
    return None


def is_network_error(exc: BaseException) -> bool:
    """Whether a download failed for want of a connection (not a bad revision or a full disk)."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        kind = type(exc).__name__
        if isinstance(exc, OfflineModeIsEnabled | ConnectionError | TimeoutError) or kind in (
            "ConnectError",
            "ConnectTimeout",
            "ConnectionError",
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def pick_device(wanted: str) -> str:
    import torch

    if wanted != "auto":
        return wanted
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(wanted: str, device: str) -> str:
    if wanted == "auto":
        return "float16" if device == "cuda" else "float32"
    if wanted == "float16" and device == "cpu":
        log.warning("float16 on CPU is slow and inexact; using float32")
        return "float32"
    if wanted == "bfloat16" and device == "cpu" and "ONEDNN_MAX_CPU_ISA" not in os.environ:
        log.warning(
            "bfloat16 on CPU may crash (SIGILL in oneDNN AMX); set ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16"
        )
    return wanted


def configure_threads(threads: int) -> None:
    import torch

    n = threads or os.cpu_count() or 1
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def _fingerprint(path: Path) -> str:
    """A stable revision for a local model: a hash of its config and weight files' contents."""
    h = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.is_file() and (
            f.suffix in (".json", ".safetensors", ".bin", ".model", ".spm") or f.name == "model.bin"
        ):
            h.update(f.name.encode())
            st = f.stat()
            if st.st_size <= 64_000_000:
                h.update(f.read_bytes())
            else:  # large weights: size and modification time stand in for the content
                h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return "local-" + h.hexdigest()[:12]


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
