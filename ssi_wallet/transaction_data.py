"""Transaction data (OpenID4VP 1.0 section 5.1 and appendix B.3.3): a verifier asks the
holder to authorise a transaction (accept a contract, sign a tenancy, ...) with the same
key that proves possession of a credential, and the holder binds it to that proof.

Each item travels as a base64url-encoded JSON object with a ``type``, the
``credential_ids`` (DCQL credential query ids) whose presentation may authorise it,
optionally ``transaction_data_hashes_alg``, and the type's own members. The holder
puts, in the Key Binding JWT of the SD-JWT VC it presents for one of those queries,
``transaction_data_hashes`` (the base64url SHA-256 of each item's string *as received*,
never decoded first) and, when the request named algorithms,
``transaction_data_hashes_alg``. Only SD-JWT VCs with holder binding can carry it.

Sans-IO, used by both ends:

* :func:`parse_transaction_data` - read one item (the wallet, and the Holder again
  before it signs anything);
* :func:`encode_transaction_data` - the verifier's side: check and encode an item;
* :func:`bind_transaction_data` - which presented query's KB-JWT carries which items;
* :func:`check_transaction_data` - the verifier's check of a ``vp_token`` against the
  items it sent, as :class:`~ssi_wallet.policies.Finding` s.

Errors: :class:`TransactionDataError` (a :class:`~did_methods.errors.ParseError`) with a
``code``: ``transaction_data_invalid`` (malformed, naming no SD-JWT credential query,
an unsupported hash algorithm) or ``transaction_data_unsupported`` (a type the wallet
does not know).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from credentials.jws import dumps
from credentials.sd_jwt import SdJwt
from did_methods._wire.b64 import b64url_decode, b64url_encode
from did_methods._wire.json import loads_object
from did_methods.errors import ParseError, SSIWalletError
from ssi_wallet.dcql import DCQLQuery
from ssi_wallet.policies import Finding

__all__ = [
    "HASH_ALGS",
    "MAX_ITEMS",
    "MAX_ITEM_CHARS",
    "TransactionData",
    "TransactionDataError",
    "bind_transaction_data",
    "check_transaction_data",
    "encode_transaction_data",
    "kb_claims",
    "parse_transaction_data",
    "transaction_data_hash",
]

#: The hash algorithms we compute (IANA Named Information names); sha-256 is the default.
HASH_ALGS: Final = ("sha-256",)
#: Most items one request may carry.
MAX_ITEMS: Final = 16
#: Longest item (characters of its base64url form).
MAX_ITEM_CHARS: Final = 8192
_MAX_IDS: Final = 16


class TransactionDataError(ParseError):
    """A transaction data item was refused; ``code`` says why (stable)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class TransactionData:
    """One item as read: ``raw`` the base64url string as received (what is hashed),
    ``type``, ``credential_ids``, ``hash_algs`` (``None``: not named, sha-256 used)
    and ``details`` (the type's own members, for the consent prompt)."""

    raw: str
    type: str
    credential_ids: tuple[str, ...]
    hash_algs: tuple[str, ...] | None
    details: Mapping[str, Any]


def _invalid(message: str) -> TransactionDataError:
    return TransactionDataError("transaction_data_invalid", message)


def parse_transaction_data(
    raw: Any, query: DCQLQuery, *, types: Collection[str] | None = None
) -> TransactionData:
    """Read one item against the request's DCQL ``query``.

    It must decode to a JSON object with a string ``type`` (one of ``types`` unless
    that is ``None``), ``credential_ids`` naming credential queries of ``query`` that
    ask for an SD-JWT VC with holder binding, and, if present, a
    ``transaction_data_hashes_alg`` listing ``sha-256``. Raises
    :class:`TransactionDataError`.
    """
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_ITEM_CHARS:
        raise _invalid(f"an item is a base64url string of at most {MAX_ITEM_CHARS} characters")
    try:
        data = loads_object(b64url_decode(raw), what="transaction data", max_depth=16)
    except ParseError as exc:
        raise _invalid(f"an item is not base64url JSON: {exc}") from exc
    kind, ids = data.get("type"), data.get("credential_ids")
    if not isinstance(kind, str) or not kind or len(kind) > 256:
        raise _invalid("type must be a non-empty string")
    if types is not None and kind not in types:
        raise TransactionDataError(
            "transaction_data_unsupported", f"transaction data type {kind[:80]!r} is not known"
        )
    if (
        not isinstance(ids, list)
        or not 0 < len(ids) <= _MAX_IDS
        or not all(isinstance(i, str) for i in ids)
    ):
        raise _invalid("credential_ids must be a non-empty array of strings")
    queries = {q.id: q for q in query.credentials}
    for cid in ids:
        q = queries.get(cid)
        if q is None:
            raise _invalid(f"credential_ids names no credential query: {cid[:80]!r}")
        if q.format != "dc+sd-jwt" or not q.require_cryptographic_holder_binding:
            raise _invalid(f"{cid[:80]!r} asks for no SD-JWT VC with holder binding")
    algs = data.get("transaction_data_hashes_alg")
    if algs is not None:
        if not isinstance(algs, list) or not algs or not all(isinstance(a, str) for a in algs):
            raise _invalid("transaction_data_hashes_alg must be a non-empty array of strings")
        if not any(a in HASH_ALGS for a in algs):
            raise _invalid(f"no hash algorithm we compute ({', '.join(HASH_ALGS)}) is offered")
    details = {
        k: v
        for k, v in data.items()
        if k not in ("type", "credential_ids", "transaction_data_hashes_alg")
    }
    return TransactionData(raw, kind, tuple(ids), None if algs is None else tuple(algs), details)


