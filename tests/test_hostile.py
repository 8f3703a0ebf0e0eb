"""A folder nobody checked: no leak, no injection, no lost brief, and a state database that heals.

One digest runs (through the command line, tiny models) over an input folder that holds every
hostile case at once; the tests below read what it wrote. The cases that need a second run
(a changed source, a corrupt database, a read-only or full disk) start from a copy of that
run's folders, so the models run again only for the article that changed.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.config import Config, load_config
from pipeline.ingest import IngestOptions, read_article
from pipeline.render import md_inline, md_table_cell, md_text, read_front_matter
from pipeline.run import EXIT_ARTICLES_FAILED, EXIT_CONFIG, EXIT_CRASH, EXIT_OK, run_digest
from pipeline.state import State
from tests.conftest import ROOT

SECRET = "TOP-SECRET-7f3a: the password of the mail server is hunter2."
BAD_NAME = os.fsdecode(b"bad\xff\xfename.txt")  # bytes that are not UTF-8, as a Windows share leaves them
PRINTABLE_BAD_NAME = "bad\\xff\\xfename.txt"
HOSTILE_NAME = "we`ird|na]me<img src=x onerror=alert(1)>\nx.txt"
INJECTION = (
    "The council met on Tuesday and agreed a budget for the schools of the town. "
    "[click](javascript:alert(1)) {% include secret.html %} {{< shortcode >}} {{ site.secret }} "
    "<img src=x onerror=alert(1)> <script>alert(2)</script>\n"
    "The budget adds money for teachers, books and a new gym. Parents welcomed the decision.\n"
)
GOOD = {
    "harbour.txt": "The harbour of the town opened a new pier on Monday. Fishermen said the pier would "
    "help them land their catch.\nThe mayor thanked the workers who built it in six months.\n",
    "sub/a/same.txt": "The railway company ordered ten new trains for the northern line. The first will run "
    "next spring.\nPassengers have waited years for faster trains.\n",
    "sub/b/same.txt": "A storm closed the mountain road for two days. Snow ploughs cleared it on Friday.\n"
    "Drivers were asked to carry chains until the end of the month.\n",
    BAD_NAME: "date ../../etc\nThe library of the city reopened after repairs to its roof. Readers returned "
    "on the first morning.\nThe librarian said the reading room is brighter now.\n",
    "future.txt": "date 9999-99-99\nThe bakery on the main square won a prize for its bread. The owner "
    "thanked her staff.\nThe prize was given by the regional guild of bakers.\n",
    HOSTILE_NAME: INJECTION,
    "nul.txt": "The museum opened a hall of old maps. The maps show the river before the dams were built."
    "\x00 Visitors can see how the valley changed over three hundred years.\x00\n"
    "Entry to the new hall is free on Sundays for families and students of the town.\n",
}
BAD = {
    "passwd.txt": "symlink to a file outside the input folder",
    "empty.txt": "empty file",
}


def _build_inbox(root: Path) -> Path:
    inbox = root / "inbox"
    for name, text in GOOD.items():
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    (inbox / "passwd.txt").symlink_to(root / "secret.txt")  # `ln -s /etc/passwd inbox/x.txt`
    (inbox / "alias.txt").symlink_to("harbour.txt")  # a link that stays inside: followed
    (inbox / "empty.txt").write_bytes(b"")
    return inbox


def _config_file(root: Path, inbox: Path, out: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    data["paths"] = {"input": str(inbox), "output": str(out), "models": str(ROOT / "models")}
    for spec in data["models"].values():
        spec["path"] = str(ROOT / spec["path"])
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _snapshot(folder: Path, skip: Path | None = None) -> dict[str, tuple[str, int, int]]:
    """Every entry below `folder` (links not followed): content hash, mode and mtime."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if skip and p.is_relative_to(skip):
            continue
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else ""
        out[os.fsencode(p.relative_to(folder)).hex()] = (digest, st.st_mode, st.st_mtime_ns)
    return out


def _config(config_file: Path) -> Config:
    return load_config(config_file)


