"""Attacks on the OpenID4VCI extensions over real HTTP on 127.0.0.1: encryption, key
attestations, signed metadata.

A hostile wallet sends encryption parameters the issuer must refuse (an
unsupported ``alg`` or ``enc``, a private key, compression, none where they
are required, a clear request where it must be encrypted, response
parameters in a clear request (8.2), a JWE to another key); a hostile issuer
(or a network attacker in between) answers our wallet in clear where it asked
for encryption, or encrypted to another key, or requires encrypted responses
while publishing no request key. Each case asserts the exact error code and
HTTP status. The servers are those of tests/oid4vci (no copies).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("uvicorn")

sys.path[:0] = [str(Path(__file__).parents[1] / d) for d in ("oid4vci", "attacks")]

from oid4vci_world import (  # noqa: E402
    SocketTransport,
    World,
    access_token,
    certified_key,
    form_post,
    json_of,
    json_post,
    live_world,
    nonce,
    proof,
    refused,
    sealed_post,
)
from test_attacks_oid4vc import _json_values, _typed  # noqa: E402
from x509_support import x5c  # noqa: E402

from credentials.jwe import decrypt_compact, encrypt_compact  # noqa: E402
from credentials.jws import dumps, sign_compact  # noqa: E402
from did_methods._wire.b64 import b64url_encode as b64e  # noqa: E402
from did_methods.http import HttpResponse  # noqa: E402
from did_methods.keys import KeyType, PrivateKey, PublicKey  # noqa: E402
from did_methods.methods.key import did_key_from_public_key  # noqa: E402
from ssi_wallet.oid4vci import (  # noqa: E402
    PRE_AUTHORIZED_CODE,
    IssuerResponseError,
    KeyAttestationPolicy,
    OID4VCIError,
    RequestDecryption,
)
from ssi_wallet.oid4vci.attestation import verify_key_attestation  # noqa: E402
from ssi_wallet.oid4vci.encryption import choose_request_key, read_response_encryption  # noqa: E402
from ssi_wallet.oid4vci.proofs import (  # noqa: E402
    make_di_vp_proof,
    make_jwt_proof,
    verify_di_vp_proof,
)
from ssi_wallet.oid4vci.signed_metadata import MetadataSigner, verify_signed_metadata  # noqa: E402

SEALED_KEY = PrivateKey.generate(KeyType.P256)


@pytest.fixture(scope="module")
def issuer() -> Iterator[World]:
    """Encryption offered, not required; encrypted requests to a key the issuer made."""
    yield from live_world()


@pytest.fixture(scope="module")
def strict() -> Iterator[World]:
    """Encrypted responses required."""
    yield from live_world(require_response_encryption=True)


@pytest.fixture(scope="module")
def sealed() -> Iterator[World]:
    """Encrypted requests accepted (not required), responses encrypted on request."""
    yield from live_world(request_decryption=RequestDecryption(SEALED_KEY, "enc-1"))


@pytest.fixture(scope="module")
def clear() -> Iterator[World]:
    """An issuer that encrypts nothing."""
    yield from live_world(response_encryption=False)


def _token(w: World) -> str:
    return access_token(w)


def _jwk(**extra: Any) -> dict[str, Any]:
    key = PrivateKey.generate(KeyType.P256)
    return {**key.public_key.to_jwk(), "alg": "ECDH-ES", **extra}


def _request(w: World, encryption: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "credential_configuration_id": "WorkPermit.sd_jwt",
        "proofs": {"jwt": [proof(w)]},
        **extra,
    }
    if encryption is not None:
        body["credential_response_encryption"] = encryption
    return body


def _post_jwe(w: World, token: str, jwe: str, path: str = "/credential") -> HttpResponse:
    return w.call(
        "POST",
        path,
        headers={"Content-Type": "application/jwt", "Authorization": f"Bearer {token}"},
        body=jwe.encode(),
    )


# -- a hostile wallet's encryption parameters ------------------------------------------------

P256 = PrivateKey.generate(KeyType.P256)
PRIVATE_JWK = {**P256.private_jwk(), "alg": "ECDH-ES"}


@pytest.mark.parametrize(
    "encryption",
    [
        pytest.param({"jwk": _jwk(), "enc": "A128CBC-HS256"}, id="enc-not-offered"),
        pytest.param({"jwk": _jwk(), "enc": "A512GCM"}, id="enc-unknown"),
        pytest.param({"jwk": _jwk()}, id="enc-missing"),
        pytest.param({"jwk": _jwk(alg="ECDH-ES+A128KW"), "enc": "A128GCM"}, id="alg-key-wrap"),
        pytest.param({"jwk": _jwk(alg="RSA-OAEP"), "enc": "A128GCM"}, id="alg-rsa"),
        pytest.param({"jwk": {**P256.public_key.to_jwk()}, "enc": "A128GCM"}, id="alg-missing"),
        pytest.param({"jwk": PRIVATE_JWK, "enc": "A128GCM"}, id="private-key-d"),
        pytest.param(
            {"jwk": {"kty": "oct", "k": "c2VjcmV0", "alg": "ECDH-ES"}, "enc": "A128GCM"},
            id="symmetric-key",
        ),
        pytest.param(
            {
                "jwk": {
                    **PrivateKey.generate(KeyType.ED25519).public_key.to_jwk(),
                    "alg": "ECDH-ES",
                },
                "enc": "A128GCM",
            },
            id="ed25519-cannot-agree",
        ),
        pytest.param({"jwk": {**_jwk(), "x": "AAAA"}, "enc": "A128GCM"}, id="point-not-on-curve"),
        pytest.param({"jwk": _jwk(), "enc": "A128GCM", "zip": "DEF"}, id="zip"),
        pytest.param({"jwk": "not-an-object", "enc": "A128GCM"}, id="jwk-not-object"),
        pytest.param({"jwk": _jwk(kid="k" * 300), "enc": "A128GCM"}, id="kid-too-long"),
        pytest.param("A128GCM", id="not-an-object"),
    ],
)
def test_oid4vci_response_encryption_parameters_refused(issuer: World, encryption: Any) -> None:
    token = _token(issuer)
    reply = sealed_post(issuer, "/credential", _request(issuer, encryption), token)
    body = refused(reply, 400, "invalid_encryption_parameters")
    assert "encrypted request" not in body.get("error_description", "")  # refused for itself


def test_oid4vci_refused_encryption_parameters_spend_no_nonce(issuer: World) -> None:
    """The parameters are checked before the key proof's c_nonce is taken."""
    token = _token(issuer)
    body = _request(issuer, {"jwk": PRIVATE_JWK, "enc": "A128GCM"})
    refused(sealed_post(issuer, "/credential", body, token), 400, "invalid_encryption_parameters")
    del body["credential_response_encryption"]
    assert sealed_post(issuer, "/credential", body, token).status == 200


