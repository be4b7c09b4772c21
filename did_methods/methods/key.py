"""The ``did:key`` method (W3C CCG did:key v0.9): a DID that *is* a public key.

``did:key:<Multikey>`` for Ed25519, X25519, P-256 and P-384. The document
uses Multikey verification methods, as the current specification's examples
do; an Ed25519 key also gets its derived X25519 ``keyAgreement`` key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from did_methods.did import DID
from did_methods.document import DID_CONTEXT, DID_CONTEXT_V1_1, MULTIKEY_CONTEXT, DIDDocument
from did_methods.encoding import multibase_decode, varint_decode
from did_methods.errors import InvalidKey, ParseError, ResolutionError
from did_methods.keys import KeyType, PublicKey
from did_methods.resolver import ResolutionResult

__all__ = ["KeyMethod", "did_key_document", "did_key_from_public_key", "public_key_from_did_key"]

_SIGNING = ("authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation")


def did_key_from_public_key(key: PublicKey) -> str:
    """The ``did:key`` DID of a public key."""
    return "did:key:" + key.to_multikey()


def public_key_from_did_key(did: str | DID) -> PublicKey:
    """The key a ``did:key`` encodes; raises :class:`InvalidKey` or :class:`InvalidDID`."""
    parsed = did if isinstance(did, DID) else DID.parse(did)
    if parsed.method != "key":
        raise InvalidKey(f"not a did:key DID: {parsed}")
    return PublicKey.from_multikey(parsed.method_specific_id)


#: Multicodec value -> raw public key length (did:key v0.9, Signature Method Creation).
_KEY_LENGTHS = {0xE7: 33, 0xEC: 32, 0xED: 32, 0x1200: 33, 0x1201: 49}
#: Verification method types the spec names for signature / encryption methods
#: when experimental types are off; the first two serve both.
_STANDARD_SIGNING = ("Multikey", "JsonWebKey2020", "Ed25519VerificationKey2020")
_STANDARD_ENCRYPTION = ("Multikey", "JsonWebKey2020", "X25519KeyAgreementKey2020")
#: Types we know of but do not produce (experimental in the spec's terms).
_EXPERIMENTAL = ("Ed25519VerificationKey2018", "X25519KeyAgreementKey2019")
#: The Context Creation Algorithm's context per verification method type.
_TYPE_CONTEXT = {
    "Multikey": MULTIKEY_CONTEXT,
    "Ed25519VerificationKey2020": "https://w3id.org/security/suites/ed25519-2020/v1",
    "X25519KeyAgreementKey2020": "https://w3id.org/security/suites/x25519-2020/v1",
    "JsonWebKey2020": "https://w3id.org/security/suites/jws-2020/v1",
}
#: Verification method types the DID v1.1 context defines itself.
_DEFINED_BY_DID_V1_1 = frozenset({"Multikey", "JsonWebKey"})


def _check_length(multibase: str) -> None:
    """``invalidPublicKeyLength`` when a known multicodec holds the wrong number of bytes."""
    try:
        data = multibase_decode(multibase)
        codec, n = varint_decode(data)
    except ParseError:
        return  # not decodable at all: invalidDid, reported by the key parser
    expected = _KEY_LENGTHS.get(codec)
    if expected is not None and len(data) - n != expected:
        raise ResolutionError(
            "invalidPublicKeyLength",
            f"multicodec 0x{codec:x} needs a {expected}-byte key, not {len(data) - n} bytes",
        )


def _format_for(key: PublicKey, public_key_format: str, experimental: bool) -> str:
    """The verification method type for ``key`` (Signature/Encryption Method Creation)."""
    encryption = key.key_type is KeyType.X25519
    standard = _STANDARD_ENCRYPTION if encryption else _STANDARD_SIGNING
    if public_key_format == "Ed25519VerificationKey2020" and encryption:
        # the spec's example pairs an Ed25519VerificationKey2020 with an
        # X25519KeyAgreementKey2020 for its derived key agreement key
        public_key_format = "X25519KeyAgreementKey2020"
    known = (*_STANDARD_SIGNING, *_STANDARD_ENCRYPTION, *_EXPERIMENTAL)
    if public_key_format not in known:
        raise ResolutionError(
            "unsupportedPublicKeyType", f"publicKeyFormat {public_key_format!r} is not known"
        )
    if public_key_format not in standard:
        if not experimental:
            raise ResolutionError(
                "invalidPublicKeyType",
                f"{public_key_format} is not a standard type for a {key.key_type.value} key "
                "and enableExperimentalPublicKeyTypes is false",
            )
        raise ResolutionError(
            "unsupportedPublicKeyType", f"publicKeyFormat {public_key_format!r} is not produced"
        )
    if public_key_format == "Ed25519VerificationKey2020" and key.key_type is not KeyType.ED25519:
        raise ResolutionError(
            "invalidPublicKeyType",
            f"an Ed25519VerificationKey2020 cannot hold a {key.key_type.value} key",
        )
    return public_key_format


def _vm(did: str, key: PublicKey, public_key_format: str = "Multikey") -> dict[str, Any]:
    multikey = key.to_multikey()
    vm: dict[str, Any] = {"id": f"{did}#{multikey}", "type": public_key_format, "controller": did}
    if public_key_format == "JsonWebKey2020":
        vm["publicKeyJwk"] = key.to_jwk()
    else:
        vm["publicKeyMultibase"] = multikey
    return vm


def did_key_document(
    key: PublicKey,
    *,
    public_key_format: str = "Multikey",
    enable_experimental_public_key_types: bool = False,
    default_context: str = DID_CONTEXT,
) -> DIDDocument:
    """The DID document of a ``did:key`` (the did:key v0.9 Document Creation Algorithm).

    ``public_key_format`` is the verification method type: ``Multikey`` (the
    default), ``JsonWebKey2020`` or ``Ed25519VerificationKey2020``.

    ``@context`` follows the Context Creation Algorithm: ``default_context``
    (the spec's ``options.defaultContext``, whose first element the Document
    Creation Algorithm makes ``https://www.w3.org/ns/did/v1``), then the
    context of each verification method type not yet listed (Multikey adds
    ``https://w3id.org/security/multikey/v1``). The spec's worked example
    instead shows ``["https://www.w3.org/ns/did/v1.1"]`` alone; pass
    ``default_context=DID_CONTEXT_V1_1`` for that form (DID v1.1 defines
    ``Multikey`` and ``JsonWebKey`` itself, so nothing is appended for them).
    Any other ``default_context`` is ``invalidOptions``.

    An Ed25519 key also gets its derived X25519
    ``keyAgreement`` key; a P-256 or P-384 key lists its own method under
    ``keyAgreement``, as the spec's NIST-curve vectors do. Raises
    :class:`ResolutionError` ``unsupportedPublicKeyType`` for a format not
    known, ``invalidPublicKeyType`` for one that is not standard (or cannot
    hold this key) while experimental types are off.
    """
    experimental = enable_experimental_public_key_types
    did = did_key_from_public_key(key)
    kind = _format_for(key, public_key_format, experimental)
    vm = _vm(did, key, kind)
    data: dict[str, Any] = {"id": did, "verificationMethod": [vm]}
    if key.key_type is KeyType.X25519:
        data["keyAgreement"] = [vm["id"]]
    else:
        for purpose in _SIGNING:
            data[purpose] = [vm["id"]]
        if key.key_type is KeyType.ED25519:
            agreement = key.to_x25519()
            data["keyAgreement"] = [
                _vm(did, agreement, _format_for(agreement, public_key_format, experimental))
            ]
        else:
            data["keyAgreement"] = [vm["id"]]
    if default_context not in (DID_CONTEXT, DID_CONTEXT_V1_1):
        raise ResolutionError(
            "invalidOptions",
            f"defaultContext must be {DID_CONTEXT} or {DID_CONTEXT_V1_1}",
        )
    context = [default_context]
    for method in [vm, *data["keyAgreement"]]:
        if not isinstance(method, dict):
            continue
        if default_context == DID_CONTEXT_V1_1 and method["type"] in _DEFINED_BY_DID_V1_1:
            continue
        extra = _TYPE_CONTEXT.get(method["type"])
        if extra and extra not in context:
            context.append(extra)
    return DIDDocument.from_json({"@context": context, **data})


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise ResolutionError("invalidOptions", "enableExperimentalPublicKeyTypes must be a boolean")


def _default_context(value: Any) -> str:
    """``defaultContext`` as a string or the spec's one-element array of it."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str):
        raise ResolutionError("invalidOptions", "defaultContext must be a context URL")
    return value


class KeyMethod:
    """Resolves ``did:key`` DIDs locally (no I/O).

    Resolution options (did:key v0.9): ``publicKeyFormat`` (default
    ``Multikey``), ``enableExperimentalPublicKeyTypes`` (default false) and
    ``defaultContext`` (default ``https://www.w3.org/ns/did/v1``); see
    :func:`did_key_document`.
    """

    name = "key"

    def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult:
        """Build the document from the key in the DID.

        ``invalidPublicKeyLength`` when the key has the wrong length for its
        multicodec, ``invalidDid`` when it holds no key we can read.
        """
        _check_length(did.method_specific_id)
        try:
            key = public_key_from_did_key(did)
        except InvalidKey as exc:
            raise ResolutionError(
                "invalidDid", f"did:key does not hold a supported key: {exc}"
            ) from exc
        public_key_format = options.get("publicKeyFormat", "Multikey")
        if not isinstance(public_key_format, str):
            raise ResolutionError("invalidOptions", "publicKeyFormat must be a string")
        document = did_key_document(
            key,
            public_key_format=public_key_format,
            enable_experimental_public_key_types=_flag(
                options.get("enableExperimentalPublicKeyTypes", False)
            ),
            default_context=_default_context(options.get("defaultContext", DID_CONTEXT)),
        )
        return ResolutionResult.found(document)
