"""HttpFetcher against real HTTP(S) servers on 127.0.0.1: what it fetches and what it refuses.

Every refusal is checked by its stable code, and the forbidden-address cases
also check that no connection was even attempted.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import ssl
import time
from collections.abc import Callable, Sequence

import pytest
from didweb_support import (
    ConnectSpy,
    Site,
    TLSMaterial,
    body,
    chunked,
    elapsed,
    redirect,
    trickle,
)

from did_methods.errors import ParseError, SSIWalletError
from did_methods.http import (
    FETCH_ERROR_CODES,
    FetchError,
    HttpFetcher,
    StaticFetcher,
    _forbidden_reason,
)

FAST = 0.5  # seconds: the timeout used by the timing tests
LOCAL = HttpFetcher(allow_http=True, allow_private=True)
PUBLIC_ONLY = HttpFetcher(allow_http=True)  # http allowed, private addresses not


def get(fetcher: HttpFetcher, url: str, *, max_bytes: int = 10_000, timeout: float = 5.0) -> bytes:
    return fetcher.fetch(url, max_bytes=max_bytes, timeout=timeout, accept="application/did+json")


def refused(code: str, call: Callable[[], object]) -> FetchError:
    """Run ``call``, expect FetchError with ``code``, return it."""
    assert code in FETCH_ERROR_CODES
    with pytest.raises(FetchError) as info:
        call()
    assert info.value.code == code, info.value
    assert isinstance(info.value, SSIWalletError)
    return info.value


def static_resolver(table: dict[str, Sequence[str]]) -> Callable[[str, int], Sequence[str]]:
    def resolve(host: str, port: int) -> Sequence[str]:
        return table[host]

    return resolve


# -- what it fetches ---------------------------------------------------------------


def test_fetches_over_real_http_with_the_right_headers(web: Site) -> None:
    web.routes["/doc"] = body(b'{"ok": true}')
    assert get(LOCAL, web.url("/doc")) == b'{"ok": true}'
    [(path, headers)] = web.hits
    assert path == "/doc"
    assert headers["Host"] == f"localhost:{web.port}"
    assert headers["Accept"] == "application/did+json"
    assert headers["Accept-Encoding"] == "identity"
    assert headers["User-Agent"].startswith("ssi-wallet/")


def test_fetches_close_delimited_and_chunked_bodies(web: Site) -> None:
    data = bytes(range(256)) * 30
    web.routes["/close"] = body(data, content_length=False)
    web.routes["/chunked"] = chunked(data, chunk=1000)
    assert get(LOCAL, web.url("/close")) == data
    assert get(LOCAL, web.url("/chunked")) == data


def test_https_connects_to_the_checked_address_with_sni_and_host_by_name(
    tls_web: Site, tls: TLSMaterial, connect_spy: ConnectSpy
) -> None:
    tls_web.routes["/doc"] = body(b"over tls")
    fetcher = HttpFetcher(
        allow_private=True,
        ssl_context=tls.client_context(),
        resolve=static_resolver({"did.example": ["127.0.0.1"]}),
    )
    assert get(fetcher, tls_web.url("/doc", host="did.example")) == b"over tls"
    assert connect_spy.calls == [("127.0.0.1", tls_web.port)]
    assert tls_web.hits[0][1]["Host"] == f"did.example:{tls_web.port}"


def test_https_certificate_must_match_the_host_name(tls_web: Site, tls: TLSMaterial) -> None:
    tls_web.routes["/doc"] = body(b"x")
    fetcher = HttpFetcher(
        allow_private=True,
        ssl_context=tls.client_context(),
        resolve=static_resolver({"other.example": ["127.0.0.1"]}),
    )
    for url in (tls_web.url("/doc", host="other.example"), tls_web.url("/doc", host="127.0.0.1")):
        error = refused("network", lambda url=url: get(fetcher, url))
        assert isinstance(error.__cause__, ssl.SSLCertVerificationError)
    assert tls_web.hits == []


def test_https_default_context_does_not_trust_an_unknown_ca(tls_web: Site) -> None:
    tls_web.routes["/doc"] = body(b"x")
    error = refused("network", lambda: get(HttpFetcher(allow_private=True), tls_web.url("/doc")))
    assert isinstance(error.__cause__, ssl.SSLCertVerificationError)


# -- addresses -----------------------------------------------------------------------

FORBIDDEN_URLS = [
    "http://127.0.0.1:{port}/doc",
    "http://localhost:{port}/doc",
    "http://10.0.0.1/doc",
    "http://192.168.1.1/doc",
    "http://172.16.0.1/doc",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/doc",
    "http://0.0.0.0:{port}/doc",
    "http://224.0.0.1/doc",
    "http://255.255.255.255/doc",
    "http://[::1]:{port}/doc",
    "http://[::]:{port}/doc",
    "http://[::ffff:127.0.0.1]:{port}/doc",
    "http://[::ffff:169.254.169.254]/doc",
    "http://[fe80::1]/doc",
    "http://[fc00::1]/doc",
    "http://[fec0::1]/doc",
    "http://[ff02::1]/doc",
    "http://[2002:7f00:1::]/doc",
    "http://[64:ff9b::a00:1]/doc",
]


@pytest.mark.parametrize("template", FORBIDDEN_URLS)
def test_non_public_addresses_are_refused_before_connecting(
    template: str, web: Site, connect_spy: ConnectSpy
) -> None:
    web.routes["/doc"] = body(b"secret")
    url = template.format(port=web.port)
    error = refused("forbidden_address", lambda: get(PUBLIC_ONLY, url))
    assert "address" in error.message
    assert connect_spy.calls == []
    assert web.hits == []


@pytest.mark.parametrize(
    "answers",
    [["169.254.169.254"], ["10.0.0.1"], ["::1"], ["93.184.216.34", "10.0.0.1"]],
)
def test_a_name_resolving_to_a_non_public_address_is_refused(
    answers: list[str], connect_spy: ConnectSpy
) -> None:
    fetcher = HttpFetcher(resolve=static_resolver({"evil.example": answers}))
    refused("forbidden_address", lambda: get(fetcher, "https://evil.example/did.json"))
    assert connect_spy.calls == []


def test_address_classification() -> None:
    public = ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "64:ff9b::808:808"]
    for text in public:
        assert _forbidden_reason(ipaddress.ip_address(text)) is None, text
    expected = {
        "127.0.0.1": "loopback",
        "10.1.2.3": "private",
        "169.254.169.254": "link-local",
        "0.0.0.0": "unspecified",
        "224.0.0.1": "multicast",
        "240.0.0.1": "private",
        "100.64.0.1": "non-global",
        "::1": "loopback",
        "::ffff:127.0.0.1": "IPv6 form of a loopback address",
        "2002:a00:1::": "IPv6 form of a private address",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe": "IPv6 form of a private address",  # Teredo
        "64:ff9b::7f00:1": "NAT64 address of a loopback address",
        "fec0::1": "site-local",
        "fe80::1": "link-local",
    }
    for text, reason in expected.items():
        assert _forbidden_reason(ipaddress.ip_address(text)) == reason, text


def test_allowed_networks_permit_only_those_and_each_redirect_hop_is_rechecked(
    web: Site, connect_spy: ConnectSpy
) -> None:
    web.routes["/doc"] = body(b"intranet")
    web.routes["/steal"] = redirect("http://169.254.169.254/latest/meta-data/")
    fetcher = HttpFetcher(allow_http=True, allowed_networks=["127.0.0.0/8"])
    assert get(fetcher, web.url("/doc")) == b"intranet"
    refused("forbidden_address", lambda: get(fetcher, web.url("/steal")))
    assert {address for address, _ in connect_spy.calls} == {"127.0.0.1"}


def test_dns_is_resolved_once_per_hop_and_the_checked_address_is_used(
    web: Site, connect_spy: ConnectSpy
) -> None:
    """A rebinding DNS answer (public first, internal later) changes nothing."""
    web.routes["/doc"] = body(b"pinned")
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    asked: list[str] = []

    def rebinding(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return next(answers)

    fetcher = HttpFetcher(allow_http=True, allowed_networks=["127.0.0.1/32"], resolve=rebinding)
    assert get(fetcher, f"http://rebind.example:{web.port}/doc") == b"pinned"
    assert asked == ["rebind.example"]
    assert connect_spy.calls == [("127.0.0.1", web.port)]


# -- size ----------------------------------------------------------------------------


def test_body_at_the_cap_is_accepted_and_one_byte_more_is_refused(web: Site) -> None:
    web.routes["/exact"] = body(b"a" * 1000)
    web.routes["/exact-nolen"] = body(b"a" * 1000, content_length=False)
    web.routes["/over"] = body(b"a" * 1001)
    web.routes["/over-nolen"] = body(b"a" * 1001, content_length=False)
    assert get(LOCAL, web.url("/exact"), max_bytes=1000) == b"a" * 1000
    assert get(LOCAL, web.url("/exact-nolen"), max_bytes=1000) == b"a" * 1000
    refused("too_large", lambda: get(LOCAL, web.url("/over"), max_bytes=1000))
    refused("too_large", lambda: get(LOCAL, web.url("/over-nolen"), max_bytes=1000))


@pytest.mark.parametrize("shape", ["content-length", "close-delimited", "chunked"])
def test_oversize_bodies_are_refused(web: Site, shape: str) -> None:
    big = b"x" * 300_000
    web.routes["/big"] = {
        "content-length": body(big),
        "close-delimited": body(big, content_length=False),
        "chunked": chunked(big),
    }[shape]
    error = refused("too_large", lambda: get(LOCAL, web.url("/big"), max_bytes=256 * 1024))
    if shape == "content-length":
        assert "Content-Length" in error.message


def test_a_huge_content_length_is_refused_before_reading_the_body(web: Site) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n"
    web.routes["/huge"] = trickle(head, b"x" * 1024, every=0.2, count=50)
    start = time.monotonic()
    refused("too_large", lambda: get(LOCAL, web.url("/huge"), max_bytes=1000, timeout=5.0))
    assert elapsed(start) < 1.0  # did not wait for the body


# -- time ----------------------------------------------------------------------------


def test_a_trickling_body_is_cut_off_at_the_deadline(web: Site) -> None:
    """One byte every 50 ms never trips a per-read timeout; the overall deadline does."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
    web.routes["/slow"] = trickle(head, b"x", every=0.05, count=1000)
    start = time.monotonic()
    refused("timeout", lambda: get(LOCAL, web.url("/slow"), timeout=FAST))
    assert FAST * 0.8 <= elapsed(start) < FAST + 1.0