def test_oid4vci_encryption_required_but_absent(strict: World) -> None:
    token = _token(strict)
    refused(
        json_post(strict, "/credential", _request(strict), token),
        400,
        "invalid_encryption_parameters",
    )
    reply = json_post(strict, "/deferred_credential", {"transaction_id": "t"}, token)
    refused(reply, 400, "invalid_encryption_parameters")


def test_oid4vci_encryption_asked_of_an_issuer_that_encrypts_nothing(clear: World) -> None:
    token = _token(clear)
    reply = json_post(
        clear, "/credential", _request(clear, {"jwk": _jwk(), "enc": "A128GCM"}), token
    )
    refused(reply, 400, "invalid_encryption_parameters")


def _deferred_token(w: World) -> tuple[str, str]:
    """An access token for a deferred ResidencePermit and the transaction_id it got."""
    offer = w.service.offer(
        ["ResidencePermit.sd_jwt"], claims={"ResidencePermit": None}, tx_code=False
    )
    form = {
        "grant_type": PRE_AUTHORIZED_CODE,
        "pre-authorized_code": offer.data.pre_authorized_code,
    }
    token = json_of(form_post(w, "/token", form))["access_token"]
    key = PrivateKey.generate(KeyType.P256)
    body = {
        "credential_configuration_id": "ResidencePermit.sd_jwt",
        "proofs": {"jwt": [proof(w)]},
        "credential_response_encryption": {
            "jwk": {**key.public_key.to_jwk(), "alg": "ECDH-ES"},
            "enc": "A128GCM",
        },
    }
    reply = sealed_post(w, "/credential", body, token)
    assert reply.status == 202, reply.body
    pending = json.loads(decrypt_compact(reply.body.decode(), key).plaintext)
    return token, pending["transaction_id"]


@pytest.mark.parametrize("world", ["issuer", "strict", "sealed"])
@pytest.mark.parametrize("path", ["/credential", "/deferred_credential"])
def test_oid4vci_clear_request_carrying_response_encryption(
    request: pytest.FixtureRequest, world: str, path: str
) -> None:
    """8.2: Credential Request encryption is a must whenever credential_response_encryption
    is sent, so that whoever sits between cannot swap in a key of their own: a clear
    (application/json) request carrying it is refused on both endpoints, whether the
    issuer's request key was given (sealed) or made by the issuer (issuer, strict)."""
    w: World = request.getfixturevalue(world)
    encryption = {"jwk": _jwk(), "enc": "A128GCM"}
    if path == "/credential":
        token, body = _token(w), _request(w, encryption)
    else:
        token, tid = _deferred_token(w)
        body = {"transaction_id": tid, "credential_response_encryption": encryption}
    reply = refused(json_post(w, path, body, token), 400, "invalid_encryption_parameters")
    assert "must come in an encrypted request" in reply["error_description"]
    assert sealed_post(w, path, body, token).status in (200, 202)  # the same, sealed: taken


