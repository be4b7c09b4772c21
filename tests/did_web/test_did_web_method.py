"""did:web: DID -> URL mapping (spec vectors and properties) and resolution over real HTTPS.

Each way resolution can fail is checked through the Resolver, by its DID
Resolution error code and its ``errorDetail``, so a user can tell them apart.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from didweb_support import Site, TLSMaterial, body, chunked, json_body, redirect, trickle
from hypothesis import given, settings
from hypothesis import strategies as st

from did_methods.did import DID
from did_methods.document import DIDDocument, VerificationMethod
from did_methods.errors import InvalidDID, ResolutionError, UnsupportedError
from did_methods.http import FetchError, HttpFetcher, StaticFetcher
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.web import MAX_JSON_DEPTH, WebMethod, did_web_to_url
from did_methods.resolver import ResolutionResult, Resolver

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "did-web"

# -- DID -> URL ----------------------------------------------------------------------


def test_did_to_url_spec_examples() -> None:
    data = json.loads((VECTORS / "did-to-url-examples.json").read_text())
    assert len(data["did_to_url"]) == 4
    for case in data["did_to_url"]:
        assert did_web_to_url(case["did"]) == case["url"]
        assert did_web_to_url(DID.parse(case["did"])) == case["url"]
    for did in data["valid_dids_from_example"]:
        assert did_web_to_url(did).startswith("https://")


def test_did_to_url_more_cases() -> None:
    assert did_web_to_url("did:web:Example.COM") == "https://example.com/.well-known/did.json"
    assert did_web_to_url("did:web:example.com%3a8443") == (
        "https://example.com:8443/.well-known/did.json"
    )
    assert did_web_to_url("did:web:example.com:a%20b:%C3%A9") == (
        "https://example.com/a%20b/%C3%A9/did.json"
    )
    assert did_web_to_url("did:web:localhost%3A65535:x") == "https://localhost:65535/x/did.json"


@pytest.mark.parametrize(
    "did",
    [
        "did:web:",
        "did:web",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "did:web:127.0.0.1",  # the spec forbids IP addresses
        "did:web:127.0.0.1%3A8080",
        "did:web:2130706433",
        "did:web:0x7f.1",
        "did:web:127.1",
        "did:web:%5B%3A%3A1%5D",  # [::1]
        "did:web:example.com%3A",
        "did:web:example.com%3A0",
        "did:web:example.com%3A080",
        "did:web:example.com%3A65536",
        "did:web:example.com%3A80%3A81",
        "did:web:example.com%2Fevil",
        "did:web:example.com%40evil.com",  # user info
        "did:web:user%3Apw%40example.com",
        "did:web:exa_mple.com",
        "did:web:-example.com",
        "did:web:example-.com",
        "did:web:example..com",
        "did:web:.example.com",
        "did:web:example.com.",
        "did:web:" + "a" * 64 + ".com",
        "did:web:" + ".".join(["abcdefgh"] * 30) + ".com",
        "did:web:example.com::alice",
        "did:web:example.com:alice:",
        "did:web:example.com:..",
        "did:web:example.com:.",
        "did:web:example.com:%2E%2E",
        "did:web:example.com:%2e",
        "did:web:example.com:a%2Fb",
        "did:web:example.com:a%2fb",
        "did:web:example.com:a%5Cb",
        "did:web:example.com:a%00b",
        "did:web:example.com:a%0Ab",
        "did:web:example.com/path",
        "did:web:example.com#frag",
        "did:web:exämple.com",
    ],
)
def test_did_to_url_refuses(did: str) -> None:
    with pytest.raises(InvalidDID):
        did_web_to_url(did)


@given(st.text(max_size=200))
@settings(max_examples=200)
def test_did_to_url_on_arbitrary_text_raises_only_invalid_did(text: str) -> None:
    for candidate in (text, "did:web:" + text):
        try:
            url = did_web_to_url(candidate)
        except InvalidDID:
            continue
        assert url.startswith("https://") and url.endswith("/did.json")


_DID_ALPHABET = string.ascii_letters + string.digits + ".-_:%" + "3Aa2Ff"


@given(st.text(alphabet=_DID_ALPHABET, min_size=1, max_size=80))
@settings(max_examples=200)
def test_urls_from_did_shaped_text_stay_on_the_named_host(msid: str) -> None:
    did = "did:web:" + msid
    try:
        url = did_web_to_url(did)
    except InvalidDID:
        return
    parts = urlsplit(url)
    host_text = msid.split(":")[0]
    assert parts.scheme == "https"
    assert parts.hostname == host_text.lower().split("%3")[0]
    assert not parts.username and not parts.query and not parts.fragment
    segments = unquote(parts.path).split("/")
    assert ".." not in segments and "." not in segments
    assert parts.path.endswith("/did.json") and "//" not in parts.path


_LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
_SEGMENT = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)


@given(
    st.lists(_LABEL, min_size=1, max_size=4),
    st.none() | st.integers(1, 65535),
    st.lists(_SEGMENT, max_size=4),
)
@settings(max_examples=100)
def test_did_to_url_on_generated_valid_dids(
    labels: list[str], port: int | None, path: list[str]
) -> None:
    host = ".".join(labels)
    did = "did:web:" + host + (f"%3A{port}" if port else "") + "".join(":" + s for s in path)
    authority = host + (f":{port}" if port else "")
    tail = "/".join(path) if path else ".well-known"
    assert did_web_to_url(did) == f"https://{authority}/{tail}/did.json"


# -- resolution: success ---------------------------------------------------------------


def _document(did: str, key: PrivateKey) -> dict[str, Any]:
    vm = VerificationMethod.from_public_key(key.public_key, controller=did, id=f"{did}#key-1")
    return DIDDocument.build(
        did,
        verification_methods=(vm,),
        relationships={"assertionMethod": (vm.id,), "authentication": (vm.id,)},
    ).to_json()


def _tls_fetcher(tls: TLSMaterial, **kwargs: Any) -> HttpFetcher:
    return HttpFetcher(allow_private=True, ssl_context=tls.client_context(), **kwargs)


def test_resolves_over_real_https_and_yields_an_authorised_key(
    tls_web: Site, tls: TLSMaterial
) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    did = f"did:web:localhost%3A{tls_web.port}"
    tls_web.routes["/.well-known/did.json"] = json_body(_document(did, key))
    resolver = Resolver([WebMethod(_tls_fetcher(tls))])
    result = resolver.resolve(did)
    assert result.error is None
    assert result.did_resolution_metadata == {"contentType": "application/did+json"}
    assert result.did_document is not None and result.did_document.id == did
    method = resolver.verification_method(f"{did}#key-1", "assertionMethod")
    assert method.public_key == key.public_key
    assert tls_web.hits[0][1]["Accept"].startswith("application/did+json")


def test_resolves_over_plain_http_only_when_both_sides_allow_it(web: Site) -> None:
    """Local test servers without TLS need unsafe_allow_http and a fetcher allowing http."""
    key = PrivateKey.generate(KeyType.ED25519)
    did = f"did:web:localhost%3A{web.port}:issuer"
    web.routes["/issuer/did.json"] = json_body(_document(did, key))
    local = HttpFetcher(allow_http=True, allow_private=True)
    resolver = Resolver([WebMethod(local, unsafe_allow_http=True)])
    assert resolver.resolve_document(did).id == did
    assert [path for path, _ in web.hits] == ["/issuer/did.json"]
    # Either side alone is not enough: the spec's https URL is used, or http is refused.
    https_only = Resolver([WebMethod(local)])
    assert _outcome(https_only, did) == ("internalError", "network")  # TLS to a plain server
    no_http = Resolver([WebMethod(HttpFetcher(allow_private=True), unsafe_allow_http=True)])
    assert _outcome(no_http, did) == ("internalError", "insecure_scheme")
    assert len(web.hits) == 1  # a TLS hello is no GET, and the refused http was never sent


def test_resolves_a_did_with_a_path_through_name_resolution(
    tls_web: Site, tls: TLSMaterial
) -> None:
    key = PrivateKey.generate(KeyType.P256)
    did = f"did:web:did.example%3A{tls_web.port}:user:alice"
    tls_web.routes["/user/alice/did.json"] = json_body(_document(did, key))
    fetcher = _tls_fetcher(tls, resolve=lambda host, port: ["127.0.0.1"])
    result = WebMethod(fetcher).resolve(DID.parse(did), {})
    assert isinstance(result, ResolutionResult)
    assert result.did_document is not None
    [method] = result.did_document.verification_methods_for("authentication")
    assert method.public_key == key.public_key
    assert tls_web.hits[0][1]["Host"] == f"did.example:{tls_web.port}"


def test_default_resolver_uses_the_given_fetcher_for_did_web() -> None:
    did = "did:web:example.com"
    doc = json.dumps({"id": did}).encode()
    fetcher = StaticFetcher({"https://example.com/.well-known/did.json": doc})
    assert Resolver.default(fetcher=fetcher).resolve_document(did).id == did


def test_spec_example_document_resolves() -> None:
    """The spec's Ethereum-address example: valid JSON; its key type is unsupported."""
    raw = (VECTORS / "spec-examples" / "didweb-example-02.json").read_bytes()
    fetcher = StaticFetcher({"https://example.com/.well-known/did.json": raw})
    result = WebMethod(fetcher).resolve(DID.parse("did:web:example.com"), {})
    assert result.did_document is not None
    [method] = result.did_document.verification_methods_for("authentication")
    assert method.id == "did:web:example.com#address-0"
    with pytest.raises(UnsupportedError):
        _ = method.public_key


