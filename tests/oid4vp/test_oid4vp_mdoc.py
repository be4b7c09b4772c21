"""ISO/IEC 18013-5 mdocs over OpenID4VP 1.0 (appendix B.2), over real HTTP: our wallet
presents an mdoc it holds to our verifier service, each device-signed over the session
transcript of that very request (client_id, nonce, response_uri and, for
direct_post.jwt, the thumbprint of the verifier's encryption key); the verifier checks it
against its own transcript and its IACA trust anchors, and refuses a response replayed to
another transaction or verifier, a document signer outside its anchors, and a response
that leaves out a requested element, each with a finding of its code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from mdoc_support import DOCTYPE, NAMESPACE, Pki, make_pki
from oid4vp_http import RecordingTransport, Service, verifier_service, wallet_answers
from oid4vp_world import World

from credentials.mdoc import oid4vp_session_transcript, present_mdoc
from did_methods._wire.b64 import b64url_decode, b64url_encode
from did_methods.http import HttpResponse
from ssi_wallet import policies
from ssi_wallet.mdoc import MdocCandidate

POLICY = "residence_mdoc"
ASKED = ["family_name", "permit_type"]


def mdoc_policy(params: Mapping[str, str]) -> policies.Policy:
    return policies.mdoc_document(
        DOCTYPE, {NAMESPACE: ASKED}, purpose="check your permit", name=POLICY
    )


@pytest.fixture(scope="module")
def iaca() -> Pki:
    return make_pki(datetime.now(UTC))


@contextmanager
def service_for(world: World, tmp: Path, pki: Pki, **oid4vp: Any) -> Iterator[Service]:
    (tmp / "iaca.pem").write_bytes(pki.root.public_bytes(Encoding.PEM))
    with verifier_service(
        world, tmp, mdoc_trust_anchors="iaca.pem", extra_policies={POLICY: mdoc_policy}, **oid4vp
    ) as service:
        yield service


def held(pki: Pki) -> list[tuple[MdocCandidate, Any]]:
    return [(MdocCandidate.from_issuer_signed("permit-mdoc", pki.issue()), pki.device)]


def answer(
    world: World,
    service: Service,
    pki: Pki,
    *,
    client: str = "x509",
    transport: RecordingTransport | None = None,
) -> tuple[Any, dict[str, Any]]:
    """A new transaction answered by our wallet holding ``pki``'s mdoc: (outcome, result)."""
    made = service.create(policy=POLICY, client=client)
    link = made["authorization_request"]
    outcome = wallet_answers(world.wallet, link, mdocs=held(pki), transport=transport)
    return outcome, service.result(made["transaction_id"])


def failures(result: Mapping[str, Any]) -> list[str]:
    return [f["code"] for f in result["report"]["findings"] if not f["ok"]]


@dataclass
class DishonestWallet(RecordingTransport):
    """Our wallet's transport, with the vp_token it posts replaced by ``forge`` of the
    request object's claims (read, not verified: the attacker's own view)."""

    forge: Callable[[Mapping[str, Any]], str] | None = None
    request: dict[str, Any] = field(default_factory=dict)

    def get(self, url: str, *, accept: str) -> HttpResponse:
        answer = super().get(url, accept=accept)
        if "/oid4vp/requests/" in url:
            self.request = json.loads(b64url_decode(answer.body.decode().split(".")[1]))
        return answer

    def post_form(self, url: str, form: Mapping[str, str], *, accept: str) -> HttpResponse:
        if self.forge is not None and "vp_token" in form:
            form = {**form, "vp_token": json.dumps({"mdoc": [self.forge(self.request)]})}
        return super().post_form(url, form, accept=accept)


