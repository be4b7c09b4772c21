"""Credential Issuer metadata, Authorization Server metadata and Credential Offers.

Shared by both sides: the issuer builds these documents
(:class:`CredentialConfiguration`, :func:`issuer_metadata`), a wallet reads
them back (:func:`parse_offer_uri`, :func:`parse_offer`,
:func:`parse_issuer_metadata`) and must treat them as hostile input: every
parse is bounded and raises :class:`~ssi_wallet.oid4vci.errors.OID4VCIError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from credentials import schemas
from did_methods._wire.json import loads
from did_methods.errors import SSIWalletError
from did_methods.keys import KeyType
from ssi_wallet.oid4vci.errors import OID4VCIError

__all__ = [
    "AUTHORIZATION_CODE",
    "FORMATS",
    "OFFER_SCHEME",
    "PRE_AUTHORIZED_CODE",
    "CredentialConfiguration",
    "CredentialOfferData",
    "OfferFormat",
    "accepted_languages",
    "configurations_for",
    "offer_uri",
    "parse_issuer_metadata",
    "parse_offer",
    "parse_offer_uri",
    "weighted_entries",
    "well_known_url",
]

#: The Pre-Authorized Code grant type.
PRE_AUTHORIZED_CODE: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
#: The Authorization Code grant type.
AUTHORIZATION_CODE: Final = "authorization_code"
#: The custom URL scheme of a wallet's Credential Offer Endpoint.
OFFER_SCHEME: Final = "openid-credential-offer://"

#: Credential Format Identifiers we issue.
OfferFormat = Literal["dc+sd-jwt", "jwt_vc_json", "ldp_vc"]
FORMATS: Final[tuple[OfferFormat, ...]] = ("dc+sd-jwt", "jwt_vc_json", "ldp_vc")
# The short suffix of each format in a configuration id.
_SUFFIX: Final = {"dc+sd-jwt": "sd_jwt", "jwt_vc_json": "jwt_vc_json", "ldp_vc": "ldp_vc"}
_VC_V2: Final = "https://www.w3.org/ns/credentials/v2"

#: Largest offer, offer URI or metadata document a wallet reads.
MAX_OFFER_BYTES: Final = 64 * 1024
MAX_METADATA_BYTES: Final = 2 * 1024 * 1024
MAX_CONFIGURATIONS_IN_OFFER: Final = 32
_MAX_JSON_DEPTH: Final = 16


def well_known_url(identifier: str, suffix: str) -> str:
    """The well-known URL of ``identifier`` (OpenID4VCI 12.2.2, RFC 8414 3.1).

    ``/.well-known/<suffix>`` goes between the host and the path:
    ``https://h.example/tenant`` gives ``https://h.example/.well-known/<suffix>/tenant``.
    """
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{suffix}{path}", "", ""))


def _alg_of(key_type: KeyType) -> str:
    return key_type.jws_alg


@dataclass(frozen=True, slots=True)
class CredentialConfiguration:
    """One entry of ``credential_configurations_supported``: a vocabulary type in a format.

    ``id`` is ``<Type>.<format suffix>`` (``WorkPermit.sd_jwt``,
    ``WorkPermit.jwt_vc_json``, ``WorkPermit.ldp_vc``), also its ``scope``.
    ``issuer_format`` is what :meth:`ssi_wallet.issuer.Issuer.issue` calls the format.
    """

    id: str
    type_name: str
    format: OfferFormat
    issuer_format: str
    signing_alg: str

    def to_json(
        self,
        proof_algs: Sequence[str],
        languages: Sequence[str] = ("en",),
        proof_types: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """This configuration as Credential Issuer metadata.

        ``proof_types`` is its ``proof_types_supported`` (by default the ``jwt``
        proof type with ``proof_algs``). Display names (of the credential and
        of each claim) are given in ``languages`` (the vocabulary has 14; a
        wallet names the ones it wants with ``Accept-Language``, see
        :func:`accepted_languages`).
        """
        entry: dict[str, Any] = {"format": self.format, "scope": self.id}
        if self.format == "dc+sd-jwt":
            entry["vct"] = schemas.vct(self.type_name)
            entry["cryptographic_binding_methods_supported"] = ["jwk"]
        else:
            definition: dict[str, Any] = {"type": ["VerifiableCredential", self.type_name]}
            if self.format == "ldp_vc":
                definition = {"@context": [_VC_V2, schemas.CONTEXT_URL], **definition}
            entry["credential_definition"] = definition
            entry["cryptographic_binding_methods_supported"] = ["did:key", "did:jwk"]
        entry["credential_signing_alg_values_supported"] = [self.signing_alg]
        entry["proof_types_supported"] = (
            dict(proof_types)
            if proof_types is not None
            else {"jwt": {"proof_signing_alg_values_supported": list(proof_algs)}}
        )
        entry["credential_metadata"] = {
            "display": [
                {"name": schemas.display_name(self.type_name, lang), "locale": lang}
                for lang in languages
            ],
            "claims": [
                {
                    "path": self.claim_path(claim),
                    "display": [
                        {"name": schemas.claim_label(self.type_name, claim, lang), "locale": lang}
                        for lang in languages
                    ],
                }
                for claim in schemas.claim_names(self.type_name)
                if claim != "id"
            ],
        }
        return entry

    def claim_path(self, claim: str) -> list[str]:
        """Where ``claim`` sits in a credential of this format (a claims path pointer)."""
        if self.format == "dc+sd-jwt":
            return [claim]
        return ["credentialSubject", claim]


def weighted_entries(header: str | None) -> list[tuple[str, float]]:
    """The entries of an ``Accept``-style header with their ``q`` (RFC 9110 12.4.2), in order.

    Values are lower-cased and stripped of other parameters; a ``q`` that is
    not a number counts as 0; at most 32 entries are read.
    """
    out: list[tuple[str, float]] = []
    for item in (header or "").split(",")[:32]:
        value, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            param = param.strip()
            if param.startswith("q="):
                try:
                    quality = float(param[2:7])
                except ValueError:
                    quality = 0.0
        out.append((value.strip().lower(), quality))
    return out


def accepted_languages(header: str | None) -> tuple[str, ...]:
    """The vocabulary's languages ``Accept-Language`` asks for, best first (``en`` if none).

    Only the primary subtag counts (``fr-CH`` is ``fr``); ``q=0`` excludes; at
    most 32 entries of the header are read.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, (tag, quality) in enumerate(weighted_entries(header)):
        base = tag.split("-", 1)[0]
        if quality > 0 and base in schemas.LANGUAGES:
            ranked.append((-quality, position, base))
    chosen = tuple(dict.fromkeys(lang for _, _, lang in sorted(ranked)))
    return chosen or ("en",)