def test_spec_example_with_a_trailing_comma_is_refused_as_invalid_json() -> None:
    raw = (VECTORS / "spec-examples" / "didweb-example-01.txt").read_bytes()
    fetcher = StaticFetcher({"https://example.com/.well-known/did.json": raw})
    result = Resolver([WebMethod(fetcher)]).resolve("did:web:example.com")
    assert (result.error, result.did_resolution_metadata["errorDetail"]) == (
        "internalError",
        "invalid_json",
    )


def test_json_nesting_limit_is_exact_and_a_nesting_bomb_is_refused_cheaply() -> None:
    did = "did:web:example.com"
    url = "https://example.com/.well-known/did.json"

    def with_nesting(levels: int) -> bytes:
        nested = "[" * levels + "]" * levels
        # Brackets inside strings (even after an escaped quote) do not count as nesting.
        return ('{"id": "' + did + '", "x": ' + nested + ', "s": "[[[[{{{{\\"["}').encode()

    at_limit = StaticFetcher({url: with_nesting(MAX_JSON_DEPTH - 1)})  # 64 levels with the top
    assert Resolver([WebMethod(at_limit)]).resolve_document(did).id == did
    for raw in (with_nesting(MAX_JSON_DEPTH), b"[" * 200_000):
        result = Resolver([WebMethod(StaticFetcher({url: raw}))]).resolve(did)
        assert result.did_resolution_metadata["errorDetail"] == "json_too_deep"


