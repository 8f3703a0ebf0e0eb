"""Where `newsbrief fetch` may connect, enforced on the connection itself, and a hard deadline.

A feed's items are written by a third party; the machine that fetches them usually sits inside
a private network. So every connection the fetcher opens (feeds, pages, robots.txt, every
redirect hop) goes through `AddressPolicy.vet`, which resolves the host *once* and returns the
addresses the connection may use: the socket is then opened to one of those very addresses,
so a name cannot resolve to a public address for the check and a private one for the
connection (DNS rebinding). TLS still checks the certificate against the host name (urllib3
wraps our socket with `server_hostname` = the URL's host), and the Host header is the URL's.

Refused unless the origin is allowed: any address that is not globally routable (loopback,
private, link-local, shared/CGNAT, multicast, reserved, unspecified, documentation), in IPv4
and IPv6, looking through IPv4-mapped, NAT64 and 6to4 forms; and any port outside the allowed
ones. An allowed origin (a configured feed's own, or one in `fetch.allow`) may be anywhere.

The resolver and the connector are plain callables so the tests can replace them and no packet
ever leaves for an address outside 127.0.0.0/8 or ::1.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

log = logging.getLogger("newsbrief.fetch")

# (host, port) → the addresses the host name resolves to, as strings.
Resolver = Callable[[str, int], list[str]]
# (address, port, timeout in seconds) → a connected socket.
Connector = Callable[[str, int, float | None], socket.socket]

DEFAULT_PORTS = (80, 443)
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


class AddressRefused(Exception):  # noqa: N818 - not an OSError on purpose: urllib3 must not retry or wrap it
    """A connection the address policy does not allow; nothing was sent.

    `category` is what may be published (`refused: private address`); the message, for the
    operator, names the address or port and how to allow it."""

    def __init__(self, message: str, category: str):
        super().__init__(message)
        self.category = category


class DeadlineExpired(TimeoutError):
    """The request's wall-clock deadline passed before the connection was made."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def system_connector(address: str, port: int, timeout: float | None) -> socket.socket:
    sock = socket.create_connection((address, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host name denotes by itself: `::1`, `127.0.0.2`, and the forms browsers read
    as IPv4 too (`2130706434`, `0177.0.0.2`, `0x7f.1`), which a resolver would also accept."""
    bare = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if bare and all(c in "0123456789abcdefxABCDEFX." for c in bare) and any(c.isdigit() for c in bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def is_public(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is globally routable: what a feed's item may point the fetcher at."""
    ip = ipaddress.ip_address(str(address).split("%")[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, the port made explicit and userinfo ignored."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


@dataclass
class AddressPolicy:
    """Which origins the fetcher may connect to, and how it resolves and connects."""

    allowed_origins: frozenset[tuple[str, str, int]] = frozenset()
    allowed_ports: frozenset[int] = frozenset(DEFAULT_PORTS)
    resolver: Resolver = system_resolver
    connector: Connector = system_connector

    @classmethod
    def for_fetch(cls, origins: Iterable[str], **kw) -> AddressPolicy:
        """Allows the given URLs' exact origins (feeds, `fetch.allow`) and their ports."""
        allowed = frozenset(origin_of(u) for u in origins)
        return cls(allowed, frozenset(DEFAULT_PORTS) | {port for _, _, port in allowed}, **kw)

    def vet(self, scheme: str, host: str, port: int, timeout: float | None = None) -> list[str]:
        """The addresses a connection to (scheme, host, port) may use, or AddressRefused."""
        host = host.strip("[]").lower().rstrip(".")
        allowed = (scheme, host, port) in self.allowed_origins
        literal = literal_address(host)
        addresses = [str(literal)] if literal is not None else _resolve(self.resolver, host, port, timeout)
        if not addresses:
            raise socket.gaierror(f"{host} has no address")
        if allowed:
            return addresses
        for address in addresses:  # one private answer among public ones refuses the host
            if not is_public(address):
                raise AddressRefused(
                    f"private address {_shown(address)} (fetch.allow to permit)", "refused: private address"
                )
        if port not in self.allowed_ports:
            raise AddressRefused(
                f"port {port} is not allowed (fetch.allow to permit)", "refused: port not allowed"
            )
        return addresses


def _shown(address: str) -> str:
    """An IPv4-mapped address as people write it (`::ffff:127.0.0.2`, not `::ffff:7f00:2`)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return f"::ffff:{ip.ipv4_mapped}"
    return address


def _resolve(resolver: Resolver, host: str, port: int, timeout: float | None) -> list[str]:
    """Resolves in a helper thread, so a resolver that hangs cannot outlast the deadline."""
    if timeout is None:
        return resolver(host, port)
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = resolver(host, port)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=work, name="newsbrief-resolve", daemon=True)
    thread.start()
    thread.join(max(timeout, 0.0))
    if thread.is_alive():
        raise DeadlineExpired(f"resolving {host} took longer than {timeout:.1f} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return list(box["value"])  # type: ignore[call-overload]


@dataclass
class Watchdog:
    """A hard wall-clock deadline for one request, headers and body included: when it passes,
    every socket the request opened is shut down, so a read blocked on a server that trickles
    one byte a second returns at once (a per-read timeout never fires against such a server)."""

    sockets: list[socket.socket] = field(default_factory=list)
    expired: bool = False
    ends_at: float = 0.0
    _timer: threading.Timer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, seconds: float) -> None:
        import time

        self.stop()
        with self._lock:
            self.sockets, self.expired = [], False
            self.ends_at = time.monotonic() + seconds
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        import time

        return self.ends_at - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                sock.close()
                raise DeadlineExpired("the request's deadline passed while connecting")
            self.sockets.append(sock)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)


def guarded_adapter(policy: AddressPolicy, watchdog: Watchdog):
    """A requests adapter whose every connection is vetted by `policy` and watched by `watchdog`."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    def new_conn(conn, scheme: str) -> socket.socket:
        limit = watchdog.remaining()
        timeout = conn.timeout if isinstance(conn.timeout, (int, float)) else None
        timeout = limit if timeout is None else min(timeout, limit)
        if timeout <= 0:
            raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out (deadline)")
        try:
            addresses = policy.vet(scheme, conn._dns_host, conn.port, timeout)
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        except DeadlineExpired as exc:
            raise ConnectTimeoutError(conn, str(exc)) from exc
        error: OSError | None = None
        for address in addresses:  # each of them vetted: no second lookup happens here
            try:
                sock = policy.connector(address, conn.port, timeout)
            except TimeoutError as exc:
                raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out") from exc
            except OSError as exc:
                error = exc
                continue
            watchdog.watch(sock)
            return sock
        raise NewConnectionError(conn, f"Failed to establish a new connection: {error}")

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return new_conn(self, "http")

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return new_conn(self, "https")  # then wrapped in TLS for self.host: SNI and cert check

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}

        def proxy_manager_for(self, *args, **kwargs):  # a proxy would connect for us, unvetted
            raise AddressRefused("proxies are not used by newsbrief fetch", "refused: proxy")

    return GuardedAdapter(max_retries=0)
