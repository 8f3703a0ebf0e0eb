"""The site (OUTPUT/site/): built by real runs, read in a real headless Chromium over file://.

Six real nights: the five articles of one English story, one a night (no model runs: English
passes through, summaries are extractive), then a night of Georgian, Bulgarian and Arabic
articles (tiny models) with two pages saved from a feed, one whose link is `javascript:`.
Every page of the site is loaded once in the browser; the tests read what it found.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.run import EXIT_OK, run_digest
from pipeline.site import SiteOptions, direction
from tests.browser import inspect
from tests.conftest import ARTICLES, ROOT
from tests.test_nights import NIGHTS, STORY, config_file, config_for

LAST = "2025-09-04"
ARABIC = (
    "date 2025-09-04\n"
    "افتتحت بلدية الدوحة مكتبة عامة جديدة في حي المطار يوم الخميس. "
    "وقال رئيس البلدية إن المكتبة تضم أكثر من عشرين ألف كتاب.\n"
    "وأضاف أن القاعة الرئيسية ستفتح أبوابها للطلاب كل مساء حتى منتصف الليل.\n"
)
PAGE = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    "<p>The port of Klaipeda handled a record amount of cargo in August, the port authority said on "
    "Thursday. Most of it came by rail from the east.</p>"
    "<p>The authority expects the new container terminal to open next spring.</p></article></body></html>"
)
FEED_TITLE = "Port news <script>alert(4)</script>"


def _fetched(inbox: Path, stem: str, title: str, url: str) -> None:
    """A page as `newsbrief fetch` saves it: the HTML and, beside it, what the feed said."""
    (inbox / f"{stem}.html").write_text(PAGE.format(title=title), encoding="utf-8")
    meta = {"url": url, "feed_title": FEED_TITLE, "published": f"{LAST}T08:00:00Z"}
    (inbox / f"{stem}.feed.json").write_text(json.dumps(meta), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tiny_models, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    config = config_for(tmp)
    for name, night in NIGHTS:
        shutil.copy(STORY / name, config.input_dir / name)
        assert run_digest(config, run_date=night).exit_code == EXIT_OK
    for name in ("ka-railway.txt", "bg-railway.txt"):
        shutil.copy(ARTICLES / name, config.input_dir / name)
    (config.input_dir / "ar-library.txt").write_text(ARABIC, encoding="utf-8")
    _fetched(config.input_dir, "port-record", "Klaipeda port handles record cargo", "javascript:alert(3)")
    _fetched(
        config.input_dir, "port-terminal", "Klaipeda port plans a new terminal", "https://example.org/a b"
    )
    assert run_digest(config, run_date=LAST).exit_code == EXIT_OK
    out = config.output_dir
    state = json.loads((out / f"digest-{LAST}.json").read_text(encoding="utf-8"))
    briefs = {
        a["source_file"]: out / "site" / f"briefs/{Path(a['brief']).stem}.html" for a in state["articles"]
    }
    return {"config": config, "out": out, "site": out / "site", "briefs": briefs, "tmp": tmp}


@pytest.fixture(scope="module")
def visited(built, browser):
    """Every HTML page of the site, loaded once: path (relative to site/) → what the browser saw."""
    page = browser.page()
    site = built["site"]
    seen = {}
    for path in sorted(site.rglob("*.html")):
        seen[path.relative_to(site).as_posix()] = inspect(page, path.as_uri())
    page.close()
    return seen


def _local(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


def test_every_internal_link_resolves_and_no_page_logs_a_problem(built, visited):
    site = built["site"].resolve()
    assert len(visited) >= 6 + 1 + 10 + 2  # nights, story pages, briefs, index and search
    for rel, seen in visited.items():
        assert seen["problems"] == [], (rel, seen["problems"])
        assert seen["handlers"] == [], rel
        assert seen["csp"] and "default-src 'none'" in seen["csp"] and "script-src" in seen["csp"], rel
        for url in seen["links"]:
            parts = urlsplit(url)
            if parts.scheme == "file":
                target = _local(url)
                assert target.is_file(), (rel, url)
                assert target.resolve().is_relative_to(site), (rel, url)  # nothing outside site/
            else:
                assert url == "https://example.org/a%20b", (rel, url)  # the feed's link, and only it
        for url in seen["requests"]:  # what the page loaded: only files of the site itself
            assert url.startswith("file://") and _local(url).resolve().is_relative_to(site), (rel, url)
        scripts = seen["scripts"]
        if rel == "search.html":
            assert scripts and all(s.startswith("file://") for s in scripts)
        else:
            assert scripts == [], rel


def test_the_index_lists_the_nights_and_the_open_stories(built, visited, browser):
    index = visited["index.html"]
    nights = [night for _, night in NIGHTS] + [LAST]
    for night in nights:
        assert any(link.endswith(f"nights/{night}.html") for link in index["links"]), night
    assert index["text"].index("Tonight") < index["text"].index("Earlier nights")
    assert f"Tonight: {LAST}" in index["text"]
    page = browser.page()
    page.goto((built["site"] / "index.html").as_uri())
    rows = page.eval(
        "[...document.querySelectorAll('table.open tbody tr')].map(tr => [tr.cells[0].textContent, "
        "tr.cells[1].textContent, tr.querySelector('a').getAttribute('href')])"
    )
    page.close()
    assert len(rows) >= 3  # the long story, and tonight's new ones
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)  # last updated first
    putin = [r for r in rows if "Kim Jong Un" in r[1]]
    assert len(putin) == 1 and putin[0][2].startswith("stories/")


def test_a_story_page_shows_its_timeline_in_order_its_figures_and_links_to_briefs(built, browser):
    story = next(p for p in (built["site"] / "stories").glob("*.html") if "pyongyang" in p.name)
    page = browser.page()
    page.goto(story.as_uri())
    rows = page.eval(
        "[...document.querySelectorAll('table.timeline tbody tr')].map(tr => ({"
        "date: tr.cells[1].textContent, joined: tr.cells[4].textContent,"
        "isNew: tr.classList.contains('is-new'),"
        "href: tr.cells[3].querySelector('a').href}))"
    )
    headings = page.eval("[...document.querySelectorAll('table.figures th')].map(th => th.textContent)")
    changes = page.eval(
        "[...document.querySelectorAll('table.figures tbody tr')].map(tr => tr.cells[4].textContent)"
    )
    page.close()
    assert [r["joined"] for r in rows] == [night for _, night in NIGHTS]
    assert [r["date"] for r in rows] == [
        "2024-11 (month only)",
        "2024-11-24",
        "2025-08-13",
        "2025-08-15",
        "2025-09-03",
    ]
    assert [r["isNew"] for r in rows] == [False] * 4 + [True]  # joined on the story's last night
    for r in rows:
        assert "/briefs/" in r["href"] and _local(r["href"]).is_file()
    assert headings == ["Quantity", "Figure", "As of", "Source", "Change"]
    assert "earliest report" in changes and any(c.startswith("+") for c in changes)


def test_a_brief_shows_translation_and_original_side_by_side_in_its_language(built, browser):
    page = browser.page(width=1100)
    layout = {}
    for source, lang, rtl in (("ka-railway.txt", "ka", False), ("ar-library.txt", "ar", True)):
        page.goto(built["briefs"][source].as_uri())
        layout[source] = page.eval(
            "[...document.querySelectorAll('.pair:not(.head):not(.title)')].map(p => {"
            "const en = p.querySelector('.en'), o = p.querySelector('.orig');"
            "const a = en.getBoundingClientRect(), b = o.getBoundingClientRect();"
            "return {enLang: en.lang, lang: o.lang, dir: o.dir, text: o.textContent,"
            "sameRow: Math.abs(a.top - b.top) < 1, enLeft: a.left < b.left, english: en.textContent}})"
        )
        pairs = layout[source]
        original = (ARTICLES / source).read_text(encoding="utf-8") if source != "ar-library.txt" else ARABIC
        assert pairs, source
        assert all(p["lang"] == lang and p["enLang"] == "en" for p in pairs)
        assert all(p["dir"] == ("rtl" if rtl else "ltr") for p in pairs)
        assert all(p["sameRow"] and p["enLeft"] for p in pairs)  # side by side on a wide screen
        assert all(p["english"].strip() for p in pairs)
        for p in pairs:
            assert p["text"].strip() and p["text"].strip() in original
    # On a phone the original goes under its translation.
    page.resize(390, 800)
    page.goto(built["briefs"]["ar-library.txt"].as_uri())
    stacked = page.eval(
        "[...document.querySelectorAll('.pair:not(.head):not(.title)')].map(p => p.querySelector('.en')"
        ".getBoundingClientRect().bottom <= p.querySelector('.orig').getBoundingClientRect().top)"
    )
    page.close()
    assert stacked and all(stacked)


def test_every_warning_of_a_brief_is_visible(built, visited):
    entry = json.loads((built["out"] / f"digest-{LAST}.json").read_text(encoding="utf-8"))["articles"]
    warned = [a for a in entry if a["warnings"]]
    assert warned  # the tiny models' summaries and translations always leave some
    for a in warned:
        seen = visited[built["briefs"][a["source_file"]].relative_to(built["site"]).as_posix()]
        for w in a["warnings"]:
            assert " ".join(w.split()) in " ".join(seen["text"].split())
        night = visited[f"nights/{LAST}.html"]["text"]
        assert " ".join(a["warnings"][0].split()) in " ".join(night.split())


@pytest.mark.parametrize(
    ("query", "source"),
    [
        ("Pyongyang", "1-defence-minister-visit.md"),  # English
        ("ახალქალაქ", "ka-railway.txt"),  # Georgian, in the original only
        ("Бургас", "bg-railway.txt"),  # Bulgarian Cyrillic
        ("الدوحة", "ar-library.txt"),  # Arabic
    ],
)
def test_search_finds_a_name_in_english_or_in_its_original_script(built, browser, query, source):
    page = browser.page()
    page.goto((built["site"] / "search.html").as_uri() + "?q=" + query)
    found = page.eval("[...document.querySelectorAll('#results li a')].map(a => a.href)")
    marked = page.eval("[...document.querySelectorAll('#results mark')].map(m => m.textContent)")
    problems = page.problems()
    page.close()
    assert problems == []
    state = built["out"] / "state.db"
    import sqlite3

    db = sqlite3.connect(state)
    brief = db.execute("SELECT brief FROM articles WHERE source_file = ?", (source,)).fetchone()[0]
    db.close()
    assert any(url.endswith(f"briefs/{Path(brief).stem}.html") for url in found), (query, found)
    assert marked and all(m.lower() == query.lower() for m in marked)


def test_search_answers_as_the_reader_types(built, browser):
    page = browser.page()
    page.goto((built["site"] / "search.html").as_uri())
    assert page.eval("document.querySelectorAll('#results li').length") == 0
    page.eval(
        "const q = document.querySelector('input[name=q]'); q.value = 'kim jong'; "
        "q.dispatchEvent(new Event('input')); new Promise(r => setTimeout(r, 400))"
    )
    titles = page.eval("[...document.querySelectorAll('#results li a')].map(a => a.textContent)")
    status = page.eval("document.getElementById('status').textContent")
    page.close()
    assert titles and all("Kim Jong Un" in t or "kim jong" in t.lower() for t in titles[:3]), titles
    assert status.startswith(f"{len(titles)} result")


def test_feed_links_are_links_only_when_they_are_web_addresses(built, visited):
    bad = visited[built["briefs"]["port-record.html"].relative_to(built["site"]).as_posix()]
    good = visited[built["briefs"]["port-terminal.html"].relative_to(built["site"]).as_posix()]
    assert not any("javascript" in link for link in bad["links"])
    assert FEED_TITLE in bad["text"] and bad["scripts"] == []  # the feed's title, as text
    assert "https://example.org/a%20b" in good["links"]
    html = built["briefs"]["port-terminal.html"].read_text(encoding="utf-8")
    assert 'rel="noopener noreferrer nofollow"' in html


def test_screenshots_of_the_index_a_story_and_a_brief(built, browser, tmp_path):
    story = next(p for p in (built["site"] / "stories").glob("*.html") if "pyongyang" in p.name)
    shots = {}
    for name, path, width in (
        ("index", built["site"] / "index.html", 900),
        ("story", story, 900),
        ("brief", built["briefs"]["ar-library.txt"], 900),
    ):
        page = browser.page(width=width, height=700)
        page.goto(path.as_uri())
        shots[name] = page.screenshot(tmp_path / f"site-{name}.png")
        page.close()
    for path in shots.values():
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and 5_000 < len(data) < 400_000, (path, len(data))


def test_a_night_rewrites_only_the_pages_it_changed(built, tmp_path):
    """Nothing new: nothing is rewritten. A new article: its pages, the night's and the index."""
    shutil.copytree(built["tmp"], tmp_path / "copy", symlinks=True)
    config = config_for(tmp_path / "copy")
    site = config.output_dir / "site"
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    from pipeline.site import build_site
    from pipeline.state import State

    state = State(config.output_dir / "state.db")
    try:
        again = build_site(config.output_dir, state, config.digest, config.site, run_date=LAST)
        full = build_site(config.output_dir, state, config.digest, config.site)
    finally:
        state.close()
    assert again.written == 0 and again.unchanged > 0
    assert full.written == 0 and full.unchanged == len(before)  # the nightly pages are the full build's
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == before

    shutil.copy(ROOT / "tests" / "fixtures" / "english" / "tbilisi-library.txt", config.input_dir)
    result = run_digest(config, run_date="2025-09-05")
    assert result.exit_code == EXIT_OK
    changed = {
        p.relative_to(site).as_posix()
        for p in site.rglob("*")
        if p.is_file() and before.get(p) != p.stat().st_mtime_ns
    }
    briefs = {c for c in changed if c.startswith("briefs/")}
    stories = {c for c in changed if c.startswith("stories/")}
    assert len(briefs) == 1 and "tbilisi" in briefs.pop()
    assert len(stories) == 1  # the new story; no other story page is touched
    assert {"index.html", "nights/2025-09-05.html", f"nights/{LAST}.html", "search/2025-09.js"} <= changed
    assert not any(c.startswith("nights/2024") for c in changed)


