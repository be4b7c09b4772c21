"""HttpFetcher as a wallet's HTTP client (request/get/post_form/post_json) over real sockets
on 127.0.0.1, and the one Fetcher contract (fetch_checked)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest
from _live_server import Response, StaticServer, static_server_fixture

from did_methods.errors import CanonicalizationError, ParseError
from did_methods.http import FetchError, HttpFetcher, StaticFetcher, fetch_checked

server = static_server_fixture()
other = static_server_fixture()
CLIENT = HttpFetcher(allow_loopback=True)


def _code(call: Any) -> str:
    with pytest.raises(FetchError) as caught:
        call()
    return caught.value.code


def test_get_returns_any_status_with_headers_and_body(server: StaticServer) -> None:
    server.put("/meta", b'{"a":1}', headers={"Content-Type": "application/json; charset=utf-8"})
    server.put("/err", b'{"error":"invalid_grant"}', status=400,
               headers={"Content-Type": "application/json"})  # fmt: skip
    got = CLIENT.get(server.url("/meta"), headers={"DPoP": "proof"})
    assert (got.status, got.content_type, json.loads(got.body)) == (
        200,
        "application/json",
        {"a": 1},
    )
    assert got.headers["content-length"] == "7"
    refused = CLIENT.get(server.url("/err"))
    assert (refused.status, json.loads(refused.body)["error"]) == (400, "invalid_grant")
    assert CLIENT.get(server.url("/none")).status == 404
    sent = server.requests[0]
    assert (sent.method, sent.headers["Accept"], sent.headers["DPoP"]) == (
        "GET", "application/json", "proof",
    )  # fmt: skip


def test_post_form_and_json(server: StaticServer) -> None:
    server.put("/token", b"{}")
    form = {"grant_type": "authorization_code", "code": "a b&c=d", "name": "Amina Ümit"}
    assert CLIENT.post_form(server.url("/token"), form).status == 200
    posted = server.requests[-1]
    assert posted.method == "POST"
    assert posted.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert {k: v[0] for k, v in parse_qs(posted.body.decode()).items()} == form
    CLIENT.post_json(server.url("/token"), {"b": [1, "ü"], "a": None})
    posted = server.requests[-1]
    assert posted.headers["Content-Type"] == "application/json"
    assert posted.body == '{"a":null,"b":[1,"ü"]}'.encode()  # RFC 8785 form
    with pytest.raises(CanonicalizationError):
        CLIENT.post_json(server.url("/token"), {"x": float("nan")})


def test_the_response_body_is_capped(server: StaticServer) -> None:
    server.put("/big", b"x" * 5000)
    assert CLIENT.get(server.url("/big"), max_bytes=5000).body == b"x" * 5000
    assert _code(lambda: CLIENT.get(server.url("/big"), max_bytes=4999)) == "too_large"
    # an error answer is bounded the same way
    server.put("/big-error", b"e" * 5000, status=500)
    assert _code(lambda: CLIENT.get(server.url("/big-error"), max_bytes=100)) == "too_large"


def test_redirects_same_origin_only_and_only_when_asked(
    server: StaticServer, other: StaticServer
) -> None:
    server.put("/final", b"here")
    server.put("/moved", b"", status=302, headers={"Location": "/final"})
    server.put("/away", b"", status=302, headers={"Location": other.url("/final")})
    other.put("/final", b"elsewhere")
    answer = CLIENT.get(server.url("/moved"))
    assert (answer.status, answer.headers["location"]) == (302, "/final")  # not followed
    followed = CLIENT.request("GET", server.url("/moved"), follow_redirects=True)
    assert (followed.status, followed.body) == (200, b"here")
    assert (
        _code(lambda: CLIENT.request("GET", server.url("/away"), follow_redirects=True))
        == "redirect_refused"
    )
    assert other.hits == {}
    # a POST is never redirected
    assert (
        CLIENT.request("POST", server.url("/moved"), body=b"", follow_redirects=True).status == 302
    )


def test_redirect_loops_end(server: StaticServer) -> None:
    server.put("/a", b"", status=307, headers={"Location": "/b"})
    server.put("/b", b"", status=307, headers={"Location": "/a"})
    assert (
        _code(lambda: CLIENT.request("GET", server.url("/a"), follow_redirects=True))
        == "too_many_redirects"
    )


def test_https_is_required_except_for_loopback(server: StaticServer) -> None:
    server.put("/x", b"ok")
    strict = HttpFetcher()
    assert _code(lambda: strict.get(server.url("/x"))) == "insecure_scheme"
    localhost = server.url("/x").replace("127.0.0.1", "localhost")
    assert CLIENT.get(localhost).body == b"ok"
    # allow_loopback admits loopback only: a public host over http stays refused
    assert _code(lambda: CLIENT.get("http://example.com/x")) == "insecure_scheme"
    # and a name that resolves elsewhere is not loopback, whatever it is called
    tricked = HttpFetcher(allow_loopback=True, resolve=lambda host, port: ["192.0.2.7"])
    assert _code(lambda: tricked.get(localhost)) == "insecure_scheme"
    # nor does allow_loopback open private networks to https
    assert _code(lambda: CLIENT.get("https://10.0.0.1/x")) == "forbidden_address"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"method": "CONNECT"}, ParseError),
        ({"method": "get"}, ParseError),
        ({"headers": {"Host": "evil.example"}}, ParseError),
        ({"headers": {"Content-Length": "0"}}, ParseError),
        ({"headers": {"X-Bad": "a\r\nInjected: 1"}}, ParseError),
        ({"headers": {"Bad Name": "v"}}, ParseError),
        ({"max_bytes": -1}, ParseError),
        ({"timeout": 0}, ParseError),
        ({"body": "text"}, ParseError),
    ],
)
def test_request_refuses_malformed_input(
    server: StaticServer, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    options: dict[str, Any] = {"method": "GET", "url": server.url("/x"), **kwargs}
    with pytest.raises(error):
        CLIENT.request(**options)
    assert server.requests == []


def test_head_reads_no_body(server: StaticServer) -> None:
    server.routes["/h"] = Response(b"abc", 200, (("X-Seen", "yes"),))
    answer = CLIENT.request("HEAD", server.url("/h"))
    assert (answer.status, answer.headers["x-seen"], answer.body) == (200, "yes", b"")


# ------------------------------------------------------------------ the one Fetcher contract


class _Broken:
    """A third-party fetcher that returns (or raises) whatever it was given."""

    def __init__(self, outcome: object) -> None:
        self.outcome = outcome

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> Any:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


@pytest.mark.parametrize(
    ("outcome", "code"),
    [(ConnectionResetError("peer reset"), "network"), ("{}", "network"), (b" " * 11, "too_large")],
)
def test_fetch_checked_holds_fetchers_to_the_contract(outcome: object, code: str) -> None:
    args: dict[str, Any] = {"max_bytes": 10, "timeout": 1.0, "accept": "*/*"}
    assert _code(lambda: fetch_checked(_Broken(outcome), "https://a.example/", **args)) == code
    assert fetch_checked(_Broken(b"0123456789"), "https://a.example/", **args) == b"0123456789"
    assert _code(lambda: fetch_checked(StaticFetcher({}), "https://a.example/", **args)) == (
        "http_status"
    )


def test_the_status_core_takes_the_one_fetcher_protocol() -> None:
    from credentials import _status_core
    from did_methods import http

    assert _status_core.ListFetcher is http.Fetcher
