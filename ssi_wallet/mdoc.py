"""mdocs (``mso_mdoc``) answered and checked against a DCQL query, over OpenID4VP 1.0.

The sans-IO pieces the OpenID4VP wallet and verifier use for ISO/IEC 18013-5
mdocs (OpenID4VP 1.0 appendix B.2):

* :class:`MdocCandidate`: an mdoc the wallet holds, in the shape
  :func:`ssi_wallet.dcql.match` evaluates (``format`` ``mso_mdoc``, ``types``
  the ``docType``, ``claims`` ``{namespace: {element: value}}``, so a claims
  path ``[namespace, element]`` selects one data element);
* :func:`disclosure_for`: which elements a credential query asks for (its
  ``claims``, the first satisfiable ``claim_sets`` option, or everything when
  it names no claims);
* :func:`present_for_query`: the wallet's ``vp_token`` entry, the base64url
  ``DeviceResponse`` disclosing exactly those elements, device-signed over the
  session transcript of appendix B.2.6.1 (``client_id``, ``nonce``, the
  verifier's encryption key thumbprint or null, ``response_uri``);
* :func:`verify_for_query`: the verifier's check of such an entry: the
  ``DeviceResponse`` verifies (:func:`credentials.mdoc.verify_device_response`,
  issuer trust by the X.509 ``trust_anchors``), its ``docType`` is the query's
  ``doctype_value``, and every requested claim is disclosed with an accepted
  value.

Refusals are :class:`credentials.mdoc.MdocError` with a code: those of
:mod:`credentials.mdoc`, plus ``mdoc_vp_token_malformed`` (not base64url, or
too long), ``mdoc_too_many_documents`` (several documents for one query that
does not allow ``multiple``) and ``mdoc_claim_missing`` (a requested claim
not disclosed, or not with an accepted value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from credentials.mdoc import (
    HEADER_X5CHAIN,
    MAX_MDOC_BYTES,
    IssuerSigned,
    MdocError,
    VerifiedMdoc,
    oid4vp_session_transcript,
    present_mdoc,
    verify_device_response,
)
from did_methods._wire.b64 import b64url_decode, b64url_encode
from did_methods.errors import ParseError
from did_methods.keys import PrivateKey
from ssi_wallet.dcql import ClaimsQuery, CredentialQuery, select

__all__ = [
    "MdocCandidate",
    "disclosure_for",
    "present_for_query",
    "verify_for_query",
]


@dataclass(frozen=True, slots=True)
class MdocCandidate:
    """An mdoc held by the wallet, seen as a DCQL :class:`~ssi_wallet.dcql.Candidate`.

    ``issuer`` is the document signer certificate's subject (read, not
    verified: the wallet verified the mdoc when it stored it).
    """

    id: str
    types: tuple[str, ...]
    claims: Mapping[str, Mapping[str, Any]]
    issuer: str
    issuer_signed: IssuerSigned
    format: str = "mso_mdoc"

    @classmethod
    def from_issuer_signed(cls, credential_id: str, issuer_signed: IssuerSigned) -> MdocCandidate:
        """Describe a stored mdoc. Raises :class:`MdocError` for one that cannot be read."""
        mso = issuer_signed.unverified_mso()
        claims = {
            namespace: {item.element_identifier: item.element_value for item in items}
            for namespace, items in issuer_signed.namespaces.items()
        }
        auth = issuer_signed.issuer_auth
        chain = auth.unprotected.get(HEADER_X5CHAIN, auth.protected.get(HEADER_X5CHAIN))
        leaf = chain if isinstance(chain, bytes) else chain[0] if isinstance(chain, list) else None
        try:
            issuer = x509.load_der_x509_certificate(leaf).subject.rfc4514_string() if leaf else ""
        except (ValueError, TypeError, x509.InvalidVersion):
            issuer = ""
        return cls(credential_id, (mso.doctype,), claims, issuer, issuer_signed)


def _requested(query: CredentialQuery, claims: Mapping[str, Any]) -> tuple[ClaimsQuery, ...]:
    """The claims queries to answer: all, or the first ``claim_sets`` option the mdoc meets."""
    if query.claims is None:
        return ()
    if query.claim_sets is None:
        return query.claims
    by_id = {claim.id: claim for claim in query.claims}
    for option in query.claim_sets:
        chosen = tuple(by_id[claim_id] for claim_id in option)
        if all(_met(claim, claims) for claim in chosen):
            return chosen
    return tuple(by_id[claim_id] for claim_id in query.claim_sets[0])


def _met(claim: ClaimsQuery, claims: Mapping[str, Any]) -> bool:
    found = select(claims, claim.path)
    if not found:
        return False
    if claim.values is None:
        return True
    return any(type(v) is type(x) and v == x for v in found for x in claim.values)


def disclosure_for(query: CredentialQuery, claims: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{namespace: [element, ...]}`` that answers ``query`` from an mdoc's ``claims``.

    Every element when the query names no claims (DCQL section 6.1).
    Raises :class:`~did_methods.errors.ParseError` for a query of another format.
    """
    if query.format != "mso_mdoc":
        raise ParseError(f"a {query.format} query is not answered with an mdoc")
    wanted: dict[str, list[str]] = {}
    if query.claims is None:
        for namespace, elements in claims.items():
            wanted[namespace] = list(elements)
        return wanted
    for claim in _requested(query, claims):
        namespace, element = str(claim.path[0]), str(claim.path[1])
        if element in claims.get(namespace, {}) and element not in wanted.get(namespace, []):
            wanted.setdefault(namespace, []).append(element)
    return wanted


