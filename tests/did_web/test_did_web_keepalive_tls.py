"""HttpFetcher keeps HTTPS connections per host name: TLS (SNI, the certificate) is per name."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from didweb_support import TLSMaterial

from did_methods.http import FetchError, HttpFetcher


class _KeptTLS(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _KeptTLS

    def setup(self) -> None:
        self.server.connections += 1  # accepts run one at a time in the server's thread
        super().setup()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"doc")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def kept_tls(tls: TLSMaterial) -> Iterator[_KeptTLS]:
    server = _KeptTLS(("127.0.0.1", 0), _Handler)
    server.socket = tls.server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _resolve(host: str, port: int) -> Sequence[str]:
    return {"did.example": ["127.0.0.1"], "localhost": ["127.0.0.1"]}[host]


def test_https_connections_are_kept_per_host_name(kept_tls: _KeptTLS, tls: TLSMaterial) -> None:
    port = kept_tls.server_address[1]
    fetcher = HttpFetcher(
        allowed_networks=["127.0.0.1/32"], ssl_context=tls.client_context(), resolve=_resolve
    )

    def get(host: str) -> bytes:
        return fetcher.fetch(f"https://{host}:{port}/doc", max_bytes=10, timeout=5, accept="*/*")

    assert get("did.example") == b"doc"
    assert get("did.example") == b"doc"
    assert kept_tls.connections == 1
    # the same address under another name: its own TLS session, checked for that name
    assert get("localhost") == b"doc"
    assert get("did.example") == b"doc"
    assert kept_tls.connections == 2
    fetcher.close()
    assert get("did.example") == b"doc"
    assert kept_tls.connections == 3


def test_a_fetcher_that_does_not_trust_the_ca_never_gets_a_kept_connection(
    kept_tls: _KeptTLS, tls: TLSMaterial
) -> None:
    port = kept_tls.server_address[1]
    url = f"https://did.example:{port}/doc"
    trusting = HttpFetcher(
        allowed_networks=["127.0.0.1/32"], ssl_context=tls.client_context(), resolve=_resolve
    )
    assert trusting.fetch(url, max_bytes=10, timeout=5, accept="*/*") == b"doc"
    default = HttpFetcher(allowed_networks=["127.0.0.1/32"], resolve=_resolve)
    with pytest.raises(FetchError) as caught:
        default.fetch(url, max_bytes=10, timeout=5, accept="*/*")
    assert caught.value.code == "network"
    assert "certificate" in caught.value.message.lower()
