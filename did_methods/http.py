"""Fetching remote documents (did:web, status lists) over HTTP(S), bounded and SSRF-safe.

The core of ssi-wallet never opens a socket: code that needs a remote document
takes a :class:`Fetcher`, a one-method protocol. Two implementations ship here:

* :class:`HttpFetcher` - the real one, standard library only. It is meant to be
  pointed at URLs that *other people* chose (a DID names its own web host), so
  it treats every URL as hostile:

  1. the URL must be ``https`` (``http`` only when ``allow_http=True``), with no
     user info, a plain host name or IP literal and a valid port;
  2. the host name is resolved *once*, and every address it resolves to must
     be globally routable: loopback, private, link-local, multicast, reserved,
     unspecified, shared (CGNAT) and site-local addresses are refused, as are
     IPv6 forms that embed such an IPv4 address (IPv4-mapped, 6to4, Teredo,
     NAT64). ``allow_private=True`` or ``allowed_networks`` lifts that;
  3. the socket connects to the address that was checked (so a DNS answer that
     changes between check and connect - DNS rebinding - changes nothing),
     while the ``Host`` header, TLS SNI and certificate check use the name;
  4. one deadline covers name resolution, connecting, TLS, sending, and
     reading the headers and the whole body: a server that trickles bytes is
     cut off when the deadline passes, however steadily it trickles;
  5. the body is capped: a ``Content-Length`` above the cap is refused before
     the body is read, and at most ``max_bytes + 1`` bytes are ever read;
  6. redirects are followed by hand, at most ``max_redirects`` of them; every
     hop goes through steps 1-5 again, a URL seen twice is a loop, and a
     redirect from ``https`` to ``http`` is refused even when http is allowed;
  7. any status other than 200 is an error;
  8. connections are kept alive and reused (HTTP/1.1 persistent connections),
     but only for the same scheme, host name, port, TLS context *and* the
     same address that step 2 checked for this very request: every request
     resolves and checks its host again first, so a DNS answer that turns to
     a forbidden address is refused even when a connection to the old address
     is idle in the pool, and a redirect to another origin never finds one.
     A connection goes back to the pool only after a complete response that
     did not say ``Connection: close``, with no stray bytes after it; it is
     dropped on any error, on a body not read to its end, after
     ``idle_timeout`` seconds idle, and when the pool is full
     (``max_idle_per_origin``, ``max_idle_total``). A request on a reused
     connection that the server closed before answering a single byte is
     sent again on a new connection when its method is idempotent (RFC 9112
     section 9.3.1.1), within the same deadline; a POST gets ``network``.
     ``keep_alive=False`` sends ``Connection: close`` as before, and
     :meth:`HttpFetcher.close` closes the idle connections.

  :meth:`HttpFetcher.request` (and :meth:`~HttpFetcher.get`,
  :meth:`~HttpFetcher.post_form`, :meth:`~HttpFetcher.post_json`) is the same
  machine for a client that talks to a server (a wallet to an issuer or a
  verifier): any method, request headers and a body, and the answer of any
  status returned as an :class:`HttpResponse` (an OAuth error is a 400 with a
  JSON body the caller must read). Steps 1-5 hold as for ``fetch``; redirects
  are not followed unless asked for, and then only for GET and HEAD and only
  within the same origin (scheme, host and port): a redirect to another host
  raises ``redirect_refused``.

  ``allow_loopback=True`` admits plain ``http`` and loopback addresses for
  ``localhost`` and loopback IP literals only (every address they resolve to
  must be loopback): what tests on 127.0.0.1 need, without ``allow_http`` or
  ``allow_private`` opening anything else.

* :class:`StaticFetcher` - an in-memory map from URL to bytes, for your own
  tests (it never touches the network).

Every failure raises :class:`FetchError` with a stable ``code``. That is the
one error contract of the :class:`Fetcher` protocol, which every consumer of
remote documents (did:web, status lists, issuer metadata) takes;
:func:`fetch_checked` holds a third-party fetcher to it (an ``OSError``, a
body that is not bytes or is too long become a :class:`FetchError`).
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import math
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Protocol, cast
from urllib.parse import urlencode, urljoin, urlsplit

from did_methods._wire.jcs import canonicalize
from did_methods.errors import ParseError, SSIWalletError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "DEFAULT_USER_AGENT",
    "FETCH_ERROR_CODES",
    "FetchError",
    "Fetcher",
    "HttpFetcher",
    "HttpResponse",
    "StaticFetcher",
    "fetch_checked",
]

#: The ``User-Agent`` that :class:`HttpFetcher` sends unless told otherwise.
DEFAULT_USER_AGENT: Final = "ssi-wallet/0.1 (did-resolver)"

#: Every ``code`` a :class:`FetchError` can carry, with what it means.
FETCH_ERROR_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "invalid_url": "the URL (or a redirect's Location) is malformed or not allowed",
        "insecure_scheme": "plain http without allow_http, or a redirect from https to http",
        "forbidden_address": "the host is or resolves to a non-public address",
        "network": "name resolution, connection, TLS or HTTP protocol failure",
        "timeout": "the overall deadline passed",
        "too_large": "the body (or its announced Content-Length) exceeds max_bytes",
        "too_many_redirects": "more redirects than max_redirects",
        "redirect_loop": "a redirect led back to a URL already visited",
        "http_status": "the final response status was not 200 (see .status)",
        "redirect_refused": "a client request was redirected to another origin",
    }
)

_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_MAX_URL_LENGTH: Final = 4096
_READ_CHUNK: Final = 64 * 1024
# Visible ASCII only: no spaces, controls or non-ASCII in a URL we request.
_URL_CHARS = re.compile(r"[\x21-\x7e]+")
# A header value we write ourselves: visible ASCII and spaces, never CR or LF.
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")
# RFC 9110 section 5.1: a field name is a token.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}")
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
# Header fields the fetcher writes itself and a caller may not set.
_OWN_HEADERS: Final = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "accept-encoding", "te"}
)
#: Response header bytes read at most (all fields together).
_MAX_HEADER_FIELDS: Final = 100
_DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# NAT64 well-known prefix (RFC 6052): the low 32 bits are an IPv4 address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: A name-resolution function: ``(host, port) -> addresses`` as strings.
Resolve = Callable[[str, int], Sequence[str]]


class FetchError(SSIWalletError):
    """A remote document could not be fetched.

    ``code`` is one of :data:`FETCH_ERROR_CODES` and is stable; ``message`` is
    for people and may change. ``url`` is the URL being requested when it
    failed (after redirects), ``status`` the HTTP status for ``http_status``.
    """

    def __init__(
        self, code: str, message: str, *, url: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.url = url
        self.status = status


class Fetcher(Protocol):
    """Anything that can fetch a URL's body: the seam through which HTTP enters.

    Implementations return the body of a successful (200) response, never more
    than ``max_bytes`` bytes, within ``timeout`` seconds, and raise
    :class:`FetchError` on every failure.
    """

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        """Return the body at ``url`` or raise :class:`FetchError`."""
        ...


def fetch_checked(
    fetcher: Fetcher, url: str, *, max_bytes: int, timeout: float, accept: str
) -> bytes:
    """``fetcher.fetch(...)`` held to the :class:`Fetcher` contract.

    What a third-party fetcher may do wrong becomes a :class:`FetchError`: an
    ``OSError`` let through (``network``), a result that is not ``bytes``
    (``network``), a body longer than ``max_bytes`` (``too_large``). A
    :class:`FetchError` passes unchanged, so callers translate one type.
    """
    try:
        body = fetcher.fetch(url, max_bytes=max_bytes, timeout=timeout, accept=accept)
    except OSError as exc:
        raise FetchError("network", f"fetching failed: {exc}", url=url) from exc
    if not isinstance(body, bytes):
        raise FetchError(
            "network", f"the fetcher returned {type(body).__name__}, not bytes", url=url
        )
    if len(body) > max_bytes:
        raise FetchError("too_large", f"the fetcher returned more than {max_bytes} bytes", url=url)
    return body


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An answer to :meth:`HttpFetcher.request`: any status, its header fields, its body.

    ``headers`` maps lower-case field names to values (repeated fields joined
    with ``", "``, as RFC 9110 section 5.3 allows); ``body`` is at most the
    request's ``max_bytes``.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case (``""`` when absent)."""
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class _Target:
    """A checked URL, split into what a request needs."""

    url: str
    scheme: str
    host: str  # lower-case name, or IP literal without brackets
    port: int
    target: str  # path and query, as sent on the request line

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _check_header_value(name: str, value: str) -> str:
    if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
        raise ParseError(f"{name} must be printable ASCII without line breaks")
    return value


