"""newsbrief fetch against a real local HTTP server (pytest-httpserver): feeds in, pages saved,
every failure one line, polite and incremental, and the original URL reaching brief and digest."""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import ipaddress
import json
import logging
import re
import shutil
import socket
import sqlite3
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipeline.cli import main
from pipeline.config import Config, load_config
from pipeline.errors import ConfigError
from pipeline.fetch import FetchOptions, feed_urls, format_result, run_fetch
from pipeline.netpolicy import AddressPolicy, is_public, literal_address
from pipeline.render import current_umask
from pipeline.run import run_digest
from pipeline.state import MIGRATIONS, State
from tests.conftest import ARTICLES, ROOT

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


# ---- a hostile feed: the address policy ------------------------------------------------------
SECRET = "SECRET-TOKEN-7f3a9c"
SECRET_PAGE = article_html("Admin", [f"{p} {SECRET}" for p in FERRY])
PUBLIC_IP = "93.184.216.34"  # stands for a host on the internet; the test connector maps it to a local server


class Network:
    """The tests' resolver and connector: names resolve as each test says, a 'public' address
    stands for a local server, and no connection ever goes to a non-loopback address (the
    policy must refuse it before the connector is called)."""

    def __init__(self, names=None, public=None):
        self.names = dict(names or {})  # host → addresses, or a callable returning them
        self.public = dict(public or {})  # public address → (loopback address, port) standing in for it
        self.resolved: list[str] = []
        self.asked: list[tuple[str, int]] = []  # what the policy let through to the connector
        self.real: list[tuple[str, int]] = []  # where sockets really went

    def resolve(self, host: str, port: int) -> list[str]:
        self.resolved.append(host)
        if host in self.names:
            value = self.names[host]
            return list(value() if callable(value) else value)
        if host == "localhost":
            return ["127.0.0.1"]
        raise socket.gaierror(f"{host} is unknown to this test")

    def connect(self, address: str, port: int, timeout: float | None) -> socket.socket:
        self.asked.append((address, port))
        address, port = self.public.get(address, (address, port))
        if not ipaddress.ip_address(address).is_loopback:  # never: the test would send a packet out
            raise OSError(f"the test network refuses {address}")
        self.real.append((address, port))
        return socket.create_connection((address, port), timeout=timeout)

    def policy(self, config: Config, feeds: list[str]) -> AddressPolicy:
        return AddressPolicy.for_fetch(
            feeds + config.fetch.allow, resolver=self.resolve, connector=self.connect
        )

    def only_loopback(self) -> bool:
        return all(ipaddress.ip_address(a).is_loopback for a, _ in self.real)


