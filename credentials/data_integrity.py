"""W3C Data Integrity proofs with the JCS and RDFC cryptosuites of vc-di-eddsa and vc-di-ecdsa.

A proof is a ``DataIntegrityProof`` object in the document's ``proof``
member. The four cryptosuites follow one recipe (vc-di-eddsa and vc-di-ecdsa)
and differ in the canonicalisation C: JCS (RFC 8785) for the "jcs" suites,
RDFC-1.0 canonical N-Quads (:mod:`credentials.rdfc`, the ``rdf`` extra) for the
"rdfc" suites::

    proofConfig   = the proof options without proofValue
                    (+ the document's @context, when the document has one)
    canonicalDoc  = C(document without proof)
    hashData      = H(C(proofConfig)) || H(canonicalDoc)
    proofValue    = "z" + base58btc(sign(hashData))

with H = SHA-256 for Ed25519 and P-256 and SHA-384 for P-384; ECDSA
signatures are raw ``r || s`` (the signature itself hashes ``hashData`` again
with the curve's hash, as the vectors do).

:func:`add_proof` adds one proof; a document that already has proofs gets a
*proof set* (``proof`` becomes a list, every proof signing the document
without any proofs). :func:`verify_proof` checks every proof of a set (and
proof chains through ``previousProof``) and returns what it verified or
raises :class:`~credentials.errors.VerificationError` with one of these codes:

``proof_missing``              the document has no ``proof``
``proof_malformed``            a proof object breaks Data Integrity syntax
``cryptosuite_unsupported``    not a DataIntegrityProof with one of our four suites (or an
                               rdfc suite without PyLD installed)
``term_undefined`` / ``context_unknown`` / ``jsonld_invalid`` / ``rdfc_too_complex``
                               an rdfc proof over a document that cannot be
                               canonicalised safely (:mod:`credentials.rdfc`)
``proof_purpose_mismatch``     ``proofPurpose`` is not the one the verifier expects
``challenge_mismatch``         the expected ``challenge`` is absent or different
``domain_mismatch``            the expected ``domain`` is absent or different
``proof_not_yet_valid``        ``created`` lies in the future
``proof_expired``              ``expires`` lies in the past
``verification_method_unresolvable``  the method's DID or the method could not be found
``key_not_authorised``         the method is not listed under the proof purpose
``key_not_issuer`` / ``key_not_holder``  the method belongs to another DID than
                               the credential's issuer / the presentation's holder
``key_unknown`` / ``key_use_forbidden`` / ``key_alg_mismatch`` / ``key_unsupported`` /
``key_ambiguous``              a URL method of a verifier's key set
                               (:class:`credentials.keysets.IssuerKeys`) refused
``key_type_mismatch``          the key does not fit the cryptosuite
``previous_proof_missing``     a chained proof names a proof that is not there
``signature_invalid``          the signature (or its encoding) does not verify

Steps run in that order, proof by proof (:data:`STEP_OF_CODE` gives each
code's step), so a caller knows which steps passed before the one that failed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final, Protocol

from credentials._jws import DEFAULT_CLOCK_SKEW
from credentials.errors import ParseError, ValidationError, VerificationError
from credentials.jcs import canonicalize
from credentials.keysets import issuer_key_source
from credentials.model import parse_datetime
from credentials.rdfc import RdfCanonicalizationError, canonicalize_rdf
from did_methods.document import VerificationMethod
from did_methods.encoding import multibase_decode, multibase_encode
from did_methods.errors import (
    InvalidDID,
    InvalidKey,
    ResolutionError,
    SSIWalletError,
    UnsupportedError,
)
from did_methods.keys import KeyType, PrivateKey, PublicKey

__all__ = [
    "CRYPTOSUITES",
    "ECDSA_JCS_2019",
    "ECDSA_RDFC_2019",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "STEP_OF_CODE",
    "AuthorisedControllers",
    "DataIntegrityProof",
    "KeyControllerPolicy",
    "MethodResolver",
    "VerifiedProof",
    "add_proof",
    "hash_data",
    "verify_proof",
]

#: The cryptosuite names, as they appear in ``proof.cryptosuite``.
EDDSA_JCS_2022: Final = "eddsa-jcs-2022"
ECDSA_JCS_2019: Final = "ecdsa-jcs-2019"
EDDSA_RDFC_2022: Final = "eddsa-rdfc-2022"
ECDSA_RDFC_2019: Final = "ecdsa-rdfc-2019"

#: The cryptosuites we create and verify, with the key types each accepts.
CRYPTOSUITES: Final[Mapping[str, frozenset[KeyType]]] = {
    EDDSA_JCS_2022: frozenset({KeyType.ED25519}),
    ECDSA_JCS_2019: frozenset({KeyType.P256, KeyType.P384}),
    EDDSA_RDFC_2022: frozenset({KeyType.ED25519}),
    ECDSA_RDFC_2019: frozenset({KeyType.P256, KeyType.P384}),
}
_RDFC_SUITES: Final = frozenset({EDDSA_RDFC_2022, ECDSA_RDFC_2019})

#: The verification step each failure code belongs to: ``signature`` (proof
#: syntax, suite, key fit and the signature itself), ``proof_purpose``,
#: ``proof_options`` (challenge, domain, created, expires) and
#: ``key_authorisation`` (resolution, authorisation, issuer/holder binding).
STEP_OF_CODE: Final[Mapping[str, str]] = {
    "proof_missing": "signature",
    "proof_malformed": "signature",
    "cryptosuite_unsupported": "signature",
    "term_undefined": "signature",
    "context_unknown": "signature",
    "jsonld_invalid": "signature",
    "rdfc_too_complex": "signature",
    "previous_proof_missing": "signature",
    "proof_purpose_mismatch": "proof_purpose",
    "challenge_mismatch": "proof_options",
    "domain_mismatch": "proof_options",
    "proof_not_yet_valid": "proof_options",
    "proof_expired": "proof_options",
    "verification_method_unresolvable": "key_authorisation",
    "key_not_authorised": "key_authorisation",
    "key_controller_mismatch": "key_authorisation",
    "key_not_issuer": "key_authorisation",
    "key_not_holder": "key_authorisation",
    "key_unknown": "key_authorisation",
    "key_use_forbidden": "key_authorisation",
    "key_alg_mismatch": "key_authorisation",
    "key_unsupported": "key_authorisation",
    "key_ambiguous": "key_authorisation",
    "kid_invalid": "key_authorisation",
    "key_type_mismatch": "signature",
    "signature_invalid": "signature",
}

_PROOF_TYPE: Final = "DataIntegrityProof"
_REQUIRED_TEXT: Final = ("type", "cryptosuite", "verificationMethod", "proofPurpose", "proofValue")
_OPTIONAL_TEXT: Final = ("challenge", "nonce", "id")
_MAX_PROOFS: Final = 16  # proofs in one set: far beyond real use, bounds the work
_MAX_PROOF_VALUE: Final = 512  # characters: an ECDSA P-384 signature is ~132
_DEFAULT_LEEWAY: Final = timedelta(seconds=DEFAULT_CLOCK_SKEW)
_SUITE_OF_KEY: Final = {
    KeyType.ED25519: EDDSA_JCS_2022,
    KeyType.P256: ECDSA_JCS_2019,
    KeyType.P384: ECDSA_JCS_2019,
}


def _proof_value(signature: bytes) -> str:
    """``z`` + base58btc(signature) (multibase)."""
    return multibase_encode(signature)


def _signature_bytes(proof_value: str) -> bytes:
    """Decode a multibase base58btc ``proofValue``; raises VerificationError."""
    try:
        if not 1 < len(proof_value) <= _MAX_PROOF_VALUE or proof_value[0] != "z":
            raise ParseError("not z + base58btc")
        return multibase_decode(proof_value)
    except ParseError:
        raise VerificationError(
            "signature_invalid", "proofValue is not multibase base58btc ('z' + base58)"
        ) from None


class MethodResolver(Protocol):
    """What :func:`verify_proof` needs from a resolver (``did_methods.resolver.Resolver``)."""

    def verification_method(self, did_url: str, purpose: str) -> VerificationMethod:
        """The method at ``did_url`` if authorised for ``purpose``; raises otherwise."""
        ...


def _hash_for(key_type: KeyType) -> Callable[[bytes], Any]:
    """The hashlib constructor of the suite's hash (SHA-384 for P-384, else SHA-256)."""
    return hashlib.sha384 if key_type is KeyType.P384 else hashlib.sha256


