"""Helpers for the interop tests: install the Node harness (interop/openid4vc) with
``npm ci``, run its programs as real processes and read their JSON lines.

The harness is skipped only when npm cannot install it and SSI_WALLET_REQUIRE_INTEROP
is unset; .ci/run sets that variable, so CI fails instead of skipping.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "interop" / "openid4vc"


def interop_required() -> bool:
    """Whether a missing tool fails the tests instead of skipping them (CI sets it)."""
    return bool(os.environ.get("SSI_WALLET_REQUIRE_INTEROP"))


def skip_or_fail(message: str) -> NoReturn:
    if interop_required():
        pytest.fail(
            f"{message} (SSI_WALLET_REQUIRE_INTEROP is set, so this fails instead of skipping)"
        )
    pytest.skip(message)


def installed_from_lock() -> bool:
    """Whether node_modules holds exactly the packages package-lock.json pins.

    npm keeps the tree it installed in node_modules/.package-lock.json; it matches
    the lock file's package entries (less the root, and less the optional packages
    for other platforms, which npm does not install) after ``npm ci``.
    """
    installed = HARNESS / "node_modules" / ".package-lock.json"
    if not installed.exists():
        return False
    locked = json.loads((HARNESS / "package-lock.json").read_text())["packages"]
    have = json.loads(installed.read_text()).get("packages")
    if not isinstance(have, dict):
        return False
    # npm leaves out optional packages built for another platform (such as
    # @cbor-extract/cbor-extract-darwin-arm64 on linux-x64): those need not be there
    wanted = {
        name: entry
        for name, entry in locked.items()
        if name and not (entry.get("optional") and name not in have)
    }
    return have == wanted


def install_harness() -> Path:
    """interop/openid4vc with its node_modules installed from the lock file.

    ``npm ci`` runs unless node_modules already holds exactly what the lock pins.
    """
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        skip_or_fail("node and npm are needed for the OpenID4VC interop harness")
    if not installed_from_lock():
        started = time.monotonic()
        try:
            done = subprocess.run(
                [str(npm), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HARNESS,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except subprocess.TimeoutExpired:
            skip_or_fail("npm ci for interop/openid4vc took over 600 s")
        if done.returncode != 0:
            skip_or_fail(f"npm ci for interop/openid4vc failed: {done.stderr.strip()[-800:]}")
        if not installed_from_lock():
            skip_or_fail("npm ci for interop/openid4vc left a tree that differs from the lock")
        print(f"\n[interop] npm ci in {time.monotonic() - started:.1f} s")
    return HARNESS


@dataclass
class NodeResult:
    """What a harness program printed: its last JSON line, and its exit status."""

    returncode: int
    output: dict[str, Any]
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.output.get("ok") is True


def run_node(harness: Path, script: str, *args: str, timeout: float = 60) -> NodeResult:
    """Runs one harness program to its end; its last stdout line is its JSON result."""
    done = subprocess.run(
        ["node", str(harness / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise AssertionError(
            f"{script} printed nothing (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    return NodeResult(done.returncode, json.loads(lines[-1]), done.stderr)


class NodeService:
    """A long-running harness program (issuer.mjs, verifier.mjs) and its JSON events."""

    def __init__(self, harness: Path, script: str, *args: str) -> None:
        self._process = subprocess.Popen(
            ["node", str(harness / script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        try:
            self.ready = self.next_event("ready")
        except BaseException:
            self.close()
            raise

    def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.strip():
                self._events.put(json.loads(line))

    def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)

    def next_event(self, name: str, timeout: float = 30) -> dict[str, Any]:
        """The next event called `name` (others before it are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {name!r} event in {timeout} s; stderr: {''.join(self._stderr)[-2000:]}"
                )
            try:
                event = self._events.get(timeout=left)
            except queue.Empty:
                continue
            if event.get("ok") is False:
                raise AssertionError(f"harness service failed: {event}")
            if event.get("event") == name:
                return event

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)


# ------------------------------------------------------------------ our services


