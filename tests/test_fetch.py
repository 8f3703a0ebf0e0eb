"""newsbrief fetch against a real local HTTP server (pytest-httpserver): feeds in, pages saved,
every failure one line, polite and incremental, and the original URL reaching brief and digest."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from werkzeug import Request, Response

from pipeline.cli import main
from pipeline.config import Config, load_config
from pipeline.errors import ConfigError
from pipeline.fetch import FetchOptions, feed_urls, run_fetch
from pipeline.render import current_umask
from pipeline.state import MIGRATIONS, State
from tests.conftest import ROOT

FERRY = [
    "The harbour authority of Port Alden said on Monday that the new electric ferry between the old "
    "town and the island of Merrow will begin a regular timetable in April, after three months of trials.",
    "The vessel carries up to 300 passengers and 40 cars, and charges its batteries at the quay in the "
    "twenty minutes it spends in port, the authority's director Ana Ferreira told reporters.",
    "Islanders have waited for the service since the old diesel ferry was withdrawn last autumn, and "
    "the council expects the crossing to carry about 500,000 people in its first year of operation.",
]
BRIDGE = [
    "Engineers closed the northern bridge of Port Alden to heavy lorries on Tuesday after an inspection "
    "found cracks in two of the supports that carry the road across the river.",
    "The city council said the bridge would stay open to cars, buses and cyclists while a repair plan "
    "is drawn up, and that lorries would be sent along the ring road for at least six weeks.",
    "Hauliers said the detour adds about 25 minutes to each trip through the city, and asked the "
    "council to publish the inspection report before the repairs begin.",
]


def article_html(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}</article></body></html>"
    )


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    """items: (title, link, guid)."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid isPermaLink='false'>{g}</guid>"
        f"<pubDate>Mon, 03 Mar 2025 08:00:00 +0000</pubDate></item>"
        for t, link, g in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{title}</title><link>http://example.invalid/</link><description>d</description>"
        f"{entries}</channel></rss>"
    )


@pytest.fixture(autouse=True)
def _restore_logging():
    """`main` puts a handler on pytest's captured stderr; later tests must not write to it once closed."""
    logger = logging.getLogger("newsbrief")
    handlers, level = logger.handlers[:], logger.level
    yield
    logger.handlers[:], logger.level = handlers, level


@pytest.fixture
def config(tmp_path: Path) -> Config:
    base = load_config(ROOT / "config.tiny.yaml")
    paths = base.paths.model_copy(update={"input": tmp_path / "inbox", "output": tmp_path / "out"})
    # Generous for a local server on a busy 2-core machine; the timeout tests set their own.
    fetch = FetchOptions(timeout_s=5.0, host_delay_s=0.0, time_budget_s=60)
    return base.model_copy(update={"paths": paths, "fetch": fetch})


def with_fetch(config: Config, **changes) -> Config:
    return config.model_copy(update={"fetch": config.fetch.model_copy(update=changes)})


def serve_site(httpserver, robots: str = "User-agent: *\nDisallow: /private/\n") -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(robots, content_type="text/plain")
    httpserver.expect_request("/news/ferry").respond_with_data(
        article_html("Electric ferry to Merrow starts in April", FERRY),
        content_type="text/html; charset=utf-8",
    )
    httpserver.expect_request("/news/bridge").respond_with_data(
        article_html("Northern bridge closed to lorries", BRIDGE), content_type="text/html"
    )


def requested(httpserver) -> list[str]:
    return [req.path for req, _ in httpserver.log]