# -- resolution: each refusal, distinguishable -------------------------------------------


def _outcome(resolver: Resolver, did: str) -> tuple[str | None, str | None]:
    result = resolver.resolve(did)
    assert result.did_document is None
    assert result.did_resolution_metadata["errorMessage"]
    return result.error, result.did_resolution_metadata.get("errorDetail")


def test_private_addresses_are_refused_by_default(connect_spy: Any) -> None:
    resolver = Resolver([WebMethod(HttpFetcher())])
    assert _outcome(resolver, "did:web:localhost%3A8443") == ("internalError", "forbidden_address")
    metadata = WebMethod(HttpFetcher(resolve=lambda host, port: ["169.254.169.254"]))
    resolver = Resolver([metadata])
    assert _outcome(resolver, "did:web:metadata.example") == (
        "internalError",
        "forbidden_address",
    )
    assert connect_spy.calls == []


def test_each_failure_over_https_has_its_own_code_and_detail(
    tls_web: Site, web: Site, tls: TLSMaterial
) -> None:
    port = tls_web.port
    base = f"did:web:localhost%3A{port}"
    other_key = PrivateKey.generate(KeyType.ED25519)
    deep = "[" * 100 + "]" * 100
    routes = {
        "notfound": None,
        "servererror": body(b"oops", status="500 Internal Server Error"),
        "big": body(b" " * 2000),
        "bignolen": body(b" " * 2000, content_length=False),
        "bigchunked": chunked(b" " * 2000),
        "slow": trickle(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n",
            b" ",
            every=0.05,
            count=100,
        ),
        "loop": redirect("/loop2/did.json"),
        "loop2": redirect("/loop/did.json"),
        "chain": redirect("/chain1/did.json"),
        "chain1": redirect("/chain2/did.json"),
        "chain2": redirect("/chain3/did.json"),
        "chain3": redirect("/chain4/did.json"),
        "downgrade": redirect(web.url("/did.json")),
        "mismatch": json_body(_document("did:web:evil.example", other_key)),
        "html": body(b"<html>not json</html>"),
        "latin1": body(b'{"id": "caf\xe9"}'),
        "nan": body(b'{"id": "x", "n": NaN}'),
        "dupe": body(f'{{"id": "{base}:dupe", "id": "{base}:other"}}'.encode()),
        "deep": body(f'{{"id": "{base}:deep", "x": {deep}}}'.encode()),
        "array": body(b"[]"),
        "noid": body(b'{"verificationMethod": []}'),
    }
    for name, route in routes.items():
        if route is not None:
            tls_web.routes[f"/{name}/did.json"] = route
    web.routes["/did.json"] = body(b"{}")
    fetcher = _tls_fetcher(tls, allow_http=True)
    resolver = Resolver([WebMethod(fetcher, max_bytes=1000, timeout=0.5)])
    expected = {
        "notfound": ("notFound", "http_status"),
        "servererror": ("internalError", "http_status"),
        "big": ("internalError", "too_large"),
        "bignolen": ("internalError", "too_large"),
        "bigchunked": ("internalError", "too_large"),
        "slow": ("internalError", "timeout"),
        "loop": ("internalError", "redirect_loop"),
        "chain": ("internalError", "too_many_redirects"),
        "downgrade": ("internalError", "insecure_scheme"),
        "mismatch": ("internalError", "id_mismatch"),
        "html": ("internalError", "invalid_json"),
        "latin1": ("internalError", "invalid_json"),
        "nan": ("internalError", "invalid_json"),
        "dupe": ("internalError", "invalid_json"),
        "deep": ("internalError", "json_too_deep"),
        "array": ("internalError", "invalid_document"),
        "noid": ("internalError", "invalid_document"),
    }
    seen = {name: _outcome(resolver, f"{base}:{name}") for name in expected}
    assert seen == expected
    assert web.hits == []  # the downgrade target was never contacted
    assert _outcome(resolver, "did:web:127.0.0.1") == ("invalidDid", "invalid_did")


