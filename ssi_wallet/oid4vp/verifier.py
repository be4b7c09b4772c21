"""The verifier's side of OpenID4VP 1.0, sans-IO: make a request, serve its request
object, take the wallet's response, keep the decision.

An :class:`OID4VPVerifier` joins three things:

* the existing :class:`~ssi_wallet.verifier.Verifier`, whose ``audience`` is the
  ``client_id`` (prefix included): it makes the DCQL request from a policy,
  records its nonce for single use, and judges the ``vp_token`` (the one
  verification path; its :class:`~ssi_wallet.verifier.Report` is the result);
* a client identity (:class:`DIDClient`, :class:`X509SanDnsClient`,
  :class:`X509HashClient`, :class:`VerifierAttestationClient`,
  :class:`RedirectURIClient`): how the request object is signed, or not;
* a :class:`TransactionStore` (default :class:`MemoryTransactionStore`) that
  keeps each transaction from creation to decision.

A transaction goes through these steps; the HTTP adapter
(:mod:`ssi_wallet.server.oid4vp`) only moves bytes:

1. :meth:`OID4VPVerifier.create`: a fresh request (nonce, state, request id,
   for ``direct_post.jwt`` an ephemeral P-256 key), and the authorization
   request URI (``openid4vp://?client_id=...&request_uri=...``);
2. :meth:`OID4VPVerifier.request_object`: the request object (RFC 9101 JAR,
   ``typ`` ``oauth-authz-req+jwt``) fetched by GET or, when asked, POST with
   ``wallet_nonce`` echoed;
3. :meth:`OID4VPVerifier.receive`: the Authorization Response (``direct_post``:
   ``vp_token`` and ``state``; ``direct_post.jwt``: ``response``, a JWE to the
   transaction's key): the transaction is found by ``state`` (or the JWE ``kid``),
   claimed once, and the ``vp_token`` judged by the Verifier with the request's
   nonce and the ``client_id`` as audience;
4. :meth:`OID4VPVerifier.result`: the transaction's status and report.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, Protocol
from urllib.parse import urlencode, urlsplit

from credentials.jwe import decrypt_compact
from credentials.jws import dumps
from credentials.x5c import x509_hash
from did_methods._wire.b64 import b64_encode, b64url_decode
from did_methods._wire.dates import Clock, system_clock
from did_methods._wire.json import loads, loads_object
from did_methods.errors import JSONError, ParseError, UnsupportedError, VerificationError
from did_methods.keys import KeyType, PrivateKey
from ssi_wallet.oid4vp._protocol import (
    ENC_VALUES,
    MAX_RESPONSE,
    RESPONSE_MODES,
    SCHEME,
    SELF_ISSUED_AUDIENCE,
    VP_FORMATS,
    ClientId,
    encryption_key_thumbprint,
    sign_request_object,
    unsigned_request_object,
    url_safe,
)
from ssi_wallet.oid4vp.errors import OID4VPError
from ssi_wallet.policies import Policy
from ssi_wallet.request import PresentationRequest, PresentationResponse
from ssi_wallet.transaction_data import MAX_ITEMS, check_transaction_data, encode_transaction_data
from ssi_wallet.verifier import Report, Verifier

__all__ = [
    "FLOWS",
    "ClientIdentity",
    "CreatedRequest",
    "DIDClient",
    "Flow",
    "MemoryTransactionStore",
    "OID4VPVerifier",
    "RedirectURIClient",
    "ResponseAck",
    "Transaction",
    "TransactionStore",
    "VerifierAttestationClient",
    "X509HashClient",
    "X509SanDnsClient",
]

Status = Literal["pending", "checking", "answered", "wallet_error"]
ResponseMode = Literal["direct_post", "direct_post.jwt"]
RequestURIMethod = Literal["get", "post"]
#: ``same_device``: the wallet is sent back (``redirect_uri`` with a ``response_code``)
#: and the decision is released only with that code; ``cross_device``: a QR code on
#: another screen, whose page reads the decision with the transaction's result token.
Flow = Literal["cross_device", "same_device"]
FLOWS: Final = ("cross_device", "same_device")

_MAX_WALLET_METADATA: Final = 64 * 1024
_MAX_JWE_HEADER: Final = 8 * 1024


# -- client identities -------------------------------------------------------------------


class ClientIdentity(Protocol):
    """How a verifier names itself (``client_id``) and secures its request objects."""

    @property
    def client_id(self) -> str:
        """The full Client Identifier, prefix included."""
        ...

    def request_object(self, claims: Mapping[str, Any]) -> str:
        """The request object carrying ``claims``: signed, or for ``redirect_uri:`` not."""
        ...


@dataclass(frozen=True, slots=True)
class DIDClient:
    """``decentralized_identifier:<did>``: request objects signed by the key ``kid``
    (a DID URL of ``did``), which a wallet finds by resolving the DID."""

    did: str
    key: PrivateKey
    kid: str

    def __post_init__(self) -> None:
        if not self.kid.startswith(self.did + "#"):
            raise ParseError("the kid must be a DID URL of the client's DID (did#fragment)")

    @property
    def client_id(self) -> str:
        """``decentralized_identifier:`` and the DID."""
        return f"decentralized_identifier:{self.did}"

    def request_object(self, claims: Mapping[str, Any]) -> str:
        """A JWS with ``kid`` naming the verification method."""
        return sign_request_object(claims, self.key, {"kid": self.kid})


def _signed_with_x5c(claims: Mapping[str, Any], key: PrivateKey, chain: Sequence[bytes]) -> str:
    return sign_request_object(claims, key, {"x5c": [b64_encode(der) for der in chain]})


@dataclass(frozen=True, slots=True)
class X509SanDnsClient:
    """``x509_san_dns:<dns_name>``: request objects signed by the key of the leaf
    certificate of ``chain`` (DER, leaf first), sent in the ``x5c`` header; the
    leaf must carry ``dns_name`` as a dNSName SAN."""

    dns_name: str
    key: PrivateKey
    chain: tuple[bytes, ...]

    @property
    def client_id(self) -> str:
        """``x509_san_dns:`` and the DNS name."""
        return f"x509_san_dns:{self.dns_name}"

    def request_object(self, claims: Mapping[str, Any]) -> str:
        """A JWS with ``x5c`` (standard base64 DER, leaf first; RFC 7515 4.1.6)."""
        return _signed_with_x5c(claims, self.key, self.chain)


@dataclass(frozen=True, slots=True)
class X509HashClient:
    """``x509_hash:<hash>``: request objects signed by the key of the leaf certificate of
    ``chain`` (DER, leaf first), sent in ``x5c``; the client identifier is the base64url
    SHA-256 of the leaf's DER (OpenID4VP 1.0 section 5.9.3, the prefix HAIP prefers).
    Unlike ``x509_san_dns:``, the response URI may be on any host."""

    key: PrivateKey
    chain: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.chain:
            raise ParseError("an x509_hash: client needs its certificate chain (leaf first)")

    @property
    def client_id(self) -> str:
        """``x509_hash:`` and the leaf's hash."""
        return f"x509_hash:{x509_hash(self.chain[0])}"

    def request_object(self, claims: Mapping[str, Any]) -> str:
        """A JWS with ``x5c`` (standard base64 DER, leaf first; RFC 7515 4.1.6)."""
        return _signed_with_x5c(claims, self.key, self.chain)


