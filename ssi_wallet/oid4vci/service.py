"""The Credential Issuer of OpenID4VCI 1.0, sans-IO: requests in, answers out.

:class:`CredentialIssuer` puts an existing :class:`ssi_wallet.issuer.Issuer`
(its key, DID, status lists and signing) behind the protocol. It takes
parsed request parameters (a form or a JSON object, the ``Authorization``
and ``DPoP`` header values, the URL the request was made to) and returns
the answer as a :class:`Reply` (status, JSON body, headers); every refusal
is an :class:`~ssi_wallet.oid4vci.errors.OID4VCIError` whose ``code`` is the
specification's error. The HTTP adapter (:mod:`ssi_wallet.server.oid4vci`)
only moves bytes.

State (cases, offers, codes, tokens, nonces, transactions, notifications)
lives in a :class:`~ssi_wallet.oid4vci.store.StateStore`; codes, nonces and
request URIs are taken from it (single use), everything expires.

The back office prepares an issuance **case** (who gets which credentials
with which claims) and makes an offer for it with :meth:`CredentialIssuer.offer`;
claims not known yet make the credential *deferred*: the wallet gets a
``transaction_id`` and fetches the credential once :meth:`CredentialIssuer.provide`
supplied them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from credentials import schemas
from credentials.oauth import (
    DEFAULT_DPOP_ALGS,
    DPoPError,
    JtiStore,
    MemoryJtiStore,
    verify_code_challenge,
    verify_dpop_proof,
)
from did_methods._wire.dates import Clock, read_clock, system_clock
from did_methods._wire.json import loads
from did_methods.errors import SSIWalletError, UnsupportedError
from did_methods.keys import KeyType, PrivateKey
from ssi_wallet.issuer import Issuer
from ssi_wallet.oid4vci.attestation import KeyAttestationPolicy, verify_key_attestation
from ssi_wallet.oid4vci.encryption import (
    ENCRYPTION_ALG,
    ENCRYPTION_ENCS,
    EncryptionParameters,
    RequestDecryption,
    encrypt_message,
    read_response_encryption,
)
from ssi_wallet.oid4vci.errors import OID4VCIError
from ssi_wallet.oid4vci.metadata import (
    AUTHORIZATION_CODE,
    PRE_AUTHORIZED_CODE,
    CredentialConfiguration,
    CredentialOfferData,
    configurations_for,
    offer_uri,
    well_known_url,
)
from ssi_wallet.oid4vci.proofs import (
    DI_VP_SUITES,
    SUPPORTED_PROOF_ALGS,
    KeyProof,
    verify_di_vp_proof,
    verify_jwt_proof,
)
from ssi_wallet.oid4vci.signed_metadata import MetadataSigner, sign_issuer_metadata
from ssi_wallet.oid4vci.store import MemoryStateStore, StateStore

__all__ = ["CredentialIssuer", "IssuerEndpoints", "Offer", "Reply"]

_REQUEST_URI_PREFIX: Final = "urn:ietf:params:oauth:request_uri:"
_NOTIFICATION_EVENTS: Final = ("credential_accepted", "credential_failure", "credential_deleted")
#: Longest code, token, nonce or id we look up (characters); ours are 43.
_MAX_TOKEN: Final = 512
_MAX_AUTHORIZATION_DETAILS: Final = 16


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer: HTTP ``status``, a JSON ``body`` (None for no content), extra ``headers``.

    ``jwt`` replaces the body when the answer is a JWT: an encrypted Credential
    Response (sent as ``application/jwt``), or signed metadata.
    """

    status: int
    body: Mapping[str, Any] | None
    headers: Mapping[str, str] = field(default_factory=dict)
    jwt: str | None = None


@dataclass(frozen=True, slots=True)
class IssuerEndpoints:
    """Where each endpoint answers: URLs derived from the Credential Issuer Identifier."""

    identifier: str

    def url(self, path: str) -> str:
        """``identifier`` + ``path``."""
        return self.identifier.rstrip("/") + path

    @property
    def credential(self) -> str:
        return self.url("/credential")

    @property
    def nonce(self) -> str:
        return self.url("/nonce")

    @property
    def deferred_credential(self) -> str:
        return self.url("/deferred_credential")

    @property
    def notification(self) -> str:
        return self.url("/notification")

    @property
    def token(self) -> str:
        return self.url("/token")

    @property
    def par(self) -> str:
        return self.url("/par")

    @property
    def authorize(self) -> str:
        return self.url("/authorize")

    def offer(self, offer_id: str) -> str:
        return self.url(f"/credential-offer/{offer_id}")

    @property
    def issuer_metadata(self) -> str:
        return well_known_url(self.identifier, "openid-credential-issuer")

    @property
    def authorization_server_metadata(self) -> str:
        return well_known_url(self.identifier, "oauth-authorization-server")


@dataclass(frozen=True, slots=True)
class Offer:
    """A Credential Offer made by :meth:`CredentialIssuer.offer`.

    ``uri`` is what the wallet is given (a link or a QR code); ``tx_code`` the
    Transaction Code to send the person by another channel (None when none is
    asked for); ``case_id`` names the issuance case for :meth:`CredentialIssuer.provide`
    and :meth:`CredentialIssuer.notifications`.
    """

    case_id: str
    data: CredentialOfferData
    uri: str
    tx_code: str | None
    expires_at: float

    def qr_svg(self) -> str:
        """The offer URI as a QR code, SVG text (needs ``pip install 'ssi-wallet[qr]'``)."""
        import io

        qr = _qr(self.uri)
        out = io.BytesIO()
        qr.save(out, kind="svg", scale=4, border=4)
        return out.getvalue().decode("utf-8")

    def qr_png(self, scale: int = 4) -> bytes:
        """The offer URI as a QR code, PNG bytes (needs ``pip install 'ssi-wallet[qr]'``)."""
        import io

        qr = _qr(self.uri)
        out = io.BytesIO()
        qr.save(out, kind="png", scale=scale, border=4)
        return out.getvalue()


