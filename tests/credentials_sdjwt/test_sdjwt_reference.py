"""The sd-jwt-python test cases, run through our code, and interop with that package."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from instants import utc
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier
from vector_files import VECTORS

from credentials.sd_jwt import ClaimPath, issue_sd_jwt, present, verify_sd_jwt
from did_methods.keys import PrivateKey

CASES_DIR = VECTORS / "sd-jwt-python-testcases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "specification.yml").exists())
SETTINGS = yaml.safe_load((CASES_DIR / "settings.yml").read_text())
ISSUER_JWK = SETTINGS["key_settings"]["issuer_keys"][0]
HOLDER_JWK = SETTINGS["key_settings"]["holder_key"]
ISSUER = SETTINGS["identifiers"]["issuer"]
VERIFIER = SETTINGS["identifiers"]["verifier"]
NONCE = SETTINGS["key_binding_nonce"]
IAT, EXP = SETTINGS["iat"], SETTINGS["exp"]
VCT = "https://example.com/credentials/test"
REGISTERED = ("iss", "iat", "exp", "vct", "cnf")


class SD:
    """A value or key tagged ``!sd`` in a specification file."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return hash(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SD) and other.value == self.value


class _Loader(yaml.SafeLoader):
    pass


def _construct_sd(loader: yaml.SafeLoader, node: yaml.Node) -> SD:
    if isinstance(node, yaml.ScalarNode):
        # A tag replaces YAML's implicit typing: resolve it as if untagged,
        # unless the scalar was quoted (then it is a string).
        if node.style in ("'", '"'):
            return SD(loader.construct_scalar(node))
        tag = loader.resolve(yaml.ScalarNode, node.value, (True, False))
        plain = yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark)
        return SD(loader.construct_object(plain, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return SD(loader.construct_sequence(node, deep=True))
    assert isinstance(node, yaml.MappingNode)
    return SD(loader.construct_mapping(node, deep=True))


_Loader.add_constructor("!sd", _construct_sd)


def load_case(name: str) -> dict[str, Any]:
    return yaml.load((CASES_DIR / name / "specification.yml").read_text(), Loader=_Loader)


def split_claims(node: Any, path: ClaimPath, paths: list[ClaimPath]) -> Any:
    """Untag ``!sd`` markers: plain claims, and the claim paths they marked."""
    if isinstance(node, SD):
        paths.append(path)
        return split_claims(node.value, path, paths)
    if isinstance(node, dict):
        out = {}
        for key, val in node.items():
            if isinstance(key, SD):
                key = key.value
                paths.append((*path, key))
            out[key] = split_claims(val, (*path, key), paths)
        return out
    if isinstance(node, list):
        return [split_claims(item, (*path, i), paths) for i, item in enumerate(node)]
    return node


def to_sdobj(node: Any) -> Any:
    """The same tagged claims in the reference implementation's own markers."""
    if isinstance(node, SD):
        return SDObj(to_sdobj(node.value))
    if isinstance(node, dict):
        return {(SDObj(k.value) if isinstance(k, SD) else k): to_sdobj(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_sdobj(i) for i in node]
    return node


def disclosed_paths(node: Any, path: ClaimPath, out: list[ClaimPath]) -> list[ClaimPath]:
    """``holder_disclosed_claims`` (True/False/None trees) as claim paths."""
    if node is True:
        out.append(path)
    elif isinstance(node, dict):
        for key, val in node.items():
            disclosed_paths(val, (*path, key), out)
    elif isinstance(node, list):
        for i, val in enumerate(node):
            disclosed_paths(val, (*path, i), out)
    return out


def user_claims(document: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(document).items() if k not in REGISTERED}


@pytest.mark.parametrize("name", CASES)
def test_case_with_our_issuer_holder_and_verifier(name: str) -> None:
    case = load_case(name)
    paths: list[ClaimPath] = []
    claims = split_claims(case["user_claims"], (), paths)
    issuer_key = PrivateKey.from_jwk(ISSUER_JWK)
    holder_key = PrivateKey.from_jwk(HOLDER_JWK)
    bound = bool(case.get("key_binding"))
    issued = issue_sd_jwt(
        claims,
        issuer_key,
        issuer=ISSUER,
        vct=VCT,
        disclosable=paths,
        holder_key=holder_key.public_key if bound else None,
        iat=IAT,
        exp=EXP,
    )
    chosen = disclosed_paths(case["holder_disclosed_claims"], (), [])
    kb: dict[str, Any] = {"holder_key": holder_key, "nonce": NONCE, "audience": VERIFIER}
    shown = present(issued, chosen, now=utc(IAT + 5), **(kb if bound else {}))
    result = verify_sd_jwt(
        shown,
        issuer_key=issuer_key.public_key,
        now=utc(IAT + 10),
        **({"nonce": NONCE, "audience": VERIFIER} if bound else {}),
    )
    assert result.ok, result.explain()
    assert user_claims(result.document) == case["expect_verified_user_claims"]


def _reference_issue(
    case: dict[str, Any], *, holder: JWK | None, fmt: str, iat: int = IAT, exp: int = EXP
) -> str:
    headers = {"typ": "dc+sd-jwt", **case.get("extra_header_parameters", {})}
    claims = {"iss": ISSUER, "iat": iat, "exp": exp, "vct": VCT, **to_sdobj(case["user_claims"])}
    issuer = SDJWTIssuer(
        claims,
        JWK(**ISSUER_JWK),
        holder_key=holder,
        add_decoy_claims=True,
        extra_header_parameters=headers,
        serialization_format=fmt,
    )
    return str(issuer.sd_jwt_issuance)


@pytest.mark.parametrize("name", CASES)
def test_reference_issued_and_presented_verified_by_us(name: str) -> None:
    case = load_case(name)
    bound = bool(case.get("key_binding"))
    fmt = case.get("serialization_format", "compact")
    holder_jwk = JWK(**HOLDER_JWK)
    # the reference holder stamps its KB-JWT with the wall clock (int(time())), so the
    # credential is issued now, valid for the settings' 1000 days, not until the fixed
    # 2029-09-01 of settings.yml (which would fail every run after that day)
    issued_at = int(time.time())
    issued = _reference_issue(
        case,
        holder=holder_jwk if bound else None,
        fmt=fmt,
        iat=issued_at,
        exp=issued_at + SETTINGS["expiry_seconds"],
    )
    holder = SDJWTHolder(issued, serialization_format=fmt)
    if bound:
        holder.create_presentation(
            case["holder_disclosed_claims"], NONCE, VERIFIER, holder_jwk, "ES256"
        )
    else:
        holder.create_presentation(case["holder_disclosed_claims"])
    issuer_key = PrivateKey.from_jwk(ISSUER_JWK).public_key
    now = datetime.now(UTC)  # after the KB-JWT's iat
    # sd-jwt 0.10 takes a JSON-serialised KB-JWT's sd_hash over the JSON text, where
    # RFC 9901 section 8.1 takes it over the rebuilt compact form (which we follow),
    # so key binding interoperates in the compact serialisation only.
    check_kb = bound and fmt == "compact"
    result = verify_sd_jwt(
        holder.sd_jwt_presentation,
        issuer_key=issuer_key,
        now=now,
        **({"nonce": NONCE, "audience": VERIFIER} if check_kb else {}),
    )
    assert result.ok, result.explain()
    assert user_claims(result.document) == case["expect_verified_user_claims"]
    if check_kb:
        # the same presentation for another verifier is refused
        other = verify_sd_jwt(
            holder.sd_jwt_presentation, issuer_key=issuer_key, now=now, nonce=NONCE, audience="x"
        )
        assert other.codes == ("kb_audience_mismatch",)


@pytest.mark.parametrize("name", [c for c in CASES if not c.startswith("json_serialization")])
def test_ours_verified_by_the_reference(name: str) -> None:
    case = load_case(name)
    paths: list[ClaimPath] = []
    claims = split_claims(case["user_claims"], (), paths)
    issuer_key = PrivateKey.from_jwk(ISSUER_JWK)
    holder_key = PrivateKey.from_jwk(HOLDER_JWK)
    issued = issue_sd_jwt(
        claims,
        issuer_key,
        issuer=ISSUER,
        vct=VCT,
        disclosable=paths,
        holder_key=holder_key.public_key,
        iat=IAT,
        exp=EXP,
    )
    chosen = disclosed_paths(case["holder_disclosed_claims"], (), [])
    shown = present(issued, chosen, holder_key=holder_key, nonce=NONCE, audience=VERIFIER)
    issuer_jwk = JWK(**{k: v for k, v in ISSUER_JWK.items() if k != "d"})
    verifier = SDJWTVerifier(
        shown, lambda iss, header: issuer_jwk, expected_aud=VERIFIER, expected_nonce=NONCE
    )
    assert user_claims(verifier.get_verified_payload()) == case["expect_verified_user_claims"]
