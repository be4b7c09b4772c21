"""RDFC-1.0 canonicalisation (credentials.rdfc): offline contexts, safe mode, bounded work.

The byte-for-byte W3C vectors are in test_core_data_integrity.py; here: what the
canonicaliser refuses, and that hostile input only ever raises our typed error.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.rdfc import BUNDLED_CONTEXTS, RdfCanonicalizationError, canonicalize_rdf

V2 = "https://www.w3.org/ns/credentials/v2"
EX = "https://example.org/"
RDF_TYPE = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _code(document: Any, **kw: Any) -> str:
    with pytest.raises(RdfCanonicalizationError) as info:
        canonicalize_rdf(document, **kw)
    return info.value.code


@pytest.mark.parametrize("url", sorted(BUNDLED_CONTEXTS))
def test_every_bundled_context_loads_and_defines_terms(url: str) -> None:
    out = canonicalize_rdf({"@context": url, "@id": "urn:x:1", "@type": EX + "T"})
    assert out == b"<urn:x:1> <%s> <https://example.org/T> .\n" % RDF_TYPE


def test_contexts_are_never_fetched_but_can_be_given() -> None:
    doc = {"@context": "https://vocab.example/v1", "@id": "urn:x:1", "name": "Amina"}
    assert _code(doc) == "context_unknown"
    given_ctx = {"@context": {"name": "https://vocab.example/name"}}
    out = canonicalize_rdf(doc, contexts={"https://vocab.example/v1": given_ctx})
    assert out == b'<urn:x:1> <https://vocab.example/name> "Amina" .\n'


def test_safe_mode_refuses_what_expansion_would_drop() -> None:
    assert _code({"@context": {"a": EX + "a"}, "@id": "urn:x:1", "b": 1}) == "term_undefined"
    assert _code({"@context": {"a": EX + "a"}, "@type": "Undefined", "a": 1}) == "term_undefined"
    assert _code({"@context": {"a": EX + "a"}, "@id": "relative", "a": 1}) == "term_undefined"
    # the bundled VC 2.0 context has no @vocab: an undefined term there is refused too
    assert _code({"@context": V2, "@id": "urn:x:1", "anything": "x"}) == "term_undefined"
    # ... unless the document says what it means
    ctx = [V2, {"anything": EX + "anything"}]
    assert canonicalize_rdf({"@context": ctx, "@id": "urn:x:1", "anything": "x"}) == (
        b'<urn:x:1> <https://example.org/anything> "x" .\n'
    )


def test_poison_dataset_is_refused_quickly() -> None:
    # a clique of anonymous nodes that all look alike makes RDFC-1.0 labelling exponential
    nodes = [
        {"@id": f"_:n{i}", EX + "p": [{"@id": f"_:n{j}"} for j in range(12) if j != i]}
        for i in range(12)
    ]
    start = time.monotonic()
    assert _code({"@graph": nodes}) == "rdfc_too_complex"
    assert time.monotonic() - start < 10


def test_blank_nodes_that_differ_are_labelled_without_deep_iterations() -> None:
    doc = {
        "@context": {"p": EX + "p", "v": EX + "v"},
        "@graph": [{"p": {"v": i}} for i in range(50)],
    }
    out = canonicalize_rdf(doc).decode()
    labels = set(re.findall(r"_:c14n[0-9]+", out))
    assert labels == {f"_:c14n{i}" for i in range(100)}  # 50 subjects, 50 objects


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["@context", "@id", "@type", "@graph", "@value", "@list", "a", EX + "p"]
            )
            | st.text(max_size=6),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(
    document=st.dictionaries(st.sampled_from(["@context", "@id", "@type", "a", EX + "p"]), _json)
)
def test_random_documents_raise_only_our_error(document: dict[str, Any]) -> None:
    try:
        out = canonicalize_rdf(document)
    except RdfCanonicalizationError as exc:
        assert exc.code in {
            "context_unknown",
            "term_undefined",
            "jsonld_invalid",
            "rdfc_too_complex",
        }
    else:
        assert isinstance(out, bytes)