def present_for_query(
    query: CredentialQuery,
    candidate: MdocCandidate,
    *,
    device_key: PrivateKey,
    client_id: str,
    nonce: str,
    response_uri: str,
    jwk_thumbprint: bytes | None = None,
) -> str:
    """The ``vp_token`` entry for ``query``: a base64url ``DeviceResponse`` (appendix B.2.6).

    Discloses :func:`disclosure_for` and signs, with ``device_key``, the session
    transcript of this request (:func:`credentials.mdoc.oid4vp_session_transcript`).
    """
    session = oid4vp_session_transcript(
        client_id=client_id, nonce=nonce, response_uri=response_uri, jwk_thumbprint=jwk_thumbprint
    )
    response = present_mdoc(
        candidate.issuer_signed,
        device_key=device_key,
        session_transcript=session,
        disclose=disclosure_for(query, candidate.claims),
    )
    return b64url_encode(response)


def verify_for_query(
    item: Any,
    query: CredentialQuery,
    *,
    client_id: str,
    nonce: str,
    response_uri: str,
    trust_anchors: Sequence[x509.Certificate],
    jwk_thumbprint: bytes | None = None,
    now: datetime | None = None,
) -> tuple[VerifiedMdoc, ...]:
    """Check one ``vp_token`` entry for an ``mso_mdoc`` credential query; return its documents.

    Steps: (1) the entry is base64url text of a bounded length; (2) the
    ``DeviceResponse`` verifies with the session transcript the verifier builds
    from its own request (``client_id`` with its prefix, ``nonce``,
    ``jwk_thumbprint`` of its response encryption key or None,
    ``response_uri``), issuers chaining to ``trust_anchors``, ``docType`` equal
    to ``meta.doctype_value``; (3) one document unless ``multiple``; (4) every
    requested claim (or a whole ``claim_sets`` option) disclosed, with an
    accepted value when ``values`` are given.

    Raises :class:`~credentials.mdoc.MdocError` (codes in the module docstring).
    """
    if query.format != "mso_mdoc":
        raise ParseError(f"a {query.format} query is not answered with an mdoc")
    # 1.
    if not isinstance(item, str):
        raise MdocError("mdoc_vp_token_malformed", "an mso_mdoc vp_token entry is base64url text")
    try:
        data = b64url_decode(item, max_length=(MAX_MDOC_BYTES * 4) // 3 + 4)
    except ParseError as exc:
        raise MdocError("mdoc_vp_token_malformed", f"the vp_token entry: {exc}") from exc
    # 2.
    session = oid4vp_session_transcript(
        client_id=client_id, nonce=nonce, response_uri=response_uri, jwk_thumbprint=jwk_thumbprint
    )
    documents = verify_device_response(
        data,
        session_transcript=session,
        trust_anchors=trust_anchors,
        now=now,
        doctype=str(query.meta.get("doctype_value")),
    )
    # 3.
    if len(documents) > 1 and not query.multiple:
        raise MdocError("mdoc_too_many_documents", f"query {query.id} asked for one document")
    # 4.
    for document in documents:
        if query.claims is None:
            continue
        options: Sequence[Sequence[ClaimsQuery]]
        if query.claim_sets is None:
            options = [query.claims]
        else:
            by_id = {claim.id: claim for claim in query.claims}
            options = [[by_id[claim_id] for claim_id in option] for option in query.claim_sets]
        if not any(all(_met(claim, document.claims) for claim in option) for option in options):
            raise MdocError(
                "mdoc_claim_missing",
                f"the mdoc does not disclose what query {query.id} asks for",
            )
    return documents
