"""OUR wallet (``ssi-wallet wallet present``, a real process) against a SECOND independent
verifier: ``polaris-oid4vp`` (PyPI, a test dependency), an OpenID4VP 1.0 + HAIP verifier
in Python that shares no code with ours nor with the OpenWallet Foundation packages.

Polaris runs in this process over real HTTPS on 127.0.0.1 (its own listener, its
``keygen`` certificates): an ``x509_hash:`` client whose leaf chains to a test CA, the
request object fetched with ``request_uri_method=post``, a DCQL query for two claims of
one SD-JWT VC type, and the answer by ``direct_post.jwt`` (ECDH-ES, P-256) only. Our
wallet holds a work permit that our issuer (P-256 key, ES256, as HAIP asks) issued to it
over OpenID4VCI; Polaris is told our issuer's key, as a trust list would hold it.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from interop_support import OurServices, our_services, skip_or_fail
from test_our_wallet_vs_node_services import Wallet

from credentials import schemas
from did_methods.keys import KeyType

try:
    from polaris_oid4vp.serve import serve as polaris_serve
    from polaris_oid4vp.verifier import Verifier as PolarisVerifier
except ImportError:  # pragma: no cover - the dev extra installs it
    polaris_serve = PolarisVerifier = None


@pytest.fixture(scope="module")
def holding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Our issuer (P-256) and a wallet of ours holding its SD-JWT VC work permit; the
    Polaris PKI (``polaris-oid4vp keygen``) for a listener on a free port."""
    if PolarisVerifier is None:
        skip_or_fail("polaris-oid4vp is missing (pip install -e '.[dev]')")
    from _live_server import bind_free_socket

    folder = tmp_path_factory.mktemp("interop-polaris")
    with our_services(folder, issuer_key_type=KeyType.P256, ledger_file=True) as services:
        wallet = Wallet(folder)
        offer = services.offer(["WorkPermit.sd_jwt"], tx_code=False)
        got = wallet.run("receive", offer.uri, "--yes", "--allow-loopback",
                         "--db", str(folder / "ledger.db"))  # fmt: skip
        assert got.returncode == 0, got.stderr
        sock = bind_free_socket()
        port = sock.getsockname()[1]
        sock.close()
        pki = folder / "pki"
        made = subprocess.run(
            [sys.executable, "-m", "polaris_oid4vp.cli", "keygen", "--out", str(pki),
             "--host", "localhost", "--port", str(port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        yield {"services": services, "wallet": wallet, "pki": pki, "port": port}


class _Polaris:
    """One Polaris verifier listening on https://localhost:PORT, and its verdicts."""

    def __init__(self, holding: dict[str, Any], issuer_jwks: list[dict[str, Any]]) -> None:
        pki, port = holding["pki"], holding["port"]
        self.verifier = PolarisVerifier(
            client_cert_pem=(pki / "client.pem").read_bytes(),
            client_key_pem=(pki / "client-key.pem").read_bytes(),
            request_uri=f"https://localhost:{port}/request.jwt",
            response_uri=f"https://localhost:{port}/response",
            issuer_jwks=issuer_jwks,
            vct_values=(schemas.vct("WorkPermit"),),
            claims=("sector", "workRegion"),
        )
        self.verdicts: list[tuple[int, Any, Any]] = []
        self.httpd = polaris_serve(
            self.verifier, host="127.0.0.1", port=port, certfile=str(pki / "tls.pem"),
            keyfile=str(pki / "tls-key.pem"),
            on_verdict=lambda status, body, verdict: self.verdicts.append((status, body, verdict)),
        )  # fmt: skip

    def link(self) -> str:
        session, _ = self.verifier.new_request()
        params = self.verifier.authorization_request_params(session)
        return "openid4vp://?" + urllib.parse.urlencode(params)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def polaris(holding: dict[str, Any]) -> Iterator[Any]:
    started: list[_Polaris] = []

    def start(issuer_jwks: list[dict[str, Any]]) -> _Polaris:
        started.append(_Polaris(holding, issuer_jwks))
        return started[-1]

    yield start
    for verifier in started:
        verifier.close()


def _present(holding: dict[str, Any], link: str, *extra: str) -> subprocess.CompletedProcess[str]:
    wallet: Wallet = holding["wallet"]
    # our wallet fetches Polaris's request over HTTPS: trust its self-signed listener
    wallet.env = {**wallet.env, "SSL_CERT_FILE": str(holding["pki"] / "tls.pem")}
    return wallet.run("present", link, "--yes", "--allow-loopback", *extra)


def test_polaris_accepts_our_wallets_presentation(holding: dict[str, Any], polaris: Any) -> None:
    services: OurServices = holding["services"]
    verifier = polaris([services.ministry.public_key.to_jwk()])
    link = verifier.link()
    assert "client_id=x509_hash%3A" in link and "request_uri_method=post" in link
    done = _present(holding, link, "--trust-anchors", str(holding["pki"] / "anchor.pem"))
    assert done.returncode == 0, done.stderr
    assert '"response_mode": "direct_post.jwt"' in done.stdout

    ((status, body, verdict),) = verifier.verdicts
    assert verdict.authentic is True, (verdict.code, verdict.reason)
    assert status == 200 and set(body) == {"redirect_uri"}
    # Polaris checked our issuer's ES256 signature, the key binding to our wallet's key
    # and the two claims it asked for, disclosed with the values our issuer signed
    assert verdict.claims["iss"] == services.ministry.did
    assert verdict.claims["vct"] == schemas.vct("WorkPermit")
    example = schemas.example_subject("WorkPermit")
    assert verdict.claims["sector"] == example["sector"]
    assert verdict.claims["workRegion"] == example["workRegion"]
    # no personal claim that was not asked for: our issuer makes them selectively
    # disclosable, and our wallet disclosed none of them (OpenID4VP 1.0 section 6.4)
    personal = {"givenName", "familyName", "birthDate", "birthPlace", "nationality", "sex"}
    assert personal <= set(example)
    assert not personal & set(verdict.claims), sorted(verdict.claims)


def test_our_wallet_refuses_polaris_without_its_trust_anchor(
    holding: dict[str, Any], polaris: Any
) -> None:
    services: OurServices = holding["services"]
    verifier = polaris([services.ministry.public_key.to_jwk()])
    done = _present(holding, verifier.link())
    assert done.returncode == 1
    assert "x509" in done.stderr.lower() or "anchor" in done.stderr.lower(), done.stderr
    assert verifier.verdicts == []  # nothing was posted


def test_polaris_refuses_our_presentation_of_an_issuer_it_does_not_trust(
    holding: dict[str, Any], polaris: Any
) -> None:
    from did_methods.keys import PrivateKey

    stranger = PrivateKey.generate(KeyType.P256).public_key.to_jwk()
    verifier = polaris([stranger])
    done = _present(holding, verifier.link(), "--trust-anchors", str(holding["pki"] / "anchor.pem"))
    ((status, _, verdict),) = verifier.verdicts
    # no key Polaris trusts verifies our issuer's signature
    assert verdict.authentic is False and verdict.code == "issuer_signature", verdict.code
    assert status == 400
    assert done.returncode == 1, done.stdout