def configurations_for(
    key_type: KeyType, types: Sequence[str] = schemas.CREDENTIAL_TYPES
) -> dict[str, CredentialConfiguration]:
    """Every configuration an issuer with a ``key_type`` key offers for ``types``.

    SD-JWT VC and ``jwt_vc_json`` (a VC Data Model 1.1 JWT) for any signing key; Data
    Integrity (``ldp_vc``: ``eddsa-jcs-2022`` for Ed25519, ``ecdsa-jcs-2019``
    for P-256/P-384).
    """
    out: dict[str, CredentialConfiguration] = {}
    jws_alg = _alg_of(key_type)
    for type_name in types:
        schemas.vct(type_name)  # an unknown type raises here
        for fmt in FORMATS:
            if fmt == "ldp_vc":
                if key_type is KeyType.ED25519:
                    issuer_format, alg = "di-eddsa", "eddsa-jcs-2022"
                elif key_type in (KeyType.P256, KeyType.P384):
                    issuer_format, alg = "di-ecdsa", "ecdsa-jcs-2019"
                else:
                    continue
            else:
                # jwt_vc_json is the VC Data Model 1.1 JWT of OpenID4VCI A.1.1
                issuer_format = "sd-jwt" if fmt == "dc+sd-jwt" else "jwt_vc_json"
                alg = jws_alg
            cid = f"{type_name}.{_SUFFIX[fmt]}"
            out[cid] = CredentialConfiguration(cid, type_name, fmt, issuer_format, alg)
    return out


