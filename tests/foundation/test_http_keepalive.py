"""HttpFetcher keeps connections alive, and every guarantee of a fresh connection still holds.

Real servers on 127.0.0.1: :class:`StaticServer` with ``keep_alive`` (it counts
the connections it accepted) and, for what a well-behaved server never does
(closing a kept connection after reading a request, a short body, bytes after
the response, a stall), a scripted raw-socket server in this file.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest
from _live_server import Response, StaticServer, static_server_fixture

from did_methods.errors import ParseError
from did_methods.http import FetchError, HttpFetcher


def _keep_alive_server() -> StaticServer:
    return StaticServer(keep_alive=True)


server = static_server_fixture(_keep_alive_server)
other = static_server_fixture(_keep_alive_server)


@pytest.fixture
def client() -> Iterator[HttpFetcher]:
    with HttpFetcher(allow_loopback=True) as fetcher:
        yield fetcher


def _code(call: Callable[[], object]) -> str:
    with pytest.raises(FetchError) as caught:
        call()
    return caught.value.code


# -- a scripted server: one function per accepted connection -----------------------


Script = Callable[[socket.socket, "Scripted"], None]


class Scripted:
    """Accepts connections on 127.0.0.1; the n-th runs ``scripts[n]`` (the last one repeats)."""

    def __init__(self, scripts: Sequence[Script]) -> None:
        self.scripts = list(scripts)
        self.accepted = 0
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            script = self.scripts[min(self.accepted, len(self.scripts) - 1)]
            self.accepted += 1
            threading.Thread(target=self._run, args=(script, conn), daemon=True).start()

    def _run(self, script: Script, conn: socket.socket) -> None:
        with conn:
            try:
                script(conn, self)
            except OSError:
                pass

    def read_request(self, conn: socket.socket) -> bytes:
        """Read one request (head and Content-Length body); b"" when the client closed."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return b""
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += conn.recv(4096)
        self.requests.append(head + b"\r\n\r\n" + rest)
        return head

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s%s" % (len(body), body, extra)


@pytest.fixture
def scripted() -> Iterator[Callable[[Sequence[Script]], Scripted]]:
    made: list[Scripted] = []

    def make(scripts: Sequence[Script]) -> Scripted:
        made.append(Scripted(scripts))
        return made[-1]

    yield make
    for one in made:
        one.close()


def answer_then(*bodies: bytes, then: Callable[[socket.socket, Scripted], None]) -> Script:
    """Answer one request per body on the same connection, then run ``then``."""

    def script(conn: socket.socket, srv: Scripted) -> None:
        for body in bodies:
            if not srv.read_request(conn):
                return
            conn.sendall(ok(body))
        then(conn, srv)

    return script


def serve_forever(body: bytes) -> Script:
    def script(conn: socket.socket, srv: Scripted) -> None:
        while srv.read_request(conn):
            conn.sendall(ok(body))

    return script


# -- reuse ------------------------------------------------------------------------


def test_one_connection_serves_every_request_to_the_same_origin(
    server: StaticServer, client: HttpFetcher
) -> None:
    server.put("/a", b'{"a":1}')
    server.put("/b", b'{"b":2}')
    assert client.get(server.url("/a")).body == b'{"a":1}'
    assert client.post_form(server.url("/b"), {"x": "y"}).body == b'{"b":2}'
    assert client.post_json(server.url("/a"), {"z": 1}).body == b'{"a":1}'
    assert client.request("HEAD", server.url("/b")).status == 200
    assert client.fetch(server.url("/b"), max_bytes=100, timeout=5, accept="*/*") == b'{"b":2}'
    assert server.connections == 1
    assert [r.method for r in server.requests] == ["GET", "POST", "POST", "HEAD", "GET"]
    assert all("Connection" not in r.headers for r in server.requests)


def test_keep_alive_false_opens_a_connection_per_request_and_says_close(
    server: StaticServer,
) -> None:
    server.put("/a", b"x")
    fetcher = HttpFetcher(allow_loopback=True, keep_alive=False)
    for _ in range(3):
        assert fetcher.get(server.url("/a")).body == b"x"
    assert server.connections == 3
    assert all(r.headers["Connection"] == "close" for r in server.requests)


def test_an_answer_saying_connection_close_is_not_reused(
    server: StaticServer, client: HttpFetcher
) -> None:
    server.routes["/bye"] = Response(b"bye", headers=(("Connection", "close"),))
    server.put("/a", b"a")
    assert client.get(server.url("/bye")).body == b"bye"
    assert client.get(server.url("/a")).body == b"a"
    assert client.get(server.url("/a")).body == b"a"
    assert server.connections == 2


