"""Shared fixtures: the tiny models are built once per session (and reused across sessions
when their sources have not changed), and each test gets its own inbox and output folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.config import Config, Paths, load_config
from pipeline.digest import DigestEntry

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "tests" / "fixtures" / "articles"
SHARED = ROOT.parent / "shared"
# Expected (language, date) of each fixture article.
EXPECTED = {
    "ka-railway.txt": ("ka", "2025-03-14"),
    "lt-railway.txt": ("lt", "2025-04-02"),
    "lt-corridor-study.txt": ("lt", "2024-12"),
    "az-railway.txt": ("az", "2025-05-20"),
    "bg-railway.txt": ("bg", "2025-03-05"),
}


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    from tests.fixtures.tiny_models import build_all

    out = ROOT / "models" / "tiny"
    build_all(out)
    return out


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in EXPECTED:
        shutil.copy(ARTICLES / name, folder / name)
    return folder


@pytest.fixture
def tiny_config(tiny_models: Path, tmp_path: Path, inbox: Path) -> Config:
    config = load_config(ROOT / "config.tiny.yaml")
    paths = Paths(input=inbox, output=tmp_path / "out", models=config.paths.models)
    return config.model_copy(update={"paths": paths})


def digest_entry(
    source_file: str, date: tuple[int, ...] | str, headline: str, sentences: list[str]
) -> DigestEntry:
    """An English digest entry as a run would store it, for tests of grouping and stories."""
    parts = tuple(int(x) for x in date.split("-")) if isinstance(date, str) else tuple(date)
    return DigestEntry(
        brief=f"briefs/{source_file}.md",
        date="-".join(f"{x:02d}" for x in parts),
        language="en",
        language_name="English",
        source_file=source_file,
        headline=headline,
        summary=sentences[0],
        warnings=[],
        flagged_sentences=0,
        sort_key=(parts, source_file),
        date_precision="day",
        sentences=sentences,
    )


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium for the whole session (tests/browser.py). Without it the browser
    tests skip, saying why; on CI (CI=true) they fail instead, since .ci/run installs it."""
    import os

    try:
        from tests.browser import Browser, find_chromium
    except ImportError as exc:  # websocket-client missing from the venv
        reason = f"the browser tests need websocket-client ({exc}); run `make setup`"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    executable = find_chromium()
    if executable is None:
        reason = "chromium is not installed (Debian: apt-get install chromium); the browser tests need it"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    b = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()
