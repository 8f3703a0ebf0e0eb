"""Model resolution: the Hub cache layout, the lock file, offline behaviour, and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.errors import ModelMissingError
from pipeline.models import LOCK_FILE, ModelSpec, ModelStore, RuntimeOptions

COMMIT_A = "a" * 40
COMMIT_B = "b" * 40


def fake_hub_cache(models_dir: Path, tiny_nllb: Path, repo: str) -> None:
    """What `snapshot_download(cache_dir=models_dir)` leaves behind: two snapshots, main → B."""
    root = models_dir / f"models--{repo.replace('/', '--')}"
    for commit in (COMMIT_A, COMMIT_B):
        shutil.copytree(tiny_nllb, root / "snapshots" / commit)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(COMMIT_B)


@pytest.fixture
def store(tmp_path: Path, tiny_models: Path, monkeypatch) -> ModelStore:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = "newsbrief-fixtures/hub-nllb"
    fake_hub_cache(tmp_path, tiny_models / "nllb", repo)
    specs = {"nllb": ModelSpec(id=repo, revision="main", family="nllb")}
    return ModelStore(tmp_path, specs, RuntimeOptions(device="cpu", threads=1), tmp_path)


def test_a_hub_model_resolves_to_its_commit_offline(store: ModelStore):
    path, revision = store.local_path("nllb")
    assert revision == COMMIT_B and path.name == COMMIT_B
    loaded = store.load("nllb")
    assert loaded.revision == COMMIT_B and loaded.tokenizer.convert_tokens_to_ids("eng_Latn") > 3


def test_the_lock_file_pins_the_commit_that_is_loaded(store: ModelStore):
    lock = {"newsbrief-fixtures/hub-nllb": {"revision": "main", "commit": COMMIT_A}}
    (store.models_dir / LOCK_FILE).write_text(json.dumps(lock))
    assert store.local_path("nllb")[1] == COMMIT_A  # not what refs/main says now


def test_a_missing_model_names_the_command_that_fetches_it(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    specs = {"nllb": ModelSpec(id="facebook/nllb-200-distilled-600M", family="nllb")}
    store = ModelStore(tmp_path, specs, RuntimeOptions(), tmp_path)
    with pytest.raises(ModelMissingError, match=r"facebook/nllb-200-distilled-600M.*make models"):
        store.local_path("nllb")
    assert not store.status()[0].present


def test_download_fails_clearly_without_network(tmp_path: Path, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # this machine has no network; make it fail at once
    config = tmp_path / "c.yaml"
    config.write_text(
        "translate: {routes: {en: passthrough}, default: nllb, fallback: null}\n"
        "summarize: {method: extractive}\n"
        "models: {nllb: {id: facebook/nllb-200-distilled-600M, family: nllb}}\n",
        encoding="utf-8",
    )
    assert main(["models", "download", "--config", str(config)]) == 3
    assert "nllb: download failed" in capsys.readouterr().err