def test_newsbrief_site_rebuilds_the_folder_from_the_records(built, tmp_path, capsys):
    shutil.copytree(built["tmp"], tmp_path / "copy", symlinks=True)
    config = config_for(tmp_path / "copy")
    site = config.output_dir / "site"
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    shutil.rmtree(site)
    path = config_file(config, tmp_path / "config.yaml")
    assert main(["site", "--config", str(path)]) == EXIT_OK
    assert f"{len(before)} file(s) written" in capsys.readouterr().out
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before


def test_the_site_can_be_turned_off(tmp_path):
    config = config_for(tmp_path)
    config = config.model_copy(update={"site": SiteOptions(enabled=False)})
    shutil.copy(STORY / NIGHTS[0][0], config.input_dir)
    assert run_digest(config, run_date=NIGHTS[0][1]).exit_code == EXIT_OK
    assert (config.output_dir / f"digest-{NIGHTS[0][1]}.md").exists()
    assert not (config.output_dir / "site").exists()
    data = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    data["site"] = {"enabled": False, "colour": "blue"}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(Exception, match="site.colour"):
        load_config(tmp_path / "bad.yaml")


def test_site_without_a_state_database_says_what_to_do(tmp_path, capsys):
    config = config_for(tmp_path)
    path = config_file(config, tmp_path / "config.yaml")
    assert main(["site", "--config", str(path)]) != EXIT_OK
    assert "run `newsbrief digest` first" in capsys.readouterr().err


