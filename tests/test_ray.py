"""`runtime.executor: ray` on a local Ray cluster (2 CPUs, no dashboard), started once per session.

The same seeds through the tiny models on CTranslate2 must give the local executor's briefs and
digest; a worker killed mid-run costs a retry of its group, or its articles are listed as failed
and the run still finishes; a model missing on the cluster fails its articles with the local
path's message.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.config import Config, Paths
from pipeline.errors import ModelMissingError
from pipeline.models import ModelStore
from pipeline.run import EXIT_ARTICLES_FAILED, EXIT_OK, RunResult, run_digest
from tests.conftest import ARTICLES, EXPECTED

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'newsbrief[ray]'")

NOW = datetime(2026, 1, 15, 6, 0).astimezone()
# Lines that may differ between two runs of the same articles: when they ran, and on what.
VOLATILE = re.compile(r'^\s*"?(generated|executor|ingested)"?:.*$|generated \S+\*$', re.M)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local cluster for the session, as lean as Ray allows, shut down at the end."""
    from pipeline.models import RuntimeOptions
    from pipeline.ray_executor import connect

    for key, value in {
        "RAY_USAGE_STATS_ENABLED": "0",  # no usage report attempts (there is no network)
        "RAY_DEDUP_LOGS": "0",
        "RAY_enable_metrics_collection": "0",
    }.items():
        os.environ.setdefault(key, value)
    if ray.is_initialized():
        ray.shutdown()
    connect(
        RuntimeOptions(ray_address="local"),
        num_cpus=2,
        object_store_memory=96 * 2**20,
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def ct2_config(tiny_models: Path) -> Config:
    """config.tiny.yaml with every model on CTranslate2 (converted once into models/)."""
    from pipeline.config import load_config
    from tests.conftest import ROOT

    base = load_config(ROOT / "config.tiny.yaml")
    models = {name: spec.model_copy(update={"backend": "ctranslate2"}) for name, spec in base.models.items()}
    config = base.model_copy(update={"models": models})
    store = ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)
    for name in models:
        store.convert(name)
    return config


def with_paths(config: Config, inbox: Path, out: Path, **runtime: object) -> Config:
    paths = Paths(input=inbox, output=out, models=config.paths.models)
    return config.model_copy(update={"paths": paths, "runtime": config.runtime.model_copy(update=runtime)})


def texts(out: Path) -> dict[str, str]:
    """Every brief and the digest (Markdown and JSON), with the run's timestamps blanked."""
    files = sorted((out / "briefs").glob("*.md")) + [
        out / f"digest-{NOW:%Y-%m-%d}.{x}" for x in ("md", "json")
    ]
    return {f.name: VOLATILE.sub("", f.read_text(encoding="utf-8")) for f in files}


def test_the_seeds_give_the_local_briefs_and_digest(ray_cluster, ct2_config: Config, inbox: Path, tmp_path):
    local = run_digest(with_paths(ct2_config, inbox, tmp_path / "local"), now=NOW)
    on_ray = run_digest(with_paths(ct2_config, inbox, tmp_path / "ray", executor="ray"), now=NOW)
    assert (local.exit_code, local.processed, on_ray.exit_code, on_ray.processed) == (EXIT_OK, 5, EXIT_OK, 5)
    assert on_ray.models_loaded >= 4  # by the workers: every route and the summarizer
    expected, got = texts(tmp_path / "local"), texts(tmp_path / "ray")
    assert len(expected) == 7 and got == expected
    digest = (tmp_path / "ray" / f"digest-{NOW:%Y-%m-%d}.md").read_text(encoding="utf-8")
    assert "\nexecutor: ray (1 node, 2 CPUs, 0 GPUs)\n" in digest
    payload = json.loads((tmp_path / "local" / f"digest-{NOW:%Y-%m-%d}.json").read_text(encoding="utf-8"))
    assert payload["executor"] == "local"


