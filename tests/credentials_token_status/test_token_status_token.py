"""Status List Tokens: issuing, sans-IO verification, the caching resolver and the status check."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from token_status_support import LIST_URI, NOW, Party, make_party
from vector_files import load_vector

from credentials._jws import CompactJWS, b64d, b64e, dumps, sign_compact
from credentials.result import Check
from credentials.token_status_list import (
    STATUS_LIST_MEDIA_TYPE,
    TokenStatus,
    TokenStatusCheckError,
    TokenStatusList,
    TokenStatusListError,
    TokenStatusListResolver,
    check_token_status,
    make_status_list_token,
    status_claim,
    token_status_checker,
    verify_status_list_token,
)
from did_methods.document import DIDDocument, VerificationMethod
from did_methods.errors import SSIWalletError
from did_methods.http import FetchError, StaticFetcher
from did_methods.keys import KeyType, PrivateKey
from did_methods.resolver import Resolver

VECTORS = load_vector("token-status-list/spec-examples.json")


def _list(**values: int) -> TokenStatusList:
    status_list = TokenStatusList(1024, 2)
    for index, value in values.items():
        status_list.set(int(index.removeprefix("i")), value)
    return status_list


def _token(party: Party, status_list: TokenStatusList | None = None, **kw: Any) -> str:
    kw.setdefault("issued_at", NOW - timedelta(minutes=1))
    return make_status_list_token(
        status_list or _list(), uri=kw.pop("uri", LIST_URI), key=party.key, kid=party.kid, **kw
    )


def _raw_token(party: Party, header: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    return sign_compact(header, dumps(payload), party.key)


def _payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "sub": LIST_URI,
        "iat": int(NOW.timestamp()) - 60,
        "status_list": _list().encode(),
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def _code(call: Any) -> str:
    with pytest.raises(TokenStatusCheckError) as info:
        call()
    return info.value.code


def _verify(token: str, party: Party, resolver: Any, **kw: Any) -> Any:
    return verify_status_list_token(
        token, uri=kw.pop("uri", LIST_URI), issuer=party.did, resolver=resolver, now=NOW, **kw
    )


class CountingFetcher:
    """A StaticFetcher that records each request's URL and Accept header."""

    def __init__(self, mapping: Mapping[str, bytes]) -> None:
        self.mapping = dict(mapping)
        self.requests: list[tuple[str, str]] = []

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        self.requests.append((url, accept))
        return StaticFetcher(self.mapping).fetch(
            url, max_bytes=max_bytes, timeout=timeout, accept=accept
        )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# ----------------------------------------------------------------- issuing


def test_token_has_the_spec_shape(ministry: Party) -> None:
    status_list = _list(i3=1)
    token = _token(
        ministry, status_list, expires_at=NOW + timedelta(days=1), ttl=timedelta(hours=12)
    )
    jws = CompactJWS.parse(token)
    assert dict(jws.header) == {
        "alg": ministry.key.key_type.jws_alg,
        "kid": ministry.kid,
        "typ": "statuslist+jwt",
    }
    expected_shape = VECTORS["status_list_jwt_example"]["payload"]
    assert set(jws.payload) == set(expected_shape)
    assert jws.payload["sub"] == LIST_URI
    assert jws.payload["iat"] == int(NOW.timestamp()) - 60
    assert jws.payload["exp"] == int((NOW + timedelta(days=1)).timestamp())
    assert jws.payload["ttl"] == 43200 == expected_shape["ttl"]
    assert jws.payload["status_list"] == status_list.encode()


