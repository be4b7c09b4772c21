"""Issue 11 items 2 and 3: enveloped credentials and presentations at top level, and a
verifier's policy for keys whose controller is not a URL issuer.

VC Data Model 2.0 section 4.13: an ``EnvelopedVerifiableCredential`` (or ``...Presentation``)
is an object whose ``id`` is a ``data:`` URL holding a secured token; verifying it means
verifying that token. VC Data Integrity 1.0, "Verify Proof": the verifier ensures the key
is authorised by the issuer; the W3C ecdsa-jcs-2019 vectors name an https issuer and a
did:key method, which only a verifier that knows the issuer authorised that DID accepts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from core_support import NOW, V2, credential, did_key, load, seeded_key

from credentials import verify, verify_credential, verify_presentation
from credentials.data_integrity import AuthorisedControllers
from credentials.errors import ParseError
from credentials.jose import envelope_vc_jwt, issue_vc_jwt, issue_vp_jwt
from credentials.sd_jwt import issue_sd_jwt
from did_methods.keys import KeyType
from did_methods.resolver import Resolver

RESOLVER = Resolver.default()
ISSUER_KEY = seeded_key(KeyType.P256, 31)
ISSUER, ISSUER_VM = did_key(ISSUER_KEY)
HOLDER_KEY = seeded_key(KeyType.ED25519, 32)
HOLDER, HOLDER_VM = did_key(HOLDER_KEY)
NONCE, AUDIENCE = "n-0S6_WzA2Mj", "did:web:employer.example"


def _vc_jwt() -> str:
    return issue_vc_jwt(credential(ISSUER), ISSUER_KEY, kid=ISSUER_VM, now=NOW)


def _envelope(media: str, token: str, kind: str = "Credential") -> dict[str, Any]:
    return {"@context": [V2], "id": f"data:{media},{token}", "type": f"EnvelopedVerifiable{kind}"}


def _sd_jwt() -> str:
    return issue_sd_jwt(
        {"sector": "Q86"}, ISSUER_KEY, issuer=ISSUER, vct="WorkPermit", kid=ISSUER_VM, now=NOW
    )


# -- enveloped, at top level -------------------------------------------------------------


def test_enveloped_vc_jwt_verifies_its_token() -> None:
    enveloped = envelope_vc_jwt(_vc_jwt())
    result = verify(enveloped, resolver=RESOLVER, now=NOW)
    assert result.ok, result.explain()
    assert result.format == "vc+jwt" and result.kind == "credential"
    assert result.issuer == ISSUER
    # the same through JSON text, as a VC API body carries it
    assert verify(json.dumps(enveloped), resolver=RESOLVER, now=NOW).ok


def test_enveloped_vc_jwt_through_the_pinned_call() -> None:
    enveloped = envelope_vc_jwt(_vc_jwt())
    ok = verify_credential(
        enveloped, formats="jwt_vc_json", credential_type=None, resolver=RESOLVER, now=NOW
    )
    assert ok.ok, ok.explain()
    refused = verify_credential(
        enveloped, formats="ldp_vc", credential_type=None, resolver=RESOLVER, now=NOW
    )
    assert refused.codes == ("format_unexpected",)


def test_enveloped_vc_jwt_that_was_tampered_fails_its_signature() -> None:
    header, _payload, signature = _vc_jwt().split(".")
    other = issue_vc_jwt(credential(ISSUER, sector="F41"), ISSUER_KEY, kid=ISSUER_VM, now=NOW)
    forged = f"{header}.{other.split('.')[1]}.{signature}"
    result = verify(_envelope("application/vc+jwt", forged), resolver=RESOLVER, now=NOW)
    assert result.codes == ("signature_invalid",)


def test_enveloped_sd_jwt_vc_verifies() -> None:
    token = _sd_jwt()
    for media in ("application/dc+sd-jwt",):
        result = verify(_envelope(media, token), resolver=RESOLVER, now=NOW)
        assert result.ok, result.explain()
        assert result.vct == "WorkPermit" and result.issuer == ISSUER


def test_enveloped_vp_jwt_is_a_presentation_bound_to_nonce_and_audience() -> None:
    vp = issue_vp_jwt(
        None,
        HOLDER_KEY,
        kid=HOLDER_VM,
        credentials=[_vc_jwt()],
        nonce=NONCE,
        audience=AUDIENCE,
        now=NOW,
    )
    enveloped = _envelope("application/vp+jwt", vp, "Presentation")
    result = verify(enveloped, resolver=RESOLVER, now=NOW, nonce=NONCE, audience=AUDIENCE)
    assert result.ok, result.explain()
    assert result.kind == "presentation" and result.holder == HOLDER
    pinned = verify_presentation(
        enveloped,
        format="jwt_vc_json",
        nonce=NONCE,
        audience=AUDIENCE,
        credential_type=None,
        resolver=RESOLVER,
        now=NOW,
    )
    assert pinned.ok, pinned.explain()
    wrong_nonce = verify(enveloped, resolver=RESOLVER, now=NOW, nonce="other", audience=AUDIENCE)
    assert not wrong_nonce.ok
    # a presentation is never a credential, enveloped or not
    as_credential = verify_credential(
        enveloped, formats="jwt_vc_json", credential_type=None, resolver=RESOLVER, now=NOW
    )
    assert as_credential.codes == ("not_a_credential",)


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        (lambda t: _envelope("application/json", t), "media type"),
        (lambda t: _envelope("application/vc+jwt;base64", t), "media type"),
        (lambda t: _envelope("application/vp+jwt", t), "cannot hold"),
        (lambda t: _envelope("application/vc+jwt", t, "Presentation"), "cannot hold"),
        (lambda t: _envelope("application/dc+sd-jwt", t), "holds a jwt_vc_json"),
        (lambda t: _envelope("application/vc+jwt", ""), "empty"),
        (lambda t: _envelope("application/vc+jwt", t.replace(".", "%2E")), "encoded"),
        (lambda t: _envelope("application/vc+jwt", json.dumps(envelope_vc_jwt(t))), "encoded"),
        (lambda t: {**_envelope("application/vc+jwt", t), "@context": ["x"]}, "@context"),
        (lambda t: {**_envelope("application/vc+jwt", t), "id": t}, "data: URL"),
        (
            lambda t: {
                **_envelope("application/vc+jwt", t),
                "type": ["EnvelopedVerifiableCredential", "EnvelopedVerifiablePresentation"],
            },
            "not both",
        ),
    ],
)
def test_malformed_envelopes_are_parse_errors(envelope: Any, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        verify(envelope(_vc_jwt()), resolver=RESOLVER, now=NOW)


def test_an_envelope_holding_an_sd_jwt_presentation_is_not_a_credential() -> None:
    from credentials.sd_jwt import present

    issued = issue_sd_jwt(
        {"sector": "Q86"},
        ISSUER_KEY,
        issuer=ISSUER,
        vct="WorkPermit",
        kid=ISSUER_VM,
        holder_key=HOLDER_KEY.public_key,
        now=NOW,
    )
    shown = present(issued, [], holder_key=HOLDER_KEY, nonce=NONCE, audience=AUDIENCE, now=NOW)
    with pytest.raises(ParseError, match="holds a dc\\+sd-jwt presentation"):
        verify(_envelope("application/dc+sd-jwt", shown), resolver=RESOLVER, now=NOW)


# -- the key-controller policy -----------------------------------------------------------

W3C_P256 = "vc-di-ecdsa/ecdsa-jcs-2019-p256/signedJCSECDSAP256.json"
W3C_P384 = "vc-di-ecdsa/ecdsa-jcs-2019-p384/signedJCSECDSAP384.json"


def _method_did(document: dict[str, Any]) -> str:
    method: str = document["proof"]["verificationMethod"]
    return method.split("#")[0]


@pytest.mark.parametrize("vector", [W3C_P256, W3C_P384])
def test_w3c_vectors_need_the_verifiers_word_for_their_https_issuer(vector: str) -> None:
    document = load(vector)
    issuer, signer = document["issuer"], _method_did(document)
    assert issuer.startswith("https://") and signer.startswith("did:key:")
    # the default stays strict
    assert verify(document, resolver=RESOLVER, now=NOW).codes == ("key_not_issuer",)
    # a policy that knows the issuer authorised that did:key accepts it, and says so
    policy = AuthorisedControllers({issuer: [signer]})
    result = verify(document, resolver=RESOLVER, now=NOW, key_controllers=policy)
    assert result.ok, result.explain()
    (check,) = [c for c in result.checks if c.name == "key_authorisation"]
    assert check.details["by_policy"] is True and check.details["controllers"] == [signer]
    assert "policy" in check.message and issuer in check.message
    pinned = verify_credential(
        document,
        formats="ldp_vc",
        credential_type=None,
        resolver=RESOLVER,
        now=NOW,
        key_controllers=policy,
    )
    assert pinned.ok and pinned.issuer == issuer


@pytest.mark.parametrize(
    "make_policy",
    [
        lambda issuer, signer: AuthorisedControllers({"https://vc.example/other": [signer]}),
        lambda issuer, signer: AuthorisedControllers({issuer: ["did:key:zDnaeSomeoneElse"]}),
        lambda issuer, signer: AuthorisedControllers({}),
        lambda issuer, signer: lambda i, c: "yes",  # truthy is not True
        lambda issuer, signer: lambda i, c: 1 / 0,  # a failing policy says no
    ],
)
def test_policies_that_do_not_say_yes_keep_the_refusal(make_policy: Any) -> None:
    document = load(W3C_P256)
    policy = make_policy(document["issuer"], _method_did(document))
    result = verify(document, resolver=RESOLVER, now=NOW, key_controllers=policy)
    assert result.codes == ("key_not_issuer",)


def test_policy_never_rebinds_a_presentation_holder() -> None:
    from credentials.data_integrity import add_proof

    attacker_key = seeded_key(KeyType.ED25519, 33)
    _attacker, attacker_vm = did_key(attacker_key)
    vp = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER,
    }
    signed = add_proof(
        vp,
        attacker_key,
        verification_method=attacker_vm,
        proof_purpose="authentication",
        challenge=NONCE,
        domain=AUDIENCE,
        created=NOW,
    )
    everyone = lambda issuer, controller: True  # noqa: E731 - the laxest policy there is
    result = verify(
        signed,
        resolver=RESOLVER,
        now=NOW,
        challenge=NONCE,
        domain=AUDIENCE,
        key_controllers=everyone,
    )
    assert result.codes == ("key_not_holder",)


def test_policy_applies_inside_presentations_too() -> None:
    from credentials.data_integrity import add_proof

    document = load(W3C_P256)
    policy = AuthorisedControllers({document["issuer"]: [_method_did(document)]})
    vp = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER,
        "verifiableCredential": [document],
    }
    signed = add_proof(
        vp,
        HOLDER_KEY,
        verification_method=HOLDER_VM,
        proof_purpose="authentication",
        challenge=NONCE,
        domain=AUDIENCE,
        created=NOW,
    )
    strict = verify(signed, resolver=RESOLVER, now=NOW, challenge=NONCE, domain=AUDIENCE)
    assert strict.codes == ("key_not_issuer",)
    lenient = verify(
        signed, resolver=RESOLVER, now=NOW, challenge=NONCE, domain=AUDIENCE, key_controllers=policy
    )
    assert lenient.ok, lenient.explain()
