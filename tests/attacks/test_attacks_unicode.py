"""Unicode tricks (issue 10 audit): look-alike type names, NUL and zero-width characters,
look-alike DIDs, and a value normalised differently after signing. A type or an identifier
is compared as the exact code points that were signed, never as what it looks like.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_attacks_keys import FORMATS, NOW, VC_V2, _codes

from credentials import schemas
from credentials.data_integrity import add_proof
from credentials.jose import issue_vc_jwt
from credentials.sd_jwt import issue_sd_jwt
from did_methods import DID, PrivateKey, Resolver, did_key_from_public_key
from did_methods.errors import InvalidDID
from did_methods.http import StaticFetcher
from did_methods.methods.key import KeyMethod
from did_methods.methods.web import WebMethod

LOOK_ALIKES = [
    "WorkPermіt",  # CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I
    "WоrkPermit",  # CYRILLIC SMALL LETTER O
    "WorkPermit\u200b",  # ZERO WIDTH SPACE
    "Work\u00adPermit",  # SOFT HYPHEN
    "WorkPermit\x00",
    "ＷorkPermit",  # FULLWIDTH LATIN CAPITAL LETTER W (NFKC folds it to W)
]


def _issued(fmt: str, type_name: str) -> tuple[Any, Resolver]:
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{key.public_key.to_multikey()}"
    subject = schemas.example_subject("WorkPermit")
    subject["id"] = "did:example:amina"
    credential = {
        "@context": [VC_V2, schemas.CONTEXT_URL],
        "type": ["VerifiableCredential", type_name],
        "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subject,
    }
    resolver = Resolver([KeyMethod()])
    if fmt == "di":
        return add_proof(credential, key, verification_method=vm, created=NOW), resolver
    if fmt == "vc+jwt":
        return issue_vc_jwt(credential, key, kid=vm, now=NOW), resolver
    vct = schemas.vct("WorkPermit").replace("WorkPermit", type_name)
    claims = {"sub": "did:example:amina", "sector": "Q86"}
    return issue_sd_jwt(claims, key, issuer=did, kid=vm, vct=vct, now=NOW), resolver


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("type_name", LOOK_ALIKES)
def test_look_alike_type_is_not_the_type_asked_for(fmt: str, type_name: str) -> None:
    item, resolver = _issued(fmt, type_name)
    assert _codes(item, fmt, resolver) == ("type_unexpected",)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_genuine_type_name_still_passes(fmt: str) -> None:
    item, resolver = _issued(fmt, "WorkPermit")
    assert _codes(item, fmt, resolver) == ()


@pytest.mark.parametrize(
    "did",
    [
        "did:web:mіnistry.example",  # Cyrillic i in the host
        "did:web:ministry.example\x00",
        "did:key:z6Mk\u200b",
        "did:web:ministry.example\u202e",
    ],
)
def test_look_alike_dids_are_invalid(did: str) -> None:
    with pytest.raises(InvalidDID):
        DID.parse(did)
    result = Resolver([WebMethod(StaticFetcher({})), KeyMethod()]).resolve(did)
    assert result.did_resolution_metadata["error"] == "invalidDid"


def test_a_trailing_dot_host_is_not_another_name_for_the_issuer() -> None:
    result = Resolver([WebMethod(StaticFetcher({}))]).resolve("did:web:ministry.example.")
    assert result.did_resolution_metadata["error"] == "invalidDid"


def test_a_value_normalised_differently_after_signing_fails_the_signature() -> None:
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{key.public_key.to_multikey()}"
    subject = schemas.example_subject("WorkPermit")
    subject.update(id="did:example:amina", familyName="Zoë")  # NFC: one code point
    signed = add_proof(
        {
            "@context": [VC_V2, schemas.CONTEXT_URL],
            "type": ["VerifiableCredential", "WorkPermit"],
            "issuer": did,
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": subject,
        },
        key,
        verification_method=vm,
        created=NOW,
    )
    resolver = Resolver([KeyMethod()])
    assert _codes(signed, "di", resolver) == ()
    decomposed = copy.deepcopy(signed)
    decomposed["credentialSubject"]["familyName"] = "Zoe\u0308"  # NFD: looks the same
    assert _codes(decomposed, "di", resolver) == ("signature_invalid",)
