"""Verifiable credentials: W3C VC Data Model 2.0, RFC 8785 canonical JSON, Data Integrity
proofs (``eddsa-jcs-2022``, ``ecdsa-jcs-2019``), VC-JOSE, SD-JWT VC, Bitstring Status
List, and the immigration vocabulary's JSON Schemas.

Start with :func:`verify` (any format in, a :class:`VerificationResult` out) and
:func:`issue`. The modules hold the sharper tools: :mod:`credentials.jcs`,
:mod:`credentials.model`, :mod:`credentials.data_integrity`, :mod:`credentials.jose`,
:mod:`credentials.sd_jwt`, :mod:`credentials.status_list`, :mod:`credentials.schemas`.
"""

from __future__ import annotations

from credentials.data_integrity import (
    DataIntegrityProof,
    VerifiedProof,
    add_proof,
    verify_proof,
)
from credentials.errors import (
    CanonicalizationError,
    DuplicateKeyError,
    InputTooLargeError,
    JSONError,
    ValidationError,
)
from credentials.jcs import canonicalize, loads_strict
from credentials.jose import (
    VC_JWT_MEDIA_TYPE,
    VCJoseError,
    envelope_vc_jwt,
    issue_vc_jwt,
    issue_vp_jwt,
    verify_jwt,
    verify_vc_jwt,
    verify_vp_jwt,
)
from credentials.model import (
    CREDENTIALS_V2_CONTEXT,
    Credential,
    Presentation,
    check_validity_period,
    parse_datetime,
)
from credentials.result import Check, CheckStatus, VerificationResult
from credentials.schemas import (
    CONTEXT_URL,
    CREDENTIAL_TYPES,
    LANGUAGES,
    SchemaValidationError,
    UnknownCredentialTypeError,
    check_schema,
    claim_label,
    claim_names,
    context_document,
    credential_schema,
    display_name,
    example_credential,
    example_subject,
    schema_for,
    schema_id,
    sd_jwt_disclosure_policy,
    type_for_schema_id,
    type_for_vct,
    validate_credential,
    vct,
)
from credentials.sd_jwt import (
    ClaimPathError,
    Disclosure,
    SdJwt,
    SdJwtError,
    issue_sd_jwt,
    present,
    verify_sd_jwt,
)
from credentials.status_list import (
    StatusCheckError,
    StatusList,
    StatusListError,
    StatusListResolver,
    check_status,
    make_status_list_credential,
    status_entry,
)
from credentials.verify import IssueFormat, issue, verify

__all__ = [
    "CONTEXT_URL",
    "CREDENTIALS_V2_CONTEXT",
    "CREDENTIAL_TYPES",
    "LANGUAGES",
    "VC_JWT_MEDIA_TYPE",
    "CanonicalizationError",
    "Check",
    "CheckStatus",
    "ClaimPathError",
    "Credential",
    "DataIntegrityProof",
    "Disclosure",
    "DuplicateKeyError",
    "InputTooLargeError",
    "IssueFormat",
    "JSONError",
    "Presentation",
    "SchemaValidationError",
    "SdJwt",
    "SdJwtError",
    "StatusCheckError",
    "StatusList",
    "StatusListError",
    "StatusListResolver",
    "UnknownCredentialTypeError",
    "VCJoseError",
    "ValidationError",
    "VerificationResult",
    "VerifiedProof",
    "add_proof",
    "canonicalize",
    "check_schema",
    "check_status",
    "check_validity_period",
    "claim_label",
    "claim_names",
    "context_document",
    "credential_schema",
    "display_name",
    "envelope_vc_jwt",
    "example_credential",
    "example_subject",
    "issue",
    "issue_sd_jwt",
    "issue_vc_jwt",
    "issue_vp_jwt",
    "loads_strict",
    "make_status_list_credential",
    "parse_datetime",
    "present",
    "schema_for",
    "schema_id",
    "sd_jwt_disclosure_policy",
    "status_entry",
    "type_for_schema_id",
    "type_for_vct",
    "validate_credential",
    "vct",
    "verify",
    "verify_jwt",
    "verify_proof",
    "verify_sd_jwt",
    "verify_vc_jwt",
    "verify_vp_jwt",
]