@dataclass(frozen=True, slots=True)
class VerifierAttestationClient:
    """``verifier_attestation:<name>``: request objects signed by ``key`` and carrying, in
    the ``jwt`` JOSE header, ``attestation``: a Verifier Attestation JWT whose ``sub``
    is ``name`` and whose ``cnf.jwk`` is ``key``'s public key
    (:func:`~ssi_wallet.oid4vp.attestation.issue_verifier_attestation`). The wallet
    trusts it through the attestation's issuer."""

    name: str
    key: PrivateKey
    attestation: str

    @property
    def client_id(self) -> str:
        """``verifier_attestation:`` and the attested name."""
        return f"verifier_attestation:{self.name}"

    def request_object(self, claims: Mapping[str, Any]) -> str:
        """A JWS with the attestation in its ``jwt`` header."""
        return sign_request_object(claims, self.key, {"jwt": self.attestation})


@dataclass(frozen=True, slots=True)
class RedirectURIClient:
    """``redirect_uri:<response_uri>``: requests are never signed (nothing could verify
    them), so :meth:`OID4VPVerifier.create` puts the parameters in the link itself
    (JAR request objects are signed); the wallet posts to exactly this URI. The
    request URI still answers an unsigned (``alg`` ``none``) request object, for
    wallets that ask."""

    response_uri: str

    @property
    def client_id(self) -> str:
        """``redirect_uri:`` and the response URI."""
        return f"redirect_uri:{self.response_uri}"

    def request_object(self, claims: Mapping[str, Any]) -> str:
        """An unsigned JWT (``alg`` ``none``)."""
        return unsigned_request_object(claims)


