"""OAuth 2.0 proof-of-possession pieces for OpenID4VCI and OpenID4VP: PKCE and DPoP.

Sans-IO: every function takes strings and keys and returns strings or a
verified value; the clock (``now``) and randomness (``randbytes``) are
parameters.

PKCE, RFC 7636 (only ``S256``; ``plain`` is refused, as the OAuth 2.0
Security BCP, RFC 9700 section 2.1.1, and HAIP ask):

* :func:`make_code_verifier`: section 4.1, a high-entropy ``code_verifier``
  (32 random octets, base64url: 43 characters);
* :func:`code_challenge`: section 4.2, ``BASE64URL(SHA256(ASCII(code_verifier)))``;
* :func:`verify_code_challenge`: section 4.6, the server's comparison
  (constant time).

DPoP, RFC 9449:

* :func:`create_dpop_proof`: section 4.2, a DPoP proof JWT (header ``typ``
  ``dpop+jwt``, ``alg``, ``jwk``; claims ``jti``, ``htm``, ``htu``, ``iat``,
  and ``ath`` with an access token, ``nonce`` when the server gave one);
* :func:`verify_dpop_proof`: section 4.3, the receiver's checks, numbered as
  the RFC numbers them, plus section 11.1 (``jti`` replay) and section 6.1
  (``cnf.jkt`` binding of the access token);
* :func:`normalise_htu`: the comparison of section 4.3 item 9 with the
  syntax- and scheme-based normalisation of RFC 3986 sections 6.2.2 and 6.2.3;
* :func:`access_token_hash`: section 4.2 ``ath``, ``BASE64URL(SHA256(token))``;
* the JWK thumbprint of section 6.1 (``cnf.jkt``) is RFC 7638's,
  :func:`did_methods.keys.jwk_thumbprint`.

Failures raise :class:`DPoPError` (a :class:`VerificationError`) with a stable
``code``; its :attr:`DPoPError.oauth_error` is the error a resource or
authorization server answers with (``use_dpop_nonce`` for nonce refusals,
RFC 9449 sections 8 and 9; ``invalid_dpop_proof`` otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from credentials._jws import (
    CompactJWS,
    b64e,
    check_alg,
    dumps,
    sign_compact,
)
from did_methods._wire.dates import epoch_seconds, is_numeric_date
from did_methods.errors import ParseError, SSIWalletError, UnsupportedError, VerificationError
from did_methods.keys import PrivateKey, PublicKey, RandBytes, jwk_thumbprint

__all__ = [
    "DEFAULT_DPOP_ALGS",
    "DPoPError",
    "DPoPProof",
    "JtiStore",
    "MemoryJtiStore",
    "access_token_hash",
    "code_challenge",
    "create_dpop_proof",
    "make_code_verifier",
    "normalise_htu",
    "verify_code_challenge",
    "verify_dpop_proof",
]

# ------------------------------------------------------------------ PKCE (RFC 7636)

#: RFC 7636 section 4.1: ``code-verifier = 43*128unreserved``.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
#: A S256 challenge is the unpadded base64url of 32 octets: 43 characters.
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def make_code_verifier(randbytes: RandBytes = os.urandom) -> str:
    """A fresh ``code_verifier`` (RFC 7636 section 4.1): 32 random octets, base64url."""
    return b64e(randbytes(32))


def _check_method(method: str) -> None:
    if method != "S256":
        raise UnsupportedError(
            f"PKCE code_challenge_method {str(method)[:20]!r} is refused: only S256",
            "pkce_method_unsupported",
        )


def code_challenge(code_verifier: str, method: str = "S256") -> str:
    """The ``code_challenge`` of ``code_verifier`` (RFC 7636 section 4.2, ``S256``).

    Raises :class:`ParseError` when the verifier breaks section 4.1's syntax
    and :class:`UnsupportedError` ``pkce_method_unsupported`` for any method
    but ``S256``.
    """
    _check_method(method)
    if not isinstance(code_verifier, str) or not _VERIFIER.fullmatch(code_verifier):
        raise ParseError("a PKCE code_verifier is 43 to 128 unreserved characters")
    return b64e(hashlib.sha256(code_verifier.encode("ascii")).digest())


def verify_code_challenge(code_verifier: str, challenge: str, method: str = "S256") -> None:
    """Check a token request's ``code_verifier`` against the stored ``code_challenge``.

    RFC 7636 section 4.6. Returns None or raises :class:`VerificationError`
    ``pkce_mismatch`` (also for a malformed verifier or challenge: the client
    gets ``invalid_grant`` either way), :class:`UnsupportedError` for a method
    other than ``S256``.
    """
    _check_method(method)
    if not isinstance(challenge, str) or not _CHALLENGE.fullmatch(challenge):
        raise VerificationError("pkce_mismatch", "the stored code_challenge is malformed")
    try:
        expected = code_challenge(code_verifier)
    except ParseError as exc:
        raise VerificationError("pkce_mismatch", str(exc)) from exc
    if not hmac.compare_digest(expected, challenge):
        raise VerificationError("pkce_mismatch", "code_verifier does not match code_challenge")


# ------------------------------------------------------------------ DPoP (RFC 9449)

#: The algorithms a DPoP proof may use unless the caller narrows or widens the
#: list (within :data:`credentials._jws.ALG_KEY_TYPES`; never ``none`` or a MAC).
DEFAULT_DPOP_ALGS: Final = ("ES256", "EdDSA")
#: Longest DPoP proof we parse (characters); a proof is a few hundred.
MAX_DPOP_LENGTH: Final = 8192
#: Seconds a proof stays acceptable after its ``iat`` (section 11.1 leaves it to the server).
DEFAULT_MAX_AGE: Final = 300.0
#: Seconds a proof's ``iat`` may lie in the future (clock skew).
DEFAULT_SKEW: Final = 60.0
_MAX_CLAIM = 2048  # characters in jti, htm, nonce; htu gets 8192
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_NONCE_CODES = frozenset({"dpop_nonce_missing", "dpop_nonce_mismatch"})
# RFC 9110 section 9.1: a method is a token; we only ever see upper-case ones.
_METHOD = re.compile(r"[A-Z]{1,20}")


class DPoPError(VerificationError):
    """A DPoP proof was refused; ``code`` says which check failed (stable)."""

    @property
    def oauth_error(self) -> str:
        """The OAuth error code to answer with: ``use_dpop_nonce`` or ``invalid_dpop_proof``."""
        return "use_dpop_nonce" if self.code in _NONCE_CODES else "invalid_dpop_proof"


def access_token_hash(access_token: str) -> str:
    """``ath`` (RFC 9449 section 4.2): base64url of the SHA-256 of the token's ASCII octets."""
    if not isinstance(access_token, str) or not access_token.isascii():
        raise ParseError("an access token is ASCII text")
    return b64e(hashlib.sha256(access_token.encode("ascii")).digest())


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


