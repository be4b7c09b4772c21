"""ssi_wallet.server.background.BackgroundServer: an ASGI app on 127.0.0.1 in a thread.

The port is known before the app is built, the app answers over a real socket
once start() returns, stop() frees the port, and a second start is refused.
"""

from __future__ import annotations

import http.client
import socket
import statistics
import time

import pytest

pytest.importorskip("uvicorn")

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from did_methods.http import FetchError, HttpFetcher
from ssi_wallet.server.background import BackgroundServer


def app_knowing(base: str) -> Starlette:
    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse({"base": base, "path": request.url.path})

    return Starlette(routes=[Route("/whoami", whoami)])


def test_serves_on_the_port_it_bound_first_then_frees_it() -> None:
    http = HttpFetcher(allow_loopback=True)
    with BackgroundServer() as server:
        assert server.base == f"http://127.0.0.1:{server.port}" and server.port > 0
        server.start(app_knowing(server.base))  # the app was built knowing its own URL
        answer = http.get(f"{server.base}/whoami")
        assert answer.status == 200
        assert answer.body == b'{"base":"' + server.base.encode() + b'","path":"/whoami"}'
        with pytest.raises(RuntimeError, match="started already"):
            server.start(app_knowing(server.base))
        port = server.port
    with pytest.raises(FetchError):
        http.get(f"http://127.0.0.1:{port}/whoami", timeout=2.0)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # the port is free again
    finally:
        probe.close()


def test_stop_without_start_closes_the_socket() -> None:
    server = BackgroundServer()
    port = server.port
    server.stop()
    server.stop()  # idempotent
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    finally:
        probe.close()


def test_kept_alive_connection_answers_without_a_nagle_stall() -> None:
    # asyncio turns Nagle's algorithm off only on sockets it sees as TCP
    # (proto IPPROTO_TCP); a listening socket made with proto 0 handed that 0 to
    # every accepted connection, and a second request on a kept-alive connection
    # waited ~40 ms for the client's delayed ACK before the response body left.
    with BackgroundServer() as server:
        server.start(app_knowing(server.base))
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            took = []
            for _ in range(9):
                started = time.perf_counter()
                conn.request("GET", "/whoami")
                response = conn.getresponse()
                assert response.status == 200 and b"/whoami" in response.read()
                took.append(time.perf_counter() - started)
        finally:
            conn.close()
    assert statistics.median(took) < 0.02, took