def test_oid4vci_clear_request_to_an_issuer_requiring_encrypted_requests() -> None:
    for world in live_world(
        request_decryption=RequestDecryption(SEALED_KEY, "enc-1", required=True)
    ):
        token = _token(world)
        refused(
            json_post(world, "/credential", _request(world), token),
            400,
            "invalid_encryption_parameters",
        )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda body: encrypt_compact(
                body, PrivateKey.generate(KeyType.P256).public_key, kid="enc-1"
            ),
            id="to-another-key",
        ),
        pytest.param(
            lambda body: encrypt_compact(body, SEALED_KEY.public_key, kid="enc-2"), id="wrong-kid"
        ),
        pytest.param(lambda body: encrypt_compact(body, SEALED_KEY.public_key), id="no-kid"),
        pytest.param(
            lambda body: encrypt_compact(
                body, SEALED_KEY.public_key, enc="A128CBC-HS256", kid="enc-1"
            ),
            id="enc-cbc",
        ),
        pytest.param(
            lambda body: encrypt_compact(b"[1,2]", SEALED_KEY.public_key, kid="enc-1"),
            id="not-an-object",
        ),
        pytest.param(
            lambda body: encrypt_compact(b'{"a":1,"a":2}', SEALED_KEY.public_key, kid="enc-1"),
            id="duplicate-member",
        ),
        pytest.param(lambda body: "a.b.c.d.e", id="garbage"),
        pytest.param(lambda body: "x" * 100, id="not-a-jwe"),
    ],
)
def test_oid4vci_encrypted_request_that_cannot_be_opened(sealed: World, make: Any) -> None:
    token = _token(sealed)
    jwe = make(json.dumps(_request(sealed)).encode())
    refused(_post_jwe(sealed, token, jwe), 400, "invalid_encryption_parameters")


def test_oid4vci_encrypted_request_to_an_issuer_that_takes_none(clear: World) -> None:
    token = _token(clear)
    jwe = encrypt_compact(json.dumps(_request(clear)).encode(), SEALED_KEY.public_key, kid="enc-1")
    body = refused(_post_jwe(clear, token, jwe), 400, "invalid_encryption_parameters")
    assert "takes no encrypted requests" in body["error_description"]


def test_oid4vci_encrypted_request_larger_than_the_bound(sealed: World) -> None:
    token = _token(sealed)
    reply = _post_jwe(sealed, token, "e" * (70 * 1024))  # over the world's 64 KiB body limit
    refused(reply, 413, "invalid_request")


def test_oid4vci_notification_endpoint_takes_no_jwe(sealed: World) -> None:
    token = _token(sealed)
    jwe = encrypt_compact(
        b'{"notification_id":"n","event":"credential_accepted"}', SEALED_KEY.public_key, kid="enc-1"
    )
    refused(_post_jwe(sealed, token, jwe, "/notification"), 415, "invalid_request")


# -- a hostile issuer, or someone in between, against our wallet -----------------------------


class Tamper(SocketTransport):
    """The wallet's real HTTP client, with the answers of one endpoint rewritten."""

    def __init__(self, rewrite: Any, path: str = "/credential") -> None:
        super().__init__()
        self.rewrite = rewrite
        self.path = path

    def request(self, method: str, url: str, **options: Any) -> HttpResponse:  # type: ignore[override]
        answer = super().request(method, url, **options)
        if url.endswith(self.path) and answer.status < 300:
            return self.rewrite(answer, options.get("body"))
        return answer


def _clear_instead(answer: HttpResponse, body: bytes | None) -> HttpResponse:
    return HttpResponse(200, {"content-type": "application/json"}, b'{"credentials":[]}')


def _to_another_key(answer: HttpResponse, body: bytes | None) -> HttpResponse:
    jwe = encrypt_compact(b'{"credentials":[]}', PrivateKey.generate(KeyType.P256).public_key)
    return HttpResponse(200, {"content-type": "application/jwt"}, jwe.encode())


def _unasked(answer: HttpResponse, body: bytes | None) -> HttpResponse:
    sent = json.loads(body or b"{}")
    assert "credential_response_encryption" not in sent
    jwe = encrypt_compact(answer.body, PrivateKey.generate(KeyType.P256).public_key)
    return HttpResponse(200, {"content-type": "application/jwt"}, jwe.encode())


def _wrong_kid(answer: HttpResponse, body: bytes | None) -> HttpResponse:
    opened = decrypt_compact((body or b"").decode(), SEALED_KEY)  # 8.2: the request is sealed
    sent = json.loads(opened.plaintext)["credential_response_encryption"]
    from did_methods.keys import PublicKey

    key = PublicKey.from_jwk(sent["jwk"])
    jwe = encrypt_compact(b'{"credentials":[]}', key, enc=sent["enc"], kid="someone-else")
    return HttpResponse(200, {"content-type": "application/jwt"}, jwe.encode())


@pytest.mark.parametrize(
    ("rewrite", "encrypt", "words"),
    [
        pytest.param(_clear_instead, True, "in clear", id="downgrade-to-clear"),
        pytest.param(_to_another_key, True, "cannot be opened", id="to-another-key"),
        pytest.param(_wrong_kid, True, "kid", id="wrong-kid"),
        pytest.param(_unasked, False, "did not ask", id="encrypted-unasked"),
    ],
)
def test_oid4vci_wallet_refuses_a_tampered_encrypted_answer(
    sealed: World, rewrite: Any, encrypt: bool, words: str
) -> None:
    offer = sealed.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": sealed.claims()}, tx_code=False
    )
    before = len(sealed.wallet.credentials())
    client = sealed.client_for(sealed.wallet, encrypt=encrypt)
    client.transport = Tamper(rewrite)
    with pytest.raises(IssuerResponseError) as caught:
        client.receive(offer.uri)
    assert caught.value.code == "invalid_response"
    assert words in str(caught.value)
    assert len(sealed.wallet.credentials()) == before


