"""The errors of OpenID4VCI, each carrying the error code the specification names.

::

    SSIWalletError
     └── OID4VCIError            ``code``: the OAuth / OpenID4VCI error, ``status``: its HTTP status
          └── IssuerResponseError  a wallet got an error (or a malformed answer) from an issuer

``code`` is the exact string the protocol puts in the ``error`` member of its
error response (``invalid_proof``, ``invalid_nonce``, ``invalid_grant``,
``invalid_token``, ``invalid_request``, ``unknown_credential_configuration``,
...), so the HTTP adapter answers with it unchanged and a wallet maps an
issuer's answer back to the same class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from did_methods.errors import SSIWalletError

__all__ = ["ERROR_STATUS", "IssuerResponseError", "OID4VCIError"]

#: The HTTP status of each error code (RFC 6749 5.2, RFC 6750 3.1, OpenID4VCI 8.3.1, 9.3, 11.3).
ERROR_STATUS: Final = {
    "invalid_token": 401,
    "insufficient_scope": 403,
    "invalid_client": 401,
    "invalid_dpop_proof": 400,
    "use_dpop_nonce": 400,
}

#: Longest ``error_description`` we send or keep (characters).
_MAX_DESCRIPTION: Final = 300


def _ascii_description(text: str) -> str:
    """``error_description`` may hold only %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash)."""
    kept = "".join(c if (" " <= c <= "~" and c not in '"\\') else "?" for c in text)
    return kept[:_MAX_DESCRIPTION]


class OID4VCIError(SSIWalletError):
    """A refusal in the OpenID4VCI protocol: ``code`` is the specification's error name.

    ``status`` is the HTTP status the error is answered with (400 unless the
    code says otherwise: 401 for ``invalid_token`` and ``invalid_client``);
    ``description`` is printable ASCII, as ``error_description`` must be;
    ``headers`` are sent with the error (``DPoP-Nonce`` with ``use_dpop_nonce``).
    """

    def __init__(
        self,
        code: str,
        description: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.code = code
        self.headers = dict(headers or {})
        self.description = _ascii_description(description)
        self.status = status if status is not None else ERROR_STATUS.get(code, 400)
        super().__init__(f"{code}: {self.description}")

    def to_json(self) -> dict[str, str]:
        """The OAuth error response body (``error``, ``error_description``)."""
        return {"error": self.code, "error_description": self.description}


class IssuerResponseError(OID4VCIError):
    """What a wallet raises when an issuer refuses (its ``error``) or answers malformed.

    ``code`` is the issuer's ``error`` when it sent one, else ``invalid_response``
    (a body that is not the protocol's), ``http_error`` (an unexpected status)
    or ``transport`` (the request did not complete). ``dpop_nonce`` is the
    ``DPoP-Nonce`` header the issuer sent with the refusal, if any.
    """

    dpop_nonce: str | None = None
