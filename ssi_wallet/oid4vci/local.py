"""A :class:`~ssi_wallet.oid4vci.wallet.Transport` that reaches a :class:`CredentialIssuer`
in the same process, with no network: roles meeting in memory.

For examples, tests of wallet logic and offline demonstrations. It routes by
the paths of the issuer's own metadata, reads bodies as the HTTP adapter does
(strict JSON, form parameters at most once, bounded) and answers what the
adapter would (OAuth error bodies, 302 with ``Location`` from the authorization
endpoint). Serving real wallets is :mod:`ssi_wallet.server.oid4vci`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from did_methods._wire.json import loads
from did_methods.errors import SSIWalletError
from did_methods.http import HttpResponse
from ssi_wallet.oid4vci.encryption import JWT_MEDIA_TYPE, MAX_ENCRYPTED_REQUEST
from ssi_wallet.oid4vci.errors import OID4VCIError
from ssi_wallet.oid4vci.metadata import accepted_languages
from ssi_wallet.oid4vci.service import CredentialIssuer, Reply
from ssi_wallet.oid4vci.signed_metadata import prefers_jwt
from ssi_wallet.oid4vci.wallet import MAX_RESPONSE_BYTES

__all__ = ["InProcessTransport"]

_MAX_BODY: Final = 1 << 20
_JSON: Final = {"content-type": "application/json"}


class InProcessTransport:
    """Answers a wallet's requests by calling ``service`` directly (no sockets)."""

    def __init__(self, service: CredentialIssuer) -> None:
        self.service = service

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> HttpResponse:
        """One request to the issuer; an error of the protocol becomes its OAuth error answer."""
        sent = {k.lower(): v for k, v in headers.items()}
        try:
            answer = self._route(method, url, sent, body or b"")
        except OID4VCIError as exc:
            answer = HttpResponse(
                exc.status,
                {
                    **_JSON,
                    "cache-control": "no-store",
                    **{k.lower(): v for k, v in exc.headers.items()},
                },
                _dump(exc.to_json()),
            )
        if len(answer.body) > max_bytes:
            raise OID4VCIError("transport", f"the answer is larger than {max_bytes} bytes")
        return answer

    def _route(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> HttpResponse:
        e = self.service.endpoints
        target = urlsplit(url)
        plain = f"{target.scheme}://{target.netloc}{target.path}"
        if method == "GET" and plain == e.issuer_metadata:
            languages = accepted_languages(headers.get("accept-language"))
            if self.service.metadata_signer is not None and prefers_jwt(headers.get("accept")):
                signed = self.service.signed_issuer_metadata(languages)
                return _answer(Reply(200, None, jwt=signed))
            return _answer(Reply(200, self.service.issuer_metadata(languages)))
        if method == "GET" and plain == e.authorization_server_metadata:
            return _answer(Reply(200, self.service.authorization_server_metadata()))
        if method == "GET" and plain.startswith(e.offer("")):
            return _answer(Reply(200, self.service.offer_document(plain[len(e.offer("")) :])))
        if method == "GET" and plain == e.authorize:
            location = self.service.authorize(_form(target.query.encode()))
            return HttpResponse(302, {"location": location}, b"")
        protected: dict[str, Callable[..., Reply]] = {
            e.credential: self.service.credential,
            e.deferred_credential: self.service.deferred_credential,
            e.notification: self.service.notification,
        }
        if method == "POST" and plain == e.nonce:
            return _answer(self.service.nonce())
        if method == "POST" and plain == e.token:
            return _answer(self.service.token(_form(body), dpop=headers.get("dpop"), url=e.token))
        if method == "POST" and plain == e.par:
            form = _form(body)
            return _answer(
                self.service.pushed_authorization_request(form, dpop=headers.get("dpop"), url=e.par)
            )
        if method == "POST" and plain in protected:
            sealed = headers.get("content-type", "").split(";")[0].strip() == JWT_MEDIA_TYPE
            encrypted = sealed and plain != e.notification
            reply = protected[plain](
                _jwe(body) if encrypted else _json(body),
                authorization=headers.get("authorization"),
                dpop=headers.get("dpop"),
                url=plain,
            )
            return _answer(reply)
        return HttpResponse(404, _JSON, _dump({"error": "not_found"}))


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _answer(reply: Reply) -> HttpResponse:
    headers = {k.lower(): v for k, v in reply.headers.items()}
    if reply.jwt is not None:
        return HttpResponse(
            reply.status, {**headers, "content-type": JWT_MEDIA_TYPE}, reply.jwt.encode("ascii")
        )
    if reply.body is None:
        return HttpResponse(reply.status, headers, b"")
    return HttpResponse(reply.status, {**headers, **_JSON}, _dump(reply.body))


def _form(raw: bytes) -> dict[str, str]:
    if len(raw) > _MAX_BODY:
        raise OID4VCIError("invalid_request", "the request is too large", status=413)
    try:
        pairs = parse_qsl(raw.decode("utf-8"), strict_parsing=bool(raw), max_num_fields=64)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OID4VCIError("invalid_request", f"unreadable form: {exc}") from exc
    form = dict(pairs)
    if len(form) != len(pairs):
        raise OID4VCIError("invalid_request", "a parameter is repeated")
    return form


def _jwe(raw: bytes) -> str:
    if len(raw) > MAX_ENCRYPTED_REQUEST:
        raise OID4VCIError("invalid_request", "the request is too large", status=413)
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise OID4VCIError(
            "invalid_encryption_parameters", "an encrypted request is a compact JWE"
        ) from exc


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = loads(raw, what="the request body", max_bytes=_MAX_BODY)
    except SSIWalletError as exc:
        raise OID4VCIError("invalid_request", f"the body is not strict JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise OID4VCIError("invalid_request", "the body must be a JSON object")
    return value