def test_trickling_headers_are_cut_off_at_the_deadline(web: Site) -> None:
    web.routes["/slow-head"] = trickle(b"HTTP/1.1 200 OK\r\nX-Pad: ", b"a", every=0.05, count=1000)
    start = time.monotonic()
    refused("timeout", lambda: get(LOCAL, web.url("/slow-head"), timeout=FAST))
    assert elapsed(start) < FAST + 1.0


def test_a_silent_server_times_out(web: Site) -> None:
    web.routes["/silent"] = trickle(b"", b"", every=10.0, count=1)
    start = time.monotonic()
    refused("timeout", lambda: get(LOCAL, web.url("/silent"), timeout=FAST))
    assert elapsed(start) < FAST + 1.0


def test_a_stalled_dns_lookup_times_out() -> None:
    def stalled(host: str, port: int) -> Sequence[str]:
        time.sleep(3)
        return ["93.184.216.34"]

    start = time.monotonic()
    refused(
        "timeout", lambda: get(HttpFetcher(resolve=stalled), "https://slow.example/", timeout=0.3)
    )
    assert elapsed(start) < 1.5


# -- redirects -----------------------------------------------------------------------


def test_redirects_are_followed_relative_and_absolute(web: Site) -> None:
    web.routes["/a"] = redirect("/b", "301 Moved Permanently")
    web.routes["/b"] = redirect(web.url("/c"), "307 Temporary Redirect")
    web.routes["/c"] = body(b"arrived")
    assert get(LOCAL, web.url("/a")) == b"arrived"
    assert [path for path, _ in web.hits] == ["/a", "/b", "/c"]