# -- transactions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transaction:
    """One request from creation to decision.

    ``id`` is the handle the verifier's own front end reads the result with
    (never sent to the wallet); ``request_id`` names the request object in the
    request URI; ``state`` comes back in the response. ``encryption_key`` is the
    ephemeral key a ``direct_post.jwt`` response is encrypted to.
    ``result_token`` is the secret the front end that started the transaction
    holds (see :meth:`OID4VPVerifier.result`); ``response_code`` the one the
    wallet's redirect carries in a ``same_device`` ``flow``. ``sealed`` marks a
    view without the decision (:meth:`sealed_view`).
    """

    id: str
    request_id: str
    state: str
    request: PresentationRequest
    policy: Policy
    response_mode: ResponseMode
    request_uri_method: RequestURIMethod
    expires_at: int
    encryption_key: PrivateKey | None = None
    encryption_kid: str | None = None
    status: Status = "pending"
    report: Report | None = None
    wallet_error: str | None = None
    wallet_error_description: str | None = None
    response_code: str | None = None
    result_token: str = ""
    flow: Flow = "cross_device"
    sealed: bool = False
    #: The report's JSON form as it was when decided (a transaction read back from a
    #: persistent store keeps it; ``None``: ``report.to_json()``).
    report_json: Mapping[str, Any] | None = None
    #: The transaction data items sent (base64url strings), checked in the response.
    transaction_data: tuple[str, ...] = ()

    def sealed_view(self) -> Transaction:
        """This transaction without its decision (the status stays): what a front end
        without the ``response_code`` of a ``same_device`` flow may see."""
        return replace(
            self,
            report=None,
            report_json=None,
            wallet_error=None,
            wallet_error_description=None,
            sealed=True,
        )

    def to_json(self, language: str | None = None) -> dict[str, Any]:
        """The status, and once answered the decision, its explanation and the report
        (for a sealed view, ``response_code_required`` instead)."""
        out: dict[str, Any] = {"transaction_id": self.id, "status": self.status}
        if self.status == "checking":
            out["status"] = "pending"
        if self.sealed and out["status"] != "pending":
            out["response_code_required"] = True
        if self.report is not None:
            out["ok"] = self.report.ok
            out["explanation"] = self.report.explain(language)
            out["report"] = (
                dict(self.report_json) if self.report_json is not None else self.report.to_json()
            )
        if self.wallet_error is not None:
            out["error"] = self.wallet_error
            if self.wallet_error_description:
                out["error_description"] = self.wallet_error_description
        return out


class TransactionStore(Protocol):
    """Where an :class:`OID4VPVerifier` keeps its transactions."""

    def add(self, transaction: Transaction, *, now: int) -> None:
        """Keep a new transaction (its id, request id, state and kid are fresh)."""
        ...

    def find(
        self,
        *,
        id: str | None = None,
        request_id: str | None = None,
        state: str | None = None,
        kid: str | None = None,
    ) -> Transaction | None:
        """The transaction with that handle, or ``None``."""
        ...

    def transition(self, transaction_id: str, old: Status, new: Transaction) -> bool:
        """Replace the transaction by ``new`` if its status is still ``old`` (atomically);
        ``False`` when another response got there first."""
        ...


class MemoryTransactionStore:
    """Transactions in memory: one process, bounded (oldest forgotten), expiring."""

    def __init__(self, *, max_entries: int = 10_000, retention: int = 3600) -> None:
        self._lock = threading.Lock()
        self._by_id: OrderedDict[str, Transaction] = OrderedDict()
        self._index: dict[tuple[str, str], str] = {}
        self._max = max_entries
        self._retention = retention

    def __len__(self) -> int:
        return len(self._by_id)

    @staticmethod
    def _keys(t: Transaction) -> list[tuple[str, str]]:
        keys = [("request_id", t.request_id), ("state", t.state)]
        if t.encryption_kid is not None:
            keys.append(("kid", t.encryption_kid))
        return keys

    def _drop(self, t: Transaction) -> None:
        self._by_id.pop(t.id, None)
        for key in self._keys(t):
            self._index.pop(key, None)

    def add(self, transaction: Transaction, *, now: int) -> None:
        """Keep ``transaction``; forget expired ones, and the oldest beyond the bound."""
        with self._lock:
            for old in list(self._by_id.values()):
                if old.expires_at + self._retention >= now:
                    break
                self._drop(old)
            while len(self._by_id) >= self._max:
                self._drop(next(iter(self._by_id.values())))
            for key in self._keys(transaction):
                if key in self._index:
                    raise ParseError(f"{key[0]} already in use")
            self._by_id[transaction.id] = transaction
            for key in self._keys(transaction):
                self._index[key] = transaction.id

    def find(
        self,
        *,
        id: str | None = None,
        request_id: str | None = None,
        state: str | None = None,
        kid: str | None = None,
    ) -> Transaction | None:
        """Look a transaction up by exactly one of its handles."""
        with self._lock:
            if id is not None:
                return self._by_id.get(id)
            for name, value in (("request_id", request_id), ("state", state), ("kid", kid)):
                if value is not None:
                    found = self._index.get((name, value))
                    return None if found is None else self._by_id.get(found)
            return None

    def transition(self, transaction_id: str, old: Status, new: Transaction) -> bool:
        """Compare-and-set on the status."""
        with self._lock:
            current = self._by_id.get(transaction_id)
            if current is None or current.status != old:
                return False
            self._by_id[transaction_id] = new
            return True