def test_an_unread_body_is_not_left_on_a_kept_connection(
    server: StaticServer, client: HttpFetcher
) -> None:
    # fetch reads no body for a non-200 answer: that connection must be dropped
    server.put("/missing", b"not here, and some more bytes", status=404)
    server.put("/a", b"a")
    assert _code(lambda: client.fetch(server.url("/missing"), max_bytes=99, timeout=5,
                                      accept="*/*")) == "http_status"  # fmt: skip
    assert client.get(server.url("/a")).body == b"a"
    assert server.connections == 2


def test_idle_connections_expire(server: StaticServer) -> None:
    server.put("/a", b"a")
    fetcher = HttpFetcher(allow_loopback=True, idle_timeout=0.2)
    fetcher.get(server.url("/a"))
    fetcher.get(server.url("/a"))
    assert server.connections == 1
    time.sleep(0.3)
    fetcher.get(server.url("/a"))
    assert server.connections == 2


def test_the_pool_is_bounded_per_origin_and_in_total(
    server: StaticServer, other: StaticServer
) -> None:
    server.put("/a", b"a")
    other.put("/b", b"b")
    none = HttpFetcher(allow_loopback=True, max_idle_per_origin=0)
    none.get(server.url("/a"))
    none.get(server.url("/a"))
    assert server.connections == 2
    one = HttpFetcher(allow_loopback=True, max_idle_total=1)
    one.get(server.url("/a"))  # kept: the pool is now full
    one.get(other.url("/b"))  # a new connection, closed after: no room
    one.get(server.url("/a"))  # the kept one
    one.get(other.url("/b"))  # a new one again
    assert (server.connections, other.connections) == (3, 2)


def test_close_closes_the_pool(server: StaticServer) -> None:
    server.put("/a", b"a")
    fetcher = HttpFetcher(allow_loopback=True)
    fetcher.get(server.url("/a"))
    assert fetcher._pool.idle_count() == 1
    fetcher.close()
    assert fetcher._pool.idle_count() == 0
    fetcher.get(server.url("/a"))
    fetcher.get(server.url("/a"))
    assert server.connections == 3  # closed: nothing is kept any more
    assert fetcher._pool.idle_count() == 0


def test_threads_share_a_fetcher_and_each_gets_its_own_answer(server: StaticServer) -> None:
    for n in range(6):
        server.put(f"/{n}", f"body {n}".encode() * (n + 1))
    fetcher = HttpFetcher(allow_loopback=True, max_idle_per_origin=3)
    wrong: list[str] = []

    def worker(n: int) -> None:
        for _ in range(15):
            got = fetcher.get(server.url(f"/{n}")).body
            if got != f"body {n}".encode() * (n + 1):
                wrong.append(f"{n}: {got!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert wrong == []
    assert len(server.requests) == 90
    assert server.connections < 90  # connections were reused
    assert fetcher._pool.idle_count() <= 3


def test_pool_bounds_are_checked() -> None:
    with pytest.raises(ParseError):
        HttpFetcher(max_idle_total=-1)
    with pytest.raises(ParseError):
        HttpFetcher(idle_timeout=0)


# -- a server that breaks a kept connection --------------------------------------


def test_a_kept_connection_closed_while_idle_is_not_used(
    scripted: Callable[[Sequence[Script]], Scripted], client: HttpFetcher
) -> None:
    site = scripted([answer_then(b"first", then=lambda c, s: None), serve_forever(b"second")])
    assert client.get(site.url("/")).body == b"first"
    time.sleep(0.1)  # the server has closed the kept connection by now
    assert client.post_form(site.url("/"), {"a": "b"}).body == b"second"
    assert site.accepted == 2


def close_after_reading(conn: socket.socket, srv: Scripted) -> None:
    srv.read_request(conn)  # read the next request, then hang up without a word


def test_a_get_on_a_connection_closed_before_answering_is_resent_on_a_new_one(
    scripted: Callable[[Sequence[Script]], Scripted], client: HttpFetcher
) -> None:
    site = scripted([answer_then(b"first", then=close_after_reading), serve_forever(b"fresh")])
    assert client.get(site.url("/")).body == b"first"
    assert client.get(site.url("/again")).body == b"fresh"
    assert site.accepted == 2
    assert [r.split(b" ")[1] for r in site.requests] == [b"/", b"/again", b"/again"]


def test_a_post_on_a_connection_closed_before_answering_is_not_resent(
    scripted: Callable[[Sequence[Script]], Scripted], client: HttpFetcher
) -> None:
    site = scripted([answer_then(b"first", then=close_after_reading), serve_forever(b"fresh")])
    assert client.get(site.url("/")).body == b"first"
    assert _code(lambda: client.post_form(site.url("/pay"), {"n": "1"})) == "network"
    assert [r.split(b" ")[1] for r in site.requests] == [b"/", b"/pay"]  # sent once
    assert client.get(site.url("/")).body == b"fresh"  # and the fetcher goes on


def test_a_short_body_is_an_error_never_a_wrong_body(
    scripted: Callable[[Sequence[Script]], Scripted], client: HttpFetcher
) -> None:
    def short(conn: socket.socket, srv: Scripted) -> None:
        srv.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 50)

    site = scripted([answer_then(b"first", then=short), serve_forever(b"fresh")])
    assert client.get(site.url("/")).body == b"first"
    assert _code(lambda: client.get(site.url("/"))) == "network"
    assert client.get(site.url("/")).body == b"fresh"
    assert site.accepted == 2


