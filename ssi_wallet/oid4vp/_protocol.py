"""What both ends of OpenID4VP share: names, Client Identifier Prefixes, value checks,
and reading and writing request objects (RFC 9101 JAR). Sans-IO.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from credentials.cose import ALG_ED25519, ALG_EDDSA, ALG_ES256, ALG_ES384, ALG_ES512
from credentials.jws import CompactJWS, dumps, sign_compact
from did_methods._wire.b64 import b64url_decode, b64url_encode
from did_methods._wire.json import loads
from did_methods.errors import ParseError
from did_methods.keys import PrivateKey, jwk_thumbprint
from ssi_wallet.oid4vp.errors import OID4VPError

#: The ``typ`` of a request object (RFC 9101 section 10.8; OpenID4VP 1.0 section 5).
REQUEST_TYP: Final = "oauth-authz-req+jwt"
#: The media type a request URI answers with.
REQUEST_MEDIA_TYPE: Final = "application/oauth-authz-req+jwt"
#: The ``aud`` of a request object under static discovery (OpenID4VP 1.0 section 5.8).
SELF_ISSUED_AUDIENCE: Final = "https://self-issued.me/v2"
#: The Client Identifier Prefixes we speak (OpenID4VP 1.0 section 5.9.3). Not
#: ``openid_federation``, ``origin`` (DC API) or pre-registered clients: those are
#: refused ``client_id_prefix_unsupported``.
CLIENT_ID_PREFIXES: Final = (
    "decentralized_identifier",
    "x509_san_dns",
    "x509_hash",
    "verifier_attestation",
    "redirect_uri",
)
#: The Response Modes we speak.
RESPONSE_MODES: Final = ("direct_post", "direct_post.jwt")
#: The JWE content encryption algorithms we accept for ``direct_post.jwt``.
ENC_VALUES: Final = ("A128GCM", "A256GCM")
#: The wallet's custom scheme (OpenID4VP 1.0 section 13.1.2).
SCHEME: Final = "openid4vp"
#: Longest request object we read (characters).
MAX_REQUEST_OBJECT: Final = 256 * 1024
#: Longest authorization response body we read (bytes).
MAX_RESPONSE: Final = 4 * 1024 * 1024
#: Longest nonce, state or wallet_nonce we accept.
MAX_VALUE: Final = 512

#: What we accept and present, per format (OpenID4VP 1.0 appendix B).
_COSE_ALGS: Final = [ALG_ES256, ALG_ES384, ALG_ES512, ALG_EDDSA, ALG_ED25519]
VP_FORMATS: Final[Mapping[str, Any]] = {
    "dc+sd-jwt": {
        "sd-jwt_alg_values": ["EdDSA", "ES256", "ES384"],
        "kb-jwt_alg_values": ["EdDSA", "ES256", "ES384"],
    },
    "ldp_vc": {
        "proof_type_values": ["DataIntegrityProof"],
        "cryptosuite_values": ["eddsa-jcs-2022", "ecdsa-jcs-2019", "eddsa-rdfc-2022"],
    },
    "jwt_vc_json": {"alg_values": ["EdDSA", "ES256", "ES384"]},
    # OpenID4VP 1.0 B.2.2: the COSE algorithm identifiers credentials.mdoc verifies
    "mso_mdoc": {
        "issuerauth_alg_values": _COSE_ALGS,
        "deviceauth_alg_values": _COSE_ALGS,
    },
}
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


def url_safe(value: Any, name: str, *, code: str = "request_object_invalid") -> str:
    """``value`` when it is a non-empty string of ASCII URL-safe characters (the rule of
    OpenID4VP 1.0 section 5.2 for ``nonce`` and ``state``), else :class:`OID4VPError`."""
    if not isinstance(value, str) or len(value) > MAX_VALUE or not _URL_SAFE.fullmatch(value):
        raise OID4VPError(code, f"{name} must be 1 to {MAX_VALUE} URL-safe ASCII characters")
    return value


@dataclass(frozen=True, slots=True)
class ClientId:
    """A ``client_id`` split at its first colon: ``prefix`` and the original identifier."""

    prefix: str
    original: str

    def __str__(self) -> str:
        return f"{self.prefix}:{self.original}"

    @classmethod
    def parse(cls, value: Any) -> ClientId:
        """Split ``value``; raise ``client_id_prefix_unsupported`` for a prefix we do not
        speak (or none: we keep no pre-registered clients), ``request_object_invalid``
        for a value that is no string."""
        if not isinstance(value, str) or not value or len(value) > 2048:
            raise OID4VPError("request_object_invalid", "client_id must be a non-empty string")
        prefix, colon, original = value.partition(":")
        if not colon or prefix not in CLIENT_ID_PREFIXES or not original:
            shown = prefix[:40] if colon else "(none: a pre-registered client)"
            raise OID4VPError(
                "client_id_prefix_unsupported",
                f"Client Identifier Prefix {shown!r} is not supported "
                f"({', '.join(CLIENT_ID_PREFIXES)})",
            )
        return cls(prefix, original)


def sign_request_object(
    payload: Mapping[str, Any], key: PrivateKey, header: Mapping[str, Any]
) -> str:
    """A signed request object: a compact JWS with ``typ`` ``oauth-authz-req+jwt``."""
    return sign_compact({**header, "typ": REQUEST_TYP}, dumps(dict(payload)), key)


def unsigned_request_object(payload: Mapping[str, Any]) -> str:
    """An unsigned request object (``alg`` ``none``, RFC 7519 section 6), the only kind
    the ``redirect_uri`` prefix allows."""
    header = {"alg": "none", "typ": REQUEST_TYP}
    return f"{b64url_encode(dumps(header))}.{b64url_encode(dumps(dict(payload)))}."


@dataclass(frozen=True, slots=True)
class RequestObject:
    """A request object as read, *unverified*: its header, its claims, and the signed
    JWS when it carries a signature (``None`` for ``alg`` ``none``)."""

    unverified_header: Mapping[str, Any]
    unverified_claims: Mapping[str, Any]
    jws: CompactJWS | None

    @classmethod
    def parse(cls, text: Any) -> RequestObject:
        """Read a compact JWT strictly and boundedly; check ``typ`` before anything else.

        Raises :class:`OID4VPError` ``request_object_invalid`` (not a JWT, not JSON
        objects, too long) or ``request_typ_invalid``.
        """
        if isinstance(text, bytes):
            try:
                text = text.decode("ascii")
            except UnicodeDecodeError as exc:
                raise OID4VPError("request_object_invalid", "not an ASCII JWT") from exc
        if not isinstance(text, str) or len(text) > MAX_REQUEST_OBJECT:
            raise OID4VPError("request_object_invalid", "a request object is a JWT of bounded size")
        text = text.strip()
        parts = text.split(".")
        try:
            if len(parts) == 3 and parts[2]:
                jws: CompactJWS | None = CompactJWS.parse(text, max_length=MAX_REQUEST_OBJECT)
                assert jws is not None
                header, claims = jws.header, jws.payload
            elif len(parts) == 3:
                jws = None
                header = loads(b64url_decode(parts[0]), what="request object header", max_depth=16)
                claims = loads(b64url_decode(parts[1]), what="request object", max_depth=64)
            else:
                raise ParseError("a JWT has three dot-separated parts")
        except ParseError as exc:
            raise OID4VPError(
                "request_object_invalid", f"unreadable request object: {exc}"
            ) from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise OID4VPError("request_object_invalid", "header and claims must be JSON objects")
        if header.get("typ") != REQUEST_TYP:
            raise OID4VPError(
                "request_typ_invalid", f"the request object's typ must be {REQUEST_TYP!r}"
            )
        if jws is None and header.get("alg") != "none":
            raise OID4VPError("request_object_invalid", "an unsigned JWT must say alg none")
        if "crit" in header:
            raise OID4VPError("request_object_invalid", "crit names extensions we do not know")
        return cls(header, claims, jws)


def encryption_key_thumbprint(jwk: Mapping[str, Any]) -> bytes:
    """The raw SHA-256 JWK thumbprint (RFC 7638) of the verifier's response encryption key:
    the ``jwkThumbprint`` of an mdoc's session transcript (OpenID4VP 1.0 B.2.6.1).
    Raises :class:`~did_methods.keys.InvalidKey` for a JWK without its required members."""
    return b64url_decode(jwk_thumbprint(jwk))