@pytest.fixture
def secret_server():
    """A second local service (127.0.0.2) holding a page no feed may make us fetch."""
    server = HTTPServer(host="127.0.0.2", port=0)
    server.start()
    server.expect_request("/admin.html").respond_with_data(SECRET_PAGE, content_type="text/html")
    server.expect_request("/robots.txt").respond_with_data("", content_type="text/plain")
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def other_server():
    """A second origin on 127.0.0.1 (another port), for two hosts in one run."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def extractive(config: Config, languages=("en", "de")) -> Config:
    return config.model_copy(
        update={
            "summarize": config.summarize.model_copy(update={"method": "extractive"}),
            "detect": config.detect.model_copy(update={"languages": list(languages)}),
        }
    )


def published_files(output_dir: Path) -> dict[str, str]:
    """Every file a digest publishes (not the state database, the log or the lock)."""
    return {
        p.relative_to(output_dir).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in output_dir.rglob("*")
        if p.is_file()
        and "logs" not in p.relative_to(output_dir).parts
        and not p.name.startswith((".", "state.db"))
    }


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.2", False), ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False),
        ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.251", False),
        ("239.1.2.3", False), ("240.0.0.1", False), ("255.255.255.255", False), ("192.0.2.1", False),
        ("::1", False), ("::", False), ("fe80::1", False), ("fd00::1", False), ("ff02::1", False),
        ("::ffff:127.0.0.2", False), ("::ffff:10.0.0.1", False), ("64:ff9b::a9fe:a9fe", False),
        ("2002:7f00:1::1", False), ("2001:db8::1", False),
        ("8.8.8.8", True), ("93.184.216.34", True), ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True), ("64:ff9b::808:808", True),
    ],
)  # fmt: skip
def test_which_addresses_are_public(address: str, public: bool):
    assert is_public(address) is public


@pytest.mark.parametrize(
    ("host", "address"),
    [("2130706434", "127.0.0.2"), ("0177.0.0.2", "127.0.0.2"), ("0x7f.0.0.2", "127.0.0.2"),
     ("127.1", "127.0.0.1"), ("[::1]", "::1"), ("news.example", None), ("1e100.net", None)],
)  # fmt: skip
def test_numeric_host_forms_are_read_as_the_address_they_denote(host: str, address: str | None):
    found = literal_address(host)
    assert (str(found) if found else None) == address


def test_items_pointing_at_private_addresses_are_refused_before_any_connection(
    httpserver, secret_server, config: Config, tmp_path: Path
):
    serve_site(httpserver)
    port2 = secret_server.port
    secret = f"http://127.0.0.2:{port2}/admin.html"
    httpserver.expect_request("/go").respond_with_data("", status=302, headers={"Location": secret})
    cases = {  # item link → the address the refusal names
        f"http://127.0.0.1:{httpserver.port}/news/ferry": "127.0.0.1",  # loopback, not the feed's origin
        secret: "127.0.0.2",
        f"http://[::1]:{port2}/admin.html": "::1",
        "http://169.254.169.254/latest/meta-data/": "169.254.169.254",
        "http://10.0.0.1/": "10.0.0.1",
        "http://192.168.1.1/admin": "192.168.1.1",
        f"http://[::ffff:127.0.0.2]:{port2}/admin.html": "::ffff:127.0.0.2",
        f"http://2130706434:{port2}/admin.html": "127.0.0.2",  # decimal IPv4
        f"http://0177.0.0.2:{port2}/admin.html": "127.0.0.2",  # octal IPv4
        httpserver.url_for("/go"): "127.0.0.2",  # a redirect from the feed's own origin
        "http://intranet.example/admin.html": "10.20.30.40",  # a name that resolves to a private address
        "http://[fd00::1]/": "fd00::1",  # IPv6 unique-local
        "http://[64:ff9b::a9fe:a9fe]/": "64:ff9b::a9fe:a9fe",  # NAT64 form of 169.254.169.254
        "http://100.64.0.1/": "100.64.0.1",  # shared (CGNAT)
    }
    items = [("Ferry", httpserver.url_for("/news/ferry"), "same-origin")]
    items += [(f"Case {k}", url, f"g{k}") for k, url in enumerate(cases)]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("Gazette", items), content_type="application/rss+xml"
    )
    feeds = [httpserver.url_for("/feed.xml")]
    net = Network(names={"intranet.example": ["10.20.30.40"]})

    result = run_fetch(config, feeds=feeds, policy=net.policy(config, feeds))

    assert len(result.saved) == 1 and result.failed == []  # the same-origin item is still fetched
    assert dict(result.refused) == {
        url: f"private address {address} (fetch.allow to permit)" for url, address in cases.items()
    }
    lines = list(format_result(result))
    assert f"refused: {secret}: private address 127.0.0.2 (fetch.allow to permit)" in lines
    assert secret_server.log == []  # the secret page was never asked for
    assert set(net.asked) == {("127.0.0.1", httpserver.port)}  # only the feed's own server was connected to
    assert net.only_loopback()
    saved = "".join(p.read_text(encoding="utf-8") for p in config.input_dir.rglob("*") if p.is_file())
    assert SECRET not in saved

    # The next digest lists each one, by category; the next fetch does not try them again.
    digest = run_digest(extractive(config))
    text = digest.digest_path.read_text(encoding="utf-8")
    assert text.count("| fetch: refused: private address |") == len(cases)
    net.asked.clear()
    again = run_fetch(config, feeds=feeds, policy=net.policy(config, feeds))
    assert (again.refused, again.failed, again.saved) == ([], [], [])
    assert set(net.asked) == {("127.0.0.1", httpserver.port)} and secret_server.log == []


def test_allowed_origins_are_fetched_and_other_ports_refused(httpserver, secret_server, config: Config):
    serve_site(httpserver)
    port2 = secret_server.port
    items = [
        ("Admin", f"http://127.0.0.2:{port2}/admin.html", "a"),  # allowed by address
        ("Wiki", f"http://wiki.intranet:{port2}/admin.html", "b"),  # allowed by name (resolves to 127.0.0.2)
        ("Elsewhere", "http://news.example:8080/a", "c"),  # a public host, on a port nobody allowed
    ]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("G", items), content_type="application/rss+xml"
    )
    config = with_fetch(config, allow=[f"http://127.0.0.2:{port2}", f"http://wiki.intranet:{port2}"])
    feeds = [httpserver.url_for("/feed.xml")]
    net = Network(names={"wiki.intranet": ["127.0.0.2"], "news.example": [PUBLIC_IP]})
    result = run_fetch(config, feeds=feeds, policy=net.policy(config, feeds))
    assert len(result.saved) == 2
    assert dict(result.refused) == {
        "http://news.example:8080/a": "port 8080 is not allowed (fetch.allow to permit)"
    }
    assert [req.path for req, _ in secret_server.log].count("/admin.html") == 2
    assert (PUBLIC_IP, 8080) not in net.asked and net.only_loopback()
    with pytest.raises(ValueError, match="origin only"):
        FetchOptions(allow=["http://intranet.example/path"])
    with pytest.raises(ValueError, match="http"):
        FetchOptions(allow=["ftp://intranet.example"])


def test_a_name_is_resolved_once_per_connection_and_the_vetted_address_is_the_one_connected(
    httpserver, config: Config
):
    """DNS rebinding: news.example answers with a public address for the first connections and a
    private one later. Each connection is vetted on the very addresses it then uses."""
    serve_site(httpserver)
    answers = iter([[PUBLIC_IP], [PUBLIC_IP]])
    items = [("A", "http://news.example/news/ferry", "a"), ("B", "http://news.example/news/bridge", "b"),
             ("C", httpserver.url_for("/hop"), "c")]  # fmt: skip
    httpserver.expect_request("/hop").respond_with_data(
        "", status=302, headers={"Location": "http://10.9.8.7/x"}
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("G", items), content_type="application/rss+xml"
    )
    feeds = [httpserver.url_for("/feed.xml")]
    net = Network(
        names={"news.example": lambda: next(answers, ["127.0.0.2"])},
        public={PUBLIC_IP: ("127.0.0.1", httpserver.port)},
    )
    result = run_fetch(config, feeds=feeds, policy=net.policy(config, feeds))
    # robots.txt and page A on the public answer; page B's connection got the private one.
    assert len(result.saved) == 1
    assert dict(result.refused) == {
        "http://news.example/news/bridge": "private address 127.0.0.2 (fetch.allow to permit)",
        httpserver.url_for("/hop"): "private address 10.9.8.7 (fetch.allow to permit)",
    }
    assert net.resolved.count("news.example") == 3
    assert all(a in ("127.0.0.1", PUBLIC_IP) for a, _ in net.asked) and net.only_loopback()
    # The Host header stays the URL's: the connection went to the vetted address, not to a new lookup.
    hosts = {req.headers.get("Host") for req, _ in httpserver.log if req.path == "/news/ferry"}
    assert hosts == {"news.example"}


# ---- a hostile server: limits ----------------------------------------------------------------
class TrickleServer:
    """A raw HTTP server on 127.0.0.1: /robots.txt is a quick 404; for a path ending in
    `headers` it sends its status line and headers one byte per 0.1 s; for `body`, the headers
    at once and then the body one byte per 0.1 s, forever."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.requests: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            path = data.split(b" ")[1].decode()
            self.requests.append(path)
            if path == "/robots.txt":
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n"
            if path.endswith("body"):
                conn.sendall(head)
                head = b""
            stream = head + b"<rss version='2.0'><channel>" + b" " * 10_000_000
            for byte in stream:
                if self.stopped.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.1)

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()


