"""Keys outside DIDs: a verifier's key sets for issuers named by URL (RFC 7517 JWK Sets).

A credential whose ``issuer`` is ``https://issuer.example`` names no DID document
to read keys from. :class:`IssuerKeys` is the verifier's own statement of which
keys sign for such an issuer: a table ``{issuer URL: JWK Set}``. It plugs in
wherever a method resolver is taken (``verify``, ``verify_credential``,
``verify_presentation``, :func:`credentials.jose.verify_vc_jwt`,
:func:`credentials.data_integrity.verify_proof`): DID URLs go to the DID
resolver it wraps, exactly as without it; a ``vc+jwt`` whose ``iss``/``issuer``
is a URL of the table is checked with the key its ``kid`` names *in that
issuer's set*, and a Data Integrity proof whose ``verificationMethod`` is such
a key's URL likewise. Where the table comes from (an issuer's published
``jwks_uri``, a trust list) is the verifier's decision; nothing is fetched.

How a ``kid`` (or ``verificationMethod``) finds a key of the issuer's set:

* equal to a JWK's ``kid`` (RFC 7517 4.5: a case-sensitive string), or to the
  issuer URL + ``#`` + that ``kid`` (a fragment of the issuer, as
  ``https://issuer.example#key-1``), or to the JWK's ``kid`` when that is
  itself an absolute URL (``https://issuer.example/keys#key-1``);
* equal to the RFC 7638 JWK thumbprint (SHA-256) of a key of the set, or to
  its RFC 9278 URI ``urn:ietf:params:oauth:jwk-thumbprint:sha-256:<thumbprint>``.

Refusals (:class:`~credentials.errors.VerificationError` codes, in the
``key_authorisation`` check of either format):

``key_unknown``           no key of the issuer's set (nor of any set) has that id
``key_not_issuer``        the key is in *another* issuer's set, not this one's
``key_use_forbidden``     the JWK's ``use`` is not ``sig`` or its ``key_ops`` lack ``verify``
``key_alg_mismatch``      the JWK's ``alg`` is not the algorithm this key type signs with
``key_unsupported``       the JWK is one RFC 7517 5 says to ignore (a key type we do
                          not verify with, such as RSA, or malformed members)
``key_ambiguous``         several keys of the set answer to the id and differ
``key_not_authorised``    a purpose other than ``assertionMethod``/``authentication``

Building a set refuses (:class:`KeySetError`, a ``ParseError`` with a ``code``):
``keyset_invalid`` (not ``{"keys": [...]}``, an issuer that is a DID or not an
absolute ``https``/``http`` URL, too many keys or issuers, a JWK that is not an
object or is too large), ``private_key_in_set`` (a JWK carrying private
members: a verifier must never hold them), ``duplicate_kid`` (two usable keys
of one set with one ``kid`` and different key material).

JWT VC Issuer Metadata (SD-JWT VC): an issuer named by an https URL publishes
``{"issuer": ..., "jwks": {...}}`` (or ``"jwks_uri"``) at the URL
:func:`jwt_vc_issuer_metadata_url` derives from its identifier.
:func:`parse_jwt_vc_issuer_metadata` checks such a document (sans-IO) and
:func:`fetch_jwt_vc_issuer_keys` fetches it (and the ``jwks_uri``) through a
:class:`did_methods.http.Fetcher` into an :class:`IssuerKeys`. Refusals are
:class:`KeySetError`: ``issuer_metadata_invalid`` (not an object, ``jwks`` and
``jwks_uri`` both or neither, a ``jwks_uri`` that is not https),
``issuer_metadata_mismatch`` (its ``issuer`` is not exactly the identifier
asked for), ``issuer_metadata_unavailable`` (the fetch failed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from credentials._jws import dumps, loads
from did_methods.document import VerificationMethod
from did_methods.errors import ParseError, SSIWalletError, VerificationError
from did_methods.http import Fetcher, fetch_checked
from did_methods.keys import PublicKey, jwk_signing_refusal, jwk_thumbprint

__all__ = [
    "JWT_VC_ISSUER_WELL_KNOWN",
    "MAX_ISSUERS",
    "MAX_JWK_BYTES",
    "MAX_KEYS",
    "THUMBPRINT_URN",
    "IssuerKeys",
    "JWKSet",
    "JwtVcIssuerMetadata",
    "KeySetError",
    "fetch_jwt_vc_issuer_keys",
    "jwt_vc_issuer_metadata_url",
    "parse_jwt_vc_issuer_metadata",
]

#: Most keys one JWK Set may hold (usable or not).
MAX_KEYS: Final = 64
#: Most issuers one table may name.
MAX_ISSUERS: Final = 1024
#: Longest JWK (compact JSON bytes): an RSA-8192 public key is ~1.5 kB; anything
#: larger is refused, so key sizes stay bounded even for keys we then ignore.
MAX_JWK_BYTES: Final = 4096
#: SD-JWT VC: the well-known suffix of an issuer's JWT VC Issuer Metadata.
JWT_VC_ISSUER_WELL_KNOWN: Final = "/.well-known/jwt-vc-issuer"
#: Largest metadata document or JWK Set fetched (bytes).
MAX_METADATA_BYTES: Final = 64 * 1024
#: RFC 9278: the URI form of a SHA-256 JWK thumbprint.
THUMBPRINT_URN: Final = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"

# RFC 7517 4 / RFC 7518 6: members that only a private (or symmetric) key carries.
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_SIGNING_PURPOSES: Final = frozenset({"assertionMethod", "authentication"})
_URL: Final = re.compile(r"https?://[^\s#]+")


class KeySetError(ParseError):
    """A JWK Set or issuer table that cannot be used; ``code`` says why (module docstring)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class _Entry:
    """One JWK of a set: its public form, its key (or why it cannot be used)."""

    jwk: Mapping[str, Any]
    kid: str | None
    thumbprint: str | None
    key: PublicKey | None
    unusable: str | None  # RFC 7517 5: a key to ignore, and why

    def refusal(self, purpose: str) -> VerificationError | None:
        """Why this key may not verify a signature for ``purpose``, or None."""
        if self.key is None:
            return VerificationError(
                "key_unsupported",
                f"key {self.kid or self.thumbprint!s:.80} is unusable: {self.unusable}",
            )
        if purpose not in _SIGNING_PURPOSES:
            return VerificationError(
                "key_not_authorised", f"a key set authorises signing keys, not {purpose[:40]}"
            )
        # RFC 7517 4.2-4.4: use "sig", key_ops with "verify", alg of the key's type
        return jwk_signing_refusal(self.jwk, self.key)


