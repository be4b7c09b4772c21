"""Signed Credential Issuer metadata (OpenID4VCI 1.0 section 12.2.3) over real HTTP.

Our issuer answers ``Accept: application/jwt`` with its metadata signed
(``typ`` ``openidvci-issuer-metadata+jwt``, ``sub`` the identifier); our wallet
asks for it when it can trust a signer (a key pinned for the issuer, or an
``x5c`` chain to its anchors naming the issuer's host) and verifies it. The
refusals are in tests/attacks/test_attacks_oid4vci_ext.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from oid4vci_world import World, certified_key, json_of, live_world

from credentials.jws import CompactJWS
from did_methods.keys import KeyType, PrivateKey
from ssi_wallet.oid4vci import IssuerResponseError
from ssi_wallet.oid4vci.signed_metadata import (
    MetadataSigner,
    prefers_jwt,
    verify_signed_metadata,
)

METADATA_KEY = PrivateKey.generate(KeyType.P256)


ROOT, _LEAF_KEY, _CHAIN = certified_key("127.0.0.1")
CHAIN_SIGNER = MetadataSigner.with_chain(_LEAF_KEY, _CHAIN)


@pytest.fixture(scope="module")
def pinned() -> Iterator[World]:
    """An issuer signing its metadata with a key its wallets pin."""
    yield from live_world(metadata_signer=MetadataSigner(METADATA_KEY, kid="metadata-1"))


@pytest.fixture(scope="module")
def certified() -> Iterator[World]:
    """An issuer signing its metadata with a certified key (x5c)."""
    yield from live_world(metadata_signer=CHAIN_SIGNER)


def test_metadata_is_served_signed_when_asked(pinned: World) -> None:
    plain = pinned.call("GET", "/.well-known/openid-credential-issuer")
    assert plain.headers["content-type"].startswith("application/json")
    reply = pinned.call(
        "GET", "/.well-known/openid-credential-issuer", headers={"Accept": "application/jwt"}
    )
    assert reply.status == 200
    assert reply.headers["content-type"].split(";")[0] == "application/jwt"
    assert "accept" in reply.headers["vary"].lower()
    jws = CompactJWS.parse(reply.body.decode())
    assert jws.header["typ"] == "openidvci-issuer-metadata+jwt"
    assert jws.header["kid"] == "metadata-1" and jws.header["alg"] == "ES256"
    jws.verify(METADATA_KEY.public_key)
    claims = jws.payload
    assert claims["sub"] == pinned.base and claims["exp"] > claims["iat"]
    unsigned = json_of(plain)
    for name, value in unsigned.items():  # every parameter a top-level claim
        assert claims[name] == value


def test_wallet_with_a_pinned_key_receives_over_signed_metadata(pinned: World) -> None:
    offer = pinned.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": pinned.claims()})
    client = pinned.client(metadata_keys={pinned.base: METADATA_KEY.public_key})
    resolved = client.resolve_offer(offer.uri)
    assert resolved.metadata_signed is True
    assert resolved.issuer_metadata["credential_issuer"] == pinned.base
    (_, _, headers, _) = next(
        r for r in reversed(pinned.transport.requests) if "openid-credential-issuer" in r[1]
    )
    assert headers["Accept"].startswith("application/jwt")
    result = client.receive(offer.uri, tx_code=offer.tx_code)
    assert len(result.stored) == 1


def test_wallet_trusting_x509_anchors_verifies_the_chain(certified: World) -> None:
    offer = certified.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": certified.claims()}
    )
    client = certified.client(metadata_trust_anchors=[ROOT], require_signed_metadata=True)
    assert client.resolve_offer(offer.uri).metadata_signed is True
    assert len(client.receive(offer.uri, tx_code=offer.tx_code).stored) == 1


def test_a_wallet_that_trusts_no_signer_asks_for_json(pinned: World) -> None:
    offer = pinned.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": pinned.claims()})
    resolved = pinned.client().resolve_offer(offer.uri)
    assert resolved.metadata_signed is False


def test_anchors_without_require_accept_an_issuer_that_signs_nothing(world: World) -> None:
    offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
    client = world.client(metadata_trust_anchors=[ROOT])
    assert client.resolve_offer(offer.uri).metadata_signed is False
    with pytest.raises(IssuerResponseError) as caught:
        world.client(metadata_trust_anchors=[ROOT], require_signed_metadata=True).resolve_offer(
            offer.uri
        )
    assert caught.value.code == "invalid_issuer_metadata"


@pytest.mark.parametrize(
    ("accept", "jwt"),
    [
        ("application/jwt", True),
        ("application/jwt, application/json;q=0.5", True),
        ("application/json, application/jwt;q=0.5", False),
        ("application/json", False),
        ("application/jwt;q=0", False),
        ("*/*", False),
        (None, False),
        ("application/jwt;q=bad, application/json", False),
    ],
)
def test_accept_header_negotiation(accept: str | None, jwt: bool) -> None:
    assert prefers_jwt(accept) is jwt


def test_verify_signed_metadata_by_hand(pinned: World) -> None:
    token = pinned.service.signed_issuer_metadata()
    metadata = verify_signed_metadata(
        token, pinned.base, now=datetime.now(UTC), pinned=METADATA_KEY.public_key
    )
    assert metadata["credential_endpoint"] == f"{pinned.base}/credential"


def test_serve_issuer_signs_metadata_with_the_issuer_key(tmp_path: Path) -> None:
    from did_methods.keyfile import write_key_file
    from ssi_wallet.server.common import ConfigError
    from ssi_wallet.server.oid4vci import IssuerServiceConfig

    key = PrivateKey.generate(KeyType.P256)
    write_key_file(tmp_path / "issuer.jwk", key)
    (tmp_path / "token.txt").write_text("a-token-for-the-signed-metadata-test")
    path = tmp_path / "issuer.toml"
    path.write_text(
        '[server]\nhost = "127.0.0.1"\nport = 8443\ntoken_file = "token.txt"\n'
        'public_url = "https://issuer.example"\n\n'
        '[issuer]\nkey_file = "issuer.jwk"\nsigned_metadata = true\n'
    )
    service = IssuerServiceConfig.load(path).build()
    signer = service.metadata_signer
    assert signer is not None and signer.kid is not None and signer.kid.startswith("did:")
    token = service.signed_issuer_metadata()
    metadata = verify_signed_metadata(
        token, "https://issuer.example", now=datetime.now(UTC), pinned=key.public_key
    )
    assert metadata["credential_issuer"] == "https://issuer.example"
    assert CompactJWS.parse(token).payload["iss"] == service.issuer.did
    path.write_text(
        path.read_text().replace("signed_metadata = true", 'metadata_chain_file = "c.pem"')
    )
    with pytest.raises(ConfigError, match="signed_metadata"):
        IssuerServiceConfig.load(path)


def test_wallet_trusting_the_issuers_did_resolves_the_kid_on_the_ledger() -> None:
    """The metadata is signed by the ministry's own key, named by its did:ledger DID URL."""
    for world in live_world():
        signing = world.ministry.signer()
        world.service.metadata_signer = MetadataSigner(
            signing.key, kid=signing.method, issuer=world.ministry.did
        )
        offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
        client = world.client(
            metadata_dids={world.base: world.ministry.did}, resolver=world.ledger.resolver()
        )
        assert client.resolve_offer(offer.uri).metadata_signed is True
        assert len(client.receive(offer.uri, tx_code=offer.tx_code).stored) == 1
        # the same metadata, trusted through another DID, is refused
        other = world.client(
            metadata_dids={world.base: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
            resolver=world.ledger.resolver(),
        )
        with pytest.raises(IssuerResponseError) as caught:
            other.resolve_offer(offer.uri)
        assert caught.value.code == "invalid_issuer_metadata"
        # and a wallet that knows the DID refuses the metadata unsigned (a stripped signature)
        world.service.metadata_signer = None
        with pytest.raises(IssuerResponseError) as caught:
            client.resolve_offer(offer.uri)
        assert caught.value.code == "invalid_issuer_metadata"
