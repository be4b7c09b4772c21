"""Attacks on the OpenID4VP 1.0 extensions (x509_hash:, session binding of results,
persistent transactions, transaction data), over real HTTP on 127.0.0.1; each refusal
asserts its own code. The servers and worlds are those of tests/oid4vp (no copies)."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

pytest.importorskip("uvicorn")

sys.path[:0] = [str(Path(__file__).parents[1] / "oid4vp")]

from _live_server import StaticServer, static_server_fixture  # noqa: E402
from oid4vp_http import (  # noqa: E402
    ATTESTER,
    ATTESTER_KEY,
    PKI,
    RecordingTransport,
    VerifierPKI,
    attestation_for,
    verifier_service,
    wallet_answers,
)
from oid4vp_world import World as VerifierWorld  # noqa: E402
from oid4vp_world import _make_world as _make_verifier_world  # noqa: E402
from test_attacks_oid4vc import (  # noqa: E402
    REQUEST_MEDIA,
    _answer,
    _genuine_claims,
    _present_forged,
    _request,
    _yes,
)

from did_methods._wire.b64 import b64url_encode as b64e  # noqa: E402
from did_methods.errors import PolicyError  # noqa: E402
from did_methods.resolver import Resolver  # noqa: E402
from ssi_wallet.oid4vp import (  # noqa: E402
    AuthorizationRequestURI,
    OID4VPError,
    X509HashClient,
    present,
)
from ssi_wallet.oid4vp.wallet import (  # noqa: E402
    AuthorizationRequest,
    response_form,
    verify_request_object,
)


@pytest.fixture
def vp_world() -> VerifierWorld:
    return _make_verifier_world()


static = static_server_fixture()


# -- x509_hash: ------------------------------------------------------------------------------


def test_x509_hash_request_signed_under_another_trusted_certificate(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer
) -> None:
    """Another verifier with a certificate the wallet trusts too signs a request in the name
    of ours (the genuine client id and claims): its leaf is not the hashed one."""
    vp_world.store()
    other = VerifierPKI.make("localhost")
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service, "hash")
    forged = X509HashClient(other.leaf_key, _ders(other)).request_object(claims)
    refusal = _present_forged(
        vp_world, static, made["client_id"], forged, trust_anchors=[PKI.root, other.root]
    )
    assert refusal.code == "x509_hash_mismatch"
    assert refusal.error == "invalid_client"


def test_x509_hash_request_without_a_signature(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer
) -> None:
    from ssi_wallet.oid4vp._protocol import unsigned_request_object

    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service, "hash")
    refusal = _present_forged(
        vp_world,
        static,
        made["client_id"],
        unsigned_request_object(claims),
        trust_anchors=[PKI.root],
    )
    assert refusal.code == "request_unsigned"


@pytest.mark.parametrize(
    "client_id",
    [
        "openid_federation:https://verifier.example",
        "origin:https://verifier.example",
        "x509_hash_x:abc",
    ],
)
def test_unsupported_client_id_prefixes_are_refused_before_any_fetch(
    vp_world: VerifierWorld, static: StaticServer, client_id: str
) -> None:
    link = "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": static.url("/r")})
    with pytest.raises(OID4VPError) as caught:
        present(vp_world.wallet, link, consent=_yes, resolver=Resolver.offline())
    assert caught.value.code == "client_id_prefix_unsupported"
    assert static.requests == []


def _ders(pki: VerifierPKI) -> tuple[bytes, ...]:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    chain = x509.load_pem_x509_certificates(pki.chain_pem)
    return tuple(c.public_bytes(Encoding.DER) for c in chain)


# -- session binding of results -------------------------------------------------------------

DONE = "https://verifier.example/done"


def test_session_fixation_attacker_started_link_answered_by_a_victim(
    vp_world: VerifierWorld, tmp_path: Path
) -> None:
    """The attacker starts a same-device transaction (and so holds its result token),
    sends the link to a victim whose wallet answers it: the attacker sees that it was
    answered, never the victim's claims; a guessed response_code is refused."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path, redirect_uri=DONE) as service:
        made = service.create()
        outcome = wallet_answers(vp_world.wallet, made["authorization_request"])
        assert outcome.redirect_uri is not None  # the victim's browser goes there
        attacker = service.result(made["transaction_id"])
        guessed = service.call(
            "GET",
            f"/oid4vp/results/{made['transaction_id']}?response_code=guessed",
            token=made["result_token"],
        )
    assert attacker["response_code_required"] is True
    assert "report" not in attacker and "ok" not in attacker and "explanation" not in attacker
    assert guessed[0] == 404 and guessed[2]["code"] == "state_unknown"