def files_under(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_good_items_are_saved_and_every_bad_one_is_one_line(httpserver, config: Config, tmp_path, capsys):
    serve_site(httpserver)

    config = with_fetch(config, timeout_s=1.0)

    def slow(_request: Request) -> Response:
        time.sleep(1.6)  # beyond the 1 s timeout
        return Response(article_html("Late", FERRY), content_type="text/html")

    httpserver.expect_request("/news/slow").respond_with_handler(slow)
    httpserver.expect_request("/news/gone").respond_with_data("gone", status=404)
    httpserver.expect_request("/news/report.pdf").respond_with_data(
        b"%PDF-1.7 ...", content_type="application/pdf"
    )
    httpserver.expect_request("/news/empty").respond_with_data(
        "<html><body><nav><a href='/'>Home</a></nav></body></html>", content_type="text/html"
    )
    httpserver.expect_request("/news/busy").respond_with_data("try later", status=503)
    httpserver.expect_request("/loop/a").respond_with_data("", status=302, headers={"Location": "/loop/b"})
    httpserver.expect_request("/loop/b").respond_with_data("", status=302, headers={"Location": "/loop/a"})
    items = [
        ("Electric ferry to Merrow starts in April", "/news/ferry", "g-ferry"),
        ("Northern bridge closed to lorries", "/news/bridge", "g-bridge"),
        ("Missing", "/news/gone", "g-gone"),
        ("Slow", "/news/slow", "g-slow"),
        ("A PDF", "/news/report.pdf", "g-pdf"),
        ("Nothing", "/news/empty", "g-empty"),
        ("Busy", "/news/busy", "g-busy"),
        ("Loop", "/loop/a", "g-loop"),
        ("Private", "/private/memo", "g-private"),
    ]
    feed = rss("Harbour Gazette", [(t, httpserver.url_for(p), g) for t, p, g in items])
    httpserver.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")

    code = main(
        ["fetch", "--config", str(write_config(config, tmp_path)), "--feed", httpserver.url_for("/feed.xml")]
    )
    out = capsys.readouterr().out.splitlines()

    assert code == 3  # documented: some feeds or pages could not be fetched
    failed = {line.split(": ", 2)[1]: line.split(": ", 2)[2] for line in out if line.startswith("failed: ")}
    url = httpserver.url_for
    assert failed[url("/news/gone")] == "HTTP 404 Not Found"
    assert failed[url("/news/slow")] == "timed out after 1 s"
    assert failed[url("/news/report.pdf")] == "not an HTML page (application/pdf)"
    assert failed[url("/news/empty")].startswith("no article text on the page")
    assert failed[url("/news/busy")] == "HTTP 503 Service Unavailable"
    assert failed[url("/loop/a")].startswith("redirect loop")
    assert (
        failed[url("/private/memo")].startswith("disallowed by")
        and "robots.txt" in failed[url("/private/memo")]
    )
    assert len(failed) == 7
    assert out[-1].startswith("2 new page(s) saved from 1 feed(s)")
    assert "/private/memo" not in requested(httpserver)  # robots.txt obeyed: never asked for

    inbox = config.input_dir
    saved = files_under(inbox)
    folder = {name.split("/")[0] for name in saved}
    assert len(folder) == 1 and folder.pop().startswith(
        "harbour-gazette-"
    )  # one folder per feed, named by us
    assert len(saved) == 4  # two pages, each with its sidecar
    page = next(inbox.rglob("*ferry*.html"))
    assert page.name.startswith("2025-03-03-electric-ferry-to-merrow-starts-in-april-")
    meta = json.loads(page.with_name(page.stem + ".feed.json").read_text(encoding="utf-8"))
    assert meta["url"] == url("/news/ferry") and meta["guid"] == "g-ferry"
    assert meta["feed_title"] == "Harbour Gazette" and meta["published"].startswith("2025-03-03T08:00")
    assert page.read_text(encoding="utf-8") == article_html("Electric ferry to Merrow starts in April", FERRY)
    # Saved pages get the permissions the umask gives (0644 under 022), like every output.
    assert {(inbox / f).stat().st_mode & 0o777 for f in saved} == {0o666 & ~current_umask()}
    # A clear User-Agent on every request.
    agents = {req.headers.get("User-Agent") for req, _ in httpserver.log}
    assert agents == {"newsbrief/0.1.0 (+https://github.com/newsbrief/newsbrief)"}


def test_the_second_fetch_is_conditional_and_writes_nothing_new(httpserver, config: Config):
    serve_site(httpserver)
    items = [
        ("Ferry", httpserver.url_for("/news/ferry"), "g1"),
        ("Bridge", httpserver.url_for("/news/bridge"), "g2"),
    ]
    body = rss("Harbour Gazette", items)
    conditional = []
    honour = [True]  # False: a server that ignores the validators and always sends the feed

    def feed(request: Request) -> Response:
        conditional.append((request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")))
        if honour[0] and request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        headers = {"ETag": '"v1"', "Last-Modified": "Mon, 03 Mar 2025 08:00:00 GMT"}
        return Response(body, content_type="application/rss+xml", headers=headers)

    httpserver.expect_request("/feed.xml").respond_with_handler(feed)
    feeds = [httpserver.url_for("/feed.xml")]
    first = run_fetch(config, feeds=feeds)
    assert len(first.saved) == 2 and first.ok
    before = files_under(config.input_dir)
    httpserver.clear_log()

    second = run_fetch(config, feeds=feeds)
    assert conditional[-1] == ('"v1"', "Mon, 03 Mar 2025 08:00:00 GMT")
    assert (second.unchanged, second.saved, second.failed) == (1, [], [])
    assert requested(httpserver) == ["/robots.txt", "/feed.xml"]  # robots.txt: read once per run
    assert files_under(config.input_dir) == before

    # A server that ignores the validators: the items are known by GUID and URL, so no page is asked for.
    httpserver.clear_log()
    honour[0] = False
    third = run_fetch(config, feeds=feeds)
    assert third.saved == [] and third.unchanged == 0
    assert requested(httpserver) == ["/robots.txt", "/feed.xml"]

    # A changed page at a known URL is fetched again only when asked (--refetch).
    httpserver.clear()
    httpserver.expect_request("/robots.txt").respond_with_data("", content_type="text/plain")
    httpserver.expect_request("/feed.xml").respond_with_handler(feed)
    httpserver.expect_request("/news/ferry").respond_with_data(
        article_html("Ferry delayed to May", FERRY[::-1]), content_type="text/html"
    )
    httpserver.expect_request("/news/bridge").respond_with_data(
        article_html("Bridge", BRIDGE), content_type="text/html"
    )
    assert run_fetch(config, feeds=feeds).saved == []
    refetched = run_fetch(config, feeds=feeds, refetch=True)
    assert len(refetched.saved) == 2
    after = files_under(config.input_dir)
    assert set(after) == set(before)  # the same files, rewritten in place: no second copy
    assert after != before


def test_a_malformed_feed_is_one_line_and_other_feeds_go_on(httpserver, config: Config):
    serve_site(httpserver)
    httpserver.expect_request("/broken.xml").respond_with_data(
        "this is not { a feed at all", content_type="application/rss+xml"
    )
    good = rss("Harbour Gazette", [("Ferry", httpserver.url_for("/news/ferry"), "g1")])
    httpserver.expect_request("/feed.xml").respond_with_data(good, content_type="application/rss+xml")
    httpserver.expect_request("/missing.xml").respond_with_data("no", status=410)
    result = run_fetch(
        config,
        feeds=[
            httpserver.url_for("/broken.xml"),
            httpserver.url_for("/missing.xml"),
            httpserver.url_for("/feed.xml"),
        ],
    )
    reasons = dict(result.failed)
    assert reasons[httpserver.url_for("/broken.xml")].startswith("not an RSS or Atom feed")
    assert reasons[httpserver.url_for("/missing.xml")] == "HTTP 410 Gone"
    assert len(result.saved) == 1


def test_robots_txt_that_forbids_everything_is_obeyed(httpserver, config: Config):
    serve_site(httpserver, robots="User-agent: newsbrief\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    httpserver.expect_request("/feed.xml").respond_with_data(rss("G", []), content_type="application/rss+xml")
    result = run_fetch(config, feeds=[httpserver.url_for("/feed.xml")])
    assert "disallowed by" in dict(result.failed)[httpserver.url_for("/feed.xml")]
    assert requested(httpserver) == ["/robots.txt"]
    assert not config.input_dir.exists() or not any(config.input_dir.iterdir())


def test_one_host_is_asked_at_most_once_per_delay_and_the_budget_leaves_work_for_later(httpserver, config):
    serve_site(httpserver)
    times: list[float] = []

    def page(_request: Request) -> Response:
        times.append(time.monotonic())
        return Response(article_html("Ferry", FERRY), content_type="text/html")

    for k in range(3):
        httpserver.expect_request(f"/news/{k}").respond_with_handler(page)
    items = [(f"Item {k}", httpserver.url_for(f"/news/{k}"), f"g{k}") for k in range(3)]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("G", items), content_type="application/rss+xml"
    )
    feeds = [httpserver.url_for("/feed.xml")]

    # One request per 0.5 s: robots.txt at 0, the feed at 0.5, the first page at 1.0; the second,
    # at 1.5, could outlast a 2.4 s budget with its 1 s timeout, so it waits for the next run.
    first = run_fetch(with_fetch(config, host_delay_s=0.5, timeout_s=1.0, time_budget_s=2.4), feeds=feeds)
    assert (len(first.saved), first.left, first.failed) == (1, 2, [])
    second = run_fetch(with_fetch(config, host_delay_s=0.5), feeds=feeds)
    assert len(second.saved) == 2  # the pending items, although the feed is unchanged
    gaps = [b - a for a, b in zip(times[1:], times[2:], strict=False)]
    assert gaps and min(gaps) >= 0.49


def test_nothing_is_written_outside_the_input_folder(httpserver, config: Config, tmp_path: Path):
    serve_site(httpserver)
    items = [
        ("../../../../etc/evil", httpserver.url_for("/news/ferry"), "../../outside"),
        ("/abs/path", httpserver.url_for("/news/bridge"), "/etc/passwd"),
        ("File", "file:///etc/passwd", "f"),
        ("Script", "javascript:alert(1)", "j"),
    ]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("../../../tmp/x", items), content_type="application/rss+xml"
    )
    before = {p for p in tmp_path.rglob("*")}
    result = run_fetch(config, feeds=[httpserver.url_for("/feed.xml")])
    assert len(result.saved) == 2
    refused = [url for url, reason in result.failed if reason == "the item's link is not an http(s) URL"]
    assert sorted(url.split(":")[0] for url in refused) == ["file", "javascript"]
    new = {p for p in tmp_path.rglob("*")} - before
    inbox, out = config.input_dir, config.output_dir
    assert all(p.is_relative_to(inbox) or p.is_relative_to(out) for p in new)
    for p in inbox.rglob("*"):
        rel = p.relative_to(inbox).as_posix()
        assert set(rel) <= set("abcdefghijklmnopqrstuvwxyz0123456789-./"), rel


def test_source_url_reaches_the_brief_and_the_digest(httpserver, config: Config):
    from pipeline.run import run_digest

    serve_site(httpserver)
    httpserver.expect_request("/news/gone").respond_with_data("gone", status=404)
    items = [("Electric ferry to Merrow starts in April", httpserver.url_for("/news/ferry"), "g1")]
    items.append(("Gone", httpserver.url_for("/news/gone"), "g2"))
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("Harbour Gazette", items), content_type="application/rss+xml"
    )
    run_fetch(config, feeds=[httpserver.url_for("/feed.xml")])
    # English passes through and the extractive summary needs no model: no weights involved.
    digest_config = config.model_copy(
        update={
            "summarize": config.summarize.model_copy(update={"method": "extractive"}),
            "detect": config.detect.model_copy(update={"languages": ["en", "de"]}),
        }
    )
    result = run_digest(digest_config)
    assert result.processed == 1
    assert [f.source_file for f in result.failed] == [httpserver.url_for("/news/gone")]
    assert result.exit_code == 3
    brief = next((config.output_dir / "briefs").glob("*.md")).read_text(encoding="utf-8")
    front = yaml.safe_load(brief.split("---\n")[1])
    url = httpserver.url_for("/news/ferry")
    assert front["source_url"] == url and front["feed"] == "Harbour Gazette"
    # The page gives no date: the feed's publication date is used, and says so.
    assert (front["date"], front["date_source"]) == ("2025-03-03", "feed")
    assert f"Original: [localhost]({url})" in brief
    digest = result.digest_path.read_text(encoding="utf-8")
    assert f"([original]({url}))\n" in digest
    assert f"| <code>{httpserver.url_for('/news/gone')}</code> | fetch: HTTP 404 Not Found |" in digest
    data = json.loads(result.digest_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["articles"][0]["source_url"] == url
    # Listed again by a second run that day; the next day's digest has moved on.
    again = run_digest(digest_config)
    assert "fetch: HTTP 404 Not Found" in again.digest_path.read_text(encoding="utf-8") and not again.failed
    tomorrow = run_digest(digest_config, now=result_now(result) + timedelta(days=1))
    assert "fetch: HTTP 404" not in tomorrow.digest_path.read_text(encoding="utf-8")


def result_now(result):
    from datetime import datetime

    return datetime.fromisoformat(result.digest_path.stem.removeprefix("digest-")).astimezone()


def test_an_older_state_database_gains_the_feed_tables_and_keeps_its_rows(tmp_path: Path):
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE articles (source_file TEXT PRIMARY KEY, sha256 TEXT NOT NULL, status TEXT NOT NULL, "
        "retry INTEGER NOT NULL DEFAULT 0, fingerprint TEXT NOT NULL, language TEXT, brief TEXT, entry TEXT, "
        "reason TEXT, run_date TEXT NOT NULL, updated_at TEXT NOT NULL);"
        "INSERT INTO articles VALUES ('a.txt', 'abc', 'done', 0, 'fp', 'en', 'briefs/a.md', NULL, NULL, "
        "'2025-01-01', '2025-01-01T00:00:00');"
    )
    db.commit()
    db.close()
    state = State(path)
    try:
        assert state.get("a.txt").brief == "briefs/a.md"
        assert state.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert state.feed("http://x/feed") is None and state.items_to_fetch(3) == []
    finally:
        state.close()
    State(path).close()  # opening it again migrates nothing and breaks nothing


def test_feeds_come_from_a_list_or_an_opml_file(tmp_path: Path):
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        "<?xml version='1.0'?><opml version='2.0'><head><title>t</title></head><body>"
        "<outline text='News'><outline text='A' type='rss' xmlUrl='https://a.example/feed'/>"
        "<outline text='B' type='rss' xmlUrl='https://b.example/atom.xml'/></outline></body></opml>",
        encoding="utf-8",
    )
    assert feed_urls(FetchOptions(feeds=Path("feeds.opml")), tmp_path) == [
        "https://a.example/feed",
        "https://b.example/atom.xml",
    ]
    with pytest.raises(ConfigError, match="does not exist"):
        feed_urls(FetchOptions(feeds=Path("nope.opml")), tmp_path)
    with pytest.raises(ValueError, match="not an http"):
        FetchOptions(feeds=["ftp://a.example/feed"])


def test_fetch_without_feeds_says_so_and_succeeds(config: Config, tmp_path: Path, capsys):
    assert main(["fetch", "--config", str(write_config(config, tmp_path))]) == 0
    assert "no feeds configured" in capsys.readouterr().out


def write_config(config: Config, tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.tiny.yaml").read_text(encoding="utf-8"))
    data["paths"] = {"input": str(config.input_dir), "output": str(config.output_dir), "models": "models"}
    data["fetch"] = config.fetch.model_dump(mode="json")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_ingest_reads_a_sidecar_with_its_page_and_lists_one_without(tmp_path: Path):
    from pipeline.ingest import IngestOptions, iter_input_files, read_article

    folder = tmp_path / "inbox" / "gazette-0a1b2c3d"
    folder.mkdir(parents=True)
    (folder / "a.html").write_text(article_html("Ferry", FERRY), encoding="utf-8")
    (folder / "a.feed.json").write_text(
        json.dumps({"url": "https://x.example/a", "feed_title": "G"}), "utf-8"
    )
    (folder / "b.html").write_text(article_html("Bridge", BRIDGE), encoding="utf-8")
    (folder / "b.feed.json").write_text("{not json", encoding="utf-8")
    (folder / "orphan.feed.json").write_text("{}", encoding="utf-8")  # its page was deleted
    inbox = tmp_path / "inbox"
    names = [p.name for p in iter_input_files(inbox)]
    assert names == ["a.html", "b.html", "orphan.feed.json"]  # the orphan is reported, not hidden
    a = read_article(folder / "a.html", inbox, IngestOptions())
    assert (a.source_url, a.feed_title) == ("https://x.example/a", "G")
    b = read_article(folder / "b.html", inbox, IngestOptions())
    assert b.source_url is None and any("b.feed.json unreadable" in w for w in b.warnings)


def test_a_page_that_cannot_be_saved_is_one_line_and_the_next_feed_goes_on(httpserver, config: Config):
    from pipeline.fetch import _folder_name

    serve_site(httpserver)
    feeds = [httpserver.url_for("/a.xml"), httpserver.url_for("/b.xml")]
    for path, title, page in (("/a.xml", "A", "/news/ferry"), ("/b.xml", "B", "/news/bridge")):
        body = rss(title, [(title, httpserver.url_for(page), "g")])
        httpserver.expect_request(path).respond_with_data(body, content_type="application/rss+xml")
    config.input_dir.mkdir(parents=True)
    (config.input_dir / _folder_name("A", feeds[0])).write_text("a file where feed A's folder goes")
    result = run_fetch(config, feeds=feeds)
    assert [(url, reason.split(":")[0]) for url, reason in result.failed] == [
        (httpserver.url_for("/news/ferry"), "cannot save the page")
    ]
    assert len(result.saved) == 1 and result.saved[0].startswith("b-")
