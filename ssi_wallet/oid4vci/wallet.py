"""The wallet side of OpenID4VCI 1.0: take an offer, run the grant, receive into a Holder.

:class:`WalletClient` speaks to an issuer through a :class:`Transport` (one
method: make one HTTP request, return status, headers and body), so the
protocol logic here does no I/O of its own and tests can pass any transport.
Every answer an issuer sends is hostile input: bodies are read with the
kernel's strict, bounded JSON reader, URLs must be ``https`` (unless the
caller says ``unsafe_allow_http`` for a test server on 127.0.0.1), and every
refusal surfaces as an :class:`~ssi_wallet.oid4vci.errors.IssuerResponseError`
carrying the issuer's ``error`` code.

The flows (``docs/openid4vci.md`` draws them):

1. resolve the offer (by value, or fetch ``credential_offer_uri``);
2. fetch the Credential Issuer metadata and the Authorization Server metadata;
3. get an access token: the pre-authorized code (with the Transaction Code the
   person types), or the authorization code flow (PAR, the user agent at the
   authorization endpoint, PKCE S256);
4. per offered configuration: a ``c_nonce``, one key proof per key (a batch is
   several keys, each bound to one credential), the Credential Request;
5. store the credentials in the :class:`~ssi_wallet.holder.Holder` (verified
   first) and notify the issuer (``credential_accepted`` or ``credential_failure``);
   a deferred answer becomes a :class:`PendingCredential` to fetch later.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from credentials.oauth import code_challenge, create_dpop_proof, make_code_verifier
from did_methods._wire.dates import Clock, read_clock, system_clock
from did_methods._wire.json import loads
from did_methods.errors import SSIWalletError
from did_methods.http import HttpFetcher, HttpResponse
from did_methods.keys import KeyType, PrivateKey, PublicKey
from did_methods.resolver import Resolver
from ssi_wallet.holder import Holder, StoredCredential, did_names_key
from ssi_wallet.oid4vci.attestation import KeyAttester
from ssi_wallet.oid4vci.encryption import (
    ENCRYPTION_ALG,
    ENCRYPTION_ENCS,
    JWT_MEDIA_TYPE,
    EncryptionParameters,
    choose_request_key,
    decrypt_message,
    encrypt_message,
    response_encryption_request,
)
from ssi_wallet.oid4vci.errors import IssuerResponseError, OID4VCIError, _ascii_description
from ssi_wallet.oid4vci.metadata import (
    MAX_METADATA_BYTES,
    MAX_OFFER_BYTES,
    PRE_AUTHORIZED_CODE,
    CredentialOfferData,
    parse_issuer_metadata,
    parse_offer,
    parse_offer_uri,
    read_offer,
    well_known_url,
)
from ssi_wallet.oid4vci.proofs import make_di_vp_proof, make_jwt_proof
from ssi_wallet.oid4vci.signed_metadata import verify_signed_metadata

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "PendingCredential",
    "ReceiveResult",
    "ResolvedOffer",
    "Transport",
    "WalletClient",
]

#: Largest answer body the wallet reads from an issuer endpoint (credentials included).
MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024
#: Most credentials one Credential Request asks for.
MAX_BATCH: Final = 32
_JSON: Final = "application/json"


class Transport(Protocol):
    """Makes one HTTP request; never follows a redirect; bounds time and size.

    :class:`~did_methods.http.HttpFetcher` is one (the default): ``https``
    only, public addresses only, one deadline, a body cap, no redirects unless
    asked. Raises an :class:`~did_methods.errors.SSIWalletError` when the
    request cannot complete (refused address, timeout, body over ``max_bytes``).
    """

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> HttpResponse: ...


@dataclass(frozen=True, slots=True)
class ResolvedOffer:
    """An offer with what the wallet learnt about its issuer: both metadata documents."""

    offer: CredentialOfferData
    issuer_metadata: Mapping[str, Any]
    authorization_server: str
    server_metadata: Mapping[str, Any]
    #: Whether the issuer metadata came signed, by a signer the wallet trusts.
    metadata_signed: bool = False

    def configuration(self, configuration_id: str) -> Mapping[str, Any]:
        """The issuer's metadata of one offered configuration."""
        found = self.issuer_metadata["credential_configurations_supported"].get(configuration_id)
        if not isinstance(found, Mapping):
            raise OID4VCIError(
                "invalid_credential_offer",
                f"the issuer's metadata has no configuration {configuration_id[:80]!r}",
            )
        return found


@dataclass(slots=True)
class PendingCredential:
    """A deferred credential: ask ``endpoint`` again with ``transaction_id`` after ``interval``."""

    configuration_id: str
    transaction_id: str
    interval: float
    endpoint: str
    access_token: str
    keys: list[PrivateKey]
    notification_endpoint: str | None
    dpop_key: PrivateKey | None = None


@dataclass(slots=True)
class ReceiveResult:
    """What :meth:`WalletClient.receive` got: ``stored`` credentials and ``pending`` ones."""

    stored: list[StoredCredential] = field(default_factory=list)
    pending: list[PendingCredential] = field(default_factory=list)
    notification_ids: list[str] = field(default_factory=list)


