"""OpenID4VP 1.0 beyond the first build, over real HTTP on 127.0.0.1: the ``x509_hash:``
client identifier prefix (HAIP's) on the verifier's side (our wallet answers it in
test_oid4vp_http's every-prefix test); session binding of results (the response_code
of a same-device flow, the result token of the page that started a transaction)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from oid4vp_http import (
    ATTESTER,
    ATTESTER_KEY,
    PKI,
    RecordingTransport,
    Service,
    verifier_service,
    wallet_answers,
)
from oid4vp_world import World

from did_methods._wire.b64 import b64url_decode
from did_methods.resolver import Resolver
from ssi_wallet.holder import ConsentRequest
from ssi_wallet.oid4vp import AuthorizationRequestURI, verify_request_object
from ssi_wallet.oid4vp.client import wallet_metadata
from ssi_wallet.oid4vp.wallet import response_form

pytest.importorskip("uvicorn")


def _leaf_hash() -> str:
    """The x509_hash of the service's leaf, computed here from the PEM chain."""
    leaf = x509.load_pem_x509_certificates(PKI.chain_pem)[0]
    digest = hashlib.sha256(leaf.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_x509_hash_client_id_is_the_leaf_certificates_hash(world: World, tmp_path: Path) -> None:
    world.store()
    with verifier_service(world, tmp_path) as service:
        made = service.create(client="hash", request_uri_method="post")
        assert made["client_id"] == f"x509_hash:{_leaf_hash()}"
        transport = RecordingTransport()
        outcome = wallet_answers(world.wallet, made["authorization_request"], transport=transport)
        assert [m for m, _ in transport.calls] == ["POST", "POST"]
        assert outcome.request.client_id == made["client_id"]
        assert service.result(made["transaction_id"])["ok"] is True


def test_wallet_metadata_names_x509_hash() -> None:
    prefixes = wallet_metadata("x509_hash")["client_id_prefixes_supported"]
    assert "x509_hash" in prefixes and "verifier_attestation" in prefixes
    assert "openid_federation" not in prefixes and "origin" not in prefixes


# -- session binding of results (response_code, result token) --------------------------------

DONE = "https://verifier.example/done"


def _code(redirect: str | None) -> str:
    match = re.fullmatch(re.escape(DONE) + r"#response_code=([\w-]{40,})", redirect or "")
    assert match, redirect
    return match[1]


def test_same_device_decision_is_released_with_the_response_code(
    world: World, tmp_path: Path
) -> None:
    world.store()
    with verifier_service(world, tmp_path, redirect_uri=DONE) as service:
        made = service.create()  # a redirect_uri makes same_device the default
        assert made["flow"] == "same_device"
        outcome = wallet_answers(world.wallet, made["authorization_request"])
        code = _code(outcome.redirect_uri)
        # the page that started it sees that it was answered, not the decision
        sealed = service.result(made["transaction_id"])
        assert sealed == {
            "transaction_id": made["transaction_id"],
            "status": "answered",
            "response_code_required": True,
        }
        # the browser the wallet sent back, with the code, reads the decision
        opened = service.result(made["transaction_id"], response_code=code, lang="de")
    assert opened["ok"] is True
    assert opened["explanation"].startswith("ANGENOMMEN: ")


def test_same_device_wallet_error_also_redirects_with_a_code(world: World, tmp_path: Path) -> None:
    with verifier_service(world, tmp_path, redirect_uri=DONE) as service:
        made = service.create()
        uri = AuthorizationRequestURI.parse(made["authorization_request"])
        assert uri.request_uri is not None
        reply = RecordingTransport().get(uri.request_uri, accept="application/oauth-authz-req+jwt")
        state = json.loads(b64url_decode(reply.body.decode().split(".")[1]))["state"]
        form = {"error": "access_denied", "state": state}
        status, _, ack = service.call("POST", "/oid4vp/response", form=form, token=None)
        assert status == 200
        code = _code(ack["redirect_uri"])
        assert "error" not in service.result(made["transaction_id"])
        declined = service.result(made["transaction_id"], response_code=code)
    assert declined["status"] == "wallet_error" and declined["error"] == "access_denied"


def test_cross_device_flow_beside_a_redirect_uri(world: World, tmp_path: Path) -> None:
    """A QR code for another device: no redirect, and the page's token reads the decision."""
    world.store()
    with verifier_service(world, tmp_path, redirect_uri=DONE) as service:
        made = service.create(flow="cross_device")
        outcome = wallet_answers(world.wallet, made["authorization_request"])
        assert outcome.redirect_uri is None
        assert service.result(made["transaction_id"])["ok"] is True


def test_the_back_office_token_reads_any_result(world: World, tmp_path: Path) -> None:
    world.store()
    with verifier_service(world, tmp_path, redirect_uri=DONE) as service:
        made = service.create()
        wallet_answers(world.wallet, made["authorization_request"])
        status, _, body = service.call("GET", f"/oid4vp/results/{made['transaction_id']}")
    assert status == 200 and body["ok"] is True


# -- persistence: a restarted verifier keeps its transactions --------------------------------


def _nonce_used(db: Path, nonce: str) -> bool:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (used,) = conn.execute(
            "SELECT used_at FROM verifier_nonces WHERE nonce = ?", (nonce,)
        ).fetchone()
    return used is not None


def test_pending_requests_and_results_survive_a_restart(world: World, tmp_path: Path) -> None:
    world.store()
    # 1. the first process makes two requests (one encrypted, fetched by POST), then stops
    with verifier_service(world, tmp_path, state="state.db") as first:
        encrypted = first.create(response_mode="direct_post.jwt", request_uri_method="post")
        plain = first.create(client="hash")
        tokens = dict(first.result_tokens)
    # 2. a new process on the same state file serves them: request objects, the
    #    ephemeral decryption key, the nonces, the policies
    port = int(first.base.rsplit(":", 1)[1])
    with verifier_service(world, tmp_path, state="state.db", port=port) as second:
        second.result_tokens.update(tokens)
        assert second.result(plain["transaction_id"]) == {
            "transaction_id": plain["transaction_id"],
            "status": "pending",
        }
        outcome = wallet_answers(world.wallet, encrypted["authorization_request"])
        assert outcome.request.response_mode == "direct_post.jwt"
        wallet_answers(world.wallet, plain["authorization_request"])
        assert second.result(encrypted["transaction_id"])["ok"] is True
        form = response_form(outcome.request, outcome.presentation)
    assert _nonce_used(tmp_path / "state.db", outcome.request.nonce)
    # 3. and a third process still has the decisions, in every language, and refuses the
    #    same response again
    with verifier_service(world, tmp_path, state="state.db", port=port) as third:
        third.result_tokens.update(tokens)
        decided = third.result(plain["transaction_id"], lang="de")
        again = third.call("POST", "/oid4vp/response", form=form, token=None)
    assert decided["ok"] is True
    assert decided["explanation"].startswith("ANGENOMMEN: "), decided["explanation"]
    assert [f["code"] for f in decided["report"]["findings"]]
    assert again[0] == 400 and again[2]["code"] == "response_replayed"


def test_a_decided_transaction_round_trips_through_its_json_form(world: World) -> None:
    """An encrypted transaction with its decision, written as JSON and read back: the same
    request (digest), key, handles and secrets, and the same decision in every language."""
    from dataclasses import replace

    from ssi_wallet import policies
    from ssi_wallet.oid4vp.store import transaction_from_json, transaction_to_json
    from ssi_wallet.replay import request_digest

    world.store()
    oid = world.oid4vp()
    made = oid.create(policies.right_to_work(sector="Q86"), response_mode="direct_post.jwt")
    uri = AuthorizationRequestURI.parse(made.authorization_request)
    text = oid.request_object(made.request_uri.rsplit("/", 1)[1])
    request = verify_request_object(text, uri, resolver=Resolver.offline())
    shown = world.wallet.answer(request.presentation_request(), consent=lambda _: True)
    oid.receive(response_form(request, shown))
    decided = oid.result(made.transaction_id, result_token=made.result_token)
    assert decided.report is not None and decided.encryption_key is not None

    back = transaction_from_json(
        json.loads(json.dumps(transaction_to_json(decided))), policies.by_name
    )
    assert request_digest(back.request) == request_digest(decided.request)
    assert back.encryption_key is not None
    assert back.encryption_key.private_jwk() == decided.encryption_key.private_jwk()
    assert (back.policy.name, back.policy.params) == ("right_to_work", {"sector": "Q86"})
    assert back.policy.query() == decided.policy.query()
    same = replace(
        decided,
        policy=back.policy,
        report=back.report,
        encryption_key=back.encryption_key,
        report_json=back.report_json,
    )
    assert back == same
    for language in ("en", "de", "uk", "ar", "fa"):
        assert back.to_json(language) == decided.to_json(language)


# -- transaction data -----------------------------------------------------------------------

TENANCY = "urn:example:tenancy-contract"


def _kb_payload(presentation: str) -> dict:
    kb = presentation.rsplit("~", 1)[1]
    return json.loads(b64url_decode(kb.split(".")[1]))


@pytest.mark.parametrize("algs", [None, ["sha-256"]])
def test_transaction_data_is_shown_bound_and_checked(
    world: World, tmp_path: Path, algs: list[str] | None
) -> None:
    world.store()
    item: dict = {"type": TENANCY, "credential_ids": ["work_sd"], "rent": "900 EUR"}
    if algs is not None:
        item["transaction_data_hashes_alg"] = algs
    asked: list[str] = []

    def consent(ask: ConsentRequest) -> bool:
        asked.append(ask.describe("en"))
        return True

    with verifier_service(world, tmp_path) as service:
        made = service.create(transaction_data=[item], request_uri_method="post")
        outcome = wallet_answers(
            world.wallet,
            made["authorization_request"],
            consent=consent,
            transaction_data_types=[TENANCY],
        )
        result = service.result(made["transaction_id"])
    # the person saw the transaction, with its details, before anything was signed
    assert f"and you authorise: {TENANCY}" in asked[0] and 'rent="900 EUR"' in asked[0]
    # the KB-JWT carries the SHA-256 of the item's string as sent (not decoded)
    (raw,) = outcome.request.transaction_data
    digest = base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest()).rstrip(b"=")
    kb = _kb_payload(outcome.presentation.vp_token["work_sd"][0])
    assert kb["transaction_data_hashes"] == [digest.decode()]
    assert kb.get("transaction_data_hashes_alg") == (None if algs is None else "sha-256")
    assert json.loads(b64url_decode(raw)) == item
    assert result["ok"] is True, result["explanation"]
    codes = [f["code"] for f in result["report"]["findings"]]
    assert "transaction_data_bound" in codes