# -- the verifier ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreatedRequest:
    """What :meth:`OID4VPVerifier.create` hands the verifier's front end."""

    transaction_id: str
    request_uri: str
    authorization_request: str
    client_id: str
    expires_at: int
    #: The secret that reads the result (:meth:`OID4VPVerifier.result`): keep it with
    #: the session that started the transaction, never give it to the wallet.
    result_token: str = ""
    flow: Flow = "cross_device"

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "transaction_id": self.transaction_id,
            "request_uri": self.request_uri,
            "authorization_request": self.authorization_request,
            "client_id": self.client_id,
            "expires_at": self.expires_at,
            "result_token": self.result_token,
            "flow": self.flow,
        }


@dataclass(frozen=True, slots=True)
class ResponseAck:
    """What the response URI answers the wallet (HTTP 200, JSON): the optional
    ``redirect_uri`` the wallet must send the user agent to."""

    redirect_uri: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form (an empty object when there is nowhere to redirect)."""
        return {} if self.redirect_uri is None else {"redirect_uri": self.redirect_uri}


def _jwe_kid(response: Any) -> str:
    """The ``kid`` of a compact JWE's protected header, read (boundedly) before decrypting."""
    parts = response.split(".") if isinstance(response, str) else []
    if len(parts) != 5 or len(parts[0]) > _MAX_JWE_HEADER:
        raise OID4VPError("response_invalid", "response must be a compact JWE")
    try:
        header = loads_object(b64url_decode(parts[0]), what="JWE header", max_depth=8)
    except ParseError as exc:
        raise OID4VPError("response_invalid", f"the JWE header: {exc}") from exc
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise OID4VPError("response_key_unknown", "the JWE header names no kid")
    return kid


def _token() -> str:
    return secrets.token_urlsafe(32)