def encode_transaction_data(item: Mapping[str, Any], query: DCQLQuery) -> str:
    """The verifier's side: check ``item`` (as :func:`parse_transaction_data` would) and
    return its base64url JSON string. Raises :class:`TransactionDataError`."""
    raw = b64url_encode(dumps(dict(item)))
    parse_transaction_data(raw, query)
    return raw


def transaction_data_hash(raw: str) -> str:
    """The base64url SHA-256 of an item's string as received (not decoded)."""
    return b64url_encode(hashlib.sha256(raw.encode("ascii")).digest())


def bind_transaction_data(
    items: Sequence[TransactionData], presented: Sequence[str]
) -> dict[str, list[TransactionData]]:
    """Which presented credential query (of ``presented``, in order) binds each item:
    the first of its ``credential_ids`` that is presented (one credential authorises
    it, as the specification asks). Raises :class:`TransactionDataError` when an item
    names no presented query."""
    bound: dict[str, list[TransactionData]] = {}
    for item in items:
        chosen = next((cid for cid in item.credential_ids if cid in presented), None)
        if chosen is None:
            raise _invalid(f"no presented credential can authorise {item.type[:80]!r}")
        bound.setdefault(chosen, []).append(item)
    return bound


def kb_claims(items: Sequence[TransactionData]) -> dict[str, Any]:
    """The Key Binding JWT claims binding ``items`` (appendix B.3.3.1)."""
    claims: dict[str, Any] = {
        "transaction_data_hashes": [transaction_data_hash(i.raw) for i in items]
    }
    if any(i.hash_algs is not None for i in items):
        claims["transaction_data_hashes_alg"] = "sha-256"
    return claims


def check_transaction_data(
    items: Sequence[str], query: DCQLQuery, vp_token: Mapping[str, Sequence[Any]]
) -> list[Finding]:
    """The verifier's check: each item the request carried is bound, by its hash, in
    the Key Binding JWT of a presented SD-JWT VC of one of its ``credential_ids``, with
    an algorithm it allowed, and no KB-JWT names a hash of no item. Returns one
    finding per item (``transaction_data_bound`` or ``transaction_data_unbound``) and
    ``transaction_data_unexpected`` for a stray hash. The KB-JWT's signature, nonce
    and audience are the Verifier's own checks of the same presentation."""
    parsed = [parse_transaction_data(raw, query) for raw in items]
    claims: dict[str, list[Mapping[str, Any]]] = {}
    for query_id, presentations in vp_token.items():
        for presentation in presentations:
            payload = _kb_payload(presentation)
            if payload is not None:
                claims.setdefault(query_id, []).append(payload)
    findings: list[Finding] = []
    known = {transaction_data_hash(i.raw) for i in parsed}
    for item in parsed:
        digest = transaction_data_hash(item.raw)
        bound = any(
            _binds(payload, digest, item)
            for cid in item.credential_ids
            for payload in claims.get(cid, [])
        )
        if bound:
            findings.append(
                Finding(
                    "transaction_data_bound",
                    True,
                    f"the holder authorised the {item.type} transaction",
                    None,
                    {"type": item.type},
                )
            )
        else:
            findings.append(
                Finding(
                    "transaction_data_unbound",
                    False,
                    f"no key-bound presentation authorises the {item.type} transaction",
                    None,
                    {"type": item.type},
                )
            )
    for query_id, payloads in claims.items():
        for payload in payloads:
            hashes = payload.get("transaction_data_hashes")
            if hashes is not None and (
                # a hash is a string: anything else (an object, an array: unhashable)
                # is as stray as an unknown one
                not isinstance(hashes, list)
                or any(not isinstance(h, str) or h not in known for h in hashes)
            ):
                findings.append(
                    Finding(
                        "transaction_data_unexpected",
                        False,
                        "a presentation authorises a transaction this request did not carry",
                        query_id,
                    )
                )
    return findings


def _kb_payload(presentation: Any) -> Mapping[str, Any] | None:
    if not isinstance(presentation, str) or "~" not in presentation:
        return None
    try:
        kb = SdJwt.parse(presentation).kb_jwt
    except SSIWalletError:
        return None
    payload = None if kb is None else kb.payload
    return payload if isinstance(payload, Mapping) else None


def _binds(payload: Mapping[str, Any], digest: str, item: TransactionData) -> bool:
    hashes = payload.get("transaction_data_hashes")
    if not isinstance(hashes, list) or digest not in hashes:
        return False
    alg = payload.get("transaction_data_hashes_alg")
    if item.hash_algs is None:
        return alg is None or alg == "sha-256"
    return alg in item.hash_algs and alg in HASH_ALGS
