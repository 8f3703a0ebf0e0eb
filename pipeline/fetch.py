"""Fetch: the articles that RSS and Atom feeds link, saved into the input folder for tonight's digest.

Each new item's page is saved as it came (`<item>.html`) beside what the feed says about it
(`<item>.feed.json`: URL, GUID, feed title, item title, publication date), in one folder per
feed. Ingest reads both, so the brief carries the original URL. Names of folders and files are
made here (a slug of the feed's or item's title and a hash), never taken from a URL, and every
path is checked to lie inside the input folder.

Polite the way well-behaved crawlers are: a conditional GET for every feed (ETag /
Last-Modified kept in the state database), each item fetched once (its GUID and URL
remembered), robots.txt read and obeyed (with its Crawl-delay), a delay between two requests
to one host, a size cap on every response, a User-Agent that says who we are, a time budget for
the whole run. A feed or page that fails is one line (URL and reason) in the output and in the
next digest; the others go on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline import __version__
from pipeline.errors import ConfigError, FetchError, OutputError
from pipeline.ingest import HTML_SNIFF, SIDECAR_SUFFIX
from pipeline.render import write_atomic

if TYPE_CHECKING:
    from pipeline.state import ItemRow, State

log = logging.getLogger("newsbrief.fetch")

PROJECT_URL = "https://github.com/newsbrief/newsbrief"
USER_AGENT = f"newsbrief/{__version__} (+{PROJECT_URL})"
HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_CODES = (301, 302, 303, 307, 308)
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
# A page whose extracted text has no line of this many words holds menus, link lists or a
# consent banner, not a story: a news story is made of sentences.
MIN_PARAGRAPH_WORDS = 8
ROBOTS_MAX_BYTES = 500_000  # Google reads the first 500 KiB of a robots.txt


class FetchOptions(BaseModel):
    """Which feeds to read and how politely.

    Attributes:
        feeds: the feeds' URLs, or the path of an OPML file listing them (relative to the
            config file), as feed readers export it.
        timeout_s: the most one request may take, connecting and reading the whole response.
        host_delay_s: the least time between two requests to one host (a robots.txt
            Crawl-delay, when longer, wins).
        max_page_bytes: a larger feed or page is not read (a news page is rarely over 2 MB).
        user_agent: how requests introduce themselves; robots.txt rules are matched against
            its first word (`newsbrief`). Add your contact if you run it at scale.
        time_budget_s: the whole fetch takes at most this long: no request is started that
            could outlast it (its timeout); what is left is fetched next run.
        max_redirects: more redirects than this for one URL is a failure.
        max_attempts: a page that failed in a way that may pass (a 5xx, a timeout) is tried
            again on later runs, up to this many times in all.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: list[str] | Path = Field(default_factory=list)
    timeout_s: float = Field(20.0, gt=0)
    host_delay_s: float = Field(2.0, ge=0)
    max_page_bytes: int = Field(5_000_000, gt=0)
    user_agent: str = Field(USER_AGENT, min_length=1)
    time_budget_s: float = Field(900.0, gt=0)
    max_redirects: int = Field(5, ge=0)
    max_attempts: int = Field(3, ge=1)

    @field_validator("feeds")
    @classmethod
    def _urls(cls, value: list[str] | Path) -> list[str] | Path:
        if isinstance(value, list):
            for url in value:
                if not is_http_url(url):
                    raise ValueError(f"{url!r} is not an http(s) URL")
        return value


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme
    except ValueError:
        return ""


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def feed_urls(options: FetchOptions, base_dir: Path) -> list[str]:
    """The configured feeds: the list itself, or the feeds of the OPML file it names."""
    if isinstance(options.feeds, list):
        return list(dict.fromkeys(options.feeds))
    path = options.feeds if options.feeds.is_absolute() else base_dir / options.feeds
    return read_opml(path)


def read_opml(path: Path) -> list[str]:
    """Every `xmlUrl` of an OPML file's outlines, in order, once each."""
    import xml.etree.ElementTree as ET  # the user's own file: no external entities are resolved

    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise ConfigError(f"fetch.feeds: the OPML file {path} does not exist") from None
    except (OSError, ET.ParseError) as exc:
        raise ConfigError(f"fetch.feeds: cannot read the OPML file {path}: {exc}") from exc
    urls = [o.get("xmlUrl", "").strip() for o in root.iter("outline") if o.get("xmlUrl")]
    bad = [u for u in urls if not is_http_url(u)]
    if bad:
        raise ConfigError(f"fetch.feeds: {path} lists feeds that are not http(s) URLs: {', '.join(bad)}")
    return list(dict.fromkeys(urls))