@pytest.fixture
def trickle():
    server = TrickleServer()
    yield server
    server.stop()


def test_a_trickling_server_is_cut_at_the_timeout_and_the_next_feeds_are_read(
    httpserver, trickle, config: Config
):
    serve_site(httpserver)
    good = rss("Harbour Gazette", [("Ferry", httpserver.url_for("/news/ferry"), "g1")])
    httpserver.expect_request("/feed.xml").respond_with_data(good, content_type="application/rss+xml")
    config = with_fetch(config, timeout_s=1.0, time_budget_s=30)
    for path in ("/feed-headers", "/feed-body"):  # one request, each alone
        started = time.monotonic()
        alone = run_fetch(config, feeds=[trickle.url(path)])
        assert time.monotonic() - started < 1.0 + 1.0
        assert alone.failed == [(trickle.url(path), "timed out after 1 s")]

    feeds = [
        trickle.url("/a-headers"),
        trickle.url("/b-body"),
        trickle.url("/c-body"),
        httpserver.url_for("/feed.xml"),
    ]
    started = time.monotonic()
    result = run_fetch(config, feeds=feeds)
    elapsed = time.monotonic() - started
    assert [r for _, r in result.failed] == ["timed out after 1 s"] * 2
    assert result.left == 1  # two timeouts: the slow host's third feed waits for a later night
    assert len(result.saved) == 1  # the feed listed after the trickling ones is read the same night
    assert elapsed < 2 * (1.0 + 1.0) + 1.0
    assert not any(p.is_file() for p in config.input_dir.rglob("*") if "ferry" not in p.name)

    # The whole fetch keeps to its budget, however many slow feeds there are.
    started = time.monotonic()
    tight = run_fetch(
        with_fetch(config, time_budget_s=2.5), feeds=[trickle.url(f"/{k}-headers") for k in range(5)]
    )
    assert time.monotonic() - started < 2.5 + 5
    assert tight.left >= 3


