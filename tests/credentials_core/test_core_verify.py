"""The unified verify()/issue() entry point: format detection, checks and their codes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from core_support import NOW, V2, credential, did_key, load, resolver_with_memory, seeded_key
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import issue, verify
from credentials.data_integrity import add_proof
from credentials.errors import ParseError, UnsupportedError, ValidationError
from credentials.status_list import StatusList, make_status_list_credential, status_entry
from did_methods.keys import KeyType
from did_methods.resolver import Resolver

RESOLVER = Resolver.default()
ISSUER_KEY = seeded_key(KeyType.ED25519, 21)
ISSUER, ISSUER_VM = did_key(ISSUER_KEY)
HOLDER_KEY = seeded_key(KeyType.P256, 22)
HOLDER, HOLDER_VM = did_key(HOLDER_KEY)


def _issued(**extra: Any) -> dict[str, Any]:
    out = issue(
        credential(ISSUER, **extra),
        ISSUER_KEY,
        verification_method=ISSUER_VM,
        format="di-eddsa",
        now=NOW,
    )
    assert isinstance(out, dict)
    return out


def _status(result: Any) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.code) for c in result.checks}


def test_valid_credential_every_check_named() -> None:
    result = verify(_issued(), resolver=RESOLVER, now=NOW)
    assert result.ok, result.explain()
    assert result.format == "di-eddsa-jcs-2022"
    assert result.issuer == ISSUER
    assert _status(result) == {
        "syntax": ("passed", "ok"),
        "signature": ("passed", "ok"),
        "proof_purpose": ("passed", "ok"),
        "proof_options": ("passed", "ok"),
        "key_authorisation": ("passed", "ok"),
        "validity_period": ("passed", "ok"),
        "schema": ("skipped", "not_checked"),
        "status": ("skipped", "not_checked"),
    }
    with pytest.raises(TypeError):
        bool(result)


def test_input_forms_text_bytes_mapping() -> None:
    doc = _issued()
    as_text = json.dumps(doc, indent=2)
    from credentials import Credential

    parsed = Credential.from_json(doc)
    for form in (doc, as_text, as_text.encode(), "\n  " + as_text, parsed):
        assert verify(form, resolver=RESOLVER, now=NOW).ok


def test_ecdsa_issue_round_trip() -> None:
    key = seeded_key(KeyType.P384, 23)
    did, vm = did_key(key)
    out = issue(credential(did), key, verification_method=vm, format="di-ecdsa", now=NOW)
    result = verify(out, resolver=RESOLVER, now=NOW)
    assert result.ok and result.format == "di-ecdsa-jcs-2019"


def test_expired_and_not_yet_valid_have_their_own_codes() -> None:
    doc = _issued()
    late = verify(doc, resolver=RESOLVER, now=NOW + timedelta(days=800))
    assert late.codes == ("expired",)
    assert late.check("validity_period").code == "expired"  # type: ignore[union-attr]
    early = verify(doc, resolver=RESOLVER, now=NOW - timedelta(days=200))
    # the proof was created at NOW, so it is also not yet valid
    assert set(early.codes) == {"not_yet_valid", "proof_not_yet_valid"}
    assert early.check("validity_period").code == "not_yet_valid"  # type: ignore[union-attr]


def test_key_only_under_authentication_is_not_authorised() -> None:
    resolver, memory = resolver_with_memory()
    key = seeded_key(KeyType.ED25519, 24)
    issuer = "did:mem:border-agency"
    vm = memory.add(issuer, key, purposes=("authentication",))
    doc = issue(credential(issuer), key, verification_method=vm, format="di-eddsa", now=NOW)
    result = verify(doc, resolver=resolver, now=NOW)
    assert result.codes == ("key_not_authorised",)
    assert _status(result)["key_authorisation"] == ("failed", "key_not_authorised")
    # the steps before it held; the signature was not reached
    assert _status(result)["proof_purpose"] == ("passed", "ok")
    assert _status(result)["signature"][0] == "skipped"


def test_published_vector_is_reported_key_not_issuer() -> None:
    result = verify(load("vc-di-eddsa/eddsa-jcs-2022/signedJCS.json"), resolver=RESOLVER, now=NOW)
    assert result.codes == ("key_not_issuer",)


def test_tampered_and_syntax_failures() -> None:
    doc = _issued()
    doc["credentialSubject"]["sector"] = "construction"
    result = verify(doc, resolver=RESOLVER, now=NOW)
    assert result.codes == ("signature_invalid",)
    broken = _issued()
    del broken["issuer"]
    bad = verify(broken, resolver=RESOLVER, now=NOW)
    assert bad.codes == ("invalid_credential",)
    assert {"path": "/issuer", "message": "is required"} in bad.checks[0].details["errors"]
    unsigned = credential(ISSUER)
    assert verify(unsigned, resolver=RESOLVER, now=NOW).codes == ("proof_missing",)


def test_presentation_with_embedded_credential() -> None:
    vc = _issued()
    vp = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER,
        "verifiableCredential": [vc],
    }
    signed = add_proof(
        vp,
        HOLDER_KEY,
        verification_method=HOLDER_VM,
        proof_purpose="authentication",
        created=NOW,
        challenge="n-0S6_WzA2Mj",
        domain="employer.example",
    )
    ok = verify(
        signed, resolver=RESOLVER, now=NOW, challenge="n-0S6_WzA2Mj", domain="employer.example"
    )
    assert ok.ok, ok.explain()
    # a presentation has a holder, never an issuer: its credentials have theirs
    assert ok.kind == "presentation" and ok.holder == HOLDER and ok.issuer is None
    assert [c.issuer for c in ok.credentials] == [ISSUER]
    names = [c.name for c in ok.checks]
    assert "credential[0].signature" in names and "credential[0].validity_period" in names
    replay = verify(signed, resolver=RESOLVER, now=NOW, challenge="another")
    assert replay.codes == ("challenge_mismatch",)
    wrong_domain = verify(signed, resolver=RESOLVER, now=NOW, domain="landlord.example")
    assert wrong_domain.codes == ("domain_mismatch",)
    # an embedded credential that was altered fails under its prefix
    vc_bad = json.loads(json.dumps(vc))
    vc_bad["credentialSubject"]["hoursPerWeek"] = 60
    tampered = add_proof(
        {**vp, "verifiableCredential": [vc_bad]},
        HOLDER_KEY,
        verification_method=HOLDER_VM,
        proof_purpose="authentication",
        created=NOW,
    )
    result = verify(tampered, resolver=RESOLVER, now=NOW)
    assert [c.name for c in result.failures] == ["credential[0].signature"]
    # a presentation proof made for assertion, not authentication
    wrong_purpose = add_proof(vp, HOLDER_KEY, verification_method=HOLDER_VM, created=NOW)
    assert verify(wrong_purpose, resolver=RESOLVER, now=NOW).codes[0] == "proof_purpose_mismatch"


class _MemoryFetcher:
    def __init__(self, documents: dict[str, bytes]) -> None:
        self.documents = documents

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        from did_methods.errors import SSIWalletError

        if url not in self.documents:
            raise SSIWalletError(f"no document at {url}")
        return self.documents[url]


def test_status_is_checked_and_fails_closed() -> None:
    url = "https://status.example/lists/1"
    status_list = StatusList()
    status_list.set(94567)
    list_vc = make_status_list_credential(
        status_list, id=url, issuer=ISSUER, purpose="revocation", valid_from=NOW - timedelta(days=1)
    )
    signed_list = add_proof(list_vc, ISSUER_KEY, verification_method=ISSUER_VM, created=NOW)
    fetcher = _MemoryFetcher({url: json.dumps(signed_list).encode()})
    revoked = _issued(credentialStatus=status_entry(url, 94567, "revocation"))
    good = _issued(credentialStatus=status_entry(url, 7, "revocation"))
    assert verify(revoked, resolver=RESOLVER, now=NOW, status_fetcher=fetcher).codes == ("revoked",)
    ok = verify(good, resolver=RESOLVER, now=NOW, status_fetcher=fetcher)
    assert ok.ok and ok.check("status").status == "passed"  # type: ignore[union-attr]
    # no fetcher: a credential with status cannot be accepted
    assert verify(good, resolver=RESOLVER, now=NOW).codes == ("status_unavailable",)
    # a list signed by someone else's key does not count
    other = seeded_key(KeyType.ED25519, 25)
    other_did, other_vm = did_key(other)
    forged = add_proof(list_vc, other, verification_method=other_vm, created=NOW)
    forged_fetcher = _MemoryFetcher({url: json.dumps(forged).encode()})
    assert not verify(good, resolver=RESOLVER, now=NOW, status_fetcher=forged_fetcher).ok
    assert other_did != ISSUER
    # a StatusListResolver of the caller's own (its cache shared across calls) works too
    from credentials.status_list import StatusListResolver

    def verify_list(document: Any) -> Any:
        return verify(dict(document), resolver=RESOLVER, now=NOW, check_schema=False)

    shared = StatusListResolver(fetcher, verify_credential=verify_list, clock=lambda: NOW)
    assert verify(revoked, resolver=RESOLVER, now=NOW, status_fetcher=shared).codes == ("revoked",)
    assert verify(good, resolver=RESOLVER, now=NOW, status_fetcher=shared).ok


def test_schema_check_is_skipped_or_delegated() -> None:
    doc = _issued(
        credentialSchema={"id": "https://schemas.example/work-permit.json", "type": "JsonSchema"}
    )
    result = verify(doc, resolver=RESOLVER, now=NOW, check_schema=False)
    assert result.check("schema").status == "skipped"  # type: ignore[union-attr]


def test_misuse_and_unreadable_input_raise() -> None:
    from datetime import datetime

    with pytest.raises(TypeError):
        verify(_issued(), now=datetime(2026, 1, 1))
    for bad in ("", "hello", "[1, 2]", "{not json", b"\xff\xfe", "{}}"):
        with pytest.raises(ParseError):
            verify(bad, resolver=RESOLVER, now=NOW)
    with pytest.raises(ParseError):
        verify(42, resolver=RESOLVER, now=NOW)  # type: ignore[arg-type]


def test_issue_validates_and_refuses_mismatches() -> None:
    with pytest.raises(ValidationError):
        issue(
            {"type": "VerifiableCredential"},
            ISSUER_KEY,
            verification_method=ISSUER_VM,
            format="di-eddsa",
        )
    with pytest.raises(UnsupportedError):
        issue(credential(HOLDER), HOLDER_KEY, verification_method=HOLDER_VM, format="di-eddsa")
    with pytest.raises(UnsupportedError):
        issue(credential(ISSUER), ISSUER_KEY, verification_method=ISSUER_VM, format="di-ecdsa")
    with pytest.raises(UnsupportedError):
        issue(credential(ISSUER), ISSUER_KEY, verification_method=ISSUER_VM, format="x")  # type: ignore[arg-type]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["@context", "type", "issuer", "proof", "credentialSubject", "holder", "x"]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_arbitrary_json_raises_only_our_errors_or_is_invalid(value: Any) -> None:
    for form in (value, json.dumps(value)):
        try:
            result = verify(form, resolver=RESOLVER, now=NOW)
        except ParseError:
            continue
        assert not result.ok
        assert result.codes


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "cryptosuite",
                "verificationMethod",
                "proofPurpose",
                "proofValue",
                "created",
                "@context",
                "domain",
                "challenge",
                "previousProof",
                "id",
            ]
        ),
        _json_values,
        max_size=8,
    )
)
def test_arbitrary_proof_objects_are_reported_not_raised(proof: dict[str, Any]) -> None:
    doc = {**credential(ISSUER), "proof": proof}
    result = verify(doc, resolver=RESOLVER, now=NOW)
    assert not result.ok


# The package's exports are pinned in tests/test_exported_members.py.


# -- delegation to VC-JOSE and the vocabulary's schemas ----------------------------------


def test_vc_jwt_issued_and_verified_through_the_entry_point() -> None:
    key = seeded_key(KeyType.P256, 26)
    did, vm = did_key(key)
    token = issue(credential(did), key, verification_method=vm, format="vc-jwt", now=NOW)
    assert isinstance(token, str) and token.count(".") == 2
    result = verify(token, resolver=RESOLVER, now=NOW)
    assert result.ok, result.explain()
    assert result.format == "vc+jwt"
    head, payload, signature = token.split(".")
    flipped = signature[:-3] + ("A" if signature[-3] != "A" else "B") + signature[-2:]
    assert not verify(f"{head}.{payload}.{flipped}", resolver=RESOLVER, now=NOW).ok


def test_di_presentation_with_an_enveloped_vc_jwt() -> None:
    from credentials.jose import envelope_vc_jwt

    key = seeded_key(KeyType.ED25519, 27)
    did, vm = did_key(key)
    token = issue(credential(did), key, verification_method=vm, format="vc-jwt", now=NOW)
    assert isinstance(token, str)
    vp = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER,
        "verifiableCredential": [envelope_vc_jwt(token)],
    }
    signed = add_proof(
        vp, HOLDER_KEY, verification_method=HOLDER_VM, proof_purpose="authentication", created=NOW
    )
    result = verify(signed, resolver=RESOLVER, now=NOW)
    assert result.ok, result.explain()
    assert any(c.name.startswith("credential[0].") for c in result.checks)


def test_schema_check_delegates_to_the_vocabulary() -> None:
    from credentials.schemas import example_credential

    doc = example_credential("WorkPermit", issuer=ISSUER)
    signed = issue(doc, ISSUER_KEY, verification_method=ISSUER_VM, format="di-eddsa", now=NOW)
    result = verify(signed, resolver=RESOLVER, now=NOW)
    assert result.check("schema").status == "passed", result.explain()  # type: ignore[union-attr]
    doc["credentialSubject"]["unexpectedClaim"] = "x"
    bad = issue(doc, ISSUER_KEY, verification_method=ISSUER_VM, format="di-eddsa", now=NOW)
    failed = verify(bad, resolver=RESOLVER, now=NOW)
    assert failed.codes == ("schema_violation",)


def test_sd_jwt_is_detected_and_delegated() -> None:
    from credentials.sd_jwt import issue_sd_jwt, present

    issuer_key = seeded_key(KeyType.P256, 28)
    issuer, kid = did_key(issuer_key)
    holder_key = seeded_key(KeyType.ED25519, 29)
    issued = issue_sd_jwt(
        {"given_name": "Amina", "nationality": "UZ", "sector": "healthcare"},
        issuer_key,
        issuer=issuer,
        kid=kid,
        vct="https://credentials.example/WorkPermit",
        disclosable=["given_name", "nationality", "sector"],
        holder_key=holder_key.public_key,
        now=NOW,
    )
    shown = present(
        issued,
        ["sector"],
        holder_key=holder_key,
        nonce="n-123",
        audience="https://employer.example",
        now=NOW,
    )
    result = verify(
        shown, resolver=RESOLVER, now=NOW, nonce="n-123", audience="https://employer.example"
    )
    assert result.ok, result.explain()
    assert result.format == "dc+sd-jwt"
    assert result.document is not None and "nationality" not in result.document
    assert verify(shown, resolver=RESOLVER, now=NOW, nonce="other").codes


def test_sd_jwt_status_through_the_entry_point_fails_closed() -> None:
    from credentials.sd_jwt import issue_sd_jwt
    from credentials.token_status_list import (
        TokenStatusList,
        TokenStatusListResolver,
        make_status_list_token,
        status_claim,
    )

    issuer_key = seeded_key(KeyType.ED25519, 30)
    issuer, kid = did_key(issuer_key)
    uri = "https://status.example/tokens/1"
    token_list = TokenStatusList(1024)
    token_list.set(5)
    status_token = make_status_list_token(
        token_list, uri=uri, key=issuer_key, kid=kid, issued_at=NOW - timedelta(minutes=1)
    )
    fetcher = _MemoryFetcher({uri: status_token.encode()})

    def issued(index: int) -> str:
        return issue_sd_jwt(
            {"sector": "healthcare"},
            issuer_key,
            issuer=issuer,
            kid=kid,
            vct="https://credentials.example/WorkPermit",
            status=status_claim(uri, index),
            now=NOW,
        )

    revoked = verify(issued(5), resolver=RESOLVER, now=NOW, status_fetcher=fetcher)
    assert revoked.codes == ("revoked",), revoked.explain()
    fine = verify(issued(6), resolver=RESOLVER, now=NOW, status_fetcher=fetcher)
    assert fine.ok, fine.explain()
    shared = TokenStatusListResolver(fetcher, RESOLVER, clock=lambda: NOW)
    assert verify(issued(6), resolver=RESOLVER, now=NOW, status_fetcher=shared).ok
    # no fetcher, or one that reads only Bitstring Status Lists: not a pass
    assert verify(issued(6), resolver=RESOLVER, now=NOW).codes == ("status_unavailable",)
    # and the other way round: a token-list resolver cannot read a Bitstring Status List
    url = "https://status.example/lists/9"
    di = _issued(credentialStatus=status_entry(url, 7, "revocation"))
    assert verify(di, resolver=RESOLVER, now=NOW, status_fetcher=shared).codes == (
        "status_unavailable",
    )
