"""Attacks on ``jwt_vc_json`` (VC Data Model 1.1 JWTs) over OpenID4VP and OpenID4VCI, on
real HTTP on 127.0.0.1: a hostile wallet posts presentation JWTs our verifier must refuse
(each with its code in the transaction's report), a hostile issuer hands our wallet
credentials it must not store. The servers and worlds are those of tests/oid4vci and
tests/oid4vp, and the helpers those of test_attacks_oid4vc.py (no copies)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

sys.path[:0] = [str(Path(__file__).parents[1] / d) for d in ("oid4vci", "oid4vp")]

from _live_server import StaticServer  # noqa: E402
from oid4vci_world import World as IssuerWorld  # noqa: E402
from oid4vp_http import verifier_service  # noqa: E402
from oid4vp_world import World as VerifierWorld  # noqa: E402
from test_attacks_oid4vc import (  # noqa: E402
    _post_form,
    _refused_as_bound_elsewhere,
    _request,
    issuer,  # noqa: F401  (the fixture)
    static,  # noqa: F401  (the fixture)
    vp_world,  # noqa: F401  (the fixture)
)

from credentials.jws import CompactJWS, dumps, sign_compact  # noqa: E402
from credentials.jwt_vc import issue_jwt_vp  # noqa: E402
from did_methods._wire.b64 import b64url_encode as b64e  # noqa: E402
from did_methods.keys import KeyType, PrivateKey  # noqa: E402
from did_methods.methods.jwk import did_jwk_from_jwk  # noqa: E402
from ssi_wallet.oid4vp.wallet import AuthorizationRequest  # noqa: E402

QUERY = "work_jwt"


def _held(w: VerifierWorld) -> tuple[str, PrivateKey]:
    """Amina's jwt_vc_json work permit (sub = her wallet's did:key) and her key."""
    issued = w.ministry.issue(
        "WorkPermit", subject=w.wallet.did, claims=w.work_claims(), format="jwt_vc_json"
    )
    assert isinstance(issued.credential, str)
    w.wallet.store(issued.credential)
    return issued.credential, w.wallet._key


def _vp(credential: str, key: PrivateKey, did: str, kid: str, nonce: str, aud: str) -> str:
    return issue_jwt_vp([credential], key, kid=kid, nonce=nonce, audience=aud)


def _amina(w: VerifierWorld, credential: str, key: PrivateKey, r: AuthorizationRequest) -> str:
    did = w.wallet.did
    kid = f"{did}#{key.public_key.to_multikey()}"
    return _vp(credential, key, did, kid, r.nonce, r.client_id)


def _stolen(w: VerifierWorld, credential: str, _: PrivateKey, r: AuthorizationRequest) -> str:
    """A thief presents Amina's credential in a VP it signs with its own did:jwk."""
    thief = PrivateKey.generate(KeyType.ED25519)
    did = did_jwk_from_jwk(thief.public_key)
    return _vp(credential, thief, did, f"{did}#0", r.nonce, r.client_id)


def _other_nonce(w: VerifierWorld, c: str, key: PrivateKey, r: AuthorizationRequest) -> str:
    did = w.wallet.did
    return _vp(c, key, did, f"{did}#{key.public_key.to_multikey()}", "not-" + r.nonce, r.client_id)


def _other_audience(w: VerifierWorld, c: str, key: PrivateKey, r: AuthorizationRequest) -> str:
    did = w.wallet.did
    kid = f"{did}#{key.public_key.to_multikey()}"
    return _vp(c, key, did, kid, r.nonce, "x509_san_dns:elsewhere.example")


def _alg_none(w: VerifierWorld, c: str, key: PrivateKey, r: AuthorizationRequest) -> str:
    genuine = _amina(w, c, key, r)
    head = b64e(dumps({**CompactJWS.parse(genuine).header, "alg": "none"}))
    return head + "." + genuine.split(".", 1)[1]


def _vc_jose_typ(w: VerifierWorld, c: str, key: PrivateKey, r: AuthorizationRequest) -> str:
    """The 1.1 claims under a VC-JOSE typ: verified as a vp+jwt, whose payload must itself be
    the presentation; this one names no holder at the top level, so no key is found."""
    genuine = CompactJWS.parse(_amina(w, c, key, r))
    return sign_compact({**genuine.header, "typ": "vp+jwt"}, genuine.payload_bytes, key)


