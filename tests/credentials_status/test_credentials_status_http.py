"""Status checks against status list credentials served over real HTTP on 127.0.0.1.

The list credentials are signed by a small Ed25519 test proof (detached
signature over sorted-key JSON, verification method a did:key that must be the
issuer's); the resolver takes the verifying callable by injection, so the
Data Integrity verifier plugs in the same way.
"""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _live_server import StaticServer, static_server_fixture

from credentials.result import Check, VerificationResult
from credentials.status_list import (
    MIN_ENTRIES,
    StatusCheckError,
    StatusList,
    StatusListResolver,
    check_status,
    make_status_list_credential,
    status_entry,
)
from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.errors import VerificationError
from did_methods.http import HttpFetcher
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key, public_key_from_did_key

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


# ------------------------------------------------------------------ test signer


def _signing_input(document: Mapping[str, Any]) -> bytes:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


class Signer:
    def __init__(self, seed: int) -> None:
        self.key = PrivateKey.generate(KeyType.ED25519, randbytes=lambda n: bytes([seed]) * n)
        self.did = did_key_from_public_key(self.key.public_key)

    def sign(self, document: dict[str, Any]) -> dict[str, Any]:
        signature = self.key.sign(_signing_input(document))
        return {
            **document,
            "proof": {
                "type": "TestEd25519Proof",
                "verificationMethod": f"{self.did}#key",
                "proofValue": b64url_encode(signature),
            },
        }


def verify_test_proof(document: Mapping[str, Any]) -> VerificationResult:
    """Raise unless the proof is by a key of the document's issuer."""
    proof = document.get("proof")
    if not isinstance(proof, Mapping):
        raise VerificationError("proof_missing", "no proof")
    did = str(proof.get("verificationMethod", "")).partition("#")[0]
    if did != document.get("issuer"):
        raise VerificationError("key_not_authorised", "the proof is not by the issuer")
    public = public_key_from_did_key(did)
    public.verify(b64url_decode(str(proof.get("proofValue", ""))), _signing_input(document))
    # what a securing format reports once it verified a credential by its issuer's key
    types = document.get("type")
    return VerificationResult.of(
        "test",
        [Check.passed("signature", "ok")],
        kind="credential",
        issuer=did,
        types=types if isinstance(types, list) else [str(types)],
    )


MINISTRY = Signer(1)
MALLORY = Signer(2)


# ------------------------------------------------------------------ HTTP server


class Server(StaticServer):
    def __init__(self) -> None:
        super().__init__(headers={"Content-Type": "application/vc+ld+json"})

    def publish(self, path: str, document: Mapping[str, Any]) -> str:
        return self.put(path, json.dumps(document))


server = static_server_fixture(Server)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _resolver(clock: Clock | None = None, **kwargs: Any) -> StatusListResolver:
    return StatusListResolver(
        HttpFetcher(allow_http=True, allow_private=True),
        verify_credential=verify_test_proof,
        clock=clock or Clock(),
        timeout=5.0,
        **kwargs,
    )


def _list_credential(
    url: str,
    status_list: StatusList,
    *,
    purpose: str | list[str] = "revocation",
    signer: Signer = MINISTRY,
    issuer: str | None = None,
    valid_until: datetime | None = NOW + timedelta(days=1),
    **kwargs: Any,
) -> dict[str, Any]:
    unsigned = make_status_list_credential(
        status_list,
        id=url,
        issuer=issuer or signer.did,
        purpose=purpose,
        valid_from=NOW - timedelta(days=1),
        valid_until=valid_until,
        **kwargs,
    )
    return signer.sign(unsigned)


def _credential(*entries: dict[str, Any], issuer: str = MINISTRY.did) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "WorkPermit"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:amina"},
        "credentialStatus": entries[0] if len(entries) == 1 else list(entries),
    }


# ------------------------------------------------------------------ cases