def _utc_seconds(moment: datetime) -> str:
    # isoformat of a UTC datetime ends in +00:00; the suites' examples use Z
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"


@dataclass(frozen=True, slots=True)
class DataIntegrityProof:
    """One ``DataIntegrityProof`` object, validated.

    ``options`` is the proof object without ``proofValue`` (what the proof
    configuration is made of); ``domain`` is always a tuple (the JSON may
    hold a string or a list); ``created``/``expires`` are aware datetimes.
    """

    type: str
    cryptosuite: str
    verification_method: str
    proof_purpose: str
    proof_value: str
    created: datetime | None = None
    expires: datetime | None = None
    challenge: str | None = None
    domain: tuple[str, ...] = ()
    nonce: str | None = None
    id: str | None = None
    previous_proof: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> DataIntegrityProof:
        """Validate a proof object.

        Raises :class:`~credentials.errors.ValidationError` listing every
        problem: missing or mistyped ``type``, ``cryptosuite``,
        ``verificationMethod``, ``proofPurpose``, ``proofValue``; ``created``
        or ``expires`` that are not dateTimeStamps; a ``domain``,
        ``challenge``, ``nonce``, ``id`` or ``previousProof`` of the wrong type.
        """
        if type(data) is not dict and not isinstance(data, Mapping):
            raise ValidationError([("/proof", "a proof must be a JSON object")])
        errors: list[tuple[str, str]] = []
        required: list[str] = []
        for name in _REQUIRED_TEXT:
            value = data.get(name)
            if type(value) is not str or not value:
                errors.append((f"/proof/{name}", "must be a non-empty string"))
                value = ""
            required.append(value)
        proof_type, suite, vm, purpose, proof_value = required
        if len(proof_value) > _MAX_PROOF_VALUE:
            errors.append(("/proof/proofValue", "is too long"))
        optional: list[str | None] = []
        for name in _OPTIONAL_TEXT:
            if name not in data:
                optional.append(None)
                continue
            value = data[name]
            if type(value) is not str or not value:
                errors.append((f"/proof/{name}", "must be a non-empty string"))
                value = None
            optional.append(value)
        challenge, nonce, ident = optional
        moments: list[datetime | None] = []
        for name in ("created", "expires"):
            if name not in data:
                moments.append(None)
                continue
            try:
                moments.append(parse_datetime(data[name]))
            except ParseError as exc:
                errors.append((f"/proof/{name}", str(exc)))
                moments.append(None)
        lists: list[tuple[str, ...]] = []
        for name in ("domain", "previousProof"):
            if name not in data:
                lists.append(())
                continue
            value = data[name]
            items = [value] if isinstance(value, str) else value
            if (
                not isinstance(items, list)
                or not items
                or not all(isinstance(i, str) and i for i in items)
            ):
                errors.append((f"/proof/{name}", "must be a string or a list of strings"))
                lists.append(())
                continue
            lists.append(tuple(items))
        if errors:
            raise ValidationError(errors)
        options = dict(data)
        del options["proofValue"]  # present: checked above
        return cls(
            proof_type,
            suite,
            vm,
            purpose,
            proof_value,
            moments[0],
            moments[1],
            challenge,
            lists[0],
            nonce,
            ident,
            lists[1],
            options,
        )

    def to_json(self) -> dict[str, Any]:
        """The proof object as it appears in a document."""
        return {**self.options, "proofValue": self.proof_value}


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A proof that passed every step of :func:`verify_proof`.

    ``controller`` is the DID whose document authorised the verification
    method for the proof purpose.
    """

    proof: DataIntegrityProof
    verification_method: VerificationMethod
    controller: str


def _canonicalizer(cryptosuite: str) -> Callable[[Mapping[str, Any]], bytes]:
    """JCS for the jcs suites, RDFC-1.0 N-Quads for the rdfc suites."""
    return canonicalize_rdf if cryptosuite in _RDFC_SUITES else canonicalize


def hash_data(
    unsecured_document: Mapping[str, Any],
    proof_config: Mapping[str, Any],
    key_type: KeyType,
    *,
    cryptosuite: str = EDDSA_JCS_2022,
) -> bytes:
    """``H(C(proof_config)) || H(C(unsecured_document))``, the bytes that are signed.

    C is the cryptosuite's canonicalisation (JCS, or RDFC-1.0 for the rdfc
    suites). ``proof_config`` must already carry the document's ``@context``
    where the cryptosuite asks for it. Raises
    :class:`~credentials.errors.CanonicalizationError` for values JCS refuses,
    :class:`~credentials.rdfc.RdfCanonicalizationError` for documents RDFC
    cannot canonicalise safely.
    """
    hasher = _hash_for(key_type)
    canonical = _canonicalizer(cryptosuite)
    plain = _plain_config(proof_config) if cryptosuite not in _RDFC_SUITES else None
    config_digest: bytes = (
        _jcs_config_digest(plain, key_type)
        if plain is not None
        else hasher(canonical(proof_config)).digest()
    )
    document_digest: bytes = hasher(canonical(unsecured_document)).digest()
    return config_digest + document_digest


# A bulk issuer signs thousands of documents with one proof configuration per
# second (``created`` has whole seconds), so the JCS suites' configuration
# digest is remembered for configurations made only of exact ``str`` values
# and lists of them: the cache key is then the configuration itself, and the
# digest is the one the uncached path computes from it.
_PlainConfig = tuple[tuple[str, str | tuple[str, ...]], ...]


def _plain_config(config: Mapping[str, Any]) -> _PlainConfig | None:
    if type(config) is not dict:
        return None
    items: list[tuple[str, str | tuple[str, ...]]] = []
    for name, value in config.items():
        if type(name) is not str:
            return None
        if type(value) is str:
            items.append((name, value))
        elif type(value) is list and all(type(v) is str for v in value):
            items.append((name, tuple(value)))
        else:
            return None
    return tuple(items)


@lru_cache(maxsize=64)
def _jcs_config_digest(plain: _PlainConfig, key_type: KeyType) -> bytes:
    config = {name: list(value) if type(value) is tuple else value for name, value in plain}
    digest: bytes = _hash_for(key_type)(canonicalize(config)).digest()
    return digest


def add_proof(
    document: Mapping[str, Any],
    key: PrivateKey,
    *,
    verification_method: str,
    proof_purpose: str = "assertionMethod",
    created: datetime | str | None = None,
    expires: datetime | str | None = None,
    challenge: str | None = None,
    domain: str | Sequence[str] | None = None,
    nonce: str | None = None,
    proof_id: str | None = None,
    cryptosuite: str | None = None,
) -> dict[str, Any]:
    """Return a copy of ``document`` secured by one more Data Integrity proof.

    ``created`` defaults to the current time (UTC, whole seconds, ``Z``);
    ``cryptosuite`` defaults to the key's (``eddsa-jcs-2022`` for Ed25519,
    ``ecdsa-jcs-2019`` for P-256/P-384); ``eddsa-rdfc-2022`` and
    ``ecdsa-rdfc-2019`` sign the RDFC-1.0 canonical form instead (the ``rdf``
    extra; the document's contexts must be bundled ones, see
    :mod:`credentials.rdfc`). When the document already has a
    ``proof``, the new proof joins it as a *proof set* (``proof`` becomes a
    list; every proof signs the document without proofs). The input is not
    modified. Raises :class:`~credentials.errors.UnsupportedError` with code
    ``cryptosuite_unsupported`` for a cryptosuite other than the four (or an
    rdfc suite without PyLD) and ``key_type_mismatch`` for a suite that does
    not fit the key, :class:`~credentials.errors.ParseError` for a document
    that cannot be canonicalised (an undefined term under an rdfc suite among
    them) or malformed options (empty or non-string values, a naive datetime,
    a time that is not a dateTimeStamp).
    """
    if not isinstance(document, Mapping):
        raise ParseError("a document to secure must be a JSON object")
    suite = cryptosuite or _SUITE_OF_KEY.get(key.key_type)
    if cryptosuite is not None and cryptosuite not in CRYPTOSUITES:
        raise UnsupportedError(
            f"cryptosuite {str(cryptosuite)[:64]!r} is not supported: "
            f"only {', '.join(CRYPTOSUITES)}",
            "cryptosuite_unsupported",
        )
    if suite is None or key.key_type not in CRYPTOSUITES.get(suite, frozenset()):
        raise UnsupportedError(
            f"cryptosuite {suite!r} does not fit a {key.key_type.value} key: use "
            f"{EDDSA_JCS_2022}/{EDDSA_RDFC_2022} with Ed25519 or "
            f"{ECDSA_JCS_2019}/{ECDSA_RDFC_2019} with P-256/P-384",
            "key_type_mismatch",
        )
    for name, value in (
        ("verification_method", verification_method),
        ("proof_purpose", proof_purpose),
    ):
        if not isinstance(value, str) or not value:
            raise ParseError(f"{name} must be a non-empty string")
    for name, given in (("challenge", challenge), ("nonce", nonce), ("proof_id", proof_id)):
        if given is not None and (not isinstance(given, str) or not given):
            raise ParseError(f"{name} must be a non-empty string when given")
    if domain is not None and not (
        (isinstance(domain, str) and domain)
        or (
            not isinstance(domain, str) and domain and all(isinstance(d, str) and d for d in domain)
        )
    ):
        raise ParseError("domain must be a non-empty string or a non-empty list of them")
    unsecured = dict(document)  # a C-level copy, then the proof out: cheaper than a filter
    existing = unsecured.pop("proof", None)

    def stamp(value: datetime | str) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ParseError("proof times must be aware datetimes")
            return _utc_seconds(value)
        parse_datetime(value)
        return value

    options: dict[str, Any] = {"type": _PROOF_TYPE}
    if proof_id is not None:
        options["id"] = proof_id
    options["cryptosuite"] = suite
    options["created"] = stamp(created if created is not None else datetime.now(UTC))
    if expires is not None:
        options["expires"] = stamp(expires)
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain if isinstance(domain, str) else list(domain)
    if nonce is not None:
        options["nonce"] = nonce
    # the suites' "proof configuration" carries the document's @context, so the
    # context is signed twice over and cannot be swapped; the jcs suites' proof
    # keeps it, the rdfc suites' proof does not (their vectors show both forms)
    config = options
    if "@context" in unsecured:
        context = unsecured["@context"]
        config = {**options, "@context": list(context) if isinstance(context, list) else context}
        if suite not in _RDFC_SUITES:
            options = config
    signature = key.sign(hash_data(unsecured, config, key.key_type, cryptosuite=suite))
    proof = {**options, "proofValue": _proof_value(signature)}
    secured = unsecured  # already a fresh copy
    if existing is None:
        secured["proof"] = proof
    elif isinstance(existing, list):
        secured["proof"] = [*existing, proof]
    else:
        secured["proof"] = [existing, proof]
    return secured


def _proof_objects(document: Mapping[str, Any]) -> list[Any]:
    if "proof" not in document or document["proof"] is None:
        raise VerificationError("proof_missing", "the document has no proof")
    raw = document["proof"]
    proofs = raw if isinstance(raw, list) else [raw]
    if not proofs:
        raise VerificationError("proof_missing", "the document's proof set is empty")
    if len(proofs) > _MAX_PROOFS:
        raise VerificationError("proof_malformed", f"more than {_MAX_PROOFS} proofs")
    return proofs


def _expected_controller(document: Mapping[str, Any]) -> tuple[str | None, str]:
    """The DID that must control the proof's key, and the failure code if it does not."""
    types = document.get("type")
    names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    if "VerifiablePresentation" in names:
        holder = document.get("holder")
        if isinstance(holder, Mapping):
            holder = holder.get("id")
        return (holder if isinstance(holder, str) else None), "key_not_holder"
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return (issuer if isinstance(issuer, str) else ""), "key_not_issuer"


