"""The VC API over real HTTP: uvicorn on a free port of 127.0.0.1, urllib as the client.

Checks the endpoints against the W3C CCG VC API and DID Resolution's HTTP
binding: issuing needs the bearer token, verification answers 200 or 400
problem details, revocation shows in the published list, DID resolution
answers with the binding's status codes (including did:ledger from a ledger
file), and bodies are bounded.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from _live_server import bind_free_socket, serve_asgi

from credentials import verify
from credentials.data_integrity import add_proof
from credentials.jose import envelope_vc_jwt, issue_vc_jwt
from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.facade import Ledger
from ssi_wallet.server.vc_api import VcApiConfig, create_app

TOKEN = "t0ken-for-the-tests-only"
URL_ISSUER = "https://issuer.example/issuers/1"
JWKS_ISSUER = "https://jwks.example"
VC_V2 = "https://www.w3.org/ns/credentials/v2"


@dataclass
class Api:
    base: str
    dids: dict[str, str]
    ledger_did: str
    absent_ledger_did: str  # well formed, created on another ledger
    url_issuer_key: PrivateKey  # signs for URL_ISSUER, as the configuration says
    jwks_key: PrivateKey  # a key of JWKS_ISSUER's JWK Set ([vc_api.issuer_keys])

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, got, payload = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            status, got, payload = exc.code, dict(exc.headers), exc.read()
        return status, got, json.loads(payload) if payload else None


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home: Path = tmp_path_factory.mktemp("vc-api")
    sock = bind_free_socket()
    port = sock.getsockname()[1]
    dids = {}
    sections = []
    for name, key_type, fmt in (
        ("eddsa", KeyType.ED25519, "di-eddsa"),
        ("ecdsa", KeyType.P256, "di-ecdsa"),
        ("jwt", KeyType.P256, "vc-jwt"),
    ):
        key = PrivateKey.generate(key_type)
        write_key_file(home / f"{name}.jwk", key)
        dids[name] = did_key_from_public_key(key.public_key)
        sections.append(f'[vc_api.issuers.{name}]\nkey_file = "{name}.jwk"\nformat = "{fmt}"\n')
    with Ledger.open(home / "registry.db") as ledger:
        ledger_did = ledger.dids.create(PrivateKey.generate(KeyType.ED25519)).did
    with Ledger.open(":memory:") as elsewhere:
        absent = elsewhere.dids.create(PrivateKey.generate(KeyType.ED25519)).did
    signer = PrivateKey.generate(KeyType.P256)
    signer_did = did_key_from_public_key(signer.public_key)
    jwks_key = PrivateKey.generate(KeyType.P384)
    (home / "jwks.json").write_text(
        json.dumps({"keys": [{**jwks_key.public_key.to_jwk(), "kid": "k1", "use": "sig"}]})
    )
    (home / "token.txt").write_text(TOKEN + "\n")
    (home / "vc-api.toml").write_text(
        f'[server]\nport = {port}\ntoken_file = "token.txt"\nmax_body_bytes = 65536\n\n'
        '[vc_api]\nledger = "registry.db"\n\n'
        + "\n".join(sections)
        + f'\n[vc_api.authorised_controllers]\n"{URL_ISSUER}" = ["{signer_did}"]\n'
        + f'\n[vc_api.issuer_keys]\n"{JWKS_ISSUER}" = "jwks.json"\n'
    )
    config = VcApiConfig.load(home / "vc-api.toml")
    with serve_asgi(create_app(config), sock=sock) as live:
        yield Api(live.base, dids, ledger_did, absent, signer, jwks_key)


def _credential(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "id": f"urn:uuid:{time.time_ns()}",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
        **extra,
    }


def _issue(api: Api, name: str = "eddsa", **extra: Any) -> dict[str, Any]:
    status, _, body = api.call(
        "POST",
        f"/issuers/{name}/credentials/issue",
        {"credential": _credential(api.dids[name], **extra)},
        token=TOKEN,
    )
    assert status == 201, body
    vc = body["verifiableCredential"]
    assert isinstance(vc, dict)
    return vc


def test_issuing_needs_the_bearer_token(api: Api) -> None:
    body = {"credential": _credential(api.dids["eddsa"])}
    for token in (None, "wrong-token-wrong-token"):
        status, headers, problem = api.call("POST", "/credentials/issue", body, token=token)
        assert status == 401
        assert headers["content-type"] == "application/problem+json"
        assert headers["www-authenticate"].startswith("Bearer")
        assert problem["status"] == 401 and problem["code"] == "unauthorised"


@pytest.mark.parametrize("name", ["eddsa", "ecdsa"])
def test_issue_then_verify(api: Api, name: str) -> None:
    vc = _issue(api, name)
    assert (
        vc["proof"]["cryptosuite"] == {"eddsa": "eddsa-jcs-2022", "ecdsa": "ecdsa-jcs-2019"}[name]
    )
    assert {e["statusPurpose"] for e in vc["credentialStatus"]} == {"revocation", "suspension"}
    status, _, report = api.call("POST", "/credentials/verify", {"verifiableCredential": vc})
    assert status == 200, report
    assert report["verified"] is True and report["errors"] == []
    assert {"signature", "status", "validity_period"} <= set(report["checks"])


def test_verify_reports_what_was_verified_and_takes_enveloped_credentials(api: Api) -> None:
    for name in ("eddsa", "jwt"):
        vc = _issue(api, name)
        status, _, report = api.call("POST", "/credentials/verify", {"verifiableCredential": vc})
        assert status == 200, report
        fields = report["verified_fields"]
        assert fields["kind"] == "credential"
        assert fields["issuer"] == api.dids[name]
        assert fields["subject"] == "did:example:alice"
        assert "VerifiableCredential" in fields["types"]


def test_a_url_issuer_verifies_with_the_keys_the_operator_authorised(api: Api) -> None:
    key = api.url_issuer_key
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{did[8:]}"
    ok = add_proof(_credential(URL_ISSUER), key, verification_method=vm)
    status, _, report = api.call("POST", "/credentials/verify", {"verifiableCredential": ok})
    assert status == 200, report
    assert report["verified_fields"]["issuer"] == URL_ISSUER
    # the same key for another URL issuer is not authorised: the default stays strict
    other = add_proof(_credential("https://elsewhere.example/i"), key, verification_method=vm)
    status, _, problem = api.call("POST", "/credentials/verify", {"verifiableCredential": other})
    assert status == 400 and "key_authorisation" in [e["name"] for e in problem["errors"]]


def test_a_url_issuer_verifies_with_the_key_set_the_operator_configured(api: Api) -> None:
    # [vc_api.issuer_keys]: a vc+jwt whose kid is in the issuer's JWK Set, and a Data
    # Integrity proof whose verificationMethod is that key's URL (issue 11 item 4)
    token = issue_vc_jwt(_credential(JWKS_ISSUER), api.jwks_key, kid="k1")
    proof = add_proof(
        _credential(JWKS_ISSUER), api.jwks_key, verification_method=f"{JWKS_ISSUER}#k1"
    )
    for vc in (envelope_vc_jwt(token), proof):
        status, _, report = api.call("POST", "/credentials/verify", {"verifiableCredential": vc})
        assert status == 200, report
        assert report["verified_fields"]["issuer"] == JWKS_ISSUER
    # the same key for another URL issuer, and an unknown kid, are refused
    stolen = envelope_vc_jwt(issue_vc_jwt(_credential(URL_ISSUER), api.jwks_key, kid="k1"))
    unknown = envelope_vc_jwt(issue_vc_jwt(_credential(JWKS_ISSUER), api.jwks_key, kid="k2"))
    for vc, code in ((stolen, "key_not_issuer"), (unknown, "key_unknown")):
        status, _, problem = api.call("POST", "/credentials/verify", {"verifiableCredential": vc})
        assert status == 400
        assert code in [e["code"] for e in problem["errors"]], problem


def test_a_presentation_is_not_verified_as_a_credential(api: Api) -> None:
    vp = {
        "@context": [VC_V2],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [_issue(api)],
    }
    status, _, problem = api.call("POST", "/credentials/verify", {"verifiableCredential": vp})
    assert status == 400 and problem["verified"] is False
    assert problem["code"] == "not_a_credential"
    # and a presentation needs the challenge it answers
    status, _, problem = api.call("POST", "/presentations/verify", {"verifiablePresentation": vp})
    assert status == 400 and problem["code"] == "invalid_request"


def test_a_tampered_credential_is_a_400_problem_naming_the_check(api: Api) -> None:
    vc = _issue(api)
    vc["credentialSubject"]["name"] = "Mallory"
    status, headers, problem = api.call("POST", "/credentials/verify", {"verifiableCredential": vc})
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert problem["verified"] is False
    assert problem["code"] == "signature_invalid"
    assert [e["name"] for e in problem["errors"]] == ["signature"]


def test_vc_jwt_issuer_returns_an_enveloped_credential_that_verifies(api: Api) -> None:
    vc = _issue(api, "jwt")
    assert vc["type"] == "EnvelopedVerifiableCredential"
    assert vc["id"].startswith("data:application/vc+jwt,")
    token = vc["id"].split(",", 1)[1]
    result = verify(token)
    assert result.format == "vc+jwt"
    assert result.check("signature").status == "passed"


def test_an_invalid_credential_is_refused_at_issuance(api: Api) -> None:
    bad = _credential(api.dids["eddsa"], validFrom="yesterday")
    status, _, problem = api.call(
        "POST", "/issuers/eddsa/credentials/issue", {"credential": bad}, token=TOKEN
    )
    assert status == 400 and problem["code"] == "invalid_credential"
    assert any(e["path"] == "/validFrom" for e in problem["errors"])
    bad_index = _credential(
        api.dids["eddsa"],
        credentialStatus={
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": True,
            "statusListCredential": "https://status.example/1",
        },
    )
    status, _, problem = api.call(
        "POST", "/issuers/eddsa/credentials/issue", {"credential": bad_index}, token=TOKEN
    )
    assert status == 400 and problem["code"] == "invalid_credential"
    assert [e["path"] for e in problem["errors"]] == ["/credentialStatus"]
    someone_else = _credential("did:example:someone-else")
    status, _, problem = api.call(
        "POST", "/issuers/eddsa/credentials/issue", {"credential": someone_else}, token=TOKEN
    )
    assert status == 400 and problem["code"] == "issuer_refused"


def test_an_eddsa_issuer_signs_with_eddsa_rdfc_2022_when_asked(api: Api) -> None:
    body = {
        "credential": _credential(api.dids["eddsa"]),
        "options": {"cryptosuite": "eddsa-rdfc-2022"},
    }
    status, _, answer = api.call("POST", "/issuers/eddsa/credentials/issue", body, token=TOKEN)
    assert status == 201, answer
    vc = answer["verifiableCredential"]
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert "@context" not in vc["proof"]  # the rdfc proof does not repeat it
    status, _, verified = api.call("POST", "/credentials/verify", {"verifiableCredential": vc})
    assert status == 200, verified
    vc["credentialSubject"]["id"] = "did:example:someone-else"
    status, _, refused = api.call("POST", "/credentials/verify", {"verifiableCredential": vc})
    assert status == 400
    assert any(e.get("code") == "signature_invalid" for e in refused["errors"]), refused


@pytest.mark.parametrize("suite", ["bbs-2023", "ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
def test_a_cryptosuite_the_issuer_does_not_use_is_cryptosuite_unsupported(
    api: Api, suite: str
) -> None:
    body = {"credential": _credential(api.dids["eddsa"]), "options": {"cryptosuite": suite}}
    status, _, problem = api.call("POST", "/issuers/eddsa/credentials/issue", body, token=TOKEN)
    assert (status, problem["code"]) == (400, "cryptosuite_unsupported")
    body["options"] = {"cryptosuite": "eddsa-jcs-2022"}
    status, _, _ = api.call("POST", "/issuers/eddsa/credentials/issue", body, token=TOKEN)
    assert status == 201


@pytest.mark.parametrize("purpose, code", [("revocation", "revoked"), ("suspension", "suspended")])
def test_status_change_shows_in_the_published_list(api: Api, purpose: str, code: str) -> None:
    vc = _issue(api)
    change = {
        "credentialId": vc["id"],
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose},
    }
    assert api.call("POST", "/credentials/status", change)[0] == 401
    status, _, body = api.call("POST", "/credentials/status", change, token=TOKEN)
    assert status == 200, body
    status, _, problem = api.call("POST", "/credentials/verify", {"verifiableCredential": vc})
    assert status == 400
    assert code in [e["code"] for e in problem["errors"]]
    # the list is served where the entry points
    entry = next(e for e in vc["credentialStatus"] if e["statusPurpose"] == purpose)
    path = entry["statusListCredential"].removeprefix(api.base)
    status, _, listed = api.call("GET", path)
    assert status == 200
    assert listed["credentialSubject"]["statusPurpose"] == purpose
    assert api.call("POST", path + "/publish", {})[0] == 401
    assert api.call("POST", path + "/publish", {}, token=TOKEN)[0] == 204


def test_status_change_of_an_unknown_credential_is_404(api: Api) -> None:
    change = {
        "credentialId": "urn:uuid:never-issued",
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
    }
    status, _, problem = api.call("POST", "/credentials/status", change, token=TOKEN)
    assert status == 404 and problem["code"] == "credential_not_found"


def test_presentation_verify_checks_challenge_and_domain(api: Api) -> None:
    holder = PrivateKey.generate(KeyType.ED25519)
    holder_did = did_key_from_public_key(holder.public_key)
    vp = add_proof(
        {
            "@context": [VC_V2],
            "type": ["VerifiablePresentation"],
            "holder": holder_did,
            "verifiableCredential": [_issue(api)],
        },
        holder,
        verification_method=f"{holder_did}#{holder.public_key.to_multikey()}",
        proof_purpose="authentication",
        challenge="c-123",
        domain="verifier.example",
    )
    good = {"challenge": "c-123", "domain": "verifier.example"}
    status, _, report = api.call(
        "POST", "/presentations/verify", {"verifiablePresentation": vp, "options": good}
    )
    assert status == 200, report
    bad = {"challenge": "another", "domain": "verifier.example"}
    status, _, problem = api.call(
        "POST", "/presentations/verify", {"verifiablePresentation": vp, "options": bad}
    )
    assert status == 400 and problem["verified"] is False


def test_did_resolution_status_codes(api: Api) -> None:
    did = api.dids["eddsa"]
    accept = {"Accept": 'application/ld+json;profile="https://w3id.org/did-resolution"'}
    status, _, result = api.call("GET", f"/1.0/identifiers/{did}", headers=accept)
    assert status == 200 and result["didDocument"]["id"] == did
    status, headers, document = api.call(
        "GET", f"/1.0/identifiers/{did}", headers={"Accept": "application/did+json"}
    )
    assert status == 200 and document["id"] == did
    assert headers["content-type"].startswith("application/did+json")
    for text, code, error in (
        ("did:key:@", 400, "invalidDid"),
        ("did:nosuch:abc", 501, "methodNotSupported"),
        (api.absent_ledger_did, 404, "notFound"),
    ):
        status, _, result = api.call("GET", f"/1.0/identifiers/{text}", headers=accept)
        assert (status, result["didResolutionMetadata"]["error"]) == (code, error), result
        assert result["didDocument"] is None


def test_did_key_options_pass_through_the_query(api: Api) -> None:
    did = api.dids["ecdsa"]
    status, _, result = api.call("GET", f"/1.0/identifiers/{did}?publicKeyFormat=JsonWebKey2020")
    assert status == 200
    assert result["didDocument"]["verificationMethod"][0]["type"] == "JsonWebKey2020"
    status, _, result = api.call("GET", f"/1.0/identifiers/{did}?publicKeyFormat=unknown")
    assert status == 400
    assert result["didResolutionMetadata"]["error"] == "unsupportedPublicKeyType"
    status, _, result = api.call("GET", "/1.0/identifiers/did:key:zTjsVPtY")
    assert (status, result["didResolutionMetadata"]["error"]) == (400, "invalidPublicKeyLength")


def test_did_ledger_resolves_from_the_open_ledger(api: Api) -> None:
    status, _, result = api.call("GET", f"/1.0/identifiers/{api.ledger_did}")
    assert status == 200
    assert result["didDocument"]["id"] == api.ledger_did


def test_did_url_dereferencing(api: Api) -> None:
    did = api.dids["eddsa"]
    fragment = did.removeprefix("did:key:")
    status, _, result = api.call("GET", f"/1.0/identifiers/{did}%23{fragment}")
    assert status == 200
    assert result["contentStream"]["id"] == f"{did}#{fragment}"
    # the earlier binding's names, which did:key resolvers and the CCG suite read
    assert result["didDocument"] == result["contentStream"]
    assert result["didDereferencingMetadata"] == result["dereferencingMetadata"]
    status, _, result = api.call("GET", f"/1.0/identifiers/{did}%23nothing-here")
    assert status == 404
    assert result["dereferencingMetadata"]["error"] == "notFound"
    assert result["didDereferencingMetadata"]["error"] == "notFound"
    assert result["didDocument"] is None
    # a resolution option the dereferencer passes on to did:key
    status, _, result = api.call(
        "GET",
        f"/1.0/identifiers/{did}%23{fragment}?publicKeyFormat=Ed25519VerificationKey2018"
        "&enableExperimentalPublicKeyTypes=false",
    )
    assert status == 400
    assert result["didDereferencingMetadata"]["error"] == "invalidPublicKeyType"


def test_bodies_are_bounded_and_must_be_json(api: Api) -> None:
    status, _, problem = api.call(
        "POST", "/credentials/verify", raw=b'{"verifiableCredential": "' + b"a" * 70000 + b'"}'
    )
    assert status == 413 and problem["code"] == "body_too_large"
    status, _, problem = api.call("POST", "/credentials/verify", raw=b'{"a": 1, "a": 2}')
    assert status == 400 and problem["code"] == "invalid_json"
    status, _, problem = api.call(
        "POST", "/credentials/verify", raw=b"<xml/>", headers={"Content-Type": "text/xml"}
    )
    assert status == 415
    status, _, problem = api.call("POST", "/credentials/verify", {"verifiableCredential": 3})
    assert status == 400 and problem["code"] == "invalid_request"


def test_a_chunked_body_is_cut_off_at_the_bound(api: Api) -> None:
    # no Content-Length: the server counts what it reads and stops past the bound
    host, port = api.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    chunks = (b'{"verifiableCredential": "' + b"a" * 8192 for _ in range(16))
    connection.request(
        "POST",
        "/credentials/verify",
        body=chunks,
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["code"] == "body_too_large"
    connection.close()


def test_wrong_methods_are_problem_details(api: Api) -> None:
    status, headers, problem = api.call("GET", "/credentials/issue")
    assert status == 405
    assert headers["content-type"] == "application/problem+json"
    assert problem["status"] == 405


def test_unknown_routes_are_problem_details(api: Api) -> None:
    status, headers, problem = api.call("GET", "/nowhere")
    assert status == 404
    assert headers["content-type"] == "application/problem+json"
    assert problem["status"] == 404