def test_a_gzip_bomb_is_cut_at_the_cap_on_decompressed_bytes(httpserver, config: Config):
    serve_site(httpserver)
    bomb = gzip.compress(b"<html><body><p>" + b"a " * 50_000_000, compresslevel=9)  # 100 MB from ~100 KB
    assert len(bomb) < 200_000
    httpserver.expect_request("/news/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "gzip"}
    )
    items = [
        ("Bomb", httpserver.url_for("/news/bomb"), "b"),
        ("Ferry", httpserver.url_for("/news/ferry"), "f"),
    ]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("G", items), content_type="application/rss+xml"
    )
    started = time.monotonic()
    result = run_fetch(with_fetch(config, max_page_bytes=1_000_000), feeds=[httpserver.url_for("/feed.xml")])
    assert time.monotonic() - started < 10
    assert result.failed == [
        (httpserver.url_for("/news/bomb"), "response over the cap (1,000,000 bytes, decompressed)")
    ]
    assert len(result.saved) == 1 and not list(config.input_dir.rglob("*bomb*"))


def test_a_feed_that_declares_entities_is_refused_quickly(httpserver, config: Config):
    serve_site(httpserver)
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, 10)
    )
    laughs = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel><title>&lol9;</title>'
        f"<item><title>&lol9;</title><link>{httpserver.url_for('/news/bridge')}</link></item></channel></rss>"
    )
    httpserver.expect_request("/laughs.xml").respond_with_data(laughs, content_type="application/rss+xml")
    good = rss("G", [("Ferry", httpserver.url_for("/news/ferry"), "f")])
    httpserver.expect_request("/feed.xml").respond_with_data(good, content_type="application/rss+xml")
    started = time.monotonic()
    result = run_fetch(config, feeds=[httpserver.url_for("/laughs.xml"), httpserver.url_for("/feed.xml")])
    assert time.monotonic() - started < 5
    ((url, reason),) = result.refused
    assert url == httpserver.url_for("/laughs.xml") and reason.startswith("the feed declares XML entities")
    assert [p.split("/")[0].split("-")[0] for p in result.saved] == ["g"]  # only the good feed's page


