"""Checking a related resource's bytes against the digests a credential gives for it.

VC Data Model 2.0, section 5.3 ("Integrity of Related Resources"): a
``relatedResource`` entry names a resource by ``id`` and fixes its content
with ``digestSRI`` (a Subresource Integrity metadata value, e.g.
``sha384-<base64>``) and/or ``digestMultibase`` (a multibase-encoded
multihash). The data model check (:mod:`credentials.model`) sees only the
syntax; a verifier that fetches the resource calls :func:`check_related_resource`
with the bytes it fetched. The library never fetches them itself (sans-IO).

Every digest given must match (a resource with both is checked against both).
For SRI, as the SRI specification says, only the strongest algorithm present
counts and any one of its values may match. Failures raise
:class:`~credentials.errors.VerificationError` with a stable code:
``digest_missing``, ``digest_malformed``, ``digest_unsupported`` or
``digest_mismatch``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any, Final

from credentials.errors import VerificationError
from did_methods._wire.b64 import b64_decode, b64url_decode
from did_methods.encoding import base58btc_decode, varint_decode
from did_methods.errors import ParseError

__all__ = ["MAX_RESOURCE_BYTES", "check_related_resource"]

#: Largest resource checked (bytes); the caller bounds its fetch with the same number.
MAX_RESOURCE_BYTES: Final = 64 * 1024 * 1024

# SRI algorithms by strength (SRI section 3.3.3: "the strongest" wins).
_SRI: Final[dict[str, tuple[int, Callable[[bytes], Any]]]] = {
    "sha256": (1, hashlib.sha256),
    "sha384": (2, hashlib.sha384),
    "sha512": (3, hashlib.sha512),
}
# Multihash codes (multiformats table) -> (hash, digest length).
_MULTIHASH: Final[dict[int, tuple[Callable[[bytes], Any], int]]] = {
    0x12: (hashlib.sha256, 32),
    0x20: (hashlib.sha384, 48),
    0x13: (hashlib.sha512, 64),
    0x16: (hashlib.sha3_256, 32),
    0x15: (hashlib.sha3_384, 48),
    0x14: (hashlib.sha3_512, 64),
}
_MAX_DIGEST_TEXT: Final = 1024


def _malformed(what: str, why: str) -> VerificationError:
    return VerificationError("digest_malformed", f"{what} is malformed: {why}")


def _check_sri(value: Any, content: bytes) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_DIGEST_TEXT:
        raise _malformed("digestSRI", "not a non-empty string of at most 1024 characters")
    candidates: dict[str, list[bytes]] = {}
    for token in value.split():
        algorithm, sep, rest = token.partition("-")
        if not sep:
            raise _malformed("digestSRI", f"{token!r} is not ALGORITHM-BASE64")
        if algorithm not in _SRI:
            continue  # SRI: unknown algorithms are ignored
        digest_text = rest.split("?", 1)[0]  # options after '?' are not part of the value
        try:
            digest = b64_decode(digest_text, max_length=_MAX_DIGEST_TEXT)
        except ParseError as exc:
            raise _malformed("digestSRI", str(exc)) from exc
        candidates.setdefault(algorithm, []).append(digest)
    if not candidates:
        raise VerificationError(
            "digest_unsupported", "digestSRI names no algorithm of sha256, sha384, sha512"
        )
    strongest = max(candidates, key=lambda name: _SRI[name][0])
    actual = _SRI[strongest][1](content).digest()
    if not any(hmac.compare_digest(actual, expected) for expected in candidates[strongest]):
        raise VerificationError(
            "digest_mismatch", f"the resource's {strongest} digest differs from digestSRI"
        )


def _multibase(value: str) -> bytes:
    prefix, body = value[0], value[1:]
    if prefix == "u":
        return b64url_decode(body, max_length=_MAX_DIGEST_TEXT)
    if prefix == "z":
        return base58btc_decode(body)
    if prefix == "m":  # base64 without padding
        return b64_decode(body + "=" * (-len(body) % 4), max_length=_MAX_DIGEST_TEXT)
    raise ParseError(f"multibase prefix {prefix!r} is not one of u, z, m")


def _check_multibase(value: Any, content: bytes) -> None:
    if not isinstance(value, str) or len(value) < 2 or len(value) > _MAX_DIGEST_TEXT:
        raise _malformed("digestMultibase", "not a multibase string of at most 1024 characters")
    try:
        multihash = _multibase(value)
        code, used = varint_decode(multihash)
        length, used_length = varint_decode(multihash[used:])
    except (ParseError, ValueError) as exc:
        raise _malformed("digestMultibase", str(exc)) from exc
    digest = multihash[used + used_length :]
    if code not in _MULTIHASH:
        raise VerificationError(
            "digest_unsupported", f"digestMultibase uses multihash 0x{code:x}, not a SHA-2/SHA-3"
        )
    make, size = _MULTIHASH[code]
    if length != size or len(digest) != size:
        raise _malformed("digestMultibase", f"a 0x{code:x} multihash holds {size} bytes")
    if not hmac.compare_digest(make(content).digest(), digest):
        raise VerificationError(
            "digest_mismatch", "the resource's digest differs from digestMultibase"
        )


def check_related_resource(resource: Mapping[str, Any], content: bytes) -> None:
    """Check ``content`` (the fetched bytes of ``resource["id"]``) against its digests.

    ``resource`` is one entry of a verified credential's ``relatedResource``.
    Returns None when every digest it gives matches; raises
    :class:`~credentials.errors.VerificationError` otherwise (see the module
    docstring for the codes) and ``TypeError`` when ``content`` is not bytes.
    """
    if not isinstance(content, bytes | bytearray | memoryview):
        raise TypeError("content must be the resource's bytes")
    if len(content) > MAX_RESOURCE_BYTES:
        raise VerificationError(
            "digest_malformed", f"the resource is larger than {MAX_RESOURCE_BYTES} bytes"
        )
    if not isinstance(resource, Mapping):
        raise _malformed("relatedResource entry", "not an object")
    data = bytes(content)
    sri, multibase = resource.get("digestSRI"), resource.get("digestMultibase")
    if sri is None and multibase is None:
        raise VerificationError(
            "digest_missing", "the related resource gives no digestSRI or digestMultibase"
        )
    if sri is not None:
        _check_sri(sri, data)
    if multibase is not None:
        _check_multibase(multibase, data)