#: A verifier's rule for a credential whose key is not its issuer's:
#: ``policy(issuer, controller)`` returns True when ``issuer`` (an https URL,
#: say) has said that keys controlled by ``controller`` (a DID) sign for it.
#: Anything else, an exception included, keeps the strict default: refused.
KeyControllerPolicy = Callable[[str, str], bool]


class AuthorisedControllers:
    """A :data:`KeyControllerPolicy` from a table: issuer -> the DIDs that sign for it.

    ``AuthorisedControllers({"https://vc.example/issuers/5678": ["did:key:zDna..."]})``
    accepts a credential whose ``issuer`` is that URL and whose proof's key
    belongs to that did:key, and nothing else. Where the table comes from (an
    issuer's published metadata, a trust list) is the verifier's decision.
    """

    __slots__ = ("_table",)

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self._table = {
            issuer: frozenset([dids] if isinstance(dids, str) else dids)
            for issuer, dids in table.items()
        }

    def __call__(self, issuer: str, controller: str) -> bool:
        return controller in self._table.get(issuer, frozenset())

    def __repr__(self) -> str:
        return f"AuthorisedControllers({len(self._table)} issuers)"


def _policy_allows(policy: KeyControllerPolicy | None, issuer: str, controller: str) -> bool:
    if policy is None or not issuer:
        return False
    try:
        return policy(issuer, controller) is True
    except Exception:  # a failing policy says no; it does not crash verification
        return False


