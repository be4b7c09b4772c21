"""The ``did:web`` method: a DID document hosted at an HTTPS URL named by the DID.

``did:web:<host>[%3A<port>][:<segment>]*`` maps to a URL (:func:`did_web_to_url`)::

    did:web:example.com                    -> https://example.com/.well-known/did.json
    did:web:example.com:user:alice         -> https://example.com/user/alice/did.json
    did:web:example.com%3A3000:user:alice  -> https://example.com:3000/user/alice/did.json

Resolution (:class:`WebMethod`) takes these steps:

1. map the DID to its URL, refusing what the did:web specification forbids
   (IP addresses) and what could make the URL point elsewhere than it seems
   (empty or dot segments, encoded slashes, user info, stray percent signs);
2. fetch it through a :class:`~did_methods.http.Fetcher` - by default an
   :class:`~did_methods.http.HttpFetcher` that only talks HTTPS to public
   addresses - bounded in size (256 KiB) and time (5 s);
3. parse the body as strict JSON: UTF-8, no duplicate member names, no
   ``NaN``/``Infinity``, nested at most 64 levels deep, an object at the top;
4. validate it as a DID document;
5. check that its ``id`` is exactly the DID being resolved.

Each failure raises :class:`~did_methods.errors.ResolutionError` with a DID
Resolution error ``code`` and a ``detail`` attribute saying which step failed
(the :class:`~did_methods.resolver.Resolver` copies it into
``didResolutionMetadata["errorDetail"]``); the cause is chained:

============================================  ==============  ===================
what went wrong                               ``code``        ``detail``
============================================  ==============  ===================
not a valid did:web DID                       invalidDid      invalid_did
HTTP 404 or 410                               notFound        http_status
any other fetch failure                       internalError   the FetchError code
                                                              (forbidden_address,
                                                              too_large, timeout,
                                                              redirect_loop, ...)
body is not strict UTF-8 JSON                 internalError   invalid_json
JSON nested deeper than 64 levels             internalError   json_too_deep
not a valid DID document (or not an object)   internalError   invalid_document
document ``id`` is not the DID                internalError   id_mismatch
============================================  ==============  ===================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from did_methods._wire.json import loads
from did_methods.did import DID
from did_methods.document import DIDDocument
from did_methods.errors import InvalidDID, JSONError, ResolutionError, SSIWalletError
from did_methods.http import (
    Fetcher,
    FetchError,
    HttpFetcher,
    _host_name_problem,
    fetch_checked,
)
from did_methods.resolver import DID_JSON, ResolutionResult

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "MAX_JSON_DEPTH",
    "WebMethod",
    "did_web_to_url",
]

#: Largest did.json :class:`WebMethod` accepts unless told otherwise (256 KiB).
DEFAULT_MAX_BYTES: Final = 256 * 1024
#: Seconds :class:`WebMethod` allows for the whole fetch unless told otherwise.
DEFAULT_TIMEOUT: Final = 5.0
#: Deepest nesting of JSON arrays and objects accepted in a did.json.
MAX_JSON_DEPTH: Final = 64

_ACCEPT: Final = f"{DID_JSON}, application/json;q=0.9"
_HOST_PORT = re.compile(r"([A-Za-z0-9.-]+)(?:%3[Aa]([1-9][0-9]{0,4}))?")


def _web_error(code: str, message: str, detail: str) -> ResolutionError:
    """A ResolutionError whose message and ``detail`` say which resolution step failed."""
    return ResolutionError(code, f"{message} (reason: {detail})", detail)


def _host_and_port(text: str) -> tuple[str, int | None]:
    match = _HOST_PORT.fullmatch(text)
    if match is None:
        raise InvalidDID(
            "did:web host must be a domain name (letters, digits, dots, hyphens), optionally"
            " followed by %3A and a port from 1 to 65535 without leading zeros"
        )
    host, port_text = match.group(1).lower(), match.group(2)
    problem = _host_name_problem(host)
    if problem is not None:
        # The did:web specification forbids IP addresses as the host.
        raise InvalidDID(f"did:web host {host[:80]!r} {problem}")
    port = int(port_text) if port_text is not None else None
    if port is not None and port > 65535:
        raise InvalidDID(f"did:web port {port} is out of range")
    return host, port


def _path_segment(segment: str) -> str:
    if not segment:
        raise InvalidDID("did:web path segments must not be empty")
    decoded = unquote_to_bytes(segment)
    if decoded in (b".", b".."):
        raise InvalidDID("did:web path segments must not be '.' or '..'")
    if any(byte < 0x20 or byte in b"/\\\x7f" for byte in decoded):
        raise InvalidDID("did:web path segments must not encode slashes or control characters")
    return segment  # DID idchars are URL path characters: no re-encoding needed


def did_web_to_url(did: str | DID) -> str:
    """The HTTPS URL of the DID document of a ``did:web`` DID.

    Follows the did:web specification's resolution steps; raises
    :class:`~did_methods.errors.InvalidDID` for text that is not a DID, a DID
    of another method, an IP address or malformed domain name as the host, a
    port outside 1-65535 (or with leading zeros), and path segments that are
    empty, ``.``/``..`` (also percent-encoded) or encode a slash, backslash
    or control character.
    """
    parsed = did if isinstance(did, DID) else DID.parse(did)
    if parsed.method != "web":
        raise InvalidDID(f"not a did:web DID: did:{parsed.method}:...")
    host_text, *path = parsed.method_specific_id.split(":")
    host, port = _host_and_port(host_text)
    authority = host if port is None else f"{host}:{port}"
    location = "/".join(_path_segment(s) for s in path) if path else ".well-known"
    return f"https://{authority}/{location}/did.json"


def _load_document_json(body: bytes) -> Any:
    """Parse a did.json body strictly (the fetch has bounded its size); raise _web_error."""
    try:
        return loads(body, what="DID document", max_bytes=len(body), max_depth=MAX_JSON_DEPTH)
    except JSONError as exc:
        detail = "json_too_deep" if exc.code == "json_too_deep" else "invalid_json"
        raise _web_error("internalError", str(exc), detail) from exc


class WebMethod:
    """Resolves ``did:web`` DIDs by fetching their ``did.json`` (see the module docstring).

    ``fetcher`` defaults to :class:`~did_methods.http.HttpFetcher` (HTTPS to
    public addresses only); ``max_bytes`` and ``timeout`` bound every fetch.

    ``unsafe_allow_http=True`` fetches ``http://`` instead of the ``https://``
    URL the specification requires, so a did.json served by a local test
    server without TLS can be resolved; the fetcher must allow http too.
    Anyone on the network path can then forge the document: local testing only.
    """

    name = "web"

    def __init__(
        self,
        fetcher: Fetcher | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        unsafe_allow_http: bool = False,
    ) -> None:
        self.fetcher: Fetcher = fetcher if fetcher is not None else HttpFetcher()
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.unsafe_allow_http = unsafe_allow_http

    def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult:
        """Fetch, parse and check the DID document of ``did``.

        Returns a result with ``contentType`` ``application/did+json``; raises
        :class:`~did_methods.errors.ResolutionError` with a ``detail``
        attribute (see the table in the module docstring). ``options`` are not
        used: did:web has no versions.
        """
        # Step 1: the URL.
        try:
            url = did_web_to_url(did)
        except InvalidDID as exc:
            raise _web_error("invalidDid", str(exc), "invalid_did") from exc
        if self.unsafe_allow_http:
            url = "http://" + url.removeprefix("https://")
        # Step 2: fetch, bounded.
        # (fetch_checked holds a third-party fetcher to the contract: bounded, bytes.)
        try:
            body = fetch_checked(
                self.fetcher, url, max_bytes=self.max_bytes, timeout=self.timeout, accept=_ACCEPT
            )
        except FetchError as exc:
            missing = exc.code == "http_status" and exc.status in (404, 410)
            raise _web_error(
                "notFound" if missing else "internalError",
                f"fetching {url} failed: {exc.message}",
                exc.code,
            ) from exc
        # Step 3: strict, depth-bounded JSON.
        data = _load_document_json(body)
        # Step 4: a DID document.
        try:
            document = DIDDocument.from_json(data)
        except SSIWalletError as exc:
            raise _web_error(
                "internalError",
                f"{url} does not hold a valid DID document: {exc}",
                "invalid_document",
            ) from exc
        # Step 5: the document must be the DID's own.
        if document.id != str(did):
            raise _web_error(
                "internalError",
                f"{url} holds the document of {document.id[:200]!r}, not of {did}",
                "id_mismatch",
            )
        return ResolutionResult.found(document, content_type=DID_JSON)