def test_a_feed_of_100000_items_gives_at_most_max_items_per_feed(httpserver, config: Config):
    assert FetchOptions().max_items_per_feed == 100
    serve_site(httpserver)
    httpserver.expect_request(re.compile(r"/n/\d+")).respond_with_data(
        article_html("F", FERRY), content_type="text/html"
    )
    body = "".join(
        f"<item><title>t{i}</title><link>{httpserver.url_for(f'/n/{i}')}</link></item>"
        for i in range(100_000)
    )
    feed = f"<?xml version='1.0'?><rss version='2.0'><channel><title>Big</title>{body}</channel></rss>"
    httpserver.expect_request("/big.xml").respond_with_data(feed, content_type="application/rss+xml")
    started = time.monotonic()
    result = run_fetch(
        with_fetch(config, max_items_per_feed=5, max_page_bytes=20_000_000),
        feeds=[httpserver.url_for("/big.xml")],
    )
    assert time.monotonic() - started < 15
    assert (result.new_items, len(result.saved), result.failed) == (5, 5, [])


@pytest.mark.parametrize(
    "robots",
    [
        ("User-agent: *\n" + "# padding\n" * 60_000 + "Disallow: /\n").encode(),
        b"\x00\xff\xfe binary \x00" * 100,
    ],
    ids=["over-500-KB", "binary"],
)
def test_a_huge_or_malformed_robots_txt_allows_with_the_default_delay_and_says_so(httpserver, config, robots):
    httpserver.expect_request("/robots.txt").respond_with_data(robots, content_type="text/plain")
    httpserver.expect_request("/news/ferry").respond_with_data(
        article_html("F", FERRY), content_type="text/html"
    )
    feed = rss("G", [("Ferry", httpserver.url_for("/news/ferry"), "f")])
    httpserver.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    result = run_fetch(config, feeds=[httpserver.url_for("/feed.xml")])
    assert len(result.saved) == 1 and result.failed == []
    ((url, note),) = result.notes
    assert (
        url == httpserver.url_for("/robots.txt")
        and "treated as allowing everything, with the default delay" in note
    )
    assert any(line.startswith("note: ") for line in format_result(result))


def test_a_huge_crawl_delay_defers_that_host_and_the_other_feeds_go_on(
    httpserver, other_server, config: Config
):
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nCrawl-delay: 100000\n")
    for k in range(2):
        httpserver.expect_request(f"/news/{k}").respond_with_data(
            article_html("F", FERRY), content_type="text/html"
        )
    slow_items = [(f"S{k}", httpserver.url_for(f"/news/{k}"), f"s{k}") for k in range(2)]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("Slow", slow_items), content_type="application/rss+xml"
    )
    serve_site(other_server)
    fast = rss("Fast", [("Bridge", other_server.url_for("/news/bridge"), "b")])
    other_server.expect_request("/feed.xml").respond_with_data(fast, content_type="application/rss+xml")
    feeds = [httpserver.url_for("/feed.xml"), other_server.url_for("/feed.xml")]

    started = time.monotonic()
    first = run_fetch(config, feeds=feeds)
    assert time.monotonic() - started < 5
    assert [p.split("-")[0] for p in first.saved] == ["fast"] and first.failed == []
    assert first.left == 2  # the slow host's two pages: a later night
    assert requested(httpserver) == ["/robots.txt", "/feed.xml"]

    httpserver.clear_log()
    second = run_fetch(config, feeds=feeds)  # the next night: one request to it, a page waiting since
    assert requested(httpserver) == ["/robots.txt", "/news/0"]
    assert [p.split("-")[0] for p in second.saved] == ["slow"]