def _without_request_key(answer: HttpResponse, body: bytes | None) -> HttpResponse:
    metadata = json.loads(answer.body)
    del metadata["credential_request_encryption"]
    return HttpResponse(200, {"content-type": "application/json"}, json.dumps(metadata).encode())


def test_oid4vci_wallet_sends_no_response_key_in_a_clear_request(strict: World) -> None:
    """An issuer (or someone in between) that requires encrypted responses but publishes
    no request key would have our response key travel in clear (8.2): refused, typed,
    before any Credential Request is sent."""
    offer = strict.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": strict.claims()}, tx_code=False
    )
    client = strict.client_for(strict.wallet)
    client.transport = Tamper(_without_request_key, "/.well-known/openid-credential-issuer")
    with pytest.raises(OID4VCIError) as caught:
        client.receive(offer.uri)
    assert caught.value.code == "invalid_issuer_metadata"
    assert "credential_request_encryption" in str(caught.value)
    sent = [u for m, u, _, _ in client.transport.requests if u.endswith("/credential")]
    assert sent == []


def test_oid4vci_wallet_asked_to_encrypt_stays_clear_without_a_request_key(
    issuer: World,
) -> None:
    """Optional response encryption and no request key: ``encrypt=True`` asks for none
    (its key would travel in clear) and the credential comes, in a clear exchange."""
    offer = issuer.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": issuer.claims()}, tx_code=False
    )
    client = issuer.client_for(issuer.wallet, encrypt=True)
    client.transport = Tamper(_without_request_key, "/.well-known/openid-credential-issuer")
    assert len(client.receive(offer.uri).stored) == 1
    ((headers, body),) = [
        (h, b) for _, u, h, b in client.transport.requests if u.endswith("/credential")
    ]
    assert headers["Content-Type"] == "application/json"
    assert "credential_response_encryption" not in json.loads(body or b"{}")


# -- key attestations: a hostile wallet ------------------------------------------------------

ATTESTER = PrivateKey.generate(KeyType.P256)
ROGUE = PrivateKey.generate(KeyType.P256)
POLICY = KeyAttestationPolicy(
    {"wallet-provider-1": ATTESTER.public_key},
    key_storage=("iso_18045_high",),
    user_authentication=("iso_18045_moderate",),
)


@pytest.fixture(scope="module")
def attested() -> Iterator[World]:
    yield from live_world(key_attestations=POLICY)


def _now() -> datetime:
    return datetime.now(UTC)


def _attestation(
    keys: list[PublicKey],
    *,
    signer: PrivateKey = ATTESTER,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A key attestation; ``claims`` replace (None: remove) members of the good one."""
    at = int(_now().timestamp())
    body: dict[str, Any] = {
        "iat": at,
        "exp": at + 600,
        "attested_keys": [k.to_jwk() for k in keys],
        "key_storage": ["iso_18045_high"],
        "user_authentication": ["iso_18045_moderate"],
    }
    for name, value in claims.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    head = {"typ": "key-attestation+jwt", "kid": "wallet-provider-1", **(header or {})}
    return sign_compact(head, dumps(body), signer)


def _attested_request(w: World, make: Any) -> HttpResponse:
    """A credential request whose one jwt proof carries ``make(key, c_nonce)``'s attestation."""
    key = PrivateKey.generate(KeyType.P256)
    c_nonce = nonce(w)
    jwt = make_jwt_proof(
        key, audience=w.base, nonce=c_nonce, now=_now(), key_attestation=make(key, c_nonce)
    )
    body = {"credential_configuration_id": "WorkPermit.sd_jwt", "proofs": {"jwt": [jwt]}}
    return json_post(w, "/credential", body, _token(w))


def _other() -> PublicKey:
    return PrivateKey.generate(KeyType.P256).public_key


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda k, n: _attestation([k.public_key], signer=ROGUE), id="rogue-signer"),
        pytest.param(
            lambda k, n: _attestation([k.public_key], header={"kid": "unknown"}), id="unknown-kid"
        ),
        pytest.param(
            lambda k, n: _attestation(
                [k.public_key], signer=k, header={"jwk": k.public_key.to_jwk()}
            ),
            id="self-attested-jwk",
        ),
        pytest.param(lambda k, n: _attestation([k.public_key], header={"x5c": ["MIIB"]}), id="x5c"),
        pytest.param(
            lambda k, n: _attestation([k.public_key], header={"typ": "JWT"}), id="wrong-typ"
        ),
        pytest.param(lambda k, n: _attestation([_other()]), id="proof-key-not-attested"),
        pytest.param(lambda k, n: _attestation([k.public_key], exp=None), id="no-exp-in-jwt"),
        pytest.param(
            lambda k, n: _attestation([k.public_key], exp=int(_now().timestamp()) - 1),
            id="expired",
        ),
        pytest.param(
            lambda k, n: _attestation([k.public_key], iat=int(_now().timestamp()) + 3600),
            id="iat-in-future",
        ),
        pytest.param(
            lambda k, n: _attestation([k.public_key], key_storage=["iso_18045_basic"]),
            id="weak-key-storage",
        ),
        pytest.param(
            lambda k, n: _attestation([k.public_key], key_storage=None), id="no-key-storage"
        ),
        pytest.param(
            lambda k, n: _attestation([k.public_key], user_authentication=["iso_18045_basic"]),
            id="weak-user-authentication",
        ),
        pytest.param(lambda k, n: _attestation([k.public_key], attested_keys=[]), id="no-keys"),
        pytest.param(
            lambda k, n: _attestation(
                [k.public_key], attested_keys=[k.public_key.to_jwk(), k.public_key.to_jwk()]
            ),
            id="repeated-key",
        ),
        pytest.param(
            lambda k, n: _attestation([k.public_key], attested_keys=[k.private_jwk()]),
            id="private-key-attested",
        ),
        pytest.param(
            lambda k, n: _attestation([k.public_key, *(_other() for _ in range(4))]),
            id="more-keys-than-the-batch",
        ),
        pytest.param(
            lambda k, n: _attestation([k.public_key], key_storage="iso_18045_high"),
            id="key-storage-not-an-array",
        ),
        pytest.param(lambda k, n: "not.a.jwt", id="garbage"),
        pytest.param(lambda k, n: "e" * (40 * 1024), id="oversized"),
    ],
)
def test_oid4vci_key_attestation_in_a_jwt_proof_refused(attested: World, make: Any) -> None:
    refused(_attested_request(attested, make), 400, "invalid_proof")