@pytest.mark.parametrize(
    "kw",
    [
        {"uri": "not a uri"},
        {"kid": "did:key:z6Mk"},  # a DID, not a DID URL naming a method
        {"kid": "https://example.com/key"},
        {"expires_at": NOW - timedelta(minutes=5)},  # before iat
        {"ttl": 0},
        {"ttl": -3},
        {"ttl": timedelta(seconds=1.5)},
        {"ttl": "60"},
    ],
)
def test_make_token_refuses_bad_arguments(ministry: Party, kw: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "uri": LIST_URI,
        "key": ministry.key,
        "kid": ministry.kid,
        "issued_at": NOW - timedelta(minutes=1),
    }
    args.update(kw)
    with pytest.raises(TokenStatusListError) as info:
        make_status_list_token(_list(), **args)
    assert info.value.code == "claim_invalid"


# ----------------------------------------------------------------- verification


def test_verify_returns_what_it_verified(ministry: Party, resolver: Resolver) -> None:
    token = _token(ministry, _list(i5=1, i6=2, i7=3), ttl=300, expires_at=NOW + timedelta(hours=1))
    verified = _verify(token, ministry, resolver)
    assert verified.issuer == ministry.did
    assert verified.kid == ministry.kid
    assert verified.uri == LIST_URI
    assert verified.ttl == timedelta(seconds=300)
    assert verified.expires_at == NOW + timedelta(hours=1)
    assert [verified.get(i) for i in (4, 5, 6, 7)] == [0, 1, 2, 3]
    assert verified.size == 1024
    assert verified.status_list() == _list(i5=1, i6=2, i7=3)


def test_both_typ_spellings_are_accepted(ministry: Party, resolver: Resolver) -> None:
    header = {"kid": ministry.kid, "typ": STATUS_LIST_MEDIA_TYPE}
    assert _verify(_raw_token(ministry, header, _payload()), ministry, resolver).size == 1024


@pytest.mark.parametrize("typ", [None, "JWT", "dc+sd-jwt", "statuslist+cwt", 5])
def test_wrong_typ_is_refused(ministry: Party, resolver: Resolver, typ: Any) -> None:
    header = {"kid": ministry.kid, "typ": typ} if typ is not None else {"kid": ministry.kid}
    token = _raw_token(ministry, header, _payload())
    assert _code(lambda: _verify(token, ministry, resolver)) == "status_list_invalid"


class RecordingResolver:
    def __init__(self, inner: Resolver) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def verification_method(self, did_url: str, purpose: str) -> VerificationMethod:
        self.calls.append(did_url)
        return self.inner.verification_method(did_url, purpose)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "PS256", "ES256K", None])
def test_algorithms_outside_the_allow_list_are_refused_before_key_lookup(
    ministry: Party, resolver: Resolver, alg: Any
) -> None:
    header = {"alg": alg, "kid": ministry.kid, "typ": "statuslist+jwt"}
    token = b64e(dumps(header)) + "." + b64e(dumps(_payload())) + "." + b64e(b"\x00" * 64)
    recording = RecordingResolver(resolver)
    assert _code(lambda: _verify(token, ministry, recording)) == "status_list_invalid"
    assert recording.calls == []


def test_alg_of_another_key_type_is_refused(ministry: Party, resolver: Resolver) -> None:
    token = _token(ministry)
    h64, p64, s64 = token.split(".")
    header = json.loads(b64d(h64))
    header["alg"] = "ES384"
    forged = b64e(dumps(header)) + "." + p64 + "." + s64
    assert _code(lambda: _verify(forged, ministry, resolver)) == "status_list_invalid"


def test_token_signed_by_another_did_is_an_issuer_mismatch(
    ministry: Party, mallory: Party, resolver: Resolver
) -> None:
    token = _token(mallory)  # a perfectly valid token, but mallory's
    assert _code(lambda: _verify(token, ministry, resolver)) == "status_list_issuer_mismatch"


def test_token_signed_by_another_key_under_the_issuers_kid_is_refused(
    ministry: Party, mallory: Party, resolver: Resolver
) -> None:
    header = {"kid": ministry.kid, "typ": "statuslist+jwt"}
    forged = _raw_token(mallory, header, _payload())
    # same key type: the signature fails; another key type: the alg does not fit the key
    assert _code(lambda: _verify(forged, ministry, resolver)) == "status_list_invalid"