# -- wallet_metadata (request_uri_method=post) is honoured ----------------------------------


def _posted_claims(service: Service, made: dict, metadata: dict) -> tuple[int, dict]:
    form = {"wallet_metadata": json.dumps(metadata), "wallet_nonce": "n0nce"}
    status, _, body = service.call("POST", made["request_uri"][len(service.base) :], form=form)
    if status != 200:
        return status, body
    return status, json.loads(b64url_decode(body.decode().split(".")[1]))


def test_wallet_metadata_narrows_the_encryption_offered(world: World, tmp_path: Path) -> None:
    world.store()
    with verifier_service(world, tmp_path) as service:
        made = service.create(response_mode="direct_post.jwt", request_uri_method="post")
        status, claims = _posted_claims(
            service, made, {"authorization_encryption_enc_values_supported": ["A256GCM"]}
        )
        assert status == 200 and claims["wallet_nonce"] == "n0nce"
        assert claims["client_metadata"]["encrypted_response_enc_values_supported"] == ["A256GCM"]
        # our wallet's own metadata (every prefix, alg, mode and format it has) is met
        outcome = wallet_answers(world.wallet, made["authorization_request"])
        assert service.result(made["transaction_id"])["ok"] is True
    assert outcome.request.enc == "A128GCM"
    assert wallet_metadata("decentralized_identifier")["client_id_prefixes_supported"] == [
        "decentralized_identifier",
        "x509_san_dns",
        "x509_hash",
        "verifier_attestation",
        "redirect_uri",
    ]