def test_oid4vci_key_attestation_with_alg_none(attested: World) -> None:
    def unsigned(key: PrivateKey, c_nonce: str) -> str:
        good = _attestation([key.public_key])
        head = {"typ": "key-attestation+jwt", "alg": "none", "kid": "wallet-provider-1"}
        return f"{b64e(json.dumps(head).encode())}.{good.split('.')[1]}."

    refused(_attested_request(attested, unsigned), 400, "invalid_proof")


def test_oid4vci_key_attestation_with_a_nonce_that_is_not_a_c_nonce(attested: World) -> None:
    def made_up(key: PrivateKey, c_nonce: str) -> str:
        return _attestation([key.public_key], nonce="made-up")

    refused(_attested_request(attested, made_up), 400, "invalid_nonce")


def test_oid4vci_jwt_proof_without_the_required_key_attestation(attested: World) -> None:
    token = _token(attested)
    reply = json_post(attested, "/credential", _request(attested), token)
    refused(reply, 400, "invalid_proof")


def test_oid4vci_di_vp_where_key_attestations_are_required(attested: World) -> None:
    key = PrivateKey.generate(KeyType.P256)
    presentation = make_di_vp_proof(key, audience=attested.base, nonce=nonce(attested), now=_now())
    body = {"credential_configuration_id": "WorkPermit.sd_jwt", "proofs": {"di_vp": [presentation]}}
    refused(json_post(attested, "/credential", body, _token(attested)), 400, "invalid_proof")


def _attestation_proof(w: World, token: str, value: Any) -> HttpResponse:
    body = {"credential_configuration_id": "WorkPermit.sd_jwt", "proofs": {"attestation": value}}
    return json_post(w, "/credential", body, token)


def test_oid4vci_attestation_proof_type_refusals(attested: World) -> None:
    keys = [PrivateKey.generate(KeyType.P256).public_key for _ in range(2)]
    token = _token(attested)
    # no nonce: the issuer has a nonce endpoint (F.3)
    refused(_attestation_proof(attested, token, [_attestation(keys)]), 400, "invalid_proof")
    # two attestations where exactly one goes
    two = [_attestation(keys, nonce=nonce(attested)), _attestation(keys, nonce=nonce(attested))]
    refused(_attestation_proof(attested, token, two), 400, "invalid_proof")
    # a nonce the issuer never gave
    refused(
        _attestation_proof(attested, token, [_attestation(keys, nonce="made-up")]),
        400,
        "invalid_nonce",
    )
    # a good one, then its replay
    good = [_attestation(keys, nonce=nonce(attested))]
    reply = _attestation_proof(attested, token, good)
    assert reply.status == 200 and len(json_of(reply)["credentials"]) == 2
    refused(_attestation_proof(attested, token, good), 400, "invalid_nonce")
    # not an array, and a rogue attester
    refused(_attestation_proof(attested, token, good[0]), 400, "invalid_proof")
    rogue = [_attestation(keys, signer=ROGUE, nonce=nonce(attested))]
    refused(_attestation_proof(attested, token, rogue), 400, "invalid_proof")


def test_oid4vci_attestation_proof_type_not_offered_without_a_policy(issuer: World) -> None:
    keys = [PrivateKey.generate(KeyType.P256).public_key]
    reply = _attestation_proof(issuer, _token(issuer), [_attestation(keys, nonce=nonce(issuer))])
    refused(reply, 400, "invalid_proof")


# -- di_vp: a hostile wallet -----------------------------------------------------------------