@pytest.mark.parametrize("bearer", [None, "other", "wrong-token", "x" * 5000])
def test_result_without_its_secret_is_refused(
    vp_world: VerifierWorld, tmp_path: Path, bearer: str | None
) -> None:
    """GET /oid4vp/results/{id} with no secret, another transaction's result token, a
    wrong token or a huge one: 401 result_unauthorized, nothing of the result."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made = service.create()
        other = service.create()
        wallet_answers(vp_world.wallet, made["authorization_request"])
        token = other["result_token"] if bearer == "other" else bearer
        status, _, body = service.call(
            "GET", f"/oid4vp/results/{made['transaction_id']}", token=token
        )
    assert status == 401, body
    assert body["code"] == "result_unauthorized"
    assert "report" not in body and "ok" not in body


def test_same_device_flow_needs_a_redirect_uri(vp_world: VerifierWorld, tmp_path: Path) -> None:
    with verifier_service(vp_world, tmp_path) as service:
        status, _, body = service.call(
            "POST", "/oid4vp/requests", {"policy": "right_to_work", "flow": "same_device"}
        )
        flood = service.call(
            "POST", "/oid4vp/requests", {"policy": "right_to_work", "flow": "x" * 100}
        )
    assert status == 400 and body["code"] == "invalid_request"
    assert flood[0] == 400 and flood[2]["code"] == "invalid_request"


@pytest.mark.parametrize(
    "redirect",
    [
        "javascript:alert(1)",
        "data:text/html,hi",
        "wallet-app://x",
        "https://",
        7,
        "https://a/" + "x" * 5000,
    ],
)
def test_hostile_redirect_uri_is_not_followed(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer, redirect: object
) -> None:
    """A DID-signed request whose response URI answers a redirect_uri the wallet must
    not hand to a browser: redirect_uri_invalid."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service)
    static.put_json("/resp", {"redirect_uri": redirect})
    forged = vp_world.did_client().request_object({**claims, "response_uri": static.url("/resp")})
    refusal = _present_forged(vp_world, static, made["client_id"], forged)
    assert refusal.code == "redirect_uri_invalid"
    assert static.hits["/resp"] == 1


# -- persistent transactions ----------------------------------------------------------------


def test_racing_responses_and_a_replay_after_a_restart(
    vp_world: VerifierWorld, tmp_path: Path
) -> None:
    """Eight copies of one response posted at once to a verifier on a SQLite state file:
    one is judged, the rest are response_replayed; after a restart the copy is refused
    again and the request URI no longer serves the request object."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path, state="state.db") as service:
        made, request = _request(service)
        form = response_form(request, _answer(vp_world, request))
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda _: service.call("POST", "/oid4vp/response", form=form, token=None),
                    range(8),
                )
            )
        tokens = dict(service.result_tokens)
        port = int(service.base.rsplit(":", 1)[1])
    assert sorted(a[0] for a in answers) == [200] + [400] * 7
    assert {a[2]["code"] for a in answers if a[0] == 400} == {"response_replayed"}
    with verifier_service(vp_world, tmp_path, state="state.db", port=port) as again:
        again.result_tokens.update(tokens)
        replayed = again.call("POST", "/oid4vp/response", form=form, token=None)
        fetched = RecordingTransport().get(made["request_uri"], accept=REQUEST_MEDIA)
        assert again.result(made["transaction_id"])["ok"] is True
    assert replayed[0] == 400 and replayed[2]["code"] == "response_replayed"
    assert fetched.status == 400 and json.loads(fetched.body)["code"] == "response_replayed"


# -- transaction data -----------------------------------------------------------------------

TENANCY = "urn:example:tenancy-contract"


def _item(**extra: object) -> dict:
    return {"type": TENANCY, "credential_ids": ["work_sd"], "rent": "900 EUR", **extra}


def test_transaction_data_of_an_unknown_type_is_refused(
    vp_world: VerifierWorld, tmp_path: Path
) -> None:
    """A wallet that knows no such transaction refuses the request, discloses nothing."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made = service.create(transaction_data=[_item()])
        with pytest.raises(OID4VPError) as caught:
            wallet_answers(vp_world.wallet, made["authorization_request"])
        pending = service.result(made["transaction_id"])
    assert caught.value.code == "transaction_data_unsupported"
    assert caught.value.error == "invalid_transaction_data"
    assert pending["status"] == "pending" and vp_world.wallet.history() == []