def _normalise_percent(match: re.Match[str]) -> str:
    # RFC 3986 section 6.2.2.1 (upper-case hex) and 6.2.2.2 (decode unreserved)
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, as written there
    out: list[str] = []
    rest = path
    while rest:
        if rest.startswith("../"):
            rest = rest[3:]
        elif rest.startswith("./") or rest.startswith("/./"):
            rest = rest[2:]
        elif rest == "/.":
            rest = "/"
        elif rest.startswith("/../"):
            rest = rest[3:]
            if out:
                out.pop()
        elif rest == "/..":
            rest = "/"
            if out:
                out.pop()
        elif rest in (".", ".."):
            rest = ""
        else:
            start = 1 if rest.startswith("/") else 0
            end = rest.find("/", start)
            end = len(rest) if end < 0 else end
            out.append(rest[:end])
            rest = rest[end:]
    return "".join(out)


_DEFAULT_PORT = {"http": 80, "https": 443}


def normalise_htu(uri: str) -> str:
    """The HTTP URI ``uri`` without query and fragment, normalised for comparison.

    RFC 9449 section 4.3 item 9 compares ``htu`` with the request's URI
    "ignoring any query and fragment parts", after the syntax-based and
    scheme-based normalisation of RFC 3986 sections 6.2.2 and 6.2.3: scheme
    and host in lower case, the default port dropped, an empty path made
    ``/``, percent-encodings upper-cased and unreserved ones decoded, dot
    segments removed. Raises :class:`ParseError` for anything but an absolute
    ``http``/``https`` URI with a host and no user information.
    """
    if not isinstance(uri, str) or not uri or len(uri) > 8192 or not uri.isascii():
        raise ParseError("an htu is an absolute http(s) URI of printable ASCII")
    if any(c <= " " or c == "\x7f" for c in uri):
        raise ParseError("an htu holds no spaces or control characters")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise ParseError(f"an htu is not a valid URI: {exc}") from exc
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORT or not host:
        raise ParseError("an htu is an absolute http or https URI with a host")
    if "@" in parts.netloc:
        raise ParseError("an htu carries no user information")
    host = f"[{host}]" if ":" in host else host
    netloc = host if port in (None, _DEFAULT_PORT[scheme]) else f"{host}:{port}"
    path = _remove_dot_segments(_PERCENT.sub(_normalise_percent, parts.path)) or "/"
    return f"{scheme}://{netloc}{path}"