def _di_vp(w: World, **change: Any) -> dict[str, Any]:
    key = change.pop("key", None) or PrivateKey.generate(KeyType.ED25519)
    return make_di_vp_proof(
        key,
        audience=change.pop("audience", w.base),
        nonce=change.pop("nonce", None) or nonce(w),
        now=change.pop("now", _now()),
    )


def _edit(presentation: dict[str, Any], where: str, **members: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(presentation))
    target = out["proof"] if where == "proof" else out
    for name, value in members.items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return out


def _resign(presentation: dict[str, Any], key: PrivateKey, **options: Any) -> dict[str, Any]:
    """Sign again after an edit (so only the edited rule, not the signature, can refuse it)."""
    from credentials.data_integrity import add_proof

    bare = {k: v for k, v in presentation.items() if k != "proof"}
    proof = presentation["proof"]
    return add_proof(
        bare,
        key,
        verification_method=options.pop("verification_method", proof["verificationMethod"]),
        proof_purpose=options.pop("proof_purpose", "authentication"),
        challenge=options.pop("challenge", proof.get("challenge")),
        domain=options.pop("domain", proof.get("domain")),
        **options,
    )


KEY = PrivateKey.generate(KeyType.ED25519)
ANOTHER_DID = did_key_from_public_key(PrivateKey.generate(KeyType.ED25519).public_key)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        pytest.param(
            lambda w: _di_vp(w, audience="https://elsewhere.example"),
            "invalid_proof",
            id="other-domain",
        ),
        pytest.param(lambda w: _di_vp(w, nonce="made-up"), "invalid_nonce", id="made-up-challenge"),
        pytest.param(
            lambda w: _resign(_di_vp(w, key=KEY), KEY, challenge=None),
            "invalid_proof",
            id="no-challenge",
        ),
        pytest.param(
            lambda w: _resign(_di_vp(w, key=KEY), KEY, proof_purpose="assertionMethod"),
            "invalid_proof",
            id="assertion-purpose",
        ),
        pytest.param(
            lambda w: _edit(_di_vp(w), "proof", challenge=nonce(w)), "invalid_proof", id="tampered"
        ),
        pytest.param(
            lambda w: _resign(_edit(_di_vp(w, key=KEY), "top", holder=ANOTHER_DID), KEY),
            "invalid_proof",
            id="holder-not-the-signer",
        ),
        pytest.param(
            lambda w: _resign(_di_vp(w, key=KEY), KEY, verification_method="did:web:example.com#k"),
            "invalid_proof",
            id="did-web-method",
        ),
        pytest.param(
            lambda w: _edit(_di_vp(w), "proof", cryptosuite="eddsa-rdfc-2022"),
            "invalid_proof",
            id="suite-not-offered",
        ),
        pytest.param(
            lambda w: _edit(_di_vp(w), "top", type=["VerifiableCredential"]),
            "invalid_proof",
            id="not-a-presentation",
        ),
        pytest.param(
            lambda w: {**_di_vp(w), "proof": [_di_vp(w)["proof"], _di_vp(w)["proof"]]},
            "invalid_proof",
            id="two-proofs",
        ),
        pytest.param(
            lambda w: _resign(_di_vp(w, key=KEY), KEY, created=_now() + timedelta(hours=1)),
            "invalid_proof",
            id="created-in-future",
        ),
        pytest.param(lambda w: "a presentation", "invalid_proof", id="a-string"),
    ],
)
def test_oid4vci_di_vp_proof_refused(issuer: World, make: Any, code: str) -> None:
    body = {"credential_configuration_id": "WorkPermit.sd_jwt", "proofs": {"di_vp": [make(issuer)]}}
    refused(json_post(issuer, "/credential", body, _token(issuer)), 400, code)


def test_oid4vci_di_vp_replayed(issuer: World) -> None:
    token = _token(issuer)
    body = {
        "credential_configuration_id": "WorkPermit.sd_jwt",
        "proofs": {"di_vp": [_di_vp(issuer)]},
    }
    assert json_post(issuer, "/credential", body, token).status == 200
    refused(json_post(issuer, "/credential", body, token), 400, "invalid_nonce")


def test_oid4vci_unknown_proof_type(issuer: World) -> None:
    body = {"credential_configuration_id": "WorkPermit.sd_jwt", "proofs": {"ldp_vp": [{}]}}
    refused(json_post(issuer, "/credential", body, _token(issuer)), 400, "invalid_proof")


# -- signed metadata: a hostile issuer, or someone in between, against our wallet ------------

META_KEY = PrivateKey.generate(KeyType.P256)
METADATA = "/.well-known/openid-credential-issuer"


@pytest.fixture(scope="module")
def signing() -> Iterator[World]:
    yield from live_world(metadata_signer=MetadataSigner(META_KEY, kid="m1"))


def _pki(*hosts: str) -> tuple[Any, PrivateKey, list[str]]:
    """A root, and a leaf key certified for ``hosts`` by it (as x5c)."""
    root, key, chain = certified_key(*hosts)
    return root, key, x5c(*chain)


ROOT, LEAF, LEAF_X5C = _pki("127.0.0.1")
_, OTHER_HOST_LEAF, OTHER_HOST_X5C = _pki("issuer.example")
STRANGE_ROOT, STRANGE_LEAF, STRANGE_X5C = _pki("127.0.0.1")


