"""Helpers for the did:web tests: real HTTP(S) servers on 127.0.0.1 and their routes.

Each test gets fresh servers on ephemeral ports. A route is a function that
writes raw bytes to the client, so a test can send exactly the response it
needs: a redirect, a lying Content-Length, a body that trickles in.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Route = Callable[["_Handler"], None]

#: Names the test certificate is valid for (tests map did.example to 127.0.0.1).
TLS_NAMES = ("localhost", "did.example")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    hits: list[tuple[str, dict[str, str]]]
    stopping: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that give up mid-response are what these tests are about


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits.append((self.path, dict(self.headers.items())))
        route = self.server.routes.get(self.path)
        if route is None:
            self.raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        else:
            route(self)
        self.close_connection = True

    def raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


def body(data: bytes, *, status: str = "200 OK", content_length: bool = True) -> Route:
    """A route answering ``data``; without Content-Length the end is marked by closing."""

    def route(handler: _Handler) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/did+json\r\nConnection: close\r\n"
        if content_length:
            head += f"Content-Length: {len(data)}\r\n"
        handler.raw(head.encode() + b"\r\n" + data)

    return route


def json_body(document: Any) -> Route:
    return body(json.dumps(document).encode())


def chunked(data: bytes, chunk: int = 4096) -> Route:
    """A route answering ``data`` in chunked transfer coding (no Content-Length)."""

    def route(handler: _Handler) -> None:
        handler.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for i in range(0, len(data), chunk):
            piece = data[i : i + chunk]
            handler.raw(b"%x\r\n" % len(piece) + piece + b"\r\n")
        handler.raw(b"0\r\n\r\n")

    return route


def redirect(location: str, status: str = "302 Found") -> Route:
    def route(handler: _Handler) -> None:
        handler.raw(
            f"HTTP/1.1 {status}\r\nLocation: {location}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode()
        )

    return route


def trickle(head: bytes, drip: bytes, *, every: float, count: int) -> Route:
    """Send ``head`` at once, then ``drip`` every ``every`` seconds, ``count`` times."""

    def route(handler: _Handler) -> None:
        handler.raw(head)
        for _ in range(count):
            if handler.server.stopping.wait(every):
                return
            try:
                handler.raw(drip)
            except OSError:
                return  # the client hung up, as it should

    return route


@dataclass
class Site:
    """A running test server: add ``routes``, read ``hits``."""

    server: _Server
    scheme: str
    routes: dict[str, Route] = field(init=False)

    def __post_init__(self) -> None:
        self.routes = self.server.routes

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "localhost") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    @property
    def hits(self) -> list[tuple[str, dict[str, str]]]:
        return self.server.hits


def start_site(context: ssl.SSLContext | None) -> tuple[Site, threading.Thread]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes, server.hits, server.stopping = {}, [], threading.Event()
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return Site(server, "https" if context else "http"), thread


def stop_site(site: Site, thread: threading.Thread) -> None:
    site.server.stopping.set()
    site.server.shutdown()
    site.server.server_close()
    thread.join(5)


@dataclass(frozen=True)
class TLSMaterial:
    ca_file: Path
    server_context: ssl.SSLContext

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_tls(folder: Path) -> TLSMaterial:
    """A throw-away CA and a server certificate for TLS_NAMES, made with cryptography."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ssi-wallet test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_NAMES[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in TLS_NAMES]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain = folder / "server.pem"
    chain.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(chain)
    return TLSMaterial(ca_file, server_context)


@dataclass
class ConnectSpy:
    """Every address the code under test tried to connect to."""

    calls: list[tuple[str, int]] = field(default_factory=list)


def install_connect_spy(monkeypatch: pytest.MonkeyPatch) -> ConnectSpy:
    """Record socket.create_connection calls; let only loopback ones through.

    A connection attempt to any other address fails here, so a broken check
    could never send a packet to 10.0.0.1 or 169.254.169.254 from a test.
    """
    spy = ConnectSpy()
    real = socket.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        spy.calls.append((address[0], address[1]))
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise OSError("test guard: refusing a non-loopback connection")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return spy


def elapsed(start: float) -> float:
    return time.monotonic() - start