def test_resolution_error_chains_the_fetch_error() -> None:
    method = WebMethod(StaticFetcher({}))
    with pytest.raises(ResolutionError) as info:
        method.resolve(DID.parse("did:web:example.com"), {})
    assert info.value.code == "notFound"
    assert getattr(info.value, "detail", None) == "http_status"
    assert isinstance(info.value.__cause__, FetchError)
    assert "http_status" in str(info.value)


def test_a_fetcher_that_breaks_its_contract_is_still_bounded() -> None:
    class Overfull:
        def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
            return b" " * (max_bytes + 1)

    class Leaky:
        def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
            raise ConnectionResetError("peer reset")

    class Texty:
        def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> Any:
            return "{}"

    did = DID.parse("did:web:example.com")
    for fetcher, detail in ((Overfull(), "too_large"), (Leaky(), "network"), (Texty(), "network")):
        with pytest.raises(ResolutionError) as info:
            WebMethod(fetcher, max_bytes=10).resolve(did, {})
        assert (info.value.code, getattr(info.value, "detail", None)) == ("internalError", detail)


# -- robustness on arbitrary documents -----------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
_DID = "did:web:example.com"
_URL = "https://example.com/.well-known/did.json"


def _resolve_body(raw: bytes) -> None:
    try:
        result = WebMethod(StaticFetcher({_URL: raw})).resolve(DID.parse(_DID), {})
    except ResolutionError as exc:
        assert exc.code in ("internalError", "notFound")
        assert getattr(exc, "detail", None)
        return
    assert result.did_document is not None and result.did_document.id == _DID


@given(st.binary(max_size=300))
@settings(max_examples=150)
def test_arbitrary_bytes_raise_only_resolution_errors(raw: bytes) -> None:
    _resolve_body(raw)


@given(_JSON)
@settings(max_examples=150)
def test_arbitrary_json_raises_only_resolution_errors(value: Any) -> None:
    _resolve_body(json.dumps(value).encode())


_DOC_KEYS = [
    "id",
    "verificationMethod",
    "authentication",
    "assertionMethod",
    "service",
    "controller",
    "alsoKnownAs",
]


@given(st.dictionaries(st.sampled_from(_DOC_KEYS), _JSON))
@settings(max_examples=150)
def test_document_shaped_json_raises_only_resolution_errors(members: dict[str, Any]) -> None:
    members.setdefault("id", _DID)
    _resolve_body(json.dumps(members).encode())
