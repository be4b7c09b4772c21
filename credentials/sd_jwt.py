"""SD-JWT (RFC 9901) and SD-JWT VC (``dc+sd-jwt``) with Key Binding.

Three roles, three calls:

* the issuer :func:`issue_sd_jwt` signs a claims set in which the claims
  named by *claim paths* (``("address", "street_address")``,
  ``("nationalities", 0)``) are replaced by salted digests, and hands the
  holder the matching disclosures;
* the holder :func:`present` keeps only the disclosures for the claims it
  chooses (a nested claim brings the disclosures it sits in) and, when a
  verifier gives a nonce and an audience, appends a Key Binding JWT signed
  with the key named in ``cnf``;
* the verifier :func:`verify_sd_jwt` checks the issuer's signature (algorithm
  allow-list first), every disclosure, the processed payload, the validity
  period, key binding and status, and returns a
  :class:`~credentials.result.VerificationResult` whose ``document`` is the
  processed payload (what the holder chose to show, and nothing else).

Input is bounded: an SD-JWT longer than :data:`MAX_SD_JWT_LENGTH`
characters, with more than :data:`MAX_DISCLOSURES` disclosures, or nested
deeper than :data:`MAX_DEPTH` levels is refused as malformed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeAlias

from credentials._jws import (
    DEFAULT_CLOCK_SKEW,
    CompactJWS,
    MethodResolver,
    absolute_kid,
    b64d,
    b64e,
    check_alg,
    dumps,
    encode_json,
    loads,
    method_key,
    resolve_key,
    sign_compact,
)
from credentials.keysets import issuer_key_source
from credentials.result import Check, VerificationResult
from did_methods._wire.b64 import b64url_bytes
from did_methods._wire.dates import instant, is_numeric_date, iso_instant
from did_methods.did import DIDURL
from did_methods.errors import (
    InvalidDID,
    ParseError,
    PolicyError,
    SSIWalletError,
    VerificationError,
)
from did_methods.keys import PrivateKey, PublicKey, RandBytes

__all__ = [
    "DEFAULT_KB_MAX_AGE",
    "MAX_DEPTH",
    "MAX_DISCLOSURES",
    "MAX_SD_JWT_LENGTH",
    "SD_JWT_VC_TYPES",
    "ClaimPath",
    "ClaimPathError",
    "Disclosure",
    "SdJwt",
    "SdJwtError",
    "StatusChecker",
    "issue_sd_jwt",
    "present",
    "verify_sd_jwt",
]

#: A claim path: object member names (``str``) and array positions (``int``).
ClaimPath: TypeAlias = tuple[str | int, ...]

#: A status check: given the ``status`` claim, returns the outcome as a Check.
StatusChecker: TypeAlias = Callable[[Mapping[str, Any]], Check]

#: Longest SD-JWT (with disclosures and KB-JWT) we parse, in characters.
MAX_SD_JWT_LENGTH: Final = 1_000_000
#: Most disclosures one SD-JWT may carry.
MAX_DISCLOSURES: Final = 1000
#: Deepest nesting of objects, arrays and disclosures inside disclosures.
MAX_DEPTH: Final = 64
#: How old a Key Binding JWT may be (seconds) by default.
DEFAULT_KB_MAX_AGE: Final = 300
#: The ``typ`` values of an SD-JWT VC: ``dc+sd-jwt`` and its former name.
SD_JWT_VC_TYPES: Final = ("dc+sd-jwt", "vc+sd-jwt")

_TYP = "dc+sd-jwt"
_KB_TYP = "kb+jwt"
_SD = "_sd"
_SD_ALG = "_sd_alg"
_ELLIPSIS = "..."
# 144 bits (RFC 9901 section 9.3 asks for at least 128): 18 bytes are exactly 24
# base64url characters, so a batch of salts is encoded in one call and sliced.
_SALT_BYTES = 18
_SALT_CHARS = 24
_SALT_BATCH = 16
_HASHES: Mapping[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}
# SD-JWT VC section 2.2.2.3: these claims, and every claim inside them, must stay in
# clear so that a verifier can always read them.
_NEVER_DISCLOSABLE = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status"}
)
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+")
# Registered claims of an SD-JWT VC: they describe the credential, not its subject.
_REGISTERED = frozenset(
    {"iss", "iat", "nbf", "exp", "vct", "cnf", "status", "sub", "vct#integrity", "aka_vcts"}
)


class SdJwtError(ParseError):
    """A malformed SD-JWT, disclosure or Key Binding JWT (also a ``ValueError``)."""


class ClaimPathError(SdJwtError):
    """A claim path that names no claim, or names one that may not be disclosable."""


@functools.lru_cache(maxsize=512)
def _key_from_jwk_items(items: tuple[tuple[str, str], ...]) -> PublicKey:
    return PublicKey.from_jwk(dict(items))


def _holder_public_key(jwk: Mapping[str, Any]) -> PublicKey:
    """``PublicKey.from_jwk`` with a cache: holders present the same cnf key again and again."""
    if len(jwk) <= 8 and all(type(v) is str for v in jwk.values()):
        return _key_from_jwk_items(tuple(sorted(jwk.items())))
    return PublicKey.from_jwk(jwk)


@functools.lru_cache(maxsize=512)
def _jwk_items(key: PublicKey) -> tuple[tuple[str, str], ...]:
    return tuple(key.to_jwk().items())


def _digest(alg: str, text: str) -> str:
    return b64e(_HASHES[alg](text.encode("ascii")).digest())


# -- disclosures ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One disclosure: ``[salt, name, value]`` for an object member, ``[salt, value]``
    for an array element (``name`` is then None).

    ``encoded`` is the base64url text exactly as issued: digests are computed
    over it, never over a re-serialisation.
    """

    encoded: str
    salt: str
    name: str | None
    value: Any

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        """Decode and validate a disclosure; raise :class:`SdJwtError`.

        Refuses anything that is not a JSON array of 2 or 3 elements with a
        string salt, and a claim name that is not a string or is ``_sd`` or
        ``...`` (RFC 9901 section 7.1).
        """
        try:
            raw = b64d(encoded)
            data = loads(raw, what="disclosure")
        except ParseError as exc:
            raise SdJwtError(f"disclosure is not base64url JSON: {exc}") from exc
        if not isinstance(data, list) or len(data) not in (2, 3):
            raise SdJwtError("a disclosure must be a JSON array of 2 or 3 elements")
        if not isinstance(data[0], str):
            raise SdJwtError("a disclosure's salt must be a string")
        if len(data) == 2:
            return cls(encoded, data[0], None, data[1])
        name = data[1]
        if not isinstance(name, str):
            raise SdJwtError("a disclosure's claim name must be a string")
        if name in (_SD, _ELLIPSIS):
            raise SdJwtError(f"a disclosure may not name the reserved claim {name!r}")
        return cls(encoded, data[0], name, data[2])

    @classmethod
    def create(cls, salt: str, name: str | None, value: Any) -> Disclosure:
        """Build a disclosure (compact UTF-8 JSON, then base64url)."""
        data = [salt, value] if name is None else [salt, name, value]
        return cls(b64e(dumps(data)), salt, name, value)

    def digest(self, alg: str = "sha-256") -> str:
        """The base64url digest that references this disclosure."""
        return _digest(alg, self.encoded)


