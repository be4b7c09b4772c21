"""``verify()`` without a resolver resolves did:key and did:jwk offline and never
goes to the network: a did:web issuer needs a resolver given by the caller."""

from __future__ import annotations

from core_support import NOW, credential, did_key, seeded_key

from credentials import verify
from credentials.jose import issue_vc_jwt
from did_methods.keys import KeyType
from did_methods.resolver import Resolver

KEY = seeded_key(KeyType.ED25519, 41)


def test_the_offline_resolver_knows_only_self_describing_methods() -> None:
    assert Resolver.offline().methods == ("key", "jwk")
    assert "web" in Resolver.default().methods


def test_verify_without_a_resolver_accepts_did_key_issuers() -> None:
    issuer, vm = did_key(KEY)
    token = issue_vc_jwt(credential(issuer), KEY, kid=vm, now=NOW)
    assert verify(token, now=NOW).ok


def test_verify_without_a_resolver_refuses_did_web_instead_of_fetching() -> None:
    issuer = "did:web:issuer.invalid"
    token = issue_vc_jwt(credential(issuer), KEY, kid=f"{issuer}#key-1", now=NOW)
    result = verify(token, now=NOW)
    assert not result.ok
    assert result.codes == ("key_unresolved",)
    assert any("no resolver for did:web" in c.message for c in result.checks)