def _signed(
    w: World,
    *,
    key: PrivateKey = META_KEY,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """Signed metadata of ``w``; ``claims`` replace (None: remove) members."""
    at = int(_now().timestamp())
    body: dict[str, Any] = {
        **w.service.issuer_metadata(),
        "sub": w.base,
        "iat": at,
        "exp": at + 600,
    }
    for name, value in claims.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return sign_compact(
        {"typ": "openidvci-issuer-metadata+jwt", **(header or {})}, dumps(body), key
    )


def _served(token: str | bytes, media: str = "application/jwt") -> Any:
    data = token.encode() if isinstance(token, str) else token

    def rewrite(answer: HttpResponse, body: bytes | None) -> HttpResponse:
        return HttpResponse(200, {"content-type": media}, data)

    return rewrite


def _resolve(w: World, rewrite: Any, **options: Any) -> IssuerResponseError:
    offer = w.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": w.claims()})
    client = w.client_for(w.wallet, **options)
    client.transport = Tamper(rewrite, METADATA)
    with pytest.raises(IssuerResponseError) as caught:
        client.resolve_offer(offer.uri)
    return caught.value


PIN = "pin"
ANCHOR = "anchor"
DID = "did"


def _did_url(key: PrivateKey) -> str:
    did = did_key_from_public_key(key.public_key)
    return f"{did}#{did.removeprefix('did:key:')}"


@pytest.mark.parametrize(
    ("make", "trust"),
    [
        pytest.param(lambda w: _signed(w, key=ROGUE), PIN, id="signed-by-another-key"),
        pytest.param(lambda w: _signed(w, sub="https://other.example"), PIN, id="sub-another"),
        pytest.param(lambda w: _signed(w, sub=None), PIN, id="sub-missing"),
        pytest.param(
            lambda w: _signed(w, credential_issuer="https://other.example"),
            PIN,
            id="credential-issuer-another",
        ),
        pytest.param(lambda w: _signed(w, exp=int(_now().timestamp()) - 5), PIN, id="expired"),
        pytest.param(
            lambda w: _signed(w, iat=int(_now().timestamp()) + 3600), PIN, id="iat-in-future"
        ),
        pytest.param(lambda w: _signed(w, iat=None), PIN, id="iat-missing"),
        pytest.param(lambda w: _signed(w, header={"typ": "JWT"}), PIN, id="wrong-typ"),
        pytest.param(lambda w: _signed(w).rsplit(".", 1)[0] + ".", PIN, id="signature-stripped"),
        pytest.param(
            lambda w: (
                lambda t: t.split(".")[0] + "." + b64e(b'{"sub":"x"}') + "." + t.split(".")[2]
            )(_signed(w)),
            PIN,
            id="payload-swapped",
        ),
        pytest.param(lambda w: "garbage", PIN, id="garbage"),
        pytest.param(
            lambda w: _signed(w, key=LEAF, header={"x5c": LEAF_X5C}, credential_endpoint=None),
            ANCHOR,
            id="no-credential-endpoint",
        ),
        pytest.param(
            lambda w: _signed(w, key=STRANGE_LEAF, header={"x5c": STRANGE_X5C}),
            ANCHOR,
            id="x5c-to-another-root",
        ),
        pytest.param(
            lambda w: _signed(w, key=OTHER_HOST_LEAF, header={"x5c": OTHER_HOST_X5C}),
            ANCHOR,
            id="x5c-naming-another-host",
        ),
        pytest.param(
            lambda w: _signed(w, key=ROGUE, header={"x5c": LEAF_X5C}),
            ANCHOR,
            id="x5c-of-a-key-that-did-not-sign",
        ),
        pytest.param(lambda w: _signed(w, header={"kid": "m1"}), ANCHOR, id="kid-only"),
        pytest.param(
            lambda w: _signed(w, key=ROGUE, header={"kid": w.ministry.signer().method}),
            DID,
            id="did-kid-signed-by-another-key",
        ),
        pytest.param(
            lambda w: _signed(w, key=ROGUE, header={"kid": _did_url(ROGUE)}),
            DID,
            id="kid-of-another-did",
        ),
        pytest.param(
            lambda w: _signed(w, key=w.ministry.signer().key), DID, id="did-trust-without-kid"
        ),
        pytest.param(
            lambda w: _signed(
                w,
                key=w.ministry.signer().key,
                header={"kid": w.ministry.did + "#no-such-key"},
            ),
            DID,
            id="kid-no-such-method",
        ),
    ],
)
def test_oid4vci_wallet_refuses_signed_metadata(signing: World, make: Any, trust: str) -> None:
    options: dict[str, Any] = {
        PIN: {"metadata_keys": {signing.base: META_KEY.public_key}},
        ANCHOR: {"metadata_trust_anchors": [ROOT]},
        DID: {
            "metadata_dids": {signing.base: signing.ministry.did},
            "resolver": signing.ledger.resolver(),
        },
    }[trust]
    refusal = _resolve(signing, _served(make(signing)), **options)
    assert refusal.code == "invalid_issuer_metadata", refusal


def test_oid4vci_wallet_with_a_pinned_key_refuses_unsigned_metadata(signing: World) -> None:
    """A stripped signature (JSON instead of the JWT) is a downgrade."""
    unsigned = json.dumps(signing.service.issuer_metadata()).encode()
    refusal = _resolve(
        signing,
        _served(unsigned, "application/json"),
        metadata_keys={signing.base: META_KEY.public_key},
    )
    assert refusal.code == "invalid_issuer_metadata" and "unsigned" in str(refusal)


def test_oid4vci_wallet_refuses_signed_metadata_it_cannot_trust(signing: World) -> None:
    """Signed metadata answered to a wallet that asked for JSON and trusts no signer."""
    refusal = _resolve(signing, _served(_signed(signing)))
    assert refusal.code == "invalid_issuer_metadata"


def test_oid4vci_key_attestations_by_certificate_chain_refused() -> None:
    """An attestation whose x5c reaches another root, or whose leaf did not sign it."""
    root, provider, chain = _pki("wallet-provider.example")
    policy = KeyAttestationPolicy({}, trust_anchors=(root,))
    for world in live_world(key_attestations=policy):
        cases = {
            "another-root": (STRANGE_LEAF, STRANGE_X5C),
            "leaf-did-not-sign": (ROGUE, chain),
            "kid-without-chain": (provider, None),
        }
        for label, (signer, x5c_value) in cases.items():
            header = {"x5c": x5c_value} if x5c_value is not None else {"kid": "wallet-provider-1"}

            def make(key: PrivateKey, c_nonce: str, s: Any = signer, h: Any = header) -> str:
                return _attestation([key.public_key], signer=s, header=h)

            reply = _attested_request(world, make)
            assert json_of(reply).get("error") == "invalid_proof", label
            assert reply.status == 400, label
        good = _attested_request(
            world,
            lambda key, n: _attestation([key.public_key], signer=provider, header={"x5c": chain}),
        )
        assert good.status == 200, good.body  # the same request with a trusted chain is issued


# -- property tests: every new parser answers, or refuses with a typed error and a code -------

_VALUES = _json_values


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_property_encryption_parameters_with_one_member_replaced(data: Any) -> None:
    good = {"jwk": _jwk(kid="k1"), "enc": "A128GCM"}
    part = data.draw(st.sampled_from(["top", "jwk"]))
    target = good if part == "top" else good["jwk"]
    member = data.draw(st.sampled_from([*target, "zip", "d", "alg", "kid", "crv"]))
    target[member] = data.draw(_VALUES)
    _typed(lambda: read_response_encryption(good))
    _typed(
        lambda: choose_request_key(
            {"jwks": {"keys": [good["jwk"]]}, "enc_values_supported": [good.get("enc")]}
        )
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_property_key_attestations_and_di_vp_with_one_member_replaced(data: Any) -> None:
    key = PrivateKey.generate(KeyType.P256)
    at = int(_now().timestamp())
    header = {"typ": "key-attestation+jwt", "kid": "wallet-provider-1"}
    claims: dict[str, Any] = {
        "iat": at,
        "exp": at + 60,
        "attested_keys": [key.public_key.to_jwk()],
        "key_storage": ["iso_18045_high"],
        "user_authentication": ["iso_18045_moderate"],
        "nonce": "n",
    }
    part = data.draw(st.sampled_from(["header", "claims", "vp", "proof"]))
    value = data.draw(_VALUES)
    if part in ("header", "claims"):
        target = header if part == "header" else claims
        target[data.draw(st.sampled_from([*target, "x5c", "jwk", "crit"]))] = value
        token = sign_compact(header, dumps(claims), ATTESTER)
        _typed(
            lambda: verify_key_attestation(
                token, POLICY, now=_now(), algorithms=("ES256",), in_jwt_proof=True
            )
        )
        return
    presentation = make_di_vp_proof(key, audience="https://issuer.example", nonce="n", now=_now())
    target = presentation if part == "vp" else presentation["proof"]
    target[data.draw(st.sampled_from([*target, "verifiableCredential"]))] = value
    _typed(lambda: verify_di_vp_proof(presentation, audience="https://issuer.example", now=_now()))


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_property_signed_metadata_with_one_claim_replaced(data: Any) -> None:
    at = int(_now().timestamp())
    identifier = "https://issuer.example"
    claims: dict[str, Any] = {
        "credential_issuer": identifier,
        "credential_endpoint": identifier + "/credential",
        "credential_configurations_supported": {"a": {"format": "dc+sd-jwt"}},
        "sub": identifier,
        "iat": at,
        "exp": at + 60,
    }
    header: dict[str, Any] = {"typ": "openidvci-issuer-metadata+jwt"}
    target = data.draw(st.sampled_from([header, claims]))
    target[data.draw(st.sampled_from([*target, "x5c", "kid", "crit"]))] = data.draw(_VALUES)
    token = sign_compact(header, dumps(claims), META_KEY)
    _typed(
        lambda: verify_signed_metadata(
            token, identifier, now=_now(), pinned=META_KEY.public_key, trust_anchors=(ROOT,)
        )
    )
    _typed(lambda: verify_signed_metadata(token, identifier, now=_now(), trust_anchors=(ROOT,)))
