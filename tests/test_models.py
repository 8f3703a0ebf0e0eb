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
    err = capsys.readouterr().err
    assert "nllb: not downloaded, no network (HF_HUB_OFFLINE is set)" in err and "make models" in err
    assert len(err.strip().splitlines()) == 1


def test_without_network_download_says_so_once_per_model_and_goes_on(store: ModelStore, monkeypatch, capsys):
    """A host name that cannot resolve (as on a machine without network): no retries, one line
    per model, and a model already here is still used (and converted where that is its backend)."""
    import time

    from huggingface_hub import constants

    from pipeline.cli import _download

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "https://hub.newsbrief.invalid")  # .invalid never resolves
    store.specs["absent"] = ModelSpec(id="newsbrief-fixtures/absent", family="nllb")
    start = time.monotonic()
    assert _download(store, ["nllb", "absent"]) == 3
    assert time.monotonic() - start < 15  # the Hub client's five retries per model took ~20 s each
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "nllb: not updated, no network (hub.newsbrief.invalid cannot be resolved); "
        f"using newsbrief-fixtures/hub-nllb @ {COMMIT_B} in models/",
        "absent: not downloaded, no network (hub.newsbrief.invalid cannot be resolved): "
        "newsbrief-fixtures/absent is not in models/; run `make models` where the Hub can be reached",
    ]


def test_verify_says_the_tiny_models_fail_the_output_checks(tiny_models: Path, tmp_path: Path, capsys):
    """Random weights write garbage: `models verify` must say so, one line per model, exit 3."""
    import yaml

    from pipeline.cli import main
    from tests.conftest import ROOT

    config = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    for spec in config["models"].values():
        spec["path"] = str(ROOT / spec["path"])
    config["paths"] = {"input": str(tmp_path), "output": str(tmp_path / "out"), "models": str(tmp_path)}
    config["detect"] = {"languages": ["bg", "lt", "ka", "az", "de", "fr", "en"]}  # fewer lingua models
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["models", "verify", "--config", str(path)]) == 3
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.startswith("tiny-")]  # less the log
    assert sorted(line.split(":")[0] for line in lines) == sorted(config["models"]), out
    assert all(": FAILED: " in line and "outputs fail the output checks" in line for line in lines)


def test_the_summary_checks_pass_a_summary_and_fail_garbage():
    """The other side of the tiny models' failure: a plausible summary passes."""
    from pipeline.checks import CheckOptions, check_summary
    from pipeline.verify import ARTICLES

    article = ARTICLES[0]
    summary = "The city council approved a new budget after a debate of more than six hours. " + (
        "The plan raises spending on public transport and funds two new schools."
    )
    assert check_summary(article, summary, CheckOptions(), None) == []
    salad = "Orchestra velvet umbrella quantum pelican harvest lantern glacier whistle marble."
    assert any("unrelated" in p for p in check_summary(article, salad, CheckOptions(), None))
    assert check_summary(article, article, CheckOptions(), None)[0] == "copy of the source"