def test_clear_entry_passes_and_revoked_entry_fails(server: Server) -> None:
    status_list = StatusList()
    status_list.set(94567)
    url = server.url("/lists/1")
    server.publish("/lists/1", _list_credential(url, status_list))
    resolver = _resolver()

    check = check_status(_credential(status_entry(url, 94566, "revocation")), resolver, now=NOW)
    assert check.status == "passed" and check.code == "ok"

    check = check_status(_credential(status_entry(url, 94567, "revocation")), resolver, now=NOW)
    assert check.status == "failed" and check.code == "revoked"
    assert check.name == "status"


def test_w3c_fixture_lists_served_over_http(server: Server) -> None:
    # the test suite's unprefixed "-ok" list, re-signed by our issuer
    from pathlib import Path

    fixture = json.loads(
        (
            Path(__file__).resolve().parents[1]
            / "vectors/bitstring-status-list/w3c-test-suite-fixtures/status-credentials"
            / "multi-purpose-ok.jsonld"
        ).read_text()
    )
    url = server.url("/fixture")
    document = {**fixture, "id": url, "issuer": MINISTRY.did}
    server.publish("/fixture", MINISTRY.sign(document))
    resolver = _resolver(allow_unprefixed=True)
    for index, purpose, code in [
        (201, "revocation", "revoked"),
        (57444, "suspension", "suspended"),
        (1, "revocation", "ok"),
    ]:
        check = check_status(_credential(status_entry(url, index, purpose)), resolver, now=NOW)
        assert check.code == code, (index, check)


def test_suspension_is_lifted_after_the_cache_expires(server: Server) -> None:
    status_list = StatusList()
    status_list.set(7)
    url = server.url("/lists/susp")
    server.publish(
        "/lists/susp",
        _list_credential(url, status_list, purpose="suspension", ttl=timedelta(minutes=2)),
    )
    clock = Clock()
    resolver = _resolver(clock)
    credential = _credential(status_entry(url, 7, "suspension"))

    assert check_status(credential, resolver).code == "suspended"

    status_list.clear(7)
    server.publish(
        "/lists/susp",
        _list_credential(url, status_list, purpose="suspension", ttl=timedelta(minutes=2)),
    )
    clock.now += timedelta(minutes=1)  # still inside the ttl: the cached copy is used
    assert check_status(credential, resolver).code == "suspended"
    assert server.hits["/lists/susp"] == 1

    clock.now += timedelta(minutes=2)  # past the ttl: fetched again
    assert check_status(credential, resolver).status == "passed"
    assert server.hits["/lists/susp"] == 2


def test_max_age_caps_a_long_ttl(server: Server) -> None:
    url = server.url("/lists/long")
    server.publish("/lists/long", _list_credential(url, StatusList(), ttl=timedelta(days=30)))
    clock = Clock()
    resolver = _resolver(clock, max_age=timedelta(seconds=30))
    credential = _credential(status_entry(url, 3, "revocation"))
    assert check_status(credential, resolver).status == "passed"
    clock.now += timedelta(seconds=31)
    assert check_status(credential, resolver).status == "passed"
    assert server.hits["/lists/long"] == 2


@pytest.mark.parametrize("path", ["/missing", None])
def test_unreachable_list_fails_closed(server: Server, path: str | None) -> None:
    if path is None:
        # a port nobody listens on
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}/lists/1"
    else:
        url = server.url(path)
    check = check_status(_credential(status_entry(url, 1, "revocation")), _resolver(), now=NOW)
    assert check.status == "failed" and check.code == "status_unavailable"


def test_oversized_list_credential_fails_closed(server: Server) -> None:
    url = server.url("/lists/big")
    server.routes["/lists/big"] = b" " * 5000
    resolver = _resolver(max_bytes=4096)
    check = check_status(_credential(status_entry(url, 1, "revocation")), resolver, now=NOW)
    assert check.code == "status_unavailable"


def test_stale_list_fails_closed(server: Server) -> None:
    url = server.url("/lists/stale")
    server.publish(
        "/lists/stale", _list_credential(url, StatusList(), valid_until=NOW - timedelta(hours=1))
    )
    check = check_status(_credential(status_entry(url, 1, "revocation")), _resolver(), now=NOW)
    assert check.status == "failed" and check.code == "status_list_invalid"
    assert "stale" in check.message


