"""End to end: a Data Integrity signed work permit, its signed status list served over
HTTP on 127.0.0.1, and the unified ``verify`` running the schema and status checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from _live_server import Response, StaticServer

from credentials.data_integrity import add_proof
from credentials.schemas import example_credential
from credentials.status_list import StatusList, make_status_list_credential, status_entry
from credentials.verify import verify
from did_methods.http import HttpFetcher
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Party:
    def __init__(self, seed: int) -> None:
        self.key = PrivateKey.generate(KeyType.ED25519, randbytes=lambda n: bytes([seed]) * n)
        self.did = did_key_from_public_key(self.key.public_key)
        self.method = f"{self.did}#{self.did.split(':')[2]}"

    def sign(self, document: dict[str, Any]) -> dict[str, Any]:
        return add_proof(
            document, self.key, verification_method=self.method, created=NOW - timedelta(days=1)
        )


Published = tuple[dict[str, bytes | Response], str]  # routes, base URL

MINISTRY = Party(7)
MALLORY = Party(8)


@pytest.fixture
def published() -> Iterator[Published]:
    with StaticServer() as server:
        yield server.routes, server.base


def _publish_list(
    routes: dict[str, bytes | Response],
    url: str,
    status_list: StatusList,
    signer: Party,
    issuer: str,
) -> None:
    unsigned = make_status_list_credential(
        status_list,
        id=url,
        issuer=issuer,
        purpose="revocation",
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
    )
    routes[urlsplit(url).path] = json.dumps(signer.sign(unsigned)).encode()


def _permit(list_url: str, index: int) -> dict[str, Any]:
    credential = example_credential("WorkPermit", issuer=MINISTRY.did)
    credential["credentialStatus"] = status_entry(list_url, index, "revocation")
    return MINISTRY.sign(credential)


def _verify(credential: dict[str, Any]) -> Any:
    return verify(
        credential, now=NOW, status_fetcher=HttpFetcher(allow_http=True, allow_private=True)
    )


def test_valid_then_revoked(published: Published) -> None:
    routes, base = published
    url = f"{base}/status/1"
    status_list = StatusList()
    _publish_list(routes, url, status_list, MINISTRY, MINISTRY.did)
    permit = _permit(url, 4711)

    result = _verify(permit)
    assert result.ok, result.explain()
    assert result.check("status").status == "passed"
    assert result.check("schema").status == "passed"

    status_list.set(4711)
    _publish_list(routes, url, status_list, MINISTRY, MINISTRY.did)
    result = _verify(permit)
    assert not result.ok
    assert result.check("status").code == "revoked"


def test_list_forged_by_another_key_fails_closed(published: Published) -> None:
    routes, base = published
    url = f"{base}/status/2"
    _publish_list(routes, url, StatusList(), MALLORY, MINISTRY.did)
    result = _verify(_permit(url, 1))
    assert not result.ok
    assert result.check("status").code == "status_list_invalid"


def test_list_of_another_issuer_fails_closed(published: Published) -> None:
    routes, base = published
    url = f"{base}/status/3"
    _publish_list(routes, url, StatusList(), MALLORY, MALLORY.did)
    result = _verify(_permit(url, 1))
    assert result.check("status").code == "status_list_issuer_mismatch"


def test_unreachable_list_fails_closed(published: Published) -> None:
    _, base = published
    result = _verify(_permit(f"{base}/status/none", 1))
    assert not result.ok
    assert result.check("status").code == "status_unavailable"


def test_schema_violation_is_reported(published: Published) -> None:
    routes, base = published
    url = f"{base}/status/4"
    _publish_list(routes, url, StatusList(), MINISTRY, MINISTRY.did)
    credential = example_credential("WorkPermit", issuer=MINISTRY.did)
    credential["credentialSubject"]["issuingState"] = "Germany"
    credential["credentialStatus"] = status_entry(url, 2, "revocation")
    result = _verify(MINISTRY.sign(credential))
    assert not result.ok
    assert result.check("schema").code == "schema_violation"
    assert result.check("signature").status == "passed"
    assert result.check("status").status == "passed"
