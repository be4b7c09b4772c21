"""SD-JWT VCs whose ``iss`` is an https URL: keys from JWT VC Issuer Metadata.

The issuer publishes ``/.well-known/jwt-vc-issuer/<path>`` (inline ``jwks`` or a
``jwks_uri``); the verifier fetches it over real HTTPS from a server on
127.0.0.1 (a throw-away CA, the host name ``did.example`` mapped to loopback),
builds an :class:`IssuerKeys` and verifies with it. Each refusal has its code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from didweb_support import Site, TLSMaterial, body, json_body

from credentials.keysets import (
    IssuerKeys,
    KeySetError,
    fetch_jwt_vc_issuer_keys,
    jwt_vc_issuer_metadata_url,
    parse_jwt_vc_issuer_metadata,
)
from credentials.sd_jwt import issue_sd_jwt, verify_sd_jwt
from did_methods.http import HttpFetcher
from did_methods.keys import KeyType, PrivateKey

NOW = datetime(2026, 5, 28, 20, 26, 40, tzinfo=UTC)  # a fixed signing instant
LATER = NOW + timedelta(seconds=10)
VCT = "https://credentials.example/residence_permit"


def _loopback(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"]


def _fetcher(tls: TLSMaterial) -> HttpFetcher:
    return HttpFetcher(allow_private=True, ssl_context=tls.client_context(), resolve=_loopback)


def _jwk(key: PrivateKey, kid: str) -> dict[str, object]:
    return {**key.public_key.to_jwk(), "kid": kid, "use": "sig"}


def _issue(key: PrivateKey, issuer: str, kid: str | None = "k1") -> str:
    return issue_sd_jwt(
        {"given_name": "Amina", "permit_type": "work"},
        key,
        issuer=issuer,
        vct=VCT,
        disclosable=["given_name"],
        kid=kid,
        now=NOW,
    )


def test_metadata_url_goes_between_host_and_path() -> None:
    assert (
        jwt_vc_issuer_metadata_url("https://ex.com/tenant/1234")
        == "https://ex.com/.well-known/jwt-vc-issuer/tenant/1234"
    )
    assert (
        jwt_vc_issuer_metadata_url("https://ex.com") == "https://ex.com/.well-known/jwt-vc-issuer"
    )
    assert (
        jwt_vc_issuer_metadata_url("https://ex.com:8443/")
        == "https://ex.com:8443/.well-known/jwt-vc-issuer"
    )
    for bad in ("http://ex.com", "https://ex.com/a?b=c", "did:web:ex.com", "https://"):
        with pytest.raises(KeySetError) as info:
            jwt_vc_issuer_metadata_url(bad)
        assert info.value.code == "keyset_invalid"


def test_sd_jwt_vc_from_url_issuer_verifies_with_fetched_inline_jwks(
    tls_web: Site, tls: TLSMaterial
) -> None:
    key = PrivateKey.generate(KeyType.P256)
    issuer = f"https://did.example:{tls_web.port}/ministry"
    tls_web.routes["/.well-known/jwt-vc-issuer/ministry"] = json_body(
        {"issuer": issuer, "jwks": {"keys": [_jwk(key, "k1")]}}
    )
    keys = fetch_jwt_vc_issuer_keys([issuer], _fetcher(tls))
    result = verify_sd_jwt(_issue(key, issuer), keys, now=LATER)
    assert result.ok, result.codes
    assert result.issuer == issuer
    assert result.vct == VCT
    assert tls_web.hits[0][0] == "/.well-known/jwt-vc-issuer/ministry"


def test_jwks_uri_is_followed(tls_web: Site, tls: TLSMaterial) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    issuer = f"https://did.example:{tls_web.port}"
    jwks_uri = f"https://did.example:{tls_web.port}/keys.json"
    tls_web.routes["/.well-known/jwt-vc-issuer"] = json_body(
        {"issuer": issuer, "jwks_uri": jwks_uri}
    )
    tls_web.routes["/keys.json"] = json_body({"keys": [_jwk(key, "k1")]})
    keys = fetch_jwt_vc_issuer_keys([issuer], _fetcher(tls))
    assert verify_sd_jwt(_issue(key, issuer), keys, now=LATER).ok
    assert [path for path, _ in tls_web.hits] == ["/.well-known/jwt-vc-issuer", "/keys.json"]


def test_metadata_for_another_issuer_is_refused(tls_web: Site, tls: TLSMaterial) -> None:
    key = PrivateKey.generate(KeyType.P256)
    issuer = f"https://did.example:{tls_web.port}/ministry"
    tls_web.routes["/.well-known/jwt-vc-issuer/ministry"] = json_body(
        {"issuer": "https://attacker.example", "jwks": {"keys": [_jwk(key, "k1")]}}
    )
    with pytest.raises(KeySetError) as info:
        fetch_jwt_vc_issuer_keys([issuer], _fetcher(tls))
    assert info.value.code == "issuer_metadata_mismatch"


def test_unreachable_or_malformed_metadata_is_a_typed_refusal(
    tls_web: Site, tls: TLSMaterial
) -> None:
    issuer = f"https://did.example:{tls_web.port}"
    with pytest.raises(KeySetError) as info:  # nothing served: 404
        fetch_jwt_vc_issuer_keys([issuer], _fetcher(tls))
    assert info.value.code == "issuer_metadata_unavailable"
    tls_web.routes["/.well-known/jwt-vc-issuer"] = body(b"{not json")
    with pytest.raises(KeySetError) as info:
        fetch_jwt_vc_issuer_keys([issuer], _fetcher(tls))
    assert info.value.code == "issuer_metadata_invalid"
    # an untrusted CA: the default context refuses the server
    with pytest.raises(KeySetError) as info:
        fetch_jwt_vc_issuer_keys([issuer], HttpFetcher(allow_private=True, resolve=_loopback))
    assert info.value.code == "issuer_metadata_unavailable"


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ([], "issuer_metadata_invalid"),
        ({"issuer": "https://i.example"}, "issuer_metadata_invalid"),
        (
            {
                "issuer": "https://i.example",
                "jwks": {"keys": []},
                "jwks_uri": "https://i.example/k",
            },
            "issuer_metadata_invalid",
        ),
        (
            {"issuer": "https://i.example", "jwks_uri": "http://i.example/k"},
            "issuer_metadata_invalid",
        ),
        ({"issuer": "https://i.example", "jwks": {"nokeys": 1}}, "keyset_invalid"),
        ({"issuer": "https://i.example/", "jwks": {"keys": []}}, "issuer_metadata_mismatch"),
    ],
)
def test_metadata_documents_refused(document: object, code: str) -> None:
    with pytest.raises(KeySetError) as info:
        parse_jwt_vc_issuer_metadata(document, "https://i.example")
    assert info.value.code == code


def test_url_issuer_refusals_by_code() -> None:
    key = PrivateKey.generate(KeyType.P256)
    other = PrivateKey.generate(KeyType.P256)
    issuer, rival = "https://ministry.example", "https://rival.example"
    keys = IssuerKeys({issuer: {"keys": [_jwk(key, "k1")]}, rival: {"keys": [_jwk(other, "r1")]}})

    def codes(token: str, resolver: object) -> list[str]:
        result = verify_sd_jwt(token, resolver, now=LATER)  # type: ignore[arg-type]
        assert not result.ok
        return list(result.codes)

    # no key sets at all: nothing to find the key in
    assert codes(_issue(key, issuer), None) == ["key_unresolved"]
    # a kid the issuer's set does not hold
    assert codes(_issue(key, issuer, kid="k9"), keys) == ["key_unknown"]
    # a kid of the rival's set, named by a token claiming the ministry
    assert codes(_issue(other, issuer, kid="r1"), keys) == ["key_not_issuer"]
    # no kid
    assert codes(_issue(key, issuer, kid=None), keys) == ["kid_invalid"]
    # the right kid, signed by another key
    assert codes(_issue(other, issuer, kid="k1"), keys) == ["signature_invalid"]