@pytest.mark.parametrize(
    "items",
    [
        ["not base64 json!"],
        [b64e(b"[1, 2]")],
        [b64e(json.dumps({"type": TENANCY, "credential_ids": ["work_di"]}).encode())],
        [b64e(json.dumps({"type": TENANCY, "credential_ids": ["nowhere"]}).encode())],
        [b64e(json.dumps({"type": TENANCY, "credential_ids": []}).encode())],
        [b64e(json.dumps({"credential_ids": ["work_sd"]}).encode())],
        [b64e(json.dumps(_item(transaction_data_hashes_alg=["md5"])).encode())],
        [b64e(json.dumps(_item(pad="x" * 9000)).encode())],
        [b64e(json.dumps(_item()).encode())] * 17,
        "a string, not a list",
    ],
)
def test_malformed_transaction_data_is_refused(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer, items: object
) -> None:
    """A DID-signed request whose transaction data is not base64url JSON, names a Data
    Integrity query (no key binding to carry it), an unknown query or none, has no
    type, offers only md5, is huge or too many: transaction_data_invalid."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service)
    forged = vp_world.did_client().request_object({**claims, "transaction_data": items})
    url = static.put("/req", forged, headers={"Content-Type": REQUEST_MEDIA})
    link = "openid4vp://?" + urlencode({"client_id": made["client_id"], "request_uri": url})
    with pytest.raises(OID4VPError) as caught:
        wallet_answers(vp_world.wallet, link, transaction_data_types=[TENANCY])
    assert caught.value.code == "transaction_data_invalid"
    assert vp_world.wallet.history() == []


def test_the_verifier_refuses_to_send_transaction_data_no_sd_jwt_can_bind(
    vp_world: VerifierWorld, tmp_path: Path
) -> None:
    with verifier_service(vp_world, tmp_path) as service:
        status, _, body = service.call(
            "POST",
            "/oid4vp/requests",
            {"policy": "right_to_work", "transaction_data": [_item(credential_ids=["work_di"])]},
        )
    assert status == 400, body


def _tx_request(service: Any, **create: Any) -> tuple[dict[str, Any], AuthorizationRequest]:
    made = service.create(transaction_data=[_item()], **create)
    uri = AuthorizationRequestURI.parse(made["authorization_request"])
    assert uri.request_uri is not None
    reply = RecordingTransport().get(uri.request_uri, accept=REQUEST_MEDIA)
    request = verify_request_object(
        reply.body, uri, resolver=Resolver.offline(), transaction_data_types=[TENANCY]
    )
    return made, request


@pytest.mark.parametrize("swap", ["dropped", "another transaction"])
def test_a_presentation_that_does_not_authorise_the_transaction_is_refused(
    vp_world: VerifierWorld, tmp_path: Path, swap: str
) -> None:
    """A hostile wallet presents a genuine credential but drops the transaction data
    from its key binding, or binds another transaction: the signatures hold, the
    decision is no (transaction_data_unbound; a stray hash transaction_data_unexpected)."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _tx_request(service)
        other = b64e(json.dumps(_item(rent="1 EUR")).encode())
        edited = replace(request, transaction_data=() if swap == "dropped" else (other,))
        form = response_form(request, _answer(vp_world, edited))
        posted = service.call("POST", "/oid4vp/response", form=form, token=None)
        result = service.result(made["transaction_id"])
    assert posted[0] == 200
    assert result["ok"] is False
    codes = [f["code"] for f in result["report"]["findings"] if not f["ok"]]
    expected = ["transaction_data_unbound"]
    if swap != "dropped":
        expected.append("transaction_data_unexpected")
    assert codes == expected, result["report"]["findings"]


def test_transaction_data_naming_no_presented_credential_is_not_signed(
    vp_world: VerifierWorld,
) -> None:
    """The Holder reads the items again before it signs: one naming a query it does not
    present is cannot_satisfy, and nothing is recorded."""
    from ssi_wallet import policies
    from ssi_wallet.request import PresentationRequest

    vp_world.store()
    request = vp_world.oid4vp().verifier.request(policies.right_to_work())
    item = b64e(json.dumps(_item(credential_ids=["work_sd"])).encode())
    # the Holder presents only work_sd; this request asks for an unknown query id
    unbound = b64e(json.dumps({"type": TENANCY, "credential_ids": ["elsewhere"]}).encode())
    for raw, says in ((unbound, "names no credential query"), (item, None)):
        asked = PresentationRequest(
            request.query,
            request.nonce,
            request.audience,
            "",
            None,
            request.issued_at,
            request.expires_at,
            {"transaction_data": [raw]},
        )
        if says is None:
            vp_world.wallet.answer(asked, consent=_yes)
            continue
        with pytest.raises(PolicyError, match=says):
            vp_world.wallet.answer(asked, consent=_yes)
    assert len(vp_world.wallet.history()) == 1