# ---- HTTP, politely --------------------------------------------------------------------------
class BudgetExceeded(Exception):
    """The run's time budget is used up: what is left waits for the next run (not a failure)."""


@dataclass
class Page:
    url: str  # after redirects
    status: int
    headers: Any  # requests' case-insensitive dict
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


class PoliteClient:
    """One HTTP session that waits between requests to a host, obeys robots.txt, caps sizes and
    times, follows redirects itself (checking robots.txt at every hop) and keeps to a deadline."""

    def __init__(self, options: FetchOptions, deadline: float):
        import requests

        self.options = options
        self.deadline = deadline
        self.session = requests.Session()
        self.session.headers["User-Agent"] = options.user_agent
        self.agent = options.user_agent.split("/")[0].strip() or "newsbrief"
        self.robots: dict[str, Any] = {}  # origin → RobotFileParser, or the FetchError reading it
        self.delays: dict[str, float] = {}  # origin → seconds between requests
        self.ready_at: dict[str, float] = {}  # origin → monotonic time of the next allowed request

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, headers: dict[str, str] | None = None) -> Page:
        """The response to `url` after redirects: a 2xx or 304, or FetchError saying why not."""
        seen = {url}
        for _ in range(self.options.max_redirects + 1):
            if not is_http_url(url):
                raise FetchError(f"not an http(s) URL: {url[:200]}")
            self._check_robots(url)
            page = self._request(url, headers)
            if page.status in REDIRECT_CODES and page.headers.get("Location"):
                target = urljoin(url, page.headers["Location"])
                if target in seen:
                    raise FetchError(f"redirect loop ({url} → {target})")
                seen.add(target)
                url = target
                continue
            if 200 <= page.status < 300 or page.status == 304:
                return page
            raise FetchError(_status_text(page.status), retry=page.status == 429 or page.status >= 500)
        raise FetchError(f"more than {self.options.max_redirects} redirects")

    def _origin(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.lower()}"

    def _wait_turn(self, origin: str) -> float:
        """Sleeps until the host may be asked again; returns the time left for this request."""
        now = time.monotonic()
        start = max(now, self.ready_at.get(origin, 0.0))
        if self.deadline - start < self.options.timeout_s:  # it could outlast the budget: next run
            raise BudgetExceeded
        if start > now:
            time.sleep(start - now)
        return self.options.timeout_s

    def _request(self, url: str, headers: dict[str, str] | None, follow: bool = False) -> Page:
        import requests

        origin = self._origin(url)
        limit = self._wait_turn(origin)
        started = time.monotonic()
        cap = self.options.max_page_bytes
        try:
            with self.session.get(
                url, headers=headers, timeout=limit, stream=True, allow_redirects=follow
            ) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError(
                        f"response of {int(declared):,} bytes, over fetch.max_page_bytes ({cap:,})"
                    )
                chunks, size = [], 0
                for chunk in response.iter_content(65536):
                    size += len(chunk)
                    if size > cap:
                        raise FetchError(f"response over fetch.max_page_bytes ({cap:,} bytes)")
                    if time.monotonic() - started > limit:
                        raise FetchError(f"timed out after {limit:g} s", retry=True)
                    chunks.append(chunk)
                return Page(response.url, response.status_code, response.headers, b"".join(chunks))
        except requests.Timeout:
            raise FetchError(f"timed out after {limit:g} s", retry=True) from None
        except requests.TooManyRedirects:
            raise FetchError(f"more than {self.options.max_redirects} redirects") from None
        except requests.ConnectionError as exc:
            if _is_timeout(exc):
                raise FetchError(f"timed out after {limit:g} s", retry=True) from None
            raise FetchError(f"cannot connect: {_short(exc)}", retry=True) from None
        except requests.RequestException as exc:
            raise FetchError(f"request failed: {_short(exc)}") from None
        finally:
            self.ready_at[origin] = time.monotonic() + self.delays.get(origin, self.options.host_delay_s)

    def _check_robots(self, url: str) -> None:
        origin = self._origin(url)
        if origin not in self.robots:
            try:
                self.robots[origin] = self._read_robots(origin)
            except FetchError as exc:
                self.robots[origin] = exc
        rules = self.robots[origin]
        if isinstance(rules, FetchError):
            raise FetchError(str(rules), retry=rules.retry)
        if not rules.can_fetch(self.agent, url):
            raise FetchError(f"disallowed by {origin}/robots.txt")

    def _read_robots(self, origin: str):
        """The host's rules: a missing robots.txt allows all, a 401/403 forbids all, an
        unreachable one (5xx, timeout) forbids all for this run (RFC 9309, section 2.3.1)."""
        from urllib.robotparser import RobotFileParser

        rules = RobotFileParser(f"{origin}/robots.txt")
        try:
            page = self._request(f"{origin}/robots.txt", None, follow=True)
        except FetchError as exc:
            raise FetchError(f"robots.txt unreachable ({exc}): the site is not fetched", retry=True) from None
        if page.status in (401, 403):
            rules.disallow_all = True
        elif 400 <= page.status < 500:
            rules.allow_all = True
        elif page.status >= 300:
            raise FetchError(
                f"robots.txt unreachable ({_status_text(page.status)}): the site is not fetched", retry=True
            )
        else:
            text = page.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
            rules.parse(text.splitlines())
            delay = rules.crawl_delay(self.agent)
            if delay:
                self.delays[origin] = max(self.options.host_delay_s, float(delay))
        return rules