# ---- secrets, and what is published ----------------------------------------------------------
def test_no_credentials_on_item_requests_and_no_secrets_published(
    httpserver, config: Config, tmp_path: Path, monkeypatch, capsys
):
    serve_site(httpserver)
    netrc = tmp_path / "netrc"
    netrc.write_text(
        "machine localhost login op password NETRC-PW\nmachine news.example login op password NETRC-PW\n"
    )
    monkeypatch.setenv("NETRC", str(netrc))
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    base = f"http://localhost:{httpserver.port}"
    items = [
        ("Ferry", f"http://user:ITEM-PW@localhost:{httpserver.port}/news/ferry", "f"),
        ("Bridge", "http://news.example/news/bridge", "b"),
        ("Gone", f"http://127.0.0.1:{closed_port}/gone", "g"),
    ]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("G", items), content_type="application/rss+xml"
    )
    httpserver.expect_request("/broken.xml").respond_with_data(
        "<h1>Apache/2.4.1 (Unix) BANNER at 10.0.0.5:8443</h1>", status=500
    )
    feeds = [
        f"http://feeduser:FEED-PW@localhost:{httpserver.port}/feed.xml",
        f"{base}/broken.xml?token=T0KEN-S3CR3T&page=2",
    ]
    config = with_fetch(config, allow=[f"http://127.0.0.1:{closed_port}"])
    net = Network(names={"news.example": [PUBLIC_IP]}, public={PUBLIC_IP: ("127.0.0.1", httpserver.port)})
    result = run_fetch(config, feeds=feeds, policy=net.policy(config, feeds))

    auth = {req.path: req.headers.get("Authorization") for req, _ in httpserver.log}
    assert (
        auth["/feed.xml"] == "Basic " + base64.b64encode(b"feeduser:FEED-PW").decode()
    )  # the operator's own
    assert auth["/news/ferry"] is None and auth["/news/bridge"] is None  # not the URL's, not ~/.netrc's
    assert len(result.saved) == 2
    lines = "\n".join(format_result(result))
    assert "[Errno 111] Connection refused" in lines  # the console keeps the detail
    assert "T0KEN-S3CR3T" not in lines and "ITEM-PW" not in lines and "FEED-PW" not in lines
    sidecars = "".join(p.read_text(encoding="utf-8") for p in config.input_dir.rglob("*.feed.json"))
    assert "ITEM-PW" not in sidecars and "FEED-PW" not in sidecars

    run_digest(extractive(config))
    published = published_files(config.output_dir)
    everything = "\n".join(published.values())
    for secret in ("ITEM-PW", "FEED-PW", "NETRC-PW", "T0KEN-S3CR3T", "Apache", "BANNER", "Errno", "10.0.0.5"):
        assert secret not in everything, secret
    digest = next(
        text for name, text in published.items() if name.startswith("digest-") and name.endswith(".md")
    )
    assert "broken.xml?token=REDACTED&#38;page=2" in digest  # the other parameters stay
    assert "| fetch: HTTP 500 Internal Server Error |" in digest and "| fetch: cannot connect |" in digest