def _qr(text: str) -> Any:
    try:
        import segno
    except ImportError as exc:  # the qr extra
        raise UnsupportedError(
            "QR codes need segno: pip install 'ssi-wallet[qr]'", "qr_unavailable"
        ) from exc
    return segno.make(text, error="m")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _token_string(value: Any, code: str, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_TOKEN:
        raise OID4VCIError(code, f"{what} is missing or malformed")
    return value


class CredentialIssuer:
    """An OpenID4VCI Credential Issuer and its Authorization Server, over an :class:`Issuer`.

    ``identifier`` is the Credential Issuer Identifier (an ``https`` URL; the
    tests use ``http://127.0.0.1:PORT``). ``types`` limits the vocabulary
    types offered (default: all). Lifetimes are in seconds; ``batch_size`` is
    the most key proofs one Credential Request may carry; ``clock`` and
    ``random`` (bytes of a given length) are parameters so tests can pin them.
    A ``DPoP`` proof at the token endpoint binds the access token to its key
    (RFC 9449); ``require_dpop`` refuses bearer tokens; ``jti_store`` remembers
    DPoP proof ids (replays refused); with ``dpop_nonce`` every DPoP proof must
    carry a nonce this server gave (``use_dpop_nonce`` and a ``DPoP-Nonce``
    header answer one that does not, RFC 9449 section 8).

    Encryption (OpenID4VCI section 10, ECDH-ES with A128GCM/A256GCM): with
    ``response_encryption`` (the default) a wallet may ask for an encrypted
    Credential Response, with ``require_response_encryption`` it must;
    ``request_decryption`` publishes a key wallets encrypt their requests to
    (required or not, as it says). A wallet's ``credential_response_encryption``
    is taken only inside an encrypted request (section 8.2: so it cannot be
    substituted), so an issuer that offers response encryption always
    publishes a request key: ``request_decryption``, else a fresh P-256 key
    made here (kept in memory: it changes on restart).

    Key proofs: ``jwt`` and ``di_vp`` (a Data Integrity presentation by the
    holder's key, ``challenge`` the ``c_nonce``, ``domain`` this issuer). With
    ``key_attestations`` (a :class:`~ssi_wallet.oid4vci.attestation.KeyAttestationPolicy`:
    the attesters trusted, the ``key_storage`` / ``user_authentication``
    accepted) the metadata says ``key_attestations_required``, the
    ``attestation`` proof type is offered, and each ``jwt`` proof must carry a
    ``key_attestation`` from a trusted attester naming the proof's key;
    credentials are then bound to every attested key (appendix F.1, F.3).

    With ``metadata_signer`` the metadata is also served signed
    (:meth:`signed_issuer_metadata`, section 12.2.3) to wallets that ask for
    ``application/jwt``.
    """

    def __init__(
        self,
        issuer: Issuer,
        identifier: str,
        *,
        store: StateStore | None = None,
        types: Sequence[str] = schemas.CREDENTIAL_TYPES,
        display_name: str | None = None,
        batch_size: int = 10,
        offer_ttl: float = 600.0,
        code_ttl: float = 60.0,
        token_ttl: float = 300.0,
        nonce_ttl: float = 300.0,
        request_uri_ttl: float = 60.0,
        case_ttl: float = 7 * 24 * 3600.0,
        deferred_interval: int = 5,
        tx_code_length: int = 6,
        proof_max_age: float = 300.0,
        clock: Clock = system_clock,
        random: Callable[[int], bytes] = secrets.token_bytes,
        jti_store: JtiStore | None = None,
        require_dpop: bool = False,
        dpop_nonce: bool = False,
        dpop_algs: Sequence[str] = DEFAULT_DPOP_ALGS,
        response_encryption: bool = True,
        require_response_encryption: bool = False,
        request_decryption: RequestDecryption | None = None,
        key_attestations: KeyAttestationPolicy | None = None,
        metadata_signer: MetadataSigner | None = None,
    ) -> None:
        parts = urlsplit(identifier)
        if (
            parts.scheme not in ("https", "http")
            or not parts.netloc
            or parts.query
            or parts.fragment
        ):
            raise OID4VCIError(
                "invalid_configuration",
                "the Credential Issuer Identifier is a URL with a host, no query, no fragment",
            )
        if batch_size < 1 or batch_size > 100:
            raise OID4VCIError("invalid_configuration", "batch_size must be between 1 and 100")
        self.issuer = issuer
        self.identifier = identifier.rstrip("/")
        self.endpoints = IssuerEndpoints(self.identifier)
        self.store: StateStore = store if store is not None else MemoryStateStore()
        self.configurations = configurations_for(issuer.public_key.key_type, types)
        self.display_name = display_name or issuer.name
        self.batch_size = batch_size
        self.offer_ttl = offer_ttl
        self.code_ttl = code_ttl
        self.token_ttl = token_ttl
        self.nonce_ttl = nonce_ttl
        self.request_uri_ttl = request_uri_ttl
        self.case_ttl = case_ttl
        self.deferred_interval = deferred_interval
        self.tx_code_length = tx_code_length
        self.proof_max_age = proof_max_age
        self.proof_algs = SUPPORTED_PROOF_ALGS
        self.jti_store: JtiStore = jti_store if jti_store is not None else MemoryJtiStore()
        self.require_dpop = require_dpop
        self.dpop_nonce = dpop_nonce
        self.dpop_algs = tuple(dpop_algs)
        if require_response_encryption and not response_encryption:
            raise OID4VCIError(
                "invalid_configuration", "response encryption cannot be required and off"
            )
        if response_encryption and request_decryption is None:
            key = PrivateKey.generate(KeyType.P256)
            request_decryption = RequestDecryption(key, key.public_key.jwk_thumbprint())
        self.response_encryption = response_encryption
        self.require_response_encryption = require_response_encryption
        self.request_decryption = request_decryption
        self.key_attestations = key_attestations
        self.metadata_signer = metadata_signer
        self.proof_types = self._proof_types()
        self._clock = clock
        self._random = random
        self._metadata: dict[tuple[str, ...], dict[str, Any]] = {}

    # -- metadata -----------------------------------------------------------------------

    def issuer_metadata(self, languages: Sequence[str] = ("en",)) -> dict[str, Any]:
        """The Credential Issuer metadata (``/.well-known/openid-credential-issuer``).

        Credential and claim names come in ``languages`` (see
        :func:`~ssi_wallet.oid4vci.metadata.accepted_languages` for reading them
        from ``Accept-Language``; OpenID4VCI 12.2.2 lets an issuer send a subset).
        """
        key = tuple(languages)
        cached = self._metadata.get(key)
        if cached is None:
            e = self.endpoints
            metadata: dict[str, Any] = {
                "credential_issuer": self.identifier,
                "authorization_servers": [self.identifier],
                "credential_endpoint": e.credential,
                "nonce_endpoint": e.nonce,
                "deferred_credential_endpoint": e.deferred_credential,
                "notification_endpoint": e.notification,
                "display": [{"name": self.display_name, "locale": "en"}],
                "credential_configurations_supported": {
                    cid: config.to_json(self.proof_algs, key, self.proof_types)
                    for cid, config in self.configurations.items()
                },
            }
            if self.batch_size >= 2:
                metadata["batch_credential_issuance"] = {"batch_size": self.batch_size}
            if self.response_encryption:
                metadata["credential_response_encryption"] = {
                    "alg_values_supported": [ENCRYPTION_ALG],
                    "enc_values_supported": list(ENCRYPTION_ENCS),
                    "encryption_required": self.require_response_encryption,
                }
            if self.request_decryption is not None:
                metadata["credential_request_encryption"] = self.request_decryption.metadata()
            if len(self._metadata) >= 64:  # language combinations are many; keep a few
                self._metadata.clear()
            self._metadata[key] = cached = metadata
        return dict(cached)

    def signed_issuer_metadata(self, languages: Sequence[str] = ("en",)) -> str:
        """The metadata as a signed JWT (``typ`` ``openidvci-issuer-metadata+jwt``).

        Raises ``invalid_request`` (404) when this issuer has no ``metadata_signer``.
        """
        if self.metadata_signer is None:
            raise OID4VCIError("invalid_request", "this issuer signs no metadata", status=404)
        return sign_issuer_metadata(
            self.issuer_metadata(languages),
            self.metadata_signer,
            identifier=self.identifier,
            now=read_clock(self._clock),
        )

    def _proof_types(self) -> dict[str, Any]:
        """``proof_types_supported`` (the same for every configuration)."""
        algs = {"proof_signing_alg_values_supported": list(self.proof_algs)}
        policy = self.key_attestations
        if policy is None:
            return {
                "jwt": algs,
                "di_vp": {"proof_signing_alg_values_supported": list(DI_VP_SUITES)},
            }
        required = {**algs, "key_attestations_required": policy.metadata()}
        out: dict[str, Any] = {"jwt": required, "attestation": required}
        if not policy.required:  # a di_vp proof cannot carry an attestation
            out["jwt"] = out["attestation"] = algs
            out["di_vp"] = {"proof_signing_alg_values_supported": list(DI_VP_SUITES)}
        return out

    def authorization_server_metadata(self) -> dict[str, Any]:
        """RFC 8414 Authorization Server metadata (``/.well-known/oauth-authorization-server``)."""
        e = self.endpoints
        return {
            "issuer": self.identifier,
            "authorization_endpoint": e.authorize,
            "token_endpoint": e.token,
            "pushed_authorization_request_endpoint": e.par,
            "require_pushed_authorization_requests": True,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [AUTHORIZATION_CODE, PRE_AUTHORIZED_CODE],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "pre-authorized_grant_anonymous_access_supported": True,
            "authorization_details_types_supported": ["openid_credential"],
            "scopes_supported": sorted(self.configurations),
            "authorization_response_iss_parameter_supported": True,
            "dpop_signing_alg_values_supported": list(self.dpop_algs),
        }

    # -- the back office ----------------------------------------------------------------

    def offer(
        self,
        configuration_ids: Sequence[str],
        *,
        claims: Mapping[str, Mapping[str, Any] | None],
        tx_code: bool = True,
        pre_authorized: bool = True,
        authorization_code: bool = False,
        by_reference: bool = True,
        tx_code_description: str | None = None,
    ) -> Offer:
        """Make a Credential Offer of ``configuration_ids`` for one person.

        ``claims`` maps each offered vocabulary type (``"WorkPermit"``) to the
        subject's claims (without ``id``), or to ``None`` when they are not
        known yet: that credential is then deferred until :meth:`provide`.
        The pre-authorized code grant (with a numeric Transaction Code when
        ``tx_code``) and/or the authorization code grant (with an
        ``issuer_state`` naming this case) are offered. ``by_reference`` puts a
        ``credential_offer_uri`` in the URI (short, for QR codes) instead of the
        whole offer. Raises ``invalid_request`` for an unknown configuration or
        a type without claims.
        """
        if not configuration_ids or len(set(configuration_ids)) != len(configuration_ids):
            raise OID4VCIError("invalid_request", "offer one or more distinct configurations")
        if not (pre_authorized or authorization_code):
            raise OID4VCIError("invalid_request", "offer at least one grant")
        for cid in configuration_ids:
            config = self.configurations.get(cid)
            if config is None:
                raise OID4VCIError("invalid_request", f"no credential configuration {cid[:80]!r}")
            if config.type_name not in claims:
                raise OID4VCIError(
                    "invalid_request", f"no claims (nor None, to defer) for {config.type_name}"
                )
        now = self._now()
        case_id = self._new_id()
        self.store.put(
            "case",
            case_id,
            {
                "configuration_ids": list(configuration_ids),
                "claims": {k: (dict(v) if v is not None else None) for k, v in claims.items()},
            },
            expires_at=now + self.case_ttl,
        )
        code = state = tx_value = tx_object = None
        expires_at = now + self.offer_ttl
        if pre_authorized:
            code = self._new_id()
            record: dict[str, Any] = {"case_id": case_id, "attempts": 0, "expires": expires_at}
            if tx_code:
                tx_value = "".join(
                    str(b % 10) for b in self._random(self.tx_code_length)
                )  # 256 % 10 != 0: the bias (0-5 slightly likelier) costs < 0.1 bit
                record["tx_code"] = _digest(tx_value)
                tx_object = {"input_mode": "numeric", "length": self.tx_code_length}
                if tx_code_description:
                    tx_object["description"] = tx_code_description[:300]
            self.store.put("pre_auth_code", code, record, expires_at=expires_at)
        if authorization_code:
            state = self._new_id()
            self.store.put("issuer_state", state, {"case_id": case_id}, expires_at=expires_at)
        data = CredentialOfferData(
            self.identifier,
            tuple(configuration_ids),
            code,
            tx_object,
            state,
            authorization_code,
        )
        if by_reference:
            offer_id = self._new_id()
            self.store.put("offer", offer_id, data.to_json(), expires_at=expires_at)
            uri = offer_uri(reference=self.endpoints.offer(offer_id))
        else:
            uri = offer_uri(data.to_json())
        return Offer(case_id, data, uri, tx_value, expires_at)

    def provide(self, case_id: str, type_name: str, claims: Mapping[str, Any]) -> None:
        """Supply the claims of a deferred credential; the wallet's next deferred request gets it.

        Raises ``invalid_request`` for an unknown (or expired) case or a type it does not hold.
        """
        now = self._now()
        case = self.store.get("case", case_id, now=now)
        if case is None or type_name not in case["claims"]:
            raise OID4VCIError("invalid_request", "no such case, or no such type in it")
        case["claims"][type_name] = dict(claims)
        self.store.put("case", case_id, case, expires_at=now + self.case_ttl)

    def notifications(self, case_id: str) -> list[dict[str, Any]]:
        """The events the wallet notified for a case's credentials, oldest first."""
        case = self.store.get("case", case_id, now=self._now())
        return list(case.get("events", [])) if case else []

    def offer_document(self, offer_id: str) -> dict[str, Any]:
        """The offer behind a ``credential_offer_uri`` (``invalid_request`` once it expired)."""
        found = self.store.get(
            "offer", _token_string(offer_id, "invalid_request", "offer id"), now=self._now()
        )
        if found is None:
            raise OID4VCIError(
                "invalid_request", "no such credential offer (or it expired)", status=404
            )
        return found

    # -- nonce endpoint -----------------------------------------------------------------

    def nonce(self) -> Reply:
        """A fresh ``c_nonce`` (single use, expiring), answered uncacheable."""
        value = self._new_id()
        self.store.put("c_nonce", value, {}, expires_at=self._now() + self.nonce_ttl)
        return Reply(200, {"c_nonce": value}, {"Cache-Control": "no-store"})

    # -- token endpoint -----------------------------------------------------------------

    def token(
        self,
        form: Mapping[str, str],
        *,
        dpop: str | None = None,
        url: str | None = None,
    ) -> Reply:
        """The Token Endpoint: exchange a pre-authorized or authorization code for an access token.

        ``form`` is the request's parameters (each once); ``dpop`` the value of a
        ``DPoP`` header, which binds the token to that key (RFC 9449). Refusals:
        ``unsupported_grant_type``, ``invalid_request`` (a missing or unexpected
        Transaction Code), ``invalid_grant`` (an unknown, used or expired code,
        a wrong Transaction Code or PKCE verifier), ``invalid_authorization_details``.
        """
        now = self._now()
        grant = form.get("grant_type")
        jkt = self._dpop_thumbprint(dpop, "POST", url or self.endpoints.token, now)
        if grant == PRE_AUTHORIZED_CODE:
            case_id, client_id, details = self._pre_authorized(form, now)
        elif grant == AUTHORIZATION_CODE:
            case_id, client_id, details = self._authorization_code(form, now, jkt)
        else:
            raise OID4VCIError("unsupported_grant_type", "grant_type is not supported here")
        case = self.store.get("case", case_id, now=now)
        if case is None:
            raise OID4VCIError("invalid_grant", "the issuance case behind this code has expired")
        allowed: list[str] = list(case["configuration_ids"])
        requested = self._authorization_details(form.get("authorization_details"), allowed)
        if requested is None:
            requested = details
        access_token = self._new_id()
        record: dict[str, Any] = {
            "case_id": case_id,
            "configuration_ids": allowed,
            "client_id": client_id,
            "jkt": jkt,
            "expires": now + self.token_ttl,
        }
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "DPoP" if jkt else "Bearer",
            "expires_in": int(self.token_ttl),
        }
        if requested is not None:
            identifiers: dict[str, str] = {}
            out_details = []
            for cid in requested:
                identifier = f"{cid}#{self._new_id()[:16]}"
                identifiers[identifier] = cid
                out_details.append(
                    {
                        "type": "openid_credential",
                        "credential_configuration_id": cid,
                        "credential_identifiers": [identifier],
                    }
                )
            record["identifiers"] = identifiers
            body["authorization_details"] = out_details
        self.store.put("access_token", access_token, record, expires_at=now + self.token_ttl)
        return Reply(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _pre_authorized(
        self, form: Mapping[str, str], now: float
    ) -> tuple[str, str | None, list[str] | None]:
        code = _token_string(
            form.get("pre-authorized_code"), "invalid_request", "pre-authorized_code"
        )
        record = self.store.take("pre_auth_code", code, now=now)
        if record is None:
            raise OID4VCIError(
                "invalid_grant", "the pre-authorized code is unknown, used or expired"
            )
        given = form.get("tx_code")
        expected = record.get("tx_code")
        if expected is None and given is not None:
            self._put_back_code(code, record, now)
            raise OID4VCIError("invalid_request", "this offer asks for no tx_code")
        if expected is not None:
            if given is None:
                self._put_back_code(code, record, now)
                raise OID4VCIError("invalid_request", "this offer needs the tx_code")
            if not hmac.compare_digest(_digest(given[:_MAX_TOKEN]), expected):
                record["attempts"] = record.get("attempts", 0) + 1
                if record["attempts"] < 3:  # three wrong guesses burn the code
                    self._put_back_code(code, record, now)
                raise OID4VCIError("invalid_grant", "the tx_code is wrong")
        return record["case_id"], form.get("client_id"), None

    def _put_back_code(self, code: str, record: Mapping[str, Any], now: float) -> None:
        # Only a correct exchange spends the code; a malformed request does not.
        self.store.put("pre_auth_code", code, record, expires_at=record.get("expires", now + 1))

    def _authorization_details(self, raw: str | None, allowed: Sequence[str]) -> list[str] | None:
        if raw is None:
            return None
        try:
            details = loads(raw, what="authorization_details", max_bytes=16384, max_depth=8)
        except SSIWalletError as exc:
            raise OID4VCIError("invalid_authorization_details", f"not JSON: {exc}") from exc
        if not isinstance(details, list) or not 0 < len(details) <= _MAX_AUTHORIZATION_DETAILS:
            raise OID4VCIError("invalid_authorization_details", "a non-empty, short JSON array")
        out: list[str] = []
        for item in details:
            if not isinstance(item, dict) or item.get("type") != "openid_credential":
                raise OID4VCIError(
                    "invalid_authorization_details", "each entry is of type openid_credential"
                )
            cid = item.get("credential_configuration_id")
            if not isinstance(cid, str) or cid not in self.configurations:
                raise OID4VCIError(
                    "invalid_authorization_details", "unknown credential_configuration_id"
                )
            if cid not in allowed:
                raise OID4VCIError(
                    "invalid_authorization_details", f"{cid} was not offered to this case"
                )
            locations = item.get("locations")
            if locations is not None and self.identifier not in (locations or []):
                raise OID4VCIError(
                    "invalid_authorization_details", "locations must name this Credential Issuer"
                )
            if cid not in out:
                out.append(cid)
        return out

    # -- authorization code flow (PAR, authorize, PKCE) ---------------------------------

    def pushed_authorization_request(
        self, form: Mapping[str, str], *, dpop: str | None = None, url: str | None = None
    ) -> Reply:
        """The PAR endpoint (RFC 9126): keep the authorization request, answer its ``request_uri``.

        Checks what the request carries: ``response_type=code``, a ``client_id``,
        an absolute ``redirect_uri``, PKCE with ``S256`` only (RFC 7636; ``plain``
        is refused), the credentials asked for (``authorization_details`` of
        type ``openid_credential`` and/or ``scope`` values naming
        configurations); ``issuer_state`` is kept for the authorization step.
        The client's DPoP key, given as a ``DPoP`` proof (``dpop``, the header)
        and/or as ``dpop_jkt`` (its JWK thumbprint), is bound to the code: the
        token request must prove that key (RFC 9449 sections 10 and 10.1).
        Refusals: ``invalid_request``, ``invalid_scope``,
        ``invalid_authorization_details``, ``invalid_dpop_proof``.
        """
        now = self._now()
        if "request_uri" in form:
            raise OID4VCIError("invalid_request", "request_uri must not be pushed (RFC 9126 2.1)")
        if form.get("response_type") != "code":
            raise OID4VCIError("unsupported_response_type", "response_type must be code")
        client_id = _token_string(form.get("client_id"), "invalid_request", "client_id")
        redirect_uri = form.get("redirect_uri")
        parts = urlsplit(redirect_uri or "")
        if not redirect_uri or len(redirect_uri) > 2048 or not parts.scheme or parts.fragment:
            raise OID4VCIError("invalid_request", "redirect_uri must be an absolute URI")
        if form.get("code_challenge_method") != "S256":
            raise OID4VCIError("invalid_request", "PKCE with code_challenge_method S256 is needed")
        challenge = form.get("code_challenge", "")
        if not (43 <= len(challenge) <= 128) or not all(
            c.isascii() and (c.isalnum() or c in "-._~") for c in challenge
        ):
            raise OID4VCIError("invalid_request", "code_challenge is malformed")
        everything = list(self.configurations)
        wanted = self._authorization_details(form.get("authorization_details"), everything)
        with_details = wanted is not None
        for scope in (form.get("scope") or "").split()[:_MAX_AUTHORIZATION_DETAILS]:
            if scope in self.configurations:  # unknown scope values are ignored (5.1.2)
                wanted = [*(wanted or []), scope] if scope not in (wanted or []) else wanted
        if not wanted:
            raise OID4VCIError("invalid_scope", "ask for a credential configuration")
        state = form.get("state")
        if state is not None and len(state) > _MAX_TOKEN:
            raise OID4VCIError("invalid_request", "state is too long")
        issuer_state = form.get("issuer_state")
        if issuer_state is not None and len(issuer_state) > _MAX_TOKEN:
            raise OID4VCIError("invalid_request", "issuer_state is too long")
        dpop_jkt = form.get("dpop_jkt")
        if dpop_jkt is not None and not _is_thumbprint(dpop_jkt):
            raise OID4VCIError("invalid_request", "dpop_jkt is not a SHA-256 JWK thumbprint")
        if dpop is not None:  # RFC 9449 10.1: the proof's key, the same as dpop_jkt if both
            proven = self._dpop_thumbprint(dpop, "POST", url or self.endpoints.par, now)
            if dpop_jkt is not None and proven != dpop_jkt:
                raise OID4VCIError(
                    "invalid_dpop_proof", "dpop_jkt is not the thumbprint of the DPoP proof's key"
                )
            dpop_jkt = proven
        request_uri = _REQUEST_URI_PREFIX + self._new_id()
        self.store.put(
            "request_uri",
            request_uri,
            {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "code_challenge": challenge,
                "configuration_ids": wanted,
                "details": with_details,
                "state": state,
                "issuer_state": issuer_state,
                "dpop_jkt": dpop_jkt,
            },
            expires_at=now + self.request_uri_ttl,
        )
        return Reply(
            201,
            {"request_uri": request_uri, "expires_in": int(self.request_uri_ttl)},
            {"Cache-Control": "no-store"},
        )

    def authorize(self, query: Mapping[str, str], *, case_id: str | None = None) -> str:
        """The authorization endpoint: the URL to redirect the user agent to.

        The request is the pushed one its ``request_uri`` names (single use;
        its ``client_id`` must match). Who the person is comes from the offer's
        ``issuer_state`` (the back office identified them when it made the
        offer) or, for an application that logs people in itself, from
        ``case_id``. Errors the client may see are redirected
        (``access_denied`` when no case is known); an unusable ``request_uri``
        or ``client_id`` raises ``invalid_request`` (never redirected: the
        redirect URI is not trusted then).
        """
        now = self._now()
        client_id = query.get("client_id")
        request_uri = query.get("request_uri")
        if not client_id or not request_uri or len(request_uri) > _MAX_TOKEN:
            raise OID4VCIError("invalid_request", "client_id and request_uri (from PAR) are needed")
        pushed = self.store.take("request_uri", request_uri, now=now)
        if pushed is None:
            raise OID4VCIError("invalid_request", "request_uri is unknown, used or expired")
        if not hmac.compare_digest(pushed["client_id"], client_id):
            raise OID4VCIError("invalid_request", "request_uri was pushed by another client")
        reply: dict[str, str] = {"iss": self.identifier}  # RFC 9207
        if pushed.get("state") is not None:
            reply["state"] = pushed["state"]
        if case_id is None and pushed.get("issuer_state"):
            held = self.store.take("issuer_state", pushed["issuer_state"], now=now)
            case_id = held["case_id"] if held else None
        case = self.store.get("case", case_id, now=now) if case_id else None
        if case is None:
            return _redirect(
                pushed["redirect_uri"],
                {
                    "error": "access_denied",
                    "error_description": "no issuance was prepared for this person",
                    **reply,
                },
            )
        wanted = [c for c in pushed["configuration_ids"] if c in case["configuration_ids"]]
        if not wanted:
            return _redirect(
                pushed["redirect_uri"],
                {
                    "error": "access_denied",
                    "error_description": "none of the credentials asked for was prepared",
                    **reply,
                },
            )
        code = self._new_id()
        self.store.put(
            "authorization_code",
            code,
            {
                "case_id": case_id,
                "client_id": client_id,
                "redirect_uri": pushed["redirect_uri"],
                "code_challenge": pushed["code_challenge"],
                "configuration_ids": wanted,
                "details": pushed["details"],
                "dpop_jkt": pushed.get("dpop_jkt"),
            },
            expires_at=now + self.code_ttl,
        )
        return _redirect(pushed["redirect_uri"], {"code": code, **reply})

    def _authorization_code(
        self, form: Mapping[str, str], now: float, jkt: str | None
    ) -> tuple[str, str | None, list[str] | None]:
        code = _token_string(form.get("code"), "invalid_request", "code")
        verifier = form.get("code_verifier")
        if verifier is None:
            raise OID4VCIError("invalid_request", "code_verifier is required (PKCE)")
        record = self.store.take("authorization_code", code, now=now)
        if record is None:
            raise OID4VCIError("invalid_grant", "the authorization code is unknown, used, expired")
        if form.get("client_id") != record["client_id"]:
            raise OID4VCIError("invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri") != record["redirect_uri"]:
            raise OID4VCIError("invalid_grant", "redirect_uri is not the one of the authorization")
        try:  # RFC 7636 4.6, S256 only
            verify_code_challenge(verifier, record["code_challenge"])
        except SSIWalletError as exc:
            raise OID4VCIError("invalid_grant", f"PKCE: {exc}") from exc
        bound = record.get("dpop_jkt")
        if bound is not None and (jkt is None or not hmac.compare_digest(jkt, bound)):
            # RFC 9449 10: the code is bound to the DPoP key of the authorization request
            raise OID4VCIError(
                "invalid_dpop_proof", "the code is bound to another DPoP key than this proof's"
            )
        details = record["configuration_ids"] if record.get("details") else None
        return record["case_id"], record["client_id"], details

    # -- DPoP ---------------------------------------------------------------------------

    def _dpop_thumbprint(
        self,
        proof: str | None,
        method: str,
        url: str,
        now: float,
        access_token: str | None = None,
        jkt: str | None = None,
    ) -> str | None:
        """Check a DPoP proof (RFC 9449 4.3, through credentials.oauth); its key's thumbprint.

        At the token endpoint (no ``access_token``) a 400 ``invalid_dpop_proof``;
        at a protected endpoint a 401 (RFC 9449 7.1).
        """
        if proof is None:
            if self.require_dpop and access_token is None:
                raise OID4VCIError(
                    "invalid_dpop_proof", "this server issues DPoP-bound tokens only"
                )
            return None
        fresh: str | None = None
        accepted: str | None = None
        if self.dpop_nonce:  # RFC 9449 8 and 9: proofs must carry a nonce this server gave
            accepted = _claimed_nonce(proof)
            if accepted is None or self.store.get("dpop_nonce", accepted, now=now) is None:
                fresh = self._new_id()
                self.store.put("dpop_nonce", fresh, {}, expires_at=now + self.nonce_ttl)
                accepted = fresh
        try:
            checked = verify_dpop_proof(
                proof,
                htm=method,
                htu=url,
                jti_store=self.jti_store,
                now=datetime.fromtimestamp(now, UTC),
                access_token=access_token,
                jkt=jkt,
                nonce=accepted,
                algs=self.dpop_algs,
            )
        except DPoPError as exc:
            status = 401 if access_token is not None else 400
            headers = {"DPoP-Nonce": fresh} if fresh and exc.oauth_error == "use_dpop_nonce" else {}
            raise OID4VCIError(exc.oauth_error, str(exc), status=status, headers=headers) from exc
        return checked.jkt

    # -- credential endpoint ------------------------------------------------------------

    def _access(
        self, authorization: str | None, dpop: str | None, method: str, url: str, now: float
    ) -> tuple[str, dict[str, Any]]:
        """The access token record, checked (RFC 6750 / RFC 9449); ``invalid_token`` otherwise."""
        if not authorization:
            raise OID4VCIError("invalid_token", "an access token is required", status=401)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "dpop") or not token or len(token) > _MAX_TOKEN:
            raise OID4VCIError("invalid_token", "send Authorization: Bearer (or DPoP) <token>")
        record = self.store.get("access_token", token, now=now)
        if record is None:
            raise OID4VCIError("invalid_token", "the access token is unknown or expired")
        if record.get("jkt"):
            if scheme.lower() != "dpop":
                raise OID4VCIError("invalid_token", "this access token is DPoP-bound: use DPoP")
            if dpop is None:
                raise OID4VCIError("invalid_dpop_proof", "a DPoP proof is required", status=401)
            self._dpop_thumbprint(dpop, method, url, now, token, record["jkt"])
        elif scheme.lower() == "dpop":
            raise OID4VCIError("invalid_token", "this access token is a bearer token")
        return token, record

    def credential(
        self,
        body: Mapping[str, Any] | str,
        *,
        authorization: str | None,
        dpop: str | None = None,
        url: str | None = None,
    ) -> Reply:
        """The Credential Endpoint: 200 with ``credentials``, or 202 with a ``transaction_id``.

        Refusals: ``invalid_token`` (401), ``insufficient_scope`` (403, a
        configuration the token was not issued for),
        ``invalid_credential_request``, ``unknown_credential_configuration``,
        ``unknown_credential_identifier``, ``invalid_proof``, ``invalid_nonce``,
        ``invalid_encryption_parameters``, ``credential_request_denied``.

        ``body`` is the request's JSON object, or the compact JWE of an
        encrypted request (``application/jwt``). When the request carries
        ``credential_response_encryption`` the answer (200 or 202) is a
        :class:`Reply` whose ``jwt`` is the encrypted response.
        """
        now = self._now()
        access, token = self._access(
            authorization, dpop, "POST", url or self.endpoints.credential, now
        )
        body, sealed = self._open_request(body)
        config = self._requested_configuration(body, token)
        seal = self._response_encryption(body, sealed)
        proofs = self._check_proofs(body.get("proofs"), token.get("client_id"), now)
        self._count_instances(access, token, config.id, len(proofs), now)
        case = self.store.get("case", token["case_id"], now=now)
        if case is None:
            raise OID4VCIError("credential_request_denied", "the issuance case has expired")
        claims = case["claims"].get(config.type_name)
        if claims is None:
            transaction_id = self._new_id()
            self.store.put(
                "transaction",
                transaction_id,
                {
                    "case_id": token["case_id"],
                    "configuration_id": config.id,
                    "keys": [p.key.to_jwk() for p in proofs],
                    "dids": [p.subject_for(config.format) for p in proofs],
                },
                expires_at=now + self.case_ttl,
            )
            return _sealed(self._pending(transaction_id), seal)
        holders = [(p.subject_for(config.format), p.key) for p in proofs]
        return _sealed(self._issue(config, claims, token["case_id"], holders), seal)

    def _pending(self, transaction_id: str) -> Reply:
        """202: the credential is deferred; ask again with ``transaction_id`` after ``interval``."""
        return Reply(
            202,
            {"transaction_id": transaction_id, "interval": self.deferred_interval},
            {"Cache-Control": "no-store"},
        )

    def _open_request(self, body: Mapping[str, Any] | str) -> tuple[Mapping[str, Any], bool]:
        """The request's parameters and whether it came encrypted (section 10)."""
        decryption = self.request_decryption
        if isinstance(body, str):
            if decryption is None:
                raise OID4VCIError(
                    "invalid_encryption_parameters", "this issuer takes no encrypted requests"
                )
            return decryption.open(body), True
        if decryption is not None and decryption.required:
            raise OID4VCIError(
                "invalid_encryption_parameters",
                "this issuer requires encrypted requests (credential_request_encryption)",
            )
        return body, False

    def _response_encryption(
        self, body: Mapping[str, Any], sealed: bool
    ) -> EncryptionParameters | None:
        """The checked ``credential_response_encryption`` of a request, or None.

        Refused (``invalid_encryption_parameters``): parameters this issuer
        does not support or that are malformed; none when encryption is
        required; parameters in a clear request (section 8.2: Credential
        Request encryption is then a must, so they cannot be substituted).
        """
        raw = body.get("credential_response_encryption")
        if raw is None:
            if self.require_response_encryption:
                raise OID4VCIError(
                    "invalid_encryption_parameters",
                    "this issuer encrypts every response: send credential_response_encryption",
                )
            return None
        if not self.response_encryption:
            raise OID4VCIError(
                "invalid_encryption_parameters", "this issuer does not encrypt credential responses"
            )
        if not sealed:
            raise OID4VCIError(
                "invalid_encryption_parameters",
                "credential_response_encryption must come in an encrypted request"
                " (credential_request_encryption)",
            )
        return read_response_encryption(raw)

    def _count_instances(
        self, access: str, token: dict[str, Any], configuration_id: str, count: int, now: float
    ) -> None:
        """One access token gets at most ``batch_size`` instances of each configuration.

        Without this bound one offer minted credentials without end (each taking a
        status list entry) for as long as its token lived; a wallet wanting more
        asks for a new offer. Counted before issuing, so a failed issuance spends them.
        """
        issued: dict[str, int] = dict(token.get("issued") or {})
        total = issued.get(configuration_id, 0) + count
        if total > self.batch_size:
            raise OID4VCIError(
                "credential_request_denied",
                f"this access token has had its {self.batch_size} instances of this credential",
            )
        issued[configuration_id] = total
        expires = token.get("expires", now + self.token_ttl)
        self.store.put("access_token", access, {**token, "issued": issued}, expires_at=expires)

    def _requested_configuration(
        self, body: Mapping[str, Any], token: Mapping[str, Any]
    ) -> CredentialConfiguration:
        identifier = body.get("credential_identifier")
        cid = body.get("credential_configuration_id")
        if "proof" in body:
            raise OID4VCIError(
                "invalid_credential_request", "'proof' is not OpenID4VCI 1.0: send 'proofs'"
            )
        if "format" in body:
            raise OID4VCIError(
                "invalid_credential_request", "'format' is not OpenID4VCI 1.0: name a configuration"
            )
        if (identifier is None) == (cid is None):
            raise OID4VCIError(
                "invalid_credential_request",
                "send exactly one of credential_identifier and credential_configuration_id",
            )
        identifiers: Mapping[str, str] | None = token.get("identifiers")
        if identifier is not None:
            if identifiers is None:
                raise OID4VCIError(
                    "invalid_credential_request",
                    "no credential_identifiers were issued with this token",
                )
            if not isinstance(identifier, str) or identifier not in identifiers:
                raise OID4VCIError(
                    "unknown_credential_identifier",
                    "this credential_identifier is not one of this token's",
                )
            return self.configurations[identifiers[identifier]]
        if identifiers is not None:
            raise OID4VCIError(
                "invalid_credential_request",
                "this token came with credential_identifiers: use credential_identifier",
            )
        if not isinstance(cid, str) or cid not in self.configurations:
            raise OID4VCIError(
                "unknown_credential_configuration", "no such credential configuration"
            )
        if cid not in token["configuration_ids"]:
            raise OID4VCIError(
                "insufficient_scope", "the access token does not cover this configuration"
            )
        return self.configurations[cid]

    def _check_proofs(self, proofs: Any, client_id: str | None, now: float) -> list[KeyProof]:
        """The keys a request's ``proofs`` prove (or attest), each checked; nonces spent last."""
        if not isinstance(proofs, dict) or len(proofs) != 1:
            raise OID4VCIError("invalid_proof", "proofs must hold exactly one proof type")
        ((kind, values),) = proofs.items()
        if kind not in self.proof_types:
            raise OID4VCIError(
                "invalid_proof", f"the proof types here are {', '.join(self.proof_types)}"
            )
        if not isinstance(values, list) or not values:
            raise OID4VCIError("invalid_proof", f"proofs.{kind} must be a non-empty array")
        if len(values) > self.batch_size:
            raise OID4VCIError("invalid_proof", f"at most {self.batch_size} proofs per request")
        at = datetime.fromtimestamp(now, UTC)
        nonces: list[str | None]
        if kind == "jwt":
            checked = [
                verify_jwt_proof(
                    t,
                    audience=self.identifier,
                    now=at,
                    algorithms=self.proof_algs,
                    nonce_required=True,
                    client_id=client_id,
                    max_age=self.proof_max_age,
                )
                for t in values
            ]
            nonces = [p.nonce for p in checked]
            if self.key_attestations is not None:
                checked = self._attested(checked, client_id, at, nonces)
        elif kind == "di_vp":
            checked = [
                verify_di_vp_proof(v, audience=self.identifier, now=at, client_id=client_id)
                for v in values
            ]
            nonces = [p.nonce for p in checked]
        else:  # attestation (F.3): exactly one, its nonce a c_nonce, no proof of possession
            assert self.key_attestations is not None
            if len(values) != 1:
                raise OID4VCIError("invalid_proof", "proofs.attestation holds exactly one JWT")
            attestation = verify_key_attestation(
                values[0],
                self.key_attestations,
                now=at,
                algorithms=self.proof_algs,
                in_jwt_proof=False,
                max_keys=self.batch_size,
            )
            if attestation.nonce is None:
                raise OID4VCIError("invalid_proof", "an attestation proof must carry a c_nonce")
            nonces = [attestation.nonce]
            checked = [
                KeyProof(k, None, attestation.nonce, attestation.issued_at, client_id)
                for k in attestation.keys
            ]
        if len(checked) > self.batch_size:
            raise OID4VCIError("invalid_proof", f"at most {self.batch_size} keys per request")
        if len({p.key.jwk_thumbprint() for p in checked}) != len(checked):
            raise OID4VCIError("invalid_proof", "each key proof must be by a distinct key")
        # Each proof's c_nonce must be live; a batch may share one (spent once) or
        # carry one per proof (each spent): both are what wallets do.
        for nonce in dict.fromkeys(nonces):
            assert nonce is not None
            if len(nonce) > _MAX_TOKEN or self.store.take("c_nonce", nonce, now=now) is None:
                raise OID4VCIError("invalid_nonce", "a c_nonce is unknown, used or expired")
        return checked

    def _attested(
        self,
        checked: list[KeyProof],
        client_id: str | None,
        at: datetime,
        nonces: list[str | None],
    ) -> list[KeyProof]:
        """``jwt`` proofs with a ``key_attestation`` (F.1): the attested keys they bind.

        The attestation must satisfy the policy and name the proof's key; a
        ``nonce`` in it must be a live ``c_nonce`` too (added to ``nonces``).
        Without an attestation a proof binds its own key, unless the policy
        requires one.
        """
        policy = self.key_attestations
        assert policy is not None
        bound: list[KeyProof] = []
        for proof in checked:
            if proof.key_attestation is None:
                if policy.required:
                    raise OID4VCIError(
                        "invalid_proof", "this issuer requires a key_attestation in each jwt proof"
                    )
                bound.append(proof)
                continue
            attestation = verify_key_attestation(
                proof.key_attestation,
                policy,
                now=at,
                algorithms=self.proof_algs,
                in_jwt_proof=True,
                max_keys=self.batch_size,
            )
            thumbprints = {k.jwk_thumbprint() for k in attestation.keys}
            if proof.key.jwk_thumbprint() not in thumbprints:
                raise OID4VCIError(
                    "invalid_proof", "the key proof is not signed by a key its attestation names"
                )
            if attestation.nonce is not None:
                nonces.append(attestation.nonce)
            bound.extend(
                KeyProof(k, None, proof.nonce, proof.issued_at, client_id) for k in attestation.keys
            )
        return bound

    def _issue(
        self,
        config: CredentialConfiguration,
        claims: Mapping[str, Any],
        case_id: str,
        holders: Sequence[tuple[str, Any]],
    ) -> Reply:
        credentials = []
        for holder_did, key in holders:
            try:
                issued = self.issuer.issue(
                    config.type_name,
                    subject=holder_did,
                    claims=claims,
                    format=config.issuer_format,  # type: ignore[arg-type]
                    holder_key=key,
                )
            except SSIWalletError as exc:
                raise OID4VCIError(
                    "credential_request_denied", f"the issuer cannot issue this credential: {exc}"
                ) from exc
            credentials.append({"credential": issued.credential})
        notification_id = self._new_id()
        self.store.put(
            "notification",
            notification_id,
            {"case_id": case_id, "configuration_id": config.id},
            expires_at=self._now() + self.case_ttl,
        )
        return Reply(
            200,
            {"credentials": credentials, "notification_id": notification_id},
            {"Cache-Control": "no-store"},
        )

    # -- deferred and notification endpoints ----------------------------------------------

    def deferred_credential(
        self,
        body: Mapping[str, Any] | str,
        *,
        authorization: str | None,
        dpop: str | None = None,
        url: str | None = None,
    ) -> Reply:
        """The Deferred Credential Endpoint: the credentials once ready (200), else 202 again.

        Refusals: ``invalid_token``, ``invalid_transaction_id`` (unknown, of
        another case, or already used), ``invalid_encryption_parameters``.
        """
        now = self._now()
        _, token = self._access(
            authorization, dpop, "POST", url or self.endpoints.deferred_credential, now
        )
        body, sealed = self._open_request(body)
        # the parameters of this request, not those of the first (section 9.2)
        seal = self._response_encryption(body, sealed)
        tid = body.get("transaction_id")
        if not isinstance(tid, str) or len(tid) > _MAX_TOKEN:
            raise OID4VCIError("invalid_credential_request", "transaction_id is required")
        found = self.store.get("transaction", tid, now=now)
        if found is None or found["case_id"] != token["case_id"]:
            raise OID4VCIError("invalid_transaction_id", "no such transaction for this token")
        case = self.store.get("case", found["case_id"], now=now)
        config = self.configurations[found["configuration_id"]]
        claims = case["claims"].get(config.type_name) if case else None
        if claims is None:
            return _sealed(self._pending(tid), seal)
        if self.store.take("transaction", tid, now=now) is None:  # a racing request won
            raise OID4VCIError("invalid_transaction_id", "this transaction was just completed")
        from did_methods.keys import PublicKey

        holders = [
            (d, PublicKey.from_jwk(k)) for d, k in zip(found["dids"], found["keys"], strict=True)
        ]
        return _sealed(self._issue(config, claims, found["case_id"], holders), seal)

    def notification(
        self,
        body: Mapping[str, Any],
        *,
        authorization: str | None,
        dpop: str | None = None,
        url: str | None = None,
    ) -> Reply:
        """The Notification Endpoint: record the wallet's event (idempotent), answer 204.

        Refusals: ``invalid_token``, ``invalid_notification_id``,
        ``invalid_notification_request``.
        """
        now = self._now()
        url = url or self.endpoints.notification
        _, token = self._access(authorization, dpop, "POST", url, now)
        nid = body.get("notification_id")
        event = body.get("event")
        description = body.get("event_description")
        if not isinstance(nid, str) or event is None:
            raise OID4VCIError(
                "invalid_notification_request", "notification_id and event are required"
            )
        if event not in _NOTIFICATION_EVENTS:
            raise OID4VCIError("invalid_notification_request", "unknown event")
        if description is not None and (
            not isinstance(description, str)
            or len(description) > 1000
            or any(not (" " <= c <= "~") or c in '"\\' for c in description)
        ):
            raise OID4VCIError(
                "invalid_notification_request", "event_description must be short printable ASCII"
            )
        found = self.store.get("notification", nid[:_MAX_TOKEN], now=now)
        if found is None or found["case_id"] != token["case_id"]:
            raise OID4VCIError("invalid_notification_id", "no such notification_id for this token")
        case = self.store.get("case", found["case_id"], now=now)
        if case is not None:
            entry = {
                "notification_id": nid,
                "event": event,
                "configuration_id": found["configuration_id"],
            }
            if description is not None:
                entry["event_description"] = description
            events = case.setdefault("events", [])
            if entry not in events and len(events) < 64:
                events.append(entry)
                self.store.put("case", found["case_id"], case, expires_at=now + self.case_ttl)
        return Reply(204, None)

    # -- helpers ------------------------------------------------------------------------

    def _now(self) -> float:
        """The clock's instant, as seconds since the epoch (the unit of record expiries)."""
        return read_clock(self._clock).timestamp()

    def _new_id(self) -> str:
        from did_methods._wire.b64 import b64url_encode

        return b64url_encode(self._random(32))


def _claimed_nonce(proof: str) -> str | None:
    """The ``nonce`` a DPoP proof claims (unverified: only to look it up; the proof
    itself is then checked in full by ``verify_dpop_proof``)."""
    from credentials.jws import CompactJWS

    try:
        payload = CompactJWS.parse(proof, max_length=8192).payload
    except SSIWalletError:
        return None
    nonce = payload.get("nonce") if isinstance(payload, dict) else None
    return nonce if isinstance(nonce, str) and 0 < len(nonce) <= _MAX_TOKEN else None


def _sealed(reply: Reply, to: EncryptionParameters | None) -> Reply:
    """``reply`` encrypted to the wallet's key when it asked (whatever the content, 8.3)."""
    if to is None or reply.body is None:
        return reply
    return Reply(reply.status, None, reply.headers, jwt=encrypt_message(reply.body, to))


def _is_thumbprint(value: str) -> bool:
    """Whether ``value`` reads as a base64url SHA-256 JWK thumbprint (RFC 7638): 43 characters."""
    return len(value) == 43 and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)


def _redirect(uri: str, params: Mapping[str, str]) -> str:
    joiner = "&" if urlsplit(uri).query else "?"
    return uri + joiner + urlencode(params)
