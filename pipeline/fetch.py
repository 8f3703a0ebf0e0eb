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

Safe with a hostile feed: every connection is vetted by the address policy (netpolicy.py: no
private, loopback or link-local address and no odd port unless the origin is a feed's own or in
`fetch.allow`), every request has a wall-clock deadline, sizes are counted after decompression,
a feed's XML entities are refused, feeds are taken round-robin so a slow host cannot starve the
others, item requests carry no credentials, and what reaches the digest is a short category with
URLs stripped of their secrets (redact.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
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
from pipeline.netpolicy import AddressPolicy, AddressRefused, Watchdog, guarded_adapter
from pipeline.redact import clean_title, public_url, strip_userinfo
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
ROBOTS_MAX_BYTES = 500_000  # Google reads the first 500 KiB; a longer one is treated as allow-all
MAX_TITLE_CHARS = 300
SLOW_HOST_TIMEOUTS = 2  # a host whose requests time out this often is left for a later night


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
        allow: origins (`scheme://host[:port]`) that may be fetched although they are private
            (an intranet, this machine) or on another port; a configured feed's own origin is
            always allowed. See pipeline/netpolicy.py for what is refused otherwise.
        max_items_per_feed: the most new items taken from one feed in one run; the others are
            taken on the next runs.
        max_crawl_delay_s: a robots.txt Crawl-delay over this is not waited for: such a host
            gets one request per run, the rest of its pages on later nights.
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
    allow: list[str] = Field(default_factory=list)
    max_items_per_feed: int = Field(100, gt=0)
    max_crawl_delay_s: float = Field(60.0, ge=0)

    @field_validator("allow")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for url in value:
            try:
                parts = urlsplit(url)
                parts.port  # noqa: B018 - raises on a port that is not a number
            except ValueError as exc:
                raise ValueError(f"{url!r} is not an origin: {exc}") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) origin like https://intranet.example:8443")
            if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
                raise ValueError(f"{url!r}: give the origin only (scheme://host[:port]), no path or user")
        return value

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


# ---- HTTP, politely and safely --------------------------------------------------------------
class BudgetExceeded(Exception):
    """The run's time budget is used up: what is left waits for the next run (not a failure)."""


class HostDeferred(Exception):  # noqa: N818 - a decision, not an error
    """This host is not asked again this run (a Crawl-delay over the cap, or it timed out):
    its feeds and pages wait for a later night, and the other hosts go on."""


@dataclass
class Page:
    url: str  # after redirects
    status: int
    headers: Any  # requests' case-insensitive dict
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, without its userinfo: the unit of delays and robots.txt."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2].lower()}"


