"""Verifiable credentials: W3C VC Data Model 2.0, Data Integrity proofs, VC-JOSE, SD-JWT
VC, Bitstring and Token Status Lists, offline barcodes, and the immigration vocabulary.

This package's names are the recipes. To decide trust, use
:func:`verify_credential` and :func:`verify_presentation`: the caller names the
format, the kind and the credential type it accepts, and reads issuer, type and
claims from the result's typed fields. :func:`verify` (any format in, a
:class:`VerificationResult` out) detects what it is given, for display.
:func:`issue` secures a credential (Data Integrity or ``vc+jwt``),
:func:`issue_sd_jwt` an SD-JWT VC (and :func:`present` discloses from it), and
:func:`encode_barcode` an offline barcode; :class:`StatusList` and
:class:`TokenStatusList` are an issuer's revocation lists, :class:`StatusResolvers`
how a verifier reads them, and :class:`IssuerKeys` the keys of issuers named by an
https URL.

The sharp tools (a format's own verifier, which checks a signature but pins
neither format nor kind nor type; canonicalisation; unverified decoding; the
vocabulary's lookups) live in the modules named for their standard, and are
imported from there: :mod:`credentials.data_integrity`, :mod:`credentials.jose`,
:mod:`credentials.jws` (compact JWS), :mod:`credentials.sd_jwt`,
:mod:`credentials.barcode`, :mod:`credentials.cose`, :mod:`credentials.base45`,
:mod:`credentials.status_list`, :mod:`credentials.token_status_list`,
:mod:`credentials.jcs`, :mod:`credentials.model`, :mod:`credentials.schemas`,
:mod:`credentials.keysets`, :mod:`credentials.related`, :mod:`credentials.oauth`,
:mod:`credentials.mdoc` (ISO/IEC 18013-5 mdocs, the ``mso_mdoc`` format).
The names this package exported for them before are deprecated aliases that
warn, for one release.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from did_methods._wire.renamed import warn_renamed

if TYPE_CHECKING:
    from credentials.barcode import BarcodeError, encode_barcode, qr_png, qr_svg
    from credentials.errors import (
        CanonicalizationError,
        DuplicateKeyError,
        InputTooLargeError,
        JSONError,
        ValidationError,
    )
    from credentials.jose import VCJoseError
    from credentials.keysets import IssuerKeys, KeySetError
    from credentials.model import CREDENTIALS_V2_CONTEXT, Credential, Presentation
    from credentials.result import Check, CheckStatus, Kind, VerificationResult
    from credentials.schemas import SchemaValidationError, UnknownCredentialTypeError
    from credentials.sd_jwt import ClaimPathError, SdJwtError, issue_sd_jwt, present
    from credentials.status_list import (
        StatusCheckError,
        StatusList,
        StatusListError,
        make_status_list_credential,
        status_entry,
    )
    from credentials.token_status_list import (
        TokenStatusCheckError,
        TokenStatusList,
        TokenStatusListError,
        make_status_list_token,
        status_claim,
    )
    from credentials.verify import (
        CredentialFormat,
        IssueFormat,
        PresentationFormat,
        StatusResolvers,
        issue,
        verify,
        verify_credential,
        verify_presentation,
    )

# The names load on first use (PEP 562): importing one module of the package (its
# result types, say) does not import every format beneath the others, so a command
# that verifies a Data Integrity credential never loads CBOR, COSE or JSON Schema.
_WHERE = {
    "BarcodeError": "credentials.barcode",
    "CREDENTIALS_V2_CONTEXT": "credentials.model",
    "CanonicalizationError": "credentials.errors",
    "Check": "credentials.result",
    "CheckStatus": "credentials.result",
    "ClaimPathError": "credentials.sd_jwt",
    "Credential": "credentials.model",
    "CredentialFormat": "credentials.verify",
    "DuplicateKeyError": "credentials.errors",
    "InputTooLargeError": "credentials.errors",
    "IssueFormat": "credentials.verify",
    "IssuerKeys": "credentials.keysets",
    "JSONError": "credentials.errors",
    "KeySetError": "credentials.keysets",
    "Kind": "credentials.result",
    "Presentation": "credentials.model",
    "PresentationFormat": "credentials.verify",
    "SchemaValidationError": "credentials.schemas",
    "SdJwtError": "credentials.sd_jwt",
    "StatusCheckError": "credentials.status_list",
    "StatusList": "credentials.status_list",
    "StatusListError": "credentials.status_list",
    "StatusResolvers": "credentials.verify",
    "TokenStatusCheckError": "credentials.token_status_list",
    "TokenStatusList": "credentials.token_status_list",
    "TokenStatusListError": "credentials.token_status_list",
    "UnknownCredentialTypeError": "credentials.schemas",
    "VCJoseError": "credentials.jose",
    "ValidationError": "credentials.errors",
    "VerificationResult": "credentials.result",
    "encode_barcode": "credentials.barcode",
    "issue": "credentials.verify",
    "issue_sd_jwt": "credentials.sd_jwt",
    "make_status_list_credential": "credentials.status_list",
    "make_status_list_token": "credentials.token_status_list",
    "present": "credentials.sd_jwt",
    "qr_png": "credentials.barcode",
    "qr_svg": "credentials.barcode",
    "status_claim": "credentials.token_status_list",
    "status_entry": "credentials.status_list",
    "verify": "credentials.verify",
    "verify_credential": "credentials.verify",
    "verify_presentation": "credentials.verify",
}


# Names exported here before this package kept to recipes: each now lives only in
# its module, and reading it from the package warns (goes in the next release).
_MOVED = {
    "CONTEXT_URL": "credentials.schemas",
    "CREDENTIAL_TYPES": "credentials.schemas",
    "DataIntegrityProof": "credentials.data_integrity",
    "Disclosure": "credentials.sd_jwt",
    "LANGUAGES": "credentials.schemas",
    "SdJwt": "credentials.sd_jwt",
    "StatusListResolver": "credentials.status_list",
    "TokenStatus": "credentials.token_status_list",
    "TokenStatusListResolver": "credentials.token_status_list",
    "UnverifiedBarcode": "credentials.barcode",
    "VC_JWT_MEDIA_TYPE": "credentials.jose",
    "VerifiedProof": "credentials.data_integrity",
    "VerifiedStatusListToken": "credentials.token_status_list",
    "add_proof": "credentials.data_integrity",
    "canonicalize": "credentials.jcs",
    "check_schema": "credentials.schemas",
    "check_status": "credentials.status_list",
    "check_token_status": "credentials.token_status_list",
    "check_validity_period": "credentials.model",
    "claim_label": "credentials.schemas",
    "claim_names": "credentials.schemas",
    "context_document": "credentials.schemas",
    "credential_schema": "credentials.schemas",
    "decode_barcode": "credentials.barcode",
    "display_name": "credentials.schemas",
    "envelope_vc_jwt": "credentials.jose",
    "example_credential": "credentials.schemas",
    "example_subject": "credentials.schemas",
    "issue_vc_jwt": "credentials.jose",
    "issue_vp_jwt": "credentials.jose",
    "loads_strict": "credentials.jcs",
    "parse_datetime": "credentials.model",
    "schema_for": "credentials.schemas",
    "schema_id": "credentials.schemas",
    "sd_jwt_disclosure_policy": "credentials.schemas",
    "token_status_checker": "credentials.token_status_list",
    "token_status_checker_for": "credentials.token_status_list",
    "type_for_schema_id": "credentials.schemas",
    "type_for_vct": "credentials.schemas",
    "validate_credential": "credentials.schemas",
    "vct": "credentials.schemas",
    "verify_barcode": "credentials.barcode",
    "verify_jwt": "credentials.jose",
    "verify_proof": "credentials.data_integrity",
    "verify_sd_jwt": "credentials.sd_jwt",
    "verify_status_list_token": "credentials.token_status_list",
    "verify_vc_jwt": "credentials.jose",
    "verify_vp_jwt": "credentials.jose",
}


def __getattr__(name: str) -> Any:
    home = _WHERE.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value
        return value
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warn_renamed(f"credentials.{name}", f"{module}.{name}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(types.ModuleType):
    """This package's module type: ``verify`` stays the recipe when the submodule
    of the same name is imported later (the import system sets the package's
    attribute to the submodule; the eager imports used to bind the function after
    it). The submodule is ``sys.modules["credentials.verify"]``, as for any import."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "verify" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "CREDENTIALS_V2_CONTEXT",
    "BarcodeError",
    "CanonicalizationError",
    "Check",
    "CheckStatus",
    "ClaimPathError",
    "Credential",
    "CredentialFormat",
    "DuplicateKeyError",
    "InputTooLargeError",
    "IssueFormat",
    "IssuerKeys",
    "JSONError",
    "KeySetError",
    "Kind",
    "Presentation",
    "PresentationFormat",
    "SchemaValidationError",
    "SdJwtError",
    "StatusCheckError",
    "StatusList",
    "StatusListError",
    "StatusResolvers",
    "TokenStatusCheckError",
    "TokenStatusList",
    "TokenStatusListError",
    "UnknownCredentialTypeError",
    "VCJoseError",
    "ValidationError",
    "VerificationResult",
    "encode_barcode",
    "issue",
    "issue_sd_jwt",
    "make_status_list_credential",
    "make_status_list_token",
    "present",
    "qr_png",
    "qr_svg",
    "status_claim",
    "status_entry",
    "verify",
    "verify_credential",
    "verify_presentation",
]