class JtiStore(Protocol):
    """Remembers DPoP proof ids until their proofs could no longer be accepted (section 11.1).

    ``first_use`` records ``jti`` (until ``expires_at``, Unix seconds) and
    returns True, or returns False when it was recorded before and has not
    expired. A store that cannot record must raise, never return True.
    """

    def first_use(self, jti: str, *, expires_at: float, now: float) -> bool: ...


class MemoryJtiStore:
    """A bounded, expiring, thread-safe :class:`JtiStore` for one process.

    When ``max_entries`` unexpired ids are held, a new one is refused
    (:class:`DPoPError` ``dpop_replay_store_full``) rather than forgetting an
    id whose proof could still be replayed.
    """

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()  # jti -> expiry, oldest first
        self._max = max_entries
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def first_use(self, jti: str, *, expires_at: float, now: float) -> bool:
        with self._lock:
            # Ids arrive in nearly the order they expire: drop expired ones from
            # the front, and sweep them all only when the store is full.
            while self._seen and next(iter(self._seen.values())) <= now:
                self._seen.popitem(last=False)
            until = self._seen.get(jti)
            if until is not None and until > now:
                return False
            if len(self._seen) >= self._max:
                for old in [k for k, t in self._seen.items() if t <= now]:
                    del self._seen[old]
            if len(self._seen) >= self._max:
                raise DPoPError("dpop_replay_store_full", "too many DPoP proofs to remember")
            self._seen[jti] = expires_at
            return True


@dataclass(frozen=True, slots=True)
class DPoPProof:
    """A DPoP proof that passed :func:`verify_dpop_proof`.

    ``jkt`` is the RFC 7638 thumbprint of ``public_key`` (what ``cnf.jkt``
    of a DPoP-bound access token holds, section 6.1).
    """

    public_key: PublicKey
    jkt: str
    jti: str
    htm: str
    htu: str
    iat: float
    claims: Mapping[str, Any]