def test_list_not_yet_valid_fails_closed(server: Server) -> None:
    url = server.url("/lists/early")
    server.publish("/lists/early", _list_credential(url, StatusList()))
    check = check_status(
        _credential(status_entry(url, 1, "revocation")),
        _resolver(),
        now=NOW - timedelta(days=2),
    )
    assert check.code == "status_list_invalid"


def test_list_signed_by_someone_else_in_the_issuers_name_fails(server: Server) -> None:
    # Mallory signs a list that claims the ministry as issuer: the proof is not
    # by the issuer, so the list is invalid.
    url = server.url("/lists/forged")
    server.publish(
        "/lists/forged", _list_credential(url, StatusList(), signer=MALLORY, issuer=MINISTRY.did)
    )
    check = check_status(_credential(status_entry(url, 1, "revocation")), _resolver(), now=NOW)
    assert check.code == "status_list_invalid"


def test_list_issued_by_someone_else_fails(server: Server) -> None:
    # Mallory's own, validly signed list cannot vouch for the ministry's credential.
    url = server.url("/lists/mallory")
    server.publish("/lists/mallory", _list_credential(url, StatusList(), signer=MALLORY))
    credential = _credential(status_entry(url, 1, "revocation"))
    check = check_status(credential, _resolver(), now=NOW)
    assert check.code == "status_list_issuer_mismatch"
    # a verifier that vets delegated status issuers itself may opt out
    relaxed = check_status(credential, _resolver(), now=NOW, require_same_issuer=False)
    assert relaxed.status == "passed"


def test_tampered_list_fails(server: Server) -> None:
    status_list = StatusList()
    status_list.set(10)
    url = server.url("/lists/tampered")
    signed = _list_credential(url, status_list)
    status_list.clear(10)  # the revocation is erased after signing
    signed["credentialSubject"] = {
        **signed["credentialSubject"],
        "encodedList": status_list.encode(),
    }
    server.publish("/lists/tampered", signed)
    check = check_status(_credential(status_entry(url, 10, "revocation")), _resolver(), now=NOW)
    assert check.code == "status_list_invalid"


def test_unsigned_list_fails(server: Server) -> None:
    url = server.url("/lists/unsigned")
    unsigned = make_status_list_credential(
        StatusList(), id=url, issuer=MINISTRY.did, purpose="revocation"
    )
    server.publish("/lists/unsigned", unsigned)
    check = check_status(_credential(status_entry(url, 1, "revocation")), _resolver(), now=NOW)
    assert check.code == "status_list_invalid"


def test_verifier_returning_an_invalid_result_fails(server: Server) -> None:
    url = server.url("/lists/1")
    server.publish("/lists/1", _list_credential(url, StatusList()))

    def says_invalid(document: Mapping[str, Any]) -> VerificationResult:
        return VerificationResult.of(
            "test", [Check.failed("signature", "signature_invalid", "bad")]
        )

    resolver = StatusListResolver(
        HttpFetcher(allow_http=True, allow_private=True),
        verify_credential=says_invalid,
        clock=Clock(),
    )
    check = check_status(_credential(status_entry(url, 1, "revocation")), resolver, now=NOW)
    assert check.code == "status_list_invalid"
    assert "signature_invalid" in check.message


def test_purpose_mismatch_fails(server: Server) -> None:
    url = server.url("/lists/rev")
    server.publish("/lists/rev", _list_credential(url, StatusList(), purpose="revocation"))
    check = check_status(_credential(status_entry(url, 1, "suspension")), _resolver(), now=NOW)
    assert check.code == "status_purpose_mismatch"


def test_list_served_under_another_url_fails(server: Server) -> None:
    # a valid list of the same issuer, replayed at another list's URL
    other = server.url("/lists/other")
    server.publish("/lists/here", _list_credential(other, StatusList()))
    url = server.url("/lists/here")
    check = check_status(_credential(status_entry(url, 1, "revocation")), _resolver(), now=NOW)
    assert check.code == "status_list_invalid"


