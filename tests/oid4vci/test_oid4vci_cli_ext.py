"""`ssi-wallet wallet receive` with the OpenID4VCI extensions, over real HTTP on 127.0.0.1:
encryption (--encrypt), di_vp key proofs (--proof-type) and signed metadata
(--metadata-anchors)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _live_server import bind_free_socket, serve_asgi
from cryptography.hazmat.primitives.serialization import Encoding
from oid4vci_world import World, certified_key

from did_methods.keys import KeyType, PrivateKey
from ssi_wallet import Holder, Issuer
from ssi_wallet.cli import cli
from ssi_wallet.oid4vci import CredentialIssuer, MetadataSigner, RequestDecryption
from ssi_wallet.server.oid4vci import create_app

ROOT, LEAF_KEY, CHAIN = certified_key("127.0.0.1")
OTHER_ROOT, _, _ = certified_key("127.0.0.1")
PASSPHRASE = "cli ext passphrase"


@pytest.fixture(scope="module")
def sealed() -> Iterator[CredentialIssuer]:
    """A did:key issuer (the CLI wallet resolves it offline) that decrypts requests and signs
    its metadata with a certified key."""
    sock = bind_free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    service = CredentialIssuer(
        Issuer.create(name="Office", status_base=f"{base}/status"),
        base,
        request_decryption=RequestDecryption(PrivateKey.generate(KeyType.P256), "enc-1"),
        metadata_signer=MetadataSigner.with_chain(LEAF_KEY, CHAIN),
    )
    with serve_asgi(create_app(service), sock=sock):
        yield service


def _receive(service: CredentialIssuer, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    wallet = tmp_path / "w.wallet"
    if not wallet.exists():
        Holder.create(wallet, passphrase=PASSPHRASE).close()
    offer = service.offer(
        ["WorkPermit.ldp_vc"], claims={"WorkPermit": World.claims()}, tx_code=False
    )
    result = CliRunner().invoke(
        cli,
        [
            *("wallet", "receive", offer.uri, "--wallet", str(wallet), "--passphrase-env", "P"),
            *("--allow-loopback", "--yes", *args),
        ],
        env={"P": PASSPHRASE},
    )
    return result.exit_code, result.stdout, result.stderr


def test_cli_receives_encrypted_with_di_vp_over_signed_metadata(
    sealed: CredentialIssuer, tmp_path: Path
) -> None:
    anchors = tmp_path / "roots.pem"
    anchors.write_bytes(ROOT.public_bytes(Encoding.PEM))
    code, out, err = _receive(
        sealed, tmp_path, "--encrypt", "--proof-type", "di_vp", "--metadata-anchors", str(anchors)
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["metadata_signed"] is True
    assert [c["format"] for c in summary["stored"]] == ["ldp_vc"]


def test_cli_refuses_metadata_signed_under_another_root(
    sealed: CredentialIssuer, tmp_path: Path
) -> None:
    anchors = tmp_path / "other.pem"
    anchors.write_bytes(OTHER_ROOT.public_bytes(Encoding.PEM))
    code, out, err = _receive(sealed, tmp_path, "--metadata-anchors", str(anchors))
    assert code == 1 and out == ""
    assert "invalid_issuer_metadata" in err
