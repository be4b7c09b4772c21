"""mso_mdoc in DCQL (OpenID4VP 1.0 appendix B.2) and the wallet/verifier pieces of
ssi_wallet.mdoc: a query answered with exactly the elements it names, checked
against the verifier's own session transcript."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from mdoc_support import DOCTYPE, NAMESPACE, Pki

from credentials.mdoc import MdocError, oid4vp_session_transcript, present_mdoc
from did_methods._wire.b64 import b64url_encode
from ssi_wallet.dcql import DCQLError, DCQLQuery, match
from ssi_wallet.mdoc import MdocCandidate, disclosure_for, present_for_query, verify_for_query

CLIENT = "x509_san_dns:employer.example"
NONCE = "n-0S6_WzA2Mj"
RESPONSE_URI = "https://employer.example/response"


def query(**changes: Any) -> DCQLQuery:
    credential: dict[str, Any] = {
        "id": "permit",
        "format": "mso_mdoc",
        "meta": {"doctype_value": DOCTYPE},
        "claims": [
            {"id": "type", "path": [NAMESPACE, "permit_type"], "intent_to_retain": False},
            {"id": "adult", "path": [NAMESPACE, "age_over_18"], "values": [True]},
        ],
    }
    credential.update(changes)
    if credential["claims"] is None:  # a query that names no claims asks for every one
        del credential["claims"]
    return DCQLQuery.parse({"credentials": [credential]})


def candidate(pki: Pki) -> MdocCandidate:
    return MdocCandidate.from_issuer_signed("c1", pki.issue())


def answer(pki: Pki, asked: DCQLQuery, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "device_key": pki.device,
        "client_id": CLIENT,
        "nonce": NONCE,
        "response_uri": RESPONSE_URI,
    }
    arguments.update(overrides)
    return present_for_query(asked.credentials[0], candidate(pki), **arguments)


def check(pki: Pki, item: Any, asked: DCQLQuery, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "client_id": CLIENT,
        "nonce": NONCE,
        "response_uri": RESPONSE_URI,
        "trust_anchors": [pki.root],
        "now": pki.now,
    }
    arguments.update(overrides)
    return verify_for_query(item, asked.credentials[0], **arguments)


def test_mso_mdoc_query_parses_and_round_trips() -> None:
    parsed = query()
    (credential,) = parsed.credentials
    assert credential.meta == {"doctype_value": DOCTYPE}
    assert credential.claims is not None
    assert credential.claims[0].path == (NAMESPACE, "permit_type")
    assert credential.claims[0].intent_to_retain is False
    assert credential.claims[1].intent_to_retain is None
    assert DCQLQuery.parse(parsed.to_json()) == parsed


@pytest.mark.parametrize(
    "changes",
    [
        {"meta": {}},
        {"meta": {"doctype_value": ["a"]}},
        {"claims": [{"path": [NAMESPACE]}]},
        {"claims": [{"path": [NAMESPACE, "a", "b"]}]},
        {"claims": [{"path": [NAMESPACE, 0]}]},
        {"claims": [{"path": [NAMESPACE, None]}]},
        {"claims": [{"path": [NAMESPACE, "a"], "intent_to_retain": "yes"}]},
    ],
)
def test_malformed_mso_mdoc_queries_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(DCQLError):
        query(**changes)


def test_match_by_doctype_and_element(pki: Pki) -> None:
    held = candidate(pki)
    assert held.types == (DOCTYPE,) and held.issuer == "CN=Test Document Signer,C=LT"
    assert match(query(), [held]).ok
    assert not match(query(meta={"doctype_value": "org.iso.18013.5.1.mDL"}), [held]).ok
    wrong_value = query(claims=[{"path": [NAMESPACE, "permit_type"], "values": ["study"]}])
    assert not match(wrong_value, [held]).ok


def test_disclosure_is_exactly_what_is_asked(pki: Pki) -> None:
    held = candidate(pki)
    assert disclosure_for(query().credentials[0], held.claims) == {
        NAMESPACE: ["permit_type", "age_over_18"]
    }
    everything = query(claims=None)
    everything_json = everything.to_json()
    assert "claims" not in everything_json["credentials"][0]
    assert sorted(disclosure_for(everything.credentials[0], held.claims)[NAMESPACE]) == sorted(
        held.claims[NAMESPACE]
    )
    sets = query(
        claims=[
            {"id": "nationality", "path": [NAMESPACE, "nationality"]},
            {"id": "type", "path": [NAMESPACE, "permit_type"]},
        ],
        claim_sets=[["nationality"], ["type"]],
    )
    assert disclosure_for(sets.credentials[0], held.claims) == {NAMESPACE: ["permit_type"]}


def test_wallet_answer_verifies_for_the_verifier(pki: Pki) -> None:
    asked = query()
    item = answer(pki, asked)
    (verified,) = check(pki, item, asked)
    assert verified.doctype == DOCTYPE
    assert verified.claims == {NAMESPACE: {"permit_type": "work", "age_over_18": True}}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_id", "x509_san_dns:landlord.example"),
        ("nonce", "another-nonce"),
        ("response_uri", "https://employer.example/other"),
        ("jwk_thumbprint", hashlib.sha256(b"a verifier key").digest()),
    ],
)
def test_each_session_transcript_input_binds_the_answer(pki: Pki, field: str, value: Any) -> None:
    asked = query()
    item = answer(pki, asked)
    with pytest.raises(MdocError) as caught:
        check(pki, item, asked, **{field: value})
    assert caught.value.code == "device_signature_invalid"


def test_encrypted_flow_thumbprint_round_trip(pki: Pki) -> None:
    asked = query()
    thumbprint = hashlib.sha256(b"the verifier's encryption key").digest()
    item = answer(pki, asked, jwk_thumbprint=thumbprint)
    assert check(pki, item, asked, jwk_thumbprint=thumbprint)[0].claims[NAMESPACE]
    with pytest.raises(MdocError):
        check(pki, item, asked)  # the verifier of a direct_post answer: null thumbprint


def test_a_requested_claim_left_out_is_refused(pki: Pki) -> None:
    session = oid4vp_session_transcript(client_id=CLIENT, nonce=NONCE, response_uri=RESPONSE_URI)
    partial = present_mdoc(
        pki.issue(),
        device_key=pki.device,
        session_transcript=session,
        disclose={NAMESPACE: ["permit_type"]},
    )
    with pytest.raises(MdocError) as caught:
        check(pki, b64url_encode(partial), query())
    assert caught.value.code == "mdoc_claim_missing"


def test_a_value_outside_the_accepted_ones_is_refused(pki: Pki) -> None:
    item = answer(pki, query())
    strict = query(claims=[{"path": [NAMESPACE, "permit_type"], "values": ["study"]}])
    with pytest.raises(MdocError) as caught:
        check(pki, item, strict)
    assert caught.value.code == "mdoc_claim_missing"


def test_another_doctype_is_refused(pki: Pki) -> None:
    item = answer(pki, query())
    with pytest.raises(MdocError) as caught:
        check(pki, item, query(meta={"doctype_value": "org.iso.18013.5.1.mDL"}))
    assert caught.value.code == "mdoc_doctype_mismatch"


@pytest.mark.parametrize("item", [None, 42, {"a": 1}, "not base64url!", "AAA=", "A" * 800_000])
def test_malformed_vp_token_entries(pki: Pki, item: Any) -> None:
    with pytest.raises(MdocError) as caught:
        check(pki, item, query())
    assert caught.value.code in ("mdoc_vp_token_malformed", "mdoc_malformed", "mdoc_too_large")


def test_the_role_verifier_reports_mso_mdoc_as_unsupported_instead_of_crashing() -> None:
    """Before DCQL knew mso_mdoc such a query could not exist; now the role Verifier
    (which has no mdoc path yet) must refuse it with a finding, not a KeyError."""
    import datetime as dt

    from ledger import Ledger
    from ssi_wallet import Verifier, policies

    verifier = Verifier(Ledger.open(":memory:"), audience="https://employer.example")
    request = verifier.request(policies.right_to_work())
    finding = verifier._verify_item(
        "AAAA", query().credentials[0], request, dt.datetime.now(dt.UTC), []
    )
    assert (finding.code, finding.ok, finding.query_id) == ("format_unsupported", False, "permit")
