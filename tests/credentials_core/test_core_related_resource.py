"""relatedResource digests checked against the fetched bytes (VC Data Model 2.0, 5.3).

"digestSRI": an integrity metadata value per Subresource Integrity; "digestMultibase": a
multibase-encoded multihash. A verifier that fetches the resource checks its bytes; the
multihash side is produced here by the independent ``multiformats`` package.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from multiformats import multibase, multihash

from credentials.errors import VerificationError
from credentials.related import check_related_resource

CONTEXT = b'{"@context": {"WorkPermit": "https://vocab.example/WorkPermit"}}'
OTHER = CONTEXT.replace(b"WorkPermit", b"Visa")


def _sri(algorithm: str, data: bytes) -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def _multibase(hash_name: str, base: str, data: bytes) -> str:
    encoded: str = multibase.encode(multihash.digest(data, hash_name), base)
    return encoded


def _code(resource: dict[str, Any], content: bytes) -> str:
    with pytest.raises(VerificationError) as err:
        check_related_resource(resource, content)
    return err.value.code


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_sri_digest_matches_and_a_changed_byte_does_not(algorithm: str) -> None:
    resource = {"id": "https://www.w3.org/ns/credentials/v2", "digestSRI": _sri(algorithm, CONTEXT)}
    check_related_resource(resource, CONTEXT)
    assert _code(resource, OTHER) == "digest_mismatch"


@pytest.mark.parametrize("hash_name", ["sha2-256", "sha2-384", "sha2-512", "sha3-256", "sha3-512"])
@pytest.mark.parametrize("base", ["base64url", "base58btc", "base64"])
def test_multibase_multihash_from_an_independent_encoder(hash_name: str, base: str) -> None:
    digest = _multibase(hash_name, base, CONTEXT)
    resource = {"id": "https://x.example/r", "digestMultibase": digest}
    check_related_resource(resource, CONTEXT)
    assert _code(resource, OTHER) == "digest_mismatch"


def test_both_digests_must_match() -> None:
    good_sri, bad_sri = _sri("sha384", CONTEXT), _sri("sha384", OTHER)
    good_mb = _multibase("sha2-256", "base64url", CONTEXT)
    check_related_resource({"digestSRI": good_sri, "digestMultibase": good_mb}, CONTEXT)
    assert _code({"digestSRI": bad_sri, "digestMultibase": good_mb}, CONTEXT) == "digest_mismatch"
    bad_mb = _multibase("sha2-256", "base64url", OTHER)
    assert _code({"digestSRI": good_sri, "digestMultibase": bad_mb}, CONTEXT) == "digest_mismatch"


def test_sri_strongest_algorithm_decides_and_unknown_ones_are_ignored() -> None:
    # SRI 3.3.3: only the strongest algorithm's values count.
    weak_right = _sri("sha256", CONTEXT)
    strong_wrong = _sri("sha512", OTHER)
    assert _code({"digestSRI": f"{weak_right} {strong_wrong}"}, CONTEXT) == "digest_mismatch"
    strong_right = _sri("sha512", CONTEXT)
    check_related_resource({"digestSRI": f"{strong_wrong} {strong_right} md5-AAAA"}, CONTEXT)
    check_related_resource({"digestSRI": f"{strong_right}?ct=application/json"}, CONTEXT)
    assert _code({"digestSRI": "md5-rL0Y20zC+Fzt72VPzMSk2A=="}, CONTEXT) == "digest_unsupported"


@pytest.mark.parametrize(
    "resource",
    [
        {"digestSRI": "sha384"},
        {"digestSRI": "sha384-not base64!"},
        {"digestSRI": ""},
        {"digestSRI": 7},
        {"digestSRI": "sha384-" + "A" * 2000},
        {"digestMultibase": "x123"},
        {"digestMultibase": "u"},
        {"digestMultibase": "u" + "A" * 2000},
        {"digestMultibase": "uEiA"},  # sha2-256 code, too short a digest
        {"digestMultibase": 5},
    ],
)
def test_malformed_digests(resource: dict[str, Any]) -> None:
    assert _code(resource, CONTEXT) == "digest_malformed"


def test_unsupported_multihash_and_missing_digests() -> None:
    identity = multibase.encode(multihash.digest(CONTEXT[:8], "identity"), "base64url")
    assert _code({"digestMultibase": identity}, CONTEXT) == "digest_unsupported"
    assert _code({"id": "https://x.example/r"}, CONTEXT) == "digest_missing"
    with pytest.raises(TypeError):
        check_related_resource({"digestSRI": _sri("sha256", CONTEXT)}, "text")  # type: ignore[arg-type]