TxCode = str | Callable[[Mapping[str, Any]], str] | None
Authorize = Callable[[str], str]


class WalletClient:
    """Receives credentials over OpenID4VCI into ``holder``.

    ``transport`` defaults to :class:`~did_methods.http.HttpFetcher` (https,
    public addresses, bounded). ``client_id`` and ``redirect_uri`` identify the
    wallet to authorization servers (authorization code flow); ``unsafe_allow_http`` lets it talk to
    ``http`` URLs (test servers on 127.0.0.1 only); ``key_type`` is the type of
    the fresh keys a batch binds; ``clock`` gives key proofs their ``iat``.
    ``language`` goes to the issuer as ``Accept-Language`` (display names).
    With ``use_dpop`` (the default) the access token is bound to a fresh key by
    DPoP (RFC 9449) whenever the authorization server offers it.
    Credential Requests and Responses are encrypted (OpenID4VCI section 10)
    when the issuer requires it, and with ``encrypt`` whenever it supports it.
    ``proof_type`` picks the key proof (``jwt`` by default, ``di_vp``, or
    ``attestation``); ``key_attester`` (a
    :class:`~ssi_wallet.oid4vci.attestation.KeyAttester`, the Wallet Provider)
    attests the keys when the issuer requires key attestations or the
    ``attestation`` proof type is chosen. Signed issuer metadata is asked for
    and verified with ``metadata_keys`` (Credential Issuer Identifier -> its
    pinned signing key), ``metadata_dids`` (identifier -> the issuer's DID: the
    ``kid`` must be one of its keys, resolved by ``resolver``, e.g. the
    ledger's) or ``metadata_trust_anchors`` (X.509 roots: an ``x5c`` chain whose
    leaf names the issuer's host); ``require_signed_metadata`` refuses unsigned
    metadata.
    """

    def __init__(
        self,
        holder: Holder,
        transport: Transport | None = None,
        *,
        client_id: str = "ssi-wallet",
        redirect_uri: str = "https://wallet.ssi-wallet.invalid/callback",
        unsafe_allow_http: bool = False,
        key_type: KeyType = KeyType.P256,
        use_dpop: bool = True,
        dpop_key_type: KeyType = KeyType.P256,
        language: str = "en",
        clock: Clock = system_clock,
        encrypt: bool = False,
        proof_type: str | None = None,
        key_attester: KeyAttester | None = None,
        metadata_keys: Mapping[str, PublicKey] | None = None,
        metadata_trust_anchors: Sequence[x509.Certificate] = (),
        require_signed_metadata: bool = False,
        metadata_dids: Mapping[str, str] | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.holder = holder
        self.transport: Transport = HttpFetcher() if transport is None else transport
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.unsafe_allow_http = unsafe_allow_http
        self.key_type = key_type
        self.use_dpop = use_dpop
        self.language = language
        self._dpop_nonces: dict[str, str] = {}  # origin -> the last DPoP-Nonce it gave
        self.dpop_key_type = dpop_key_type
        self._clock = clock
        self.encrypt = encrypt
        if proof_type not in (None, "jwt", "di_vp", "attestation"):
            raise OID4VCIError("invalid_request", "proof_type is jwt, di_vp or attestation")
        self.proof_type = proof_type
        self.key_attester = key_attester
        self.metadata_keys = dict(metadata_keys or {})
        self.metadata_trust_anchors = tuple(metadata_trust_anchors)
        self.require_signed_metadata = require_signed_metadata
        self.metadata_dids = dict(metadata_dids or {})
        self.resolver = resolver if resolver is not None else Resolver.default()

    # -- HTTP, checked --------------------------------------------------------------------

    def _check_url(self, url: Any, what: str) -> str:
        if not isinstance(url, str) or len(url) > 4096:
            raise IssuerResponseError("invalid_response", f"{what} is not a URL")
        parts = urlsplit(url)
        allowed = ("https", "http") if self.unsafe_allow_http else ("https",)
        if parts.scheme not in allowed or not parts.netloc or parts.fragment:
            raise IssuerResponseError(
                "invalid_response", f"{what} must be an https URL without a fragment"
            )
        return url

    def _call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        form: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        jwt_body: str | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> HttpResponse:
        sent: dict[str, str] = {"Accept": _JSON, **(headers or {})}
        body: bytes | None = None
        if jwt_body is not None:  # an encrypted request (OpenID4VCI section 10)
            body = jwt_body.encode("ascii")
            sent["Content-Type"] = JWT_MEDIA_TYPE
        elif form is not None:
            body = urlencode(form).encode("ascii")
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
            sent["Content-Type"] = _JSON
        try:
            response = self.transport.request(
                method, self._check_url(url, what), headers=sent, body=body, max_bytes=max_bytes
            )
        except IssuerResponseError:
            raise
        except SSIWalletError as exc:
            raise IssuerResponseError("transport", f"{what}: {exc}") from exc
        if response.status >= 400:
            error = self._error(response, what)
            nonce = response.headers.get("dpop-nonce")
            if nonce and len(nonce) <= 2048:
                error.dpop_nonce = nonce
            raise error
        return response

    def _error(self, response: HttpResponse, what: str) -> IssuerResponseError:
        code, description = "http_error", f"{what} answered HTTP {response.status}"
        try:
            body = loads(response.body, what="an error response", max_bytes=65536, max_depth=4)
        except SSIWalletError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        # RFC 6749 5.2: an error code is printable ASCII without '"' and '\\'; another
        # (control characters, bidi overrides) is not the issuer's to name ours with
        if isinstance(body, dict) and isinstance(error, str) and error:
            code = error[:64] if _ascii_description(error) == error else "invalid_response"
            detail = body.get("error_description")
            if isinstance(detail, str):
                description = f"{what}: {detail}"
        return IssuerResponseError(code, description, status=response.status)

    @staticmethod
    def _json(response: HttpResponse, what: str, limit: int = MAX_RESPONSE_BYTES) -> dict[str, Any]:
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != _JSON:
            raise IssuerResponseError("invalid_response", f"{what} is not application/json")
        try:
            value = loads(response.body, what=what, max_bytes=limit, max_depth=32)
        except SSIWalletError as exc:
            raise IssuerResponseError("invalid_response", f"{what}: {exc}") from exc
        if not isinstance(value, dict):
            raise IssuerResponseError("invalid_response", f"{what} must be a JSON object")
        return value

    # -- step 1 and 2: the offer and the metadata -------------------------------------------

    def resolve_offer(self, uri: str) -> ResolvedOffer:
        """Read an offer URI (fetching a ``credential_offer_uri``) and the issuer's metadata."""
        by_value, reference = parse_offer_uri(uri)
        if reference is not None:
            answer = self._call(
                "GET", reference, what="the credential offer URI", max_bytes=MAX_OFFER_BYTES
            )
            by_value = parse_offer(self._json(answer, "the credential offer", MAX_OFFER_BYTES))
        assert by_value is not None
        offer = read_offer(by_value)
        identifier = self._check_url(offer.credential_issuer, "credential_issuer")
        metadata, signed = self._issuer_metadata(identifier)
        server = metadata.get("authorization_servers", [identifier])[0]
        answer = self._call(
            "GET",
            well_known_url(
                self._check_url(server, "the authorization server"), "oauth-authorization-server"
            ),
            what="the authorization server metadata",
            max_bytes=MAX_METADATA_BYTES,
        )
        server_metadata = self._json(
            answer, "the authorization server metadata", MAX_METADATA_BYTES
        )
        if server_metadata.get("issuer") != server:  # RFC 8414 3.3
            raise IssuerResponseError(
                "invalid_response", "the authorization server metadata names another issuer"
            )
        resolved = ResolvedOffer(offer, metadata, server, server_metadata, signed)
        for cid in offer.credential_configuration_ids:
            resolved.configuration(cid)
        return resolved

    def _issuer_metadata(self, identifier: str) -> tuple[dict[str, Any], bool]:
        """Fetch and read the issuer metadata; whether it came signed (and verified).

        Signed metadata (section 12.2.3) is asked for (``Accept:
        application/jwt``) when we can trust a signer: a key pinned for this
        issuer in ``metadata_keys`` or a DID in ``metadata_dids`` (then unsigned
        metadata is refused: a stripped signature is a downgrade), or
        ``metadata_trust_anchors`` for an
        ``x5c`` chain naming the issuer's host. Signed metadata we did not ask
        for, and unsigned metadata with ``require_signed_metadata``, are refused
        (``invalid_issuer_metadata``).
        """
        pinned = self.metadata_keys.get(identifier)
        trusted_did = self.metadata_dids.get(identifier)
        insist = pinned is not None or trusted_did is not None
        wanted = insist or bool(self.metadata_trust_anchors)
        answer = self._call(
            "GET",
            well_known_url(identifier, "openid-credential-issuer"),
            what="the credential issuer metadata",
            max_bytes=MAX_METADATA_BYTES,
            headers={
                "Accept-Language": self.language,
                "Accept": f"{JWT_MEDIA_TYPE}, {_JSON};q=0.5" if wanted else _JSON,
            },
        )
        media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == JWT_MEDIA_TYPE:
            if not wanted:
                raise IssuerResponseError(
                    "invalid_issuer_metadata", "signed metadata by a signer we have no trust in"
                )
            try:
                text = answer.body.decode("ascii").strip()
            except UnicodeDecodeError as exc:
                raise IssuerResponseError(
                    "invalid_issuer_metadata", "signed metadata is not a compact JWT"
                ) from exc
            try:
                verified = verify_signed_metadata(
                    text,
                    identifier,
                    now=read_clock(self._clock),
                    pinned=pinned,
                    trust_anchors=self.metadata_trust_anchors,
                    trusted_did=trusted_did,
                    resolver=self.resolver,
                )
            except OID4VCIError as exc:
                raise IssuerResponseError(exc.code, exc.description) from exc
            return verified, True
        if insist or self.require_signed_metadata:
            raise IssuerResponseError(
                "invalid_issuer_metadata",
                "the issuer's metadata came unsigned; we require it signed",
            )
        body = self._json(answer, "the credential issuer metadata", MAX_METADATA_BYTES)
        return parse_issuer_metadata(body, identifier), False

    # -- step 3: the access token -----------------------------------------------------------

    def _token_endpoint(self, resolved: ResolvedOffer) -> str:
        return self._check_url(resolved.server_metadata.get("token_endpoint"), "token_endpoint")

    def pre_authorized_token(self, resolved: ResolvedOffer, tx_code: TxCode) -> dict[str, Any]:
        """Exchange the offer's pre-authorized code (and Transaction Code) for an access token."""
        offer = resolved.offer
        if offer.pre_authorized_code is None:
            raise OID4VCIError("invalid_credential_offer", "the offer has no pre-authorized code")
        form = {"grant_type": PRE_AUTHORIZED_CODE, "pre-authorized_code": offer.pre_authorized_code}
        if offer.tx_code is not None:
            value = tx_code(offer.tx_code) if callable(tx_code) else tx_code
            if not isinstance(value, str) or not value:
                raise OID4VCIError("invalid_request", "this offer needs a Transaction Code")
            form["tx_code"] = value
        return self._token_request(resolved, form, self._new_dpop_key(resolved))

    def _new_dpop_key(self, resolved: ResolvedOffer) -> PrivateKey | None:
        """A fresh DPoP key when we use DPoP and the server offers our algorithm, else None."""
        algs = resolved.server_metadata.get("dpop_signing_alg_values_supported") or []
        if self.use_dpop and isinstance(algs, list) and self.dpop_key_type.jws_alg in algs:
            return PrivateKey.generate(self.dpop_key_type)
        return None

    def _token_request(
        self, resolved: ResolvedOffer, form: Mapping[str, str], dpop_key: PrivateKey | None
    ) -> dict[str, Any]:
        """POST to the token endpoint; with a DPoP proof by ``dpop_key`` if any (RFC 9449)."""
        url = self._token_endpoint(resolved)
        answer = self._with_dpop(dpop_key, "POST", url, None, what="the token endpoint", form=form)
        token = self._json(answer, "the token response", 65536)
        if not isinstance(token.get("access_token"), str) or not token["access_token"]:
            raise IssuerResponseError("invalid_response", "the token response has no access_token")
        kind = str(token.get("token_type", "")).lower()
        if kind not in ("bearer", "dpop") or (kind == "dpop") != (dpop_key is not None):
            raise IssuerResponseError("invalid_response", "unexpected token_type")
        if dpop_key is not None:
            token["_dpop_key"] = dpop_key
        return token

    def _with_dpop(
        self,
        key: PrivateKey | None,
        method: str,
        url: str,
        access_token: str | None,
        *,
        what: str,
        form: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        jwt_body: str | None = None,
    ) -> HttpResponse:
        """One request, with a DPoP proof when ``key``; once more with the server's
        ``DPoP-Nonce`` when it answers ``use_dpop_nonce`` (RFC 9449 8, 9). The last
        nonce each server gave is sent with the next proof to it."""
        headers: dict[str, str] = {}
        if access_token is not None:
            scheme = "DPoP" if key is not None else "Bearer"
            headers["Authorization"] = f"{scheme} {access_token}"
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        nonce = self._dpop_nonces.get(origin)
        for attempt in (1, 2):
            if key is not None:
                headers["DPoP"] = create_dpop_proof(
                    key,
                    htm=method,
                    htu=url,
                    access_token=access_token,
                    nonce=nonce,
                    now=read_clock(self._clock),
                )
            try:
                answer = self._call(
                    method,
                    url,
                    what=what,
                    form=form,
                    json_body=json_body,
                    jwt_body=jwt_body,
                    headers=headers,
                )
            except IssuerResponseError as exc:
                fresh = exc.dpop_nonce
                if key is None or exc.code != "use_dpop_nonce" or attempt == 2 or not fresh:
                    raise
                nonce = self._remember_nonce(origin, fresh)
                continue
            given = answer.headers.get("dpop-nonce")
            if key is not None and given and len(given) <= 2048:
                self._remember_nonce(origin, given)
            return answer
        raise AssertionError("unreachable")

    def _remember_nonce(self, origin: str, nonce: str) -> str:
        if len(self._dpop_nonces) >= 16 and origin not in self._dpop_nonces:
            self._dpop_nonces.clear()  # a wallet talks to few servers: keep it small
        self._dpop_nonces[origin] = nonce
        return nonce

    # -- step 4 and 5: credentials ----------------------------------------------------------

    def receive(
        self,
        uri: str,
        *,
        tx_code: TxCode = None,
        batch: int = 1,
        authorize: Authorize | None = None,
        configuration_ids: Sequence[str] | None = None,
    ) -> ReceiveResult:
        """Run the whole flow for an offer URI; store what is issued in the holder.

        ``tx_code`` is the Transaction Code (or a function of the offer's
        ``tx_code`` description returning it); ``batch`` asks for that many
        instances of each credential, each bound to a fresh key of its own
        (kept in the wallet with it, so no two credentials share a key);
        ``authorize`` drives the
        user agent in the authorization code flow (given the authorization URL,
        it returns the URL the authorization server redirected to).
        ``configuration_ids`` picks some of the offered configurations.
        Raises :class:`IssuerResponseError` when the issuer refuses and
        :class:`OID4VCIError` when the offer or the answers are unusable.
        """
        resolved = self.resolve_offer(uri)
        wanted = list(configuration_ids or resolved.offer.credential_configuration_ids)
        for cid in wanted:
            if cid not in resolved.offer.credential_configuration_ids:
                raise OID4VCIError("invalid_request", f"{cid[:80]!r} was not offered")
        if resolved.offer.pre_authorized_code is not None:
            token = self.pre_authorized_token(resolved, tx_code)
        elif authorize is not None and resolved.offer.authorization_code:
            token = self.authorization_code_token(resolved, wanted, authorize)
        else:
            raise OID4VCIError(
                "invalid_request", "the offer needs the authorization code flow: pass authorize"
            )
        result = ReceiveResult()
        for cid in wanted:
            self._request_credential(resolved, token, cid, batch, result)
        return result

    def authorization_code_token(
        self, resolved: ResolvedOffer, configuration_ids: Sequence[str], authorize: Authorize
    ) -> dict[str, Any]:
        """The authorization code flow: PAR, the user agent, the code exchange with PKCE.

        1. push the authorization request (RFC 9126) with a PKCE S256 challenge
           (RFC 7636), ``authorization_details`` naming the configurations, a
           fresh ``state`` and the offer's ``issuer_state``;
        2. hand the authorization URL (``client_id`` and ``request_uri``) to
           ``authorize``, which returns where the server redirected to;
        3. check that redirect: our ``redirect_uri``, our ``state``, the
           server's ``iss`` (RFC 9207), no ``error``;
        4. exchange the code with the ``code_verifier`` at the token endpoint.

        When the server does DPoP, one fresh DPoP key serves the whole flow: a DPoP
        proof goes with the pushed request (``dpop_jkt`` in a request without PAR),
        binding the code to that key (RFC 9449 sections 10 and 10.1), and the token
        request proves the same key.
        """
        server = resolved.server_metadata
        par = server.get("pushed_authorization_request_endpoint")
        endpoint = self._check_url(server.get("authorization_endpoint"), "authorization_endpoint")
        if "S256" not in (server.get("code_challenge_methods_supported") or []):
            raise IssuerResponseError("invalid_response", "the server does not offer PKCE S256")
        verifier = make_code_verifier()
        state = make_code_verifier()[:32]
        details: list[dict[str, Any]] = [
            {"type": "openid_credential", "credential_configuration_id": cid}
            for cid in configuration_ids
        ]
        if resolved.issuer_metadata.get("authorization_servers"):
            for item in details:
                item["locations"] = [resolved.offer.credential_issuer]
        request = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": code_challenge(verifier),
            "code_challenge_method": "S256",
            "authorization_details": json.dumps(details, separators=(",", ":")),
            "state": state,
        }
        if resolved.offer.issuer_state is not None:
            request["issuer_state"] = resolved.offer.issuer_state
        dpop_key = self._new_dpop_key(resolved)
        # 1.
        if isinstance(par, str):
            par = self._check_url(par, "pushed_authorization_request_endpoint")
            what = "the pushed authorization request endpoint"
            answer = self._with_dpop(dpop_key, "POST", par, None, what=what, form=request)
            pushed = self._json(answer, "the PAR response", 65536)
            request_uri = pushed.get("request_uri")
            if not isinstance(request_uri, str) or not request_uri:
                raise IssuerResponseError("invalid_response", "the PAR response has no request_uri")
            query = {"client_id": self.client_id, "request_uri": request_uri}
        elif server.get("require_pushed_authorization_requests"):
            raise IssuerResponseError("invalid_response", "PAR is required but has no endpoint")
        else:
            query = request
            if dpop_key is not None:
                query["dpop_jkt"] = dpop_key.public_key.jwk_thumbprint()
        # 2.
        joiner = "&" if urlsplit(endpoint).query else "?"
        redirected = authorize(endpoint + joiner + urlencode(query))
        # 3.
        code = self._authorization_response(redirected, state, resolved)
        # 4.
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
        }
        return self._token_request(resolved, form, dpop_key)

    def _authorization_response(self, redirected: str, state: str, resolved: ResolvedOffer) -> str:
        if not isinstance(redirected, str) or len(redirected) > 8192:
            raise IssuerResponseError("invalid_response", "no authorization response")
        expected = urlsplit(self.redirect_uri)
        got = urlsplit(redirected)
        if (got.scheme, got.netloc, got.path) != (expected.scheme, expected.netloc, expected.path):
            raise IssuerResponseError("invalid_response", "redirected somewhere else than ours")
        try:
            pairs = parse_qsl(got.query, strict_parsing=True, max_num_fields=16)
        except ValueError as exc:
            raise IssuerResponseError("invalid_response", f"unreadable redirect: {exc}") from exc
        params = dict(pairs)
        if len(params) != len(pairs):
            raise IssuerResponseError("invalid_response", "the redirect repeats a parameter")
        if params.get("state") != state:
            raise IssuerResponseError("invalid_response", "the redirect's state is not ours")
        issuer = params.get("iss")
        wants_iss = resolved.server_metadata.get("authorization_response_iss_parameter_supported")
        if (issuer is not None or wants_iss) and issuer != resolved.authorization_server:
            # RFC 9207: the mix-up defence
            raise IssuerResponseError("invalid_response", "the redirect's iss is not the server")
        if "error" in params:
            raise IssuerResponseError(params["error"][:64], params.get("error_description", ""))
        code = params.get("code")
        if not code:
            raise IssuerResponseError("invalid_response", "the redirect carries no code")
        return code

    def _keys(self, batch: int) -> list[PrivateKey]:
        if not 1 <= batch <= MAX_BATCH:
            raise OID4VCIError("invalid_request", f"batch must be between 1 and {MAX_BATCH}")
        return [PrivateKey.generate(self.key_type) for _ in range(batch)]

    def _nonce(self, resolved: ResolvedOffer) -> str | None:
        endpoint = resolved.issuer_metadata.get("nonce_endpoint")
        if endpoint is None:
            return None
        answer = self._call("POST", endpoint, what="the nonce endpoint")
        nonce = self._json(answer, "the nonce response", 4096).get("c_nonce")
        if not isinstance(nonce, str) or not nonce:
            raise IssuerResponseError("invalid_response", "the nonce response has no c_nonce")
        return nonce

    def _request_credential(
        self,
        resolved: ResolvedOffer,
        token: Mapping[str, Any],
        cid: str,
        batch: int,
        result: ReceiveResult,
    ) -> None:
        metadata = resolved.issuer_metadata
        limit = metadata.get("batch_credential_issuance", {}).get("batch_size", 1)
        if batch > limit:
            raise OID4VCIError("invalid_request", f"this issuer issues at most {limit} at once")
        kind, attest = self._proof_kind(resolved.configuration(cid))
        keys = self._keys(batch)
        nonce = self._nonce(resolved)
        body: dict[str, Any] = {"proofs": self._proofs(resolved, kind, attest, keys, nonce)}
        credential_identifier = _identifier_for(token, cid)
        if credential_identifier is not None:
            body["credential_identifier"] = credential_identifier
        else:
            body["credential_configuration_id"] = cid
        endpoint = metadata["credential_endpoint"]
        status, answer = self._credential_call(
            resolved, token, endpoint, body, "the credential endpoint"
        )
        self._take(status, answer, resolved, token, cid, keys, result)

    def _proof_kind(self, configuration: Mapping[str, Any]) -> tuple[str, bool]:
        """The proof type to send for a configuration, and whether it needs a key attestation.

        ``proof_type`` when the wallet was given one (the issuer must list it);
        otherwise ``jwt``. A ``key_attestations_required`` makes the proof
        carry an attestation from ``key_attester`` (none: ``invalid_request``).
        """
        supported = configuration.get("proof_types_supported")
        if supported is None:
            supported = {"jwt": {}}
        if not isinstance(supported, Mapping):
            raise IssuerResponseError("invalid_response", "proof_types_supported is not an object")
        kind = self.proof_type or "jwt"
        if kind not in supported:
            raise OID4VCIError(
                "invalid_request", f"the issuer takes no {kind} proofs for this credential"
            )
        entry = supported[kind]
        attest = kind == "attestation" or (
            isinstance(entry, Mapping) and entry.get("key_attestations_required") is not None
        )
        if attest and self.key_attester is None:
            raise OID4VCIError(
                "invalid_request",
                "the issuer requires key attestations: give the wallet a key_attester",
            )
        return kind, attest

    def _proofs(
        self,
        resolved: ResolvedOffer,
        kind: str,
        attest: bool,
        keys: Sequence[PrivateKey],
        nonce: str | None,
    ) -> dict[str, list[Any]]:
        """The ``proofs`` object: one proof per key, or one attestation naming them all.

        With an attestation in a ``jwt`` proof, one proof (by the first key)
        carries it, and the issuer binds a credential to each attested key (F.1).
        """
        identifier = resolved.offer.credential_issuer
        anonymous = resolved.offer.pre_authorized_code is not None
        now = read_clock(self._clock)
        attestation = None
        if attest:
            assert self.key_attester is not None
            attestation = self.key_attester.attest(
                [k.public_key for k in keys], nonce=nonce, now=now
            )
        if kind == "attestation":
            return {"attestation": [attestation]}
        if kind == "di_vp":
            return {
                "di_vp": [
                    make_di_vp_proof(key, audience=identifier, nonce=nonce, now=now) for key in keys
                ]
            }
        signers = keys[:1] if attestation is not None else keys
        return {
            kind: [
                make_jwt_proof(
                    key,
                    audience=identifier,
                    nonce=nonce,
                    now=now,
                    client_id=None if anonymous else self.client_id,
                    key_attestation=attestation,
                )
                for key in signers
            ]
        }

    def _protected(
        self, token: Mapping[str, Any], url: str, body: Mapping[str, Any], what: str
    ) -> HttpResponse:
        """A POST to a protected endpoint with the access token (and DPoP when bound)."""
        return self._with_dpop(
            token.get("_dpop_key"), "POST", url, token["access_token"], what=what, json_body=body
        )

    def _credential_call(
        self,
        resolved: ResolvedOffer,
        token: Mapping[str, Any],
        url: str,
        body: Mapping[str, Any],
        what: str,
    ) -> tuple[int, dict[str, Any]]:
        """POST a (deferred) Credential Request; the answer's status and JSON object.

        Encryption (section 10): the request is encrypted to the issuer's
        published key when it requires that, when we ask for an encrypted
        response or, with ``encrypt``, whenever it can be. The response is
        asked encrypted, to a fresh key, when the issuer requires it or (with
        ``encrypt``) supports it, and only inside an encrypted request (8.2:
        so our key cannot be swapped): an issuer that requires encrypted
        responses but publishes no ``credential_request_encryption`` is
        refused (``invalid_issuer_metadata``). An answer sent clear where we
        asked for encryption, or encrypted where we did not, is refused
        (``invalid_response``).
        """
        metadata = resolved.issuer_metadata
        sent = dict(body)
        response_required, response_enc = False, ""
        offered = metadata.get("credential_response_encryption")
        if offered is not None:
            response_required, response_enc = _response_encryption_offer(offered)
        ask_response = bool(response_enc) and (response_required or self.encrypt)
        request_key: tuple[PublicKey, str, str] | None = None
        accepts = metadata.get("credential_request_encryption")
        if accepts is not None:
            required = isinstance(accepts, Mapping) and accepts.get("encryption_required") is True
            if required or self.encrypt or ask_response:
                request_key = choose_request_key(accepts)
        if ask_response and request_key is None:
            if response_required:
                raise OID4VCIError(
                    "invalid_issuer_metadata",
                    "the issuer requires encrypted responses but publishes no"
                    " credential_request_encryption: our response key cannot travel in a"
                    " clear request (OpenID4VCI 8.2)",
                )
            ask_response = False  # only ``encrypt`` asked: no response key in clear
        response_key: tuple[PrivateKey, str, str] | None = None
        if ask_response:
            key = PrivateKey.generate(KeyType.P256)
            kid = make_code_verifier()[:22]
            sent["credential_response_encryption"] = response_encryption_request(
                key, response_enc, kid=kid
            )
            response_key = (key, kid, response_enc)
        jwt_body: str | None = None
        if request_key is not None:
            public, kid, enc = request_key
            jwt_body = encrypt_message(sent, EncryptionParameters(public, enc, kid))
        answer = self._with_dpop(
            token.get("_dpop_key"),
            "POST",
            url,
            token["access_token"],
            what=what,
            json_body=None if jwt_body is not None else sent,
            jwt_body=jwt_body,
        )
        media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        if response_key is None:
            if media == JWT_MEDIA_TYPE:
                raise IssuerResponseError(
                    "invalid_response", f"{what} answered encrypted, which we did not ask for"
                )
            return answer.status, self._json(answer, what)
        if media != JWT_MEDIA_TYPE:
            raise IssuerResponseError(
                "invalid_response", f"{what} answered in clear though we asked for encryption"
            )
        key, kid, enc = response_key
        try:
            text = answer.body.decode("ascii").strip()
            opened = decrypt_message(
                text,
                key,
                kid=kid,
                encs=(enc,),
                max_length=MAX_RESPONSE_BYTES,
                code="invalid_response",
            )
        except UnicodeDecodeError as exc:
            raise IssuerResponseError("invalid_response", f"{what} is not a compact JWE") from exc
        except OID4VCIError as exc:
            raise IssuerResponseError(exc.code, f"{what}: {exc.description}") from exc
        return answer.status, opened

    def _take(
        self,
        status: int,
        body: dict[str, Any],
        resolved: ResolvedOffer,
        token: Mapping[str, Any],
        cid: str,
        keys: list[PrivateKey],
        result: ReceiveResult,
    ) -> None:
        notify = resolved.issuer_metadata.get("notification_endpoint")
        if status == 202 or "transaction_id" in body:
            tid = body.get("transaction_id")
            interval = body.get("interval")
            if not isinstance(tid, str) or not tid or not isinstance(interval, int | float):
                raise IssuerResponseError(
                    "invalid_response", "a deferred answer needs transaction_id and interval"
                )
            endpoint = resolved.issuer_metadata.get("deferred_credential_endpoint")
            if not isinstance(endpoint, str):
                raise IssuerResponseError("invalid_response", "no deferred_credential_endpoint")
            result.pending.append(
                PendingCredential(
                    cid,
                    tid,
                    float(interval),
                    endpoint,
                    token["access_token"],
                    keys,
                    notify,
                    token.get("_dpop_key"),
                )
            )
            return
        credentials = body.get("credentials")
        if not isinstance(credentials, list) or not credentials or len(credentials) > len(keys):
            raise IssuerResponseError(
                "invalid_response", "credentials must be a non-empty array, one per key at most"
            )
        values: list[Any] = []
        for item in credentials:
            if not isinstance(item, dict) or not isinstance(item.get("credential"), str | dict):
                raise IssuerResponseError(
                    "invalid_response", "each credential is an object holding a credential"
                )
            values.append(item["credential"])
        notification_id = body.get("notification_id")
        bound = _match_keys(values, keys)
        try:
            stored = self.holder.store_many(values, keys=bound)
        except SSIWalletError as exc:
            if isinstance(notification_id, str) and notify:
                self._notify(
                    notify,
                    token,
                    notification_id,
                    "credential_failure",
                    "the wallet could not verify or store the credentials",
                )
            raise OID4VCIError("credential_rejected", f"not stored: {exc}") from exc
        result.stored.extend(stored)
        if isinstance(notification_id, str) and notify:
            self._notify(notify, token, notification_id, "credential_accepted", None)
            result.notification_ids.append(notification_id)

    def _notify(
        self,
        endpoint: str,
        token: Mapping[str, Any],
        notification_id: str,
        event: str,
        description: str | None,
    ) -> None:
        body = {"notification_id": notification_id, "event": event}
        if description:
            body["event_description"] = description
        self._protected(token, endpoint, body, "the notification endpoint")

    def fetch_deferred(self, pending: PendingCredential, resolved: ResolvedOffer) -> ReceiveResult:
        """Ask the Deferred Credential Endpoint once; the result holds the credentials or, still
        deferred, the same pending credential."""
        token = {"access_token": pending.access_token, "_dpop_key": pending.dpop_key}
        status, answer = self._credential_call(
            resolved,
            token,
            pending.endpoint,
            {"transaction_id": pending.transaction_id},
            "the deferred credential endpoint",
        )
        result = ReceiveResult()
        self._take(status, answer, resolved, token, pending.configuration_id, pending.keys, result)
        return result