def verify_proof(
    document: Mapping[str, Any],
    resolver: MethodResolver,
    *,
    expected_purpose: str,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    leeway: timedelta = _DEFAULT_LEEWAY,
    check_controller: bool = True,
    expected_controller: str | None = None,
    controller_policy: KeyControllerPolicy | None = None,
) -> list[VerifiedProof]:
    """Verify every Data Integrity proof on ``document``; return them or raise.

    Every proof of a proof set must verify (one bad proof fails the whole
    document); a proof with ``previousProof`` is checked over the document
    plus the proofs it names (a proof chain). The steps, for each proof:

    1. syntax: a ``DataIntegrityProof`` with one of :data:`CRYPTOSUITES`;
    2. ``proofPurpose`` equals ``expected_purpose``;
    3. proof options: ``challenge`` and ``domain`` match when the caller
       expects them; ``created`` is not after ``now`` and ``expires`` not
       before it (each with ``leeway``);
    4. the verification method is dereferenced through ``resolver`` (a
       non-DID URL, when ``resolver`` is a :class:`~credentials.keysets.IssuerKeys`,
       is looked up in the expected controller's key set) and must be
       authorised for the purpose; with ``check_controller`` its DID must be
       ``expected_controller`` (by default the credential's ``issuer`` or the
       presentation's ``holder``; a presentation without holder binds nothing),
       unless the key is an issuer's and ``controller_policy(issuer, its DID)``
       returns True (a URL issuer that names the DIDs signing for it);
    5. the key fits the suite and the signature over ``hashData`` verifies
       (an rdfc suite first canonicalises safely: see :mod:`credentials.rdfc`).

    Raises :class:`~credentials.errors.VerificationError` with the codes in
    the module docstring. ``now`` must be aware (default: the current time).
    """
    if not isinstance(document, Mapping):
        raise VerificationError("proof_malformed", "a secured document must be a JSON object")
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise TypeError("now must be an aware datetime")
    raw_proofs = _proof_objects(document)
    parsed: list[DataIntegrityProof] = []
    for raw in raw_proofs:
        try:
            parsed.append(DataIntegrityProof.from_json(raw))
        except ValidationError as exc:
            raise VerificationError("proof_malformed", str(exc)) from exc
    if check_controller and expected_controller is None:
        controller, binding_code = _expected_controller(document)
    else:
        controller, binding_code = expected_controller, "key_not_issuer"
    unsecured = dict(document)
    del unsecured["proof"]  # present: _proof_objects found it
    # proofs by id, for proof chains (built only when a proof names a previousProof)
    by_id: dict[str, Any] | None = None
    # canonical form of the unsecured document per canonicalisation, shared by the
    # proofs of a set that sign it as is
    unsecured_texts: dict[bool, bytes] = {}
    out: list[VerifiedProof] = []
    for proof in parsed:
        # 1. syntax and suite
        if proof.type != _PROOF_TYPE or proof.cryptosuite not in CRYPTOSUITES:
            raise VerificationError(
                "cryptosuite_unsupported",
                f"{proof.type}/{proof.cryptosuite} is not supported: "
                f"only {_PROOF_TYPE} with {', '.join(CRYPTOSUITES)}",
            )
        signed_document = unsecured
        if proof.previous_proof:
            if by_id is None:
                by_id = {
                    p.id: raw for p, raw in zip(parsed, raw_proofs, strict=True) if p.id is not None
                }
            missing = [i for i in proof.previous_proof if i not in by_id]
            if missing:
                raise VerificationError(
                    "previous_proof_missing",
                    f"previousProof {missing[0]!r} is not in the proof set",
                )
            signed_document = {**unsecured, "proof": [by_id[i] for i in proof.previous_proof]}
        # 2. purpose
        if proof.proof_purpose != expected_purpose:
            raise VerificationError(
                "proof_purpose_mismatch",
                f"proofPurpose is {proof.proof_purpose!r}, expected {expected_purpose!r}",
            )
        # 3. proof options
        if challenge is not None and proof.challenge != challenge:
            raise VerificationError(
                "challenge_mismatch", "the proof's challenge is not the one expected"
            )
        if domain is not None and domain not in proof.domain:
            raise VerificationError("domain_mismatch", f"the proof is not for domain {domain!r}")
        if proof.created is not None and proof.created > moment + leeway:
            raise VerificationError(
                "proof_not_yet_valid", f"the proof was created in the future ({proof.created})"
            )
        if proof.expires is not None and proof.expires < moment - leeway:
            raise VerificationError("proof_expired", f"the proof expired at {proof.expires}")
        # 4. verification method, authorisation and controller
        key_sets = issuer_key_source(resolver)
        if key_sets is not None and not proof.verification_method.startswith("did:"):
            # a key of a URL issuer's (or holder's) set: looked up in that party's set
            method = (
                key_sets.issuer_key(controller, proof.verification_method, proof.proof_purpose)
                if check_controller and controller
                else key_sets.verification_method(proof.verification_method, proof.proof_purpose)
            )
            method_did = method.controller
        else:
            method = _dereference(resolver, proof.verification_method, proof.proof_purpose)
            method_did = _did_of(method.id)
        if (
            check_controller
            and controller is not None
            and method_did != controller
            and not (
                binding_code == "key_not_issuer"
                and _policy_allows(controller_policy, controller, method_did)
            )
        ):
            whose = "issuer" if binding_code == "key_not_issuer" else "holder"
            raise VerificationError(
                binding_code,
                f"{proof.verification_method} belongs to {method_did}, not to the {whose} "
                f"{controller or '(none)'}",
            )
        # 5. key fit and signature
        key = _public_key(method)
        if key.key_type not in CRYPTOSUITES[proof.cryptosuite]:
            raise VerificationError(
                "key_type_mismatch", f"a {key.key_type.value} key cannot verify {proof.cryptosuite}"
            )
        if signed_document is unsecured:
            rdf = proof.cryptosuite in _RDFC_SUITES
            checked = _check_signature(unsecured, proof, key, unsecured_texts.get(rdf))
            if checked is not None:
                unsecured_texts[rdf] = checked
        else:
            _check_signature(signed_document, proof, key)
        out.append(VerifiedProof(proof, method, method_did))
    return out