def _entry(jwk: Any, index: int) -> _Entry:
    if not isinstance(jwk, Mapping):
        raise KeySetError("keyset_invalid", f"keys[{index}] is not a JSON object (RFC 7517 5.1)")
    try:
        size = len(dumps(jwk))
    except ParseError as exc:
        raise KeySetError("keyset_invalid", f"keys[{index}] is not JSON: {exc}") from exc
    if size > MAX_JWK_BYTES:
        raise KeySetError("keyset_invalid", f"keys[{index}] is larger than {MAX_JWK_BYTES} bytes")
    private = sorted(_PRIVATE_MEMBERS.intersection(jwk))
    if private:
        raise KeySetError(
            "private_key_in_set",
            f"keys[{index}] carries private or symmetric key members {private}: "
            "a verifier's key set holds public keys only",
        )
    kid = jwk.get("kid")
    if kid is not None and not (isinstance(kid, str) and kid):
        raise KeySetError("keyset_invalid", f"keys[{index}].kid must be a non-empty string")
    problem = _member_problem(jwk)
    thumbprint: str | None = None
    key: PublicKey | None = None
    if problem is None:
        try:
            key = PublicKey.from_jwk(jwk)
            thumbprint = key.jwk_thumbprint()
        except SSIWalletError as exc:
            problem = str(exc)
    if thumbprint is None:
        try:
            thumbprint = jwk_thumbprint(jwk)
        except SSIWalletError:
            thumbprint = None
    return _Entry(dict(jwk), kid, thumbprint, key, problem)


def _member_problem(jwk: Mapping[str, Any]) -> str | None:
    """RFC 7517 4.2-4.4: malformed ``use``/``key_ops``/``alg`` make a key one to ignore."""
    use = jwk.get("use")
    if use is not None and not isinstance(use, str):
        return "use is not a string"
    ops = jwk.get("key_ops")
    if ops is not None:
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            return "key_ops is not an array of strings"
        if len(set(ops)) != len(ops):
            return "key_ops holds a value twice (RFC 7517 4.3)"
        # RFC 7517 4.3: use and key_ops, when both present, must agree
        if use == "sig" and not set(ops) <= {"sign", "verify"}:
            return "use 'sig' contradicts key_ops"
    alg = jwk.get("alg")
    if alg is not None and not isinstance(alg, str):
        return "alg is not a string"
    return None