def test_index_beyond_the_list_fails(server: Server) -> None:
    url = server.url("/lists/1")
    server.publish("/lists/1", _list_credential(url, StatusList()))
    check = check_status(
        _credential(status_entry(url, MIN_ENTRIES, "revocation")), _resolver(), now=NOW
    )
    assert check.code == "status_index_out_of_range"


def test_gzip_bomb_list_fails_closed(server: Server) -> None:
    url = server.url("/lists/bomb")
    document = _list_credential(url, StatusList())
    bomb = gzip.compress(b"\x00" * (32 * 1024 * 1024), compresslevel=9, mtime=0)
    document["credentialSubject"]["encodedList"] = "u" + b64url_encode(bomb)
    server.publish(
        "/lists/bomb", MINISTRY.sign({k: v for k, v in document.items() if k != "proof"})
    )
    check = check_status(_credential(status_entry(url, 1, "revocation")), _resolver(), now=NOW)
    assert check.code == "status_list_invalid"
    assert "decompression_bomb" in check.message


def test_message_status(server: Server) -> None:
    messages = ["valid", "under_review", "renewal_pending", "withdrawn"]
    status_list = StatusList(MIN_ENTRIES, bits_per_status=2)
    status_list.set(5, 1)
    url = server.url("/lists/msg")
    server.publish(
        "/lists/msg",
        _list_credential(url, status_list, purpose="message", status_messages=messages),
    )
    resolver = _resolver()
    entry = status_entry(url, 5, "message", status_size=2, status_messages=messages)
    check = check_status(_credential(entry), resolver, now=NOW)
    assert check.code == "status_message"
    assert check.details["failures"][0]["status_message"] == "under_review"
    quiet = status_entry(url, 6, "message", status_size=2, status_messages=messages)
    assert check_status(_credential(quiet), resolver, now=NOW).status == "passed"


def test_several_entries_and_one_fetch_per_list(server: Server) -> None:
    status_list = StatusList()
    status_list.set(2)
    url = server.url("/lists/both")
    server.publish(
        "/lists/both", _list_credential(url, status_list, purpose=["revocation", "suspension"])
    )
    resolver = _resolver()
    credential = _credential(status_entry(url, 1, "revocation"), status_entry(url, 2, "suspension"))
    check = check_status(credential, resolver, now=NOW)
    assert check.code == "suspended"
    assert [f["entry"] for f in check.details["failures"]] == [1]
    assert server.hits["/lists/both"] == 1


def test_no_credential_status_is_skipped() -> None:
    credential = _credential(status_entry("https://x.example/l", 1, "revocation"))
    del credential["credentialStatus"]
    check = check_status(credential, _resolver(), now=NOW)
    assert check.status == "skipped"


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ({"type": "StatusList2021Entry"}, "status_unsupported"),
        ("not an object", "status_entry_invalid"),
        (
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status_entry_invalid",
        ),
        (
            {
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "-1",
                "statusListCredential": "https://x.example/l",
            },
            "status_entry_invalid",
        ),
        (
            {
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": 12,
                "statusListCredential": "https://x.example/l",
            },
            "status_entry_invalid",
        ),
        (
            {
                "type": "BitstringStatusListEntry",
                "statusPurpose": "message",
                "statusSize": 2,
                "statusListIndex": "1",
                "statusListCredential": "https://x.example/l",
            },
            "status_entry_invalid",
        ),
    ],
)
def test_malformed_entries_fail_without_fetching(entry: object, code: str) -> None:
    credential = _credential({})
    credential["credentialStatus"] = entry
    check = check_status(credential, _resolver(), now=NOW)
    assert check.status == "failed" and check.code == code


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"issuer": "a", "issuer": "b"}',  # duplicate member
        b"[" * 5000 + b"]" * 5000,  # deep nesting
        b"\xff\xfe",  # not UTF-8
        b"[]",
    ],
)
def test_resolver_get_raises_typed_errors(server: Server, body: bytes) -> None:
    server.routes["/lists/junk"] = body
    with pytest.raises(StatusCheckError) as info:
        _resolver().get(server.url("/lists/junk"))
    assert info.value.code == "status_list_invalid"
    assert isinstance(info.value, VerificationError)