# -- the SD-JWT container ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SdJwt:
    """A parsed, *unverified* SD-JWT in compact form.

    ``jwt`` is the issuer-signed JWT, ``disclosures`` the disclosure strings in
    the order given, ``kb_jwt`` the Key Binding JWT or None. Nothing here has
    been verified: use :func:`verify_sd_jwt`.
    """

    jwt_text: str
    jwt: CompactJWS
    disclosures: tuple[str, ...]
    kb_jwt_text: str | None
    kb_jwt: CompactJWS | None

    @classmethod
    def parse(cls, text: str) -> SdJwt:
        """Split and check ``<JWT>~<D1>~...~<Dn>~[<KB-JWT>]``; raise :class:`SdJwtError`.

        The issuer JWT and the KB-JWT must be compact JWS with JSON object
        header and payload; each disclosure must be non-empty base64url (its
        content is checked on use). Length, disclosure count and JSON depth
        are bounded. The JWS JSON Serialization (RFC 9901 section 8,
        flattened or general) is read too, as its compact equivalent; of a
        general serialization's signatures, the first is the one verified.
        """
        if not isinstance(text, str):
            raise SdJwtError(f"an SD-JWT must be a string, not {type(text).__name__}")
        if len(text) > MAX_SD_JWT_LENGTH:
            raise SdJwtError(f"SD-JWT is longer than {MAX_SD_JWT_LENGTH} characters")
        if text[:1] == "{":
            return cls._from_json_serialization(text)
        if text.count("~") > MAX_DISCLOSURES + 1:
            raise SdJwtError(f"SD-JWT has more than {MAX_DISCLOSURES} disclosures")
        parts = text.split("~")
        if len(parts) < 2:
            raise SdJwtError("an SD-JWT must contain '~' after the issuer-signed JWT")
        jwt_text, *disclosures, kb_text = parts
        return cls._build(jwt_text, disclosures, kb_text)

    @classmethod
    def _build(cls, jwt_text: str, disclosures: list[str], kb_text: str) -> SdJwt:
        for d in disclosures:
            if not _B64URL_RE.fullmatch(d):
                raise SdJwtError("an SD-JWT disclosure must be non-empty base64url")
        try:
            jwt = CompactJWS.parse(jwt_text)
            kb = CompactJWS.parse(kb_text) if kb_text else None
        except ParseError as exc:
            raise SdJwtError(f"malformed SD-JWT: {exc}") from exc
        return cls(jwt_text, jwt, tuple(disclosures), kb_text or None, kb)

    @classmethod
    def _from_json_serialization(cls, text: str) -> SdJwt:
        try:
            data = loads(text, what="JWS JSON Serialization")
        except ParseError as exc:
            raise SdJwtError(str(exc)) from exc
        if not isinstance(data, dict):
            raise SdJwtError("a JSON-serialised SD-JWT must be a JSON object")
        signatures = data.get("signatures")
        if signatures is None:  # flattened: one signature, at the top level
            first: Any = data
        elif isinstance(signatures, list) and signatures and isinstance(signatures[0], dict):
            first = signatures[0]
            for later in signatures[1:]:
                header = later.get("header") if isinstance(later, dict) else None
                if isinstance(header, dict) and ("disclosures" in header or "kb_jwt" in header):
                    raise SdJwtError("disclosures and kb_jwt belong in the first header only")
        else:
            raise SdJwtError("'signatures' must be a non-empty array of objects")
        header = first.get("header", {})
        parts = [first.get("protected"), data.get("payload"), first.get("signature")]
        texts = [p for p in parts if isinstance(p, str)]
        if len(texts) != 3 or not isinstance(header, dict):
            raise SdJwtError("protected, payload and signature must be strings")
        where: Mapping[str, Any] = header
        if signatures is None and ("disclosures" in data or "kb_jwt" in data):
            # The reference implementation (sd-jwt 0.10) writes these two members
            # beside "payload" instead of in the unprotected header; read either
            # layout, never both at once.
            if "disclosures" in header or "kb_jwt" in header:
                raise SdJwtError("disclosures appear both in the header and beside it")
            where = data
        disclosures = where.get("disclosures", [])
        kb_text = where.get("kb_jwt", "")
        if not isinstance(disclosures, list) or not all(isinstance(d, str) for d in disclosures):
            raise SdJwtError("'disclosures' must be an array of strings")
        if len(disclosures) > MAX_DISCLOSURES:
            raise SdJwtError(f"SD-JWT has more than {MAX_DISCLOSURES} disclosures")
        if not isinstance(kb_text, str):
            raise SdJwtError("'kb_jwt' must be a string")
        # RFC 9901 8.1: sd_hash covers the compact form rebuilt from these parts.
        return cls._build(".".join(texts), disclosures, kb_text)

    @property
    def unverified_header(self) -> Mapping[str, Any]:
        """The issuer JWT's header, as claimed (not verified)."""
        return self.jwt.header

    @property
    def unverified_payload(self) -> Mapping[str, Any]:
        """The issuer JWT's payload with digests, as claimed (not verified)."""
        payload: Mapping[str, Any] = self.jwt.payload
        return payload

    def presentation_prefix(self) -> str:
        """``<JWT>~<D1>~...~<Dn>~``: the text a KB-JWT's ``sd_hash`` covers."""
        return "".join(s + "~" for s in (self.jwt_text, *self.disclosures))

    def __str__(self) -> str:
        return self.presentation_prefix() + (self.kb_jwt_text or "")


