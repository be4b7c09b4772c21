"""Property tests: any subset of disclosures reveals exactly that subset; junk never crashes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from instants import utc

from credentials.sd_jwt import ClaimPath, SdJwt, issue_sd_jwt, present, verify_sd_jwt
from did_methods.errors import SSIWalletError
from did_methods.keys import KeyType, PrivateKey

NOW_S = 1_800_000_000  # a NumericDate (seconds), as in the tokens
NOW = utc(NOW_S)
ISSUER = PrivateKey.generate(KeyType.ED25519)
HOLDER = PrivateKey.generate(KeyType.P256)

names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8)
_RESERVED = {"_sd", "...", "_sd_alg", "iss", "iat", "nbf", "exp", "vct", "cnf", "status"}
names = names.filter(lambda n: n not in _RESERVED)
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)
claim_sets = st.dictionaries(names, values, min_size=1, max_size=5)


def all_paths(node: Any, path: ClaimPath = ()) -> list[ClaimPath]:
    out: list[ClaimPath] = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += all_paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += all_paths(v, (*path, i))
    return out


def reference_view(node: Any, sd: set[ClaimPath], shown: set[ClaimPath], path: ClaimPath) -> Any:
    """What a verifier must see: a literal, recursive statement of the rules.

    A disclosable claim is visible when its own disclosure was presented;
    the holder presents the disclosure of a path when it lies on or below a
    chosen path, or above one.
    """
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            sub = (*path, k)
            if sub in sd and sub not in shown:
                continue
            out[k] = reference_view(v, sd, shown, sub)
        return out
    if isinstance(node, list):
        items = []
        for i, v in enumerate(node):
            sub = (*path, i)
            if sub in sd and sub not in shown:
                continue
            items.append(reference_view(v, sd, shown, sub))
        return items
    return node


def closure(chosen: list[ClaimPath], sd: set[ClaimPath]) -> set[ClaimPath]:
    out = set()
    for p in sd:
        for c in chosen:
            m = min(len(p), len(c))
            if p[:m] == c[:m]:
                out.add(p)
    return out


@settings(max_examples=120)
@given(data=st.data(), claims=claim_sets)
def test_any_subset_reveals_exactly_that_subset(
    data: st.DataObject, claims: dict[str, Any]
) -> None:
    paths = all_paths(claims)
    sd = set(data.draw(st.lists(st.sampled_from(paths), unique=True)))
    chosen = data.draw(st.lists(st.sampled_from(paths), unique=True, max_size=4))
    issued = issue_sd_jwt(
        claims,
        ISSUER,
        issuer="https://issuer.example",
        vct="urn:test",
        disclosable=sd,
        holder_key=HOLDER.public_key,
        iat=NOW_S,
        decoys=data.draw(st.integers(0, 3)),
    )
    shown = present(issued, chosen, holder_key=HOLDER, nonce="n", audience="a", now=NOW)
    result = verify_sd_jwt(shown, issuer_key=ISSUER.public_key, now=NOW, nonce="n", audience="a")
    assert result.ok, result.explain()
    registered = ("iss", "iat", "vct", "cnf")
    doc = {k: v for k, v in (result.document or {}).items() if k not in registered}
    expected = reference_view(claims, sd, closure(chosen, sd), ())
    assert doc == expected
    # the presentation carries exactly the disclosures it needs, no more
    assert len(SdJwt.parse(shown).disclosures) == len(closure(chosen, sd))


@settings(max_examples=200)
@given(st.text(max_size=300) | st.text(alphabet="eyJ0.~_-abcAB12", max_size=300))
def test_arbitrary_text_raises_only_our_errors(text: str) -> None:
    for call in (SdJwt.parse, lambda t: verify_sd_jwt(t, issuer_key=ISSUER.public_key)):
        try:
            call(text)
        except SSIWalletError:
            pass


_SAMPLE = issue_sd_jwt(
    {"a": {"b": [1, 2]}, "c": "d"},
    ISSUER,
    issuer="https://issuer.example",
    vct="urn:test",
    disclosable=[("a",), ("a", "b", 1), ("c",)],
    holder_key=HOLDER.public_key,
    iat=NOW_S,
)
_SHOWN = present(_SAMPLE, [("a",), ("c",)], holder_key=HOLDER, nonce="n", audience="a", now=NOW)


@settings(max_examples=200)
@given(st.integers(0, len(_SHOWN) - 1), st.sampled_from("AQgw_-~.xZ09"))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    if _SHOWN[position] == replacement:
        return
    text = _SHOWN[:position] + replacement + _SHOWN[position + 1 :]
    try:
        result = verify_sd_jwt(text, issuer_key=ISSUER.public_key, now=NOW, nonce="n", audience="a")
    except SSIWalletError:
        return
    assert not result.ok


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=150)
@given(claims=json_like, paths=st.lists(st.lists(st.text(max_size=3) | st.integers(0, 3))))
def test_issue_with_arbitrary_input_raises_only_our_errors(claims: Any, paths: Any) -> None:
    try:
        issued = issue_sd_jwt(
            claims, ISSUER, issuer="https://i.example", vct="urn:t", disclosable=paths, iat=NOW_S
        )
    except SSIWalletError:
        return
    result = verify_sd_jwt(issued, issuer_key=ISSUER.public_key, now=NOW)
    assert result.ok, result.explain()


@settings(max_examples=150)
@given(st.text(max_size=200), st.lists(st.lists(st.text(max_size=3) | st.integers(0, 3))))
def test_present_with_arbitrary_input_raises_only_our_errors(text: str, paths: Any) -> None:
    for candidate in (text, _SAMPLE[: len(text)] + text):
        try:
            present(candidate, paths)
        except SSIWalletError:
            pass
