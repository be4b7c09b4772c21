"""OpenID4VP 1.0 beyond the first build, over real HTTP on 127.0.0.1: the ``x509_hash:``
client identifier prefix (HAIP's) on the verifier's side (our wallet answers it in
test_oid4vp_http's every-prefix test)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from oid4vp_http import PKI, RecordingTransport, verifier_service, wallet_answers
from oid4vp_world import World

from ssi_wallet.oid4vp.client import wallet_metadata

pytest.importorskip("uvicorn")


def _leaf_hash() -> str:
    """The x509_hash of the service's leaf, computed here from the PEM chain."""
    leaf = x509.load_pem_x509_certificates(PKI.chain_pem)[0]
    digest = hashlib.sha256(leaf.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_x509_hash_client_id_is_the_leaf_certificates_hash(world: World, tmp_path: Path) -> None:
    world.store()
    with verifier_service(world, tmp_path) as service:
        made = service.create(client="hash", request_uri_method="post")
        assert made["client_id"] == f"x509_hash:{_leaf_hash()}"
        transport = RecordingTransport()
        outcome = wallet_answers(world.wallet, made["authorization_request"], transport=transport)
        assert [m for m, _ in transport.calls] == ["POST", "POST"]
        assert outcome.request.client_id == made["client_id"]
        assert service.result(made["transaction_id"])["ok"] is True


def test_wallet_metadata_names_x509_hash() -> None:
    prefixes = wallet_metadata("x509_hash")["client_id_prefixes_supported"]
    assert "x509_hash" in prefixes
    assert "verifier_attestation" not in prefixes