@dataclass(frozen=True, slots=True)
class CredentialOfferData:
    """A Credential Offer object (OpenID4VCI 4.1.1), read and checked.

    ``pre_authorized_code`` and ``tx_code`` (the description object; ``None``
    when no Transaction Code is asked for) come from the pre-authorized grant,
    ``issuer_state`` from the authorization code grant.
    """

    credential_issuer: str
    credential_configuration_ids: tuple[str, ...]
    pre_authorized_code: str | None = None
    tx_code: Mapping[str, Any] | None = None
    issuer_state: str | None = None
    authorization_code: bool = False

    def to_json(self) -> dict[str, Any]:
        """The offer object as sent."""
        grants: dict[str, Any] = {}
        if self.authorization_code:
            grants[AUTHORIZATION_CODE] = (
                {"issuer_state": self.issuer_state} if self.issuer_state else {}
            )
        if self.pre_authorized_code is not None:
            grant: dict[str, Any] = {"pre-authorized_code": self.pre_authorized_code}
            if self.tx_code is not None:
                grant["tx_code"] = dict(self.tx_code)
            grants[PRE_AUTHORIZED_CODE] = grant
        out: dict[str, Any] = {
            "credential_issuer": self.credential_issuer,
            "credential_configuration_ids": list(self.credential_configuration_ids),
        }
        if grants:
            out["grants"] = grants
        return out


def offer_uri(offer: Mapping[str, Any] | None = None, *, reference: str | None = None) -> str:
    """``openid-credential-offer://?credential_offer=...`` or ``...?credential_offer_uri=...``."""
    if (offer is None) == (reference is None):
        raise ValueError("give the offer or its reference, not both")
    if reference is not None:
        return f"{OFFER_SCHEME}?credential_offer_uri={quote(reference, safe='')}"
    text = json.dumps(offer, separators=(",", ":"), ensure_ascii=False)
    return f"{OFFER_SCHEME}?credential_offer={quote(text, safe='')}"


def _bad(message: str) -> OID4VCIError:
    return OID4VCIError("invalid_credential_offer", message)


def parse_offer_uri(uri: str) -> tuple[Mapping[str, Any] | None, str | None]:
    """Split an offer URI into the offer object (by value) or its URL (by reference).

    Accepts the ``openid-credential-offer://`` scheme and any ``https`` link with
    the same query. Exactly one of ``credential_offer`` and
    ``credential_offer_uri`` must be present. Raises ``invalid_credential_offer``.
    """
    if not isinstance(uri, str) or len(uri) > MAX_OFFER_BYTES * 3:
        raise _bad("a credential offer URI is a string of bounded length")
    parts = urlsplit(uri.strip())
    if parts.scheme not in ("openid-credential-offer", "https", "http"):
        raise _bad(f"unsupported credential offer scheme {parts.scheme[:20]!r}")
    try:
        pairs = parse_qsl(parts.query, strict_parsing=True, max_num_fields=8)
    except ValueError as exc:
        raise _bad(f"the offer URI's query cannot be read: {exc}") from exc
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise _bad("the offer URI repeats a parameter")
    query = dict(pairs)
    by_value = query.get("credential_offer")
    by_reference = query.get("credential_offer_uri")
    if (by_value is None) == (by_reference is None):
        raise _bad("an offer URI holds exactly one of credential_offer and credential_offer_uri")
    if by_reference is not None:
        return None, by_reference
    assert by_value is not None
    return parse_offer(by_value.encode("utf-8")), None