def _response_encryption_offer(offered: Any) -> tuple[bool, str]:
    """Whether the issuer requires encrypted responses, and the ``enc`` we would ask for.

    Reads ``credential_response_encryption`` of the issuer metadata (hostile):
    ``ECDH-ES`` must be among ``alg_values_supported`` and one of our ``enc``
    values among ``enc_values_supported``; otherwise, if the issuer requires
    encryption, we cannot talk to it (``invalid_issuer_metadata``).
    """
    if not isinstance(offered, Mapping):
        raise OID4VCIError(
            "invalid_issuer_metadata", "credential_response_encryption must be an object"
        )
    required = offered.get("encryption_required") is True
    algs = offered.get("alg_values_supported")
    encs = offered.get("enc_values_supported")
    enc = None
    if isinstance(algs, list) and ENCRYPTION_ALG in algs and isinstance(encs, list):
        enc = next((e for e in ENCRYPTION_ENCS if e in encs), None)
    if enc is None:
        if required:
            raise OID4VCIError(
                "invalid_issuer_metadata",
                "the issuer requires response encryption with no alg/enc we implement",
            )
        return False, ""
    return required, enc


def _identifier_for(token: Mapping[str, Any], cid: str) -> str | None:
    """The ``credential_identifier`` the token response gave for ``cid``, if it gave any."""
    details = token.get("authorization_details")
    if not isinstance(details, list):
        return None
    for item in details:
        if isinstance(item, dict) and item.get("credential_configuration_id") == cid:
            ids = item.get("credential_identifiers")
            if isinstance(ids, list) and ids and isinstance(ids[0], str):
                return ids[0]
    return None


