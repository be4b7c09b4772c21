"""SD-JWT VC against the SD-JWT reference implementation (``sd-jwt``), same ES256 keys both sides.

Rows: ``sdjwt_issue`` (the residence permit's subject with 10 selectively
disclosable claims, holder key in ``cnf``, no decoys on either side so both
produce the same number of digests) and ``sdjwt_verify`` (a 3-of-10
presentation with a Key Binding JWT, nonce and audience checked). Both
verifiers check the very same presentation string.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from benchmarks._fixtures import key, residence_permit
from benchmarks._runner import Benchmark, Pair, Settings, Side, loop
from credentials.schemas import vct
from credentials.sd_jwt import issue_sd_jwt, present, verify_sd_jwt
from did_methods.keys import KeyType

__all__ = ["BENCHMARKS", "DISCLOSABLE", "PRESENTED"]

ISSUER = "https://migracija.example.lt"
NONCE = "n-0S6_WzA2Mj"
AUDIENCE = "https://employer.example.lt/verifier"
#: The ten selectively disclosable claims.
DISCLOSABLE = (
    "documentNumber",
    "issueDate",
    "expiryDate",
    "permitCategory",
    "accessToLabourMarket",
    "familyName",
    "givenName",
    "birthDate",
    "birthPlace",
    "nationality",
)
#: The three a right-to-work check asks for.
PRESENTED = ("familyName", "givenName", "accessToLabourMarket")


def _claims() -> dict[str, Any]:
    subject = residence_permit(ISSUER)["credentialSubject"]
    return {k: v for k, v in subject.items() if k != "id"}


def _keys() -> tuple[Any, Any]:
    return key("sdjwt-issuer", KeyType.P256), key("sdjwt-holder", KeyType.P256)


def _ours_issue(claims: dict[str, Any], issuer: Any, holder: Any, iat: int) -> str:
    return issue_sd_jwt(
        claims,
        issuer,
        issuer=ISSUER,
        vct=vct("ResidencePermit"),
        disclosable=DISCLOSABLE,
        holder_key=holder.public_key,
        iat=iat,
        exp=iat + 3 * 365 * 86400,
        decoys=0,
    )


def _setup_issue(settings: Settings) -> Pair:
    from jwcrypto.jwk import JWK
    from sd_jwt.common import SDObj
    from sd_jwt.issuer import SDJWTIssuer

    issuer, holder = _keys()
    claims = _claims()
    iat = int(time.time())
    issuer_jwk = JWK(**issuer.private_jwk())
    holder_jwk = JWK(**holder.public_key.to_jwk())
    registered = {"iss": ISSUER, "iat": iat, "exp": iat + 3 * 365 * 86400}
    ref_claims = {
        **registered,
        "vct": vct("ResidencePermit"),
        **{(SDObj(k) if k in DISCLOSABLE else k): v for k, v in claims.items()},
    }

    def reference() -> str:
        made = SDJWTIssuer(
            ref_claims,
            issuer_jwk,
            holder_key=holder_jwk,
            add_decoy_claims=False,
            extra_header_parameters={"typ": "dc+sd-jwt"},
        )
        return str(made.sd_jwt_issuance)

    ours_out, ref_out = _ours_issue(claims, issuer, holder, iat), reference()
    if ours_out.count("~") != ref_out.count("~"):
        raise AssertionError("the two issuers made different numbers of disclosures")
    return Pair(
        Side("ours", loop(lambda: _ours_issue(claims, issuer, holder, iat))),
        Side("`sd-jwt` reference `SDJWTIssuer`", loop(reference)),
        notes=(f"an issued SD-JWT of {len(ours_out)} characters (ours), {len(ref_out)} (ref.)",),
    )


def _setup_verify(settings: Settings) -> Pair:
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    issuer, holder = _keys()
    iat = int(time.time())
    issued = _ours_issue(_claims(), issuer, holder, iat)
    shown = present(
        issued,
        PRESENTED,
        holder_key=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        now=datetime.fromtimestamp(iat, UTC),
    )
    issuer_public = issuer.public_key
    issuer_jwk = JWK(**issuer_public.to_jwk())
    checked_at = datetime.fromtimestamp(iat + 1, UTC)

    def ours() -> dict[str, Any]:
        result = verify_sd_jwt(
            shown,
            issuer_key=issuer_public,
            nonce=NONCE,
            audience=AUDIENCE,
            now=checked_at,
        )
        return dict(result.document or {})

    def reference() -> dict[str, Any]:
        verifier = SDJWTVerifier(
            shown, lambda iss, header: issuer_jwk, expected_aud=AUDIENCE, expected_nonce=NONCE
        )
        got: dict[str, Any] = verifier.get_verified_payload()
        return got

    first = verify_sd_jwt(
        shown,
        issuer_key=issuer_public,
        nonce=NONCE,
        audience=AUDIENCE,
        now=checked_at,
    )
    if not first.ok:
        raise AssertionError(f"benchmark presentation does not verify: {first.explain()}")
    ours_claims, ref_claims = ours(), reference()
    if any(ours_claims.get(k) != ref_claims.get(k) for k in PRESENTED):
        raise AssertionError("the two verifiers disclosed different claims")
    return Pair(
        Side("ours", loop(ours)),
        Side("`sd-jwt` reference `SDJWTVerifier`", loop(reference)),
        notes=(f"a presentation of {len(shown)} characters",),
    )


BENCHMARKS = (
    Benchmark("sdjwt_verify", "3-of-10 presentation with KB, ES256 both", 2.5, _setup_verify),
    Benchmark("sdjwt_issue", "10 selectively disclosable claims, ES256", 3.0, _setup_issue),
)