class PoliteClient:
    """One HTTP session that waits between requests to a host, obeys robots.txt, caps sizes and
    times, follows redirects itself (checking robots.txt at every hop) and keeps to a deadline.

    Every connection goes through the address policy (pipeline/netpolicy.py) and a watchdog
    that ends the request at `timeout_s` of wall-clock, headers included. Nothing from the
    environment is used (`trust_env` off: no ~/.netrc password, no proxy), and a URL's
    `user:password@` is sent only with the configured feed URL it was written in."""

    def __init__(self, options: FetchOptions, deadline: float, policy: AddressPolicy):
        import requests

        self.options = options
        self.deadline = deadline
        self.session = requests.Session()
        self.session.trust_env = False  # no netrc credentials or proxies for hosts a feed chose
        self.session.max_redirects = options.max_redirects
        self.session.headers["User-Agent"] = options.user_agent
        self.watchdog = Watchdog()
        self.adapter = guarded_adapter(policy, self.watchdog)
        self.session.mount("http://", self.adapter)
        self.session.mount("https://", self.adapter)
        self.agent = options.user_agent.split("/")[0].strip() or "newsbrief"
        self.robots: dict[str, Any] = {}  # origin → RobotFileParser, or the FetchError reading it
        self.delays: dict[str, float] = {}  # origin → seconds between requests
        self.ready_at: dict[str, float] = {}  # origin → monotonic time of the next allowed request
        self.asked: dict[str, int] = {}  # origin → requests made this run (robots.txt aside)
        self.deferred: dict[str, str] = {}  # origin → why it is not asked again this run
        self.notes: list[tuple[str, str]] = []  # (URL, what was assumed): said, not failures

    def close(self) -> None:
        self.watchdog.stop()
        self.session.close()

    def ready_time(self, url: str) -> float | None:
        """When `url`'s host may be asked next (monotonic), or None if not again this run."""
        key = origin(url) if is_http_url(url) else ""
        if key in self.deferred:
            return None
        return self.ready_at.get(key, 0.0)

    def defer(self, url: str, why: str) -> None:
        self.deferred.setdefault(origin(url), why)

    def get(self, url: str, headers: dict[str, str] | None = None, credentials: bool = False) -> Page:
        """The response to `url` after redirects: a 2xx or 304, or FetchError saying why not.

        `credentials`: the URL is the operator's (a configured feed): its `user:password@` is
        sent to its own origin; every other URL is requested without userinfo."""
        auth_origin = origin(url) if credentials and is_http_url(url) else None
        seen = {url}
        for _ in range(self.options.max_redirects + 1):
            if not is_http_url(url):
                raise FetchError(
                    f"not an http(s) URL: {public_url(url)[:200]}", category="not an http(s) URL"
                )
            self._check_robots(url)
            target = url if origin(url) == auth_origin else strip_userinfo(url)
            page = self._request(target, headers)
            if page.status in REDIRECT_CODES and page.headers.get("Location"):
                target = urljoin(url, page.headers["Location"])
                if target in seen:
                    raise FetchError(
                        f"redirect loop ({public_url(url)} → {public_url(target)})", category="redirect loop"
                    )
                seen.add(target)
                url = target
                continue
            if 200 <= page.status < 300 or page.status == 304:
                return page
            status = _status_text(page.status)
            raise FetchError(status, retry=page.status == 429 or page.status >= 500, category=status)
        raise FetchError(f"more than {self.options.max_redirects} redirects", category="too many redirects")

    def _wait_turn(self, key: str, robots: bool) -> float:
        """Sleeps until the host may be asked again; returns the time left for this request."""
        if key in self.deferred:
            raise HostDeferred(self.deferred[key])
        delay = self.delays.get(key, self.options.host_delay_s)
        if not robots and delay > self.options.max_crawl_delay_s and self.asked.get(key, 0) >= 1:
            # Waiting would spend the night on one host: one request per run, the rest later.
            why = (
                f"its robots.txt asks for a Crawl-delay of {delay:g} s (over fetch.max_crawl_delay_s, "
                f"{self.options.max_crawl_delay_s:g} s): one request per run"
            )
            self.deferred[key] = why
            raise HostDeferred(why)
        now = time.monotonic()
        start = max(now, self.ready_at.get(key, 0.0))
        if self.deadline - start < self.options.timeout_s:  # it could outlast the budget: next run
            raise BudgetExceeded
        if start > now:
            time.sleep(start - now)
        if not robots:
            self.asked[key] = self.asked.get(key, 0) + 1
        return self.options.timeout_s

    def _request(
        self,
        url: str,
        headers: dict[str, str] | None,
        follow: bool = False,
        cap: int | None = None,
        robots: bool = False,
    ) -> Page:
        import requests

        key = origin(url)
        limit = self._wait_turn(key, robots)
        cap = cap or self.options.max_page_bytes
        timed_out = FetchError(f"timed out after {limit:g} s", retry=True, category="timed out")
        self.watchdog.start(limit)  # the hard deadline: headers, body, redirects of robots.txt
        try:
            with self.session.get(
                url, headers=headers, timeout=limit, stream=True, allow_redirects=follow
            ) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError(
                        f"response of {int(declared):,} bytes, over the cap ({cap:,})", category="too large"
                    )
                chunks, size = [], 0
                for chunk in response.iter_content(65536):  # decompressed: a gzip bomb stops at the cap
                    size += len(chunk)
                    if size > cap:
                        raise FetchError(
                            f"response over the cap ({cap:,} bytes, decompressed)", category="too large"
                        )
                    chunks.append(chunk)
                if self.watchdog.expired:  # the socket was shut: what was read is cut short
                    raise timed_out
                return Page(response.url, response.status_code, response.headers, b"".join(chunks))
        except AddressRefused as exc:
            raise FetchError(str(exc), category=exc.category) from None
        except requests.RequestException as exc:
            if self.watchdog.expired or isinstance(exc, requests.Timeout) or _is_timeout(exc):
                raise timed_out from None
            if isinstance(exc, requests.TooManyRedirects):
                raise FetchError(
                    f"more than {self.options.max_redirects} redirects", category="too many redirects"
                ) from None
            if isinstance(exc, requests.ConnectionError):
                raise FetchError(
                    f"cannot connect: {_connect_detail(exc)}", retry=True, category="cannot connect"
                ) from None
            raise FetchError(f"request failed: {_short(exc)}", category="request failed") from None
        finally:
            self.watchdog.stop()
            # No connection is kept for the next request: each is opened (and vetted, and watched)
            # within the request that uses it.
            self.adapter.poolmanager.clear()
            self.ready_at[key] = time.monotonic() + (
                self.options.host_delay_s
                if robots
                else min(self.delays.get(key, self.options.host_delay_s), self.options.max_crawl_delay_s)
            )

    def _check_robots(self, url: str) -> None:
        key = origin(url)
        if key not in self.robots:
            try:
                self.robots[key] = self._read_robots(key)
            except FetchError as exc:
                self.robots[key] = exc
        rules = self.robots[key]
        if isinstance(rules, FetchError):
            raise FetchError(str(rules), retry=rules.retry, category=rules.category)
        if not rules.can_fetch(self.agent, url):
            raise FetchError(f"disallowed by {key}/robots.txt", category="disallowed by robots.txt")

    def _read_robots(self, key: str):
        """The host's rules: a missing robots.txt allows all, a 401/403 forbids all, an
        unreachable one (5xx, timeout) forbids all for this run (RFC 9309, section 2.3.1); one
        over 500 KB or not text allows all, with the default delay, and says so."""
        from urllib.robotparser import RobotFileParser

        url = f"{key}/robots.txt"
        rules = RobotFileParser(url)
        try:
            page = self._request(url, None, follow=True, cap=ROBOTS_MAX_BYTES, robots=True)
        except FetchError as exc:
            if exc.refused:
                raise
            if exc.category == "too large":
                return self._allow_all(rules, url, f"over {ROBOTS_MAX_BYTES // 1000} KB")
            site = exc.category in ("cannot connect", "timed out")  # the site's fault, not robots.txt's
            raise FetchError(
                f"robots.txt unreachable ({exc}): the site is not fetched",
                retry=True,
                category=exc.category if site else "robots.txt unreachable",
            ) from None
        if page.status in (401, 403):
            rules.disallow_all = True
        elif 400 <= page.status < 500:
            rules.allow_all = True
        elif page.status >= 300:
            raise FetchError(
                f"robots.txt unreachable ({_status_text(page.status)}): the site is not fetched",
                retry=True,
                category="robots.txt unreachable",
            )
        else:
            try:
                text = page.body.decode("utf-8")
            except UnicodeDecodeError:
                return self._allow_all(rules, url, "not UTF-8 text")
            if "\x00" in text:
                return self._allow_all(rules, url, "binary, not text")
            rules.parse(text.splitlines())
            delay = rules.crawl_delay(self.agent)
            if delay:
                self.delays[key] = max(self.options.host_delay_s, float(delay))
                if float(delay) > self.options.max_crawl_delay_s:
                    log.warning(
                        "%s asks for a Crawl-delay of %s s, over fetch.max_crawl_delay_s (%g s): "
                        "one request to it per run, its other pages on later nights",
                        url, delay, self.options.max_crawl_delay_s,
                    )  # fmt: skip
        return rules

    def _allow_all(self, rules, url: str, why: str):
        note = f"robots.txt {why}: treated as allowing everything, with the default delay"
        log.warning("%s: %s", url, note)
        self.notes.append((url, note))
        rules.allow_all = True
        return rules


