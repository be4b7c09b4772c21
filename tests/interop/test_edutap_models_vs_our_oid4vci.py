"""OUR OpenID4VCI messages read by a THIRD independent implementation: eduTAP's
``openid4vci`` (PyPI 1.0.0a1, a test dependency), a Python Credential Issuer library
for OpenID4VCI 1.0 whose pydantic models enforce the rules the specification states in
prose, and whose ``validate_jwt_proof`` checks a ``jwt`` key proof as an issuer must
(Appendix F.1).

It implements the issuer role only, so it is used as a strict reader: every document
our issuer serves over HTTP on 127.0.0.1 (issuer and authorization server metadata, the
offers, nonce, token and credential responses, the deferred answers) must parse under
its models, and the Credential Request and key proofs OUR wallet sends must pass its
checks, as they would at an eduTAP issuer.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from interop_support import OurServices, our_services, skip_or_fail

from credentials.sd_jwt import SdJwt
from did_methods.http import HttpFetcher, HttpResponse
from ssi_wallet import Holder
from ssi_wallet.oid4vci import PRE_AUTHORIZED_CODE
from ssi_wallet.oid4vci.wallet import WalletClient

try:
    from openid4vci.crypto.proofs import validate_jwt_proof
    from openid4vci.models import credential as edutap_credential
    from openid4vci.models import deferred as edutap_deferred
    from openid4vci.models import metadata as edutap_metadata
    from openid4vci.models import nonce as edutap_nonce
    from openid4vci.models import oauth as edutap_oauth
    from openid4vci.models import offer as edutap_offer
except ImportError:  # pragma: no cover - the dev extra installs it
    validate_jwt_proof = None


@pytest.fixture(scope="module")
def our_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OurServices]:
    if validate_jwt_proof is None:
        skip_or_fail("eduTAP's openid4vci is missing (pip install -e '.[dev]')")
    with our_services(tmp_path_factory.mktemp("interop-edutap")) as services:
        yield services


def _http(method: str, url: str, form: Mapping[str, str] | None = None) -> Any:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=20) as answer:
        return json.loads(answer.read())


def _as_https(document: Any, base: str) -> Any:
    """``document`` with our issuer's ``http://127.0.0.1:PORT`` URLs as ``https://``.

    eduTAP's models hold URLs to ``https`` as OpenID4VCI 1.0 does (sections 11.2.1 and
    12.2.4); the tests serve plain HTTP on the loopback address, which a production
    issuer never does, so that one difference is taken out before reading."""
    https = "https://" + base.removeprefix("http://")
    return json.loads(json.dumps(document).replace(f'"{base}', f'"{https}'))


def test_our_issuer_documents_parse_under_edutap_models(our_issuer: OurServices) -> None:
    base = our_issuer.issuer_base
    metadata = _as_https(_http("GET", f"{base}/.well-known/openid-credential-issuer"), base)
    read = edutap_metadata.CredentialIssuerMetadata.model_validate(metadata)
    assert str(read.credential_issuer).rstrip("/") == metadata["credential_issuer"]
    assert {"WorkPermit.sd_jwt", "WorkPermit.jwt_vc_json", "WorkPermit.ldp_vc"} <= set(
        read.credential_configurations_supported
    )
    server = _http("GET", f"{base}/.well-known/oauth-authorization-server")
    edutap_metadata.AuthorizationServerMetadata.model_validate(_as_https(server, base))

    # the offers: pre-authorized code with a transaction code, and authorization code
    pre = our_issuer.offer(["WorkPermit.sd_jwt"], tx_code=True)
    code = our_issuer.issuer.offer(
        ["WorkPermit.ldp_vc"], claims={"WorkPermit": None}, pre_authorized=False,
        authorization_code=True,
    )  # fmt: skip
    for made in (pre, code):
        reference = urllib.parse.parse_qs(urllib.parse.urlsplit(made.uri).query)
        document = _http("GET", reference["credential_offer_uri"][0])
        edutap_offer.CredentialOffer.model_validate(_as_https(document, base))

    edutap_nonce.NonceResponse.model_validate(_http("POST", f"{base}/nonce", {}))
    form = {"grant_type": PRE_AUTHORIZED_CODE, "tx_code": pre.tx_code or ""}
    form["pre-authorized_code"] = pre.data.pre_authorized_code or ""
    token = _http("POST", f"{base}/token", form)
    read_token = edutap_oauth.TokenResponse.model_validate(token)
    assert read_token.access_token == token["access_token"]


class _Recording:
    """Our wallet's transport (the real HttpFetcher), keeping each request and answer."""

    def __init__(self) -> None:
        self.inner = HttpFetcher(allow_http=True, allow_private=True)
        self.calls: list[tuple[str, str, bytes | None, HttpResponse]] = []

    def request(self, method: str, url: str, **kw: Any) -> HttpResponse:
        answer = self.inner.request(method, url, **kw)
        self.calls.append((method, url, kw.get("body"), answer))
        return answer

    def bodies(self, path: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(request JSON, answer JSON) of each call to ``path``."""
        out = []
        for _, url, body, answer in self.calls:
            if urllib.parse.urlsplit(url).path == path:
                sent = json.loads(body) if body else {}
                out.append((sent, json.loads(answer.body) if answer.body else {}))
        return out


@pytest.mark.parametrize("deferred", [False, True])
def test_our_wallets_credential_requests_pass_edutaps_checks(
    our_issuer: OurServices, deferred: bool
) -> None:
    holder = Holder.create(
        ":memory:", passphrase="a passphrase", resolver=our_issuer.ledger.resolver()
    )
    transport = _Recording()
    client = WalletClient(holder, transport, unsafe_allow_http=True)  # type: ignore[arg-type]
    claims = None if deferred else _claims()
    offer = our_issuer.issuer.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": claims}, tx_code=False
    )
    result = client.receive(offer.uri, batch=2)
    if deferred:
        (pending,) = result.pending
        our_issuer.issuer.provide(offer.case_id, "WorkPermit", _claims())
        result = client.fetch_deferred(pending, client.resolve_offer(offer.uri))
    assert len(result.stored) == 2

    (nonce_answer,) = [answer for _, answer in transport.bodies("/nonce")]
    (request, response) = transport.bodies("/credential")[0]
    # the Credential Request: one identification, proofs of one type (8.2)
    read = edutap_credential.CredentialRequest.model_validate(request)
    assert read.credential_configuration_id == "WorkPermit.sd_jwt" and read.proofs
    # each key proof, as an eduTAP issuer checks it (typ, alg, aud, iat, nonce, signature)
    configuration = our_issuer.issuer.issuer_metadata()["credential_configurations_supported"][
        "WorkPermit.sd_jwt"
    ]
    algorithms = configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
    bound = [
        validate_jwt_proof(
            proof, credential_issuer=our_issuer.issuer_base, c_nonce=nonce_answer["c_nonce"],
            supported_algorithms=algorithms,
        ).bound_key
        for proof in read.proofs["jwt"]
    ]  # fmt: skip
    assert len(bound) == 2 and bound[0] != bound[1]
    # the answers: a Credential Response (or 202 and a Deferred Credential Response)
    if deferred:
        edutap_credential.CredentialResponse.model_validate(response)
        assert "transaction_id" in response
        (_, final) = transport.bodies("/deferred_credential")[-1]
        # credentials with their notification_id: the answer @openid4vc/openid4vci 0.4.6
        # refuses (docs/interop.md), which eduTAP's model reads as OpenID4VCI 1.0 9.2 has it
        assert final["notification_id"] and final["credentials"]
        edutap_deferred.DeferredCredentialResponse.model_validate(final)
        issued = [c["credential"] for c in final["credentials"]]
    else:
        edutap_credential.CredentialResponse.model_validate(response)
        issued = [c["credential"] for c in response["credentials"]]
    # each issued credential bound to the key eduTAP read out of the matching proof
    cnfs = [SdJwt.parse(c).unverified_payload["cnf"]["jwk"] for c in issued]
    assert [(k["x"], k["y"]) for k in cnfs] == [(k["x"], k["y"]) for k in bound]


def _claims() -> dict[str, Any]:
    from credentials import schemas

    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    return claims