def _parse_url(url: str) -> _Target:
    """Split ``url`` into a :class:`_Target`, or raise FetchError('invalid_url')."""
    if not isinstance(url, str) or len(url) > _MAX_URL_LENGTH or not _URL_CHARS.fullmatch(url):
        raise FetchError("invalid_url", "URL must be printable ASCII, at most 4096 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("invalid_url", f"malformed URL: {exc}", url=url) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("invalid_url", "only http and https URLs can be fetched", url=url)
    if "@" in parts.netloc:
        raise FetchError("invalid_url", "URLs with user info are refused", url=url)
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchError("invalid_url", "URL has no host", url=url)
    if port is None:
        port = 443 if scheme == "https" else 80
    elif port == 0:
        raise FetchError("invalid_url", "port 0 is not a valid destination", url=url)
    if parts.netloc.startswith("["):
        # An IPv6 literal; zone ids ("%25eth0") name a local interface: refused.
        try:
            literal = ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise FetchError("invalid_url", "malformed IPv6 literal", url=url) from exc
        if literal.scope_id is not None:
            raise FetchError("invalid_url", "IPv6 zone ids are refused", url=url)
    elif not _is_ipv4_literal(host):
        problem = _host_name_problem(host.removesuffix("."))
        if problem is not None:
            raise FetchError("invalid_url", f"host {problem}", url=url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return _Target(url=url, scheme=scheme, host=host, port=port, target=target)


def _host_name_problem(host: str) -> str | None:
    """Say why lower-case ``host`` is not a DNS host name, or None when it is one."""
    labels = host.split(".")
    if len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        return "is not a valid DNS name"
    if not labels[-1][0].isalpha():
        # "192.0.2.1", "2130706433", "0x7f.1", "127.1": resolvers read these as
        # IPv4 addresses, while every top-level label starts with a letter.
        return "looks like an IP address"
    return None


def _is_ipv4_literal(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _forbidden_reason(ip: IPAddress) -> str | None:
    """Say why ``ip`` is not a public unicast address, or None when it is one."""
    if isinstance(ip, ipaddress.IPv6Address):
        # Forms that carry an IPv4 address inside are judged by that address
        # too, so ::ffff:127.0.0.1 or a 6to4 wrapper of 10.0.0.1 cannot slip by.
        embedded: list[ipaddress.IPv4Address] = []
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
            if (reason := _forbidden_reason(embedded[-1])) is not None:
                return f"NAT64 address of a {reason} address"
            return None  # the NAT64 prefix itself is routable on IPv6-only networks
        for inner in embedded:
            if (reason := _forbidden_reason(inner)) is not None:
                return f"IPv6 form of a {reason} address"
        if ip.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-global", not ip.is_global),
    )
    for reason, hit in checks:
        if hit:
            return reason
    return None


def _system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


class _Deadline:
    """One point in time that every step of a fetch must finish by."""

    __slots__ = ("_at",)

    def __init__(self, timeout: float) -> None:
        self._at = time.monotonic() + timeout

    def remaining(self, url: str) -> float:
        """Seconds left, or FetchError('timeout') when none are."""
        left = self._at - time.monotonic()
        if left <= 0:
            raise FetchError("timeout", "the fetch took longer than its timeout", url=url)
        return left


class _DeadlineReader(io.RawIOBase):
    """A socket's read side whose every ``recv`` is bounded by the deadline.

    A per-operation socket timeout alone would let a server that sends one
    byte just before each timeout hold us forever; re-arming the timeout with
    what is left of one overall deadline before every read cannot be gamed.
    """

    def __init__(self, sock: socket.socket, deadline: _Deadline, url: str) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._url = url
        self.received = 0  # bytes read from the socket so far
        self.probing = False  # when set, read nothing: only look at what is buffered

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        if self.probing:
            return 0
        self._sock.settimeout(self._deadline.remaining(self._url))
        count = self._sock.recv_into(buffer)
        self.received += count
        return count


class _UnclosedReader(io.BufferedReader):
    """A buffered reader that ``HTTPResponse`` cannot close, so its buffer can be checked."""

    def close(self) -> None:
        pass


class _DeadlineSocket:
    """The one method of a socket that :class:`http.client.HTTPResponse` calls."""

    def __init__(self, sock: socket.socket, deadline: _Deadline, url: str) -> None:
        self.reader = _DeadlineReader(sock, deadline, url)
        self.buffered = _UnclosedReader(self.reader)

    def makefile(self, mode: str) -> io.BufferedReader:
        assert mode == "rb"
        return self.buffered

    def leftover(self) -> bool:
        """True when bytes past the end of the response were already read."""
        self.reader.probing = True
        return bool(self.buffered.peek(1))


#: What a kept connection is bound to: scheme, host name, port, the checked
#: address it is connected to, and the TLS context (by identity) it was made with.
_PoolKey = tuple[str, str, int, str, int]
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class _Request:
    """What one exchange sends, and how much of the answer it reads."""

    method: str
    fields: Sequence[tuple[str, str]]
    body: bytes | None
    max_bytes: int
    read_body: Callable[[int], bool]


class _StaleConnection(Exception):
    """A reused connection was closed by the server before any byte of an answer."""


@dataclass(slots=True)
class _Connection:
    """An open connection to a checked address, with when it was last idle."""

    sock: socket.socket
    key: _PoolKey
    reused: bool = False
    idle_since: float = 0.0


class _Pool:
    """Idle kept-alive connections, bounded per origin and in total; thread safe.

    A connection is in the pool only while idle: :meth:`take` removes it, so
    two threads never share one.
    """

    def __init__(self, per_origin: int, total: int, idle_timeout: float) -> None:
        self._per_origin = per_origin
        self._total = total
        self._idle_timeout = idle_timeout
        self._idle: dict[_PoolKey, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def take(self, key: _PoolKey) -> _Connection | None:
        """An idle connection for exactly ``key`` that still looks usable, or None."""
        stale: list[_Connection] = []
        found: _Connection | None = None
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                conn = idle.pop()  # the most recently used first
                if now - conn.idle_since < self._idle_timeout and _quiet(conn.sock):
                    found = conn
                    break
                stale.append(conn)
            if not idle:
                self._idle.pop(key, None)
        for conn in stale:
            conn.sock.close()
        if found is not None:
            found.reused = True
        return found

    def put(self, conn: _Connection) -> None:
        """Keep ``conn`` for later, or close it when the pool is closed or full."""
        conn.idle_since = time.monotonic()
        origin = conn.key[:3]
        with self._lock:
            self._expire(conn.idle_since)
            total = sum(len(idle) for idle in self._idle.values())
            same_origin = sum(len(v) for k, v in self._idle.items() if k[:3] == origin)
            if not self._closed and total < self._total and same_origin < self._per_origin:
                self._idle.setdefault(conn.key, []).append(conn)
                return
        conn.sock.close()

    def _expire(self, now: float) -> None:
        # under the lock: drop what has been idle too long
        for key in list(self._idle):
            keep = []
            for conn in self._idle[key]:
                if now - conn.idle_since < self._idle_timeout:
                    keep.append(conn)
                else:
                    conn.sock.close()
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]

    def idle_count(self) -> int:
        with self._lock:
            return sum(len(idle) for idle in self._idle.values())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [conn for idle in self._idle.values() for conn in idle]
            self._idle.clear()
        for conn in conns:
            conn.sock.close()


def _quiet(sock: socket.socket) -> bool:
    """True when nothing is waiting to be read on an idle connection.

    An idle HTTP/1.1 connection has nothing to read: readable means the
    server closed it (or sent bytes nobody asked for), so it is not reused.
    """
    try:
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return False
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class HttpFetcher:
    """Fetch ``https`` URLs chosen by others, safely (see the module docstring).

    ``allow_http`` permits plain ``http`` URLs (never a redirect from https to
    http); ``allow_private`` permits every address, and ``allowed_networks``
    permits only the given networks (e.g. ``["10.1.2.0/24"]`` for an intranet
    host) - both are for local testing or deliberate deployments, never for a
    service that resolves DIDs from the public. ``allow_loopback`` permits
    ``http`` and loopback addresses for ``localhost`` and loopback literals
    only (tests against a server on 127.0.0.1). ``max_redirects`` bounds the
    redirects followed. ``ssl_context`` replaces the default verifying context
    (e.g. to trust a private CA); ``resolve`` replaces the system resolver
    (``(host, port) -> [address, ...]``, e.g. for DNS over HTTPS).
    ``keep_alive`` keeps connections for reuse (step 8 of the module
    docstring): at most ``max_idle_per_origin`` idle ones per origin and
    ``max_idle_total`` in all, each for at most ``idle_timeout`` seconds;
    :meth:`close` (or a ``with`` block) closes them.

    Raises :class:`~did_methods.errors.ParseError` at construction for a
    ``user_agent`` with line breaks or non-ASCII characters, a negative
    ``max_redirects``, ``max_idle_per_origin`` or ``max_idle_total``, or a
    non-positive or infinite ``idle_timeout``, and ``ValueError`` for a
    malformed network.
    """

    def __init__(
        self,
        *,
        allow_http: bool = False,
        allow_private: bool = False,
        allowed_networks: Iterable[str | IPNetwork] = (),
        allow_loopback: bool = False,
        max_redirects: int = 3,
        user_agent: str = DEFAULT_USER_AGENT,
        ssl_context: ssl.SSLContext | None = None,
        resolve: Resolve | None = None,
        keep_alive: bool = True,
        max_idle_per_origin: int = 4,
        max_idle_total: int = 32,
        idle_timeout: float = 2.0,
    ) -> None:
        if not isinstance(max_redirects, int) or max_redirects < 0:
            raise ParseError("max_redirects must be a non-negative integer")
        for name, bound in (("max_idle_per_origin", max_idle_per_origin),
                            ("max_idle_total", max_idle_total)):  # fmt: skip
            if not isinstance(bound, int) or isinstance(bound, bool) or bound < 0:
                raise ParseError(f"{name} must be a non-negative integer")
        if not isinstance(idle_timeout, int | float) or not (0 < idle_timeout < math.inf):
            raise ParseError("idle_timeout must be a positive, finite number of seconds")
        self.allow_http = allow_http
        self.allow_private = allow_private
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(net) for net in allowed_networks
        )
        self.allow_loopback = allow_loopback
        self.max_redirects = max_redirects
        self.user_agent = _check_header_value("user_agent", user_agent)
        self._ssl_context = ssl_context
        self._resolve = resolve or _system_resolve
        self.keep_alive = keep_alive
        self._pool = _Pool(max_idle_per_origin, max_idle_total, float(idle_timeout))
        self._default_context: ssl.SSLContext | None = None
        self._context_lock = threading.Lock()

    def close(self) -> None:
        """Close the idle kept-alive connections; later requests keep none."""
        self._pool.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        """GET ``url`` and return the body of its 200 response, following redirects.

        At most ``max_bytes`` bytes are returned and ``timeout`` seconds spent
        in total. Raises :class:`FetchError` (see :data:`FETCH_ERROR_CODES`);
        raises :class:`~did_methods.errors.ParseError` for a negative
        ``max_bytes``, a non-positive or infinite ``timeout``, or an ``accept``
        value with line breaks.
        """
        _check_bounds(max_bytes, timeout)
        _check_header_value("accept", accept)
        deadline = _Deadline(float(timeout))
        visited: set[str] = set()
        current, came_from = url, None
        while True:
            target = self._target(current, came_from)
            visited.add(current)
            reply = self._exchange(
                target, deadline, "GET", [("Accept", accept)], None, max_bytes=max_bytes,
                read_body=lambda status: status == 200,
            )  # fmt: skip
            if reply.status == 200:
                return reply.body
            location = _redirect_location(reply, target)
            if location is None:
                raise FetchError(
                    "http_status",
                    f"server answered {reply.status} {reply.reason}",
                    url=target.url,
                    status=reply.status,
                )
            following = urljoin(current, location).partition("#")[0]
            if following in visited:
                raise FetchError(
                    "redirect_loop", f"redirect loops back to {following}", url=current
                )
            if len(visited) > self.max_redirects:
                raise FetchError(
                    "too_many_redirects", f"more than {self.max_redirects} redirects", url=current
                )
            current, came_from = following, target.scheme

    # -- a client's requests -----------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int = 1 << 20,
        timeout: float = 10.0,
        follow_redirects: bool = False,
    ) -> HttpResponse:
        """Make one request and return its answer, whatever its status.

        ``headers`` are sent as given (``Host``, ``Content-Length``,
        ``Connection``, ``Transfer-Encoding``, ``Accept-Encoding`` and ``TE``
        are the fetcher's own and refused); ``body`` is sent with its
        ``Content-Length``. The URL and address rules, the deadline and the
        body cap are those of :meth:`fetch`. With ``follow_redirects`` a GET
        or HEAD follows up to ``max_redirects`` redirects within the same
        origin; otherwise a 3xx answer is returned as it is. Raises
        :class:`FetchError` (``redirect_refused`` for a redirect to another
        origin) and :class:`~did_methods.errors.ParseError` for a malformed
        method, header or bound.
        """
        _check_bounds(max_bytes, timeout)
        if method not in _METHODS:
            raise ParseError(f"HTTP method must be one of {sorted(_METHODS)}")
        if body is not None and not isinstance(body, bytes):
            raise ParseError("a request body must be bytes")
        fields: list[tuple[str, str]] = []
        for name, value in (headers or {}).items():
            if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
                raise ParseError(f"{str(name)[:40]!r} is not an HTTP header field name")
            if name.lower() in _OWN_HEADERS or name.lower() == "user-agent":
                raise ParseError(f"the {name} header is the fetcher's own")
            fields.append((name, _check_header_value(name, value)))
        deadline = _Deadline(float(timeout))
        target = self._target(url, None)
        origin = target.origin
        for _hop in range(self.max_redirects + 1):
            reply = self._exchange(
                target, deadline, method, fields, body, max_bytes=max_bytes,
                read_body=lambda status: method != "HEAD",
            )  # fmt: skip
            if not follow_redirects or method not in ("GET", "HEAD"):
                return reply.response
            location = _redirect_location(reply, target)
            if location is None:
                return reply.response
            following = urljoin(target.url, location).partition("#")[0]
            target = self._target(following, target.scheme)
            if target.origin != origin:
                raise FetchError(
                    "redirect_refused", f"redirected to another origin: {following}", url=url
                )
        raise FetchError(
            "too_many_redirects", f"more than {self.max_redirects} redirects", url=target.url
        )

    def get(
        self,
        url: str,
        *,
        accept: str = "application/json",
        headers: Mapping[str, str] | None = None,
        max_bytes: int = 1 << 20,
        timeout: float = 10.0,
    ) -> HttpResponse:
        """GET ``url`` with ``Accept: accept``; see :meth:`request` (no redirects followed)."""
        fields = {"Accept": accept, **(headers or {})}
        return self.request("GET", url, headers=fields, max_bytes=max_bytes, timeout=timeout)

    def post_form(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        accept: str = "application/json",
        headers: Mapping[str, str] | None = None,
        max_bytes: int = 1 << 20,
        timeout: float = 10.0,
    ) -> HttpResponse:
        """POST ``form`` as ``application/x-www-form-urlencoded`` (UTF-8); see :meth:`request`."""
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in form.items()):
            raise ParseError("form fields and values must be strings")
        fields = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": accept,
            **(headers or {}),
        }
        body = urlencode(list(form.items()), encoding="utf-8").encode("ascii")
        return self.request(
            "POST", url, headers=fields, body=body, max_bytes=max_bytes, timeout=timeout
        )

    def post_json(
        self,
        url: str,
        document: object,
        *,
        accept: str = "application/json",
        headers: Mapping[str, str] | None = None,
        max_bytes: int = 1 << 20,
        timeout: float = 10.0,
    ) -> HttpResponse:
        """POST ``document`` as ``application/json`` (RFC 8785 canonical form); see :meth:`request`.

        Raises :class:`~did_methods.errors.CanonicalizationError` for a value
        JSON cannot carry.
        """
        fields = {"Content-Type": "application/json", "Accept": accept, **(headers or {})}
        return self.request(
            "POST", url, headers=fields, body=canonicalize(document), max_bytes=max_bytes,
            timeout=timeout,
        )  # fmt: skip

    # -- one request -------------------------------------------------------

    def _target(self, url: str, came_from: str | None) -> _Target:
        """Check ``url`` (and the scheme rules, after a redirect from ``came_from``)."""
        target = _parse_url(url)
        if target.scheme == "http" and came_from == "https":
            raise FetchError("insecure_scheme", "refusing a redirect from https to http", url=url)
        if target.scheme == "http" and not (self.allow_http or self._loopback_host(target)):
            raise FetchError("insecure_scheme", "plain http is not allowed", url=url)
        return target

    def _loopback_host(self, target: _Target) -> bool:
        if not self.allow_loopback:
            return False
        if target.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(target.host).is_loopback
        except ValueError:
            return False

    def _addresses(self, target: _Target, deadline: _Deadline) -> list[IPAddress]:
        """Resolve the host once and check every address it resolves to."""
        try:
            addresses: list[str] = [str(ipaddress.ip_address(target.host))]
        except ValueError:
            addresses = self._resolve_with_deadline(target, deadline)
        checked: list[IPAddress] = []
        for text in addresses:
            try:
                ip = ipaddress.ip_address(text)
            except ValueError as exc:
                raise FetchError(
                    "network", f"resolver returned a malformed address {text!r}", url=target.url
                ) from exc
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped  # judge and connect to what the kernel would reach
            checked.append(ip)
        if not checked:
            raise FetchError("network", f"{target.host} has no addresses", url=target.url)
        loopback = self._loopback_host(target)
        only_loopback = all(ip.is_loopback for ip in checked)
        if target.scheme == "http" and not self.allow_http and not only_loopback:
            # admitted as a loopback host only: so every address must be loopback
            raise FetchError(
                "insecure_scheme", f"{target.host} is not only loopback", url=target.url
            )
        if not self.allow_private:
            for ip in checked:
                if any(ip in net for net in self.allowed_networks):
                    continue
                if loopback and ip.is_loopback:
                    continue
                reason = _forbidden_reason(ip)
                if reason is not None:
                    # Refuse the whole host, not just this address: a name that
                    # mixes public and internal answers is not one to trust.
                    raise FetchError(
                        "forbidden_address",
                        f"{target.host} resolves to {ip}, a {reason} address",
                        url=target.url,
                    )
        return checked

    def _resolve_with_deadline(self, target: _Target, deadline: _Deadline) -> list[str]:
        # getaddrinfo has no timeout of its own and a hostile DNS server can
        # stall it for many seconds, so it runs in a daemon thread we stop
        # waiting for when the deadline passes.
        outcome: list[Sequence[str] | BaseException] = []

        def run() -> None:
            try:
                outcome.append(self._resolve(target.host, target.port))
            except BaseException as exc:  # handed over to the waiting thread
                outcome.append(exc)

        worker = threading.Thread(target=run, name="ssi-wallet-resolve", daemon=True)
        worker.start()
        worker.join(deadline.remaining(target.url))
        if not outcome:
            raise FetchError("timeout", f"resolving {target.host} timed out", url=target.url)
        result = outcome[0]
        if isinstance(result, BaseException):
            raise FetchError(
                "network", f"cannot resolve {target.host}: {result}", url=target.url
            ) from result
        return list(result)

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is not None:
            return self._ssl_context
        with self._context_lock:
            if self._default_context is None:
                self._default_context = ssl.create_default_context()
            return self._default_context

    def _connect(self, target: _Target, deadline: _Deadline) -> _Connection:
        """A connection to a checked address of ``target``: a kept one, else a new one.

        The host is resolved and every address checked first, each time: a
        kept connection is taken only when its address is among those just
        checked, so a DNS answer that changed is judged before anything is sent.
        """
        addresses = self._addresses(target, deadline)
        context_id = id(self._context()) if target.scheme == "https" else 0
        keys = [(target.scheme, target.host, target.port, str(ip), context_id) for ip in addresses]
        if self.keep_alive:
            for key in keys:
                if (kept := self._pool.take(key)) is not None:
                    return kept
        errors: list[str] = []
        for ip, key in zip(addresses, keys, strict=True):
            try:
                sock = socket.create_connection(
                    (str(ip), target.port), timeout=deadline.remaining(target.url)
                )
            except OSError as exc:
                errors.append(f"{ip}: {exc}")
                continue
            with suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return _Connection(sock, key)
        deadline.remaining(target.url)  # a timeout, if that is what ended the loop
        raise FetchError(
            "network", f"cannot connect to {target.host}: {'; '.join(errors)}", url=target.url
        )

    def _exchange(
        self,
        target: _Target,
        deadline: _Deadline,
        method: str,
        fields: Sequence[tuple[str, str]],
        body: bytes | None,
        *,
        max_bytes: int,
        read_body: Callable[[int], bool],
    ) -> _Reply:
        """Make one request; read the body (bounded) when ``read_body(status)`` says so.

        A kept connection the server closed before answering is given up and,
        for an idempotent method, the request is made again (addresses checked
        again, then a kept or new connection); each try takes a kept connection
        out of the bounded pool or opens a new one, which is never stale, so
        this ends - and the deadline bounds it in any case.
        """
        request = _Request(method, fields, body, max_bytes, read_body)
        while True:
            conn = self._connect(target, deadline)
            try:
                return self._exchange_on(conn, target, deadline, request)
            except _StaleConnection as exc:
                if method not in _IDEMPOTENT:
                    raise FetchError(
                        "network",
                        f"{target.host} closed a kept-alive connection before answering "
                        f"a {method}, which is not resent",
                        url=target.url,
                    ) from exc

    def _exchange_on(
        self, conn: _Connection, target: _Target, deadline: _Deadline, request: _Request
    ) -> _Reply:
        method, fields, body = request.method, request.fields, request.body
        keep = False
        try:
            if target.scheme == "https" and not conn.reused:
                conn.sock.settimeout(deadline.remaining(target.url))
                # SNI and the certificate check use the name, not the address.
                conn.sock = self._context().wrap_socket(conn.sock, server_hostname=target.host)
            sock = conn.sock
            head = (
                f"{method} {target.target} HTTP/1.1\r\n"
                f"Host: {target.host_header}\r\n"
                f"User-Agent: {self.user_agent}\r\n"
                + "".join(f"{name}: {value}\r\n" for name, value in fields)
                + ("" if body is None else f"Content-Length: {len(body)}\r\n")
                + "Accept-Encoding: identity\r\n"
                + ("" if self.keep_alive else "Connection: close\r\n")
                + "\r\n"
            ).encode("ascii")
            sock.settimeout(deadline.remaining(target.url))
            try:
                sock.sendall(head if body is None else head + body)
            except ConnectionError as exc:
                if conn.reused:
                    raise _StaleConnection from exc
                raise
            faced = _DeadlineSocket(sock, deadline, target.url)
            response = http.client.HTTPResponse(cast(socket.socket, faced), method=method)
            try:
                try:
                    response.begin()
                except (ConnectionError, http.client.RemoteDisconnected) as exc:
                    if conn.reused and faced.reader.received == 0:
                        raise _StaleConnection from exc
                    raise
                reply = self._read_response(response, target, request.max_bytes, request.read_body)
                # Kept only after a whole answer, nothing read past it, no "close".
                consumed = (
                    response.isclosed()
                    or method == "HEAD"
                    or (response.length == 0 and not response.chunked)
                )
                keep = (
                    self.keep_alive and consumed and not response.will_close
                    and not faced.leftover()
                )  # fmt: skip
                return reply
            finally:
                response.close()
        except (FetchError, _StaleConnection):
            raise
        except TimeoutError as exc:
            raise FetchError(
                "timeout", "the fetch took longer than its timeout", url=target.url
            ) from exc
        except ssl.SSLError as exc:
            raise FetchError(
                "network", f"TLS failure with {target.host}: {exc}", url=target.url
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(
                "network", f"HTTP exchange with {target.host} failed: {exc!r}", url=target.url
            ) from exc
        finally:
            if keep:
                self._pool.put(conn)
            else:
                conn.sock.close()

    @staticmethod
    def _read_response(
        response: http.client.HTTPResponse,
        target: _Target,
        max_bytes: int,
        read_body: Callable[[int], bool],
    ) -> _Reply:
        headers: dict[str, str] = {}
        for count, (name, value) in enumerate(response.getheaders()):
            if count >= _MAX_HEADER_FIELDS:
                raise FetchError("network", "too many response header fields", url=target.url)
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if not read_body(response.status):
            return _Reply(HttpResponse(response.status, headers, b""), response.reason)
        if response.length is not None and response.length > max_bytes:
            raise FetchError(
                "too_large",
                f"Content-Length {response.length} exceeds the limit of {max_bytes} bytes",
                url=target.url,
            )
        body = bytearray()
        while chunk := response.read(min(_READ_CHUNK, max_bytes + 1 - len(body))):
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(
                    "too_large", f"body exceeds the limit of {max_bytes} bytes", url=target.url
                )
        if response.length:
            # http.client ends a short Content-Length body quietly: a truncated
            # body is refused here, never returned as if it were the whole one.
            raise FetchError(
                "network",
                f"the connection closed {response.length} bytes before the end of the body",
                url=target.url,
            )
        return _Reply(HttpResponse(response.status, headers, bytes(body)), response.reason)


@dataclass(frozen=True, slots=True)
class _Reply:
    response: HttpResponse
    reason: str

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def body(self) -> bytes:
        return self.response.body


def _check_bounds(max_bytes: int, timeout: float) -> None:
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
        raise ParseError("max_bytes must be a non-negative integer")
    if not isinstance(timeout, int | float) or not (0 < timeout < math.inf):
        raise ParseError("timeout must be a positive, finite number of seconds")


def _redirect_location(reply: _Reply, target: _Target) -> str | None:
    """A redirect's Location, None for any other status; a Location-less redirect raises."""
    if reply.status not in _REDIRECT_STATUSES:
        return None
    location = reply.response.headers.get("location")
    if not location:
        raise FetchError(
            "http_status",
            f"redirect status {reply.status} without a Location",
            url=target.url,
            status=reply.status,
        )
    return location


class StaticFetcher:
    """An in-memory :class:`Fetcher` for your own tests: URL -> body, no network.

    A URL in the mapping returns its bytes (subject to ``max_bytes``, like the
    real fetcher); any other URL raises ``FetchError('http_status')`` with
    status 404. ``timeout`` and ``accept`` are accepted and ignored.
    """

    def __init__(self, mapping: Mapping[str, bytes]) -> None:
        self._mapping: Mapping[str, bytes] = MappingProxyType(dict(mapping))

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        """Return the stored body for ``url`` or raise :class:`FetchError`."""
        body = self._mapping.get(url)
        if body is None:
            raise FetchError("http_status", "no such URL in the StaticFetcher", url=url, status=404)
        if len(body) > max_bytes:
            raise FetchError("too_large", f"body exceeds the limit of {max_bytes} bytes", url=url)
        return body
