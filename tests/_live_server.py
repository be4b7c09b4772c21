"""Real HTTP servers on 127.0.0.1 for the tests: one helper instead of a copy per test file.

Two kinds, both started in a daemon thread and stopped when their ``with``
block (or fixture) ends:

* :func:`serve_asgi` runs an ASGI application (the VC API, the OpenID4VCI
  issuer, the OpenID4VP verifier) with uvicorn on a socket of 127.0.0.1 that
  is bound *before* the server starts, so there is no race for the port; pass
  ``sock=bind_free_socket()`` when the application must know its port before
  it is built (its configuration names its public URL), and ``ssl_certfile``
  / ``ssl_keyfile`` to serve HTTPS.
* :class:`StaticServer` serves chosen bytes per path with a chosen status and
  headers (did:web documents, status lists, metadata), records every request
  (``hits`` per path, ``requests`` in order with headers and body) and can
  fall back to a callable for paths it holds no route for.

For pytest, :func:`static_server_fixture` and :func:`asgi_server_fixture` build
fixtures::

    server = static_server_fixture()

    def test_something(server: StaticServer) -> None:
        url = server.put_json("/.well-known/did.json", document)

uvicorn is imported only by :func:`serve_asgi` (it is the ``server`` extra; without it
the test is skipped).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest

__all__ = [
    "LiveServer",
    "Request",
    "Response",
    "StaticServer",
    "asgi_server_fixture",
    "bind_free_socket",
    "serve_asgi",
    "static_server_fixture",
]

Scope = Literal["function", "class", "module", "package", "session"]

#: Request bodies the static server reads at most (tests post small forms and JSON).
MAX_REQUEST_BODY = 1 << 20


def bind_free_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket bound to a free port of ``host`` (not yet listening); keep it for the server.
    ``port`` binds that port instead (a server restarted where its URLs point)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


# ------------------------------------------------------------------ ASGI under uvicorn


@dataclass(frozen=True)
class LiveServer:
    """Where a running server answers: ``base`` is ``scheme://host:port`` with no trailing slash."""

    host: str
    port: int
    scheme: str = "http"

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serve_asgi(
    app: Any,
    *,
    sock: socket.socket | None = None,
    ssl_certfile: str | Path | None = None,
    ssl_keyfile: str | Path | None = None,
    startup_timeout: float = 20.0,
) -> Iterator[LiveServer]:
    """Run ``app`` with uvicorn in a thread on 127.0.0.1 until the block ends.

    ``sock`` is a socket from :func:`bind_free_socket` (one is bound here when
    omitted); the server owns it and closes it. Raises ``RuntimeError`` if the
    server does not start within ``startup_timeout`` seconds.
    """
    uvicorn = pytest.importorskip("uvicorn")  # the server extra; a test without it is skipped
    sock = sock if sock is not None else bind_free_socket()
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=None if ssl_certfile is None else str(ssl_certfile),
        ssl_keyfile=None if ssl_keyfile is None else str(ssl_keyfile),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.02)
        yield LiveServer(host, port, "https" if ssl_certfile is not None else "http")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def asgi_server_fixture(
    build: Callable[[int], Any], *, scope: Scope = "function"
) -> Callable[..., Iterator[LiveServer]]:
    """A pytest fixture serving ``build(port)``, the app built once its port is known."""

    def fixture() -> Iterator[LiveServer]:
        sock = bind_free_socket()
        with serve_asgi(build(sock.getsockname()[1]), sock=sock) as live:
            yield live

    return pytest.fixture(scope=scope)(fixture)


# ------------------------------------------------------------------ static bytes per path


@dataclass(frozen=True)
class Response:
    """What the static server answers at a path."""

    body: bytes = b""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Request:
    """One request the static server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""


#: A fallback for paths with no route: bytes (200), a Response, or None (404).
Fallback = Callable[[str], "bytes | Response | None"]


@dataclass(eq=False)
class StaticServer:
    """Serves ``routes`` (path -> bytes or :class:`Response`) over HTTP on 127.0.0.1.

    A path with no route goes to ``fallback``; with neither the answer is an
    empty 404. ``headers`` are sent with every answer unless the route's
    headers name the same field. GET, HEAD and POST are answered alike (POST
    bodies are recorded in ``requests``).
    """

    headers: Mapping[str, str] = field(default_factory=dict)
    fallback: Fallback | None = None
    #: speak HTTP/1.1 and keep connections open between requests (a route whose
    #: headers say ``Connection: close`` closes it); ``connections`` counts accepts
    keep_alive: bool = False
    connections: int = field(default=0, init=False)
    routes: dict[str, bytes | Response] = field(default_factory=dict, init=False)
    hits: dict[str, int] = field(default_factory=dict, init=False)
    requests: list[Request] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        owner = self
        count_lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if owner.keep_alive else "HTTP/1.0"

            def setup(self) -> None:
                with count_lock:
                    owner.connections += 1
                super().setup()

            def _answer(self, *, send_body: bool) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(min(length, MAX_REQUEST_BODY)) if length > 0 else b""
                owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                owner.requests.append(
                    Request(self.command, self.path, dict(self.headers.items()), data)
                )
                answer = owner.answer(self.path)
                self.send_response(answer.status)
                named = {name.lower() for name, _ in answer.headers}
                for name, value in owner.headers.items():
                    if name.lower() not in named:
                        self.send_header(name, value)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(answer.body)

            def do_GET(self) -> None:
                self._answer(send_body=True)

            def do_POST(self) -> None:
                self._answer(send_body=True)

            def do_HEAD(self) -> None:
                self._answer(send_body=False)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def answer(self, path: str) -> Response:
        """What a request for ``path`` gets now."""
        found: bytes | Response | None = self.routes.get(path)
        if found is None and self.fallback is not None:
            found = self.fallback(path)
        if found is None:
            return Response(status=404)
        return found if isinstance(found, Response) else Response(found)

    def url(self, path: str) -> str:
        return self.base + path

    def put(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Serve ``body`` at ``path`` from now on; returns its URL."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Response(data, status, tuple((headers or {}).items()))
        return self.url(path)

    def put_json(
        self,
        path: str,
        document: Any,
        *,
        status: int = 200,
        content_type: str = "application/json",
    ) -> str:
        """Serve ``document`` as JSON at ``path``; returns its URL."""
        return self.put(
            path, json.dumps(document), status=status, headers={"Content-Type": content_type}
        )

    def close(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


S = TypeVar("S", bound=StaticServer)


def static_server_fixture(
    make: Callable[[], S] = StaticServer,  # type: ignore[assignment]
    *,
    scope: Scope = "function",
) -> Callable[..., Iterator[S]]:
    """A pytest fixture yielding a fresh server from ``make`` (a subclass), closed afterwards."""

    def fixture() -> Iterator[S]:
        with make() as server:
            yield server

    return pytest.fixture(scope=scope)(fixture)