def _bare_credential(w: VerifierWorld, c: str, key: PrivateKey, r: AuthorizationRequest) -> str:
    """The credential alone, with no presentation around it (no nonce, no aud)."""
    return c


def _revoked(w: VerifierWorld, c: str, key: PrivateKey, r: AuthorizationRequest) -> str:
    entry = CompactJWS.parse(c).payload["vc"]["credentialStatus"][0]
    w.ministry.revoke(int(entry["statusListIndex"]))
    return _amina(w, c, key, r)


@pytest.mark.parametrize(
    ("forge", "code"),
    [
        pytest.param(_stolen, "holder_mismatch", id="stolen"),
        pytest.param(_other_nonce, "nonce_mismatch", id="nonce"),
        pytest.param(_other_audience, "audience_mismatch", id="audience"),
        pytest.param(_alg_none, "alg_not_allowed", id="alg-none"),
        pytest.param(_vc_jose_typ, "key_unresolved", id="vc-jose-typ"),
        pytest.param(_bare_credential, "not_a_presentation", id="no-presentation"),
        pytest.param(_revoked, "revoked", id="revoked"),
    ],
)
def test_oid4vp_hostile_jwt_vc_json_presentations_are_refused_with_their_code(
    vp_world: VerifierWorld,  # noqa: F811
    tmp_path: Path,
    forge: Callable[..., str],
    code: str,
) -> None:
    credential, key = _held(vp_world)
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _request(service, formats=["jwt_vc_json"])
        vp_token = forge(vp_world, credential, key, request)
        form = {"vp_token": json.dumps({QUERY: [vp_token]}), "state": request.state or ""}
        assert _post_form(service, form)[0] == 200  # received, then judged
        judged = service.result(made["transaction_id"])
    assert judged["status"] == "answered" and judged["ok"] is False, judged
    assert code in json.dumps(judged["report"]), judged["report"]


def test_oid4vp_the_genuine_jwt_vc_json_presentation_is_accepted(
    vp_world: VerifierWorld,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The control for the refusals above: the same path, Amina's own presentation."""
    credential, key = _held(vp_world)
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _request(service, formats=["jwt_vc_json"])
        form = {
            "vp_token": json.dumps({QUERY: [_amina(vp_world, credential, key, request)]}),
            "state": request.state or "",
        }
        assert _post_form(service, form)[0] == 200
        judged = service.result(made["transaction_id"])
    assert judged["ok"] is True, judged


def _jwt_vc_json_for(issuer: IssuerWorld, sub: str, subject_id: str | None = None) -> str:  # noqa: F811
    """A genuine jwt_vc_json from the real ministry, bound (sub) to ``sub``; with
    ``subject_id``, re-signed with a credentialSubject.id that differs from sub."""
    issued = issuer.ministry.issue(
        "WorkPermit", subject=sub, claims=issuer.claims(), format="jwt_vc_json"
    ).credential
    assert isinstance(issued, str)
    if subject_id is None:
        return issued
    parsed = CompactJWS.parse(issued)
    claims = json.loads(parsed.payload_bytes)
    claims["vc"]["credentialSubject"]["id"] = subject_id
    return sign_compact(dict(parsed.header), dumps(claims), issuer.ministry._key)


@pytest.mark.parametrize("conflict", [False, True], ids=["another-key", "sub-vs-subject-id"])
def test_oid4vci_hostile_issuer_hands_a_jwt_vc_json_bound_to_another_key(
    issuer: IssuerWorld,  # noqa: F811
    static: StaticServer,  # noqa: F811
    conflict: bool,
) -> None:
    """The sub names a did:jwk of a key the wallet never proved (with the conflict, the
    vc's credentialSubject.id names the wallet's own DID while sub names the other key)."""
    other = did_jwk_from_jwk(PrivateKey.generate(KeyType.P256).public_key)
    forged = _jwt_vc_json_for(issuer, other, issuer.wallet.did if conflict else None)
    _refused_as_bound_elsewhere(issuer, static, forged)
