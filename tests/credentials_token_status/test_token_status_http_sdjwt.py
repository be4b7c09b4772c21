"""SD-JWT VC status end to end: Status List Tokens served over real HTTP on 127.0.0.1.

The ministry issues a work permit as an SD-JWT VC whose ``status`` claim
points at a Status List Token; the holder presents it with key binding; the
employer verifies it with ``verify_sd_jwt(status_checker=...)`` while the
ministry revokes, suspends and reinstates it, serves forged or stale tokens,
or goes offline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from _live_server import StaticServer, static_server_fixture
from token_status_support import NOW, Party, make_party

from credentials.result import VerificationResult
from credentials.sd_jwt import issue_sd_jwt, present, verify_sd_jwt
from credentials.token_status_list import (
    TokenStatus,
    TokenStatusList,
    TokenStatusListResolver,
    make_status_list_token,
    status_claim,
    token_status_checker_for,
)
from did_methods.http import HttpFetcher
from did_methods.keys import KeyType
from did_methods.resolver import Resolver

INDEX = 4711


class StatusServer(StaticServer):
    """A tiny HTTP status provider: path -> token; ``accepts`` is each request's Accept header."""

    def __init__(self) -> None:
        super().__init__(headers={"Content-Type": "application/statuslist+jwt"})

    @property
    def accepts(self) -> list[str | None]:
        return [request.headers.get("Accept") for request in self.requests]

    def publish(self, path: str, token: str) -> None:
        self.put(path, token.encode("ascii"))

    def stop(self) -> None:
        self.close()


server = static_server_fixture(StatusServer)


def _fetcher() -> HttpFetcher:
    return HttpFetcher(allow_http=True, allow_private=True)


def _status_token(
    party: Party, uri: str, value: int = TokenStatus.VALID, *, kid: str | None = None, **kw: Any
) -> str:
    status_list = TokenStatusList(16384, 2)
    status_list.set(INDEX, value)
    status_list.set(INDEX + 1, TokenStatus.INVALID)  # a neighbour's revocation changes nothing
    kw.setdefault("issued_at", NOW - timedelta(minutes=1))
    kw.setdefault("expires_at", NOW + timedelta(days=1))
    return make_status_list_token(
        status_list, uri=uri, key=party.key, kid=kid or party.kid, ttl=300, **kw
    )


def _permit(ministry: Party, holder: Party, uri: str) -> str:
    return issue_sd_jwt(
        {
            "given_name": "Amina",
            "nationality": "SY",
            "right_to_work": {"sector": "healthcare", "until": "2027-06-30"},
        },
        ministry.key,
        issuer=ministry.did,
        kid=ministry.kid,
        vct="https://migration.example/vct/WorkPermit",
        disclosable=["given_name", "nationality", ("right_to_work", "sector")],
        holder_key=holder.key.public_key,
        status=status_claim(uri, INDEX),
        iat=int(NOW.timestamp()) - 3600,
        exp=int((NOW + timedelta(days=365)).timestamp()),
    )


def _employer_checks(
    presentation: str, *, clock_offset: timedelta = timedelta()
) -> VerificationResult:
    resolver = Resolver.default()
    statuses = TokenStatusListResolver(
        _fetcher(), resolver, clock=lambda: NOW + clock_offset, timeout=5.0
    )
    return verify_sd_jwt(
        presentation,
        resolver,
        now=NOW,
        nonce="n-0S6_WzA2Mj",
        audience="https://employer.example",
        status_checker=token_status_checker_for(presentation, statuses, now=NOW),
    )


def _presentation(permit: str, holder: Party) -> str:
    return present(
        permit,
        [("right_to_work", "sector")],
        holder_key=holder.key,
        nonce="n-0S6_WzA2Mj",
        audience="https://employer.example",
        now=NOW,
    )


@pytest.fixture(scope="module")
def ministry() -> Party:
    return make_party(11, KeyType.P256)


@pytest.fixture(scope="module")
def holder() -> Party:
    return make_party(12, KeyType.ED25519)


def _status(result: VerificationResult) -> tuple[str, str]:
    check = result.check("status")
    assert check is not None
    return check.status, check.code


def test_valid_then_revoked_then_suspended_then_reinstated(
    server: StatusServer, ministry: Party, holder: Party
) -> None:
    uri = server.base + "/lists/1"
    presentation = _presentation(_permit(ministry, holder, uri), holder)

    server.publish("/lists/1", _status_token(ministry, uri))
    result = _employer_checks(presentation)
    assert result.ok, result.explain()
    assert _status(result) == ("passed", "ok")
    assert result.document is not None
    assert result.document["right_to_work"] == {"sector": "healthcare", "until": "2027-06-30"}
    assert "nationality" not in result.document
    assert server.accepts == ["application/statuslist+jwt"]

    server.publish("/lists/1", _status_token(ministry, uri, TokenStatus.INVALID))
    result = _employer_checks(presentation)
    assert not result.ok
    assert result.codes == ("revoked",)

    server.publish("/lists/1", _status_token(ministry, uri, TokenStatus.SUSPENDED))
    assert _employer_checks(presentation).codes == ("suspended",)

    server.publish("/lists/1", _status_token(ministry, uri, 3))
    assert _employer_checks(presentation).codes == ("status_set",)

    server.publish("/lists/1", _status_token(ministry, uri))
    assert _employer_checks(presentation).ok