@dataclass
class OurServices:
    """Our OpenID4VCI issuer and OpenID4VP verifier on 127.0.0.1, over one ledger.

    The ministry is accredited for every vocabulary type; ``did_keys`` is the file
    that gives the harness the ministry's did:ledger key (a method only our ledger
    resolves), as a verifier's trust list would hold it.
    """

    ledger: Any
    ministry: Any
    issuer: Any  # ssi_wallet.oid4vci.CredentialIssuer
    issuer_base: str
    verifier_base: str
    did_keys: Path
    x509_cert: Path | None = None  # the x509_san_dns: verifier's certificate, when asked for

    def offer(self, configuration_ids: list[str], **kw: Any) -> Any:
        from credentials import schemas

        claims = schemas.example_subject("WorkPermit")
        claims.pop("id")
        return self.issuer.offer(configuration_ids, claims={"WorkPermit": claims}, **kw)

    def call(self, method: str, path: str, body: Any = None, *, token: bool = True) -> Any:
        """One call to the verifier; the JSON answer, or AssertionError on a non-2xx."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {VERIFIER_TOKEN}"
        url = path if path.startswith("http") else self.verifier_base + path
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=20) as answer:
            return json.loads(answer.read())

    def create_request(self, **body: Any) -> dict[str, Any]:
        body.setdefault("policy", "right_to_work")
        made = self.call("POST", "/oid4vp/requests", body)
        assert isinstance(made, dict)
        return made

    def result(self, made: Mapping[str, Any], **query: str) -> dict[str, Any]:
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        # the back office reads results with its token (GET /oid4vp/results needs a secret)
        got = self.call("GET", made["result_uri"] + suffix, token=True)
        assert isinstance(got, dict)
        return got


def verify_with_our_library(services: OurServices, credential: Any, fmt: str) -> Any:
    """A credential our issuer gave the Node wallet, verified by OUR library (a WorkPermit
    of our ministry, its status list fetched from our issuer on 127.0.0.1)."""
    from credentials import verify_credential
    from did_methods.http import HttpFetcher

    fetcher = HttpFetcher(allow_http=True, allow_private=True)
    result = verify_credential(
        credential,
        formats=fmt,
        credential_type="WorkPermit",
        resolver=services.ledger.resolver(),
        status=fetcher,
    )
    assert result.ok, result.explain()
    assert result.issuer == services.ministry.did
    return result


def node_wallet_receives(
    harness: Path, services: OurServices, folder: Path, configuration_ids: list[str]
) -> Path:
    """Has the Node wallet receive ``configuration_ids`` from our issuer; returns the file
    (wallet-receive.mjs --out) that wallet-present.mjs reads its credentials from."""
    offer = services.offer(configuration_ids, tx_code=False)
    held = folder / "held.json"
    got = run_node(
        harness, "wallet-receive.mjs", offer.uri, "--did-keys", str(services.did_keys),
        "--out", str(held),
    )  # fmt: skip
    assert got.ok, got.output
    return held


ISSUER_TOKEN = "back-office-token-for-the-interop-tests"
VERIFIER_TOKEN = "verifier-token-for-the-interop-tests"


@contextmanager
def our_services(
    folder: Path,
    *,
    x509_dns: str | None = None,
    issuer_key_type: Any = None,
    ledger_file: bool = False,
) -> Iterator[OurServices]:
    """Starts our issuer and verifier (uvicorn threads on 127.0.0.1) for the ``with`` block.

    With ``x509_dns`` (a name that resolves to 127.0.0.1, such as ``localhost``) the
    verifier's public URL uses that name and it has an ``x509_san_dns:`` client too
    (``"client": "x509"``), with a self-signed certificate for the name, and an
    ``x509_hash:`` client with the same certificate (``"client": "x509_hash"``).
    ``issuer_key_type`` (a ``KeyType``) gives the ministry another key than Ed25519,
    such as P-256 for verifiers that take ES256 only; with ``ledger_file`` the ledger
    is ``folder/ledger.db``, which our wallet's commands can read (``--db``).
    """
    from _live_server import bind_free_socket, serve_asgi

    from credentials import schemas
    from did_methods.keyfile import write_key_file
    from did_methods.keys import PrivateKey
    from ledger.facade import Ledger
    from ssi_wallet import Issuer
    from ssi_wallet.oid4vci import CredentialIssuer
    from ssi_wallet.server.oid4vci import create_app as issuer_app
    from ssi_wallet.server.oid4vp import OID4VPConfig
    from ssi_wallet.server.oid4vp import create_app as verifier_app

    root = PrivateKey.generate()
    ledger = Ledger.open(str(folder / "ledger.db") if ledger_file else ":memory:", key=root)
    issuer_sock, verifier_sock = bind_free_socket(), bind_free_socket()
    issuer_base = f"http://127.0.0.1:{issuer_sock.getsockname()[1]}"
    verifier_host = x509_dns or "127.0.0.1"
    verifier_base = f"http://{verifier_host}:{verifier_sock.getsockname()[1]}"
    kind = {} if issuer_key_type is None else {"key_type": issuer_key_type}
    ministry = Issuer.create(
        ledger, name="Migrationsamt", status_base=f"{issuer_base}/status", **kind
    )
    ledger.accredit(ministry.did, types=list(schemas.CREDENTIAL_TYPES), by=root, jurisdiction="DE")
    service = CredentialIssuer(ministry, issuer_base, batch_size=4)
    did_keys = folder / "did-keys.json"
    did_keys.write_text(json.dumps({ministry.did: ministry.public_key.to_jwk()}))

    write_key_file(folder / "verifier.jwk", PrivateKey.generate())
    os.environ["SSI_WALLET_INTEROP_VERIFIER_TOKEN"] = VERIFIER_TOKEN
    tables = {
        "server": {
            "public_url": verifier_base,
            "token_env": "SSI_WALLET_INTEROP_VERIFIER_TOKEN",
            "port": verifier_sock.getsockname()[1],
        },
        "oid4vp": {
            "clients": {
                "did": {"prefix": "decentralized_identifier", "key_file": "verifier.jwk"},
                "open": {"prefix": "redirect_uri"},
            },
        },
    }
    x509_cert = None
    if x509_dns is not None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        x509_cert, x509_key = self_signed_certificate(folder, x509_dns)
        loaded = serialization.load_pem_private_key(x509_key.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        numbers = loaded.private_numbers()

        def b64(value: int) -> str:
            return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()

        jwk = {"kty": "EC", "crv": "P-256", "d": b64(numbers.private_value)}
        jwk |= {"x": b64(numbers.public_numbers.x), "y": b64(numbers.public_numbers.y)}
        write_key_file(folder / "leaf.jwk", PrivateKey.from_jwk(jwk))
        tables["oid4vp"]["clients"]["x509"] = {
            "prefix": "x509_san_dns",
            "dns_name": x509_dns,
            "key_file": "leaf.jwk",
            "chain_file": x509_cert.name,
        }
        # the same certificate named by its hash (HAIP's x509_hash: prefix)
        tables["oid4vp"]["clients"]["x509_hash"] = {
            "prefix": "x509_hash",
            "key_file": "leaf.jwk",
            "chain_file": x509_cert.name,
        }
    config = OID4VPConfig.from_tables(tables, folder)
    issuer = issuer_app(service, token=ISSUER_TOKEN, max_body_bytes=64 * 1024)
    verifier = verifier_app(config, trust=ledger, status_fetcher=ministry.board)
    with serve_asgi(issuer, sock=issuer_sock), serve_asgi(verifier, sock=verifier_sock):
        yield OurServices(
            ledger, ministry, service, issuer_base, verifier_base, did_keys, x509_cert
        )


# ------------------------------------------------------------------ the headless browser

CHROMIUM = Path("/usr/bin/chromium")


def install_chromium() -> Path:
    """Debian's chromium at /usr/bin/chromium, installed with apt-get when missing.

    Playwright cannot download its own browser builds here, so the tests drive the
    distribution's. The install runs only as root with apt-get present; otherwise
    the tests skip (or fail, under SSI_WALLET_REQUIRE_INTEROP).
    """
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        skip_or_fail(f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get)")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=900, check=False, env=env
            )
        except subprocess.TimeoutExpired:
            skip_or_fail(f"{' '.join(command)} took over 900 s")
        if done.returncode != 0:
            skip_or_fail(f"{' '.join(command)} failed: {done.stderr.strip()[-800:]}")
    if not CHROMIUM.exists():
        skip_or_fail(f"apt-get installed chromium but {CHROMIUM} is still missing")
    print(f"\n[interop] apt-get install chromium in {time.monotonic() - started:.1f} s")
    return CHROMIUM


# ------------------------------------------------------------------ X.509 for x509_san_dns:


def self_signed_certificate(folder: Path, dns: str = "localhost") -> tuple[Path, Path]:
    """A self-signed P-256 certificate for DNS name ``dns``, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = folder / "verifier.pem", folder / "verifier-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pkcs8 = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, none))
    return cert_file, key_file
