"""The wallet treats offers, metadata and answers as hostile: each bad one refused with a code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_methods.http import HttpResponse
from ssi_wallet import Holder
from ssi_wallet.oid4vci import (
    IssuerResponseError,
    OID4VCIError,
    WalletClient,
    parse_offer_uri,
)
from ssi_wallet.oid4vci.metadata import offer_uri

ISSUER = "https://issuer.example"


class Canned:
    """Answers each URL with a canned response (404 otherwise); records what was asked."""

    def __init__(self, answers: Mapping[str, tuple[int, Any]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        max_bytes: int = 1 << 22,
    ) -> HttpResponse:
        self.asked.append(url)
        status, value = self.answers.get(url, (404, {"error": "not_found"}))
        data = value if isinstance(value, bytes) else json.dumps(value).encode()
        return HttpResponse(status, {"content-type": "application/json"}, data)


def _offer(**grant: Any) -> dict[str, Any]:
    return {
        "credential_issuer": ISSUER,
        "credential_configuration_ids": ["WorkPermit.sd_jwt"],
        "grants": {
            "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                "pre-authorized_code": "c",
                **grant,
            }
        },
    }


_HOLDER: list[Holder] = []


def _client(answers: Mapping[str, tuple[int, Any]]) -> tuple[WalletClient, Canned]:
    if not _HOLDER:  # opening a wallet derives its key from the passphrase: once is enough
        _HOLDER.append(Holder.create(":memory:", passphrase="p"))
    transport = Canned(answers)
    return WalletClient(_HOLDER[0], transport), transport


@pytest.mark.parametrize(
    "uri",
    [
        "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=x",
        "openid-credential-offer://?nothing=1",
        "openid-credential-offer://?credential_offer=%7B%22a%22%3A1%7D",
        "openid-credential-offer://?credential_offer=not-json",
        "ftp://x/?credential_offer_uri=y",
        "openid-credential-offer://?credential_offer_uri=a&credential_offer_uri=b",
    ],
)
def test_malformed_offer_uris(uri: str) -> None:
    with pytest.raises(OID4VCIError):
        parse_offer_uri(uri)


@pytest.mark.parametrize(
    "grant",
    [
        {"tx_code": "123"},
        {"tx_code": {"input_mode": "emoji"}},
        {"tx_code": {"length": -1}},
        {"tx_code": {"description": "x" * 301}},
        {"pre-authorized_code": ""},
    ],
)
def test_malformed_offers(grant: dict[str, Any]) -> None:
    with pytest.raises(OID4VCIError) as caught:
        parse_offer_uri(offer_uri(_offer(**grant)))
    assert caught.value.code == "invalid_credential_offer"


def test_an_http_offer_reference_is_refused_without_the_unsafe_flag() -> None:
    client, transport = _client({})
    with pytest.raises(IssuerResponseError) as caught:
        client.resolve_offer(offer_uri(reference="http://issuer.example/offer/1"))
    assert caught.value.code == "invalid_response" and transport.asked == []


def test_metadata_naming_another_issuer_is_not_used() -> None:
    client, _ = _client(
        {
            f"{ISSUER}/.well-known/openid-credential-issuer": (
                200,
                {
                    "credential_issuer": "https://evil.example",
                    "credential_endpoint": "https://e/c",
                    "credential_configurations_supported": {"WorkPermit.sd_jwt": {}},
                },
            ),
        }
    )
    with pytest.raises(OID4VCIError) as caught:
        client.resolve_offer(offer_uri(_offer()))
    assert caught.value.code == "invalid_issuer_metadata"


def test_an_issuer_refusal_keeps_its_code() -> None:
    client, _ = _client(
        {
            f"{ISSUER}/.well-known/openid-credential-issuer": (
                400,
                {"error": "invalid_request", "error_description": "no"},
            )
        }
    )
    with pytest.raises(IssuerResponseError) as caught:
        client.resolve_offer(offer_uri(_offer()))
    assert (caught.value.code, caught.value.status) == ("invalid_request", 400)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_metadata_bodies_are_refused_with_a_code(body: bytes) -> None:
    client, _ = _client({f"{ISSUER}/.well-known/openid-credential-issuer": (200, body)})
    with pytest.raises(OID4VCIError) as caught:
        client.resolve_offer(offer_uri(_offer()))
    assert caught.value.code in {"invalid_response", "invalid_issuer_metadata"}
