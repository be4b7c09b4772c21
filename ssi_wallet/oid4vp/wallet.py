"""The wallet's side of OpenID4VP 1.0, sans-IO: read an authorization request URI,
verify the request object and the verifier's identity, and shape the response.

The I/O around it (fetching the request object, posting the response) is
:mod:`ssi_wallet.oid4vp.client`; the matching, the consent prompt and the
presentations are the :class:`~ssi_wallet.holder.Holder`'s own
(:meth:`~ssi_wallet.holder.Holder.answer`).

:func:`verify_request_object` runs these steps, in order, and stops at the first
refusal with an :class:`~ssi_wallet.oid4vp.errors.OID4VPError` of its own code:

1. read the JWT strictly and boundedly; ``typ`` must be ``oauth-authz-req+jwt``;
2. its ``client_id`` must be the URI's, byte for byte, with a prefix we speak;
3. the verifier's identity, by prefix: ``decentralized_identifier:`` - signed by
   the key ``kid`` names, a verification method of that very DID, found by DID
   resolution; ``x509_san_dns:`` - signed by the key of the ``x5c`` leaf, whose
   chain reaches a trust anchor and which names the DNS name as a dNSName SAN,
   and the response URI's host is that name; ``x509_hash:`` - signed by the key of
   the ``x5c`` leaf, whose chain reaches a trust anchor and whose DER's SHA-256
   (base64url) is the client identifier; ``verifier_attestation:`` - signed by the
   ``cnf`` key of the Verifier Attestation JWT in the ``jwt`` header, which a trusted
   attestation issuer signed for this very client identifier
   (:mod:`ssi_wallet.oid4vp.attestation`); ``redirect_uri:`` - not signed at
   all, and the response URI is the client identifier itself;
4. the claims: ``response_type`` ``vp_token``, a response mode we speak with a
   ``response_uri`` (and no ``redirect_uri``), a URL-safe ``nonce`` and
   ``state``, a DCQL query, our ``wallet_nonce`` when we sent one, an ``aud`` of
   static discovery, ``exp`` not passed, and ``transaction_data`` items, if any, of
   types we know, naming SD-JWT credential queries of the request;
5. for ``direct_post.jwt``, a key to encrypt to (``client_metadata.jwks``, with
   ``alg`` ``ECDH-ES`` and a ``kid``) and an ``enc`` we support.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from cryptography import x509

from credentials.errors import ParseError
from credentials.jwe import encrypt_compact
from credentials.jws import absolute_kid, dumps, method_key
from credentials.x5c import X5CError, check_san_dns, verify_x5c
from did_methods._wire.dates import is_numeric_date
from did_methods._wire.json import loads
from did_methods.document import VerificationMethod
from did_methods.errors import ResolutionError, SSIWalletError, VerificationError
from did_methods.keys import PublicKey
from did_methods.resolver import Resolver
from ssi_wallet.dcql import DCQLQuery
from ssi_wallet.oid4vp._protocol import (
    ENC_VALUES,
    MAX_REQUEST_OBJECT,
    RESPONSE_MODES,
    SELF_ISSUED_AUDIENCE,
    ClientId,
    RequestObject,
    url_safe,
)
from ssi_wallet.oid4vp.attestation import verify_verifier_attestation
from ssi_wallet.oid4vp.errors import OID4VPError
from ssi_wallet.request import PresentationRequest, PresentationResponse
from ssi_wallet.transaction_data import MAX_ITEMS, TransactionDataError, parse_transaction_data

__all__ = [
    "AuthorizationRequest",
    "AuthorizationRequestURI",
    "error_response",
    "response_form",
    "verify_request_object",
]

_MAX_URI = 8192
_CLOCK_SKEW = 60


@dataclass(frozen=True, slots=True)
class AuthorizationRequestURI:
    """An authorization request: passed by reference
    (``openid4vp://?client_id=...&request_uri=...[&request_uri_method=post]``), a
    request object by value (``request=``), or, for the unsigned ``redirect_uri:``
    prefix only, the parameters themselves (``parameters``).

    At most one of ``request_uri``, ``request`` and ``parameters`` is set.
    """

    client_id: str
    request_uri: str | None
    request_uri_method: Literal["get", "post"] = "get"
    request: str | None = None
    parameters: Mapping[str, str] | None = None

    @classmethod
    def parse(cls, uri: Any) -> AuthorizationRequestURI:
        """Read the URI (any scheme: ``openid4vp``, a custom one, or a wallet's https).

        Raises :class:`OID4VPError`: ``request_uri_invalid`` (no client_id, neither or
        both of request_uri and request, a repeated parameter, too long),
        ``request_uri_method_invalid`` (not ``get``/``post``), and
        ``client_id_prefix_unsupported`` before anything is fetched.
        """
        if not isinstance(uri, str) or len(uri) > _MAX_URI:
            raise OID4VPError(
                "request_uri_invalid",
                f"an authorization request URI is a string of at most {_MAX_URI} characters",
            )
        query = urlsplit(uri.strip()).query
        try:
            pairs = parse_qsl(
                query, keep_blank_values=True, strict_parsing=bool(query), max_num_fields=32
            )
        except ValueError as exc:
            raise OID4VPError("request_uri_invalid", f"unreadable query: {exc}") from exc
        params: dict[str, str] = {}
        for name, value in pairs:
            if name in params:
                raise OID4VPError("request_uri_invalid", f"parameter {name[:40]!r} is repeated")
            params[name] = value
        client_id = params.get("client_id")
        if not client_id:
            raise OID4VPError("request_uri_invalid", "the authorization request has no client_id")
        ClientId.parse(client_id)
        request_uri, by_value = params.get("request_uri"), params.get("request")
        if request_uri is not None and by_value is not None:
            raise OID4VPError("request_uri_invalid", "request_uri and request are exclusive")
        if request_uri is None and by_value is None:
            # plain parameters: only for the prefix whose requests are never signed
            if not client_id.startswith("redirect_uri:"):
                raise OID4VPError(
                    "request_unsigned",
                    "a request without a (signed) request object needs client_id redirect_uri:",
                )
            return cls(client_id, None, "get", None, params)
        method = params.get("request_uri_method", "get")
        if method not in ("get", "post"):
            raise OID4VPError(
                "request_uri_method_invalid", "request_uri_method must be 'get' or 'post'"
            )
        if "request_uri_method" in params and request_uri is None:
            raise OID4VPError("request_uri_invalid", "request_uri_method without request_uri")
        if request_uri is not None:
            parts = urlsplit(request_uri)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise OID4VPError("request_uri_invalid", "request_uri must be an https URL")
        return cls(client_id, request_uri, method, by_value)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A request object that passed every step of :func:`verify_request_object`.

    ``client_id`` is the full Client Identifier (the audience every presentation
    is bound to); ``encryption_jwk`` and ``enc`` are set for ``direct_post.jwt``.
    """

    client_id: str
    response_mode: str
    response_uri: str
    nonce: str
    state: str | None
    query: DCQLQuery
    client_metadata: Mapping[str, Any] = field(default_factory=dict)
    issued_at: int = 0
    expires_at: int | None = None
    encryption_jwk: Mapping[str, Any] | None = None
    enc: str | None = None
    #: The transaction data items, as received (base64url strings), each checked.
    transaction_data: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        """The Client Identifier Prefix."""
        return self.client_id.partition(":")[0]

    def presentation_request(self) -> PresentationRequest:
        """The request as the :class:`~ssi_wallet.holder.Holder` answers it: the DCQL
        query, the nonce, and the full ``client_id`` as the audience."""
        extra: dict[str, Any] = {}
        if self.transaction_data:  # the Holder shows them and binds them in key binding
            extra["transaction_data"] = list(self.transaction_data)
        return PresentationRequest(
            self.query,
            self.nonce,
            self.client_id,
            "",
            None,
            self.issued_at,
            self.expires_at,
            extra,
        )


_JSON_PARAMETERS = ("dcql_query", "client_metadata", "transaction_data", "verifier_info")


def _from_parameters(uri: AuthorizationRequestURI) -> RequestObject:
    """Parameters by value as an unsigned request object (JSON-valued ones decoded)."""
    if uri.parameters is None:
        raise OID4VPError("request_object_invalid", "no request object and no parameters")
    claims: dict[str, Any] = dict(uri.parameters)
    for name in _JSON_PARAMETERS:
        if name in claims:
            try:
                claims[name] = loads(claims[name], what=name, max_bytes=_MAX_URI, max_depth=32)
            except ParseError as exc:
                raise OID4VPError("request_object_invalid", f"{name}: {exc}") from exc
    return RequestObject({"alg": "none"}, claims, None)


def _verification_method(resolver: Resolver, kid: str) -> VerificationMethod:
    try:
        found = resolver.dereference(kid)
    except (ResolutionError, ParseError) as exc:
        raise OID4VPError("request_key_unresolved", f"cannot resolve {kid[:120]}: {exc}") from exc
    if not isinstance(found, VerificationMethod):
        raise OID4VPError("request_key_unresolved", f"{kid[:120]} is no verification method")
    return found


def _check_signature(obj: RequestObject, key: Any) -> None:
    assert obj.jws is not None
    try:
        obj.jws.verify(key)
    except VerificationError as exc:
        raise OID4VPError(
            "request_signature_invalid", f"the request object's signature: {exc.message}"
        ) from exc
    except SSIWalletError as exc:
        raise OID4VPError("request_signature_invalid", f"the request object's key: {exc}") from exc


def _identity(
    obj: RequestObject,
    client: ClientId,
    response_uri: str,
    resolver: Resolver,
    trust_anchors: Sequence[x509.Certificate],
    trusted_client_ids: Collection[str],
    moment: float,
    attestation_issuers: Mapping[str, PublicKey],
) -> None:
    """Step 3: the verifier's identity, by Client Identifier Prefix."""
    if client.prefix == "redirect_uri":
        if obj.jws is not None:
            raise OID4VPError("request_signed", "redirect_uri: requests must not be signed")
        if response_uri != client.original:
            raise OID4VPError(
                "response_uri_mismatch", "the response_uri must be the redirect_uri: client id"
            )
        return
    if obj.jws is None:
        raise OID4VPError("request_unsigned", f"{client.prefix}: requests must be signed")
    if client.prefix == "decentralized_identifier":
        try:
            kid = absolute_kid(obj.unverified_header.get("kid"), client.original)
        except VerificationError as exc:
            raise OID4VPError(
                "request_key_unresolved",
                f"the kid is not a key of {client.original[:80]}: {exc.message}",
            ) from exc
        method = _verification_method(resolver, kid)
        try:
            key = method_key(method)
        except VerificationError as exc:
            raise OID4VPError("request_key_unresolved", exc.message) from exc
        _check_signature(obj, key)
        return
    if client.prefix in ("x509_san_dns", "x509_hash"):
        try:
            certified = verify_x5c(
                obj.unverified_header.get("x5c"),
                trust_anchors,
                now=datetime.fromtimestamp(moment, UTC),
            )
            if client.prefix == "x509_san_dns":
                check_san_dns(certified, client.original)
        except X5CError as exc:
            code = "x509_san_mismatch" if exc.code == "x5c_san_mismatch" else "x509_untrusted"
            raise OID4VPError(code, f"{exc.code}: {exc.message}") from exc
        if client.prefix == "x509_hash":
            # the client identifier names the leaf itself: any other certificate, even a
            # trusted one, is another verifier
            if not hmac.compare_digest(certified.x509_hash.encode(), client.original.encode()):
                raise OID4VPError(
                    "x509_hash_mismatch",
                    "the x5c leaf certificate's SHA-256 is not the x509_hash: client id",
                )
            _check_signature(obj, certified.public_key)
            return
        _check_signature(obj, certified.public_key)
        # without a list naming this client, the response URI must be on its DNS name
        host = (urlsplit(response_uri).hostname or "").lower()
        if str(client) not in trusted_client_ids and host != client.original.lower():
            raise OID4VPError(
                "response_uri_mismatch",
                f"the response_uri's host {host[:80]!r} is not {client.original[:80]!r}",
            )
        return
    if client.prefix == "verifier_attestation":
        key = verify_verifier_attestation(
            obj.unverified_header.get("jwt"),
            client_id=client.original,
            response_uri=response_uri,
            issuers=attestation_issuers,
            moment=moment,
        )
        _check_signature(obj, key)
        return
    raise OID4VPError(  # pragma: no cover - ClientId.parse admits only the prefixes above
        "client_id_prefix_unsupported", f"{client.prefix} is not supported"
    )


def _transaction_data(value: Any, query: DCQLQuery, types: Collection[str]) -> tuple[str, ...]:
    """Step 4: ``transaction_data``, if any: 1 to 16 items, each of a type we know,
    naming SD-JWT credential queries of the request (OpenID4VP 1.0 section 5.1)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not 0 < len(value) <= MAX_ITEMS:
        raise OID4VPError(
            "transaction_data_invalid", f"transaction_data is a list of 1 to {MAX_ITEMS} strings"
        )
    try:
        return tuple(parse_transaction_data(v, query, types=types).raw for v in value)
    except TransactionDataError as exc:
        raise OID4VPError(exc.code, str(exc)) from exc


def _encryption(metadata: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """Step 5: the key (first usable one) and ``enc`` for ``direct_post.jwt``."""
    jwks = metadata.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys or len(keys) > 16:
        raise OID4VPError("encryption_unsupported", "client_metadata.jwks has no keys")
    chosen = None
    for jwk in keys:
        if (
            isinstance(jwk, Mapping)
            and jwk.get("alg") == "ECDH-ES"
            and isinstance(jwk.get("kid"), str)
            and jwk.get("use", "enc") == "enc"
            and (jwk.get("kty"), jwk.get("crv")) in (("EC", "P-256"), ("OKP", "X25519"))
            and "d" not in jwk
        ):
            chosen = jwk
            break
    if chosen is None:
        raise OID4VPError(
            "encryption_unsupported", "no ECDH-ES P-256 or X25519 key with a kid in client_metadata"
        )
    offered = metadata.get("encrypted_response_enc_values_supported", ["A128GCM"])
    if not isinstance(offered, list) or not offered:
        raise OID4VPError(
            "encryption_unsupported", "encrypted_response_enc_values_supported is malformed"
        )
    enc = next((e for e in offered if e in ENC_VALUES), None)
    if enc is None:
        raise OID4VPError("encryption_unsupported", f"no enc among {', '.join(ENC_VALUES)} offered")
    return dict(chosen), enc


def verify_request_object(
    text: str | bytes | None,
    uri: AuthorizationRequestURI,
    *,
    resolver: Resolver,
    trust_anchors: Sequence[x509.Certificate] = (),
    trusted_client_ids: Collection[str] = (),
    wallet_nonce: str | None = None,
    now: float | None = None,
    transaction_data_types: Collection[str] = (),
    attestation_issuers: Mapping[str, PublicKey] | None = None,
) -> AuthorizationRequest:
    """Verify a request object fetched for ``uri``: the steps of the module docstring.

    ``text`` is the request object; ``None`` when ``uri`` carries the parameters
    themselves (``redirect_uri:``), which then pass the same steps (but 1).
    ``resolver`` resolves ``decentralized_identifier:`` DIDs; ``trust_anchors``
    are the certificates an ``x509_san_dns:`` or ``x509_hash:`` chain must reach (none: every such
    request is refused ``x509_untrusted``); ``trusted_client_ids`` lists
    ``x509_san_dns:`` clients allowed a response URI on another host;
    ``wallet_nonce`` is the one we posted to the request URI (it must come
    back); ``transaction_data_types`` are the transaction data types this wallet
    knows (any other is ``transaction_data_unsupported``, a malformed item
    ``transaction_data_invalid``); ``attestation_issuers`` are the Verifier
    Attestation issuers trusted for ``verifier_attestation:`` (``iss`` to public key;
    none: every such request is ``verifier_attestation_untrusted``). Returns the
    verified :class:`AuthorizationRequest`;
    raises :class:`OID4VPError`.
    """
    moment = time.time() if now is None else now
    attestation_issuers = attestation_issuers or {}
    # 1. read; typ first (or, for parameters by value, decode the JSON ones)
    if text is None:
        obj = _from_parameters(uri)
    else:
        if len(text) > MAX_REQUEST_OBJECT:
            raise OID4VPError("request_object_invalid", "the request object is too long")
        obj = RequestObject.parse(text)
    claims = obj.unverified_claims
    # 2. the client identifier, the URI's and the object's the same
    if claims.get("client_id") != uri.client_id:
        raise OID4VPError(
            "client_id_mismatch", "the request object's client_id is not the request URI's"
        )
    client = ClientId.parse(uri.client_id)
    response_uri = claims.get("response_uri")
    if not isinstance(response_uri, str) or len(response_uri) > 2048:
        raise OID4VPError("request_object_invalid", "response_uri is required with direct_post")
    parts = urlsplit(response_uri)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
        raise OID4VPError("request_object_invalid", "response_uri must be an https URL")
    # 3. the verifier's identity
    _identity(
        obj,
        client,
        response_uri,
        resolver,
        trust_anchors,
        trusted_client_ids,
        moment,
        attestation_issuers,
    )
    # 4. the claims
    if claims.get("response_type") != "vp_token":
        raise OID4VPError("request_object_invalid", "response_type must be vp_token")
    mode = claims.get("response_mode")
    if mode not in RESPONSE_MODES:
        raise OID4VPError(
            "response_mode_unsupported", f"response_mode must be one of {', '.join(RESPONSE_MODES)}"
        )
    if "redirect_uri" in claims:
        raise OID4VPError("request_object_invalid", "redirect_uri is not allowed with direct_post")
    if "scope" in claims:
        raise OID4VPError("request_object_invalid", "scope-based requests are not supported")
    nonce = url_safe(claims.get("nonce"), "nonce")
    state = claims.get("state")
    if state is not None:
        url_safe(state, "state")
    if wallet_nonce is not None and claims.get("wallet_nonce") != wallet_nonce:
        raise OID4VPError("wallet_nonce_mismatch", "the request object lacks our wallet_nonce")
    if claims.get("aud", SELF_ISSUED_AUDIENCE) != SELF_ISSUED_AUDIENCE:
        raise OID4VPError(
            "request_object_invalid",
            f"aud must be {SELF_ISSUED_AUDIENCE}, not {str(claims.get('aud'))[:80]!r}",
        )
    iat, exp = claims.get("iat", 0), claims.get("exp")
    if not is_numeric_date(iat) or (exp is not None and not is_numeric_date(exp)):
        raise OID4VPError("request_object_invalid", "iat and exp must be NumericDates")
    if iat > moment + _CLOCK_SKEW:
        raise OID4VPError("request_object_invalid", "the request object is issued in the future")
    if exp is not None and exp < moment - _CLOCK_SKEW:
        raise OID4VPError("request_expired", "the request object has expired")
    try:
        query = DCQLQuery.parse(claims.get("dcql_query"))
    except ParseError as exc:
        raise OID4VPError("request_object_invalid", f"dcql_query: {exc}") from exc
    items = _transaction_data(claims.get("transaction_data"), query, transaction_data_types)
    metadata = claims.get("client_metadata", {})
    if not isinstance(metadata, Mapping):
        raise OID4VPError("request_object_invalid", "client_metadata must be a JSON object")
    # 5. encryption
    jwk = enc = None
    if mode == "direct_post.jwt":
        jwk, enc = _encryption(metadata)
    return AuthorizationRequest(
        uri.client_id,
        mode,
        response_uri,
        nonce,
        state,
        query,
        metadata,
        int(iat),
        None if exp is None else int(exp),
        jwk,
        enc,
        items,
    )


def response_form(
    request: AuthorizationRequest, presentation: PresentationResponse
) -> dict[str, str]:
    """The form fields of the Authorization Response to POST to ``response_uri``.

    ``direct_post``: ``vp_token`` (the JSON object, as text) and ``state``;
    ``direct_post.jwt``: ``response``, a compact JWE (``ECDH-ES``, the request's
    ``enc``, the key's ``kid``) of the JSON object ``{"vp_token", "state"}``.
    Raises :class:`OID4VPError` ``response_invalid`` when ``presentation`` answers
    another nonce or audience.
    """
    if presentation.nonce != request.nonce or presentation.audience != request.client_id:
        raise OID4VPError("response_invalid", "the presentation answers another request")
    fields: dict[str, Any] = {"vp_token": {k: list(v) for k, v in presentation.vp_token.items()}}
    if request.state is not None:
        fields["state"] = request.state
    if request.response_mode == "direct_post":
        out = {"vp_token": dumps(fields["vp_token"]).decode("utf-8")}
        if request.state is not None:
            out["state"] = request.state
        return out
    # direct_post.jwt: the same members, as a JWE to the verifier's key (section 8.3)
    assert request.encryption_jwk is not None and request.enc is not None
    public = {k: v for k, v in request.encryption_jwk.items() if k in ("kty", "crv", "x", "y")}
    try:
        recipient = PublicKey.from_jwk(public)
    except SSIWalletError as exc:
        raise OID4VPError("encryption_unsupported", f"the verifier's key: {exc}") from exc
    token = encrypt_compact(
        dumps(fields), recipient, enc=request.enc, kid=str(request.encryption_jwk["kid"])
    )
    return {"response": token}


def error_response(
    request: AuthorizationRequest, error: str, description: str | None = None
) -> dict[str, str]:
    """An Authorization Error Response (``error``, ``error_description``, ``state``),
    sent unencrypted (OpenID4VP 1.0 section 8.3.1 allows it)."""
    out = {"error": error}
    if description:
        out["error_description"] = description[:300]
    if request.state is not None:
        out["state"] = request.state
    return out
