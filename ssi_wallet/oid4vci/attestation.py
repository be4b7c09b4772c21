"""Key attestations (OpenID4VCI 1.0 appendix D): make one, check one against an issuer's policy.

A key attestation is a JWT (``typ`` ``key-attestation+jwt``) in which a
Wallet Provider, or the wallet's key storage component, vouches for one or
more public keys (``attested_keys``) and for how they are kept
(``key_storage``) and unlocked (``user_authentication``), with the attack
potential resistance values of ISO/IEC 18045 (``iso_18045_high`` ...
``iso_18045_basic``). A wallet sends one in the ``key_attestation`` header of
a ``jwt`` key proof, or alone as the ``attestation`` proof type; an issuer
that requires one says so in ``key_attestations_required`` of its metadata.

Verification steps (:func:`verify_key_attestation`, numbered in the code):

1. parse the compact JWS, bounded;
2. ``typ`` is ``key-attestation+jwt``;
3. ``alg`` is one the issuer accepts for proofs, asymmetric and implemented;
4. the signing key is one the issuer trusts (:class:`KeyAttestationPolicy`):
   an attester named by ``kid``, or the leaf of an ``x5c`` chain that reaches
   one of its trust anchors; ``jwk`` (self-attestation proves nothing) and
   ``trust_chain`` are refused;
5. the signature verifies;
6. ``iat`` is a number not in the future; ``exp`` present when the
   attestation travels in a ``jwt`` proof (D.1), and not passed;
7. ``attested_keys``: a non-empty array of distinct public JWKs (no private
   member), at most ``max_keys``;
8. ``key_storage`` / ``user_authentication``: arrays of short strings;
9. the policy: each required list shares a value with the attestation's;
10. ``nonce``, when present, is a string (whether it is a live ``c_nonce`` is
    the caller's question).

Every refusal is an :class:`~ssi_wallet.oid4vci.errors.OID4VCIError`
``invalid_proof``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from credentials.jws import dumps, sign_compact
from did_methods._wire.dates import instant, is_numeric_date
from did_methods.errors import SSIWalletError
from did_methods.keys import PrivateKey, PublicKey
from ssi_wallet.oid4vci.errors import OID4VCIError
from ssi_wallet.oid4vci.proofs import read_public_jwk, read_typed_jwt

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "ATTACK_POTENTIAL",
    "KEY_ATTESTATION_TYP",
    "KeyAttestation",
    "KeyAttestationPolicy",
    "KeyAttestationSigner",
    "KeyAttester",
    "make_key_attestation",
    "verify_key_attestation",
]

#: The ``typ`` of a key attestation JWT (appendix D.1).
KEY_ATTESTATION_TYP: Final = "key-attestation+jwt"
#: The attack potential resistance values of appendix D.2, strongest first.
ATTACK_POTENTIAL: Final = (
    "iso_18045_high",
    "iso_18045_moderate",
    "iso_18045_enhanced-basic",
    "iso_18045_basic",
)
#: Longest key attestation read (characters): a JWT with a few JWKs is a few KiB.
MAX_ATTESTATION_LENGTH: Final = 32 * 1024
#: Most attested keys read from one attestation.
MAX_ATTESTED_KEYS: Final = 100
_MAX_VALUES: Final = 16
_MAX_VALUE_LENGTH: Final = 256
_SKEW: Final = 60.0


def _refuse(message: str) -> OID4VCIError:
    return OID4VCIError("invalid_proof", message)


@dataclass(frozen=True, slots=True)
class KeyAttestationPolicy:
    """What an issuer asks of key attestations, and whose attestations it trusts.

    ``attesters`` maps the ``kid`` an attestation names to the Wallet
    Provider's (or key storage component's) public key; ``trust_anchors``
    (X.509 roots) admit attestations whose ``x5c`` chain reaches one of them
    (the form HAIP uses for a Wallet Provider's signatures). ``key_storage`` and
    ``user_authentication`` list the values the issuer accepts (empty: any);
    they are published as ``key_attestations_required``. With ``required``
    (the default) every key proof must bring an attestation.
    """

    attesters: Mapping[str, PublicKey]
    key_storage: tuple[str, ...] = ()
    user_authentication: tuple[str, ...] = ()
    required: bool = True
    trust_anchors: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        if not self.attesters and not self.trust_anchors:
            raise OID4VCIError(
                "invalid_configuration", "name at least one trusted attester or trust anchor"
            )

    def metadata(self) -> dict[str, Any]:
        """The ``key_attestations_required`` object of ``proof_types_supported``."""
        out: dict[str, Any] = {}
        if self.key_storage:
            out["key_storage"] = list(self.key_storage)
        if self.user_authentication:
            out["user_authentication"] = list(self.user_authentication)
        return out


@dataclass(frozen=True, slots=True)
class KeyAttestation:
    """A verified key attestation: the attested ``keys`` and what it says of them."""

    keys: tuple[PublicKey, ...]
    attester: str
    issued_at: float
    expires_at: float | None
    nonce: str | None
    key_storage: tuple[str, ...] = ()
    user_authentication: tuple[str, ...] = ()


def make_key_attestation(
    attester: PrivateKey,
    keys: Sequence[PublicKey],
    *,
    kid: str | None = None,
    now: datetime,
    lifetime: timedelta | None = timedelta(hours=1),
    key_storage: Sequence[str] = (),
    user_authentication: Sequence[str] = (),
    nonce: str | None = None,
    issuer: str | None = None,
    x5c: Sequence[str] = (),
) -> str:
    """A key attestation JWT for ``keys``, signed by ``attester`` (named ``kid`` and/or ``x5c``).

    ``lifetime`` sets ``exp`` (needed when the attestation goes in a ``jwt``
    proof); ``nonce`` is the issuer's ``c_nonce`` (needed for the
    ``attestation`` proof type); ``issuer`` becomes ``iss``.
    """
    if not keys:
        raise ValueError("attest at least one key")
    if kid is None and not x5c:
        raise ValueError("name the attester's key by kid or x5c")
    at = int(instant(now).timestamp())
    claims: dict[str, Any] = {"iat": at, "attested_keys": [k.to_jwk() for k in keys]}
    if issuer is not None:
        claims["iss"] = issuer
    if lifetime is not None:
        claims["exp"] = at + int(lifetime.total_seconds())
    if key_storage:
        claims["key_storage"] = list(key_storage)
    if user_authentication:
        claims["user_authentication"] = list(user_authentication)
    if nonce is not None:
        claims["nonce"] = nonce
    header: dict[str, Any] = {"typ": KEY_ATTESTATION_TYP}
    if kid is not None:
        header["kid"] = kid
    if x5c:
        header["x5c"] = list(x5c)
    return sign_compact(header, dumps(claims), attester)


class KeyAttester(Protocol):
    """What a wallet asks for key attestations: in practice its Wallet Provider's backend."""

    def attest(self, keys: Sequence[PublicKey], *, nonce: str | None, now: datetime) -> str:
        """A key attestation JWT for ``keys`` (with ``nonce`` when given)."""
        ...