def _status_text(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _is_timeout(exc: BaseException) -> bool:
    """requests reports a read timeout while streaming the body as a ConnectionError."""
    import urllib3.exceptions

    def timeout(e: object) -> bool:  # urllib3 makes "connection refused" a subclass of its timeout
        return isinstance(e, (TimeoutError, urllib3.exceptions.TimeoutError)) and not isinstance(
            e, urllib3.exceptions.NewConnectionError
        )

    seen: BaseException | None = exc
    while seen is not None:
        reason = getattr(seen, "reason", None)  # MaxRetryError says why in .reason
        if timeout(seen) or timeout(reason) or any(timeout(a) for a in getattr(seen, "args", ())):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _connect_detail(exc: BaseException) -> str:
    """`[Errno 111] Connection refused`, not urllib3's three nested reprs around it."""
    text = str(exc)
    found = re.search(
        r"\[Errno -?\d+\][^'\"()]*|Name or service not known|No address associated[^'\"()]*", text
    )
    return found.group(0).strip() if found else _short(text)


def _short(exc: BaseException | str, limit: int = 200) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "…"


# ---- feeds and items -------------------------------------------------------------------------
@dataclass
class FetchResult:
    feeds: int = 0  # feeds checked
    unchanged: int = 0  # feeds that answered 304 Not Modified
    new_items: int = 0  # items seen for the first time
    saved: list[str] = field(default_factory=list)  # pages written, relative to the input folder
    failed: list[tuple[str, str]] = field(default_factory=list)  # (URL, reason)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (URL, why): the address policy
    notes: list[tuple[str, str]] = field(default_factory=list)  # (URL, what was assumed)
    left: int = 0  # feeds and items left for a later run (time budget, host deferred, item cap)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.refused


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
    policy: AddressPolicy | None = None,
) -> FetchResult:
    """Reads the feeds (the given ones, else `fetch.feeds`) and saves their new items' pages.

    `policy`: where connections may go; by default the feeds' own origins and `fetch.allow`
    (tests pass one with their own resolver and connector)."""
    from pipeline.lock import run_lock
    from pipeline.state import STATE_FILE, State

    options: FetchOptions = config.fetch
    urls = list(dict.fromkeys(feeds)) if feeds else feed_urls(options, config.base_dir)
    for url in urls:
        if not is_http_url(url):
            raise ConfigError(f"feed {public_url(url)!r} is not an http(s) URL")
    input_dir = input_dir or config.input_dir
    output_dir = output_dir or config.output_dir
    policy = policy or AddressPolicy.for_fetch(urls + options.allow)
    with run_lock(output_dir):  # one run at a time: a digest never reads a page half-saved
        state = State(output_dir / STATE_FILE)
        try:
            return Fetcher(options, input_dir, state, refetch, policy).run(urls)
        finally:
            state.close()