def test_direction_follows_the_script():
    assert direction("الدوحة") == direction("שלום") == "rtl"
    assert direction("თბილისი") == direction("Бургас") == direction("“Tbilisi”") == direction("") == "ltr"
    assert direction("2025: الدوحة") == "rtl"  # digits and punctuation are not letters


def test_an_entry_stored_before_the_site_takes_its_original_from_the_brief(built, tmp_path):
    """A state database written by an earlier version has no original text in its entries: the
    brief page reads it back from the brief's Markdown, paragraph by paragraph."""
    import sqlite3

    from pipeline.site import build_site
    from pipeline.state import State

    shutil.copytree(built["tmp"], tmp_path / "copy", symlinks=True)
    config = config_for(tmp_path / "copy")
    db = sqlite3.connect(config.output_dir / "state.db")
    (raw,) = db.execute("SELECT entry FROM articles WHERE source_file = 'ka-railway.txt'").fetchone()
    entry = json.loads(raw)
    for key in ("original", "original_title", "paragraphs", "flags", "translated_by", "feed_title"):
        entry.pop(key, None)
    db.execute("UPDATE articles SET entry = ? WHERE source_file = 'ka-railway.txt'", (json.dumps(entry),))
    db.commit()
    db.close()
    page = config.output_dir / "site" / built["briefs"]["ka-railway.txt"].relative_to(built["site"])
    before = page.read_text(encoding="utf-8")
    page.unlink()
    state = State(config.output_dir / "state.db")
    try:
        build_site(config.output_dir, state, config.digest, config.site)
    finally:
        state.close()
    after = page.read_text(encoding="utf-8")
    original = [line for line in before.split("\n") if 'class="orig" lang="ka"' in line]
    assert original and all(line in after for line in original)  # the same paragraphs, as before
