"""Key proofs of the ``jwt`` and ``di_vp`` proof types (OpenID4VCI 1.0 appendix F): make, check.

A wallet proves it holds the private key a credential is to be bound to by
signing a small JWT (:func:`make_jwt_proof`); the issuer checks it
(:func:`verify_jwt_proof`) and binds the credential to the key it names.

Verification steps (numbered in the code):

1. parse the compact JWS, bounded (``invalid_proof`` for anything unreadable);
2. ``typ`` is ``openid4vci-proof+jwt`` (so a KB-JWT, an ID token or a DPoP proof
   cannot stand in for a key proof);
3. ``alg`` is one the issuer offers and an asymmetric algorithm we implement
   (``none``, ``HS256``, ``RS256`` ... refused before any cryptography);
4. exactly one key parameter: ``jwk`` (a public key: a private member such as
   ``d`` is refused) or ``kid`` (a ``did:key`` / ``did:jwk`` DID URL); ``x5c``
   and ``trust_chain`` are not supported;
5. the signature verifies with that key;
6. ``aud`` is the Credential Issuer Identifier (a single string);
7. ``iat`` is a number inside the window ``[now - max_age, now + skew]``;
8. ``iss`` is the client's id when the token names a client, absent otherwise;
9. ``nonce`` is present when the issuer has a nonce endpoint (whether it is a
   live ``c_nonce`` is the caller's question: it holds the nonces).

A ``jwt`` proof may carry a key attestation in its ``key_attestation``
header (F.1); it is kept unverified in :attr:`KeyProof.key_attestation` for the
issuer to check against its policy (:mod:`ssi_wallet.oid4vci.attestation`).

A ``di_vp`` proof (F.2) is a W3C Verifiable Presentation secured by one Data
Integrity proof of the holder's key (:func:`make_di_vp_proof`,
:func:`verify_di_vp_proof`): ``proofPurpose`` ``authentication``, ``domain``
the Credential Issuer Identifier, ``challenge`` the ``c_nonce``, a
``cryptosuite`` the issuer offers, the verification method a ``did:key`` or
``did:jwk`` DID URL (and ``holder``, when present, that DID).

Every refusal is an :class:`~ssi_wallet.oid4vci.errors.OID4VCIError` with code
``invalid_proof``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from credentials.jws import ALG_KEY_TYPES, CompactJWS, check_alg, dumps, sign_compact
from did_methods._wire.dates import instant, is_numeric_date
from did_methods.errors import SSIWalletError
from did_methods.keys import PrivateKey, PublicKey
from did_methods.resolver import Resolver
from ssi_wallet.oid4vci.errors import OID4VCIError

__all__ = [
    "DI_VP_SUITES",
    "PRIVATE_JWK_MEMBERS",
    "PROOF_TYP",
    "SUPPORTED_PROOF_ALGS",
    "KeyProof",
    "make_di_vp_proof",
    "make_jwt_proof",
    "read_public_jwk",
    "read_typed_jwt",
    "verify_di_vp_proof",
    "verify_jwt_proof",
]

#: The ``typ`` of a key proof JWT.
PROOF_TYP: Final = "openid4vci-proof+jwt"
#: The algorithms a key proof may use here (asymmetric only).
SUPPORTED_PROOF_ALGS: Final = tuple(ALG_KEY_TYPES)
#: Longest key proof we read (characters): a JWT with a JWK is a few hundred; one
#: carrying a key attestation of a batch of keys a few KiB.
MAX_PROOF_LENGTH: Final = 40 * 1024
#: The cryptosuites a ``di_vp`` proof may use here (JCS: no JSON-LD processing).
DI_VP_SUITES: Final = ("eddsa-jcs-2022", "ecdsa-jcs-2019")
_VC_CONTEXTS: Final = (
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
)
#: Oldest key proof accepted by default (seconds since its ``iat``).
DEFAULT_MAX_AGE: Final = 300.0
#: Clock skew tolerated for an ``iat`` in the future (seconds).
DEFAULT_SKEW: Final = 60.0
#: Members that only a private (or symmetric) JWK has.
PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_OFFLINE = Resolver.offline()


@dataclass(frozen=True, slots=True)
class KeyProof:
    """A verified key proof: the ``key`` proven, how it was named, and its claims."""

    key: PublicKey
    kid: str | None
    nonce: str | None
    issued_at: float
    client_id: str | None
    #: The ``key_attestation`` header of a ``jwt`` proof, unverified (None if absent).
    key_attestation: str | None = None

    @property
    def holder_did(self) -> str:
        """The DID the credential is bound to: the ``kid``'s DID, else the key's ``did:key``."""
        if self.kid is not None:
            return self.kid.split("#", 1)[0]
        from did_methods.methods.key import did_key_from_public_key

        return did_key_from_public_key(self.key)

    def subject_for(self, credential_format: str) -> str:
        """The DID a credential of ``credential_format`` names as its subject.

        The ``kid``'s DID when the proof named one; otherwise a DID *of* the
        key: for ``jwt_vc_json`` its ``did:jwk`` (the JWK the proof carried,
        the DID a VC Data Model 1.1 wallet then signs its presentation JWT
        with), for the other formats its ``did:key`` (:attr:`holder_did`).
        """
        if self.kid is None and credential_format == "jwt_vc_json":
            from did_methods.methods.jwk import did_jwk_from_jwk

            return did_jwk_from_jwk(self.key)
        return self.holder_did


def _refuse(message: str) -> OID4VCIError:
    return OID4VCIError("invalid_proof", message)


def make_jwt_proof(
    key: PrivateKey,
    *,
    audience: str,
    nonce: str | None,
    now: datetime,
    client_id: str | None = None,
    kid: str | None = None,
    key_attestation: str | None = None,
) -> str:
    """A ``jwt`` key proof signed by ``key``, for the issuer ``audience``.

    The public key goes in the ``jwk`` header unless ``kid`` (a DID URL of the
    key) is given. ``client_id`` becomes ``iss`` (leave it out after an
    anonymous pre-authorized code grant); ``nonce`` is the issuer's ``c_nonce``;
    ``key_attestation`` (a key attestation JWT naming ``key``) goes in the header.
    """
    header: dict[str, Any] = {"typ": PROOF_TYP}
    if key_attestation is not None:
        header["key_attestation"] = key_attestation
    if kid is not None:
        header["kid"] = kid
    else:
        header["jwk"] = key.public_key.to_jwk()
    claims: dict[str, Any] = {"aud": audience, "iat": int(instant(now).timestamp())}
    if client_id is not None:
        claims["iss"] = client_id
    if nonce is not None:
        claims["nonce"] = nonce
    return sign_compact(header, dumps(claims), key)


def verify_jwt_proof(
    token: Any,
    *,
    audience: str,
    now: datetime,
    algorithms: Collection[str] = SUPPORTED_PROOF_ALGS,
    nonce_required: bool = True,
    client_id: str | None = None,
    max_age: float = DEFAULT_MAX_AGE,
    skew: float = DEFAULT_SKEW,
) -> KeyProof:
    """Check a ``jwt`` key proof (the steps in the module docstring); return what it proves.

    Raises :class:`OID4VCIError` ``invalid_proof`` at the first failing step.
    """
    at = instant(now).timestamp()
    # 1. to 3. parse (bounded), explicitly typed, an algorithm offered and asymmetric
    jws = read_typed_jwt(
        token, typ=PROOF_TYP, algorithms=algorithms, max_length=MAX_PROOF_LENGTH, what="key proof"
    )
    header = jws.header
    # 4. exactly one key parameter
    named = [p for p in ("jwk", "kid", "x5c", "trust_chain") if p in header]
    if "trust_chain" in named or "x5c" in named:
        raise _refuse("x5c and trust_chain key proofs are not supported: use jwk or kid")
    if len(named) != 1:
        raise _refuse("a key proof names its key with exactly one of jwk and kid")
    kid: str | None = None
    if "jwk" in header:
        key = _jwk_key(header["jwk"])
    else:
        kid = header["kid"]
        key = _kid_key(kid)
    # 5. signature
    try:
        jws.verify(key)
    except SSIWalletError as exc:
        raise _refuse(f"the key proof's signature does not verify: {exc}") from exc
    claims: Mapping[str, Any] = jws.payload
    # 6. audience
    if claims.get("aud") != audience:
        raise _refuse(f"the key proof's aud must be the Credential Issuer Identifier {audience}")
    # 7. freshness
    iat = claims.get("iat")
    if not is_numeric_date(iat):
        raise _refuse("the key proof has no numeric iat")
    if iat > at + skew:
        raise _refuse("the key proof's iat is in the future")
    if iat < at - max_age:
        raise _refuse("the key proof is too old (iat)")
    # 8. iss: the client, or nothing after anonymous access
    iss = claims.get("iss")
    if client_id is None and iss is not None:
        raise _refuse("iss must be absent after an anonymous pre-authorized code grant")
    if client_id is not None and iss is not None and iss != client_id:
        raise _refuse("the key proof's iss is not the client the token was issued to")
    # 9. nonce present (checked against the issuer's c_nonces by the caller)
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise _refuse("the key proof's nonce must be a string")
    if nonce_required and nonce is None:
        raise _refuse("the key proof carries no c_nonce: fetch one from the nonce endpoint")
    attestation = header.get("key_attestation")
    if attestation is not None and not isinstance(attestation, str):
        raise _refuse("the key proof's key_attestation must be a JWT string")
    return KeyProof(key, kid, nonce, float(iat), client_id, attestation)


def read_typed_jwt(
    token: Any,
    *,
    typ: str,
    algorithms: Collection[str],
    max_length: int,
    what: str,
    code: str = "invalid_proof",
) -> CompactJWS:
    """Steps 1 to 3 of every explicitly typed JWT here (RFC 8725 3.11); unverified.

    1. a string, parsed strictly and no longer than ``max_length``;
    2. ``typ`` is ``typ`` (or ``application/`` + it);
    3. ``alg`` is one of ``algorithms`` and an asymmetric one we implement
       (``none`` and HMAC refused before any cryptography).

    Raises :class:`OID4VCIError` ``code`` naming ``what``.
    """
    if not isinstance(token, str):
        raise OID4VCIError(code, f"a {what} must be a compact JWT string")
    try:
        jws = CompactJWS.parse(token, max_length=max_length)
    except SSIWalletError as exc:
        raise OID4VCIError(code, f"the {what} is not a readable JWT: {exc}") from exc
    if jws.header.get("typ") not in (typ, "application/" + typ):
        raise OID4VCIError(code, f"the {what}'s typ must be {typ}")
    alg = jws.header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise OID4VCIError(code, f"the {what}'s alg is not one accepted here")
    try:
        check_alg(alg)
    except SSIWalletError as exc:
        raise OID4VCIError(code, f"the {what}'s alg is not allowed: {exc}") from exc
    return jws


def read_public_jwk(jwk: Any, what: str, code: str = "invalid_proof") -> PublicKey:
    """The public key a JWK from a request names; ``code`` for anything else.

    Refused: not an object, a private (or symmetric) member, a key we cannot read.
    """
    if not isinstance(jwk, Mapping):
        raise OID4VCIError(code, f"{what} must be a JWK object")
    if PRIVATE_JWK_MEMBERS & set(jwk):
        raise OID4VCIError(code, f"{what} holds private key material: send the public key only")
    try:
        return PublicKey.from_jwk(jwk)
    except SSIWalletError as exc:
        raise OID4VCIError(code, f"{what} cannot be used: {exc}") from exc


def _jwk_key(jwk: Any) -> PublicKey:
    return read_public_jwk(jwk, "the key proof's jwk")


def _kid_key(kid: Any) -> PublicKey:
    if not isinstance(kid, str) or not kid.startswith(("did:key:", "did:jwk:")) or "#" not in kid:
        raise _refuse("a key proof's kid must be a did:key or did:jwk DID URL with a fragment")
    if len(kid) > 2048:
        raise _refuse("the key proof's kid is too long")
    try:
        method = _OFFLINE.verification_method(kid, "authentication")
        return method.public_key
    except SSIWalletError as exc:
        raise _refuse(f"the key proof's kid cannot be resolved: {exc}") from exc


def make_di_vp_proof(
    key: PrivateKey, *, audience: str, nonce: str | None, now: datetime
) -> dict[str, Any]:
    """A ``di_vp`` key proof: a presentation by ``key``'s ``did:key``, secured by ``key``.

    ``domain`` is ``audience`` (the Credential Issuer Identifier), ``challenge``
    the ``c_nonce``; the cryptosuite is the key's JCS suite.
    """
    from credentials.data_integrity import add_proof
    from did_methods.methods.key import did_key_from_public_key

    did = did_key_from_public_key(key.public_key)
    presentation = {
        "@context": [_VC_CONTEXTS[0]],
        "type": ["VerifiablePresentation"],
        "holder": did,
    }
    return add_proof(
        presentation,
        key,
        verification_method=f"{did}#{did.removeprefix('did:key:')}",
        proof_purpose="authentication",
        created=instant(now),
        challenge=nonce,
        domain=audience,
    )


def verify_di_vp_proof(
    presentation: Any,
    *,
    audience: str,
    now: datetime,
    cryptosuites: Collection[str] = DI_VP_SUITES,
    nonce_required: bool = True,
    client_id: str | None = None,
) -> KeyProof:
    """Check a ``di_vp`` key proof; return the key it proves (``kid`` its verification method).

    1. a JSON object of type ``VerifiablePresentation`` with a VC context;
    2. exactly one proof, a ``DataIntegrityProof`` with a cryptosuite of ``cryptosuites``;
    3. ``proofPurpose`` ``authentication``, ``domain`` exactly ``audience``,
       ``challenge`` a string (required with ``nonce_required``);
    4. the verification method a ``did:key`` / ``did:jwk`` DID URL; ``holder``,
       if present, its DID;
    5. the proof verifies (:func:`credentials.data_integrity.verify_proof`,
       the controller being that DID; ``created`` not in the future).

    Raises ``invalid_proof``.
    """
    from credentials.data_integrity import verify_proof

    # 1.
    if not isinstance(presentation, Mapping):
        raise _refuse("a di_vp proof must be a presentation object")
    types = presentation.get("type")
    if not isinstance(types, list) or "VerifiablePresentation" not in types:
        raise _refuse("a di_vp proof's type must include VerifiablePresentation")
    contexts = presentation.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] not in _VC_CONTEXTS:
        raise _refuse("a di_vp proof's @context must begin with a VC context")
    # 2.
    proof = presentation.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise _refuse("a di_vp proof carries exactly one Data Integrity proof")
        proof = proof[0]
    if not isinstance(proof, Mapping) or proof.get("type") != "DataIntegrityProof":
        raise _refuse("a di_vp proof's proof must be a DataIntegrityProof")
    if proof.get("cryptosuite") not in cryptosuites:
        raise _refuse("the di_vp proof's cryptosuite is not one this issuer accepts")
    # 3.
    if proof.get("proofPurpose") != "authentication":
        raise _refuse("a di_vp proof's proofPurpose must be authentication")
    if proof.get("domain") != audience:
        raise _refuse(
            f"the di_vp proof's domain must be the Credential Issuer Identifier {audience}"
        )
    challenge = proof.get("challenge")
    if challenge is not None and (not isinstance(challenge, str) or not challenge):
        raise _refuse("the di_vp proof's challenge must be a string")
    if nonce_required and challenge is None:
        raise _refuse("the di_vp proof carries no challenge: fetch a c_nonce")
    # 4.
    method = proof.get("verificationMethod")
    key = _kid_key(method)
    assert isinstance(method, str)
    did = method.split("#", 1)[0]
    holder = presentation.get("holder")
    if holder is not None and holder != did:
        raise _refuse("the di_vp proof's holder is not the DID of its verification method")
    # 5.
    try:
        verified = verify_proof(
            presentation,
            _OFFLINE,
            expected_purpose="authentication",
            challenge=challenge,
            domain=audience,
            now=instant(now),
            expected_controller=did,
        )
    except SSIWalletError as exc:
        raise _refuse(f"the di_vp proof does not verify: {exc}") from exc
    created = verified[0].proof.created if verified else None
    issued = (created if created is not None else instant(now)).timestamp()
    return KeyProof(key, method, challenge, issued, client_id)
