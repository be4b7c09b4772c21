"""The shared test servers (tests/_live_server.py) answer what they are told, on real sockets."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest
from _live_server import (
    LiveServer,
    Response,
    StaticServer,
    asgi_server_fixture,
    serve_asgi,
    static_server_fixture,
)

server = static_server_fixture()


def _get(url: str, data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_routes_statuses_headers_and_hits(server: StaticServer) -> None:
    url = server.put_json("/.well-known/did.json", {"id": "did:web:x"}, content_type="a/b")
    assert _get(url)[0] == 200
    status, headers, body = _get(url)
    assert (status, headers["Content-Type"], json.loads(body)) == (200, "a/b", {"id": "did:web:x"})
    server.put("/gone", b"bye", status=410, headers={"X-Why": "withdrawn"})
    status, headers, body = _get(server.url("/gone"))
    assert (status, headers["X-Why"], body) == (410, "withdrawn", b"bye")
    assert _get(server.url("/nothing"))[0] == 404
    assert server.hits == {"/.well-known/did.json": 2, "/gone": 1, "/nothing": 1}


def test_fallback_default_headers_and_recorded_posts() -> None:
    served = {"/a": b"from the fallback"}
    with StaticServer(headers={"Content-Type": "text/plain"}, fallback=served.get) as srv:
        srv.routes["/b"] = Response(b"{}", 201, (("Content-Type", "application/json"),))
        status, headers, body = _get(srv.url("/a"), data=b"x=1")
        assert (status, headers["Content-Type"], body) == (200, "text/plain", b"from the fallback")
        status, headers, _ = _get(srv.url("/b"))
        assert (status, headers["Content-Type"]) == (201, "application/json")
        assert [(r.method, r.path, r.body) for r in srv.requests] == [
            ("POST", "/a", b"x=1"),
            ("GET", "/b", b""),
        ]
        port = srv.port
    with socket.socket() as sock, pytest.raises(OSError):  # closed: nobody listens any more
        sock.settimeout(2)
        sock.connect(("127.0.0.1", port))


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    body = json.dumps({"path": scope["path"], "method": scope["method"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_serve_asgi_runs_the_app_and_stops() -> None:
    with serve_asgi(_app) as live:
        status, _, body = _get(live.url("/hello"))
        assert (status, json.loads(body)) == (200, {"path": "/hello", "method": "GET"})
        assert live.base == f"http://127.0.0.1:{live.port}"
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(2)
        sock.connect(("127.0.0.1", live.port))


def _build(port: int) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = json.dumps({"built_for_port": port}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


live = asgi_server_fixture(_build)


def test_asgi_fixture_builds_the_app_for_its_port(live: LiveServer) -> None:
    status, _, body = _get(live.url("/"))
    assert (status, json.loads(body)) == (200, {"built_for_port": live.port})