def _read_json(data: bytes | str | Mapping[str, Any], limit: int, what: str) -> dict[str, Any]:
    if isinstance(data, Mapping):
        return dict(data)
    try:
        value = loads(data, what=what, max_bytes=limit, max_depth=_MAX_JSON_DEPTH)
    except SSIWalletError as exc:
        raise OID4VCIError("invalid_response", f"{what} is not strict JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise OID4VCIError("invalid_response", f"{what} must be a JSON object")
    return value


def _string(value: Any, what: str, limit: int = 4096) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _bad(f"{what} must be a non-empty string of at most {limit} characters")
    return value


def parse_offer(data: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    """Read a Credential Offer object (strict JSON, bounded) into a checked mapping.

    Returns the object itself (unknown members kept, as the wallet must ignore
    them); :func:`read_offer` turns it into :class:`CredentialOfferData`.
    """
    offer = _read_json(data, MAX_OFFER_BYTES, "the credential offer")
    read_offer(offer)
    return offer


def read_offer(offer: Mapping[str, Any]) -> CredentialOfferData:
    """The checked :class:`CredentialOfferData` of an offer; ``invalid_credential_offer`` if not."""
    if not isinstance(offer, Mapping):
        raise _bad("the credential offer must be a JSON object")
    issuer = _string(offer.get("credential_issuer"), "credential_issuer", 2048)
    ids = offer.get("credential_configuration_ids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > MAX_CONFIGURATIONS_IN_OFFER
        or len(set(map(str, ids))) != len(ids)
    ):
        raise _bad("credential_configuration_ids must be a non-empty array of unique strings")
    config_ids = tuple(_string(i, "a credential configuration id", 256) for i in ids)
    grants = offer.get("grants", {})
    if not isinstance(grants, dict):
        raise _bad("grants must be an object")
    pre = grants.get(PRE_AUTHORIZED_CODE)
    code = tx_code = None
    if pre is not None:
        if not isinstance(pre, dict):
            raise _bad("the pre-authorized_code grant must be an object")
        code = _string(pre.get("pre-authorized_code"), "pre-authorized_code", 1024)
        tx_code = pre.get("tx_code")
        if tx_code is not None:
            if not isinstance(tx_code, dict):
                raise _bad("tx_code must be an object")
            if tx_code.get("input_mode", "numeric") not in ("numeric", "text"):
                raise _bad("tx_code.input_mode must be numeric or text")
            length = tx_code.get("length")
            if length is not None and (
                not isinstance(length, int) or isinstance(length, bool) or not 0 < length <= 64
            ):
                raise _bad("tx_code.length must be a small positive integer")
            description = tx_code.get("description")
            if description is not None and (
                not isinstance(description, str) or len(description) > 300
            ):
                raise _bad("tx_code.description must be a string of at most 300 characters")
    auth = grants.get(AUTHORIZATION_CODE)
    state = None
    if auth is not None:
        if not isinstance(auth, dict):
            raise _bad("the authorization_code grant must be an object")
        if "issuer_state" in auth:
            state = _string(auth["issuer_state"], "issuer_state", 1024)
    return CredentialOfferData(issuer, config_ids, code, tx_code, state, auth is not None)


def parse_issuer_metadata(data: bytes | Mapping[str, Any], identifier: str) -> dict[str, Any]:
    """Read Credential Issuer metadata fetched for ``identifier``; check what a wallet relies on.

    ``credential_issuer`` must equal ``identifier`` exactly (12.2.2: otherwise
    the metadata MUST NOT be used), ``credential_endpoint`` and
    ``credential_configurations_supported`` must be present. Raises
    ``invalid_issuer_metadata``.
    """
    metadata = _read_json(data, MAX_METADATA_BYTES, "the credential issuer metadata")

    def bad(message: str) -> OID4VCIError:
        return OID4VCIError("invalid_issuer_metadata", message)

    if metadata.get("credential_issuer") != identifier:
        raise bad("credential_issuer is not the identifier the metadata was fetched for")
    for name in (
        "credential_endpoint",
        "nonce_endpoint",
        "deferred_credential_endpoint",
        "notification_endpoint",
    ):
        value = metadata.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise bad(f"{name} must be a URL")
    if not isinstance(metadata.get("credential_endpoint"), str):
        raise bad("credential_endpoint is required")
    configurations = metadata.get("credential_configurations_supported")
    if not isinstance(configurations, dict) or not configurations:
        raise bad("credential_configurations_supported must be a non-empty object")
    if not all(isinstance(v, dict) for v in configurations.values()):
        raise bad("each credential configuration must be an object")
    servers = metadata.get("authorization_servers")
    if servers is not None and (
        not isinstance(servers, list) or not servers or not all(isinstance(s, str) for s in servers)
    ):
        raise bad("authorization_servers must be a non-empty array of strings")
    batch = metadata.get("batch_credential_issuance")
    if batch is not None and (
        not isinstance(batch, dict)
        or not isinstance(batch.get("batch_size"), int)
        or batch["batch_size"] < 2
    ):
        raise bad("batch_credential_issuance.batch_size must be an integer of 2 or more")
    return metadata