def test_key_not_authorised_for_assertion_method_is_refused() -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    did = "did:web:ministry.example"
    vm = VerificationMethod.from_public_key(key.public_key, controller=did, id=f"{did}#k1")
    only_auth = DIDDocument.build(
        did, verification_methods=(vm,), relationships={"authentication": (vm.id,)}
    )
    assertion = DIDDocument.build(
        did, verification_methods=(vm,), relationships={"assertionMethod": (vm.id,)}
    )
    party = Party(key, did, vm.id)
    token = _token(party)
    url = "https://ministry.example/.well-known/did.json"
    refusing = Resolver.default(
        fetcher=StaticFetcher({url: json.dumps(only_auth.to_json()).encode()})
    )
    assert _code(lambda: _verify(token, party, refusing)) == "status_list_invalid"
    accepting = Resolver.default(
        fetcher=StaticFetcher({url: json.dumps(assertion.to_json()).encode()})
    )
    assert _verify(token, party, accepting).issuer == did
    unresolvable = Resolver.default(fetcher=StaticFetcher({}))
    assert _code(lambda: _verify(token, party, unresolvable)) == "status_unavailable"


@pytest.mark.parametrize("kid", [None, "", 7, "not-a-did-url", "did:key"])
def test_missing_or_malformed_kid_is_refused(ministry: Party, resolver: Resolver, kid: Any) -> None:
    header = {"kid": kid, "typ": "statuslist+jwt"} if kid is not None else {"typ": "statuslist+jwt"}
    token = _raw_token(ministry, header, _payload())
    assert _code(lambda: _verify(token, ministry, resolver)) in (
        "status_list_invalid",
        "status_list_issuer_mismatch",
    )


def test_relative_kid_resolves_against_the_issuer(ministry: Party, resolver: Resolver) -> None:
    fragment = "#" + ministry.kid.partition("#")[2]
    token = _raw_token(ministry, {"kid": fragment, "typ": "statuslist+jwt"}, _payload())
    assert _verify(token, ministry, resolver).kid == ministry.kid


def test_tampered_payload_is_refused(ministry: Party, resolver: Resolver) -> None:
    token = _token(ministry, _list(i9=1))
    h64, _, s64 = token.split(".")
    cleared = _payload()
    forged = h64 + "." + b64e(dumps(cleared)) + "." + s64
    assert _code(lambda: _verify(forged, ministry, resolver)) == "status_list_invalid"