@dataclass(frozen=True, slots=True)
class KeyAttestationSigner:
    """A :class:`KeyAttester` holding the attester's key itself (a test provider, a demo).

    A real wallet's keys are attested by its Wallet Provider after checking
    the platform's own key attestation; this signer vouches for whatever it
    is given, so it belongs in tests and demonstrations.
    """

    key: PrivateKey
    kid: str | None = None
    key_storage: tuple[str, ...] = ()
    user_authentication: tuple[str, ...] = ()
    lifetime: timedelta = field(default=timedelta(hours=1))
    issuer: str | None = None
    x5c: tuple[str, ...] = ()

    def attest(self, keys: Sequence[PublicKey], *, nonce: str | None, now: datetime) -> str:
        """Sign a key attestation for ``keys``."""
        return make_key_attestation(
            self.key,
            keys,
            kid=self.kid,
            now=now,
            lifetime=self.lifetime,
            key_storage=self.key_storage,
            user_authentication=self.user_authentication,
            nonce=nonce,
            issuer=self.issuer,
            x5c=self.x5c,
        )


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or not value
        or len(value) > _MAX_VALUES
        or not all(isinstance(v, str) and 0 < len(v) <= _MAX_VALUE_LENGTH for v in value)
    ):
        raise _refuse(f"the key attestation's {name} must be a short non-empty array of strings")
    return tuple(value)