def create_dpop_proof(
    key: PrivateKey,
    *,
    htm: str,
    htu: str,
    access_token: str | None = None,
    nonce: str | None = None,
    now: datetime | float | None = None,
    randbytes: RandBytes = os.urandom,
) -> str:
    """A DPoP proof JWT for one request (RFC 9449 section 4.2), signed by ``key``.

    ``htu`` is sent without query and fragment (normalised by
    :func:`normalise_htu`); ``ath`` is added for ``access_token``, ``nonce``
    when the server supplied one (section 8). ``jti`` is 16 random octets.
    Raises :class:`ParseError` for a malformed method, URI or token, and
    :class:`UnsupportedError` for a key that cannot sign.
    """
    if not isinstance(htm, str) or not _METHOD.fullmatch(htm):
        raise ParseError("htm is an HTTP method in upper case, such as POST")
    header = {"typ": "dpop+jwt", "jwk": key.public_key.to_jwk()}
    claims: dict[str, Any] = {
        "jti": b64e(randbytes(16)),
        "htm": htm,
        "htu": normalise_htu(htu),
        "iat": int(epoch_seconds(now)),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        if not isinstance(nonce, str) or not nonce or len(nonce) > _MAX_CLAIM:
            raise ParseError("a DPoP nonce is a non-empty string")
        claims["nonce"] = nonce
    return sign_compact(header, dumps(claims), key)


def _fail(code: str, message: str) -> DPoPError:
    return DPoPError(code, message)


def _short_string(claims: Mapping[str, Any], name: str, limit: int = _MAX_CLAIM) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _fail("dpop_claim_invalid", f"the DPoP proof's {name!r} is not a usable string")
    return value


def verify_dpop_proof(
    proof: str,
    *,
    htm: str,
    htu: str,
    jti_store: JtiStore,
    now: datetime | float | None = None,
    access_token: str | None = None,
    jkt: str | None = None,
    nonce: str | Collection[str] | None = None,
    algs: Collection[str] = DEFAULT_DPOP_ALGS,
    max_age: float = DEFAULT_MAX_AGE,
    skew: float = DEFAULT_SKEW,
) -> DPoPProof:
    """Check a DPoP proof received with a request of method ``htm`` to URI ``htu``.

    The steps of RFC 9449 section 4.3 (item 1, one ``DPoP`` header field, is
    the HTTP adapter's):

    2. one well-formed compact JWS, at most :data:`MAX_DPOP_LENGTH` characters;
    3. the required claims present (``jti``, ``htm``, ``htu``, ``iat``);
    4. ``typ`` is ``dpop+jwt``;
    5. ``alg`` is asymmetric and in ``algs``;
    6. the signature verifies with the public key in the ``jwk`` header;
    7. that ``jwk`` holds no private member;
    8. ``htm`` equals the request's method;
    9. ``htu`` equals the request's URI without query and fragment (normalised);
    10. with ``nonce`` (the value or values the server issued), the claim
        ``nonce`` is one of them;
    11. ``iat`` lies within [now - max_age - skew, now + skew];
    12. with ``access_token``: ``ath`` is its hash, and the key's thumbprint
        equals ``jkt`` (the token's ``cnf.jkt``, required then).

    Last, the ``jti`` is recorded in ``jti_store`` and refused when seen before
    (section 11.1). Returns the :class:`DPoPProof`; raises :class:`DPoPError`.
    """
    at = epoch_seconds(now)
    # 2. a single well-formed JWT
    if not isinstance(proof, str) or len(proof) > MAX_DPOP_LENGTH:
        raise _fail("dpop_malformed", "a DPoP proof is a compact JWS of bounded length")
    try:
        jws = CompactJWS.parse(proof, max_length=MAX_DPOP_LENGTH)
    except SSIWalletError as exc:
        raise _fail("dpop_malformed", f"the DPoP proof is not a compact JWS: {exc}") from exc
    header, claims = jws.header, jws.payload
    # 3. required claims
    missing = [name for name in ("jti", "htm", "htu", "iat") if name not in claims]
    if missing:
        raise _fail("dpop_claim_missing", f"the DPoP proof lacks {', '.join(missing)}")
    jti = _short_string(claims, "jti")
    claim_htm = _short_string(claims, "htm")
    claim_htu = _short_string(claims, "htu", 8192)
    iat = claims["iat"]
    if not is_numeric_date(iat):
        raise _fail("dpop_claim_invalid", "the DPoP proof's 'iat' is not a NumericDate")
    # 4. typ
    if header.get("typ") != "dpop+jwt":
        raise _fail("dpop_typ_invalid", "the DPoP proof's typ is not dpop+jwt")
    # 5. alg: asymmetric, allowed, fitting the key (checked before any crypto)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algs:
        shown = alg[:20] if isinstance(alg, str) else type(alg).__name__
        raise _fail("dpop_alg_not_allowed", f"DPoP proof alg {shown!r} is not allowed")
    jwk = header.get("jwk")
    if not isinstance(jwk, Mapping):
        raise _fail("dpop_jwk_invalid", "the DPoP proof's header has no 'jwk' object")
    # 7. (before reading the key) no private member
    private = sorted(_PRIVATE_JWK_MEMBERS.intersection(jwk))
    if private:
        raise _fail("dpop_jwk_private", f"the DPoP proof's jwk carries private {private}")
    try:
        key = PublicKey.from_jwk(jwk)
        check_alg(alg, key)
    except VerificationError as exc:
        raise _fail("dpop_alg_not_allowed", str(exc)) from exc
    except SSIWalletError as exc:
        raise _fail("dpop_jwk_invalid", f"the DPoP proof's jwk is unusable: {exc}") from exc
    # 6. signature by the embedded key
    try:
        jws.verify(key)
    except SSIWalletError as exc:
        raise _fail("dpop_signature_invalid", "the DPoP proof's signature does not verify") from exc
    # 8. htm
    if claim_htm != htm:
        raise _fail("dpop_htm_mismatch", f"the DPoP proof is for {claim_htm[:20]}, not {htm}")
    # 9. htu, ignoring query and fragment, after normalisation
    try:
        same_uri = normalise_htu(claim_htu) == normalise_htu(htu)
    except ParseError as exc:
        raise _fail("dpop_htu_mismatch", f"the DPoP proof's htu is unusable: {exc}") from exc
    if not same_uri:
        raise _fail("dpop_htu_mismatch", "the DPoP proof is for another URI")
    # 10. nonce, when the server issued one
    if nonce is not None:
        expected = (nonce,) if isinstance(nonce, str) else tuple(nonce)
        got = claims.get("nonce")
        if got is None:
            raise _fail("dpop_nonce_missing", "the server requires a DPoP nonce")
        if not isinstance(got, str) or not any(hmac.compare_digest(got, n) for n in expected):
            raise _fail("dpop_nonce_mismatch", "the DPoP proof's nonce is not the server's")
    # 11. iat window
    if iat > at + skew:
        raise _fail("dpop_iat_future", "the DPoP proof was issued in the future")
    if iat < at - max_age - skew:
        raise _fail("dpop_iat_stale", "the DPoP proof is too old")
    # 12. access token binding
    thumbprint = jwk_thumbprint(key.to_jwk())
    if access_token is not None:
        try:
            expected_ath = access_token_hash(access_token)
        except ParseError as exc:
            raise _fail("dpop_ath_mismatch", str(exc)) from exc
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(ath, expected_ath):
            raise _fail("dpop_ath_mismatch", "the DPoP proof's ath is not the access token's hash")
        if jkt is None:
            raise _fail("dpop_jkt_mismatch", "no cnf.jkt given for the DPoP-bound access token")
    if jkt is not None and not hmac.compare_digest(thumbprint, jkt):
        raise _fail("dpop_jkt_mismatch", "the DPoP proof's key is not the one the token binds")
    # section 11.1: a jti is accepted once while its proof could be
    if not jti_store.first_use(jti, expires_at=float(iat) + max_age + skew, now=at):
        raise _fail("dpop_replayed", "this DPoP proof (its jti) was used before")
    return DPoPProof(key, thumbprint, jti, claim_htm, claim_htu, float(iat), dict(claims))