class OID4VPVerifier:
    """The verifier side of OpenID4VP 1.0 for one client identity (see the module doc).

    ``response_uri`` is where wallets post responses; ``request_uri_base`` the
    URL the request id is appended to (``.../requests/``). With ``redirect_uri``
    the response URI answers a successful response with that URI and a fresh
    ``#response_code=...``. Raises :class:`~did_methods.errors.ParseError` when the
    Verifier's audience is not the client's ``client_id``, or the ``redirect_uri:``
    client's URI is not ``response_uri``.
    """

    def __init__(
        self,
        verifier: Verifier,
        client: ClientIdentity,
        *,
        response_uri: str,
        request_uri_base: str,
        store: TransactionStore | None = None,
        redirect_uri: str | None = None,
        enc_values: Sequence[str] = ENC_VALUES,
        clock: Clock = system_clock,
    ) -> None:
        if verifier.audience != client.client_id:
            raise ParseError(
                f"the Verifier's audience {verifier.audience!r} must be the client_id "
                f"{client.client_id!r}: presentations are bound to it"
            )
        ClientId.parse(client.client_id)
        if isinstance(client, RedirectURIClient) and client.response_uri != response_uri:
            raise ParseError("a redirect_uri: client's URI must be its response_uri")
        if not enc_values or any(e not in ENC_VALUES for e in enc_values):
            raise ParseError(f"enc_values must be among {', '.join(ENC_VALUES)}")
        if redirect_uri is not None and ("#" in redirect_uri or not urlsplit(redirect_uri).scheme):
            raise ParseError("redirect_uri must be an absolute URI without a fragment")
        self.verifier = verifier
        self.client = client
        self.response_uri = response_uri
        self.request_uri_base = request_uri_base
        self.redirect_uri = redirect_uri
        self.enc_values = tuple(enc_values)
        self.store: TransactionStore = MemoryTransactionStore() if store is None else store
        self._clock = clock

    @property
    def client_id(self) -> str:
        """The full Client Identifier."""
        return self.client.client_id

    # 1. create --------------------------------------------------------------------------

    def create(
        self,
        policy: Policy,
        *,
        response_mode: ResponseMode = "direct_post",
        request_uri_method: RequestURIMethod = "get",
        purpose: str | None = None,
        scheme: str = f"{SCHEME}://",
        formats: Sequence[str] | None = None,
        flow: Flow | None = None,
        transaction_data: Sequence[Mapping[str, Any]] = (),
    ) -> CreatedRequest:
        """A new transaction for ``policy`` and its authorization request URI.

        The URI passes the request object by reference (``client_id``,
        ``request_uri``, ``request_uri_method``); for a ``redirect_uri:`` client,
        whose requests are never signed, it carries the parameters themselves
        (``dcql_query`` and ``client_metadata`` as JSON text). ``scheme`` is what
        the URI starts with: ``openid4vp://`` (the default), a custom scheme, or a
        wallet's https authorization endpoint. ``formats`` are the DCQL formats
        asked for, alternatives in that order (default: ``dc+sd-jwt``, ``ldp_vc``;
        ``jwt_vc_json`` too when named). ``flow`` (default: ``same_device`` when this
        verifier has a ``redirect_uri``, else ``cross_device``) says how the decision
        is released (:meth:`result`); ``same_device`` needs the ``redirect_uri``.
        ``transaction_data`` are transactions the holder is asked to authorise
        (objects with ``type``, ``credential_ids`` naming SD-JWT credential queries of
        the request, and the type's members; at most 16): the wallet binds each in the
        Key Binding JWT, and the decision is refused unless every one is bound
        (:func:`~ssi_wallet.transaction_data.check_transaction_data`). Raises
        :class:`~did_methods.errors.ParseError` for a malformed item.
        """
        if flow is None:
            flow = "cross_device" if self.redirect_uri is None else "same_device"
        if flow not in FLOWS:
            raise ParseError(f"flow must be one of {', '.join(FLOWS)}")
        if flow == "same_device" and self.redirect_uri is None:
            raise ParseError("a same_device flow needs the verifier's redirect_uri")
        if response_mode not in RESPONSE_MODES:
            raise OID4VPError("response_mode_unsupported", f"{response_mode!r} is not supported")
        if request_uri_method not in ("get", "post"):
            raise OID4VPError("request_uri_method_invalid", "request_uri_method is get or post")
        request = self.verifier.request(policy, purpose=purpose, formats=formats)
        if len(transaction_data) > MAX_ITEMS:
            raise ParseError(f"at most {MAX_ITEMS} transaction data items")
        items = tuple(encode_transaction_data(item, request.query) for item in transaction_data)
        key = kid = None
        if response_mode == "direct_post.jwt":
            key, kid = PrivateKey.generate(KeyType.P256), _token()
        assert request.expires_at is not None
        transaction = Transaction(
            _token(),
            _token(),
            _token(),
            request,
            policy,
            response_mode,
            request_uri_method,
            request.expires_at,
            key,
            kid,
            result_token=_token(),
            flow=flow,
            transaction_data=items,
        )
        self.store.add(transaction, now=int(self._clock().timestamp()))
        request_uri = self.request_uri_base + transaction.request_id
        params: dict[str, str] = {"client_id": self.client_id, "request_uri": request_uri}
        if request_uri_method == "post":
            params["request_uri_method"] = "post"
        if isinstance(self.client, RedirectURIClient):
            # never signed, so no JAR (RFC 9101 request objects are signed): by value
            params = {
                k: v if isinstance(v, str) else dumps(v).decode("utf-8")
                for k, v in self._parameters(transaction).items()
            }
        separator = "&" if "?" in scheme else ("" if scheme.endswith("?") else "?")
        return CreatedRequest(
            transaction.id,
            request_uri,
            f"{scheme}{separator}{urlencode(params)}",
            self.client_id,
            transaction.expires_at,
            transaction.result_token,
            flow,
        )

    def _live(self, transaction: Transaction | None, what: str) -> Transaction:
        if transaction is None:
            code = "request_unknown" if what == "request" else "state_unknown"
            raise OID4VPError(code, f"no transaction for this {what}")
        if self._clock().timestamp() > transaction.expires_at:
            raise OID4VPError("transaction_expired", "the request has expired")
        return transaction

    # 2. the request object ----------------------------------------------------------------

    def client_metadata(self, transaction: Transaction) -> dict[str, Any]:
        """``client_metadata``: the formats we take, and for ``direct_post.jwt`` the
        ephemeral public key (``use`` enc, ``alg`` ECDH-ES, a ``kid``) and the enc values."""
        metadata: dict[str, Any] = {"vp_formats_supported": dict(VP_FORMATS)}
        if transaction.encryption_key is not None:
            jwk: dict[str, Any] = dict(transaction.encryption_key.public_key.to_jwk())
            jwk |= {"kid": transaction.encryption_kid, "use": "enc", "alg": "ECDH-ES"}
            metadata["jwks"] = {"keys": [jwk]}
            metadata["encrypted_response_enc_values_supported"] = list(self.enc_values)
        return metadata

    def request_object(
        self,
        request_id: str,
        *,
        method: str = "get",
        wallet_nonce: str | None = None,
        wallet_metadata: str | None = None,
    ) -> str:
        """The request object of ``request_id``, as the request URI answers it.

        ``method`` is how it was fetched (``get``; ``post`` only when the request
        said ``request_uri_method=post``); ``wallet_nonce`` (POST) is echoed in the
        object; ``wallet_metadata`` (POST) must be a JSON object and is honoured
        (OpenID4VP 1.0 section 5.10, :meth:`_honour`): a prefix, signing algorithm,
        response mode, encryption algorithm or credential format it does not list is
        ``wallet_metadata_unsupported``, and the ``enc`` values offered for
        ``direct_post.jwt`` are those it lists. Request objects are never encrypted
        (a wallet's ``jwks`` for that is not used). Raises :class:`OID4VPError`
        ``request_unknown``, ``transaction_expired``, ``response_replayed`` (already
        answered), ``request_uri_method_invalid``, ``wallet_request_invalid`` or
        ``wallet_metadata_unsupported``; a refusal leaves the transaction answerable.
        """
        transaction = self._live(self.store.find(request_id=request_id), "request")
        if transaction.status != "pending":
            raise OID4VPError("response_replayed", "this request was answered already")
        if method == "post" and transaction.request_uri_method != "post":
            raise OID4VPError("request_uri_method_invalid", "this request_uri is fetched by GET")
        if method not in ("get", "post"):
            raise OID4VPError("request_uri_method_invalid", "request_uri_method is get or post")
        if wallet_nonce is not None:
            url_safe(wallet_nonce, "wallet_nonce", code="wallet_request_invalid")
        enc_values = self.enc_values
        if wallet_metadata is not None:
            try:
                metadata = loads_object(
                    wallet_metadata,
                    what="wallet_metadata",
                    max_bytes=_MAX_WALLET_METADATA,
                    max_depth=8,
                )
            except JSONError as exc:
                raise OID4VPError(
                    "wallet_request_invalid", f"wallet_metadata is not a JSON object: {exc}"
                ) from exc
            enc_values = self._honour(metadata, transaction)
        now = int(self._clock().timestamp())
        claims: dict[str, Any] = {
            "aud": SELF_ISSUED_AUDIENCE,
            "iat": now,
            "exp": transaction.expires_at,
            **self._parameters(transaction),
        }
        if transaction.encryption_key is not None:
            claims["client_metadata"]["encrypted_response_enc_values_supported"] = list(enc_values)
        if wallet_nonce is not None:
            claims["wallet_nonce"] = wallet_nonce
        return self.client.request_object(claims)

    def _honour(self, metadata: Mapping[str, Any], transaction: Transaction) -> tuple[str, ...]:
        """What a wallet's ``wallet_metadata`` allows (OpenID4VP 1.0 sections 5.10, 10):
        each member it gives must list what this request uses; returns the ``enc``
        values to offer (ours it lists)."""

        def listed(name: str) -> list[Any] | None:
            value = metadata.get(name)
            if value is None:
                return None
            if not isinstance(value, list) or len(value) > 64:
                raise OID4VPError("wallet_request_invalid", f"wallet_metadata.{name} is no list")
            return value

        def refuse(what: str) -> OID4VPError:
            return OID4VPError(
                "wallet_metadata_unsupported", f"the wallet does not support {what} we use"
            )

        prefixes = listed("client_id_prefixes_supported")
        if prefixes is not None and self.client_id.partition(":")[0] not in prefixes:
            raise refuse("the Client Identifier Prefix")
        algs = listed("request_object_signing_alg_values_supported")
        key = getattr(self.client, "key", None)
        if algs is not None and isinstance(key, PrivateKey) and key.key_type.jws_alg not in algs:
            raise refuse("the request object signing algorithm")
        modes = listed("response_modes_supported")
        if modes is not None and transaction.response_mode not in modes:
            raise refuse("the response mode")
        formats = metadata.get("vp_formats_supported")
        if formats is not None:
            if not isinstance(formats, Mapping):
                raise OID4VPError("wallet_request_invalid", "vp_formats_supported is no object")
            if not any(q.format in formats for q in transaction.request.query.credentials):
                raise refuse("any credential format")
        if transaction.encryption_key is None:
            return self.enc_values
        alg_values = listed("authorization_encryption_alg_values_supported")
        if alg_values is not None and "ECDH-ES" not in alg_values:
            raise refuse("the response encryption algorithm (ECDH-ES)")
        enc_values = listed("authorization_encryption_enc_values_supported")
        if enc_values is None:
            return self.enc_values
        offered = tuple(e for e in self.enc_values if e in enc_values)
        if not offered:
            raise refuse("any response content encryption (enc)")
        return offered

    def _parameters(self, transaction: Transaction) -> dict[str, Any]:
        """The Authorization Request parameters of ``transaction`` (OpenID4VP 1.0 5.1-5.2)."""
        return {
            "client_id": self.client_id,
            "response_type": "vp_token",
            "response_mode": transaction.response_mode,
            "response_uri": self.response_uri,
            "nonce": transaction.request.nonce,
            "state": transaction.state,
            "dcql_query": transaction.request.query.to_json(),
            "client_metadata": self.client_metadata(transaction),
            **(
                {"transaction_data": list(transaction.transaction_data)}
                if transaction.transaction_data
                else {}
            ),
        }

    # 3. the response ----------------------------------------------------------------------

    def receive(self, form: Mapping[str, str]) -> ResponseAck:
        """Take an Authorization Response (the form fields of the POST) and judge it.

        Steps: (a) find the transaction: by the JWE ``kid`` for ``response``,
        else by ``state``; (b) for ``direct_post.jwt``, decrypt with the
        transaction's key (``state`` inside must be the transaction's); (c) claim
        the transaction (a second response is ``response_replayed``); (d) a wallet
        error is kept as such; (e) the ``vp_token`` is judged by the Verifier with
        the request's nonce and this ``client_id`` as audience (an ``mso_mdoc`` one
        over the session transcript of this ``client_id``, nonce, ``response_uri`` and,
        for ``direct_post.jwt``, the thumbprint of the transaction's key); (f) the transaction
        data, if any, must each be bound by its hash in a Key Binding JWT. Raises
        :class:`OID4VPError` (``state_unknown``, ``response_invalid``,
        ``response_key_unknown``, ``response_decryption_failed``,
        ``response_replayed``, ``transaction_expired``).
        """
        # (a) + (b)
        fields: dict[str, Any]
        if "response" in form:
            transaction, fields = self._decrypt(form["response"])
        else:
            transaction = self.locate(form)
            fields = dict(form)
            if transaction.status != "pending":
                raise OID4VPError("response_replayed", "this request was answered already")
            if transaction.response_mode == "direct_post.jwt" and "error" not in fields:
                raise OID4VPError(
                    "response_invalid", "this request asked for an encrypted response"
                )
        if fields.get("state") != transaction.state:
            raise OID4VPError("state_unknown", "the response's state is not the transaction's")
        # (c)
        if transaction.status != "pending" or not self.store.transition(
            transaction.id, "pending", replace(transaction, status="checking")
        ):
            raise OID4VPError("response_replayed", "this request was answered already")
        # (d)
        code = _token() if transaction.flow == "same_device" else None
        error = fields.get("error")
        if error is not None:
            description = fields.get("error_description")
            done = replace(
                transaction,
                status="wallet_error",
                wallet_error=str(error)[:64],
                wallet_error_description=None if description is None else str(description)[:500],
                response_code=code,
            )
            self.store.transition(transaction.id, "checking", done)
            return self._ack(code)
        # (e)
        try:
            presentation = self._presentation(fields.get("vp_token"), transaction.request)
        except OID4VPError:
            self.store.transition(transaction.id, "checking", transaction)  # let it be answered
            raise
        thumbprint = None
        if transaction.encryption_key is not None:
            thumbprint = encryption_key_thumbprint(transaction.encryption_key.public_key.to_jwk())
        report = self.verifier.check(
            presentation,
            transaction.request,
            policy=transaction.policy,
            response_uri=self.response_uri,
            jwk_thumbprint=thumbprint,
        )
        if transaction.transaction_data:
            # (f) every transaction authorised in a key binding the Verifier checked
            found = check_transaction_data(
                transaction.transaction_data, transaction.request.query, presentation.vp_token
            )
            report = replace(
                report,
                ok=report.ok and all(f.ok for f in found),
                findings=(*report.findings, *found),
            )
        self.store.transition(
            transaction.id,
            "checking",
            replace(transaction, status="answered", report=report, response_code=code),
        )
        return self._ack(code)

    def _ack(self, code: str | None) -> ResponseAck:
        """The response URI's answer: in a same-device flow, where to send the browser
        (``redirect_uri`` and the fresh ``response_code`` in its fragment)."""
        if code is None or self.redirect_uri is None:
            return ResponseAck()
        return ResponseAck(f"{self.redirect_uri}#response_code={code}")

    def _presentation(self, vp_token: Any, request: PresentationRequest) -> PresentationResponse:
        if isinstance(vp_token, str):
            try:
                vp_token = loads(vp_token, what="vp_token", max_bytes=MAX_RESPONSE)
            except JSONError as exc:
                raise OID4VPError("response_invalid", f"vp_token is not JSON: {exc}") from exc
        try:
            shaped = PresentationResponse.from_json({"vp_token": vp_token})
        except ParseError as exc:
            raise OID4VPError("response_invalid", f"vp_token: {exc}") from exc
        return PresentationResponse(shaped.vp_token, request.nonce, request.audience)

    def locate(self, form: Mapping[str, str]) -> Transaction:
        """The transaction a response is for, read without decrypting anything: by the
        JWE ``kid`` of ``response`` (the key this verifier made for it), else by
        ``state``. Raises :class:`OID4VPError` ``response_invalid``,
        ``response_key_unknown``, ``state_unknown`` or ``transaction_expired``."""
        if "response" in form:
            kid = _jwe_kid(form["response"])
            found = self.store.find(kid=kid)
            if found is None:
                raise OID4VPError(
                    "response_key_unknown", "the response is encrypted to a key we did not make"
                )
            return self._live(found, "state")
        state = form.get("state")
        if not isinstance(state, str):
            raise OID4VPError("state_unknown", "the response carries no state")
        return self._live(self.store.find(state=state), "state")

    def _decrypt(self, response: str) -> tuple[Transaction, dict[str, Any]]:
        transaction = self.locate({"response": response})
        assert transaction.encryption_key is not None
        try:
            opened = decrypt_compact(
                response, transaction.encryption_key, encs=self.enc_values, max_length=MAX_RESPONSE
            )
        except VerificationError as exc:
            raise OID4VPError(
                "response_decryption_failed",
                "the response does not decrypt with this transaction's key",
            ) from exc
        except (ParseError, UnsupportedError) as exc:
            raise OID4VPError("response_invalid", f"the encrypted response: {exc}") from exc
        try:
            fields = loads_object(opened.plaintext, what="response", max_bytes=MAX_RESPONSE)
        except JSONError as exc:
            raise OID4VPError("response_invalid", f"the decrypted response: {exc}") from exc
        return transaction, fields

    # 4. the result ------------------------------------------------------------------------

    def result(
        self,
        transaction_id: str,
        *,
        response_code: str | None = None,
        result_token: str | None = None,
        unsafe_back_office: bool = False,
    ) -> Transaction:
        """The transaction (status and report), released to whoever proves to hold it
        (the session fixation defence of OpenID4VP 1.0: a link started by an attacker
        and answered by a victim's wallet must not hand the attacker the result).

        * ``response_code``: the value the wallet's redirect carried (``same_device``):
          the whole transaction;
        * ``result_token``: the secret :meth:`create` handed the front end that started
          it: the whole transaction in a ``cross_device`` flow, and in a
          ``same_device`` flow only its status (:meth:`Transaction.sealed_view`), the
          decision waiting for the ``response_code``;
        * ``unsafe_back_office``: the caller vouches that it is the verifier's own back
          office (the HTTP service: its bearer token): the whole transaction.

        Raises :class:`OID4VPError` ``state_unknown`` for an unknown id or a wrong
        ``response_code``, ``result_unauthorized`` for neither secret nor a wrong token.
        """
        transaction = self.store.find(id=transaction_id)
        if transaction is None:
            raise OID4VPError("state_unknown", "no such transaction")
        if response_code is not None:
            if not _same(response_code, transaction.response_code):
                raise OID4VPError("state_unknown", "the response_code is not this transaction's")
            return transaction
        if unsafe_back_office:
            return transaction
        if not _same(result_token, transaction.result_token):
            raise OID4VPError(
                "result_unauthorized",
                "the result needs the response_code or the transaction's result token",
            )
        return transaction.sealed_view() if transaction.flow == "same_device" else transaction


def _same(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of two secrets; never for a missing or empty one."""
    if not given or not expected or len(given) > 256:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