def _attester(
    header: Mapping[str, Any], policy: KeyAttestationPolicy, now: datetime
) -> tuple[PublicKey, str]:
    """The trusted key that must have signed, and how it is named (its kid, or its subject)."""
    for other in ("jwk", "trust_chain"):
        if other in header:
            raise _refuse(f"key attestations signed via {other} are not accepted")
    if "x5c" in header:
        if not policy.trust_anchors:
            raise _refuse("this issuer trusts no certificate chain for key attestations")
        from credentials.x5c import verify_x5c

        try:
            certified = verify_x5c(header["x5c"], policy.trust_anchors, now=now)
        except SSIWalletError as exc:
            raise _refuse(f"the key attestation's certificate is not trusted: {exc}") from exc
        return certified.public_key, certified.subject
    kid = header.get("kid")
    attester = policy.attesters.get(kid) if isinstance(kid, str) else None
    if attester is None or not isinstance(kid, str):
        raise _refuse("the key attestation is not signed by an attester this issuer trusts")
    return attester, kid


def verify_key_attestation(
    token: Any,
    policy: KeyAttestationPolicy,
    *,
    now: datetime,
    algorithms: Collection[str],
    in_jwt_proof: bool,
    max_keys: int = MAX_ATTESTED_KEYS,
    skew: float = _SKEW,
) -> KeyAttestation:
    """Check a key attestation (the steps in the module docstring); return what it attests.

    ``in_jwt_proof`` says it came in a ``jwt`` proof's ``key_attestation``
    header (then ``exp`` is required). Raises ``invalid_proof``.
    """
    at = instant(now).timestamp()
    # 1. to 3. parse (bounded), explicitly typed, an algorithm accepted and asymmetric
    jws = read_typed_jwt(
        token,
        typ=KEY_ATTESTATION_TYP,
        algorithms=algorithms,
        max_length=MAX_ATTESTATION_LENGTH,
        what="key attestation",
    )
    header = jws.header
    # 4. a trusted attester: by kid, or by an x5c chain to a trust anchor
    attester, name = _attester(header, policy, instant(now))
    # 5. signature
    try:
        jws.verify(attester)
    except SSIWalletError as exc:
        raise _refuse(f"the key attestation's signature does not verify: {exc}") from exc
    claims: Mapping[str, Any] = jws.payload
    # 6. times
    iat = claims.get("iat")
    if not is_numeric_date(iat):
        raise _refuse("the key attestation has no numeric iat")
    if iat > at + skew:
        raise _refuse("the key attestation's iat is in the future")
    exp = claims.get("exp")
    if exp is None and in_jwt_proof:
        raise _refuse("a key attestation in a jwt proof must carry exp (appendix D.1)")
    if exp is not None and (not is_numeric_date(exp) or exp <= at):
        raise _refuse("the key attestation has expired")
    # 7. the attested keys
    raw_keys = claims.get("attested_keys")
    if not isinstance(raw_keys, list) or not raw_keys:
        raise _refuse("attested_keys must be a non-empty array of JWKs")
    if len(raw_keys) > max_keys:
        raise _refuse(f"a key attestation may attest at most {max_keys} keys here")
    keys = tuple(read_public_jwk(jwk, "an attested key") for jwk in raw_keys)
    if len({k.jwk_thumbprint() for k in keys}) != len(keys):
        raise _refuse("attested_keys repeats a key")
    # 8. what it says of them
    storage = _strings(claims.get("key_storage"), "key_storage")
    authentication = _strings(claims.get("user_authentication"), "user_authentication")
    # 9. the policy
    if policy.key_storage and not set(storage) & set(policy.key_storage):
        raise _refuse("the attested key storage is not one this issuer accepts")
    if policy.user_authentication and not set(authentication) & set(policy.user_authentication):
        raise _refuse("the attested user authentication is not one this issuer accepts")
    # 10. nonce
    nonce = claims.get("nonce")
    if nonce is not None and (not isinstance(nonce, str) or not nonce or len(nonce) > 512):
        raise _refuse("the key attestation's nonce must be a short string")
    return KeyAttestation(
        keys,
        name,
        float(iat),
        float(exp) if exp is not None else None,
        nonce,
        storage,
        authentication,
    )
