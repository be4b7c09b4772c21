"""Encrypted Credential Requests and Responses (OpenID4VCI 1.0 section 10) over real HTTP.

Our issuer on 127.0.0.1 encrypts its Credential and Deferred Credential
Responses (ECDH-ES, A128GCM/A256GCM) to the key a wallet sends, and decrypts
requests sent to its published key; our wallet does both sides. The wallet's
response key travels only inside an encrypted request (section 8.2), so an
issuer offering response encryption always publishes a request key. The refusals
(one per error) are in tests/attacks/test_attacks_oid4vci_ext.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oid4vci_world import (
    World,
    access_token,
    json_of,
    live_world,
    proof,
    sealed_post,
)

from credentials.jwe import decrypt_compact, encrypt_compact
from did_methods.keys import KeyType, PrivateKey, jwk_thumbprint
from ssi_wallet.oid4vci import CredentialIssuer, RequestDecryption
from ssi_wallet.oid4vci.encryption import ENCRYPTION_ENCS

#: The issuer's request decryption key in the "sealed" world (kid "enc-1").
SEALED_KEY = PrivateKey.generate(KeyType.P256)


@pytest.fixture(scope="module")
def sealed() -> Iterator[World]:
    """An issuer that requires encrypted requests and encrypted responses."""
    yield from live_world(
        require_response_encryption=True,
        request_decryption=RequestDecryption(SEALED_KEY, "enc-1", required=True),
    )


def _response_key(enc: str = "A256GCM") -> tuple[PrivateKey, dict[str, Any]]:
    key = PrivateKey.generate(KeyType.P256)
    jwk = {**key.public_key.to_jwk(), "alg": "ECDH-ES", "kid": "wallet-key-7"}
    return key, {"jwk": jwk, "enc": enc}


def _credential_requests(world: World) -> list[tuple[dict[str, str], bytes | None]]:
    return [(h, b) for _, url, h, b in world.transport.requests if url.endswith("/credential")]


# -- metadata -----------------------------------------------------------------------------


def test_metadata_says_what_is_encrypted(world: World, sealed: World) -> None:
    open_meta = json_of(world.call("GET", "/.well-known/openid-credential-issuer"))
    assert open_meta["credential_response_encryption"] == {
        "alg_values_supported": ["ECDH-ES"],
        "enc_values_supported": ["A128GCM", "A256GCM"],
        "encryption_required": False,
    }
    # 8.2: response encryption is asked inside an encrypted request, so a request key
    # is published with it (here one the issuer made itself: no request_decryption given)
    generated = open_meta["credential_request_encryption"]
    assert generated["encryption_required"] is False
    assert generated["enc_values_supported"] == list(ENCRYPTION_ENCS)
    (own,) = generated["jwks"]["keys"]
    assert own["kty"] == "EC" and own["crv"] == "P-256" and "d" not in own
    assert own["use"] == "enc" and own["alg"] == "ECDH-ES"
    assert own["kid"] == jwk_thumbprint({k: own[k] for k in ("kty", "crv", "x", "y")})
    bare = CredentialIssuer(world.ministry, world.base, response_encryption=False)
    assert "credential_response_encryption" not in bare.issuer_metadata()
    assert "credential_request_encryption" not in bare.issuer_metadata()
    meta = json_of(sealed.call("GET", "/.well-known/openid-credential-issuer"))
    assert meta["credential_response_encryption"]["encryption_required"] is True
    request = meta["credential_request_encryption"]
    assert request["encryption_required"] is True
    assert request["enc_values_supported"] == list(ENCRYPTION_ENCS)
    (jwk,) = request["jwks"]["keys"]
    assert jwk == {**SEALED_KEY.public_key.to_jwk(), "kid": "enc-1", "use": "enc", "alg": "ECDH-ES"}
    assert "d" not in jwk


# -- the issuer, spoken to by hand ----------------------------------------------------------


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_issuer_encrypts_the_credential_response(world: World, enc: str) -> None:
    token = access_token(world)
    key, params = _response_key(enc)
    body = {
        "credential_configuration_id": "WorkPermit.sd_jwt",
        "proofs": {"jwt": [proof(world)]},
        "credential_response_encryption": params,
    }
    reply = sealed_post(world, "/credential", body, token)  # 8.2: the request encrypted too
    assert reply.status == 200
    assert reply.headers["content-type"].split(";")[0] == "application/jwt"
    assert reply.headers["cache-control"] == "no-store"
    opened = decrypt_compact(reply.body.decode("ascii"), key, encs=(enc,))
    assert opened.header["alg"] == "ECDH-ES" and opened.header["enc"] == enc
    assert opened.header["kid"] == "wallet-key-7"  # section 10: the JWE repeats the JWK's kid
    message = json.loads(opened.plaintext)
    assert len(message["credentials"]) == 1 and "~" in message["credentials"][0]["credential"]
    assert isinstance(message["notification_id"], str)
    with pytest.raises(Exception, match="decrypt"):  # for that key only
        decrypt_compact(reply.body.decode("ascii"), PrivateKey.generate(KeyType.P256))


def test_issuer_decrypts_an_encrypted_request_and_answers_encrypted(sealed: World) -> None:
    token = access_token(sealed)
    key, params = _response_key("A128GCM")
    request = {
        "credential_configuration_id": "WorkPermit.sd_jwt",
        "proofs": {"jwt": [proof(sealed)]},
        "credential_response_encryption": params,
    }
    jwe = encrypt_compact(
        json.dumps(request).encode(), SEALED_KEY.public_key, enc="A256GCM", kid="enc-1"
    )
    reply = sealed.call(
        "POST",
        "/credential",
        headers={"Content-Type": "application/jwt", "Authorization": f"Bearer {token}"},
        body=jwe.encode(),
    )
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"].split(";")[0] == "application/jwt"
    message = json.loads(decrypt_compact(reply.body.decode(), key).plaintext)
    assert "credentials" in message


def test_error_responses_are_never_encrypted(world: World) -> None:
    token = access_token(world)
    _, params = _response_key()
    body = {
        "credential_configuration_id": "WorkPermit.sd_jwt",
        "proofs": {"jwt": [proof(world, nonce="not-a-live-nonce")]},
        "credential_response_encryption": params,
    }
    reply = sealed_post(world, "/credential", body, token)
    assert reply.status == 400 and json_of(reply)["error"] == "invalid_nonce"


# -- our wallet against our issuer ----------------------------------------------------------


def test_wallet_asks_for_encrypted_responses_when_told(world: World) -> None:
    offer = world.service.offer(["WorkPermit.jwt_vc_json"], claims={"WorkPermit": world.claims()})
    before = len(_credential_requests(world))
    result = world.client(encrypt=True).receive(offer.uri, tx_code=offer.tx_code)
    assert [c.format for c in result.stored] == ["jwt_vc_json"]
    ((headers, body),) = _credential_requests(world)[before:]
    assert headers["Content-Type"] == "application/jwt"  # 8.2: the response key sent sealed
    sent = world.service.request_decryption.open((body or b"").decode())
    jwk = sent["credential_response_encryption"]["jwk"]
    assert jwk["alg"] == "ECDH-ES" and "d" not in jwk and jwk["kid"]
    assert sent["credential_response_encryption"]["enc"] in ENCRYPTION_ENCS


def test_wallet_without_encrypt_sends_clear_requests(world: World) -> None:
    offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
    before = len(_credential_requests(world))
    result = world.client().receive(offer.uri, tx_code=offer.tx_code)
    assert len(result.stored) == 1
    ((_, body),) = _credential_requests(world)[before:]
    assert "credential_response_encryption" not in json.loads(body or b"")


def test_wallet_encrypts_everything_an_issuer_requires(sealed: World) -> None:
    offer = sealed.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": sealed.claims()}, tx_code=False
    )
    before = len(_credential_requests(sealed))
    result = sealed.client().receive(offer.uri, batch=2)  # no encrypt=True: the issuer requires it
    assert len(result.stored) == 2
    ((headers, body),) = _credential_requests(sealed)[before:]
    assert headers["Content-Type"] == "application/jwt"
    opened = decrypt_compact((body or b"").decode(), SEALED_KEY)
    assert opened.header["kid"] == "enc-1"
    inner = json.loads(opened.plaintext)
    assert len(inner["proofs"]["jwt"]) == 2 and "credential_response_encryption" in inner
    events = sealed.service.notifications(offer.case_id)
    assert [e["event"] for e in events] == ["credential_accepted"]  # notifications stay clear


def test_deferred_issuance_encrypted_both_ways(sealed: World) -> None:
    offer = sealed.service.offer(
        ["ResidencePermit.sd_jwt"], claims={"ResidencePermit": None}, tx_code=False
    )
    client = sealed.client()
    resolved = client.resolve_offer(offer.uri)
    result = client.receive(offer.uri)
    (pending,) = result.pending
    again = client.fetch_deferred(pending, resolved)  # 202, encrypted too
    assert again.stored == [] and again.pending[0].transaction_id == pending.transaction_id
    sealed.service.provide(offer.case_id, "ResidencePermit", sealed.claims("ResidencePermit"))
    done = client.fetch_deferred(pending, resolved)
    assert [c.format for c in done.stored] == ["dc+sd-jwt"]
    deferred = [
        (h, b) for _, url, h, b in sealed.transport.requests if url.endswith("/deferred_credential")
    ]
    assert len(deferred) >= 2
    keys = set()
    for headers, body in deferred[-2:]:
        assert headers["Content-Type"] == "application/jwt"
        inner = json.loads(decrypt_compact((body or b"").decode(), SEALED_KEY).plaintext)
        assert inner["transaction_id"] == pending.transaction_id
        keys.add(json.dumps(inner["credential_response_encryption"]["jwk"], sort_keys=True))
    assert len(keys) == 2  # a fresh response key for each deferred request


def test_the_in_process_transport_encrypts_too() -> None:
    from ledger.facade import Ledger
    from ssi_wallet import Holder, Issuer
    from ssi_wallet.oid4vci import CredentialIssuer, InProcessTransport, WalletClient

    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    ministry = Issuer.create(ledger, name="Ministry", status_base="https://issuer.example/status")
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    key = PrivateKey.generate(KeyType.P256)
    service = CredentialIssuer(
        ministry,
        "https://issuer.example",
        require_response_encryption=True,
        request_decryption=RequestDecryption(key, "k1", required=True),
    )
    holder = Holder.create(":memory:", passphrase="pw", resolver=ledger.resolver())
    offer = service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": World.claims()})
    client = WalletClient(holder, InProcessTransport(service))
    assert len(client.receive(offer.uri, tx_code=offer.tx_code).stored) == 1


def test_encryption_settings_reach_the_served_issuer(tmp_path: Path) -> None:
    from did_methods.keyfile import write_key_file
    from ssi_wallet.server.common import ConfigError
    from ssi_wallet.server.oid4vci import IssuerServiceConfig

    write_key_file(tmp_path / "issuer.jwk", PrivateKey.generate(KeyType.P256))
    request_key = PrivateKey.generate(KeyType.P256)
    write_key_file(tmp_path / "req.jwk", request_key)
    path = tmp_path / "issuer.toml"
    (tmp_path / "token.txt").write_text("a-token-for-the-encryption-settings")
    path.write_text(
        '[server]\nhost = "127.0.0.1"\nport = 8443\ntoken_file = "token.txt"\n\n'
        '[issuer]\nkey_file = "issuer.jwk"\n'
        'require_response_encryption = true\nrequest_key_file = "req.jwk"\n'
        "require_request_encryption = true\n"
    )
    service = IssuerServiceConfig.load(path).build()
    assert service.require_response_encryption and service.request_decryption is not None
    assert service.request_decryption.required
    published = service.issuer_metadata()["credential_request_encryption"]["jwks"]["keys"][0]
    assert published["x"] == request_key.public_key.to_jwk()["x"]
    path.write_text(path.read_text().replace('request_key_file = "req.jwk"\n', ""))
    with pytest.raises(ConfigError, match=r"needs issuer\.request_key_file"):
        IssuerServiceConfig.load(path)
    path.write_text(
        path.read_text()
        .replace("require_request_encryption = true\n", "")
        .replace("require_response_encryption = true", 'require_response_encryption = "yes"')
    )
    with pytest.raises(ConfigError, match="true or false"):
        IssuerServiceConfig.load(path)
