"""DID Resolution and DID URL dereferencing (W3C DID Resolution).

A :class:`Resolver` holds a registry of DID methods and a bounded cache.
:meth:`Resolver.resolve` follows the DID Resolution contract: it never raises
for a DID it cannot resolve but returns a :class:`ResolutionResult` whose
``did_resolution_metadata["error"]`` is one of ``invalidDid``, ``notFound``,
``methodNotSupported``, ``representationNotSupported`` or ``internalError``.
The convenience calls that callers use for verification
(:meth:`Resolver.resolve_document`, :meth:`Resolver.dereference`,
:meth:`Resolver.verification_method`) raise instead.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from did_methods.did import DID, DIDURL
from did_methods.document import PROOF_PURPOSES, DIDDocument, Service, VerificationMethod
from did_methods.errors import InvalidDID, ResolutionError, SSIWalletError, VerificationError
from did_methods.keys import jwk_signing_refusal

if TYPE_CHECKING:
    from did_methods.http import Fetcher

__all__ = [
    "DID_JSON",
    "DID_LD_JSON",
    "DIDMethod",
    "PinnedResolver",
    "ResolutionResult",
    "Resolver",
]

DID_JSON = "application/did+json"
DID_LD_JSON = "application/did+ld+json"
_REPRESENTATIONS = (DID_JSON, DID_LD_JSON)
_RESOLUTION_CONTEXT = "https://w3id.org/did-resolution/v1"


@dataclass(frozen=True, slots=True)
class ResolutionResult:
    """The result of resolving a DID: document plus the two metadata maps."""

    did_document: DIDDocument | None
    did_resolution_metadata: Mapping[str, Any] = field(default_factory=dict)
    did_document_metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def found(
        cls,
        document: DIDDocument,
        *,
        document_metadata: Mapping[str, Any] | None = None,
        content_type: str = DID_JSON,
    ) -> ResolutionResult:
        """A successful result."""
        return cls(document, {"contentType": content_type}, dict(document_metadata or {}))

    @classmethod
    def failure(cls, code: str, message: str, *, detail: str | None = None) -> ResolutionResult:
        """An error result with a DID Resolution error code and a readable message."""
        meta: dict[str, Any] = {"error": code, "errorMessage": message}
        if detail:
            meta["errorDetail"] = detail
        return cls(None, meta, {})

    @property
    def error(self) -> str | None:
        """The error code, or None when the DID resolved."""
        err = self.did_resolution_metadata.get("error")
        return str(err) if err is not None else None

    @property
    def deactivated(self) -> bool:
        """True when the document metadata says the DID is deactivated."""
        return bool(self.did_document_metadata.get("deactivated", False))

    def to_json(self) -> dict[str, Any]:
        """The DID Resolution result in its JSON form."""
        return {
            "@context": _RESOLUTION_CONTEXT,
            "didDocument": self.did_document.to_json() if self.did_document else None,
            "didResolutionMetadata": dict(self.did_resolution_metadata),
            "didDocumentMetadata": dict(self.did_document_metadata),
        }


class DIDMethod(Protocol):
    """What a DID method plugs into the resolver.

    ``resolve`` receives a syntactically valid DID of this method and the
    resolution options (``accept``, ``versionId``, ``versionTime``); it
    returns a result or raises :class:`ResolutionError` (an optional
    ``detail`` attribute on it is copied into the metadata).
    """

    name: str

    def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult: ...


class Resolver:
    """Resolves DIDs through registered methods, with a bounded, expiring cache.

    ``cache_size`` bounds the number of cached results and ``cache_ttl`` their
    age in seconds (``clock`` returns seconds; monotonic by default). Only
    successful results are cached.
    """

    def __init__(
        self,
        methods: Iterable[DIDMethod] = (),
        *,
        cache_size: int = 1024,
        cache_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._methods: dict[str, DIDMethod] = {}
        self._cache: OrderedDict[tuple[str, ...], tuple[float, ResolutionResult]] = OrderedDict()
        # Authorised verification methods, by (DID URL, purpose): verifying many
        # credentials of one issuer then costs one dictionary lookup per proof.
        self._methods_cache: OrderedDict[tuple[str, str], tuple[float, VerificationMethod]] = (
            OrderedDict()
        )
        self._cache_size = cache_size
        self._cache_ttl = cache_ttl
        self._clock = clock
        self._lock = threading.Lock()
        for method in methods:
            self.register(method)

    @classmethod
    def default(
        cls,
        *,
        fetcher: Fetcher | None = None,
        unsafe_web_allow_http: bool = False,
        **kwargs: Any,
    ) -> Resolver:
        """A resolver for ``did:key``, ``did:jwk`` and ``did:web``.

        ``did:web`` fetches over HTTPS with :class:`did_methods.http.HttpFetcher`
        (public addresses only) unless another ``fetcher`` is given;
        ``unsafe_web_allow_http`` lets it use plain HTTP (local test servers
        only; the fetcher must allow HTTP too). Other keywords go to the
        constructor (``cache_size``, ``cache_ttl``, ``clock``).
        """
        from did_methods.methods.jwk import JwkMethod
        from did_methods.methods.key import KeyMethod
        from did_methods.methods.web import WebMethod

        web = WebMethod(fetcher, unsafe_allow_http=unsafe_web_allow_http)
        return cls([KeyMethod(), JwkMethod(), web], **kwargs)

    @classmethod
    def offline(cls, **kwargs: Any) -> Resolver:
        """A resolver for ``did:key`` and ``did:jwk`` only: it never uses the network.

        Both methods derive the document from the DID itself. Any other method
        (``did:web`` among them) is refused with ``methodNotSupported``. This is
        what ``credentials.verify`` uses when no resolver is given; pass
        :meth:`default` (or your own) to resolve ``did:web`` over HTTPS.
        Keywords go to the constructor (``cache_size``, ``cache_ttl``, ``clock``).
        """
        from did_methods.methods.jwk import JwkMethod
        from did_methods.methods.key import KeyMethod

        return cls([KeyMethod(), JwkMethod()], **kwargs)

    def register(self, method: DIDMethod) -> None:
        """Add (or replace) the method for ``did:<method.name>``; clears the cache."""
        self._methods[method.name] = method
        self.clear_cache()

    @property
    def methods(self) -> tuple[str, ...]:
        """The registered method names."""
        return tuple(self._methods)

    def clear_cache(self) -> None:
        """Forget every cached result."""
        with self._lock:
            self._cache.clear()
            self._methods_cache.clear()

    # -- DID Resolution -------------------------------------------------------------

    def resolve(self, did: str, **options: Any) -> ResolutionResult:
        """Resolve ``did`` per DID Resolution; errors are reported in the result.

        Options: ``accept`` (``application/did+json`` or
        ``application/did+ld+json``), ``versionId``, ``versionTime``,
        ``no_cache``.
        """
        try:
            parsed = DID.parse(did)
        except InvalidDID as exc:
            return ResolutionResult.failure("invalidDid", str(exc))
        accept = options.get("accept", DID_JSON)
        if accept not in _REPRESENTATIONS:
            return ResolutionResult.failure(
                "representationNotSupported", f"cannot produce {accept!r}: only {DID_JSON}"
            )
        method = self._methods.get(parsed.method)
        if method is None:
            return ResolutionResult.failure(
                "methodNotSupported", f"no resolver for did:{parsed.method}"
            )
        # every option that shapes the result is part of the key (did:key's
        # publicKeyFormat, the version options, ...)
        key = (
            did,
            accept,
            *sorted(f"{k}={v}" for k, v in options.items() if k not in ("accept", "no_cache")),
        )
        now = self._clock()
        if not options.get("no_cache"):
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None and now - hit[0] < self._cache_ttl:
                    self._cache.move_to_end(key)
                    return hit[1]
        method_options = {k: v for k, v in options.items() if k != "no_cache"}
        try:
            result = method.resolve(parsed, method_options)
        except ResolutionError as exc:
            return ResolutionResult.failure(
                exc.code, exc.message, detail=getattr(exc, "detail", None)
            )
        except SSIWalletError as exc:
            return ResolutionResult.failure("internalError", f"{type(exc).__name__}: {exc}")
        if result.did_document is not None and result.did_document.id != did:
            return ResolutionResult.failure(
                "internalError", f"method returned a document for {result.did_document.id}"
            )
        if accept != DID_JSON and result.did_document is not None:
            result = ResolutionResult(
                result.did_document,
                {**result.did_resolution_metadata, "contentType": accept},
                result.did_document_metadata,
            )
        if result.error is None:
            with self._lock:
                self._cache[key] = (now, result)
                self._cache.move_to_end(key)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return result

    def resolve_document(self, did: str, **options: Any) -> DIDDocument:
        """Resolve and return the document; raise :class:`ResolutionError` on any error.

        A deactivated DID raises with code ``deactivated``.
        """
        result = self.resolve(did, **options)
        if result.error is not None or result.did_document is None:
            message = str(result.did_resolution_metadata.get("errorMessage", "no document"))
            detail = result.did_resolution_metadata.get("errorDetail")
            raise ResolutionError(result.error or "notFound", message, detail)
        if result.deactivated:
            raise ResolutionError("deactivated", f"{did} is deactivated")
        return result.did_document

    def at(self, moment: datetime) -> PinnedResolver:
        """A view of this resolver that resolves every DID as it was at ``moment``.

        Methods with history (``did:ledger``) answer with the version in force
        then (DID Resolution ``versionTime``); others ignore it. Verify a
        credential against its signing key after a rotation with
        ``verify(..., resolver=resolver.at(proof_created))``.
        """
        if moment.tzinfo is None:
            raise TypeError("moment must be an aware datetime")
        return PinnedResolver(self, moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    # -- DID URL dereferencing ------------------------------------------------------

    def dereference(
        self, did_url: str, **options: Any
    ) -> DIDDocument | VerificationMethod | Service:
        """Dereference a DID URL: the document, or the method/service named by its fragment.

        The DID URL parameters ``versionId`` and ``versionTime`` select a
        version; ``options`` are resolution options for the DID's method
        (e.g. did:key's ``publicKeyFormat``). Raises :class:`ResolutionError`
        (``invalidDidUrl``, ``notFound``, ...) when there is nothing at that URL.
        """
        try:
            url = DIDURL.parse(did_url)
        except InvalidDID as exc:
            raise ResolutionError("invalidDidUrl", str(exc)) from exc
        if url.path:
            raise ResolutionError("notFound", f"DID URL paths are not supported: {url.path!r}")
        document = self.resolve_document(str(url.did), **{**options, **_version_options(url.query)})
        if url.fragment is None:
            return document
        target = f"{url.did}#{url.fragment}"
        found = document.find(target) or document.find_service(target)
        if found is None:
            raise ResolutionError("notFound", f"{target} is not in the DID document")
        return found

    def verification_method(self, did_url: str, purpose: str, **options: Any) -> VerificationMethod:
        """The verification method at ``did_url``, checked to be authorised for ``purpose``.

        Raises :class:`ResolutionError` when the DID or the method cannot be
        found, and :class:`VerificationError` (code ``key_not_authorised``)
        when the method exists but is not listed under ``purpose``
        (``assertionMethod``, ``authentication``, ...) in its DID's document,
        or ``key_controller_mismatch`` when its ``controller`` is another DID
        (CID 1.0, Retrieve Verification Method, step 10).
        """
        if purpose not in PROOF_PURPOSES:
            raise VerificationError("proof_purpose_unknown", f"unknown proof purpose {purpose!r}")
        cache_key = (did_url, purpose)
        if not options:
            now = self._clock()
            with self._lock:
                hit = self._methods_cache.get(cache_key)
                if hit is not None and now - hit[0] < self._cache_ttl:
                    return hit[1]
        method = self._verification_method(did_url, purpose, options)
        if not options:
            with self._lock:
                self._methods_cache[cache_key] = (self._clock(), method)
                self._methods_cache.move_to_end(cache_key)
                while len(self._methods_cache) > self._cache_size:
                    self._methods_cache.popitem(last=False)
        return method

    def _verification_method(
        self, did_url: str, purpose: str, options: Mapping[str, Any]
    ) -> VerificationMethod:
        try:
            url = DIDURL.parse(did_url)
        except InvalidDID as exc:
            raise ResolutionError("invalidDidUrl", str(exc)) from exc
        if url.fragment is None or url.path:
            raise ResolutionError("invalidDidUrl", f"{did_url} does not name a verification method")
        merged = {**_version_options(url.query), **options}
        document = self.resolve_document(str(url.did), **merged)
        target = f"{url.did}#{url.fragment}"
        method = document.find(target)
        if method is None:
            raise ResolutionError("notFound", f"{target} is not in the DID document")
        if method.controller != str(url.did):
            # CID 1.0 3.3 (Retrieve Verification Method) step 10: a method another
            # controller claims is not this DID's key, whatever list names it.
            raise VerificationError(
                "key_controller_mismatch",
                f"{target} is controlled by {method.controller[:200]}, not by {url.did}",
            )
        if not document.is_authorised(target, purpose):
            raise VerificationError(
                "key_not_authorised", f"{target} is not authorised for {purpose} by {url.did}"
            )
        jwk = method.properties.get("publicKeyJwk")
        if purpose != "keyAgreement" and isinstance(jwk, Mapping) and _JWK_USE.intersection(jwk):
            # A JWK that says it is for encryption, or for another algorithm, does not
            # verify signatures here any more than in a JWK Set (RFC 7517 4.2-4.4).
            try:
                key = method.public_key
            except SSIWalletError:
                return method  # unreadable: the caller meets that error where it reads the key
            refusal = jwk_signing_refusal(jwk, key)
            if refusal is not None:
                raise refusal
        return method


#: The JWK members that restrict what a key may do (RFC 7517 4.2-4.4).
_JWK_USE = frozenset({"use", "key_ops", "alg"})


def _version_options(query: str | None) -> dict[str, str]:
    if not query:
        return {}
    out: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name in ("versionId", "versionTime"):
            out[name] = value
    return out


class PinnedResolver:
    """A resolver view pinned to one ``versionTime``; made by :meth:`Resolver.at`."""

    def __init__(self, resolver: Resolver, version_time: str) -> None:
        self._resolver = resolver
        self.version_time = version_time

    def resolve(self, did: str, **options: Any) -> ResolutionResult:
        """:meth:`Resolver.resolve` at the pinned time."""
        return self._resolver.resolve(did, **{"versionTime": self.version_time, **options})

    def resolve_document(self, did: str, **options: Any) -> DIDDocument:
        """:meth:`Resolver.resolve_document` at the pinned time."""
        return self._resolver.resolve_document(did, **{"versionTime": self.version_time, **options})

    def verification_method(self, did_url: str, purpose: str, **options: Any) -> VerificationMethod:
        """:meth:`Resolver.verification_method` at the pinned time."""
        merged = {"versionTime": self.version_time, **options}
        return self._resolver.verification_method(did_url, purpose, **merged)
