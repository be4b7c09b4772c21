"""One configurable clock skew, 60 s by default, for a token's or proof's own times in
every format (issue 11, item 8).

A verifier's clock a little behind the issuer's must not refuse a credential signed a
moment ago: `iat`/`nbf` (RFC 7519 4.1.5/4.1.6 allow "some small leeway ... to account
for clock skew"), a Key Binding JWT's `iat` (RFC 9901 7.3 leaves the acceptable window
to the verifier) and a Data Integrity proof's `created`. The same `clock_skew` governs
them all through `credentials.verify`; beyond it, or with `clock_skew=0`, they are
`not_yet_valid` (or the proof's own code).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from credentials import verify
from credentials.barcode import encode_barcode
from credentials.data_integrity import add_proof
from credentials.jose import issue_vc_jwt
from credentials.sd_jwt import issue_sd_jwt
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEY = PrivateKey.generate(KeyType.ED25519)
DID = did_key_from_public_key(KEY.public_key)
VM = f"{DID}#{DID[8:]}"


def _credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:amina", "name": "Amina"},
    }


def _di(signed_at: datetime) -> Any:
    return add_proof(_credential(), KEY, verification_method=VM, created=signed_at)


def _vc_jwt(signed_at: datetime) -> Any:
    return issue_vc_jwt(_credential(), KEY, kid=VM, now=signed_at)


def _sd_jwt(signed_at: datetime) -> Any:
    at = int(signed_at.timestamp())
    return issue_sd_jwt({"name": "Amina"}, KEY, issuer=DID, kid=VM, vct="x", iat=at, nbf=at)


def _barcode(signed_at: datetime) -> Any:
    return encode_barcode(
        {"name": "Amina"}, KEY, kid=VM, issuer=DID, exp=NOW + timedelta(days=30), iat=signed_at
    )


FORMATS: dict[str, Callable[[datetime], Any]] = {
    "di": _di,
    "vc+jwt": _vc_jwt,
    "sd-jwt": _sd_jwt,
    "barcode": _barcode,
}


@pytest.mark.parametrize("make", FORMATS.values(), ids=list(FORMATS))
def test_signed_moments_ahead_of_the_verifiers_clock_verifies_within_the_default_skew(
    make: Callable[[datetime], Any],
) -> None:
    ahead = make(NOW + timedelta(seconds=59))
    result = verify(ahead, now=NOW)
    assert result.ok, result.explain()


@pytest.mark.parametrize("make", FORMATS.values(), ids=list(FORMATS))
def test_beyond_the_skew_or_with_none_it_is_refused(make: Callable[[datetime], Any]) -> None:
    far = make(NOW + timedelta(seconds=61))
    assert not verify(far, now=NOW).ok
    near = make(NOW + timedelta(seconds=30))
    refused = verify(near, now=NOW, clock_skew=0)
    assert not refused.ok
    assert verify(near, now=NOW, clock_skew=120).ok


def test_clock_skew_must_be_a_non_negative_number() -> None:
    for bad in (-1, "60", True):
        with pytest.raises(TypeError):
            verify(_di(NOW), now=NOW, clock_skew=bad)  # type: ignore[arg-type]