@dataclass
class Task:
    feed_url: str
    item: ItemRow | None = None  # None: check the feed itself

    @property
    def url(self) -> str:
        return self.item.url if self.item else self.feed_url


class Fetcher:
    """One fetch run: the feeds and their pages due, taken round-robin across feeds and, within
    a feed, across hosts, so one slow host or one feed of slow hosts cannot starve the others;
    all within the time budget."""

    def __init__(
        self,
        options: FetchOptions,
        input_dir: Path,
        state: State,
        refetch: bool = False,
        policy: AddressPolicy | None = None,
    ):
        self.options = options
        self.input_dir = input_dir
        self.state = state
        self.refetch = refetch
        self.policy = policy or AddressPolicy.for_fetch(options.allow)
        self.result = FetchResult()
        self.timeouts: dict[str, int] = {}  # origin → requests that timed out this run

    def run(self, urls: list[str]) -> FetchResult:
        started = time.monotonic()
        self.input_dir.mkdir(parents=True, exist_ok=True)
        self.client = PoliteClient(self.options, started + self.options.time_budget_s, self.policy)
        # One queue per feed: the pages left by earlier runs first (so a host that gets one
        # request per run spends it on them), then the feed itself, then its new items.
        self.queues: OrderedDict[str, deque[Task]] = OrderedDict((url, deque()) for url in urls)
        for item in _by_host(
            [i for i in self.state.items_to_fetch(self.options.max_attempts) if i.feed_url in self.queues]
        ):
            self.queues[item.feed_url].append(Task(item.feed_url, item))
        for url in urls:
            self.queues[url].append(Task(url))
        try:
            self._drain()
        finally:
            self.client.close()
        r = self.result
        r.notes = self.client.notes
        log.info(
            "%d feed(s) checked (%d unchanged), %d new item(s), %d page(s) saved, %d failure(s), "
            "%d refused, %d left for later, %.1fs",
            r.feeds, r.unchanged, r.new_items, len(r.saved), len(r.failed), len(r.refused), r.left,
            time.monotonic() - started,
        )  # fmt: skip
        return r

    def _drain(self) -> None:
        while any(self.queues.values()):
            task = self._next_task()
            if task is None:
                continue  # every task left belonged to deferred hosts
            try:
                if task.item is None:
                    self._check_feed(task.feed_url)
                else:
                    self._fetch_item(task.item)
            except BudgetExceeded:
                left = 1 + sum(len(q) for q in self.queues.values())
                self.result.left += left
                log.warning("time budget used up: %d feed(s) and page(s) left for the next run", left)
                return
            except HostDeferred as exc:
                self.result.left += 1
                log.warning("%s: left for a later run: %s", public_url(task.url), exc)
            except Exception as exc:  # FetchError, or a bug (disk full...): the others go on
                self._task_failed(task, _as_fetch_error(exc, task.url))

    def _next_task(self) -> Task | None:
        """The first task, in round-robin order over the feeds, whose host may be asked now;
        else the one whose host is ready soonest. Tasks of deferred hosts are dropped (left)."""
        now = time.monotonic()
        best: tuple[float, str, int] | None = None
        for feed in list(self.queues):
            queue = self.queues[feed]
            for k, task in enumerate(list(queue)):
                ready = self.client.ready_time(task.url)
                if ready is None:
                    continue
                if best is None or ready < best[0]:
                    best = (ready, feed, k)
                if ready <= now:
                    break
            if best is not None and best[0] <= now:
                break
        if best is None:  # only tasks of hosts that are not asked again this run
            for queue in self.queues.values():
                for task in queue:
                    log.info(
                        "%s: left for a later run (its host is not asked again this run)",
                        public_url(task.url),
                    )
                self.result.left += len(queue)
                queue.clear()
            return None
        _, feed, k = best
        queue = self.queues[feed]
        task = queue[k]
        del queue[k]
        self.queues.move_to_end(feed)  # round-robin: this feed waits for the others' turn
        return task

    def _task_failed(self, task: Task, exc: FetchError) -> None:
        self._failed(task.url, exc)
        if exc.category == "timed out":  # a host that trickles does not get the rest of the night
            key = origin(task.url)
            self.timeouts[key] = self.timeouts.get(key, 0) + 1
            if self.timeouts[key] >= SLOW_HOST_TIMEOUTS:
                self.client.defer(task.url, f"it timed out {SLOW_HOST_TIMEOUTS} times in this run")
        if task.item is not None:
            self.state.set_item(task.item.id, "failed", exc.category, exc.retry and not exc.refused)
            return
        known = self.state.feed(task.feed_url)
        self.state.put_feed(
            replace(known, status="failed", reason=exc.category)
            if known
            else _feed_row(task.feed_url, None, None, None, None, "failed", exc.category)
        )

    def _failed(self, url: str, exc: FetchError) -> None:
        """One line for the operator (the detail); the state keeps only the category for the digest."""
        shown = public_url(url)
        if exc.refused:
            log.warning("refused: %s: %s", shown, exc)
            self.result.refused.append((shown, str(exc)))
        else:
            log.error("%s: %s", shown, exc)
            self.result.failed.append((shown, str(exc)))

    def _check_feed(self, url: str) -> None:
        import feedparser

        known = self.state.feed(url)
        headers = {"Accept": FEED_ACCEPT}
        if known and known.status == "ok" and not self.refetch:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        page = self.client.get(url, headers, credentials=True)
        self.result.feeds += 1
        if page.status == 304:
            if known is None:
                raise FetchError("answered 304 Not Modified to a request that was not conditional")
            self.state.put_feed(replace(known, status="ok", reason=None))
            self.result.unchanged += 1
            log.info("%s: not modified", public_url(url))
            return
        body, cut = _first_items(page.body, self.options.max_items_per_feed)
        _refuse_entities(body)
        parsed = feedparser.parse(
            body,
            response_headers={
                "content-location": strip_userinfo(page.url),
                "content-type": page.headers.get("Content-Type", ""),
            },
        )
        if not parsed.version:
            why = _short(parsed.get("bozo_exception") or "no <rss>, <feed> or <rdf:RDF> element")
            raise FetchError(f"not an RSS or Atom feed ({why})", category="not an RSS or Atom feed")
        if parsed.bozo and not cut:
            log.warning(
                "%s: not well-formed (%s); reading what could be read", public_url(url), parsed.bozo_exception
            )
        title = clean_title(parsed.feed.get("title"), MAX_TITLE_CHARS)
        folder = known.folder if known and known.folder else _folder_name(title, url)
        new, fetched_at = 0, datetime.now(UTC)
        entries = parsed.entries
        for k, entry in enumerate(entries):
            if new >= self.options.max_items_per_feed:
                cut = cut or k < len(entries)
                break
            new += self._add_entry(url, title, folder, strip_userinfo(page.url), entry, fetched_at)
        if cut:
            log.warning(
                "%s: %d new item(s) taken (fetch.max_items_per_feed); the feed's others on later runs",
                public_url(url), new,
            )  # fmt: skip
        self.result.new_items += new
        self.state.put_feed(
            _feed_row(url, title, folder, page.headers.get("ETag"), page.headers.get("Last-Modified"), "ok")
        )
        log.info("%s: %d item(s) read, %d new", public_url(url), len(entries), new)

    def _add_entry(
        self, feed_url: str, feed_title: str | None, folder: str, base: str, entry, fetched_at: datetime
    ) -> int:
        title = clean_title(entry.get("title"), MAX_TITLE_CHARS)
        link = (entry.get("link") or "").strip()
        if not link:
            why = f"an item without a link ({title or _short(entry.get('id') or 'untitled')})"
            self._failed(feed_url, FetchError(why, category="an item without a link"))
            return 0
        if not _scheme(link):  # a relative link: relative to the feed's own address
            link = urljoin(base, link)
        link = strip_userinfo(link)  # never requested with, stored with or shown with a password
        guid = (entry.get("id") or "").strip() or link
        known = self.state.known_item(feed_url, guid, link)
        if known:
            if self.refetch and known.status != "pending":
                self.state.set_item(known.id, "pending")
                self.queues[feed_url].append(Task(feed_url, replace(known, status="pending")))
            return 0
        published = _published(entry, fetched_at)
        day = published[:10] if published else "undated"
        stem = f"{day}-{_slug(title or '', 50) or 'item'}-{_short_hash(feed_url + chr(0) + guid)}"
        item = self.state.add_item(_item_row(feed_url, guid, link, title, published, f"{folder}/{stem}.html"))
        if not is_http_url(link):  # a javascript:, file: or mailto: link is never requested
            why = "the item's link is not an http(s) URL"
            self._failed(link, FetchError(why))
            self.state.set_item(item.id, "failed", why)
            return 1
        self.queues[feed_url].append(Task(feed_url, item))
        return 1

    def _fetch_item(self, item: ItemRow) -> None:
        import trafilatura

        page = self.client.get(item.url, {"Accept": PAGE_ACCEPT})
        if page.status != 200:
            status = _status_text(page.status)
            raise FetchError(f"unexpected {status}", category=status)
        ctype = page.content_type
        if ctype not in HTML_TYPES and not (not ctype and HTML_SNIFF.match(page.body[:512])):
            raise FetchError(
                f"not an HTML page ({_short(ctype, 80) or 'no Content-Type'})", category="not an HTML page"
            )
        text = trafilatura.extract(page.body) or ""
        if not any(len(line.split()) >= MIN_PARAGRAPH_WORDS for line in text.splitlines()):
            raise FetchError(
                "no article text on the page (trafilatura found no paragraph of prose)",
                category="no article text on the page",
            )
        path = self._inside_input(item.file)
        feed = self.state.feed(item.feed_url)
        meta = {
            "url": public_url(item.url),
            "final_url": public_url(page.url),
            "guid": item.guid,
            "feed_url": public_url(item.feed_url),
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
            raise FetchError(
                f"cannot save the page: {exc}", retry=True, category="cannot save the page"
            ) from exc
        self.state.set_item(item.id, "saved")
        self.result.saved.append(item.file)
        log.info("%s → %s", public_url(item.url), item.file)

    def _inside_input(self, rel: str) -> Path:
        """The absolute path of `rel` in the input folder, refused if it would lie outside."""
        root = self.input_dir.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root) or path == root:
            raise FetchError(
                f"refused to write {rel!r}: it would lie outside the input folder", category="bad file name"
            )
        return path


