"""Safe to run every night unattended: incremental, resumable, locked, calm with bad input."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.config import Config
from pipeline.lock import run_lock
from pipeline.run import EXIT_ALREADY_RUNNING, EXIT_ARTICLES_FAILED, EXIT_OK, run_digest
from pipeline.state import State
from tests.conftest import ARTICLES, EXPECTED, ROOT


def write_config(config: Config, path: Path) -> Path:
    """A config file for a subprocess run, same as `config` with absolute paths."""
    data = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    data["paths"] = {
        "input": str(config.input_dir),
        "output": str(config.output_dir),
        "models": str(config.models_dir),
    }
    for spec in data["models"].values():
        spec["path"] = str(ROOT / spec["path"])
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(folder))] = (
                hashlib.sha256(p.read_bytes()).hexdigest(),
                p.stat().st_mtime_ns,
            )
    return out


def test_a_rerun_with_nothing_new_loads_no_model(tiny_config: Config):
    first = run_digest(tiny_config)
    assert first.processed == 5 and first.models_loaded > 0
    started = time.monotonic()
    second = run_digest(tiny_config)
    assert (second.processed, second.skipped, second.models_loaded) == (0, 5, 0)
    assert time.monotonic() - started < 10
    # The day's digest still lists the day's articles after the no-op run.
    assert second.digest_path.read_text(encoding="utf-8").count("](briefs/") == 5


def test_only_changed_files_and_changed_routes_are_reprocessed(tiny_config: Config):
    run_digest(tiny_config)
    inbox = tiny_config.input_dir
    path = inbox / "az-railway.txt"
    path.write_text(path.read_text(encoding="utf-8") + "Yeni cümlə əlavə olunub.\n", encoding="utf-8")
    result = run_digest(tiny_config)
    assert (result.processed, result.skipped) == (1, 4)
    # Route Lithuanian to NLLB instead of Marian: exactly the two Lithuanian articles are redone.
    routes = dict(tiny_config.translate.routes, lt="tiny-nllb")
    config = tiny_config.model_copy(
        update={"translate": tiny_config.translate.model_copy(update={"routes": routes})}
    )
    result = run_digest(config)
    assert (result.processed, result.skipped) == (2, 3)
    assert run_digest(config, force=True).processed == 5
    briefs = list((tiny_config.output_dir / "briefs").glob("*.md"))
    # Re-made with new models, an article replaces its own brief; a changed article gets a new
    # brief and its published one stays, marked as superseded (links to it keep working).
    superseded = [
        b for b in briefs if "\nsuperseded_by:" in b.read_text(encoding="utf-8").split("\n---\n")[0]
    ]
    assert (len(briefs), len(superseded)) == (6, 1)


def test_a_second_run_exits_at_once_while_one_is_going(tiny_config: Config, tmp_path: Path, capsys):
    config_file = write_config(tiny_config, tmp_path / "c.yaml")
    with run_lock(tiny_config.output_dir):
        code = main(["digest", "--config", str(config_file)])
    assert code == EXIT_ALREADY_RUNNING
    assert "another newsbrief run" in capsys.readouterr().err
    assert not (tiny_config.output_dir / "briefs").exists()


def test_a_lock_left_by_a_dead_process_does_not_block(tiny_config: Config):
    out = tiny_config.output_dir
    script = (
        "import sys, time\nfrom pathlib import Path\nfrom pipeline.lock import run_lock\n"
        "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (out / ".newsbrief.lock").exists()
    assert run_digest(tiny_config).exit_code == EXIT_OK


def test_a_run_killed_midway_is_completed_by_the_next_without_duplicates(tiny_config: Config, tmp_path: Path):
    inbox = tiny_config.input_dir
    for i in range(6):  # 35 articles: enough that a kill lands mid-run
        for name in EXPECTED:
            text = (ARTICLES / name).read_text(encoding="utf-8")
            (inbox / f"{i}-{name}").write_text(text.replace("2025", str(2010 + i)), encoding="utf-8")
    total = len(list(inbox.iterdir()))
    config_file = write_config(tiny_config, tmp_path / "c.yaml")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "digest", "--config", str(config_file)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    briefs = tiny_config.output_dir / "briefs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(briefs.glob("*.md")) if briefs.exists() else []) < 4:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(briefs.glob("*.md")))
    assert 4 <= done_before < total, "the kill should land mid-run"

    result = run_digest(tiny_config)
    assert result.exit_code == EXIT_OK
    assert result.processed + result.skipped == total and result.skipped >= done_before - 1
    state = State(tiny_config.output_dir / "state.db")
    records = state.all()
    state.close()
    assert len(records) == total and {r.status for r in records} == {"done"}
    on_disk = sorted(p.name for p in briefs.iterdir())
    assert sorted(Path(r.brief).name for r in records) == on_disk  # one brief each, no orphans, no temp files
    assert result.digest_path.read_text(encoding="utf-8").count("](briefs/") == total


def test_the_next_run_removes_files_a_killed_run_left_half_written(tiny_config: Config):
    """A kill inside write_atomic leaves its temporary file; the next run (holding the lock) deletes it."""
    briefs = tiny_config.output_dir / "briefs"
    briefs.mkdir(parents=True)
    partial = [briefs / ".2025-01-01-lt-x.md.k3j2.tmp", tiny_config.output_dir / ".index.md.a1b2.tmp"]
    for path in partial:
        path.write_text("half a bri", encoding="utf-8")
    keep = briefs / "notes.tmp"  # not ours: not hidden
    keep.write_text("mine", encoding="utf-8")
    assert run_digest(tiny_config).exit_code == EXIT_OK
    assert not any(p.exists() for p in partial) and keep.exists()


def test_every_kind_of_bad_input_is_handled_and_the_inbox_is_untouched(tiny_config: Config):
    inbox = tiny_config.input_dir
    bg = "Министерството на транспорта съобщи нови правила за товарните влакове. Очаква се промяна."
    ka = "საქართველოს რკინიგზამ ახალი მარშრუტი გახსნა. ტვირთის მოცულობა გაიზარდა."
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "blank.txt").write_text("  \n\n\t \n", encoding="utf-8")
    (inbox / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (inbox / "archive.txt").write_bytes(gzip.compress(b"Some text. " * 100))
    (inbox / "digits.txt").write_text("12 345 -- 67.8 % (2024) / 3,5\n", encoding="utf-8")
    (inbox / "cp1251.txt").write_bytes(bg.encode("cp1251"))
    (inbox / "utf16.txt").write_bytes(ka.encode("utf-16"))
    (inbox / "bom.txt").write_bytes(codecs.BOM_UTF8 + bg.encode("utf-8"))
    (inbox / "huge.txt").write_bytes(b"news " * 10_000_000)  # 50 MB
    (inbox / "oneline.txt").write_bytes(b"word " * 210_000)  # a single 1 MB line
    (inbox / "page.html").write_text(
        "<html><head><title>Port reopens</title></head><body><nav>Home</nav><article><h1>Port reopens</h1>"
        + "<p>The port of the city reopened on Monday after repairs that lasted three weeks.</p>" * 3
        + "</article></body></html>",
        encoding="utf-8",
    )
    (inbox / "latin.txt").write_text(
        "Gallia est omnis divisa in partes tres, quarum unam incolunt Belgae, aliam Aquitani. "
        "Hi omnes lingua, institutis, legibus inter se differunt.",
        encoding="utf-8",
    )
    (inbox / "loop-a.txt").symlink_to(inbox / "loop-b.txt")
    (inbox / "loop-b.txt").symlink_to(inbox / "loop-a.txt")
    os.mkfifo(inbox / "pipe.txt")
    (inbox / "evil\nname.txt").write_text(
        "A short English note about the port and its new cranes.", encoding="utf-8"
    )
    (inbox / "a..b.txt").write_text("Another short English note about the harbour.", encoding="utf-8")
    locked = inbox / "locked.txt"
    locked.write_text("Text nobody may read.", encoding="utf-8")
    locked.chmod(0)
    before = snapshot(inbox)

    result = run_digest(tiny_config)
    reasons = {f.source_file: f.reason for f in result.failed}
    assert result.exit_code == EXIT_ARTICLES_FAILED
    assert "empty file" in reasons["empty.txt"]
    assert "white space" in reasons["blank.txt"]
    assert "not a text file" in reasons["binary.txt"]
    assert "compressed (gzip)" in reasons["archive.txt"]
    assert "no words" in reasons["digits.txt"]
    assert "over the" in reasons["huge.txt"]
    assert "max_paragraph_chars" in reasons["oneline.txt"]
    assert "no route translates Latin" in reasons["latin.txt"]
    assert "cannot read" in reasons["loop-a.txt"] and "cannot read" in reasons["loop-b.txt"]
    assert "not a regular file" in reasons["pipe.txt"]
    if os.geteuid() != 0:  # root reads anything; the permission case only exists for other users
        assert "cannot read" in reasons["locked.txt"]
    processed = {
        r.source_file for r in State(tiny_config.output_dir / "state.db").all() if r.status == "done"
    }
    assert {"cp1251.txt", "utf16.txt", "bom.txt", "page.html", "evil\nname.txt", "a..b.txt"} <= processed
    assert snapshot(inbox) == before  # nothing in the input folder was modified, moved or deleted
    out = tiny_config.output_dir.resolve()
    for p in out.rglob("*"):
        assert p.resolve().is_relative_to(out)
    names = [p.name for p in (out / "briefs").iterdir()]
    assert all("\n" not in n and ".." not in n for n in names)
    digest = result.digest_path.read_text(encoding="utf-8")
    assert "evil\nname" not in digest  # a newline in a name cannot break the digest's table
    locked.chmod(0o644)


def test_logs_and_exit_codes_from_the_command_line(tiny_config: Config, tmp_path: Path):
    config_file = write_config(tiny_config, tmp_path / "c.yaml")
    code = main(["digest", "--config", str(config_file)])
    assert code == EXIT_OK
    logs = list((tiny_config.output_dir / "logs").glob("*.log"))
    assert len(logs) == 1 and "digest" in logs[0].read_text(encoding="utf-8")
    (tiny_config.input_dir / "empty.txt").write_bytes(b"")
    assert main(["digest", "--config", str(config_file)]) == EXIT_ARTICLES_FAILED
    bad = tmp_path / "bad.yaml"
    bad.write_text("translate: {routes: {xx: nope}}\n", encoding="utf-8")
    assert main(["digest", "--config", str(bad)]) == 2


def test_doctor_reports_what_to_fix(tiny_config: Config, tmp_path: Path, capsys):
    config_file = write_config(tiny_config, tmp_path / "c.yaml")
    assert main(["doctor", "--config", str(config_file)]) == EXIT_OK
    assert "ready for a nightly run" in capsys.readouterr().out
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["models"]["tiny-nllb"]["path"] = str(tmp_path / "nowhere")
    data["paths"]["input"] = str(tmp_path / "no-inbox")
    config_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["doctor", "--config", str(config_file)]) != EXIT_OK
    out = capsys.readouterr().out
    assert "no-inbox" in out and "nowhere" in out


@pytest.fixture(autouse=True)
def _cleanup_permissions(tmp_path: Path):
    yield
    for p in tmp_path.rglob("*"):  # let pytest delete what a test made unreadable
        if p.is_file() and not p.is_symlink():
            p.chmod(0o644)


def test_memory_does_not_grow_with_the_number_of_articles(tiny_models, record_property):
    """A 1,000-article synthetic inbox through the tiny models, in a fresh process."""
    from bench.memory import measure

    r = measure(1000, sample_at=100)
    for key in ("seconds", "peak_rss_mb", "rss_at_sample_mb", "rss_at_end_mb"):
        record_property(key, r[key])
    print(f"\n1000 articles: {r['seconds']} s, resident {r['rss_at_sample_mb']} MB after {r['sampled_at']}, "
          f"{r['rss_at_end_mb']} MB after 1000, peak {r['peak_rss_mb']} MB")  # fmt: skip
    assert r["briefs"] == 1000 and r["rc"] == 0
    assert r["rss_at_end_mb"] - r["rss_at_sample_mb"] < 50, "memory grows with the number of articles"
