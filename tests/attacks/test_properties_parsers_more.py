"""The parsers ``test_properties_parsers.py`` does not reach (issue 10 audit): JWE, x5c,
DPoP, VC-JOSE and VCDM 1.1 JWT readers, JWT VC Issuer Metadata and JWK Sets, token
status lists, SD-JWT and barcode verification, ledger proofs, cosigned checkpoints and
vault backups, the OpenID4VCI/OpenID4VP readers, status references and wallet files.

Whatever they are fed (random bytes, random text, random JSON shaped like what they
expect), they return or raise an :class:`~did_methods.errors.SSIWalletError`: never a
``KeyError``, ``TypeError``, ``ValueError`` of a dependency, ``RecursionError`` or
``UnicodeError``. Examples are few per parser to keep the run short.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties_parsers import _bytes, _json, _only_our_errors, _shaped, _text

from credentials.barcode import verify_barcode
from credentials.jose import verify_jwt, verify_vc_jwt, verify_vp_jwt
from credentials.jwe import check_header, decrypt_compact
from credentials.jwt_vc import decode_jwt_vc, decode_jwt_vp, verify_jwt_vc
from credentials.keysets import JWKSet, parse_jwt_vc_issuer_metadata
from credentials.oauth import MemoryJtiStore, verify_code_challenge, verify_dpop_proof
from credentials.sd_jwt import verify_sd_jwt
from credentials.token_status_list import verify_status_list_token
from credentials.verify import verify_credential, verify_presentation
from credentials.x5c import load_trust_anchors, parse_x5c, verify_x5c
from did_methods import PrivateKey, Resolver
from did_methods.http import StaticFetcher
from did_methods.keys import KeyType
from ledger.checkpoint import NoteVerifier, verify_note
from ledger.proofs import ConsistencyProof, InclusionProof
from ledger.vault import MasterKey
from ledger.vault.backup import read_backup
from ledger.vault.proof import decode_payload
from ledger.witness import verify_cosigned_checkpoint
from ssi_wallet.holder import Holder
from ssi_wallet.issuer import StatusRef
from ssi_wallet.oid4vci.encryption import decrypt_message, read_response_encryption
from ssi_wallet.oid4vci.metadata import read_offer
from ssi_wallet.oid4vp.wallet import AuthorizationRequestURI, verify_request_object

NOW = datetime(2026, 6, 1, tzinfo=UTC)
_OFFLINE = Resolver.default(fetcher=StaticFetcher({}))
_X25519 = PrivateKey.generate(KeyType.X25519)
_P256 = PrivateKey.generate(KeyType.P256)
_ED = PrivateKey.generate()
_LOG = NoteVerifier("example.org/log", _ED.public_key)
_MASTER = MasterKey.generate()
_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))

# A compact-JWS-shaped text with random parts: what a token reader meets first.
_jws_like = st.builds(
    lambda h, p, s: ".".join((h, p, s)),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=20),
)


def _b64(value: Any) -> str:
    import base64

    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# A JWS whose header and payload are random JSON (signature garbage): every reader must
# refuse it with its own error, whatever the JSON holds.
_jws_of_json = st.builds(
    lambda h, p: f"{_b64(h)}.{_b64(p)}.c2ln",
    _shaped | st.fixed_dictionaries({"alg": _json, "typ": _json, "kid": _json}),
    _shaped,
)

_TEXT: dict[str, Callable[[str], Any]] = {
    "jwe.decrypt_compact": lambda t: decrypt_compact(t, _X25519),
    "jose.verify_jwt": lambda t: verify_jwt(t, _OFFLINE, now=NOW),
    "jose.verify_vc_jwt": lambda t: verify_vc_jwt(t, _OFFLINE, now=NOW),
    "jose.verify_vp_jwt": lambda t: verify_vp_jwt(t, _OFFLINE, now=NOW, nonce="n", audience="a"),
    "jwt_vc.verify_jwt_vc": lambda t: verify_jwt_vc(t, _OFFLINE, now=NOW),
    "oauth.verify_dpop_proof": lambda t: verify_dpop_proof(
        t, htm="POST", htu="https://issuer.example/token", jti_store=MemoryJtiStore(), now=NOW
    ),
    "oauth.verify_code_challenge": lambda t: verify_code_challenge(t, t),
    "token_status_list.verify": lambda t: verify_status_list_token(
        t, uri="https://status.example/1", issuer="did:key:z6Mk", resolver=_OFFLINE, now=NOW
    ),
    "sd_jwt.verify_sd_jwt": lambda t: verify_sd_jwt(t, _OFFLINE, now=NOW),
    "sd_jwt.verify_sd_jwt_kb": lambda t: verify_sd_jwt(
        t + "~", _OFFLINE, now=NOW, nonce="n", audience="a"
    ),
    "barcode.verify_barcode": lambda t: verify_barcode(t, _OFFLINE, now=NOW),
    "verify.verify_credential": lambda t: verify_credential(
        t, formats=["dc+sd-jwt", "ldp_vc", "jwt_vc_json", "barcode"], credential_type=None,
        resolver=_OFFLINE, now=NOW,
    ),
    "verify.verify_presentation": lambda t: verify_presentation(
        t, format="jwt_vc_json", nonce="n", audience="a", credential_type=None,
        resolver=_OFFLINE, now=NOW,
    ),
    "checkpoint.verify_note": lambda t: verify_note(t, [_LOG]),
    "witness.verify_cosigned_checkpoint": lambda t: verify_cosigned_checkpoint(
        t, [_LOG], [], quorum=0
    ),
    "oid4vp.AuthorizationRequestURI": AuthorizationRequestURI.parse,
    "oid4vp.AuthorizationRequestURI_openid4vp": lambda t: AuthorizationRequestURI.parse(
        "openid4vp://?" + t
    ),
    "oid4vci.decrypt_message": lambda t: decrypt_message(t, _P256, kid=None),
    "issuer.StatusRef": StatusRef.parse,
}  # fmt: skip

_BYTES: dict[str, Callable[[bytes], Any]] = {
    "proofs.InclusionProof.from_bytes": InclusionProof.from_bytes,
    "proofs.ConsistencyProof.from_bytes": ConsistencyProof.from_bytes,
    "x5c.load_trust_anchors": load_trust_anchors,
    "vault.decode_payload": lambda b: decode_payload("vault.commit", b),
    "checkpoint.verify_note": lambda b: verify_note(b, [_LOG]),
}

_VALUES: dict[str, Callable[[Any], Any]] = {
    "jwe.check_header": lambda v: check_header(v, KeyType.P256),
    "x5c.parse_x5c": parse_x5c,
    "x5c.verify_x5c": lambda v: verify_x5c(v, [], now=NOW),
    "jwt_vc.decode_jwt_vc": decode_jwt_vc,
    "jwt_vc.decode_jwt_vp": decode_jwt_vp,
    "keysets.JWKSet": JWKSet.from_json,
    "keysets.parse_jwt_vc_issuer_metadata": lambda v: parse_jwt_vc_issuer_metadata(
        v, "https://issuer.example"
    ),
    "proofs.InclusionProof.from_json": InclusionProof.from_json,
    "proofs.ConsistencyProof.from_json": ConsistencyProof.from_json,
    "oid4vci.read_response_encryption": read_response_encryption,
    "oid4vci.read_offer": read_offer,
    "oid4vci.decrypt_message": lambda v: decrypt_message(v, _P256, kid=None),
    "oid4vp.AuthorizationRequestURI": AuthorizationRequestURI.parse,
    "verify.verify_credential": lambda v: verify_credential(
        v, formats=["ldp_vc"], credential_type="WorkPermit", resolver=_OFFLINE, now=NOW
    ),
    "verify.verify_presentation": lambda v: verify_presentation(
        v, format="ldp_vc", nonce="n", audience="a", credential_type=None,
        resolver=_OFFLINE, now=NOW,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_TEXT))
@_SETTINGS
@given(text=_text | _jws_like | _jws_of_json)
def test_more_text_parsers_raise_only_our_errors(name: str, text: str) -> None:
    _only_our_errors(lambda: _TEXT[name](text))


@pytest.mark.parametrize("name", sorted(_BYTES))
@_SETTINGS
@given(data=_bytes | _shaped.map(lambda v: json.dumps(v).encode()))
def test_more_bytes_parsers_raise_only_our_errors(name: str, data: bytes) -> None:
    _only_our_errors(lambda: _BYTES[name](data))


@pytest.mark.parametrize("name", sorted(_VALUES))
@_SETTINGS
@given(value=_shaped | _json)
def test_more_json_value_parsers_raise_only_our_errors(name: str, value: Any) -> None:
    _only_our_errors(lambda: _VALUES[name](value))


@_SETTINGS
@given(
    uri=st.builds(lambda q: "openid4vp://?" + q, _text),
    text=_text | _jws_like | _jws_of_json,
)
def test_request_objects_raise_only_our_errors(uri: str, text: str) -> None:
    def call() -> None:
        parsed = AuthorizationRequestURI.parse(
            "openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&request_uri=https%3A%2F%2Fv.example%2Fr"
        )
        verify_request_object(text, parsed, resolver=_OFFLINE)

    _only_our_errors(call)
    _only_our_errors(lambda: AuthorizationRequestURI.parse(uri))


# -- files: vault backups and wallet files of any content -------------------------------


@_SETTINGS
@given(data=_bytes | _shaped.map(lambda v: json.dumps(v).encode()))
def test_vault_backup_files_raise_only_our_errors(data: bytes, tmp_path_factory: Any) -> None:
    path = Path(tmp_path_factory.mktemp("backup")) / "vault.backup"
    path.write_bytes(data)
    _only_our_errors(lambda: read_backup(path, _MASTER))


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=_bytes | _shaped.map(lambda v: json.dumps(v).encode()))
def test_wallet_files_and_wallet_backups_raise_only_our_errors(
    data: bytes, tmp_path_factory: Any
) -> None:
    folder = Path(tmp_path_factory.mktemp("wallet"))
    path = folder / "any.wallet"
    path.write_bytes(data)
    _only_our_errors(lambda: Holder.open(path, passphrase="a long passphrase", read_only=True))
    (folder / "backup.bin").write_bytes(data)

    def restore() -> None:
        holder = Holder.create(folder / "mine.wallet", passphrase="a long passphrase")
        try:
            holder.restore(folder / "backup.bin", passphrase="a long passphrase")
        finally:
            holder.close()

    _only_our_errors(restore)
    for leftover in folder.glob("mine.wallet*"):
        leftover.unlink()


# -- the holes these properties found, each with its code -------------------------------


@pytest.mark.parametrize("value", [None, [], "header", 7])
def test_readers_given_a_non_object_answer_with_their_code(value: Any) -> None:
    """Found by the properties above: these raised TypeError / AttributeError."""
    from credentials.jwe import JWEError
    from did_methods.errors import VerificationError
    from ssi_wallet.oid4vci.errors import OID4VCIError

    with pytest.raises(JWEError) as jwe:
        check_header(value, KeyType.P256)
    assert jwe.value.code == "jwe_header_invalid"
    for decode, code in ((decode_jwt_vc, "vc_missing"), (decode_jwt_vp, "vp_missing")):
        with pytest.raises(VerificationError) as jwt:
            decode(value)
        assert jwt.value.code == code
    with pytest.raises(OID4VCIError) as offer:
        read_offer(value)
    assert offer.value.code == "invalid_credential_offer"