def test_bytes_after_an_answer_never_become_the_next_answer(
    scripted: Callable[[Sequence[Script]], Scripted], client: HttpFetcher
) -> None:
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"

    def with_extra(conn: socket.socket, srv: Scripted) -> None:
        srv.read_request(conn)
        conn.sendall(ok(b"first", smuggled))  # one write: the extra bytes arrive with it
        srv.read_request(conn)
        conn.sendall(ok(b"on the old connection"))

    site = scripted([with_extra, serve_forever(b"fresh")])
    assert client.get(site.url("/")).body == b"first"
    assert client.get(site.url("/")).body == b"fresh"
    assert site.accepted == 2


def test_a_body_over_the_cap_on_a_kept_connection_is_refused_and_the_connection_dropped(
    server: StaticServer, client: HttpFetcher
) -> None:
    server.put("/small", b"s" * 10)
    server.put("/big", b"b" * 5000)
    assert client.get(server.url("/small"), max_bytes=100).body == b"s" * 10
    assert _code(lambda: client.get(server.url("/big"), max_bytes=100)) == "too_large"
    assert server.connections == 1  # the big answer came on the kept connection
    assert client.get(server.url("/small"), max_bytes=100).body == b"s" * 10
    assert server.connections == 2  # and that connection was not used again


def test_the_deadline_covers_a_request_on_a_kept_connection(
    scripted: Callable[[Sequence[Script]], Scripted], client: HttpFetcher
) -> None:
    def trickle(conn: socket.socket, srv: Scripted) -> None:
        srv.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.05)

    site = scripted([answer_then(b"first", then=trickle)])
    assert client.get(site.url("/")).body == b"first"
    started = time.monotonic()
    assert _code(lambda: client.get(site.url("/"), timeout=0.5)) == "timeout"
    assert 0.4 < time.monotonic() - started < 1.5
    assert site.accepted == 1  # the slow answer was on the kept connection


# -- origins and addresses ---------------------------------------------------------


def test_a_redirect_to_another_origin_uses_a_connection_of_its_own(
    server: StaticServer, other: StaticServer, client: HttpFetcher
) -> None:
    server.put("/a", b"a")
    other.put("/doc", b"the document")
    server.put("/moved", b"", status=302, headers={"Location": other.url("/doc")})
    assert client.get(server.url("/a")).body == b"a"
    got = client.fetch(server.url("/moved"), max_bytes=100, timeout=5, accept="*/*")
    assert got == b"the document"
    assert (server.connections, other.connections) == (1, 1)
    assert other.requests[0].headers["Host"] == f"127.0.0.1:{other.port}"
    assert [r.path for r in server.requests] == ["/a", "/moved"]


def test_a_dns_answer_that_turns_forbidden_is_refused_despite_a_kept_connection(
    server: StaticServer,
) -> None:
    server.put("/doc", b"doc")
    answer = ["127.0.0.1"]
    lookups: list[str] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        lookups.append(host)
        return list(answer)

    fetcher = HttpFetcher(allow_http=True, allowed_networks=["127.0.0.1/32"], resolve=resolve)
    url = f"http://issuer.test:{server.port}/doc"
    assert fetcher.get(url).body == b"doc"
    assert fetcher._pool.idle_count() == 1
    answer[:] = ["10.0.0.7"]
    assert _code(lambda: fetcher.get(url)) == "forbidden_address"
    answer[:] = ["127.0.0.1", "192.168.1.1"]  # one bad address refuses the host
    assert _code(lambda: fetcher.get(url)) == "forbidden_address"
    assert len(server.requests) == 1
    answer[:] = ["127.0.0.1"]
    assert fetcher.get(url).body == b"doc"  # the same checked address: the kept one
    assert (server.connections, len(lookups)) == (1, 4)


def test_a_kept_connection_is_not_used_for_another_address_of_the_same_name(
    server: StaticServer,
) -> None:
    server.put("/doc", b"doc")
    answer = ["127.0.0.1"]
    fetcher = HttpFetcher(
        allow_http=True, allowed_networks=["127.0.0.0/8"], resolve=lambda h, p: list(answer)
    )
    url = f"http://issuer.test:{server.port}/doc"
    assert fetcher.get(url).body == b"doc"
    answer[:] = ["127.0.0.2"]  # nothing listens there: a new connection is tried, and fails
    assert _code(lambda: fetcher.get(url)) == "network"
    assert (server.connections, len(server.requests)) == (1, 1)
