"""The verifier service on a real socket of 127.0.0.1, and a wallet transport over urllib."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _live_server import bind_free_socket, serve_asgi
from oid4vp_world import World

from did_methods.keyfile import write_key_file
from ssi_wallet.oid4vp import HTTPReply
from ssi_wallet.server.oid4vp import OID4VPConfig, create_app

TOKEN = "t0ken-for-the-oid4vp-tests"
MAX_BODY = 1 << 20


@dataclass
class UrllibTransport:
    """The wallet's two HTTP calls over urllib, bounded; ``edit`` may alter what is read
    (a test's man in the middle); every call is recorded in ``calls``."""

    edit: Callable[[str, bytes], bytes] | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)

    def _send(self, request: urllib.request.Request) -> HTTPReply:
        self.calls.append((request.get_method(), request.full_url))
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, headers, body = answer.status, answer.headers, answer.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, exc.headers, exc.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise AssertionError("answer larger than the test bound")
        if self.edit is not None:
            body = self.edit(request.full_url, body)
        media = (headers.get("Content-Type") or "").split(";")[0].strip()
        return HTTPReply(status, media, body)

    def get(self, url: str, *, accept: str) -> HTTPReply:
        return self._send(urllib.request.Request(url, headers={"Accept": accept}))

    def post_form(self, url: str, form: Mapping[str, str], *, accept: str) -> HTTPReply:
        data = urllib.parse.urlencode(form).encode("utf-8")
        headers = {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"}
        return self._send(urllib.request.Request(url, data=data, headers=headers, method="POST"))


@dataclass
class Service:
    base: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = TOKEN,
        form: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        headers = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, got, raw = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as exc:
            status, got, raw = exc.code, dict(exc.headers), exc.read()
        kind = got.get("content-type", "")
        return status, got, json.loads(raw) if "json" in kind and raw else raw

    def create(self, **body: Any) -> dict[str, Any]:
        body.setdefault("policy", "right_to_work")
        status, _, made = self.call("POST", "/oid4vp/requests", body)
        assert status == 201, made
        assert isinstance(made, dict)
        return made

    def result(self, transaction_id: str, **query: str) -> dict[str, Any]:
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        status, _, body = self.call("GET", f"/oid4vp/results/{transaction_id}{suffix}", token=None)
        assert status == 200, body
        assert isinstance(body, dict)
        return body


@contextmanager
def verifier_service(world: World, tmp: Path, **oid4vp: Any) -> Iterator[Service]:
    """The OpenID4VP verifier of ``world`` (clients ``did`` and ``open``) on 127.0.0.1."""
    write_key_file(tmp / "verifier.jwk", world.verifier_key)
    sock = bind_free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    tables = {
        "server": {"public_url": base, "token_env": "", "port": sock.getsockname()[1]},
        "oid4vp": {
            "clients": {
                "did": {"prefix": "decentralized_identifier", "key_file": "verifier.jwk"},
                "open": {"prefix": "redirect_uri"},
            },
            **oid4vp,
        },
    }
    import os

    os.environ["SSI_WALLET_OID4VP_TEST_TOKEN"] = TOKEN
    tables["server"]["token_env"] = "SSI_WALLET_OID4VP_TEST_TOKEN"
    config = OID4VPConfig.from_tables(tables, tmp)
    app = create_app(config, trust=world.ledger, status_fetcher=world.ministry.board)
    with serve_asgi(app, sock=sock) as live:
        yield Service(live.base)