# -- wallet_metadata ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        (
            {"client_id_prefixes_supported": ["x509_hash", "verifier_attestation"]},
            "wallet_metadata_unsupported",
        ),
        ({"request_object_signing_alg_values_supported": ["ES256"]}, "wallet_metadata_unsupported"),
        ({"response_modes_supported": ["direct_post"]}, "wallet_metadata_unsupported"),
        ({"vp_formats_supported": {"mso_mdoc": {}}}, "wallet_metadata_unsupported"),
        (
            {"authorization_encryption_alg_values_supported": ["RSA-OAEP-256"]},
            "wallet_metadata_unsupported",
        ),
        (
            {"authorization_encryption_enc_values_supported": ["A192GCM"]},
            "wallet_metadata_unsupported",
        ),
        ({"client_id_prefixes_supported": "decentralized_identifier"}, "wallet_request_invalid"),
        ({"vp_formats_supported": ["dc+sd-jwt"]}, "wallet_request_invalid"),
        ({"response_modes_supported": ["direct_post.jwt"] * 65}, "wallet_request_invalid"),
    ],
)
def test_wallet_metadata_the_request_cannot_meet_is_refused(
    vp_world: VerifierWorld, tmp_path: Path, metadata: dict, code: str
) -> None:
    """A did:key (EdDSA) verifier asked for an encrypted response, by a wallet whose
    metadata excludes what the request uses, or is malformed: refused with its code,
    and the request stays answerable by a wallet that can."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made = service.create(response_mode="direct_post.jwt", request_uri_method="post")
        form = {"wallet_metadata": json.dumps(metadata), "wallet_nonce": "n0nce"}
        path = made["request_uri"][len(service.base) :]
        status, _, body = service.call("POST", path, form=form, token=None)
        wallet_answers(vp_world.wallet, made["authorization_request"])
        assert service.result(made["transaction_id"])["ok"] is True
    assert status == 400 and body["code"] == code, body


# -- verifier_attestation: ------------------------------------------------------------------


def _attested_refusal(
    w: VerifierWorld, static: StaticServer, client_id: str, request_object: str, **kw: Any
) -> OID4VPError:
    url = static.put("/req", request_object, headers={"Content-Type": REQUEST_MEDIA})
    link = "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": url})
    with pytest.raises(OID4VPError) as caught:
        wallet_answers(w.wallet, link, **kw)
    assert w.wallet.history() == []
    return caught.value


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("issuer not trusted", "verifier_attestation_untrusted"),
        ("signed by another key under the trusted iss", "verifier_attestation_untrusted"),
        ("attested for another name", "verifier_attestation_invalid"),
        ("expired", "verifier_attestation_invalid"),
        ("another typ", "verifier_attestation_invalid"),
        ("no attestation", "verifier_attestation_invalid"),
        ("request signed by a key not attested", "request_signature_invalid"),
        ("response_uri not attested", "response_uri_mismatch"),
    ],
)
def test_verifier_attestation_refusals(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer, case: str, code: str
) -> None:
    """A hostile verifier claims an attested name: each way its attestation or request
    falls short is refused with its code, before anything is disclosed."""
    from datetime import UTC, datetime, timedelta

    from did_methods.keys import KeyType, PrivateKey
    from ssi_wallet.oid4vp._protocol import sign_request_object
    from ssi_wallet.oid4vp.attestation import issue_verifier_attestation

    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        _, claims = _genuine_claims(service, "attested")
        base = service.base
    key, name, issuers = vp_world.verifier_key, "localhost", {ATTESTER: ATTESTER_KEY.public_key}
    attestation = attestation_for(vp_world, base)
    if case == "issuer not trusted":
        issuers = {}
    elif case == "signed by another key under the trusted iss":
        attestation = issue_verifier_attestation(
            PrivateKey.generate(KeyType.P256),
            issuer=ATTESTER,
            subject=name,
            verifier_key=key.public_key,
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
    elif case == "attested for another name":
        name = "evil.example"  # the genuine attestation names localhost
    elif case == "expired":
        attestation = attestation_for(
            vp_world, base, expires_at=datetime.now(UTC) - timedelta(hours=1)
        )
    elif case == "another typ":
        _, rest = attestation.split(".", 1)
        attestation = b64e(json.dumps({"alg": "ES256", "typ": "JWT"}).encode()) + "." + rest
    elif case == "request signed by a key not attested":
        key = PrivateKey.generate()
    elif case == "response_uri not attested":
        attestation = attestation_for(vp_world, base, redirect_uris=["https://elsewhere.example/r"])
    client_id = f"verifier_attestation:{name}"
    header = {} if case == "no attestation" else {"jwt": attestation}
    forged = sign_request_object({**claims, "client_id": client_id}, key, header)
    refusal = _attested_refusal(vp_world, static, client_id, forged, attestation_issuers=issuers)
    assert refusal.code == code, refusal
