"""Verifiable credentials: W3C VC Data Model 2.0, RFC 8785 canonical JSON, Data Integrity
proofs (``eddsa-jcs-2022``, ``ecdsa-jcs-2019``), SD-JWT VC and Bitstring Status List.

Start with :func:`verify` (any format in, a :class:`VerificationResult` out) and
:func:`issue`. The modules hold the sharper tools: :mod:`credentials.jcs`,
:mod:`credentials.model`, :mod:`credentials.data_integrity`,
:mod:`credentials.sd_jwt`, :mod:`credentials.status_list`.
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
from credentials.model import (
    CREDENTIALS_V2_CONTEXT,
    Credential,
    Presentation,
    check_validity_period,
    parse_datetime,
)
from credentials.result import Check, CheckStatus, VerificationResult
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
    "CREDENTIALS_V2_CONTEXT",
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
    "SdJwt",
    "SdJwtError",
    "StatusCheckError",
    "StatusList",
    "StatusListError",
    "StatusListResolver",
    "ValidationError",
    "VerificationResult",
    "VerifiedProof",
    "add_proof",
    "canonicalize",
    "check_status",
    "check_validity_period",
    "issue",
    "issue_sd_jwt",
    "loads_strict",
    "make_status_list_credential",
    "parse_datetime",
    "present",
    "status_entry",
    "verify",
    "verify_proof",
    "verify_sd_jwt",
]