# The start of an RSS <item> or an Atom <entry> (with or without a namespace prefix).
ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")


def _first_items(body: bytes, limit: int) -> tuple[bytes, bool]:
    """The feed cut before its item number `limit + 1`, and whether it was cut: a feed of
    100,000 items costs the parser as little as one of `limit` (feedparser reads a feed cut
    short as far as it goes)."""
    for k, match in enumerate(ITEM_START.finditer(body)):
        if k == limit:
            return body[: match.start()], True
    return body, False


def _refuse_entities(body: bytes) -> None:
    """A feed that declares XML entities is refused before it is parsed: entity expansion
    (billion laughs) costs memory and time, and no real feed needs it (defusedxml decides)."""
    if b"<!DOCTYPE" not in body[:65536] and b"<!doctype" not in body[:65536]:
        return
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree
    from defusedxml import DefusedXmlException

    try:
        defusedxml.ElementTree.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FetchError(
            f"the feed declares XML entities ({type(exc).__name__}): refused, it could expand without bound",
            category="refused: XML entities in the feed",
        ) from None
    except (ParseError, ValueError):
        pass  # not well-formed: feedparser reads what it can, without a DTD's entities


def _as_fetch_error(exc: Exception, url: str) -> FetchError:
    if isinstance(exc, FetchError):
        return exc
    log.error("%s: unexpected error", public_url(url), exc_info=exc)
    return FetchError(
        f"internal error: {type(exc).__name__}: {_short(exc)}", retry=True, category="internal error"
    )


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


def _published(entry, fetched_at: datetime) -> str | None:
    """The entry's publication (else update) time as ISO 8601 UTC, as feedparser normalised it;
    never later than the fetch (a feed may say 9999-12-31 to stay on top)."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                when = datetime(*value[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
            if when > fetched_at:
                log.warning("an item dated %s, after its fetch: dated at the fetch time", when.isoformat())
                when = fetched_at.replace(microsecond=0)
            return when.isoformat()
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
    for url, reason in result.refused:
        yield f"refused: {url}: {reason}"
    for url, reason in result.failed:
        yield f"failed: {url}: {reason}"
    for url, note in result.notes:
        yield f"note: {url}: {note}"
    line = (
        f"{len(result.saved)} new page(s) saved from {result.feeds} feed(s) checked "
        f"({result.unchanged} not modified), {len(result.failed)} failure(s)"
    )
    if result.refused:
        line += f", {len(result.refused)} refused (fetch.allow to permit)"
    if result.left:
        line += f"; {result.left} left for a later run (time budget, crawl delays, slow hosts)"
    yield line