# -- processing (shared by holder and verifier) -----------------------------------------


class _Reject(Exception):
    """Internal: a disclosure or payload problem with its stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class _Processor:
    """RFC 9901 section 7.1 step 3-5: replace digests by disclosed values.

    Records, for the holder, the claim path of every disclosure and every
    claim path that exists.
    """

    alg: str
    by_digest: dict[str, Disclosure]
    used: set[str]
    seen: set[str]
    entries: list[tuple[ClaimPath, str]]
    paths: set[ClaimPath]
    record: bool

    @classmethod
    def new(cls, alg: str, disclosures: Iterable[Disclosure], record: bool) -> _Processor:
        by_digest: dict[str, Disclosure] = {}
        for d in disclosures:
            digest = d.digest(alg)
            if digest in by_digest:
                raise _Reject("disclosure_duplicate", "the same disclosure is presented twice")
            by_digest[digest] = d
        return cls(alg, by_digest, set(), set(), [], set(), record)

    def _take(self, digest: Any) -> Disclosure | None:
        if not isinstance(digest, str):
            raise _Reject("sd_payload_invalid", "a digest in the payload is not a string")
        if digest in self.seen:
            raise _Reject("disclosure_duplicate", f"digest {digest[:16]}... appears more than once")
        self.seen.add(digest)
        found = self.by_digest.get(digest)
        if found is not None:
            self.used.add(digest)
        return found

    def value(self, node: Any, path: ClaimPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Reject("sd_payload_invalid", f"claims nested deeper than {MAX_DEPTH} levels")
        if self.record:
            self.paths.add(path)
        if type(node) is dict:
            return self._object(node, path, depth)
        if type(node) is list:
            return self._array(node, path, depth)
        return node

    def _object(self, node: dict[str, Any], path: ClaimPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        record = self.record
        for key, val in node.items():
            if key == _SD or (key == _SD_ALG and depth == 0):
                continue
            # Scalars need no walk unless the holder wants every claim path.
            if record or type(val) is dict or type(val) is list:
                val = self.value(val, (*path, key), depth + 1)
            out[key] = val
        digests = node.get(_SD, [])
        if not isinstance(digests, list):
            raise _Reject("sd_payload_invalid", "'_sd' must be an array of digests")
        for digest in digests:
            d = self._take(digest)
            if d is None:
                continue  # a decoy, or a claim the holder did not disclose
            if d.name is None:
                raise _Reject("disclosure_invalid", "an array-element disclosure is used in '_sd'")
            if d.name in out or d.name in node:
                raise _Reject(
                    "disclosure_claim_conflict", f"claim {d.name[:40]!r} is already present"
                )
            sub = (*path, d.name)
            self.entries.append((sub, d.encoded))
            out[d.name] = self.value(d.value, sub, depth + 1)
        return out

    def _array(self, node: list[Any], path: ClaimPath, depth: int) -> list[Any]:
        out: list[Any] = []
        for index, item in enumerate(node):
            sub = (*path, index)
            if isinstance(item, dict) and len(item) == 1 and _ELLIPSIS in item:
                d = self._take(item[_ELLIPSIS])
                if d is None:
                    continue
                if d.name is not None:
                    raise _Reject(
                        "disclosure_invalid", "an object-member disclosure is used in an array"
                    )
                self.entries.append((sub, d.encoded))
                out.append(self.value(d.value, sub, depth + 1))
            else:
                out.append(self.value(item, sub, depth + 1))
        return out


def _decode_disclosures(encoded: Iterable[str]) -> list[Disclosure]:
    out = []
    for text in encoded:
        try:
            out.append(Disclosure.parse(text))
        except SdJwtError as exc:
            raise _Reject("disclosure_invalid", str(exc)) from exc
    return out


def _sd_alg(payload: Mapping[str, Any]) -> str:
    alg = payload.get(_SD_ALG, "sha-256")
    if not isinstance(alg, str) or alg not in _HASHES:
        shown = alg[:20] if isinstance(alg, str) else type(alg).__name__
        raise _Reject("sd_alg_unsupported", f"unsupported _sd_alg {shown!r}")
    return alg


def _process(sd: SdJwt, *, record: bool = False) -> tuple[dict[str, Any], _Processor]:
    payload = sd.unverified_payload
    proc = _Processor.new(_sd_alg(payload), _decode_disclosures(sd.disclosures), record)
    out = proc.value(payload, (), 0)
    unused = len(proc.by_digest) - len(proc.used)
    if unused:
        raise _Reject(
            "disclosure_unreferenced", f"{unused} disclosure(s) are not referenced by any digest"
        )
    return out, proc


# -- issuance -------------------------------------------------------------------------


def _norm_path(path: Any) -> ClaimPath:
    if isinstance(path, str):
        return (path,)
    if not isinstance(path, Sequence) or not path:
        raise ClaimPathError(f"a claim path must be a non-empty sequence, not {path!r:.60}")
    for step in path:
        if not (isinstance(step, str) or (isinstance(step, int) and not isinstance(step, bool))):
            raise ClaimPathError(f"claim path steps are strings or integers: {path!r:.60}")
    return tuple(path)


_encode_str: Callable[[str], str] = json.encoder.encode_basestring


def _sha256_b64(text: str) -> str:
    return b64e(hashlib.sha256(text.encode("ascii")).digest())


class _Issuer:
    """One pass over the claims: copies them, checks names, makes disclosures.

    Disclosures are made bottom-up, so a disclosable object's own
    disclosable members are already digests inside its disclosure
    (recursive disclosures, RFC 9901 section 4.2.6).
    """

    __slots__ = ("decoys", "disclosures", "pool", "randbytes", "targets")

    def __init__(self, targets: set[ClaimPath], randbytes: RandBytes, decoys: int) -> None:
        self.targets = targets
        self.randbytes = randbytes
        self.decoys = decoys
        self.disclosures: list[str] = []
        self.pool: list[str] = []

    def salt(self) -> str:
        # One call to the CSPRNG and one encoding per batch of salts.
        if not self.pool:
            raw = self.randbytes(_SALT_BYTES * _SALT_BATCH)
            if len(raw) != _SALT_BYTES * _SALT_BATCH:
                raise SdJwtError("randbytes returned the wrong number of bytes")
            text = b64e(raw)
            self.pool = [text[i : i + _SALT_CHARS] for i in range(0, len(text), _SALT_CHARS)]
        return self.pool.pop()

    def disclose(self, name: str | None, value: Any) -> str:
        """Encode ``[salt, name, value]`` (or ``[salt, value]``) and return its digest."""
        # Hot path of issuance: the JSON is assembled from pre-escaped parts and
        # the encoded bytes are hashed as they are (no str round trip).
        text = '["' + (self.pool.pop() if self.pool else self.salt()) + '",'
        if name is not None:
            text += _encode_str(name) + ","
        text += (_encode_str(value) if type(value) is str else encode_json(value)) + "]"
        encoded = b64url_bytes(text.encode("utf-8"))
        self.disclosures.append(encoded.decode("ascii"))
        return b64e(hashlib.sha256(encoded).digest())

    def build(self, node: Any, path: ClaimPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SdJwtError(f"claims nested deeper than {MAX_DEPTH} levels")
        targets = self.targets
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            digests: list[str] = []
            for key, val in node.items():
                if type(key) is not str:
                    raise SdJwtError("claim names must be strings")
                if key in (_SD, _ELLIPSIS):
                    raise SdJwtError(f"claims may not use the reserved name {key!r}")
                sub = (*path, key)
                kind = type(val)
                if kind is dict or kind is list or (kind not in _SCALARS and _is_container(val)):
                    val = self.build(val, sub, depth + 1)
                if sub in targets:
                    digests.append(self.disclose(key, val))
                else:
                    out[key] = val
            if digests:
                # Decoys hide how many claims are selectively disclosable here
                # (RFC 9901 section 4.2.5); sorting hides their original order.
                digests += [_sha256_b64(self.salt()) for _ in range(self.decoys)]
                digests.sort()
                out[_SD] = digests
            return out
        items: list[Any] = []
        for index, val in enumerate(node):
            sub = (*path, index)
            kind = type(val)
            if kind is dict or kind is list or (kind not in _SCALARS and _is_container(val)):
                val = self.build(val, sub, depth + 1)
            items.append({_ELLIPSIS: self.disclose(None, val)} if sub in targets else val)
        return items


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_container(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple)


def _existing_paths(node: Any, path: ClaimPath, out: set[ClaimPath]) -> None:
    out.add(path)
    if isinstance(node, Mapping):
        for key, val in node.items():
            _existing_paths(val, (*path, key), out)
    elif isinstance(node, list | tuple):
        for index, val in enumerate(node):
            _existing_paths(val, (*path, index), out)


def _numeric_date(value: Any, name: str) -> int:
    if not is_numeric_date(value):
        raise SdJwtError(f"{name} must be a NumericDate (seconds since the epoch)")
    return int(value)


def issue_sd_jwt(
    claims: Mapping[str, Any],
    key: PrivateKey,
    *,
    issuer: str,
    vct: str,
    disclosable: Iterable[Sequence[str | int] | str] = (),
    kid: str | None = None,
    holder_key: PublicKey | None = None,
    status: Mapping[str, Any] | None = None,
    iat: int | None = None,
    exp: int | None = None,
    nbf: int | None = None,
    now: datetime | None = None,
    decoys: int = 2,
    randbytes: RandBytes = secrets.token_bytes,
) -> str:
    """Issue an SD-JWT VC (``typ`` ``dc+sd-jwt``) and return it with every disclosure.

    ``claims`` are the credential's claims (not ``iss``/``iat``/...: those
    come from the keyword arguments). Every claim path in ``disclosable``
    becomes selectively disclosable; a path below another disclosable path
    makes a recursive disclosure. ``holder_key`` goes into ``cnf.jwk`` for key
    binding; ``status`` into ``status``. ``iat`` defaults to ``now``. Each
    ``_sd`` array gets ``decoys`` decoy digests. When ``issuer`` is a DID,
    ``kid`` must be a DID URL of that DID.

    Returns ``<JWT>~<D1>~...~<Dn>~``. Raises :class:`ClaimPathError` for a
    path that names no claim or a claim that must stay in clear
    (``iss``, ``nbf``, ``exp``, ``cnf``, ``vct``, ``vct#integrity``, ``aka_vcts``,
    ``status`` and anything inside them),
    :class:`SdJwtError` for claims using reserved names or clashing with the
    registered claims, and :class:`UnsupportedError` for keys that cannot sign.
    """
    if not isinstance(claims, Mapping):
        raise SdJwtError("claims must be a JSON object")
    if not isinstance(issuer, str) or not issuer:
        raise SdJwtError("issuer must be a non-empty string")
    if not isinstance(vct, str) or not vct:
        raise SdJwtError("vct must be a non-empty string")
    if isinstance(decoys, bool) or not isinstance(decoys, int) or not 0 <= decoys <= 100:
        raise SdJwtError("decoys must be an integer between 0 and 100")
    if not isinstance(key, PrivateKey):
        raise SdJwtError("key must be a did_methods.keys.PrivateKey")
    if holder_key is not None and not isinstance(holder_key, PublicKey):
        raise SdJwtError("holder_key must be a did_methods.keys.PublicKey")
    if status is not None and not isinstance(status, Mapping):
        raise SdJwtError("status must be a JSON object")
    if kid is None and issuer.startswith("did:"):
        raise SdJwtError("an issuer DID needs a kid naming its verification method")
    header: dict[str, Any] = {"typ": _TYP}
    if kid is not None:
        if issuer.startswith("did:"):
            try:
                absolute_kid(kid, issuer)
            except VerificationError as exc:
                raise SdJwtError(f"kid does not fit the issuer DID: {exc.message}") from exc
        header["kid"] = kid
    registered: dict[str, Any] = {"iss": issuer}
    registered["iat"] = (
        _numeric_date(iat, "iat") if iat is not None else int(instant(now).timestamp())
    )
    if nbf is not None:
        registered["nbf"] = _numeric_date(nbf, "nbf")
    if exp is not None:
        registered["exp"] = _numeric_date(exp, "exp")
    registered["vct"] = vct
    clash = set(registered) & set(claims) | ({"cnf", "status", _SD_ALG} & set(claims))
    if clash:
        raise SdJwtError(f"claims may not set {sorted(clash)}: pass them as keyword arguments")

    targets = {_norm_path(p) for p in disclosable}
    for target in targets:
        if target[0] in _NEVER_DISCLOSABLE:
            raise ClaimPathError(f"claim {target[0]!r} must not be selectively disclosable")
    iss = _Issuer(targets, randbytes, decoys)
    try:
        body = iss.build(claims, (), 0)
    except SdJwtError:
        raise
    except (ParseError, TypeError, ValueError, RecursionError) as exc:
        raise SdJwtError(f"claims cannot be issued: {exc}") from exc
    if len(iss.disclosures) != len(targets):
        existing: set[ClaimPath] = set()
        _existing_paths(claims, (), existing)
        missing = next(t for t in targets if t not in existing)
        raise ClaimPathError(f"claim path {list(missing)!r:.80} names no claim")
    payload: dict[str, Any] = {**registered, **body, _SD_ALG: "sha-256"}
    if holder_key is not None:
        payload["cnf"] = {"jwk": dict(_jwk_items(holder_key))}
    if status is not None:
        payload["status"] = dict(status)
    try:
        body_bytes = dumps(payload)
    except ParseError as exc:
        raise SdJwtError(f"claims cannot be issued: {exc}") from exc
    jwt = sign_compact(header, body_bytes, key)
    return "~".join((jwt, *iss.disclosures, ""))


# -- holder ---------------------------------------------------------------------------


def present(
    sd_jwt: str | SdJwt,
    disclose: Iterable[Sequence[str | int] | str],
    *,
    holder_key: PrivateKey | None = None,
    nonce: str | None = None,
    audience: str | None = None,
    now: datetime | None = None,
    kb_claims: Mapping[str, Any] | None = None,
) -> str:
    """Make a presentation that reveals only the claims at the ``disclose`` paths.

    A path reveals its claim in full (with everything disclosable below it)
    and brings the disclosures of the claims it sits in. Array positions
    count elements as issued. With ``holder_key`` (and then ``nonce`` and
    ``audience``, both required) a Key Binding JWT is appended whose
    ``sd_hash`` covers the presented SD-JWT; without it the presentation ends
    with ``~``. ``kb_claims`` adds top-level claims to the Key Binding JWT (such
    as OpenID4VP's ``transaction_data_hashes``); they cannot replace ``iat``,
    ``aud``, ``nonce`` or ``sd_hash``.

    Raises :class:`ClaimPathError` for a path that names no claim,
    :class:`SdJwtError` for a malformed SD-JWT, and :class:`PolicyError` when
    ``holder_key`` is not the key in ``cnf`` or nonce/audience are missing.
    """
    sd = sd_jwt if isinstance(sd_jwt, SdJwt) else SdJwt.parse(sd_jwt)
    try:
        _, proc = _process(sd, record=True)
    except _Reject as exc:
        raise SdJwtError(f"{exc.code}: {exc.message}") from exc
    wanted = [_norm_path(p) for p in disclose]
    for path in wanted:
        if path not in proc.paths:
            raise ClaimPathError(f"claim path {list(path)!r:.80} names no claim")
    chosen: set[str] = set()
    for entry_path, encoded in proc.entries:
        n = len(entry_path)
        for path in wanted:
            m = min(n, len(path))
            if entry_path[:m] == path[:m]:
                chosen.add(encoded)
                break
    kept = tuple(d for d in sd.disclosures if d in chosen)
    prefix = "".join(s + "~" for s in (sd.jwt_text, *kept))
    if holder_key is not None and not isinstance(holder_key, PrivateKey):
        raise PolicyError("holder_key must be a did_methods.keys.PrivateKey")
    if holder_key is None:
        if nonce is not None or audience is not None or kb_claims:
            raise PolicyError(
                "a nonce, audience or kb_claims need a holder_key to sign key binding"
            )
        return prefix
    if nonce is None or audience is None:
        raise PolicyError("key binding needs both a nonce and an audience")
    cnf = sd.unverified_payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    if not isinstance(jwk, Mapping):
        raise PolicyError("the SD-JWT has no cnf.jwk: it is not bound to a holder key")
    if _holder_public_key(jwk) != holder_key.public_key:
        raise PolicyError("holder_key is not the key named in the SD-JWT's cnf")
    alg = _sd_alg_or_error(sd.unverified_payload)
    kb_payload: dict[str, Any] = {
        "iat": int(instant(now).timestamp()),
        "aud": audience,
        "nonce": nonce,
        "sd_hash": _digest(alg, prefix),
    }
    extra = dict(kb_claims or {})
    if extra.keys() & kb_payload.keys():
        raise PolicyError("kb_claims cannot replace iat, aud, nonce or sd_hash")
    kb_payload |= extra
    return prefix + sign_compact({"typ": _KB_TYP}, dumps(kb_payload), holder_key)


def _sd_alg_or_error(payload: Mapping[str, Any]) -> str:
    try:
        return _sd_alg(payload)
    except _Reject as exc:
        raise SdJwtError(exc.message) from exc


# -- verification ---------------------------------------------------------------------


def _issuer_key(
    sd: SdJwt,
    resolver: MethodResolver | None,
    issuer_key: PublicKey | None,
) -> tuple[PublicKey, str]:
    """Step 2: the issuer's key and how it was found; raises VerificationError."""
    if issuer_key is not None:
        return issuer_key, "the key given by the caller"
    iss = sd.unverified_payload.get("iss")
    if not isinstance(iss, str):
        raise VerificationError("issuer_invalid", "the SD-JWT has no 'iss' string")
    try:
        DIDURL.parse(iss)
    except InvalidDID:
        # an issuer named by URL (SD-JWT VC: JWT VC Issuer Metadata): its key is
        # the one ``kid`` names in the key set the verifier holds for that URL
        key_sets = issuer_key_source(resolver)
        if key_sets is None:
            raise VerificationError(
                "key_unresolved",
                "'iss' is not a DID and neither issuer_key nor the issuer's key set"
                " (credentials.keysets.IssuerKeys) was given",
            ) from None
        method = key_sets.issuer_key(iss, sd.unverified_header.get("kid"), "assertionMethod")
        return method_key(method), method.id
    if resolver is None:
        raise VerificationError("key_unresolved", "no resolver was given to find the issuer's key")
    kid = absolute_kid(sd.unverified_header.get("kid"), iss)
    return resolve_key(resolver, kid, "assertionMethod"), kid


def _time_checks(payload: Mapping[str, Any], now: float, leeway: float) -> Check:
    for name in ("iat", "nbf", "exp"):
        value = payload.get(name)
        if value is not None and not is_numeric_date(value):
            return Check.failed(
                "validity_period", "claims_invalid", f"'{name}' is not a NumericDate"
            )
    exp, nbf, iat = payload.get("exp"), payload.get("nbf"), payload.get("iat")
    name = "validity_period"
    if exp is not None and now >= exp + leeway:
        return Check.failed(
            name, "expired", f"expired at {iso_instant(exp)}", valid_until=iso_instant(exp)
        )
    if nbf is not None and now < nbf - leeway:
        return Check.failed(
            name,
            "not_yet_valid",
            f"not valid before {iso_instant(nbf)}",
            valid_from=iso_instant(nbf),
        )
    if iat is not None and now < iat - leeway:
        return Check.failed(name, "not_yet_valid", f"issued in the future ({iso_instant(iat)})")
    # dates for people and programs alike: ISO 8601, never seconds since 1970
    dates = {
        key: iso_instant(value)
        for key, value in (("valid_from", nbf), ("valid_until", exp))
        if value is not None
    }
    until = f" (until {dates['valid_until']})" if exp is not None else ""
    return Check.passed(name, f"valid at the given time{until}", **dates)


def _key_binding(
    sd: SdJwt,
    payload: Mapping[str, Any],
    alg: str,
    *,
    nonce: str | None,
    audience: str | None,
    now: float,
    max_age: float,
    leeway: float,
) -> Check:
    """Step 5: RFC 9901 section 7.3; raises VerificationError with a kb_* code."""
    name = "holder_binding"
    kb = sd.kb_jwt
    if kb is None:
        raise VerificationError("kb_missing", "a Key Binding JWT is required but absent")
    if kb.header.get("typ") != _KB_TYP:
        raise VerificationError("kb_typ_invalid", "the Key Binding JWT's typ is not kb+jwt")
    cnf = payload.get("cnf")
    # Parsed JSON: plain dicts (an exact type check is much cheaper than an ABC check).
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise VerificationError("kb_cnf_missing", "the SD-JWT names no holder key (cnf.jwk)")
    try:
        holder = _holder_public_key(jwk)
    except ParseError as exc:
        raise VerificationError("kb_cnf_invalid", f"cnf.jwk is not a usable key: {exc}") from exc
    try:
        check_alg(kb.alg, holder)
    except VerificationError as exc:
        raise VerificationError("kb_alg_not_allowed", exc.message) from exc
    try:
        holder.verify(kb.signature, kb.signing_input)
    except VerificationError as exc:
        raise VerificationError("kb_signature_invalid", "not signed by the cnf key") from exc
    claims = kb.payload
    if nonce is not None and claims.get("nonce") != nonce:
        raise VerificationError("kb_nonce_mismatch", "the KB-JWT nonce is not the expected one")
    if audience is not None and claims.get("aud") != audience:
        raise VerificationError("kb_audience_mismatch", "the KB-JWT is for another audience")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise VerificationError("kb_iat_invalid", "the KB-JWT has no numeric iat")
    if iat > now + leeway:
        raise VerificationError(
            "kb_not_yet_valid", f"the KB-JWT is issued in the future ({iso_instant(iat)})"
        )
    if iat < now - max_age - leeway:
        raise VerificationError("kb_stale", f"the KB-JWT is older than {max_age} seconds")
    if claims.get("sd_hash") != _digest(alg, sd.presentation_prefix()):
        raise VerificationError(
            "kb_sd_hash_mismatch", "sd_hash does not cover this SD-JWT and these disclosures"
        )
    return Check.passed(name, "bound to the holder key in cnf", nonce=nonce, audience=audience)


def _instant(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _typed_fields(processed: Mapping[str, Any], issuer: str | None) -> dict[str, Any]:
    """The typed result fields of a verified SD-JWT VC (see ``VerificationResult``).

    ``issuer`` is the ``iss`` whose key was resolved (None when the caller gave
    the key, which binds no name); ``types`` is the vocabulary type of ``vct``.
    """
    from credentials.schemas import type_for_vct  # schemas load JSON Schema: not on import

    vct = processed.get("vct")
    types: tuple[str, ...] = ()
    if isinstance(vct, str):
        try:
            types = (type_for_vct(vct),)
        except ParseError:
            types = ()
    sub = processed.get("sub")
    return {
        "kind": "credential",
        "issuer": issuer,
        "types": types,
        "vct": vct if isinstance(vct, str) else None,
        "subject": sub if isinstance(sub, str) else None,
        "claims": {k: v for k, v in processed.items() if k not in _REGISTERED},
        "valid_from": _instant(processed.get("nbf")),
        "valid_until": _instant(processed.get("exp")),
    }


def verify_sd_jwt(
    text: str | SdJwt,
    resolver: MethodResolver | None = None,
    *,
    issuer_key: PublicKey | None = None,
    now: datetime | None = None,
    nonce: str | None = None,
    audience: str | None = None,
    kb_max_age: float = DEFAULT_KB_MAX_AGE,
    leeway: float = DEFAULT_CLOCK_SKEW,
    status_checker: StatusChecker | None = None,
    typ: Sequence[str] | None = SD_JWT_VC_TYPES,
) -> VerificationResult:
    """Verify an SD-JWT (VC) presentation and return every check, never a bare bool.

    The issuer key comes from ``issuer_key`` when given, else from the
    ``kid`` header: a DID URL of the DID in ``iss``, resolved through
    ``resolver`` and required to be authorised for ``assertionMethod``; or,
    when ``iss`` is an https URL (SD-JWT VC's JWT VC Issuer Metadata), the key
    ``kid`` names in that issuer's set of ``resolver``, a
    :class:`~credentials.keysets.IssuerKeys` (built from the published metadata
    with :func:`~credentials.keysets.fetch_jwt_vc_issuer_keys`).
    Key binding is required when ``nonce`` or ``audience`` is given (each is
    then compared); without them a KB-JWT is not checked and holder binding
    is reported as skipped. ``typ`` lists the accepted header types
    (``None`` accepts any, for plain RFC 9901 SD-JWTs). ``status_checker``
    is called with the ``status`` claim; without one, a credential that has
    a ``status`` fails with ``status_unavailable`` (status fails closed).

    The result's ``document`` is the processed payload (``_sd``, ``_sd_alg``
    and undisclosed claims removed) when every check held; when one failed it
    is None and ``unverified_document`` holds the processed payload (or, when
    the signature or a disclosure failed, the payload as received). Raises
    :class:`SdJwtError` only when ``text`` is not an SD-JWT at all. Failure
    codes include ``alg_not_allowed``, ``signature_invalid``,
    ``key_not_authorised``, ``disclosure_unreferenced``,
    ``disclosure_duplicate``, ``disclosure_invalid``,
    ``disclosure_claim_conflict``, ``sd_alg_unsupported``, ``expired``,
    ``not_yet_valid``, ``kb_missing``, ``kb_signature_invalid``,
    ``kb_nonce_mismatch``, ``kb_audience_mismatch``, ``kb_sd_hash_mismatch``,
    ``kb_stale``.
    """
    # Steps: 1 header type; 2 issuer key and signature (alg allow-list first);
    # 3 disclosures and the processed payload; 4 validity period;
    # 5 key binding; 6 status.
    sd = text if isinstance(text, SdJwt) else SdJwt.parse(text)
    at = instant(now).timestamp()
    fmt = "dc+sd-jwt"
    checks: list[Check] = []
    payload = sd.unverified_payload
    iss = payload.get("iss")
    issuer = iss if isinstance(iss, str) else None

    def done(processed: Mapping[str, Any] | None = None) -> VerificationResult:
        # Before the disclosures were processed, the payload as received is what
        # a failed result shows (as its unverified_document).
        if processed is None or typ is None or header_typ not in SD_JWT_VC_TYPES:
            return VerificationResult.of(
                fmt, checks, document=payload if processed is None else processed
            )
        return VerificationResult.of(
            fmt,
            checks,
            document=processed,
            **_typed_fields(processed, issuer if issuer_key is None else None),
        )

    # 1. header type
    header_typ = sd.unverified_header.get("typ")
    if typ is not None and header_typ not in typ:
        checks.append(Check.failed("syntax", "typ_invalid", f"typ {header_typ!r:.40} not accepted"))
        return done()
    checks.append(Check.passed("syntax", "a well-formed SD-JWT", typ=header_typ))

    # 2. issuer signature: the algorithm is checked before the key is looked up or used
    try:
        check_alg(sd.jwt.alg)
        key, source = _issuer_key(sd, resolver, issuer_key)
        sd.jwt.verify(key)
    except VerificationError as exc:
        name = (
            "key_authorisation" if exc.code.startswith(("key_", "kid_", "issuer_")) else "signature"
        )
        checks.append(Check.failed(name, exc.code, exc.message))
        return done()
    checks.append(Check.passed("signature", f"signed by {source}", alg=sd.jwt.alg))

    # 3. disclosures: each referenced exactly once, then the processed payload
    try:
        processed, proc = _process(sd)
        if header_typ in SD_JWT_VC_TYPES:
            # SD-JWT VC 2.2.2.3: these claims must be in clear; a disclosure of one
            # could otherwise shadow what the verifier relies on.
            for path, _ in proc.entries:
                if path[0] in _NEVER_DISCLOSABLE:
                    raise _Reject("disclosure_invalid", f"claim {path[0]!r} must not be disclosed")
    except _Reject as exc:
        checks.append(Check.failed("disclosures", exc.code, exc.message))
        return done()
    checks.append(
        Check.passed("disclosures", f"{len(proc.used)} disclosure(s) checked", count=len(proc.used))
    )
    if (
        typ is not None
        and header_typ in SD_JWT_VC_TYPES
        and not isinstance(payload.get("vct"), str)
    ):
        checks.append(Check.failed("syntax", "vct_missing", "an SD-JWT VC needs a 'vct' string"))

    # 4. validity period
    checks.append(_time_checks(payload, at, leeway))

    # 5. key binding
    if nonce is None and audience is None:
        checks.append(Check.skipped("holder_binding", "no nonce and audience were expected"))
    else:
        try:
            checks.append(
                _key_binding(
                    sd,
                    payload,
                    proc.alg,
                    nonce=nonce,
                    audience=audience,
                    now=at,
                    max_age=kb_max_age,
                    leeway=leeway,
                )
            )
        except VerificationError as exc:
            checks.append(Check.failed("holder_binding", exc.code, exc.message))

    # 6. status (fail closed: a checker that breaks is a failure)
    status = payload.get("status")
    if status is None:
        checks.append(Check.skipped("status", "the credential has no status"))
    elif status_checker is None:
        # Status fails closed: a credential that names a status is not valid
        # until someone could look it up.
        checks.append(
            Check.failed(
                "status", "status_unavailable", "the credential has a status but no checker"
            )
        )
    elif not isinstance(status, dict):
        checks.append(Check.failed("status", "status_invalid", "'status' is not an object"))
    else:
        try:
            checks.append(status_checker(status))
        except SSIWalletError as exc:
            checks.append(Check.failed("status", "status_unavailable", str(exc)))
    return done(processed)
