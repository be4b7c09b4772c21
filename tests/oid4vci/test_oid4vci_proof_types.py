"""Key proof types beyond ``jwt`` over real HTTP: ``di_vp``, ``attestation``, and ``jwt`` proofs
carrying a key attestation (OpenID4VCI 1.0 appendices D and F), our wallet against our issuer.

The refusals (one per failing check) are in tests/attacks/test_attacks_oid4vci_ext.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from oid4vci_world import (
    World,
    access_token,
    certified_key,
    json_of,
    json_post,
    live_world,
    nonce,
)
from x509_support import x5c

from credentials.sd_jwt import SdJwt
from did_methods.keys import KeyType, PrivateKey, jwk_thumbprint
from did_methods.methods.key import did_key_from_public_key
from ssi_wallet.oid4vci import (
    KeyAttestationPolicy,
    KeyAttestationSigner,
    OID4VCIError,
)
from ssi_wallet.oid4vci.attestation import make_key_attestation
from ssi_wallet.oid4vci.proofs import make_di_vp_proof, make_jwt_proof

#: The test Wallet Provider: it attests keys as held in high-resistance storage.
ATTESTER = PrivateKey.generate(KeyType.P256)
POLICY = KeyAttestationPolicy(
    {"wallet-provider-1": ATTESTER.public_key},
    key_storage=("iso_18045_high", "iso_18045_moderate"),
    user_authentication=("iso_18045_moderate",),
)
PROVIDER = KeyAttestationSigner(
    ATTESTER,
    "wallet-provider-1",
    key_storage=("iso_18045_high",),
    user_authentication=("iso_18045_moderate",),
)


@pytest.fixture(scope="module")
def attested() -> Iterator[World]:
    """An issuer that requires key attestations from the test Wallet Provider."""
    yield from live_world(key_attestations=POLICY)


def _sent_proofs(world: World, before: int) -> list[dict[str, Any]]:
    return [
        json.loads(body or b"{}")["proofs"]
        for _, url, _, body in world.transport.requests[before:]
        if url.endswith("/credential")
    ]


def _bound_keys(credentials: list[Any]) -> set[str]:
    """The thumbprint (SD-JWT VC) or subject DID (W3C) each credential is bound to."""
    out = set()
    for stored in credentials:
        if stored.format == "dc+sd-jwt":
            jwk = SdJwt.parse(stored.raw).unverified_payload["cnf"]["jwk"]
            out.add(jwk_thumbprint(jwk))
        else:
            out.add(stored.claims["credentialSubject"]["id"])
    return out


# -- metadata --------------------------------------------------------------------------------


def test_metadata_lists_the_proof_types(world: World, attested: World) -> None:
    meta = json_of(world.call("GET", "/.well-known/openid-credential-issuer"))
    types = meta["credential_configurations_supported"]["WorkPermit.ldp_vc"][
        "proof_types_supported"
    ]
    assert set(types) == {"jwt", "di_vp"}
    assert types["di_vp"]["proof_signing_alg_values_supported"] == [
        "eddsa-jcs-2022",
        "ecdsa-jcs-2019",
    ]
    meta = json_of(attested.call("GET", "/.well-known/openid-credential-issuer"))
    types = meta["credential_configurations_supported"]["WorkPermit.sd_jwt"][
        "proof_types_supported"
    ]
    assert set(types) == {"jwt", "attestation"}  # di_vp cannot carry an attestation
    for kind in ("jwt", "attestation"):
        assert types[kind]["key_attestations_required"] == {
            "key_storage": ["iso_18045_high", "iso_18045_moderate"],
            "user_authentication": ["iso_18045_moderate"],
        }


# -- di_vp -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sd_jwt", "jwt_vc_json", "ldp_vc"])
@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.ED25519])
def test_wallet_receives_with_di_vp_proofs(world: World, fmt: str, key_type: KeyType) -> None:
    offer = world.service.offer([f"WorkPermit.{fmt}"], claims={"WorkPermit": world.claims()})
    before = len(world.transport.requests)
    client = world.client(proof_type="di_vp", key_type=key_type)
    result = client.receive(offer.uri, tx_code=offer.tx_code, batch=2)
    assert len(result.stored) == 2 and len(_bound_keys(result.stored)) == 2
    (proofs,) = _sent_proofs(world, before)
    assert set(proofs) == {"di_vp"} and len(proofs["di_vp"]) == 2
    suite = "eddsa-jcs-2022" if key_type is KeyType.ED25519 else "ecdsa-jcs-2019"
    for presentation in proofs["di_vp"]:
        assert presentation["proof"]["cryptosuite"] == suite
        assert presentation["proof"]["domain"] == world.base
        assert presentation["proof"]["proofPurpose"] == "authentication"
        assert presentation["holder"] == presentation["proof"]["verificationMethod"].split("#")[0]


def test_issuer_binds_the_di_vp_holder_key(world: World) -> None:
    token = access_token(world, "WorkPermit.jwt_vc_json")
    key = PrivateKey.generate(KeyType.ED25519)
    presentation = make_di_vp_proof(
        key, audience=world.base, nonce=nonce(world), now=datetime.now(UTC)
    )
    body = {
        "credential_configuration_id": "WorkPermit.jwt_vc_json",
        "proofs": {"di_vp": [presentation]},
    }
    reply = json_post(world, "/credential", body, token)
    assert reply.status == 200, reply.body
    (item,) = json_of(reply)["credentials"]
    from credentials.jws import CompactJWS

    claims = CompactJWS.parse(item["credential"]).payload
    subject = claims.get("credentialSubject") or claims["vc"]["credentialSubject"]
    assert subject["id"] == did_key_from_public_key(key.public_key)


# -- key attestations ------------------------------------------------------------------------


def test_wallet_attests_its_keys_in_a_jwt_proof(attested: World) -> None:
    offer = attested.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": attested.claims()}, tx_code=False
    )
    before = len(attested.transport.requests)
    result = attested.client(key_attester=PROVIDER).receive(offer.uri, batch=3)
    assert len(result.stored) == 3 and len(_bound_keys(result.stored)) == 3
    (proofs,) = _sent_proofs(attested, before)
    (proof,) = proofs["jwt"]  # one proof; its attestation names all three keys (F.1)
    from credentials.jws import CompactJWS

    header = CompactJWS.parse(proof).header
    attestation = CompactJWS.parse(header["key_attestation"])
    assert attestation.header["typ"] == "key-attestation+jwt"
    attested_keys = {jwk_thumbprint(k) for k in attestation.payload["attested_keys"]}
    assert attested_keys == _bound_keys(result.stored)
    assert jwk_thumbprint(header["jwk"]) in attested_keys
    assert "exp" in attestation.payload and attestation.payload["nonce"]


@pytest.mark.parametrize("fmt", ["sd_jwt", "ldp_vc"])
def test_wallet_sends_the_attestation_proof_type(attested: World, fmt: str) -> None:
    offer = attested.service.offer(
        [f"WorkPermit.{fmt}"], claims={"WorkPermit": attested.claims()}, tx_code=False
    )
    before = len(attested.transport.requests)
    client = attested.client(key_attester=PROVIDER, proof_type="attestation")
    result = client.receive(offer.uri, batch=2)
    assert len(result.stored) == 2 and len(_bound_keys(result.stored)) == 2
    (proofs,) = _sent_proofs(attested, before)
    assert set(proofs) == {"attestation"} and len(proofs["attestation"]) == 1


def test_a_wallet_without_a_key_attester_asks_for_nothing(attested: World) -> None:
    offer = attested.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": attested.claims()}, tx_code=False
    )
    before = len(attested.transport.requests)
    with pytest.raises(OID4VCIError) as caught:
        attested.client().receive(offer.uri)
    assert caught.value.code == "invalid_request" and "key_attester" in str(caught.value)
    assert _sent_proofs(attested, before) == []


def test_an_optional_policy_takes_proofs_with_and_without_attestations() -> None:
    optional = KeyAttestationPolicy({"wallet-provider-1": ATTESTER.public_key}, required=False)
    for world in live_world(key_attestations=optional):
        meta = json_of(world.call("GET", "/.well-known/openid-credential-issuer"))
        types = meta["credential_configurations_supported"]["WorkPermit.sd_jwt"][
            "proof_types_supported"
        ]
        assert set(types) == {"jwt", "attestation", "di_vp"}
        assert "key_attestations_required" not in types["jwt"]
        plain = make_jwt_proof(
            PrivateKey.generate(KeyType.P256),
            audience=world.base,
            nonce=nonce(world),
            now=datetime.now(UTC),
        )
        key = PrivateKey.generate(KeyType.P256)
        c_nonce = nonce(world)
        with_attestation = make_jwt_proof(
            key,
            audience=world.base,
            nonce=c_nonce,
            now=datetime.now(UTC),
            key_attestation=make_key_attestation(
                ATTESTER,
                [key.public_key],
                kid="wallet-provider-1",
                now=datetime.now(UTC),
                nonce=c_nonce,
            ),
        )
        token = access_token(world)
        body = {
            "credential_configuration_id": "WorkPermit.sd_jwt",
            "proofs": {"jwt": [plain, with_attestation]},
        }
        reply = json_post(world, "/credential", body, token)
        assert reply.status == 200, reply.body
        assert len(json_of(reply)["credentials"]) == 2


def test_key_attestations_signed_with_a_certificate_chain() -> None:
    """HAIP's form: the Wallet Provider signs with a certified key, the chain in x5c."""
    root, provider_key, chain = certified_key("wallet-provider.example")
    policy = KeyAttestationPolicy({}, key_storage=("iso_18045_high",), trust_anchors=(root,))
    provider = KeyAttestationSigner(
        provider_key, key_storage=("iso_18045_high",), x5c=tuple(x5c(*chain))
    )
    for world in live_world(key_attestations=policy):
        offer = world.service.offer(
            ["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()}, tx_code=False
        )
        result = world.client(key_attester=provider).receive(offer.uri, batch=2)
        assert len(result.stored) == 2 and len(_bound_keys(result.stored)) == 2
        offer = world.service.offer(
            ["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()}, tx_code=False
        )
        client = world.client(key_attester=provider, proof_type="attestation")
        assert len(client.receive(offer.uri).stored) == 1


def test_deferred_issuance_binds_the_attested_keys(attested: World) -> None:
    offer = attested.service.offer(
        ["ResidencePermit.sd_jwt"], claims={"ResidencePermit": None}, tx_code=False
    )
    client = attested.client(key_attester=PROVIDER, proof_type="attestation")
    resolved = client.resolve_offer(offer.uri)
    (pending,) = client.receive(offer.uri, batch=2).pending
    attested.service.provide(offer.case_id, "ResidencePermit", attested.claims("ResidencePermit"))
    done = client.fetch_deferred(pending, resolved)
    assert len(done.stored) == 2
    assert _bound_keys(done.stored) == {k.public_key.jwk_thumbprint() for k in pending.keys}
