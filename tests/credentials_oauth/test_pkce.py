"""PKCE S256 (RFC 7636): the RFC's Appendix B example byte for byte, and every refusal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials.oauth import code_challenge, make_code_verifier, verify_code_challenge
from did_methods.errors import ParseError, UnsupportedError, VerificationError

# RFC 7636 Appendix B: the octets, the code_verifier and the code_challenge.
APPENDIX_B_OCTETS = bytes(
    [116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
     22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]
)  # fmt: skip
APPENDIX_B_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
APPENDIX_B_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_rfc7636_appendix_b() -> None:
    verifier = make_code_verifier(randbytes=lambda n: APPENDIX_B_OCTETS[:n])
    assert verifier == APPENDIX_B_VERIFIER
    assert code_challenge(verifier) == APPENDIX_B_CHALLENGE
    verify_code_challenge(APPENDIX_B_VERIFIER, APPENDIX_B_CHALLENGE)


def test_fresh_verifiers_are_43_characters_and_differ() -> None:
    a, b = make_code_verifier(), make_code_verifier()
    assert len(a) == len(b) == 43 and a != b
    verify_code_challenge(a, code_challenge(a))
    with pytest.raises(VerificationError) as caught:
        verify_code_challenge(b, code_challenge(a))
    assert caught.value.code == "pkce_mismatch"


@pytest.mark.parametrize(
    "verifier",
    ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + " ", "ä" * 43, "a" * 42 + "/"],
)
def test_malformed_verifiers(verifier: str) -> None:
    with pytest.raises(ParseError):
        code_challenge(verifier)
    with pytest.raises(VerificationError) as caught:
        verify_code_challenge(verifier, APPENDIX_B_CHALLENGE)
    assert caught.value.code == "pkce_mismatch"


def test_longest_verifier_with_every_unreserved_character() -> None:
    verifier = ("AZaz09-._~" * 13)[:128]
    verify_code_challenge(verifier, code_challenge(verifier))


@pytest.mark.parametrize("challenge", ["", APPENDIX_B_CHALLENGE + "A", APPENDIX_B_CHALLENGE[:-1]])
def test_malformed_stored_challenge(challenge: str) -> None:
    with pytest.raises(VerificationError):
        verify_code_challenge(APPENDIX_B_VERIFIER, challenge)


@pytest.mark.parametrize("method", ["plain", "s256", "S512", ""])
def test_only_s256(method: str) -> None:
    with pytest.raises(UnsupportedError) as caught:
        code_challenge(APPENDIX_B_VERIFIER, method)
    assert caught.value.code == "pkce_method_unsupported"
    with pytest.raises(UnsupportedError):
        verify_code_challenge(APPENDIX_B_VERIFIER, APPENDIX_B_VERIFIER, method)


@given(st.text(max_size=200), st.text(max_size=60))
def test_garbage_never_passes_nor_crashes(verifier: str, challenge: str) -> None:
    try:
        verify_code_challenge(verifier, challenge)
    except VerificationError:
        return
    assert code_challenge(verifier) == challenge  # it passed: it must be the real pair