@dataclass(frozen=True, slots=True)
class JWKSet:
    """A validated RFC 7517 JWK Set of public keys (section 5).

    Build one with :meth:`from_json` (a ``{"keys": [...]}`` object or its JSON
    text). Keys of a type we do not verify with are kept but unusable (RFC 7517
    5: "SHOULD ignore"), so a token naming one gets ``key_unsupported``
    rather than ``key_unknown``.
    """

    entries: tuple[_Entry, ...] = field(repr=False)

    @classmethod
    def from_json(cls, data: Any) -> JWKSet:
        """Validate a JWK Set; raise :class:`KeySetError` (codes in the module docstring)."""
        if isinstance(data, str | bytes):
            try:
                data = loads(data.encode() if isinstance(data, str) else data, what="JWK Set")
            except ParseError as exc:
                raise KeySetError("keyset_invalid", f"not a JWK Set: {exc}") from exc
        if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
            raise KeySetError("keyset_invalid", "a JWK Set is an object with a 'keys' array")
        keys = data["keys"]
        if len(keys) > MAX_KEYS:
            raise KeySetError("keyset_invalid", f"a JWK Set may hold at most {MAX_KEYS} keys")
        entries = tuple(_entry(jwk, i) for i, jwk in enumerate(keys))
        seen: dict[str, PublicKey] = {}
        for entry in entries:
            if entry.kid is None or entry.key is None:
                continue
            other = seen.setdefault(entry.kid, entry.key)
            if other != entry.key:
                raise KeySetError(
                    "duplicate_kid", f"two different keys of the set have kid {entry.kid!r:.80}"
                )
        return cls(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def to_json(self) -> dict[str, Any]:
        """The set as a ``{"keys": [...]}`` object (public members only)."""
        return {"keys": [dict(e.jwk) for e in self.entries]}

    def _matches(self, issuer: str, ref: str) -> list[_Entry]:
        thumb = ref[len(THUMBPRINT_URN) :] if ref.startswith(THUMBPRINT_URN) else ref
        found = []
        for entry in self.entries:
            kid = entry.kid
            by_kid = kid is not None and ref in (kid, f"{issuer}#{kid}", f"#{kid}")
            if by_kid or (entry.thumbprint is not None and thumb == entry.thumbprint):
                found.append(entry)
        return found


def _check_issuer(issuer: Any) -> str:
    if not isinstance(issuer, str) or not _URL.fullmatch(issuer) or len(issuer) > 2048:
        raise KeySetError(
            "keyset_invalid",
            f"issuer {str(issuer)[:80]!r} is not an absolute https (or http) URL without "
            "a fragment; a DID's keys come from its DID document",
        )
    return issuer


class IssuerKeys:
    """The verifier's key sets for issuers that are URLs, over a DID resolver.

    ``IssuerKeys({"https://issuer.example": jwks}, resolver=Resolver.default())``:
    each value a :class:`JWKSet` or what :meth:`JWKSet.from_json` takes. It is a
    method resolver: :meth:`verification_method` sends DID URLs to ``resolver``
    (default: ``Resolver.default()``, as ``verify`` uses) and finds other URLs in the sets;
    :meth:`issuer_key` finds a key by ``kid`` in one issuer's set, which is how
    ``vc+jwt`` and Data Integrity verification use it. Raises
    :class:`KeySetError` for a table it cannot use.
    """

    __slots__ = ("_resolver", "_sets")

    def __init__(self, table: Mapping[str, Any], *, resolver: Any = None) -> None:
        if not isinstance(table, Mapping):
            raise KeySetError("keyset_invalid", "issuer keys are a table {issuer URL: JWK Set}")
        if len(table) > MAX_ISSUERS:
            raise KeySetError("keyset_invalid", f"at most {MAX_ISSUERS} issuers")
        self._sets: dict[str, JWKSet] = {
            _check_issuer(issuer): value if isinstance(value, JWKSet) else JWKSet.from_json(value)
            for issuer, value in table.items()
        }
        self._resolver = resolver

    def __repr__(self) -> str:
        keys = sum(len(s) for s in self._sets.values())
        return f"IssuerKeys({len(self._sets)} issuers, {keys} keys)"

    @property
    def issuers(self) -> tuple[str, ...]:
        """The issuer URLs the table names."""
        return tuple(self._sets)

    def key_set(self, issuer: str) -> JWKSet | None:
        """The set of ``issuer``, or None."""
        return self._sets.get(issuer)

    def issuer_key(self, issuer: str, kid: Any, purpose: str) -> VerificationMethod:
        """The key ``kid`` names in ``issuer``'s set, as a ``JsonWebKey`` method.

        The method's ``id`` is the absolute key URL (``kid`` itself when it is
        absolute, else ``issuer#kid``) and its ``controller`` is ``issuer``.
        Raises :class:`VerificationError` with the codes of the module docstring
        (and ``kid_invalid`` for a ``kid`` that is not a non-empty string).
        """
        if not isinstance(kid, str) or not kid or len(kid) > 2048:
            raise VerificationError("kid_invalid", "the token names no 'kid' of the issuer's set")
        key_set = self._sets.get(issuer)
        matches = key_set._matches(issuer, kid) if key_set is not None else []
        if not matches:
            owners = [other for other, s in self._sets.items() if s._matches(other, kid)]
            if owners:
                raise VerificationError(
                    "key_not_issuer",
                    f"{kid[:80]} is a key of {owners[0][:80]}, not of the issuer {issuer[:80]}",
                )
            where = "the issuer's key set" if key_set is not None else "any key set"
            raise VerificationError(
                "key_unknown", f"no key {kid[:80]!r} for {issuer[:80]} in {where}"
            )
        usable: list[_Entry] = []
        refusals: list[VerificationError] = []
        for entry in matches:
            refusal = entry.refusal(purpose)
            (refusals.append(refusal) if refusal is not None else usable.append(entry))
        if not usable:
            raise refusals[0]
        if len({e.key for e in usable}) > 1:
            raise VerificationError(
                "key_ambiguous", f"several keys of the set answer to {kid[:80]}"
            )
        chosen = usable[0]
        assert chosen.key is not None  # usable entries have keys
        method_id = kid if _is_absolute(kid) else f"{issuer}#{chosen.kid or chosen.thumbprint}"
        return VerificationMethod(
            method_id,
            "JsonWebKey",
            issuer,
            {
                "id": method_id,
                "type": "JsonWebKey",
                "controller": issuer,
                "publicKeyJwk": chosen.jwk,
            },
            chosen.key,
            None,
        )

    def verification_method(self, did_url: str, purpose: str) -> VerificationMethod:
        """A DID URL through the wrapped resolver; any other URL found in the sets.

        A URL found in the sets of several issuers is refused (``key_ambiguous``):
        callers that know the issuer use :meth:`issuer_key`.
        """
        if isinstance(did_url, str) and did_url.startswith("did:"):
            if self._resolver is None:
                from did_methods.resolver import Resolver

                self._resolver = Resolver.default()
            method: VerificationMethod = self._resolver.verification_method(did_url, purpose)
            return method
        owners = [i for i, s in self._sets.items() if s._matches(i, str(did_url))]
        if not owners:
            raise VerificationError("key_unknown", f"{str(did_url)[:80]} is in no key set")
        if len(owners) > 1:
            raise VerificationError("key_ambiguous", f"{did_url[:80]} is in several issuers' sets")
        return self.issuer_key(owners[0], did_url, purpose)


def _is_absolute(ref: str) -> bool:
    return ref.startswith(("https://", "http://", "urn:"))


def issuer_key_source(resolver: Any) -> IssuerKeys | None:
    """``resolver`` when it holds key sets (an :class:`IssuerKeys`), else None."""
    return resolver if isinstance(resolver, IssuerKeys) else None


# -- JWT VC Issuer Metadata (SD-JWT VC) -------------------------------------------------


@dataclass(frozen=True)
class JwtVcIssuerMetadata:
    """A checked JWT VC Issuer Metadata document: exactly one of ``jwks`` / ``jwks_uri``."""

    issuer: str
    jwks: JWKSet | None
    jwks_uri: str | None


def jwt_vc_issuer_metadata_url(issuer: str) -> str:
    """Where ``issuer`` publishes its metadata: the well-known path goes between the
    host and the path of the identifier (``https://ex.com/tenant/1`` gives
    ``https://ex.com/.well-known/jwt-vc-issuer/tenant/1``); a trailing ``/`` of the
    path is dropped. Raises :class:`KeySetError` ``keyset_invalid`` for an
    identifier that is not an https URL without query or fragment.
    """
    parts = urlsplit(_check_issuer(issuer))
    if parts.scheme != "https" or parts.query or parts.fragment or not parts.netloc:
        raise KeySetError(
            "keyset_invalid",
            f"{issuer[:80]!r} is no https issuer identifier without query and fragment",
        )
    return f"https://{parts.netloc}{JWT_VC_ISSUER_WELL_KNOWN}{parts.path.rstrip('/')}"


def parse_jwt_vc_issuer_metadata(data: Any, issuer: str) -> JwtVcIssuerMetadata:
    """Check a JWT VC Issuer Metadata document (an object or its JSON bytes/text)
    published for ``issuer``: its ``issuer`` must be exactly ``issuer``, and it
    carries ``jwks`` (a JWK Set, checked as :meth:`JWKSet.from_json` does) or
    ``jwks_uri`` (an https URL), not both. Raises :class:`KeySetError`.
    """
    if isinstance(data, str | bytes):
        try:
            data = loads(data.encode() if isinstance(data, str) else data, what="issuer metadata")
        except ParseError as exc:
            raise KeySetError("issuer_metadata_invalid", f"not JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise KeySetError("issuer_metadata_invalid", "issuer metadata is a JSON object")
    if data.get("issuer") != issuer:
        raise KeySetError(
            "issuer_metadata_mismatch",
            f"the metadata names issuer {str(data.get('issuer'))[:80]!r}, not {issuer[:80]!r}",
        )
    has_jwks, has_uri = "jwks" in data, "jwks_uri" in data
    if has_jwks == has_uri:
        raise KeySetError(
            "issuer_metadata_invalid", "issuer metadata carries exactly one of jwks and jwks_uri"
        )
    if has_jwks:
        return JwtVcIssuerMetadata(issuer, JWKSet.from_json(data["jwks"]), None)
    uri = data["jwks_uri"]
    if not isinstance(uri, str) or not uri.startswith("https://") or not _URL.fullmatch(uri):
        raise KeySetError("issuer_metadata_invalid", "jwks_uri must be an https URL")
    return JwtVcIssuerMetadata(issuer, None, uri)


def fetch_jwt_vc_issuer_keys(
    issuers: Iterable[str],
    fetcher: Fetcher,
    *,
    resolver: Any = None,
    timeout: float = 10.0,
    metadata_url: Callable[[str], str] = jwt_vc_issuer_metadata_url,
) -> IssuerKeys:
    """Fetch each issuer's JWT VC Issuer Metadata (and its ``jwks_uri``) into an
    :class:`IssuerKeys` over ``resolver``. ``fetcher`` decides which hosts may be
    reached (:class:`did_methods.http.HttpFetcher` refuses private addresses
    unless told otherwise); each body is bounded to 64 KiB. ``metadata_url``
    maps an identifier to its metadata URL (the default is the spec's; tests
    serving plain http on 127.0.0.1 pass their own). Raises :class:`KeySetError`.
    """
    table: dict[str, JWKSet] = {}
    for issuer in issuers:
        metadata = parse_jwt_vc_issuer_metadata(
            _fetch(fetcher, metadata_url(issuer), timeout), issuer
        )
        if metadata.jwks is not None:
            table[issuer] = metadata.jwks
        else:
            assert metadata.jwks_uri is not None
            table[issuer] = JWKSet.from_json(_fetch(fetcher, metadata.jwks_uri, timeout))
    return IssuerKeys(table, resolver=resolver)


def _fetch(fetcher: Fetcher, url: str, timeout: float) -> bytes:
    try:
        return fetch_checked(
            fetcher, url, max_bytes=MAX_METADATA_BYTES, timeout=timeout, accept="application/json"
        )
    except SSIWalletError as exc:
        raise KeySetError(
            "issuer_metadata_unavailable", f"cannot fetch {url[:120]}: {exc}"
        ) from exc