@pytest.fixture(scope="module")
def hostile(tiny_models, tmp_path_factory):
    """One digest over the hostile folder, run as the nightly job runs it (under umask 022)."""
    root = tmp_path_factory.mktemp("hostile")
    inbox = _build_inbox(root)
    out = root / "out"
    config_file = _config_file(root, inbox, out)
    before_inbox = _snapshot(inbox)
    before_around = _snapshot(root)
    old_umask = os.umask(0o022)
    try:
        code = main(["digest", "--config", str(config_file)])
    finally:
        os.umask(old_umask)
    briefs = {}
    for path in sorted((out / "briefs").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        front, body = read_front_matter(text)
        briefs[front["source_file"]] = (path, text, front, body)
    return {
        "root": root,
        "inbox": inbox,
        "out": out,
        "config_file": config_file,
        "code": code,
        "briefs": briefs,
        "before_inbox": before_inbox,
        "before_around": before_around,
    }


def _clone(hostile: dict, tmp_path: Path) -> tuple[Config, Path]:
    """A copy of the hostile run's input and output folders, to run again without disturbing it."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(hostile["inbox"], inbox, symlinks=True)
    shutil.copytree(hostile["out"], out, symlinks=True)
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    (inbox / "passwd.txt").unlink()
    (inbox / "passwd.txt").symlink_to(tmp_path / "secret.txt")
    config_file = _config_file(tmp_path, inbox, out)
    return _config(config_file), config_file


def _digest(out: Path) -> str:
    return max(out.glob("digest-2*.md")).read_text(encoding="utf-8")


def _all_written(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and p.suffix in (".md", ".json")]


# ---- the whole folder at once --------------------------------------------------------------


def test_one_run_over_the_hostile_folder(hostile):
    """Exit 3; every good file has its brief; every bad one is listed; the input folder is
    byte-identical afterwards and nothing is written outside the output folder."""
    assert hostile["code"] == EXIT_ARTICLES_FAILED
    good = {PRINTABLE_BAD_NAME if n == BAD_NAME else n for n in GOOD} | {"alias.txt"}
    assert set(hostile["briefs"]) == good
    digest = _digest(hostile["out"])
    failed = digest.split("## Could not be processed", 1)[1]
    for name, reason in BAD.items():
        assert f"<code>{name}</code> | {reason}" in failed
    assert _snapshot(hostile["inbox"]) == hostile["before_inbox"]
    assert _snapshot(hostile["root"], skip=hostile["out"]) == hostile["before_around"]


# ---- one test per row of the issue ----------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_processed_under_a_printable_name(hostile):
    path, _, front, body = hostile["briefs"][PRINTABLE_BAD_NAME]
    assert front["source_file"] == PRINTABLE_BAD_NAME
    assert f"Source: {md_inline(PRINTABLE_BAD_NAME)}" in body
    assert md_inline(PRINTABLE_BAD_NAME) in _digest(hostile["out"])


@pytest.mark.parametrize("mode", ["inside", "follow", "skip"])
def test_a_symlink_leading_outside_the_input_folder_is_refused(hostile, tmp_path, mode):
    options = IngestOptions(symlinks=mode)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "secret.txt").write_text(SECRET + " " + GOOD["harbour.txt"], encoding="utf-8")
    (inbox / "x.txt").symlink_to(tmp_path / "secret.txt")
    if mode == "follow":
        assert SECRET in read_article(inbox / "x.txt", inbox, options).text
    else:
        with pytest.raises(Exception, match="symlink"):
            read_article(inbox / "x.txt", inbox, options)
    # In the real run (default `inside`): listed, and the secret is in no file written.
    written = _all_written(hostile["out"])
    assert written and not any("TOP-SECRET" in p.read_text(encoding="utf-8") for p in written)
    assert "passwd.txt" not in hostile["briefs"] and "alias.txt" in hostile["briefs"]
    for _, text, _, _ in hostile["briefs"].values():
        front = yaml.safe_load(text.split("---\n")[1])
        assert isinstance(front, dict) and front["source_file"] != "passwd.txt"


def test_input_cannot_create_links_html_or_template_tags(hostile):
    """File names and article text are escaped where they land; the front matter stays YAML."""
    _, text, front, body = hostile["briefs"][HOSTILE_NAME]
    assert front["source_file"] == HOSTILE_NAME and front["render_with_liquid"] is False
    for path in _all_written(hostile["out"]):
        content = path.read_text(encoding="utf-8")
        if path.suffix == ".md":
            for raw in ("<img", "<script", "](javascript:", "{%", "{{", "}}", "%}"):
                assert raw not in content, (path.name, raw)
            if content.startswith("---\n"):
                assert isinstance(yaml.safe_load(content.split("---\n")[1]), dict)
    # The text is still there for the reader, escaped, and the name shows in the footer.
    assert md_text("[click](javascript:alert(1))") in body
    assert md_text("{% include secret.html %}") in body
    assert f"Source: {md_inline(HOSTILE_NAME)}" in body
    # Every table row of the digest keeps its five columns: a `|` in a name splits nothing.
    digest = _digest(hostile["out"])
    rows = [line for line in digest.split("\n") if line.startswith("| ") and "<code>" in line]
    assert rows and all(len(re.findall(r"(?<!\\)\|", row)) in (3, 6) for row in rows)
    assert yaml.safe_load(digest.split("---\n")[1])["render_with_liquid"] is False


def test_escaping_helpers_leave_nothing_live():
    hostile = "a|b\n# h\n- x\n[l](javascript:x) ![i](y) <b>&amp; `c` *e* _u_ ~s~ {% t %} {{< s >}}"
    for escaped in (md_text(hostile), md_table_cell(hostile), md_inline(hostile)):
        for raw in ("|", "[", "](", "<b", "`", "*", "{%", "{{", "&amp;"):
            assert raw not in escaped.replace("<code>", "").replace("</code>", "")
    assert "\n" not in md_table_cell(hostile) and "\n" not in md_inline(hostile)
    assert not re.search(r"^[#-]", md_text(hostile), re.MULTILINE)


def test_a_published_brief_is_never_deleted(hostile, tmp_path):
    config, _ = _clone(hostile, tmp_path)
    out = config.output_dir
    first = _digest(out)
    old_path = hostile["briefs"]["harbour.txt"][0]
    source = config.input_dir / "harbour.txt"
    source.write_text(source.read_text(encoding="utf-8") + "The pier cost two million euros.\n", "utf-8")
    result = run_digest(config)
    assert (result.processed, result.exit_code) == (2, EXIT_ARTICLES_FAILED)  # harbour.txt and its alias
    old = out / "briefs" / old_path.name
    assert old.exists()
    front, body = read_front_matter(old.read_text(encoding="utf-8"))
    new = front["superseded_by"]
    assert new != f"briefs/{old.name}" and (out / new).exists()
    assert f"]({Path(new).name})" in body and "Superseded" in body
    # Every link of every digest still leads to a brief.
    for digest in [first, _digest(out)]:
        for link in re.findall(r"\]\((briefs/[^)]+)\)", digest):
            assert (out / link).exists(), link
    # Two files of the same name in different subfolders both stay in the day's digest.
    digest = _digest(out)
    assert md_inline("sub/a/same.txt") in digest and md_inline("sub/b/same.txt") in digest


def test_outputs_get_the_permissions_of_the_umask(hostile):
    out = hostile["out"]
    written = [*_all_written(out), out / "state.db"]
    assert len(written) > 8
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_nul_bytes_are_removed_and_counted(hostile):
    _, text, front, _ = hostile["briefs"]["nul.txt"]
    assert "\x00" not in text and "\\x00" not in text
    assert "2 NUL byte(s) removed from the text" in front["warnings"]


@pytest.mark.parametrize(("name", "token"), [(PRINTABLE_BAD_NAME, "../../etc"), ("future.txt", "9999-99-99")])
def test_a_date_header_that_is_not_a_date_is_no_text_and_is_explained(hostile, name, token):
    _, text, front, body = hostile["briefs"][name]
    assert front["date"] is None
    reason = f"the date header {token!r} is not a date"
    assert any(reason in w for w in front["warnings"])
    dateline = next(line for line in body.split("\n") if line.startswith("*Date unknown"))
    assert md_text(reason) in dateline
    original = body.split("<summary>", 1)[1]
    assert token not in original and md_text(token) not in original  # neither headline nor body


def test_corrupt_state_database_is_moved_aside_and_rebuilt(hostile, tmp_path, capsys):
    config, config_file = _clone(hostile, tmp_path)
    out = config.output_dir
    briefs_before = sorted(p.name for p in (out / "briefs").iterdir())
    db = out / "state.db"
    db.write_bytes(b"this is not a database, a sync tool wrote over it\n" * 100)
    assert main(["doctor", "--config", str(config_file)]) != EXIT_OK
    assert "state database" in capsys.readouterr().out
    result = run_digest(config)
    assert (result.processed, result.models_loaded) == (0, 0)  # nothing translated again
    assert result.exit_code == EXIT_ARTICLES_FAILED  # the bad files are retried and listed again
    assert sorted(p.name for p in (out / "briefs").iterdir()) == briefs_before  # no duplicate
    assert len(list(out.glob("state.db.corrupt-*"))) == 1
    state = State(db)
    done = {r.source_file: r for r in state.all() if r.status == "done"}
    state.close()
    assert set(done) == set(hostile["briefs"])
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    check.close()
    digest = _digest(out)
    for source in hostile["briefs"]:
        assert md_inline(source) in digest
    # A database truncated to nothing is rebuilt the same way.
    db.write_bytes(b"")
    for side in ("state.db-wal", "state.db-shm"):
        (out / side).unlink(missing_ok=True)
    assert run_digest(config).models_loaded == 0
    assert sorted(p.name for p in (out / "briefs").iterdir()) == briefs_before


def test_output_inside_input_is_refused_before_anything_is_written(hostile, tmp_path, capsys):
    inbox = tmp_path / "inbox"
    shutil.copytree(hostile["inbox"], inbox, symlinks=True)
    before = _snapshot(tmp_path)
    for out in (inbox / "out", inbox):
        code = main(
            ["digest", "--config", str(hostile["config_file"]), "--input", str(inbox), "--output", str(out)]
        )
        err = capsys.readouterr().err
        assert code == EXIT_CONFIG and str(inbox) in err and str(out) in err
        assert _snapshot(tmp_path) == before


def test_input_that_is_a_file_says_so(hostile, capsys):
    file = hostile["inbox"] / "harbour.txt"
    assert main(["digest", "--config", str(hostile["config_file"]), "--input", str(file)]) == EXIT_CONFIG
    assert "is a file, not a folder" in capsys.readouterr().err


def _change_one(config: Config) -> None:
    path = config.input_dir / "sub" / "a" / "same.txt"
    path.write_text(path.read_text(encoding="utf-8") + "The trains will be built in Poland.\n", "utf-8")


def test_a_read_only_output_folder_is_one_clear_line(hostile, tmp_path, capsys):
    config, config_file = _clone(hostile, tmp_path)
    out = config.output_dir
    _change_one(config)
    if os.geteuid() == 0:  # root writes anywhere; an immutable folder refuses even root
        if subprocess.run(["chattr", "+i", str(out)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a folder read-only here (root, and no chattr)")
        undo = ["chattr", "-i", str(out)]
    else:
        out.chmod(0o555)
        undo = ["chmod", "755", str(out)]
    try:
        code = main(["digest", "-q", "--config", str(config_file)])
    finally:
        subprocess.run(undo, check=True)
    err = capsys.readouterr().err.strip().split("\n")
    assert code == EXIT_CRASH
    assert len(err) == 1 and str(out) in err[0] and "Traceback" not in err[0], err
    assert "Read-only" in err[0] or "not permitted" in err[0] or "denied" in err[0] or "readonly" in err[0]
    result = run_digest(config)  # fixed: the next run completes what was left
    assert (result.processed, result.exit_code) == (1, EXIT_ARTICLES_FAILED)


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, 16_384))


def test_a_full_disk_is_one_clear_line_and_loses_nothing(hostile, tmp_path):
    """RLIMIT_FSIZE makes every write past 16 KB fail, as a full disk does (EFBIG, not ENOSPC)."""
    config, config_file = _clone(hostile, tmp_path)
    out = config.output_dir
    for k in range(3):
        (config.input_dir / f"new-{k}.txt").write_text(
            GOOD["harbour.txt"].replace("pier", f"pier {k}"), "utf-8"
        )
    (out / "state.db").unlink()  # the rebuild writes more than 16 KB: the limit is hit at once
    done_before = sorted(p.name for p in (out / "briefs").iterdir())
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "digest", "--config", str(config_file)],
        cwd=ROOT, capture_output=True, text=True, preexec_fn=_limit_file_size, timeout=600,
    )  # fmt: skip
    assert proc.returncode == EXIT_CRASH, proc.stderr
    last = proc.stderr.strip().split("\n")[-1]
    assert last.startswith("newsbrief: cannot ") and str(out) in last, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert set(done_before) <= {p.name for p in (out / "briefs").iterdir()}
    result = run_digest(config)
    assert result.exit_code == EXIT_ARTICLES_FAILED and result.processed >= 3
    state = State(out / "state.db")
    done = {r.source_file for r in state.all() if r.status == "done"}
    state.close()
    assert {f"new-{k}.txt" for k in range(3)} | set(hostile["briefs"]) <= done


def test_config_ingest_symlinks_is_validated():
    with pytest.raises(ValueError, match="symlinks"):
        IngestOptions(symlinks="sometimes")
    assert IngestOptions().symlinks == "inside"
    assert load_config(ROOT / "config.yaml").ingest.symlinks == "inside"


# ---- the site, in a real browser --------------------------------------------------------------


def test_the_hostile_folder_renders_in_a_browser_with_no_live_tag(hostile, browser):
    """Every page of the site the hostile run wrote: no script runs (none is on the page but the
    search page's own), no element has an event handler, no image or other request leaves the
    site folder, nothing is logged; the hostile text and name show as text."""
    from tests.browser import inspect

    site = hostile["out"] / "site"
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= len(hostile["briefs"]) + 3
    page = browser.page()
    seen = {p.relative_to(site).as_posix(): inspect(page, p.as_uri()) for p in pages}
    page.goto((site / "search.html").as_uri() + "?q=onerror")
    results = page.eval("[...document.querySelectorAll('#results li')].map(li => li.textContent)")
    search_seen = {"problems": page.problems(), "handlers": page.eval(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name)))"
        ".length"
    ), "images": page.eval("document.images.length")}  # fmt: skip
    page.close()
    for rel, s in seen.items():
        assert s["problems"] == [], (rel, s["problems"])  # no dialog, no error, no CSP report
        assert s["handlers"] == [] and s["images"] == 0, rel
        own = [x for x in s["scripts"] if x.startswith(site.as_uri() + "/")]
        assert s["scripts"] == (own if rel == "search.html" else []), (rel, s["scripts"])
        for url in s["requests"]:
            assert url.startswith(site.as_uri() + "/"), (rel, url)
    brief = seen[f"briefs/{hostile['briefs'][HOSTILE_NAME][0].stem}.html"]["text"]
    assert "<img src=x onerror=alert(1)>" in brief and "<script>alert(2)</script>" in brief
    assert "[click](javascript:alert(1))" in brief and "{% include secret.html %}" in brief
    assert "we`ird|na]me<img src=x onerror=alert(1)>\\nx.txt" in brief  # the name, line break shown
    assert results and any("onerror" in r for r in results)  # search shows it, as text
    assert search_seen == {"problems": [], "handlers": 0, "images": 0}