def _match_keys(values: Sequence[Any], keys: Sequence[PrivateKey]) -> list[PrivateKey | None]:
    """Which of our keys each issued credential is bound to (issuers may reorder or drop some).

    An SD-JWT VC names its key in ``cnf.jwk``; a W3C credential by its subject's
    ``did:key`` or ``did:jwk`` (a VC Data Model 1.1 JWT by its ``sub``). A
    credential bound to none of our keys is refused.
    """
    from credentials.sd_jwt import SdJwt
    from did_methods.methods.key import did_key_from_public_key

    by_thumb = {k.public_key.jwk_thumbprint(): k for k in keys}
    by_did = {did_key_from_public_key(k.public_key): k for k in keys}
    out: list[PrivateKey | None] = []
    for value in values:
        key: PrivateKey | None = None
        try:
            if isinstance(value, str) and "~" in value:
                cnf = SdJwt.parse(value).unverified_payload.get("cnf", {})
                jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
                if isinstance(jwk, dict):
                    from did_methods.keys import jwk_thumbprint

                    key = by_thumb.get(jwk_thumbprint(jwk))
            else:
                document = value if isinstance(value, dict) else _jwt_claims(value)
                subject = document.get("credentialSubject", {})
                if isinstance(document.get("vc"), dict):
                    # a VC Data Model 1.1 JWT (jwt_vc_json): its sub names the subject
                    inner = document["vc"].get("credentialSubject")
                    shown = inner.get("id") if isinstance(inner, dict) else None
                    subject = {"id": document.get("sub", shown)}
                if isinstance(subject, dict):
                    named = subject.get("id")
                    key = by_did.get(str(named)) or next(
                        (k for k in keys if did_names_key(named, k.public_key)), None
                    )
        except SSIWalletError as exc:
            raise IssuerResponseError("invalid_response", f"an issued credential: {exc}") from exc
        if key is None:
            raise IssuerResponseError(
                "invalid_response", "an issued credential is bound to none of our keys"
            )
        out.append(key)
    return out


def _jwt_claims(token: str) -> dict[str, Any]:
    from credentials.jws import CompactJWS

    payload = CompactJWS.parse(token).payload
    return payload if isinstance(payload, dict) else {}