def _map_workers() -> list[int]:
    """Process ids of this session's Ray Data actors (their process title names the UDF)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"MapWorker" in cmdline and b"_StageActor" in cmdline:
                pids.append(int(proc.name))
    return pids


def _run_and_kill(config: Config, total: int) -> tuple[RunResult, int]:
    """Runs the digest in a thread, SIGKILLs one stage actor once the first brief is written,
    and returns the result and how many briefs were written when the kill landed."""
    result: list[RunResult] = []
    runner = threading.Thread(target=lambda: result.append(run_digest(config, now=NOW)))
    runner.start()
    briefs, deadline = config.output_dir / "briefs", time.monotonic() + 180
    while time.monotonic() < deadline and not (briefs.is_dir() and any(briefs.iterdir())):
        time.sleep(0.02)
    workers = _map_workers()
    done_at_kill = len(list(briefs.glob("*.md")))
    assert workers and done_at_kill < total, "the kill should land mid-run"
    os.kill(workers[0], signal.SIGKILL)
    runner.join(240)
    assert result, "the run did not finish"
    return result[0], done_at_kill


def many(inbox: Path, copies: int) -> int:
    for i in range(copies):
        for name in EXPECTED:
            text = (ARTICLES / name).read_text(encoding="utf-8")
            (inbox / f"{i}-{name}").write_text(text.replace("2025", str(2010 + i)), encoding="utf-8")
    return len(list(inbox.iterdir()))


def one_per_group(config: Config) -> Config:
    return config.model_copy(update={"translate": config.translate.model_copy(update={"group_articles": 1})})


def test_a_killed_worker_costs_a_retry_of_its_group(ray_cluster, ct2_config: Config, inbox: Path, tmp_path):
    total = many(inbox, 5)
    config = one_per_group(with_paths(ct2_config, inbox, tmp_path / "out", executor="ray"))
    result, _ = _run_and_kill(config, total)
    assert (result.exit_code, result.processed, result.failed) == (EXIT_OK, total, [])
    assert len(list((tmp_path / "out" / "briefs").glob("*.md"))) == total


def test_a_worker_dead_past_its_restarts_fails_only_its_articles(
    ray_cluster, ct2_config: Config, inbox: Path, tmp_path
):
    total = many(inbox, 5)
    out = tmp_path / "out"
    config = one_per_group(with_paths(ct2_config, inbox, out, executor="ray", ray_max_restarts=0))
    result, _ = _run_and_kill(config, total)
    assert result.exit_code == EXIT_ARTICLES_FAILED
    assert result.failed and result.processed + len(result.failed) == total
    assert {f.reason.split(":")[0] for f in result.failed} == {"lost on the Ray cluster"}
    # They are retried by the next run, which finishes the rest.
    again = run_digest(config.model_copy(update={"runtime": ct2_config.runtime}), now=NOW)
    assert (again.exit_code, again.processed) == (EXIT_OK, len(result.failed))


def test_a_model_missing_on_the_cluster_fails_its_articles_as_locally(
    ray_cluster, ct2_config: Config, inbox: Path, tmp_path
):
    models = dict(ct2_config.models)
    absent = str(tmp_path / "no-such-model")  # neither the workers nor the driver have it
    models["tiny-marian-lt-en"] = models["tiny-marian-lt-en"].model_copy(update={"path": absent})
    config = with_paths(
        ct2_config.model_copy(update={"models": models}), inbox, tmp_path / "out", executor="ray"
    )
    store = ModelStore(config.models_dir, config.models, config.runtime, config.base_dir)
    with pytest.raises(ModelMissingError) as missing:  # the line the local path gives
        store.local_path("tiny-marian-lt-en")
    result = run_digest(config, now=NOW)
    assert result.exit_code == EXIT_ARTICLES_FAILED and result.processed == 3
    assert sorted((f.source_file, f.reason) for f in result.failed) == [
        ("lt-corridor-study.txt", str(missing.value)),
        ("lt-railway.txt", str(missing.value)),
    ]