@pytest.mark.parametrize(
    "payload",
    [
        _payload(sub="https://status.ministry.example/lists/2"),
        _payload(sub=None),
        _payload(iat=None),
        _payload(iat="1700000000"),
        _payload(iat=int(NOW.timestamp()) + 3600),  # issued in the future
        _payload(exp=int(NOW.timestamp())),  # expires exactly now
        _payload(exp=int(NOW.timestamp()) - 1),
        _payload(exp=True),
        _payload(ttl=0),
        _payload(ttl=-1),
        _payload(ttl="60"),
        _payload(status_list=None),
        _payload(status_list={"bits": 3, "lst": "eNrbuRgAAhcBXQ"}),
        _payload(status_list={"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}),
        _payload(status_list={"bits": 1, "lst": b64e(zlib.compress(bytes(1 << 21), 9))}),
    ],
    ids=[
        "other-sub",
        "no-sub",
        "no-iat",
        "string-iat",
        "future-iat",
        "exp-now",
        "expired",
        "bool-exp",
        "ttl-0",
        "ttl-negative",
        "ttl-string",
        "no-list",
        "bits-3",
        "padded-lst",
        "bomb",
    ],
)
def test_claims_are_checked(ministry: Party, resolver: Resolver, payload: dict[str, Any]) -> None:
    token = _raw_token(ministry, {"kid": ministry.kid, "typ": "statuslist+jwt"}, payload)
    code = _code(lambda: _verify(token, ministry, resolver, max_decompressed=1 << 20))
    assert code == "status_list_invalid"


def test_leeway_tolerates_small_clock_skew(ministry: Party, resolver: Resolver) -> None:
    token = _raw_token(
        ministry,
        {"kid": ministry.kid, "typ": "statuslist+jwt"},
        _payload(iat=int(NOW.timestamp()) + 30),
    )
    assert _code(lambda: _verify(token, ministry, resolver)) == "status_list_invalid"
    assert _verify(token, ministry, resolver, leeway=60).size == 1024


# ----------------------------------------------------------------- the caching resolver


def test_resolver_fetches_with_the_media_type_and_caches_by_ttl(
    ministry: Party, resolver: Resolver
) -> None:
    fetcher = CountingFetcher({LIST_URI: _token(ministry, ttl=60).encode() + b"\r\n"})
    clock = Clock(NOW)
    tsl = TokenStatusListResolver(fetcher, resolver, clock=clock)
    first = tsl.get(LIST_URI, issuer=ministry.did)
    assert fetcher.requests == [(LIST_URI, "application/statuslist+jwt")]
    clock.now = NOW + timedelta(seconds=59)
    assert tsl.get(LIST_URI, issuer=ministry.did) is first
    assert len(fetcher.requests) == 1
    clock.now = NOW + timedelta(seconds=60)
    tsl.get(LIST_URI, issuer=ministry.did)
    assert len(fetcher.requests) == 2


def test_resolver_caps_the_cache_by_max_age_and_exp(ministry: Party, resolver: Resolver) -> None:
    long_ttl = _token(ministry, ttl=86400)
    fetcher = CountingFetcher({LIST_URI: long_ttl.encode()})
    clock = Clock(NOW)
    tsl = TokenStatusListResolver(fetcher, resolver, clock=clock, max_age=timedelta(seconds=30))
    tsl.get(LIST_URI, issuer=ministry.did)
    clock.now = NOW + timedelta(seconds=31)
    tsl.get(LIST_URI, issuer=ministry.did)
    assert len(fetcher.requests) == 2

    expiring = _token(ministry, ttl=3600, expires_at=NOW + timedelta(seconds=10))
    fetcher.mapping[LIST_URI] = expiring.encode()
    clock = Clock(NOW)
    tsl = TokenStatusListResolver(fetcher, resolver, clock=clock)
    tsl.get(LIST_URI, issuer=ministry.did)
    clock.now = NOW + timedelta(seconds=10)
    # the cached copy expired with its exp; the refetched token is expired too: fail closed
    assert _code(lambda: tsl.get(LIST_URI, issuer=ministry.did)) == "status_list_invalid"
    assert len(fetcher.requests) == 4


def test_cached_token_is_still_bound_to_the_issuer(
    ministry: Party, mallory: Party, resolver: Resolver
) -> None:
    fetcher = CountingFetcher({LIST_URI: _token(ministry).encode()})
    tsl = TokenStatusListResolver(fetcher, resolver, clock=Clock(NOW))
    tsl.get(LIST_URI, issuer=ministry.did)
    assert _code(lambda: tsl.get(LIST_URI, issuer=mallory.did)) == "status_list_issuer_mismatch"
    assert len(fetcher.requests) == 1


def test_cached_token_is_checked_against_now(ministry: Party, resolver: Resolver) -> None:
    token = _token(ministry, expires_at=NOW + timedelta(hours=1))
    tsl = TokenStatusListResolver(
        StaticFetcher({LIST_URI: token.encode()}), resolver, clock=Clock(NOW)
    )
    tsl.get(LIST_URI, issuer=ministry.did)
    later = NOW + timedelta(hours=2)
    assert _code(lambda: tsl.get(LIST_URI, issuer=ministry.did, now=later)) == "status_list_invalid"


def test_fetch_failure_is_unavailable(ministry: Party, resolver: Resolver) -> None:
    tsl = TokenStatusListResolver(StaticFetcher({}), resolver, clock=Clock(NOW))
    assert _code(lambda: tsl.get(LIST_URI, issuer=ministry.did)) == "status_unavailable"


def test_oversized_or_binary_body_is_refused(ministry: Party, resolver: Resolver) -> None:
    token = _token(ministry).encode()
    small = TokenStatusListResolver(
        StaticFetcher({LIST_URI: token}), resolver, clock=Clock(NOW), max_bytes=100
    )
    assert _code(lambda: small.get(LIST_URI, issuer=ministry.did)) == "status_unavailable"
    binary = TokenStatusListResolver(
        StaticFetcher({LIST_URI: b"\xff\xfe" + token}), resolver, clock=Clock(NOW)
    )
    assert _code(lambda: binary.get(LIST_URI, issuer=ministry.did)) == "status_list_invalid"


class RaisingFetcher:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        raise self.exc


@pytest.mark.parametrize("exc", [FetchError("timeout", "slow"), OSError("reset"), SSIWalletError()])
def test_any_fetch_error_is_unavailable(
    ministry: Party, resolver: Resolver, exc: Exception
) -> None:
    tsl = TokenStatusListResolver(RaisingFetcher(exc), resolver, clock=Clock(NOW))
    assert _code(lambda: tsl.get(LIST_URI, issuer=ministry.did)) == "status_unavailable"


def test_lru_bound(ministry: Party, resolver: Resolver) -> None:
    uris = [f"https://status.ministry.example/lists/{n}" for n in range(4)]
    fetcher = CountingFetcher({u: _token(ministry, uri=u).encode() for u in uris})
    tsl = TokenStatusListResolver(fetcher, resolver, clock=Clock(NOW), max_cached=2)
    for uri in uris:
        tsl.get(uri, issuer=ministry.did)
    tsl.get(uris[-1], issuer=ministry.did)  # still cached
    tsl.get(uris[0], issuer=ministry.did)  # evicted, fetched again
    assert len(fetcher.requests) == 5
    tsl.clear_cache()
    tsl.get(uris[-1], issuer=ministry.did)
    assert len(fetcher.requests) == 6


# ----------------------------------------------------------------- the status check


def _resolver_for(party: Party, resolver: Resolver, status_list: TokenStatusList) -> Any:
    fetcher = StaticFetcher({LIST_URI: _token(party, status_list).encode()})
    return TokenStatusListResolver(fetcher, resolver, clock=Clock(NOW))


def test_check_codes_for_each_status_value(ministry: Party, resolver: Resolver) -> None:
    tsl = _resolver_for(ministry, resolver, _list(i1=1, i2=2, i3=3))
    outcomes = {
        idx: check_token_status(status_claim(LIST_URI, idx), ministry.did, tsl)
        for idx in (0, 1, 2, 3, 1023, 1024)
    }
    assert outcomes[0].status == "passed"
    assert outcomes[0].details == {"uri": LIST_URI, "idx": 0, "value": 0}
    assert outcomes[1023].status == "passed"
    assert (outcomes[1].status, outcomes[1].code) == ("failed", "revoked")
    assert outcomes[1].details["value"] == TokenStatus.INVALID
    assert outcomes[2].code == "suspended"
    assert outcomes[3].code == "status_set"
    assert outcomes[3].details["value"] == 3
    assert outcomes[1024].code == "status_index_out_of_range"
    assert all(check.name == "status" for check in outcomes.values())


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ({}, "status_unsupported"),
        ({"identifiers": {}}, "status_unsupported"),
        ({"status_list": None}, "status_invalid"),
        ({"status_list": {"uri": LIST_URI}}, "status_invalid"),
        ({"status_list": {"idx": -1, "uri": LIST_URI}}, "status_invalid"),
        ({"status_list": {"idx": "1", "uri": LIST_URI}}, "status_invalid"),
        ({"status_list": {"idx": True, "uri": LIST_URI}}, "status_invalid"),
        ({"status_list": {"idx": 1.0, "uri": LIST_URI}}, "status_invalid"),
        ({"status_list": {"idx": 1}}, "status_invalid"),
        ({"status_list": {"idx": 1, "uri": "relative/path"}}, "status_invalid"),
        ([], "status_invalid"),
    ],
)
def test_malformed_status_claims_fail(
    ministry: Party, resolver: Resolver, status: Any, code: str
) -> None:
    tsl = _resolver_for(ministry, resolver, _list())
    check = check_token_status(status, ministry.did, tsl)
    assert (check.status, check.code) == ("failed", code)


