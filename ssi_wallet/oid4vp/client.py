"""The wallet's OpenID4VP client: from an authorization request URI to a posted response.

:func:`present` does the I/O around the sans-IO :mod:`ssi_wallet.oid4vp.wallet`
through a :class:`Transport` (two calls: GET and a form POST), so any HTTP
stack can carry it:

1. read the URI (an unknown Client Identifier Prefix is refused before any
   request is sent);
2. fetch the request object from ``request_uri`` (GET, or POST with a fresh
   ``wallet_nonce`` and our ``wallet_metadata`` when the URI says
   ``request_uri_method=post``); anything but 200
   ``application/oauth-authz-req+jwt`` ends the process;
3. verify it and the verifier's identity (:func:`~ssi_wallet.oid4vp.wallet.verify_request_object`);
4. let the :class:`~ssi_wallet.holder.Holder` match the DCQL query, ask the
   person's consent and build the presentations, bound to the request's nonce
   and the ``client_id`` (a refusal is posted as ``access_denied``, then raised);
   a request of ``mso_mdoc`` queries only is answered from the ``mdocs`` given
   (:func:`answer_mdocs`: each a ``DeviceResponse`` over the session transcript
   of this request);
5. post the response (``direct_post``, or ``direct_post.jwt`` encrypted to the
   verifier's key) and return the verifier's ``redirect_uri``, if any (an
   ``http(s)`` URL: anything else is ``redirect_uri_invalid``, never followed).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from cryptography import x509

from credentials.jws import dumps
from did_methods._wire.json import loads
from did_methods.errors import JSONError, PolicyError
from did_methods.http import HttpFetcher, HttpResponse
from did_methods.keys import PrivateKey, PublicKey
from did_methods.resolver import Resolver
from ssi_wallet.dcql import PathElement, match
from ssi_wallet.holder import ConsentRequest, Holder
from ssi_wallet.oid4vp._protocol import (
    CLIENT_ID_PREFIXES,
    ENC_VALUES,
    REQUEST_MEDIA_TYPE,
    RESPONSE_MODES,
    VP_FORMATS,
    encryption_key_thumbprint,
)
from ssi_wallet.oid4vp.errors import OID4VPError
from ssi_wallet.oid4vp.wallet import (
    AuthorizationRequest,
    AuthorizationRequestURI,
    error_response,
    response_form,
    verify_request_object,
)
from ssi_wallet.request import PresentationResponse

__all__ = ["PresentOutcome", "Transport", "answer_mdocs", "present", "wallet_metadata"]

if TYPE_CHECKING:
    from ssi_wallet.mdoc import MdocCandidate

_MAX_ACK = 64 * 1024
_MAX_URL = 4096


class Transport(Protocol):
    """The two HTTP calls the wallet makes; bounding sizes and times is the transport's.

    :class:`~did_methods.http.HttpFetcher` is one (the default): https only,
    public addresses only, a deadline and a body cap on every call.
    """

    def get(self, url: str, *, accept: str) -> HttpResponse:
        """GET ``url``; any status is an answer."""
        ...

    def post_form(self, url: str, form: Mapping[str, str], *, accept: str) -> HttpResponse:
        """POST ``form`` as ``application/x-www-form-urlencoded`` (UTF-8) to ``url``."""
        ...


@dataclass(frozen=True, slots=True)
class PresentOutcome:
    """What :func:`present` did: the verified request, what was sent, where to go next."""

    request: AuthorizationRequest
    presentation: PresentationResponse
    redirect_uri: str | None


def wallet_metadata(client_id_prefix: str) -> dict[str, Any]:
    """Our ``wallet_metadata`` for a request URI POST (OpenID4VP 1.0 sections 5.10, 10)."""
    metadata: dict[str, Any] = {
        "vp_formats_supported": dict(VP_FORMATS),
        "response_types_supported": ["vp_token"],
        "response_modes_supported": list(RESPONSE_MODES),
        "client_id_prefixes_supported": list(CLIENT_ID_PREFIXES),
        "authorization_encryption_alg_values_supported": ["ECDH-ES"],
        "authorization_encryption_enc_values_supported": list(ENC_VALUES),
    }
    if client_id_prefix != "redirect_uri":  # that prefix precludes signed requests
        metadata["request_object_signing_alg_values_supported"] = ["EdDSA", "ES256", "ES384"]
    return metadata


def _fetch_request(
    uri: AuthorizationRequestURI, transport: Transport
) -> tuple[str | None, str | None]:
    if uri.request_uri is None:  # by value: a request object, or the parameters themselves
        return uri.request, None
    wallet_nonce = None
    if uri.request_uri_method == "post":
        wallet_nonce = secrets.token_urlsafe(24)
        form = {
            "wallet_metadata": dumps(wallet_metadata(uri.client_id.partition(":")[0])).decode(),
            "wallet_nonce": wallet_nonce,
        }
        reply = transport.post_form(uri.request_uri, form, accept=REQUEST_MEDIA_TYPE)
    else:
        reply = transport.get(uri.request_uri, accept=REQUEST_MEDIA_TYPE)
    if reply.status != 200 or reply.content_type != REQUEST_MEDIA_TYPE:
        raise OID4VPError(
            "request_fetch_failed",
            f"the request URI answered {reply.status} {reply.content_type[:60]!r}, "
            f"not 200 {REQUEST_MEDIA_TYPE}",
        )
    try:
        return reply.body.decode("ascii"), wallet_nonce
    except UnicodeDecodeError as exc:
        raise OID4VPError("request_object_invalid", "the request object is not ASCII") from exc


def _post(
    request: AuthorizationRequest, form: Mapping[str, str], transport: Transport
) -> str | None:
    reply = transport.post_form(request.response_uri, form, accept="application/json")
    body: Any = None
    if reply.body and len(reply.body) <= _MAX_ACK:
        try:
            body = loads(reply.body, what="response URI answer", max_bytes=_MAX_ACK)
        except JSONError:
            body = None
    if reply.status != 200:
        said = ""
        if isinstance(body, Mapping):
            said = str(
                body.get("error_description") or body.get("detail") or body.get("error") or ""
            )
        raise OID4VPError(
            "response_rejected", f"the verifier answered {reply.status}: {said[:300]}"
        )
    if not isinstance(body, Mapping):
        raise OID4VPError("response_rejected", "the verifier's answer is not a JSON object")
    redirect = body.get("redirect_uri")
    if redirect is None:
        return None
    # the browser is sent there: an absolute http(s) URL of bounded size, nothing else
    # (no javascript:, data: or custom scheme a hostile verifier could make us open)
    parts = urlsplit(redirect) if isinstance(redirect, str) and len(redirect) <= _MAX_URL else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise OID4VPError(
            "redirect_uri_invalid", "the verifier's redirect_uri is not an http(s) URL"
        )
    return str(redirect)


def answer_mdocs(
    request: AuthorizationRequest,
    mdocs: Sequence[tuple[MdocCandidate, PrivateKey]],
    *,
    consent: Callable[[ConsentRequest], bool],
) -> PresentationResponse:
    """Answer a request whose credential queries are all ``mso_mdoc`` from ``mdocs`` (each
    held mdoc with its device key), after the person consents.

    Each ``vp_token`` entry is :func:`ssi_wallet.mdoc.present_for_query` over the session
    transcript of OpenID4VP 1.0 B.2.6.1: this request's ``client_id``, ``nonce`` and
    ``response_uri``, and for ``direct_post.jwt`` the thumbprint of the key the
    response is encrypted to. Raises :class:`~did_methods.errors.PolicyError`
    (``cannot_satisfy``, ``consent_refused``) as :meth:`Holder.answer` does.
    """
    from ssi_wallet.mdoc import present_for_query  # the CBOR stack, only for mdocs

    if any(q.format != "mso_mdoc" for q in request.query.credentials):
        raise PolicyError("cannot_satisfy: a request mixing mdocs and other formats")
    held = {candidate.id: (candidate, key) for candidate, key in mdocs}
    found = match(request.query, [candidate for candidate, _ in mdocs])
    if not found.ok:
        raise PolicyError(f"cannot_satisfy: no mdoc fits {', '.join(found.missing)}")
    plan: dict[str, tuple[tuple[PathElement, ...], ...]] = {}
    for query_id in found.selected:
        for cid in found.matches[query_id].credential_ids:
            plan[cid] = tuple(dict.fromkeys((*plan.get(cid, ()), *found.matches[query_id].claims)))
    ask = ConsentRequest(request.client_id, "", plan, (), {})
    if consent(ask) is not True:
        raise PolicyError("consent_refused: the holder declined the request")
    thumbprint = None
    if request.encryption_jwk is not None:
        thumbprint = encryption_key_thumbprint(request.encryption_jwk)
    queries = {q.id: q for q in request.query.credentials}
    vp_token: dict[str, list[Any]] = {}
    for query_id in found.selected:
        vp_token[query_id] = [
            present_for_query(
                queries[query_id],
                held[cid][0],
                device_key=held[cid][1],
                client_id=request.client_id,
                nonce=request.nonce,
                response_uri=request.response_uri,
                jwk_thumbprint=thumbprint,
            )
            for cid in found.matches[query_id].credential_ids
        ]
    return PresentationResponse(vp_token, request.nonce, request.client_id)


def present(
    holder: Holder,
    uri: str,
    *,
    consent: Callable[[ConsentRequest], bool],
    resolver: Resolver,
    transport: Transport | None = None,
    trust_anchors: Sequence[x509.Certificate] = (),
    trusted_client_ids: Collection[str] = (),
    now: float | None = None,
    transaction_data_types: Collection[str] = (),
    attestation_issuers: Mapping[str, PublicKey] | None = None,
    mdocs: Sequence[tuple[MdocCandidate, PrivateKey]] = (),
) -> PresentOutcome:
    """Answer the authorization request at ``uri`` with ``holder``'s credentials.

    The steps of the module docstring, over ``transport`` (default: a
    :class:`~did_methods.http.HttpFetcher`, whose
    :class:`~did_methods.http.FetchError` ends the exchange when a call fails).
    ``resolver`` resolves the DIDs of
    ``decentralized_identifier:`` verifiers; ``trust_anchors`` and
    ``trusted_client_ids`` judge ``x509_san_dns:`` and ``x509_hash:`` verifiers,
    ``attestation_issuers`` ``verifier_attestation:`` ones
    (:func:`~ssi_wallet.oid4vp.wallet.verify_request_object`). ``mdocs`` (held mdocs
    and their device keys) answer a request of ``mso_mdoc`` queries
    (:func:`answer_mdocs`). Raises :class:`OID4VPError` for a
    request or verifier refused (nothing is disclosed then; transaction data of a type
    not in ``transaction_data_types`` is ``transaction_data_unsupported``), and the Holder's
    :class:`~did_methods.errors.PolicyError` when the person declines or no
    credential fits (after telling the verifier ``access_denied``).
    """
    transport = HttpFetcher() if transport is None else transport
    # 1.
    parsed = AuthorizationRequestURI.parse(uri)
    # 2.
    text, wallet_nonce = _fetch_request(parsed, transport)
    # 3.
    request = verify_request_object(
        text,
        parsed,
        resolver=resolver,
        trust_anchors=trust_anchors,
        trusted_client_ids=trusted_client_ids,
        wallet_nonce=wallet_nonce,
        now=now,
        transaction_data_types=transaction_data_types,
        attestation_issuers=attestation_issuers,
    )
    # 4.
    try:
        at = None if now is None else datetime.fromtimestamp(now, UTC)
        if request.query.credentials and all(
            q.format == "mso_mdoc" for q in request.query.credentials
        ):
            presentation = answer_mdocs(request, mdocs, consent=consent)
        else:
            presentation = holder.answer(request.presentation_request(), consent=consent, now=at)
    except PolicyError as exc:
        _post(request, error_response(request, "access_denied", str(exc)), transport)
        raise
    # 5.
    redirect = _post(request, response_form(request, presentation), transport)
    return PresentOutcome(request, presentation, redirect)
