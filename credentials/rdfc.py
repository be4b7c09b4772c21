"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, offline and bounded.

The Data Integrity cryptosuites ``eddsa-rdfc-2022`` and ``ecdsa-rdfc-2019`` sign
the canonical N-Quads of a document instead of its JCS text. Producing them
means JSON-LD expansion (which reads the document's contexts), conversion to
an RDF dataset, and RDFC-1.0 canonical blank-node labelling. PyLD (Digital
Bazaar's JSON-LD processor, the optional extra ``ssi-wallet[rdf]``) does the
JSON-LD work and the labelling; this module decides what it may read and how
long it may run:

* **Contexts are never fetched.** A context URL resolves only to a document
  bundled here (:data:`BUNDLED_CONTEXTS`: VC 1.1 and 2.0, their examples
  vocabulary, Data Integrity v1/v2, Multikey, DID v1 and this project's
  immigration vocabulary) or one the caller passes in ``contexts``; any other
  is ``context_unknown``.
* **Safe mode.** A property that no context maps to an IRI would be dropped by
  expansion, leaving it outside what is signed while still in the JSON a
  reader sees; such a document is refused (``term_undefined``), as is a
  ``type`` or ``id`` that does not expand to an absolute IRI (no base IRI is
  set, so a relative one would silently drop its node).
* **Bounded work.** RDFC-1.0 labelling is exponential on crafted graphs
  ("poison" datasets, RDFC-1.0 section 4.4 on mitigations): at most
  :data:`MAX_DEEP_ITERATIONS` Hash N-Degree Quads calls and
  :data:`MAX_SHARED_HASH_GROUP` blank nodes sharing one related hash, else
  ``rdfc_too_complex``; at most :data:`MAX_QUADS` quads.

Errors are :class:`RdfCanonicalizationError` (a ``ParseError`` with a ``code``):
``context_unknown``, ``term_undefined``, ``jsonld_invalid`` (anything PyLD
refuses), ``rdfc_too_complex``; and :class:`UnsupportedError`
``cryptosuite_unsupported`` when PyLD is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Final

from did_methods.errors import ParseError, UnsupportedError

__all__ = [
    "BUNDLED_CONTEXTS",
    "MAX_DEEP_ITERATIONS",
    "MAX_QUADS",
    "MAX_SHARED_HASH_GROUP",
    "RdfCanonicalizationError",
    "canonicalize_rdf",
    "rdf_available",
]

#: Context URL -> bundled file (``credentials/contexts/``, provenance in its PROVENANCE.md).
BUNDLED_CONTEXTS: Final[Mapping[str, str]] = {
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://w3id.org/ssi-wallet/immigration/v1": "../vocabulary/context-v1.json",
}
#: Most Hash N-Degree Quads calls one canonicalisation may make.
MAX_DEEP_ITERATIONS: Final = 64
#: Most blank nodes that may share one related hash (their permutations are tried).
MAX_SHARED_HASH_GROUP: Final = 6
#: Most quads in one dataset.
MAX_QUADS: Final = 20_000


class RdfCanonicalizationError(ParseError):
    """A document cannot be canonicalised as RDF; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def rdf_available() -> bool:
    """True when PyLD (the ``rdf`` extra) is installed."""
    try:
        import pyld  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def _bundled(url: str) -> Any:
    name = BUNDLED_CONTEXTS[url]
    folder = "contexts" if not name.startswith("../") else "vocabulary"
    text = resources.files("credentials").joinpath(folder, name.removeprefix("../vocabulary/"))
    return json.loads(text.read_text(encoding="utf-8"))


@cache
def _pyld() -> Any:
    """PyLD's pieces, with the bounded canonicaliser subclass built once."""
    try:
        from cachetools import LRUCache
        from pyld import canon, jsonld
        from pyld.context_resolver import ContextResolver
    except ImportError as exc:
        raise UnsupportedError(
            "RDF canonicalisation needs PyLD: pip install 'ssi-wallet[rdf]'",
            "cryptosuite_unsupported",
        ) from exc

    class BoundedURDNA2015(canon.URDNA2015):  # type: ignore[misc]
        """RDFC-1.0 (URDNA2015) with the work bounds of the module docstring."""

        def __init__(self) -> None:
            super().__init__()
            self.deep_iterations = 0

        def hash_n_degree_quads(self, id_: Any, issuer: Any) -> Any:
            self.deep_iterations += 1
            if self.deep_iterations > MAX_DEEP_ITERATIONS:
                raise RdfCanonicalizationError(
                    "rdfc_too_complex",
                    f"more than {MAX_DEEP_ITERATIONS} Hash N-Degree Quads calls: "
                    "the dataset's blank nodes are too alike to label cheaply",
                )
            return super().hash_n_degree_quads(id_, issuer)

        def create_hash_to_related(self, id_: Any, issuer: Any) -> Any:
            related = super().create_hash_to_related(id_, issuer)
            if any(len(nodes) > MAX_SHARED_HASH_GROUP for nodes in related.values()):
                raise RdfCanonicalizationError(
                    "rdfc_too_complex",
                    f"more than {MAX_SHARED_HASH_GROUP} blank nodes share one related hash",
                )
            return related

    return jsonld, ContextResolver, LRUCache, BoundedURDNA2015


def _loader(extra: Mapping[str, Any]) -> Any:
    def load(url: str, options: Any = None) -> dict[str, Any]:
        if url in extra:
            document = extra[url]
        elif url in BUNDLED_CONTEXTS:
            document = _bundled(url)
        else:
            raise RdfCanonicalizationError(
                "context_unknown",
                f"context {url[:120]!r} is neither bundled nor given; contexts are never fetched",
            )
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


def _ours(exc: BaseException) -> RdfCanonicalizationError | None:
    seen: BaseException | None = exc
    for _ in range(16):  # PyLD wraps errors in errors; the chain is short
        if seen is None:
            return None
        if isinstance(seen, RdfCanonicalizationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _check_types(node: Any, depth: int = 0) -> None:
    """Every ``@type`` and ``@id`` of the expanded document is an absolute IRI
    (or a keyword, or a blank node identifier)."""
    if depth > 200:
        raise RdfCanonicalizationError("jsonld_invalid", "the expanded document nests too deeply")
    if isinstance(node, list):
        for item in node:
            _check_types(item, depth + 1)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        return  # a value object's @type is a datatype, already checked by expansion
    ident = node.get("@id")
    if ident is not None and (not isinstance(ident, str) or ":" not in ident):
        # a relative IRI: with no base, RDF conversion would drop the node silently
        raise RdfCanonicalizationError(
            "term_undefined", f"@id {str(ident)[:80]!r} is not an absolute IRI"
        )
    for value in node.get("@type", ()):
        if not isinstance(value, str) or (":" not in value and not value.startswith("@")):
            raise RdfCanonicalizationError(
                "term_undefined", f"type {str(value)[:80]!r} is not defined by any context"
            )
    for key, value in node.items():
        if key != "@type":
            _check_types(value, depth + 1)


def canonicalize_rdf(
    document: Mapping[str, Any], *, contexts: Mapping[str, Any] | None = None
) -> bytes:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document, as UTF-8 bytes.

    ``contexts`` adds context documents by URL to the bundled ones (a caller's
    own vocabulary); nothing is fetched. Raises :class:`RdfCanonicalizationError`
    (codes in the module docstring) or :class:`UnsupportedError` without PyLD.
    """
    jsonld, context_resolver, lru_cache, bounded = _pyld()
    if not isinstance(document, Mapping):
        raise RdfCanonicalizationError("jsonld_invalid", "a JSON-LD document must be an object")

    def dropped(iri: Any) -> None:
        raise RdfCanonicalizationError(
            "term_undefined",
            f"property {str(iri)[:80]!r} is not defined by any context: it would go unsigned",
        )

    loader = _loader(dict(contexts or {}))
    options = {
        "documentLoader": loader,
        "contextResolver": context_resolver(lru_cache(maxsize=64), loader),
        "base": None,
        "processingMode": "json-ld-1.1",
        "produceGeneralizedRdf": False,
    }
    try:
        processor = jsonld.JsonLdProcessor(on_property_dropped=dropped)
        expanded = processor.expand(dict(document), dict(options))
        _check_types(expanded)
        dataset = processor.to_rdf(expanded, dict(options))
        quads = sum(len(graph) for graph in dataset.values())
        if quads > MAX_QUADS:
            raise RdfCanonicalizationError(
                "rdfc_too_complex", f"{quads} quads, more than {MAX_QUADS}"
            )
        text = bounded().main(dataset, {"format": "application/n-quads"})
    except RdfCanonicalizationError:
        raise
    except RecursionError as exc:
        raise RdfCanonicalizationError("jsonld_invalid", "the document nests too deeply") from exc
    except Exception as exc:  # PyLD's errors (JsonLdError and what it lets through)
        ours = _ours(exc)
        if ours is not None:
            raise ours from None
        raise RdfCanonicalizationError(
            "jsonld_invalid", f"not processable as JSON-LD: {str(exc)[:200]}"
        ) from exc
    if not isinstance(text, str):  # pragma: no cover - PyLD returns N-Quads text
        raise RdfCanonicalizationError("jsonld_invalid", "no N-Quads came out")
    return text.encode("utf-8")
