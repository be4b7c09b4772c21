"""Arbitrary bytes and arbitrary JSON into every parser: only the library's own errors come out.

Each parser the library exposes gets (a) random bytes, as bytes or as the
text they decode to, and (b) random JSON values and their text. Whatever it
is fed, it returns or raises an :class:`~did_methods.errors.SSIWalletError`:
never a ``KeyError``, ``TypeError``, ``RecursionError``, ``UnicodeError``,
``OverflowError`` or a dependency's exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import base45, verify
from credentials._jws import CompactJWS
from credentials.barcode import decode_barcode
from credentials.cose import CoseSign1, decode_cbor
from credentials.data_integrity import DataIntegrityProof, verify_proof
from credentials.jcs import loads_strict
from credentials.model import Credential, parse_datetime
from credentials.model import Presentation as VCPresentation
from credentials.sd_jwt import Disclosure, SdJwt
from credentials.status_list import StatusList, decode_bitstring
from credentials.token_status_list import TokenStatusList
from did_methods import DID, DIDURL, DIDDocument, PublicKey, Resolver
from did_methods._wire.json import loads
from did_methods.encoding import b64url_decode, base58btc_decode, multibase_decode
from did_methods.errors import SSIWalletError
from did_methods.http import StaticFetcher
from did_methods.keyfile import read_key_file
from did_methods.keys import PrivateKey
from ledger.checkpoint import Checkpoint, SignedNote
from ledger.entry import Entry
from ledger.vault import MasterKey
from ledger.vault._canonical import check_record, parse_json
from ledger.vault.policy import DeclarativePolicy
from ledger.vault.proof import RecordProof
from ssi_wallet.dcql import DCQLQuery
from ssi_wallet.request import PresentationRequest, PresentationResponse

_OFFLINE = Resolver.default(fetcher=StaticFetcher({}))

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
# JSON shaped like what the parsers expect, with random values in the known slots.
_KEYS = [
    "@context", "type", "issuer", "credentialSubject", "id", "proof", "validFrom", "validUntil",
    "credentialStatus", "verificationMethod", "cryptosuite", "proofPurpose", "proofValue",
    "created", "controller", "publicKeyMultikey", "publicKeyJwk", "kty", "crv", "x", "y", "d",
    "authentication", "assertionMethod", "service", "serviceEndpoint", "dcql_query", "nonce",
    "client_id", "purpose", "iat", "exp", "credentials", "claims", "path", "format", "meta",
    "vct_values", "values", "credential_sets", "options", "required", "vp_token", "bits", "lst",
    "statusPurpose", "encodedList", "roles", "rules", "record", "subject", "kind",
]  # fmt: skip
_shaped = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=30,
)
_bytes = st.binary(max_size=300)
_text = st.text(max_size=200) | _bytes.map(lambda b: b.decode("latin-1"))


def _only_our_errors(call: Callable[[], Any]) -> None:
    try:
        call()
    except SSIWalletError:
        pass


# -- parsers of text or bytes ---------------------------------------------------------

_TEXT_PARSERS: dict[str, Callable[[str], Any]] = {
    "json.loads": loads,
    "jcs.loads_strict": loads_strict,
    "jws.CompactJWS": CompactJWS.parse,
    "sd_jwt.SdJwt": SdJwt.parse,
    "sd_jwt.Disclosure": Disclosure.parse,
    "barcode.decode": decode_barcode,
    "barcode.decode_unprefixed": lambda t: decode_barcode("VC1:" + t),
    "base45.decode": base45.decode,
    "status_list.decode_bitstring": decode_bitstring,
    "status_list.StatusList": StatusList.decode,
    "did.DID": DID.parse,
    "did.DIDURL": DIDURL.parse,
    "did.resolve": _OFFLINE.resolve,
    "did.resolve_jwk": lambda t: _OFFLINE.resolve("did:jwk:" + t),
    "did.resolve_key": lambda t: _OFFLINE.resolve("did:key:" + t),
    "keys.multikey": PublicKey.from_multikey,
    "keys.secret_multikey": PrivateKey.from_secret_multikey,
    "encoding.b64url": b64url_decode,
    "encoding.base58btc": base58btc_decode,
    "encoding.multibase": multibase_decode,
    "ledger.Checkpoint": Checkpoint.parse,
    "ledger.SignedNote": SignedNote.parse,
    "vault.parse_json": parse_json,
    "vault.MasterKey": MasterKey.from_text,
    "request.PresentationRequest": PresentationRequest.from_json,
    "request.PresentationResponse": PresentationResponse.from_json,
    "model.parse_datetime": parse_datetime,
    "verify.text": lambda t: verify(t, resolver=_OFFLINE),
}
_BYTES_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "json.loads": loads,
    "jcs.loads_strict": loads_strict,
    "cose.CoseSign1": CoseSign1.parse,
    "cose.decode_cbor": decode_cbor,
    "ledger.Entry": Entry.decode,
    "ledger.Checkpoint": Checkpoint.parse,
    "status_list.from_bytes": StatusList.from_bytes,
    "token_status_list.from_bytes": TokenStatusList.from_bytes,
    "vault.parse_json": parse_json,
    "request.PresentationRequest": PresentationRequest.from_json,
    "verify.bytes": lambda b: verify(b, resolver=_OFFLINE),
}


@pytest.mark.parametrize("name", sorted(_TEXT_PARSERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_text)
def test_text_parsers_raise_only_our_errors(name: str, text: str) -> None:
    _only_our_errors(lambda: _TEXT_PARSERS[name](text))


@pytest.mark.parametrize("name", sorted(_BYTES_PARSERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_bytes)
def test_bytes_parsers_raise_only_our_errors(name: str, data: bytes) -> None:
    _only_our_errors(lambda: _BYTES_PARSERS[name](data))


@pytest.mark.parametrize("name", sorted(_TEXT_PARSERS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_shaped)
def test_text_parsers_given_json_text_raise_only_our_errors(name: str, value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    _only_our_errors(lambda: _TEXT_PARSERS[name](text))


# -- parsers of JSON values -----------------------------------------------------------

_VALUE_PARSERS: dict[str, Callable[[Any], Any]] = {
    "did.DIDDocument": DIDDocument.from_json,
    "keys.PublicKey.from_jwk": PublicKey.from_jwk,
    "keys.PrivateKey.from_jwk": PrivateKey.from_jwk,
    "model.Credential": Credential.from_json,
    "model.Presentation": VCPresentation.from_json,
    "data_integrity.DataIntegrityProof": DataIntegrityProof.from_json,
    "data_integrity.verify_proof": lambda v: verify_proof(
        v, _OFFLINE, expected_purpose="assertionMethod"
    ),
    "token_status_list.decode": TokenStatusList.decode,
    "vault.check_record": check_record,
    "vault.DeclarativePolicy": DeclarativePolicy.from_json,
    "vault.RecordProof": RecordProof.from_json,
    "dcql.DCQLQuery": DCQLQuery.parse,
    "request.PresentationRequest": PresentationRequest.from_json,
    "request.PresentationResponse": PresentationResponse.from_json,
    "verify.value": lambda v: verify(v, resolver=_OFFLINE),
}


@pytest.mark.parametrize("name", sorted(_VALUE_PARSERS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_shaped | _json)
def test_json_value_parsers_raise_only_our_errors(name: str, value: Any) -> None:
    _only_our_errors(lambda: _VALUE_PARSERS[name](value))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_bytes | _shaped.map(lambda v: json.dumps(v).encode()))
def test_key_files_raise_only_our_errors(data: bytes, tmp_path_factory: Any) -> None:
    path = Path(tmp_path_factory.mktemp("keyfile")) / "key.json"
    path.write_bytes(data)
    _only_our_errors(lambda: read_key_file(path))
    _only_our_errors(lambda: read_key_file(path, passphrase="pw"))


# -- whatever the strict reader accepts, every other reader of it reads the same ------


_ijson = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(value=_ijson, ascii_only=st.booleans())
def test_reader_reads_what_json_writes(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert loads(text) == json.loads(text)
    assert loads(text.encode("utf-8")) == json.loads(text)


# -- the terminal escaper: whatever goes in, nothing unsafe comes out -----------------

_any_text = st.text(alphabet=st.characters(), max_size=80) | st.lists(
    st.sampled_from(["\u202e", "\u2066", "\x1b", "\r", "\ud800", "\u200b", "a", "ب", "\u200c"]),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_any_text, limit=st.none() | st.integers(1, 40))
def test_safe_text_output_is_always_terminal_safe(text: str, limit: int | None) -> None:
    from did_methods._wire.text import UNSAFE_CHARACTERS, safe_text

    shown = safe_text(text, max_chars=limit)
    assert UNSAFE_CHARACTERS.search(shown) is None
    shown.encode("utf-8")
    if limit is not None:
        assert len(shown) <= limit
    if UNSAFE_CHARACTERS.search(text) is None and limit is None:
        assert shown == text


@settings(max_examples=200, deadline=None)
@given(value=_shaped)
def test_safe_json_is_terminal_safe_and_parses_to_the_same_value(value: Any) -> None:
    from did_methods._wire.text import UNSAFE_CHARACTERS, safe_json

    text = safe_json(value)
    for line in text.split("\n"):
        assert UNSAFE_CHARACTERS.search(line) is None
    assert json.loads(text) == json.loads(json.dumps(value))