# The DID in front of a DID URL's path, query or fragment (the resolver has
# already checked the URL's syntax; this only cuts it).
_DID_PREFIX: Final = re.compile(r"did:[a-z0-9]+:[^/?#]+")


def _did_of(method_id: str) -> str:
    match = _DID_PREFIX.match(method_id)
    if match is None:
        raise VerificationError(
            "verification_method_unresolvable", f"{method_id!r} is not a DID URL"
        )
    return match.group()


def _dereference(resolver: MethodResolver, url: str, purpose: str) -> VerificationMethod:
    try:
        method = resolver.verification_method(url, purpose)
    except VerificationError:
        raise  # key_not_authorised from the resolver
    except (ResolutionError, InvalidDID) as exc:
        raise VerificationError(
            "verification_method_unresolvable", f"cannot dereference {url}: {exc}"
        ) from exc
    except SSIWalletError as exc:
        raise VerificationError(
            "verification_method_unresolvable", f"cannot dereference {url}: {exc}"
        ) from exc
    return method


def _public_key(method: VerificationMethod) -> PublicKey:
    try:
        return method.public_key
    except (UnsupportedError, InvalidKey) as exc:
        raise VerificationError("key_type_mismatch", f"{method.id}: {exc}") from exc


def _check_signature(
    signed_document: Mapping[str, Any],
    proof: DataIntegrityProof,
    key: PublicKey,
    canonical_document: bytes | None = None,
) -> bytes | None:
    """Check ``proof``'s signature over ``signed_document``; raise VerificationError.

    ``canonical_document``, when given, is the canonical form of
    ``signed_document`` under the proof's canonicalisation (the proofs of a
    set all sign the same document: it is canonicalised once). Returns that
    form when the document was hashed as given, None when the proof's
    ``@context`` replaced the document's.
    """
    config = proof.options
    replaced = False
    if "@context" in config:
        # the suites' verify algorithm: the document's @context must start with the
        # proof's, and the document is hashed with the proof's @context
        proof_ctx = config["@context"]
        doc_ctx = signed_document.get("@context")
        if doc_ctx != proof_ctx:
            want = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
            have = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
            if have[: len(want)] != want:
                raise VerificationError(
                    "signature_invalid",
                    "the document's @context does not start with the proof's",
                )
            signed_document = {**signed_document, "@context": proof_ctx}
            replaced = True
    elif proof.cryptosuite in _RDFC_SUITES and "@context" in signed_document:
        # the rdfc suites' proof configuration takes the document's @context
        config = {**config, "@context": signed_document["@context"]}
    signature = _signature_bytes(proof.proof_value)
    canonical = _canonicalizer(proof.cryptosuite)
    try:
        config_text = canonical(config)
        document_text = (
            canonical(signed_document)
            if canonical_document is None or replaced
            else canonical_document
        )
    except RdfCanonicalizationError as exc:
        raise VerificationError(exc.code, f"cannot canonicalise as RDF: {exc}") from exc
    except UnsupportedError as exc:
        raise VerificationError(exc.code, str(exc)) from exc
    except ParseError as exc:
        raise VerificationError("signature_invalid", f"cannot canonicalise: {exc}") from exc
    hasher = _hash_for(key.key_type)
    key.verify(signature, hasher(config_text).digest() + hasher(document_text).digest())
    return None if replaced else document_text