@pytest.mark.parametrize(
    ("client", "mode"),
    [("x509", "direct_post"), ("hash", "direct_post.jwt"), ("did", "direct_post.jwt")],
)
def test_our_wallet_presents_an_mdoc_to_our_verifier(
    world: World, tmp_path: Path, iaca: Pki, client: str, mode: str
) -> None:
    with service_for(world, tmp_path, iaca) as service:
        made = service.create(policy=POLICY, client=client, response_mode=mode)
        outcome = wallet_answers(world.wallet, made["authorization_request"], mdocs=held(iaca))
        result = service.result(made["transaction_id"])
    assert result["ok"] is True, result
    codes = [(f["code"], f["ok"]) for f in result["report"]["findings"]]
    assert codes == [("presentation_valid", True)]
    assert "Test Document Signer" in result["report"]["findings"][0]["message"]
    # exactly the requested elements were disclosed, and the verifier read them verified
    assert result["report"]["disclosed"] == {
        "mdoc": {NAMESPACE: {"family_name": "Haidari", "permit_type": "work"}}
    }
    assert list(outcome.presentation.vp_token) == ["mdoc"]
    assert DOCTYPE in result["explanation"]


@pytest.mark.parametrize("other_client", ["x509", "hash"])
def test_a_device_response_replayed_to_another_request_or_verifier_is_refused(
    world: World, tmp_path: Path, iaca: Pki, other_client: str
) -> None:
    with service_for(world, tmp_path, iaca) as service:
        outcome, first = answer(world, service, iaca)
        assert first["ok"] is True
        stolen = outcome.presentation.vp_token["mdoc"][0]
        # the same DeviceResponse, posted (by whoever caught it) to a new transaction:
        # another nonce, and for x509_hash: another client_id too
        thief = DishonestWallet(forge=lambda _: stolen)
        _, result = answer(world, service, iaca, client=other_client, transport=thief)
    assert result["ok"] is False
    assert failures(result) == ["device_signature_invalid"]


def test_an_mdoc_from_a_signer_outside_the_anchors_is_refused(
    world: World, tmp_path: Path, iaca: Pki
) -> None:
    stranger = make_pki(datetime.now(UTC))  # its own IACA, which the verifier never trusted
    with service_for(world, tmp_path, iaca) as service:
        _, result = answer(world, service, stranger)
    assert result["ok"] is False
    assert failures(result) == ["x5c_untrusted"]


def test_a_response_without_a_requested_element_is_refused(
    world: World, tmp_path: Path, iaca: Pki
) -> None:
    def fewer(request: Mapping[str, Any]) -> str:
        # device-signed over the right transcript, but discloses family_name alone
        session = oid4vp_session_transcript(
            client_id=request["client_id"],
            nonce=request["nonce"],
            response_uri=request["response_uri"],
        )
        response = present_mdoc(
            iaca.issue(),
            device_key=iaca.device,
            session_transcript=session,
            disclose={NAMESPACE: ["family_name"]},
        )
        return b64url_encode(response)

    with service_for(world, tmp_path, iaca) as service:
        _, result = answer(world, service, iaca, transport=DishonestWallet(forge=fewer))
    assert result["ok"] is False
    assert failures(result) == ["mdoc_claim_missing"]


def test_a_wallet_without_a_fitting_mdoc_refuses_and_says_so(
    world: World, tmp_path: Path, iaca: Pki
) -> None:
    from did_methods.errors import PolicyError

    with service_for(world, tmp_path, iaca) as service:
        made = service.create(policy=POLICY, client="x509")
        with pytest.raises(PolicyError, match="cannot_satisfy"):
            wallet_answers(world.wallet, made["authorization_request"], mdocs=())
        result = service.result(made["transaction_id"])
    assert (result["status"], result["error"]) == ("wallet_error", "access_denied")


def test_a_persisted_mdoc_transaction_is_judged_and_read_back(
    world: World, tmp_path: Path, iaca: Pki
) -> None:
    """With a state file the transaction is stored and read back: its policy is rebuilt
    by the name the embedding program registered it under."""
    with service_for(world, tmp_path, iaca, state="verifier-state.db") as service:
        _, result = answer(world, service, iaca)
    assert result["ok"] is True, result
    assert result["report"]["disclosed"]["mdoc"][NAMESPACE]["permit_type"] == "work"