def test_one_resolver_caches_until_the_ttl(
    server: StatusServer, ministry: Party, holder: Party
) -> None:
    uri = server.base + "/lists/cached"
    presentation = _presentation(_permit(ministry, holder, uri), holder)
    server.publish("/lists/cached", _status_token(ministry, uri))
    clock = {"now": NOW}
    resolver = Resolver.default()
    statuses = TokenStatusListResolver(_fetcher(), resolver, clock=lambda: clock["now"])

    def verify() -> VerificationResult:
        return verify_sd_jwt(
            presentation,
            resolver,
            now=NOW,
            nonce="n-0S6_WzA2Mj",
            audience="https://employer.example",
            status_checker=token_status_checker_for(presentation, statuses, now=NOW),
        )

    assert verify().ok
    server.publish("/lists/cached", _status_token(ministry, uri, TokenStatus.INVALID))
    assert verify().ok  # still within the token's ttl of 300 s: the cached copy is used
    assert len(server.accepts) == 1
    clock["now"] = NOW + timedelta(seconds=301)
    assert verify().codes == ("revoked",)
    assert len(server.accepts) == 2


def test_server_down_is_unavailable(server: StatusServer, ministry: Party, holder: Party) -> None:
    uri = server.base + "/lists/1"
    presentation = _presentation(_permit(ministry, holder, uri), holder)
    server.publish("/lists/1", _status_token(ministry, uri))
    assert _employer_checks(presentation).ok
    server.stop()
    assert _employer_checks(presentation).codes == ("status_unavailable",)


def test_missing_list_is_unavailable(server: StatusServer, ministry: Party, holder: Party) -> None:
    uri = server.base + "/lists/absent"
    presentation = _presentation(_permit(ministry, holder, uri), holder)
    assert _employer_checks(presentation).codes == ("status_unavailable",)


def test_token_signed_by_another_did_fails(
    server: StatusServer, ministry: Party, holder: Party
) -> None:
    mallory = make_party(13, KeyType.P256)
    uri = server.base + "/lists/1"
    presentation = _presentation(_permit(ministry, holder, uri), holder)
    server.publish("/lists/1", _status_token(mallory, uri))
    assert _employer_checks(presentation).codes == ("status_list_issuer_mismatch",)


def test_token_signed_by_another_key_under_the_ministry_kid_fails(
    server: StatusServer, ministry: Party, holder: Party
) -> None:
    mallory = make_party(13, KeyType.P256)
    uri = server.base + "/lists/1"
    presentation = _presentation(_permit(ministry, holder, uri), holder)
    server.publish("/lists/1", _status_token(mallory, uri, kid=ministry.kid))
    assert _employer_checks(presentation).codes == ("status_list_invalid",)


def test_expired_token_fails(server: StatusServer, ministry: Party, holder: Party) -> None:
    uri = server.base + "/lists/1"
    presentation = _presentation(_permit(ministry, holder, uri), holder)
    stale = _status_token(
        ministry,
        uri,
        issued_at=NOW - timedelta(days=2),
        expires_at=NOW - timedelta(days=1),
    )
    server.publish("/lists/1", stale)
    assert _employer_checks(presentation).codes == ("status_list_invalid",)


def test_token_for_another_list_fails(server: StatusServer, ministry: Party, holder: Party) -> None:
    uri = server.base + "/lists/1"
    presentation = _presentation(_permit(ministry, holder, uri), holder)
    # a genuine, clear token of the ministry's list 2, replayed at list 1's URL
    server.publish("/lists/1", _status_token(ministry, server.base + "/lists/2"))
    assert _employer_checks(presentation).codes == ("status_list_invalid",)


def test_without_a_checker_status_fails_closed(
    server: StatusServer, ministry: Party, holder: Party
) -> None:
    uri = server.base + "/lists/1"
    presentation = _presentation(_permit(ministry, holder, uri), holder)
    result = verify_sd_jwt(
        presentation,
        Resolver.default(),
        now=NOW,
        nonce="n-0S6_WzA2Mj",
        audience="https://employer.example",
    )
    assert _status(result) == ("failed", "status_unavailable")
    assert not result.ok
    assert server.accepts == []