def test_a_redirect_loop_is_detected(web: Site) -> None:
    web.routes["/a"] = redirect("/b")
    web.routes["/b"] = redirect("/a")
    web.routes["/self"] = redirect("/self")
    refused("redirect_loop", lambda: get(LOCAL, web.url("/a")))
    refused("redirect_loop", lambda: get(LOCAL, web.url("/self")))


def test_too_many_redirects(web: Site) -> None:
    for i in range(6):
        web.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    web.routes["/r6"] = body(b"too far")
    refused("too_many_redirects", lambda: get(LOCAL, web.url("/r0")))
    assert [path for path, _ in web.hits] == ["/r0", "/r1", "/r2", "/r3"]
    no_redirects = HttpFetcher(allow_http=True, allow_private=True, max_redirects=0)
    refused("too_many_redirects", lambda: get(no_redirects, web.url("/r5")))
    three = get(LOCAL, web.url("/r3"))  # exactly max_redirects=3 hops is fine
    assert three == b"too far"


def test_a_redirect_from_https_to_http_is_refused_even_when_http_is_allowed(
    tls_web: Site, web: Site, tls: TLSMaterial
) -> None:
    web.routes["/doc"] = body(b"downgraded")
    tls_web.routes["/doc"] = redirect(web.url("/doc"))
    fetcher = HttpFetcher(allow_http=True, allow_private=True, ssl_context=tls.client_context())
    refused("insecure_scheme", lambda: get(fetcher, tls_web.url("/doc")))
    assert web.hits == []