def _status_text(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _is_timeout(exc: BaseException) -> bool:
    """requests reports a read timeout while streaming the body as a ConnectionError."""
    import urllib3.exceptions

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (TimeoutError, urllib3.exceptions.TimeoutError)) or any(
            isinstance(a, urllib3.exceptions.TimeoutError) for a in getattr(seen, "args", ())
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "…"


# ---- feeds and items -------------------------------------------------------------------------
@dataclass
class FetchResult:
    feeds: int = 0  # feeds checked
    unchanged: int = 0  # feeds that answered 304 Not Modified
    new_items: int = 0  # items seen for the first time
    saved: list[str] = field(default_factory=list)  # pages written, relative to the input folder
    failed: list[tuple[str, str]] = field(default_factory=list)  # (URL, reason)
    left: int = 0  # feeds and items left for the next run by the time budget

    @property
    def ok(self) -> bool:
        return not self.failed


class FetchSettings(Protocol):
    """What a fetch run reads of the configuration (`config.Config` has it): this stage's options
    and the folders, without this module importing config.py, which gathers the options."""

    @property
    def fetch(self) -> FetchOptions: ...
    @property
    def base_dir(self) -> Path: ...
    @property
    def input_dir(self) -> Path: ...
    @property
    def output_dir(self) -> Path: ...


def run_fetch(
    config: FetchSettings,
    feeds: list[str] | None = None,
    input_dir: Path | None = None,
    output_dir: Path | None = None,
    refetch: bool = False,
) -> FetchResult:
    """Reads the feeds (the given ones, else `fetch.feeds`) and saves their new items' pages."""
    from pipeline.lock import run_lock
    from pipeline.state import STATE_FILE, State

    options: FetchOptions = config.fetch
    urls = list(dict.fromkeys(feeds)) if feeds else feed_urls(options, config.base_dir)
    for url in urls:
        if not is_http_url(url):
            raise ConfigError(f"feed {url!r} is not an http(s) URL")
    input_dir = input_dir or config.input_dir
    output_dir = output_dir or config.output_dir
    with run_lock(output_dir):  # one run at a time: a digest never reads a page half-saved
        state = State(output_dir / STATE_FILE)
        try:
            return Fetcher(options, input_dir, state, refetch).run(urls)
        finally:
            state.close()


class Fetcher:
    """One fetch run: check the feeds, then fetch the pages due, within the time budget."""

    def __init__(self, options: FetchOptions, input_dir: Path, state: State, refetch: bool = False):
        self.options = options
        self.input_dir = input_dir
        self.state = state
        self.refetch = refetch
        self.result = FetchResult()

    def run(self, urls: list[str]) -> FetchResult:
        started = time.monotonic()
        self.input_dir.mkdir(parents=True, exist_ok=True)
        self.client = PoliteClient(self.options, started + self.options.time_budget_s)
        try:
            for k, url in enumerate(urls):
                try:
                    self._check_feed(url)
                except BudgetExceeded:
                    self.result.left += len(urls) - k
                    log.warning("time budget used up: %d feed(s) left for the next run", len(urls) - k)
                    break
                except Exception as exc:  # FetchError, or a bug: recorded, and the other feeds go on
                    exc = _as_fetch_error(exc, url)
                    self._failed(url, str(exc))
                    known = self.state.feed(url)
                    self.state.put_feed(
                        replace(known, status="failed", reason=str(exc))
                        if known
                        else _feed_row(url, None, None, None, None, "failed", str(exc))
                    )
            todo = _by_host(
                [i for i in self.state.items_to_fetch(self.options.max_attempts) if i.feed_url in urls]
            )
            for k, item in enumerate(todo):
                try:
                    self._fetch_item(item)
                except BudgetExceeded:
                    self.result.left += len(todo) - k
                    log.warning("time budget used up: %d page(s) left for the next run", len(todo) - k)
                    break
                except Exception as exc:  # FetchError, or a bug (disk full...): the other items go on
                    exc = _as_fetch_error(exc, item.url)
                    self._failed(item.url, str(exc))
                    self.state.set_item(item.id, "failed", str(exc), exc.retry)
        finally:
            self.client.close()
        r = self.result
        log.info(
            "%d feed(s) checked (%d unchanged), %d new item(s), %d page(s) saved, %d failure(s), %.1fs",
            r.feeds, r.unchanged, r.new_items, len(r.saved), len(r.failed), time.monotonic() - started,
        )  # fmt: skip
        return r

    def _failed(self, url: str, reason: str) -> None:
        log.error("%s: %s", url, reason)
        self.result.failed.append((url, reason))

    def _check_feed(self, url: str) -> None:
        import feedparser

        known = self.state.feed(url)
        headers = {"Accept": FEED_ACCEPT}
        if known and known.status == "ok" and not self.refetch:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        page = self.client.get(url, headers)
        self.result.feeds += 1
        if page.status == 304:
            if known is None:
                raise FetchError("answered 304 Not Modified to a request that was not conditional")
            self.state.put_feed(replace(known, status="ok", reason=None))
            self.result.unchanged += 1
            log.info("%s: not modified", url)
            return
        parsed = feedparser.parse(
            page.body,
            response_headers={
                "content-location": page.url,
                "content-type": page.headers.get("Content-Type", ""),
            },
        )
        if not parsed.version:
            why = _short(parsed.get("bozo_exception") or "no <rss>, <feed> or <rdf:RDF> element")
            raise FetchError(f"not an RSS or Atom feed ({why})")
        if parsed.bozo:
            log.warning("%s: not well-formed (%s); reading what could be read", url, parsed.bozo_exception)
        title = (parsed.feed.get("title") or "").strip() or None
        folder = known.folder if known and known.folder else _folder_name(title, url)
        new = 0
        for entry in parsed.entries:
            new += self._add_entry(url, title, folder, page.url, entry)
        self.result.new_items += new
        self.state.put_feed(
            _feed_row(url, title, folder, page.headers.get("ETag"), page.headers.get("Last-Modified"), "ok")
        )
        log.info("%s: %d item(s), %d new", url, len(parsed.entries), new)

    def _add_entry(self, feed_url: str, feed_title: str | None, folder: str, base: str, entry) -> int:
        title = (entry.get("title") or "").strip() or None
        link = (entry.get("link") or "").strip()
        if not link:
            self._failed(feed_url, f"an item without a link ({title or entry.get('id') or 'untitled'})")
            return 0
        if not _scheme(link):  # a relative link: relative to the feed's own address
            link = urljoin(base, link)
        guid = (entry.get("id") or "").strip() or link
        known = self.state.known_item(feed_url, guid, link)
        if known:
            if self.refetch and known.status != "pending":
                self.state.set_item(known.id, "pending")
            return 0
        published = _published(entry)
        day = published[:10] if published else "undated"
        stem = f"{day}-{_slug(title or '', 50) or 'item'}-{_short_hash(feed_url + chr(0) + guid)}"
        item = self.state.add_item(_item_row(feed_url, guid, link, title, published, f"{folder}/{stem}.html"))
        if not is_http_url(link):  # a javascript:, file: or mailto: link is never requested
            self._failed(link, "the item's link is not an http(s) URL")
            self.state.set_item(item.id, "failed", "the item's link is not an http(s) URL")
        return 1

    def _fetch_item(self, item: ItemRow) -> None:
        import trafilatura

        page = self.client.get(item.url, {"Accept": PAGE_ACCEPT})
        if page.status != 200:
            raise FetchError(f"unexpected {_status_text(page.status)}")
        ctype = page.content_type
        if ctype not in HTML_TYPES and not (not ctype and HTML_SNIFF.match(page.body[:512])):
            raise FetchError(f"not an HTML page ({ctype or 'no Content-Type'})")
        text = trafilatura.extract(page.body) or ""
        if not any(len(line.split()) >= MIN_PARAGRAPH_WORDS for line in text.splitlines()):
            raise FetchError("no article text on the page (trafilatura found no paragraph of prose)")
        path = self._inside_input(item.file)
        feed = self.state.feed(item.feed_url)
        meta = {
            "url": item.url,
            "final_url": page.url,
            "guid": item.guid,
            "feed_url": item.feed_url,
            "feed_title": feed.title if feed else None,
            "title": item.title,
            "published": item.published,
            "fetched": datetime.now().astimezone().isoformat(timespec="seconds"),
            "content_type": page.headers.get("Content-Type"),
            "fetched_by": self.options.user_agent,
        }
        try:  # the sidecar first: when the page appears, what the feed said about it is there
            write_atomic(
                path.with_name(path.stem + SIDECAR_SUFFIX),
                (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
            )
            write_atomic(path, page.body)
        except OutputError as exc:  # disk full, a file where the feed's folder should be...
            raise FetchError(f"cannot save the page: {exc}", retry=True) from exc
        self.state.set_item(item.id, "saved")
        self.result.saved.append(item.file)
        log.info("%s → %s", item.url, item.file)

    def _inside_input(self, rel: str) -> Path:
        """The absolute path of `rel` in the input folder, refused if it would lie outside."""
        root = self.input_dir.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root) or path == root:
            raise FetchError(f"refused to write {rel!r}: it would lie outside the input folder")
        return path


def _as_fetch_error(exc: Exception, url: str) -> FetchError:
    if isinstance(exc, FetchError):
        return exc
    log.error("%s: unexpected error", url, exc_info=exc)
    return FetchError(f"internal error: {type(exc).__name__}: {_short(exc)}", retry=True)


def _feed_row(url, title, folder, etag, last_modified, status, reason=None):
    from pipeline.state import FeedRow

    return FeedRow(url, title, folder, etag, last_modified, status, reason)


def _item_row(feed_url, guid, url, title, published, file):
    from pipeline.state import ItemRow

    return ItemRow(feed_url, guid, url, title, published, file)


def _by_host(items: list[ItemRow]) -> list[ItemRow]:
    """Round-robin over hosts, so one host's delay is spent fetching another's pages."""
    queues: OrderedDict[str, deque] = OrderedDict()
    for item in items:
        host = (urlsplit(item.url).hostname or "") if is_http_url(item.url) else ""
        queues.setdefault(host, deque()).append(item)
    out = []
    while queues:
        for host in list(queues):
            out.append(queues[host].popleft())
            if not queues[host]:
                del queues[host]
    return out


def _published(entry) -> str | None:
    """The entry's publication (else update) time as ISO 8601 UTC, as feedparser normalised it."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=UTC).isoformat()
            except (TypeError, ValueError):
                continue
    return None


def _slug(text: str, max_len: int) -> str:
    from pipeline.render import slugify

    return slugify(text, max_len)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _folder_name(title: str | None, url: str) -> str:
    """`<slug of the feed's title>-<hash of its URL>`: readable, unique, only [a-z0-9-]."""
    return f"{_slug(title or '', 40) or 'feed'}-{_short_hash(url)}"


def format_result(result: FetchResult) -> Iterable[str]:
    """The command's output: one line per failure (URL and reason), then a summary line."""
    for url, reason in result.failed:
        yield f"failed: {url}: {reason}"
    line = (
        f"{len(result.saved)} new page(s) saved from {result.feeds} feed(s) checked "
        f"({result.unchanged} not modified), {len(result.failed)} failure(s)"
    )
    if result.left:
        line += f"; {result.left} left for the next run (fetch.time_budget_s)"
    yield line
