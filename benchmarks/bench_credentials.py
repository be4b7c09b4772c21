"""Credential formats against the signature primitives and the reference canonicaliser.

Rows: ``di_eddsa_verify``, ``di_eddsa_issue``, ``di_ecdsa_verify`` (Data
Integrity ``eddsa-jcs-2022`` / ``ecdsa-jcs-2019`` on the residence permit,
issuer ``did:key`` resolved once so the resolver's cache is warm), ``jcs``
(our RFC 8785 canonicalisation against the ``rfc8785`` package) and
``vc_jwt_verify`` (a ``vc+jwt`` with EdDSA). The references are raw PyNaCl
Ed25519 and OpenSSL P-256 over a 32-byte message: the physical limit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from benchmarks._fixtures import did_key_method, key, residence_permit
from benchmarks._runner import Benchmark, Pair, Settings, Side, loop
from credentials.data_integrity import add_proof, verify_proof
from credentials.jcs import canonicalize
from credentials.jose import issue_vc_jwt, verify_vc_jwt
from did_methods.keys import KeyType
from did_methods.resolver import Resolver

__all__ = ["BENCHMARKS", "ed25519_sign_reference", "ed25519_verify_reference"]

_MESSAGE = bytes(range(32))
_CREATED = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


def ed25519_verify_reference(label: str = "raw Ed25519 verify of 32 B (PyNaCl)") -> Side:
    """PyNaCl (libsodium) verifying one Ed25519 signature over 32 bytes."""
    from nacl.signing import SigningKey

    signing = SigningKey(bytes(32))
    signature = signing.sign(_MESSAGE).signature
    verify_key = signing.verify_key
    return Side(label, loop(lambda: verify_key.verify(_MESSAGE, signature)))


def ed25519_sign_reference() -> Side:
    """PyNaCl (libsodium) signing 32 bytes with Ed25519."""
    from nacl.signing import SigningKey

    signing = SigningKey(bytes(32))
    return Side("raw Ed25519 sign of 32 B (PyNaCl)", loop(lambda: signing.sign(_MESSAGE)))


def _p256_verify_reference() -> Side:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.derive_private_key(0x5EED, ec.SECP256R1())
    public = private.public_key()
    algorithm = ec.ECDSA(hashes.SHA256())
    signature = private.sign(_MESSAGE, algorithm)
    return Side(
        "raw P-256 verify of 32 B (cryptography/OpenSSL)",
        loop(lambda: public.verify(signature, _MESSAGE, algorithm)),
    )


def _warm_resolver(did: str) -> Resolver:
    resolver = Resolver.default()
    resolver.resolve_document(did)  # the row measures verification with a warm cache
    return resolver


def _di_verify(key_type: KeyType, reference: Side) -> Pair:
    issuer = key(f"issuer-{key_type.value}", key_type)
    did, method = did_key_method(issuer)
    signed = add_proof(residence_permit(did), issuer, verification_method=method, created=_CREATED)
    resolver = _warm_resolver(did)
    # Fail loudly rather than time an error path.
    verify_proof(signed, resolver, expected_purpose="assertionMethod")

    def ours() -> None:
        verify_proof(signed, resolver, expected_purpose="assertionMethod")

    return Pair(Side("ours", loop(ours)), reference)


def _setup_di_eddsa_verify(settings: Settings) -> Pair:
    return _di_verify(KeyType.ED25519, ed25519_verify_reference())


def _setup_di_ecdsa_verify(settings: Settings) -> Pair:
    return _di_verify(KeyType.P256, _p256_verify_reference())


def _setup_di_eddsa_issue(settings: Settings) -> Pair:
    issuer = key("issuer-Ed25519")
    did, method = did_key_method(issuer)
    credential = residence_permit(did)

    def ours() -> None:
        add_proof(credential, issuer, verification_method=method, created=_CREATED)

    return Pair(Side("ours", loop(ours)), ed25519_sign_reference())


def _setup_jcs(settings: Settings) -> Pair:
    import rfc8785

    issuer = key("issuer-Ed25519")
    did, method = did_key_method(issuer)
    signed = add_proof(residence_permit(did), issuer, verification_method=method, created=_CREATED)
    if canonicalize(signed) != rfc8785.dumps(signed):
        raise AssertionError("our JCS and rfc8785 disagree on the benchmark credential")
    return Pair(
        Side("ours", loop(lambda: canonicalize(signed))),
        Side("`rfc8785.dumps`", loop(lambda: rfc8785.dumps(signed))),
        notes=(f"the signed credential: {len(canonicalize(signed))} bytes of canonical JSON",),
    )


def _setup_vc_jwt_verify(settings: Settings) -> Pair:
    issuer = key("issuer-Ed25519")
    did, method = did_key_method(issuer)
    # the signature and claims path only: with its status entries the credential would
    # (rightly) fail closed without a status checker; verifier_right_to_work measures
    # verification with status lists
    credential = residence_permit(did)
    del credential["credentialStatus"]
    token = issue_vc_jwt(credential, issuer, kid=method, now=_CREATED)
    resolver = _warm_resolver(did)
    result = verify_vc_jwt(token, resolver)
    if not result.ok:
        raise AssertionError(f"benchmark vc+jwt does not verify: {result.explain()}")

    return Pair(
        Side("ours", loop(lambda: verify_vc_jwt(token, resolver))),
        ed25519_verify_reference(),
        notes=(f"a compact JWS of {len(token)} characters",),
    )


BENCHMARKS = (
    Benchmark(
        "di_eddsa_verify",
        "eddsa-jcs-2022 verify, did:key issuer resolved from cache",
        0.6,
        _setup_di_eddsa_verify,
    ),
    Benchmark("di_eddsa_issue", "eddsa-jcs-2022 issue", 0.4, _setup_di_eddsa_issue),
    Benchmark("di_ecdsa_verify", "ecdsa-jcs-2019 verify", 0.6, _setup_di_ecdsa_verify),
    Benchmark("jcs", "canonicalise the credential", 3.0, _setup_jcs),
    Benchmark("vc_jwt_verify", "vc+jwt EdDSA verify", 0.5, _setup_vc_jwt_verify),
)