def test_plain_http_needs_allow_http(web: Site, connect_spy: ConnectSpy) -> None:
    web.routes["/doc"] = body(b"x")
    refused("insecure_scheme", lambda: get(HttpFetcher(allow_private=True), web.url("/doc")))
    assert connect_spy.calls == []


def test_a_redirect_to_a_malformed_location_is_refused(web: Site) -> None:
    web.routes["/userinfo"] = redirect("http://user@localhost/doc")
    web.routes["/ftp"] = redirect("ftp://localhost/doc")
    refused("invalid_url", lambda: get(LOCAL, web.url("/userinfo")))
    refused("invalid_url", lambda: get(LOCAL, web.url("/ftp")))


# -- status and protocol -------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 500, 204, 304])
def test_any_status_but_200_is_an_error_with_that_status(web: Site, status: int) -> None:
    web.routes["/doc"] = body(b"", status=f"{status} Whatever")
    error = refused("http_status", lambda: get(LOCAL, web.url("/doc")))
    assert error.status == status


def test_a_redirect_without_location_is_an_http_status_error(web: Site) -> None:
    web.routes["/doc"] = body(b"", status="302 Found")
    assert refused("http_status", lambda: get(LOCAL, web.url("/doc"))).status == 302


def test_garbage_and_hang_ups_are_network_errors(web: Site) -> None:
    web.routes["/garbage"] = lambda handler: handler.raw(b"NOT HTTP AT ALL\r\n\r\n")
    web.routes["/hangup"] = lambda handler: None
    refused("network", lambda: get(LOCAL, web.url("/garbage")))
    refused("network", lambda: get(LOCAL, web.url("/hangup")))


def test_a_closed_port_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused("network", lambda: get(LOCAL, f"http://127.0.0.1:{port}/"))


@pytest.mark.parametrize(
    "url",
    [
        "",
        "localhost/doc",
        "ftp://localhost/doc",
        "file:///etc/passwd",
        "http://user:pw@localhost/doc",
        "http://@localhost/doc",
        "http:///doc",
        "http://local host/doc",
        "http://exämple.com/doc",
        "http://localhost:99999/doc",
        "http://localhost:0/doc",
        "http://localhost:x/doc",
        "http://[fe80::1%25eth0]/doc",
        "http://[not-ipv6]/doc",
        "http://2130706433/doc",
        "http://0x7f.1/doc",
        "http://127.1/doc",
        "http://-bad.example/doc",
        "http://a..b/doc",
        "http://a_b.example/doc",
        "http://example.com/\r\nX-Injected: 1",
        "http://" + "a" * 5000 + ".example/",
    ],
)
def test_malformed_urls_are_refused_before_any_connection(
    url: str, connect_spy: ConnectSpy
) -> None:
    refused("invalid_url", lambda: get(LOCAL, url))
    assert connect_spy.calls == []


def test_bad_arguments_raise_parse_errors(web: Site) -> None:
    url = web.url("/doc")
    for bad in (
        lambda: LOCAL.fetch(url, max_bytes=-1, timeout=1.0, accept="a/b"),
        lambda: LOCAL.fetch(url, max_bytes=10, timeout=0, accept="a/b"),
        lambda: LOCAL.fetch(url, max_bytes=10, timeout=math.inf, accept="a/b"),
        lambda: LOCAL.fetch(url, max_bytes=10, timeout=math.nan, accept="a/b"),
        lambda: LOCAL.fetch(url, max_bytes=10, timeout=1.0, accept="a/b\r\nX-Evil: 1"),
        lambda: HttpFetcher(user_agent="ua\nX-Evil: 1"),
        lambda: HttpFetcher(max_redirects=-1),
    ):
        with pytest.raises(ParseError):
            bad()
    assert web.hits == []


# -- StaticFetcher -------------------------------------------------------------------


def test_static_fetcher_serves_its_map_and_nothing_else() -> None:
    fetcher = StaticFetcher({"https://example.com/.well-known/did.json": b"{}"})
    url = "https://example.com/.well-known/did.json"
    assert fetcher.fetch(url, max_bytes=10, timeout=1.0, accept="a/b") == b"{}"
    missing = refused(
        "http_status",
        lambda: fetcher.fetch("https://example.com/x", max_bytes=10, timeout=1.0, accept="a/b"),
    )
    assert missing.status == 404
    refused("too_large", lambda: fetcher.fetch(url, max_bytes=1, timeout=1.0, accept="a/b"))
