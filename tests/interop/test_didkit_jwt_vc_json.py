"""``jwt_vc_json`` against a second independent implementation: SpruceID's DIDKit
(``didkit`` on PyPI, Rust with Python bindings, a test dependency), both ways.

DIDKit writes VC Data Model 1.1 JWTs its own way: no ``typ``, ``nbf``/``exp`` as
floats, the mirrored properties kept in ``vc`` too ("in addition to"), and a VP JWT with
no ``iat``. DIDKit's runtime aborts the interpreter at exit (a Tokio thread releasing
the GIL during finalisation), so each DIDKit call runs in a child process that prints
its answer and leaves with ``os._exit``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.jwt_vc import CREDENTIALS_V1_CONTEXT, issue_jwt_vc, issue_jwt_vp
from credentials.verify import verify_credential, verify_presentation
from did_methods.keys import PrivateKey

pytest.importorskip("didkit")

NOW = datetime(2026, 6, 1, tzinfo=UTC)

_CHILD = r"""
import asyncio, json, os, sys
import didkit

async def main(job):
    op = job["op"]
    if op == "key":
        key = didkit.generate_ed25519_key()
        vm = await didkit.key_to_verification_method("key", key)
        return {"key": json.loads(key), "did": didkit.key_to_did("key", key), "vm": vm}
    options = json.dumps(job.get("options", {}))
    doc, key = json.dumps(job["doc"]), json.dumps(job.get("key"))
    if op == "issue_credential":
        return await didkit.issue_credential(doc, options, key)
    if op == "issue_presentation":
        return await didkit.issue_presentation(doc, options, key)
    if op == "verify_credential":
        return json.loads(await didkit.verify_credential(job["doc"], options))
    if op == "verify_presentation":
        return json.loads(await didkit.verify_presentation(job["doc"], options))

answer = asyncio.run(main(json.loads(sys.stdin.read())))
sys.stdout.write(json.dumps(answer))
sys.stdout.flush()
os._exit(0)
"""


def _didkit(op: str, **job: Any) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps({"op": op, **job}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def parties() -> dict[str, Any]:
    return {"issuer": _didkit("key"), "holder": _didkit("key")}


def _permit(issuer: str, holder: str) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V1_CONTEXT],
        "type": ["VerifiableCredential", "WorkPermit"],
        "issuer": issuer,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": holder, "sector": "Q86"},
    }


def _their_credential(parties: dict[str, Any]) -> str:
    issuer, holder = parties["issuer"], parties["holder"]
    options = {"proofFormat": "jwt", "verificationMethod": issuer["vm"]}
    token: str = _didkit(
        "issue_credential",
        doc=_permit(issuer["did"], holder["did"]),
        key=issuer["key"],
        options={**options, "proofPurpose": "assertionMethod"},
    )
    return token


def test_we_verify_didkit_s_credential_and_presentation(parties: dict[str, Any]) -> None:
    credential = _their_credential(parties)
    result = verify_credential(
        credential, formats="jwt_vc_json", credential_type="WorkPermit", now=NOW
    )
    assert result.ok, result.codes
    assert result.format == "jwt_vc_json"
    assert (result.issuer, result.subject) == (parties["issuer"]["did"], parties["holder"]["did"])
    assert dict(result.claims) == {"sector": "Q86"}
    holder = parties["holder"]
    vp = {
        "@context": [CREDENTIALS_V1_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder["did"],
        "verifiableCredential": [credential],
    }
    options = {
        "proofFormat": "jwt",
        "verificationMethod": holder["vm"],
        "proofPurpose": "authentication",
        "challenge": "n-1",
        "domain": "x509_san_dns:employer.example",
    }
    token = _didkit("issue_presentation", doc=vp, key=holder["key"], options=options)
    checked = verify_presentation(
        token,
        format="jwt_vc_json",
        nonce="n-1",
        audience="x509_san_dns:employer.example",
        credential_type="WorkPermit",
        now=NOW,
    )
    assert checked.ok, checked.codes
    assert checked.holder == holder["did"]
    wrong = verify_presentation(
        token,
        format="jwt_vc_json",
        nonce="n-2",
        audience="x509_san_dns:employer.example",
        credential_type="WorkPermit",
        now=NOW,
    )
    assert wrong.codes == ("nonce_mismatch",)
    head, body, sig = credential.split(".")
    forged = f"{head}.{body}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    refused = verify_credential(forged, formats="jwt_vc_json", credential_type=None, now=NOW)
    assert refused.codes == ("signature_invalid",)


def test_didkit_verifies_our_credential_and_presentation(parties: dict[str, Any]) -> None:
    issuer, holder = parties["issuer"], parties["holder"]
    issuer_key = PrivateKey.from_jwk(issuer["key"])
    ours = issue_jwt_vc(
        _permit(issuer["did"], holder["did"]), issuer_key, kid=issuer["vm"], now=NOW
    )
    assert _didkit("verify_credential", doc=ours, options={"proofFormat": "jwt"})["errors"] == []
    vp = issue_jwt_vp(
        [ours], PrivateKey.from_jwk(holder["key"]), kid=holder["vm"], nonce="n-3", audience="a-3"
    )
    options = {"proofFormat": "jwt", "challenge": "n-3", "domain": "a-3"}
    assert _didkit("verify_presentation", doc=vp, options=options)["errors"] == []
    # and DIDKit can say no: another challenge, or a credential signed by another key
    other = {**options, "challenge": "n-4"}
    assert _didkit("verify_presentation", doc=vp, options=other)["errors"] != []
    stranger = PrivateKey.from_jwk(holder["key"])  # the holder's key, not the issuer's
    forged = issue_jwt_vc(
        _permit(issuer["did"], holder["did"]), stranger, kid=issuer["vm"], now=NOW
    )
    assert _didkit("verify_credential", doc=forged, options={"proofFormat": "jwt"})["errors"] != []