# -- verifier_attestation: -------------------------------------------------------------------


@pytest.mark.parametrize(("method", "mode"), [("get", "direct_post"), ("post", "direct_post.jwt")])
def test_wallet_presents_to_an_attested_verifier(
    world: World, tmp_path: Path, method: str, mode: str
) -> None:
    """A verifier named by a Verifier Attestation JWT (in the request object's jwt
    header) that an attestation issuer the wallet trusts signed for its key."""
    world.store()
    with verifier_service(world, tmp_path) as service:
        made = service.create(client="attested", request_uri_method=method, response_mode=mode)
        assert made["client_id"] == "verifier_attestation:localhost"
        outcome = wallet_answers(world.wallet, made["authorization_request"])
        assert outcome.request.client_id == made["client_id"]
        result = service.result(made["transaction_id"])
    assert result["ok"] is True, result["explanation"]
    assert world.wallet.history()[-1].verifier == "verifier_attestation:localhost"


def test_the_command_line_answers_an_attested_verifier_with_transaction_data(
    world: World, tmp_path: Path
) -> None:
    """`ssi-wallet wallet present --attestation-issuer ISS JWK --transaction-data-type T`."""
    from click.testing import CliRunner

    from ssi_wallet import Holder
    from ssi_wallet.cli import cli

    path = tmp_path / "amina.wallet"
    holder = Holder.create(
        path, passphrase="amina's cli passphrase", resolver=world.ledger.resolver()
    )
    holder.store(
        world.ministry.issue(
            "WorkPermit", subject=holder.did, claims=world.work_claims()
        ).credential
    )
    holder.close()
    (tmp_path / "attester.jwk").write_text(json.dumps(ATTESTER_KEY.public_key.to_jwk()))
    item = {"type": TENANCY, "credential_ids": ["work_sd"], "rent": "900 EUR"}
    with verifier_service(world, tmp_path) as service:
        made = service.create(client="attested", transaction_data=[item])
        args = ["wallet", "present", made["authorization_request"], "--wallet", str(path),
                "--passphrase-env", "PASS", "--allow-loopback", "--yes",
                "--attestation-issuer", ATTESTER, str(tmp_path / "attester.jwk")]  # fmt: skip
        refused = CliRunner().invoke(cli, args, env={"PASS": "amina's cli passphrase"})
        answered = CliRunner().invoke(
            cli, [*args, "--transaction-data-type", TENANCY], env={"PASS": "amina's cli passphrase"}
        )
        result = service.result(made["transaction_id"])
    assert refused.exit_code == 1 and "transaction_data_unsupported" in refused.output
    assert answered.exit_code == 0, answered.output
    assert json.loads(answered.stdout)["verifier"] == "verifier_attestation:localhost"
    assert f"and you authorise: {TENANCY}" in answered.stderr
    assert result["ok"] is True