def test_no_issuer_fails_closed(ministry: Party, resolver: Resolver) -> None:
    tsl = _resolver_for(ministry, resolver, _list())
    for issuer in (None, ""):
        check = check_token_status(status_claim(LIST_URI, 0), issuer, tsl)
        assert check.code == "status_list_issuer_mismatch"


def test_checker_binds_the_issuer(ministry: Party, mallory: Party, resolver: Resolver) -> None:
    tsl = _resolver_for(ministry, resolver, _list(i4=1))
    good = token_status_checker(tsl, ministry.did)
    assert good(status_claim(LIST_URI, 0)).status == "passed"
    assert good(status_claim(LIST_URI, 4)).code == "revoked"
    late = token_status_checker(tsl, lambda: ministry.did)
    assert late(status_claim(LIST_URI, 0)).status == "passed"
    wrong = token_status_checker(tsl, mallory.did)
    assert wrong(status_claim(LIST_URI, 0)).code == "status_list_issuer_mismatch"


# ----------------------------------------------------------------- properties


@settings(max_examples=100)
@given(st.text(max_size=300) | st.binary(max_size=300).map(b64e))
def test_arbitrary_token_text_raises_only_our_error(text: str) -> None:
    party = make_party(1)
    with pytest.raises(TokenStatusCheckError):
        verify_status_list_token(
            text, uri=LIST_URI, issuer=party.did, resolver=Resolver.default(), now=NOW
        )


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=100)
@given(
    header=st.dictionaries(st.text(max_size=6), _json, max_size=3),
    payload=st.dictionaries(
        st.sampled_from(["sub", "iat", "exp", "ttl", "status_list", "x"]), _json, max_size=5
    ),
)
def test_arbitrary_signed_claims_raise_only_our_error(
    header: dict[str, Any], payload: dict[str, Any]
) -> None:
    party = make_party(1)
    token = sign_compact(
        {"kid": party.kid, "typ": "statuslist+jwt", **header}, dumps(payload), party.key
    )
    with pytest.raises(TokenStatusCheckError):
        verify_status_list_token(
            token, uri=LIST_URI, issuer=party.did, resolver=Resolver.default(), now=NOW
        )


@settings(max_examples=100)
@given(status=_json | st.fixed_dictionaries({"status_list": _json}))
def test_arbitrary_status_claims_never_raise(status: Any) -> None:
    party = make_party(1)
    tsl = TokenStatusListResolver(StaticFetcher({}), Resolver.default(), clock=Clock(NOW))
    check = check_token_status(status, party.did, tsl)
    assert isinstance(check, Check)
    assert check.status == "failed"


@settings(max_examples=100)
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgwBb0_-z"))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    party = make_party(1)
    token = _token(party, _list(i2=1))
    position %= len(token)
    if token[position] in (".", replacement):
        return
    forged = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(TokenStatusCheckError):
        verify_status_list_token(
            forged, uri=LIST_URI, issuer=party.did, resolver=Resolver.default(), now=NOW
        )


def test_resolver_refuses_a_negative_cap(resolver: Resolver) -> None:
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusListResolver(StaticFetcher({}), resolver, max_decompressed=-1)
    assert info.value.code == "size_invalid"