def test_no_published_file_names_a_folder_of_this_machine(httpserver, config: Config, tmp_path: Path):
    from pipeline.models import ModelSpec

    serve_site(httpserver)
    httpserver.expect_request("/news/gone").respond_with_data("gone", status=404)
    items = [
        ("Ferry", httpserver.url_for("/news/ferry"), "f"),
        ("Gone", httpserver.url_for("/news/gone"), "g"),
    ]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("G", items), content_type="application/rss+xml"
    )
    run_fetch(config, feeds=[httpserver.url_for("/feed.xml")])
    for name in ("ka-railway.txt", "lt-railway.txt"):
        shutil.copy(ARTICLES / name, config.input_dir / name)
    models = tmp_path / "models"
    models.mkdir()
    digest_config = extractive(config, ("en", "ka", "lt")).model_copy(
        update={
            "paths": config.paths.model_copy(update={"models": models}),
            "models": {
                **config.models,
                "tiny-nllb": ModelSpec(
                    id="newsbrief-fixtures/absent", family="nllb"
                ),  # not in the models folder
                "tiny-marian-lt-en": ModelSpec(id="x/lt", family="marian", path=str(models / "tiny-lt")),
            },
        }
    )
    result = run_digest(digest_config)
    reasons = {f.source_file: f.reason for f in result.failed}
    assert str(models) in reasons["ka-railway.txt"]  # the console keeps the full path for the operator
    published = published_files(config.output_dir)
    assert any(name.startswith("briefs/") for name in published)
    for name, text in published.items():
        for folder in (ROOT, tmp_path, config.input_dir, models, Path.home()):
            assert str(folder) not in text, (name, str(folder))
    digest = next(
        text for name, text in published.items() if name.startswith("digest-") and name.endswith(".md")
    )
    assert "is not in models/ and downloads are off" in digest
    assert "is not at models/tiny-lt" in digest


def test_hostile_titles_and_dates_stay_harmless(httpserver, config: Config):
    serve_site(httpserver)
    title = "Ferry \u202egnp.exe\u202c news\u200b" + " word" * 200
    body = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Gazette\u2066\u2069</title>"
        f"<item><title>{title}</title><link>{httpserver.url_for('/news/ferry')}</link>"
        "<pubDate>Fri, 31 Dec 9999 23:59:59 +0000</pubDate></item></channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        body.encode(), content_type="application/rss+xml"
    )
    before = datetime.now(UTC)
    result = run_fetch(config, feeds=[httpserver.url_for("/feed.xml")])
    (saved,) = result.saved
    meta = json.loads((config.input_dir / saved).with_suffix("").with_suffix(".feed.json").read_text("utf-8"))
    assert datetime.fromisoformat(meta["published"]) <= datetime.now(UTC)
    assert datetime.fromisoformat(meta["published"]) >= before.replace(microsecond=0)
    assert len(meta["title"]) <= 300 and meta["title"].startswith("Ferry gnp.exe news word")
    assert not set(meta["title"] + meta["feed_title"]) & {"\u202e", "\u202c", "\u200b", "\u2066", "\u2069"}
    assert set(saved) <= set("abcdefghijklmnopqrstuvwxyz0123456789-./")


def test_https_goes_to_the_vetted_address_with_the_name_for_sni_and_the_certificate(
    httpserver, config: Config
):
    """The socket is opened to the vetted address; TLS is then spoken for the URL's name: the
    server sees `news.example` as SNI, and a certificate no CA signed is refused.

    tests/fixtures/news-example.{pem,key}: a self-signed test certificate for the made-up name
    news.example (`openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=news.example
    -addext subjectAltName=DNS:news.example`); the key protects nothing."""
    seen: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ARTICLES.parent / "news-example.pem", ARTICLES.parent / "news-example.key")
    context.sni_callback = lambda _sock, name, _ctx: seen.append(name)
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = server.accept()
            with contextlib.suppress(OSError, ssl.SSLError), context.wrap_socket(conn, server_side=True):
                pass

    threading.Thread(target=serve, daemon=True).start()
    serve_site(httpserver)
    items = [("Secure", "https://news.example/a", "s")]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss("G", items), content_type="application/rss+xml"
    )
    feeds = [httpserver.url_for("/feed.xml")]
    net = Network(
        names={"news.example": [PUBLIC_IP]}, public={PUBLIC_IP: ("127.0.0.1", server.getsockname()[1])}
    )
    try:
        result = run_fetch(config, feeds=feeds, policy=net.policy(config, feeds))
    finally:
        server.close()
    assert seen == ["news.example"]
    assert (PUBLIC_IP, 443) in net.asked and net.only_loopback()
    ((url, reason),) = result.failed
    assert url == "https://news.example/a" and "CERTIFICATE_VERIFY_FAILED" in reason
