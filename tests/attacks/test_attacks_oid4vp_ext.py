"""Attacks on the OpenID4VP 1.0 extensions (x509_hash:, session binding of results,
persistent transactions, transaction data), over real HTTP on 127.0.0.1; each refusal
asserts its own code. The servers and worlds are those of tests/oid4vp (no copies)."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytest.importorskip("uvicorn")

sys.path[:0] = [str(Path(__file__).parents[1] / "oid4vp")]

from _live_server import StaticServer, static_server_fixture  # noqa: E402
from oid4vp_http import (  # noqa: E402
    PKI,
    VerifierPKI,
    verifier_service,
)
from oid4vp_world import World as VerifierWorld  # noqa: E402
from oid4vp_world import _make_world as _make_verifier_world  # noqa: E402
from test_attacks_oid4vc import _genuine_claims, _present_forged, _yes  # noqa: E402

from did_methods.resolver import Resolver  # noqa: E402
from ssi_wallet.oid4vp import OID4VPError, X509HashClient, present  # noqa: E402


@pytest.fixture
def vp_world() -> VerifierWorld:
    return _make_verifier_world()


static = static_server_fixture()


# -- x509_hash: ------------------------------------------------------------------------------


def test_x509_hash_request_signed_under_another_trusted_certificate(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer
) -> None:
    """Another verifier with a certificate the wallet trusts too signs a request in the name
    of ours (the genuine client id and claims): its leaf is not the hashed one."""
    vp_world.store()
    other = VerifierPKI.make("localhost")
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service, "hash")
    forged = X509HashClient(other.leaf_key, _ders(other)).request_object(claims)
    refusal = _present_forged(
        vp_world, static, made["client_id"], forged, trust_anchors=[PKI.root, other.root]
    )
    assert refusal.code == "x509_hash_mismatch"
    assert refusal.error == "invalid_client"


def test_x509_hash_request_without_a_signature(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer
) -> None:
    from ssi_wallet.oid4vp._protocol import unsigned_request_object

    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service, "hash")
    refusal = _present_forged(
        vp_world,
        static,
        made["client_id"],
        unsigned_request_object(claims),
        trust_anchors=[PKI.root],
    )
    assert refusal.code == "request_unsigned"


@pytest.mark.parametrize(
    "client_id",
    [
        "verifier_attestation:verifier.example",
        "openid_federation:https://verifier.example",
        "origin:https://verifier.example",
        "x509_hash_x:abc",
    ],
)
def test_unsupported_client_id_prefixes_are_refused_before_any_fetch(
    vp_world: VerifierWorld, static: StaticServer, client_id: str
) -> None:
    link = "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": static.url("/r")})
    with pytest.raises(OID4VPError) as caught:
        present(vp_world.wallet, link, consent=_yes, resolver=Resolver.offline())
    assert caught.value.code == "client_id_prefix_unsupported"
    assert static.requests == []


def _ders(pki: VerifierPKI) -> tuple[bytes, ...]:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    chain = x509.load_pem_x509_certificates(pki.chain_pem)
    return tuple(c.public_bytes(Encoding.DER) for c in chain)
