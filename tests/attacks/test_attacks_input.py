"""Attacks through input: hostile JSON, text, files, numbers and secrets (issue 10, items 7 and 11).

Each test names one attack and asserts the exact refusal: the error class and
its stable ``code``. The library's one JSON reader is
:func:`did_methods._wire.json.loads`; every package reads through it.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from instants import from_now_iso

from credentials._jws import CompactJWS, b64d, b64e, sign_compact
from credentials.jose import VCJoseError, issue_vc_jwt, verify_vc_jwt
from credentials.sd_jwt import SdJwtError, issue_sd_jwt
from did_methods import DID, PrivateKey, did_key_from_public_key
from did_methods._wire.dates import MAX_NUMERIC_DATE, is_numeric_date
from did_methods._wire.files import write_private
from did_methods._wire.json import MAX_SAFE_INT, loads, loads_object
from did_methods._wire.text import (
    UNSAFE_CHARACTERS,
    safe_json,
    safe_lines,
    safe_text,
)
from did_methods.errors import (
    DuplicateKeyError,
    InputTooLargeError,
    InvalidKey,
    JSONError,
    OutputFileError,
    ParseError,
    PolicyError,
    ResolutionError,
    SecretCopyError,
    SSIWalletError,
)
from did_methods.keyfile import read_key_file, write_key_file
from did_methods.resolver import Resolver
from ledger.vault import MasterKey
from ledger.vault._canonical import parse_json
from ledger.vault.errors import MasterKeyError, RecordError
from ssi_wallet.cli import cli
from ssi_wallet.request import PresentationRequest

# -- the strict JSON reader --------------------------------------------------------


#: A barcode expiry ahead of the wall clock (the CLI refuses one in the past).
FUTURE_EXP = from_now_iso(days=365)


@pytest.mark.parametrize(
    ("text", "error", "code"),
    [
        ('{"exp": 1e400}', JSONError, "json_number"),
        ('{"exp": -1e400}', JSONError, "json_number"),
        ("[1.8e308]", JSONError, "json_number"),
        ("[NaN]", JSONError, "json_number"),
        ("[Infinity]", JSONError, "json_number"),
        ("[-Infinity]", JSONError, "json_number"),
        ("[" + "9" * 400 + "]", JSONError, "json_number"),
        ("[" + "9" * 100_000 + "]", JSONError, "json_number"),
        ('{"a": 1, "a": 2}', DuplicateKeyError, "json_duplicate_key"),
        ('{"a": {"b": 1, "b": 1}}', DuplicateKeyError, "json_duplicate_key"),
        ('["\\ud800"]', JSONError, "json_lone_surrogate"),
        ('{"\\udfff": 1}', JSONError, "json_lone_surrogate"),
        ('["\\ud83d\\ud83d"]', JSONError, "json_lone_surrogate"),
        ('["\ud800"]', JSONError, "json_lone_surrogate"),
        (b'["\xed\xa0\x80"]', JSONError, "json_encoding"),
        (b'["\xff"]', JSONError, "json_encoding"),
        (b"\xef\xbb\xbf{}", JSONError, "json_encoding"),
        ("\ufeff{}", JSONError, "json_encoding"),
        ("[" * 65 + "]" * 65, InputTooLargeError, "json_too_deep"),
        ('{"a":' * 65 + "1" + "}" * 65, InputTooLargeError, "json_too_deep"),
        ("[" * 100_000 + "]" * 100_000, InputTooLargeError, "json_too_deep"),
        ("[" * 1_000_000, InputTooLargeError, "json_too_deep"),
        ("", JSONError, "json_syntax"),
        ("   ", JSONError, "json_syntax"),
        ("[1,]", JSONError, "json_syntax"),
        ("{'a': 1}", JSONError, "json_syntax"),
        ("[1] x", JSONError, "json_syntax"),
        ("1 2", JSONError, "json_syntax"),
        ('["a\x00b"]', JSONError, "json_syntax"),
        ('["\x1b[2J"]', JSONError, "json_syntax"),
    ],
)
def test_strict_reader_refuses(text: str | bytes, error: type[JSONError], code: str) -> None:
    with pytest.raises(error) as caught:
        loads(text)
    assert type(caught.value) is error
    assert caught.value.code == code
    assert isinstance(caught.value, ParseError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("data", [5, None, 1.5, memoryview(b"{}"), ["{}"], {"a": 1}])
def test_strict_reader_refuses_what_is_neither_text_nor_bytes(data: Any) -> None:
    with pytest.raises(JSONError) as caught:
        loads(data)
    assert caught.value.code == "json_type"


def test_strict_reader_bounds_size_before_decoding() -> None:
    with pytest.raises(InputTooLargeError) as caught:
        loads(b"[" + b"1," * 100 + b"1]", max_bytes=64)
    assert caught.value.code == "json_too_large"
    # the bound is in UTF-8 bytes, also for text: 3 characters, 6 bytes
    with pytest.raises(InputTooLargeError):
        loads('"éé"', max_bytes=5)
    assert loads('"éé"', max_bytes=6) == "éé"


def test_strict_reader_depth_is_exact_and_brackets_in_strings_do_not_count() -> None:
    assert loads("[" * 64 + "]" * 64) is not None
    # 300 brackets inside a string at depth 1 are text, not nesting
    assert loads('["' + "[" * 300 + '"]') == ["[" * 300]
    # closing brackets inside strings cannot hide real nesting either
    hidden = '["' + "]" * 100 + '",' + "[" * 70 + "]" * 70 + "]"
    with pytest.raises(InputTooLargeError) as caught:
        loads(hidden)
    assert caught.value.code == "json_too_deep"
    assert loads("[[1]]", max_depth=2) == [[1]]
    with pytest.raises(InputTooLargeError):
        loads("[[[1]]]", max_depth=2)


def test_strict_reader_reads_big_integers_as_ijson_doubles() -> None:
    assert loads(f"[{MAX_SAFE_INT}, {-MAX_SAFE_INT}]") == [MAX_SAFE_INT, -MAX_SAFE_INT]
    big = loads("[9007199254740993, 295147905179352830000]")
    assert big == [9007199254740992.0, 2.0**68]
    assert all(isinstance(v, float) for v in big)
    assert loads("[1e-400]") == [0.0]  # underflow is a finite double
    assert loads('{"a": [true, null, "\\ud83d\\ude00", 1.5]}') == {
        "a": [True, None, "\U0001f600", 1.5]
    }


def test_loads_object_requires_an_object() -> None:
    assert loads_object(b'{"a": 1}') == {"a": 1}
    for text in ("[1]", '"x"', "1", "null"):
        with pytest.raises(JSONError) as caught:
            loads_object(text)
        assert caught.value.code == "json_type"


def test_error_classes_are_shared_by_every_package() -> None:
    import credentials.errors as cred_errors

    assert cred_errors.JSONError is JSONError
    assert cred_errors.DuplicateKeyError is DuplicateKeyError
    assert cred_errors.InputTooLargeError is InputTooLargeError


# -- helpers -------------------------------------------------------------------------

_SPOOFS = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",
    "\u2068",
    "\u2069",  # POP DIRECTIONAL ISOLATE
    "\u200e",  # LRM
    "\u200f",  # RLM
    "\u061c",  # ARABIC LETTER MARK
    "\u200b",  # ZERO WIDTH SPACE
    "\u2028",  # LINE SEPARATOR
    "\u2029",
    "\ufeff",
    "\x1b",  # ESC: terminal control sequences
    "\x07",
    "\x08",  # backspace: overwrite what was shown
    "\r",  # carriage return: overwrite the line
    "\n",
    "\x7f",
    "\x9b",  # C1 CSI
    "\ud800",  # a lone surrogate cannot even be printed
]


def _assert_terminal_safe(text: str) -> None:
    for line in text.split("\n"):
        assert UNSAFE_CHARACTERS.search(line) is None, repr(line)
    text.encode("utf-8")


def _cli(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True)


def _no_traceback(result: Result, code: int) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception),
        result.output,
    )
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output


# -- item 7: consent prompts and terminal output --------------------------------------


@pytest.mark.parametrize("char", _SPOOFS)
def test_safe_text_escapes_every_spoofing_character(char: str) -> None:
    shown = safe_text(f"clinic{char}.example")
    assert char not in shown
    assert shown.startswith("clinic\\") and shown.endswith(".example")
    _assert_terminal_safe(shown)


def test_safe_text_keeps_joiners_scripts_and_emoji() -> None:
    for text in ("بین\u200cالمللی", "क्\u200dष", "👩\u200d⚕️", "Ausländerbehörde", "Вильнюс"):
        assert safe_text(text) == text


def test_safe_text_bounds_length_and_never_raises() -> None:
    assert safe_text("x" * 1000, max_chars=10) == "x" * 9 + "…"
    assert safe_text("\x1b" * 1000, max_chars=10).endswith("…")
    assert len(safe_text("\x1b" * 1000, max_chars=10)) == 10
    assert safe_text(12) == "12"
    assert safe_lines("a\u202eb\nc\x1bd") == "a\\u202eb\nc\\x1bd"


def test_safe_json_escapes_yet_parses_to_the_same_value() -> None:
    value = {"client_id": "did:web:evil\u202e.example", "purpose": "a\x1b[2Jb\x9b", "n": [1, 2]}
    text = safe_json(value)
    _assert_terminal_safe(text)
    assert json.loads(text) == value


def _consent_world() -> tuple[Any, Any, Any]:
    from ledger.facade import Ledger
    from ssi_wallet import Holder, Issuer, Verifier, policies

    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    ministry = Issuer.create(ledger, name="Ausländerbehörde Leipzig")
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    wallet = Holder.create(":memory:", passphrase="pw", resolver=ledger.resolver())
    from credentials import schemas

    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    today = datetime.now(UTC).date()
    claims["issueDate"] = (today - timedelta(days=30)).isoformat()
    claims["expiryDate"] = (today + timedelta(days=365)).isoformat()
    wallet.store(ministry.issue("WorkPermit", subject=wallet.did, claims=claims).credential)
    verifier = Verifier(ledger, audience="did:web:clinic.example", status_fetcher=ministry.board)
    request = verifier.request(policies.right_to_work())
    return wallet, request, ledger


def _asked(wallet: Any, request: Any) -> Any:
    """The consent question the wallet asks (declined: nothing is disclosed)."""
    asked: list[Any] = []
    with pytest.raises(PolicyError, match="consent_refused"):
        wallet.answer(request, consent=lambda a: asked.append(a) is not None)
    return asked[0]


def test_consent_prompt_escapes_bidi_and_controls_in_client_id_and_purpose() -> None:
    wallet, request, _ = _consent_world()
    data = request.to_json()
    data["client_id"] = "did:web:\u202eelpmaxe.cinilc\u202c"
    data["purpose"] = "Check your right to work\x1b[2J\x1b[1A\rto pay you\u2066 (nothing else)"
    hostile = PresentationRequest.from_json(json.dumps(data))
    shown = _asked(wallet, hostile).describe()
    _assert_terminal_safe(shown)
    assert "\\u202eelpmaxe.cinilc\\u202c asks:" in shown
    assert "\\x1b[2J\\x1b[1A\\rto pay you\\u2066" in shown


def test_consent_prompt_escapes_claim_names() -> None:
    from ssi_wallet.holder import ConsentRequest

    wallet, request, _ = _consent_world()
    real = _asked(wallet, request)
    (cred_id,) = real.disclosures
    forged = ConsentRequest(
        verifier="v",
        purpose="p",
        disclosures={cred_id: (("credentialSubject", "sector\u202e\nfamilyName"),)},
        whole=(),
        credentials=real.credentials,
        always_shown={cred_id: ("x\u2067y",)},
    )
    shown = forged.describe()
    _assert_terminal_safe(shown)
    assert "sector\\u202e\\nfamilyName" in shown and "x\\u2067y" in shown


def test_cli_error_messages_are_escaped() -> None:
    result = _cli("did", "resolve", "did:\u202eevil\x1b[2J")
    _no_traceback(result, 2)
    _assert_terminal_safe(result.output)


# -- item 11: lone surrogates, numbers, --out, secrets, deep nesting -------------------


def _signed(header: dict[str, Any], payload_text: str, key: PrivateKey) -> str:
    token = sign_compact(header, payload_text.encode("utf-8", "surrogatepass"), key)
    return token


def test_jws_reader_refuses_an_escaped_lone_surrogate_in_the_payload() -> None:
    key = PrivateKey.generate()
    token = _signed({"typ": "vc+jwt"}, '{"iss": "did:x:\\ud800"}', key)
    with pytest.raises(JSONError) as caught:
        CompactJWS.parse(token)
    assert caught.value.code == "json_lone_surrogate"


def test_jws_reader_refuses_an_encoded_lone_surrogate_in_the_header() -> None:
    key = PrivateKey.generate()
    token = sign_compact({"typ": "x"}, b"{}", key)
    header = b64d(token.split(".")[0]).replace(b'"x"', b'"\xed\xa0\x80"')
    forged = ".".join([b64e(header), *token.split(".")[1:]])
    with pytest.raises(JSONError) as caught:
        CompactJWS.parse(forged)
    assert caught.value.code == "json_encoding"


def _vc_jwt_parts() -> tuple[PrivateKey, str, dict[str, Any], dict[str, Any]]:
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    kid = f"{did}#{key.public_key.to_multikey()}"
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": "did:example:holder", "ok": True},
    }
    token = issue_vc_jwt(credential, key, kid=kid)
    header = json.loads(b64d(token.split(".")[0]))
    payload = json.loads(b64d(token.split(".")[1]))
    return key, kid, header, payload


def test_vc_jwt_exp_1e400_is_refused_not_read_as_never_expiring() -> None:
    key, _, header, payload = _vc_jwt_parts()
    text = json.dumps(payload)[:-1] + ', "exp": 1e400}'
    token = _signed(header, text, key)
    with pytest.raises(VCJoseError) as caught:
        verify_vc_jwt(token, Resolver.default())
    assert isinstance(caught.value.__cause__, JSONError)
    assert caught.value.__cause__.code == "json_number"


@pytest.mark.parametrize("exp", [1e300, True, False, -1, "2030-01-01", [1], MAX_NUMERIC_DATE + 1])
def test_vc_jwt_exp_that_is_no_date_fails_claims_invalid(exp: Any) -> None:
    key, _, header, payload = _vc_jwt_parts()
    payload["exp"] = exp
    token = _signed(header, json.dumps(payload), key)
    result = verify_vc_jwt(token, Resolver.default())
    assert not result.ok
    failed = [c for c in result.checks if c.status == "failed"]
    assert [(c.name, c.code) for c in failed] == [("validity_period", "claims_invalid")]


@pytest.mark.parametrize("exp", [float("inf"), float("nan"), 1e300, True, -5])
def test_sd_jwt_refuses_to_issue_a_date_that_is_no_date(exp: Any) -> None:
    key = PrivateKey.generate()
    with pytest.raises(SdJwtError):
        issue_sd_jwt({"given_name": "A"}, key, issuer="did:example:i", vct="X", exp=exp)


def test_numeric_date_rule() -> None:
    for good in (0, 1, 1_700_000_000, 1.5, MAX_NUMERIC_DATE):
        assert is_numeric_date(good)
    for bad in (True, False, None, "1", -1, float("inf"), float("nan"), 1e300, 2**80, [1]):
        assert not is_numeric_date(bad)


@pytest.mark.parametrize("field", ["iat", "exp"])
@pytest.mark.parametrize("value", [True, False, 1.5, "1", 1e300, -1])
def test_presentation_request_dates_must_be_integer_numeric_dates(field: str, value: Any) -> None:
    _, request, _ = _consent_world()
    data = request.to_json()
    data[field] = value
    with pytest.raises(ParseError):
        PresentationRequest.from_json(json.dumps(data))


def test_out_refuses_an_existing_file_and_keeps_it(tmp_path: Path) -> None:
    target = tmp_path / "important.txt"
    target.write_text("keep me")
    with pytest.raises(OutputFileError) as caught:
        write_private(target, "new")
    assert caught.value.code == "exists"
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("force", [False, True])
def test_out_never_writes_through_a_symlink(tmp_path: Path, force: bool) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    with pytest.raises(OutputFileError) as caught:
        write_private(link, "attacker data", force=force)
    assert caught.value.code == "symlink" if force else caught.value.code in ("symlink", "exists")
    assert victim.read_text() == "precious"
    assert link.is_symlink()


def test_out_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "not-yet")
    with pytest.raises(OutputFileError) as caught:
        write_private(link, "x")
    assert caught.value.code == "symlink"
    assert not (tmp_path / "not-yet").exists()


def test_out_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError) as caught:
        write_private(tmp_path, "x", force=True)
    assert caught.value.code == "not_a_file"


def test_out_creates_private_files_and_force_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_private(target, "one")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    os.chmod(target, 0o644)
    write_private(target, b"two", force=True)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temp file left


def test_out_into_a_missing_directory_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError) as caught:
        write_private(tmp_path / "no" / "such" / "dir.json", "x")
    assert caught.value.code == "io"


def test_cli_out_refuses_to_truncate_and_force_replaces(tmp_path: Path) -> None:
    target = tmp_path / "request.json"
    target.write_text("keep me")
    args = ["verifier", "request", "--policy", "right_to_work", "--audience", "did:web:a.example"]
    args += ["--unsafe-stateless"]
    result = _cli(*args, "--out", str(target))
    _no_traceback(result, 2)
    assert "exists" in result.output and "--force" in result.output
    assert target.read_text() == "keep me"
    result = _cli(*args, "--out", str(target), "--force")
    _no_traceback(result, 0)
    assert json.loads(target.read_text())["client_id"] == "did:web:a.example"


def test_cli_out_never_follows_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "request.json"
    link.symlink_to(victim)
    args = ["verifier", "request", "--policy", "right_to_work", "--audience", "did:web:a.example"]
    args += ["--unsafe-stateless"]
    for extra in ([], ["--force"]):
        result = _cli(*args, "--out", str(link), *extra)
        _no_traceback(result, 2)
        assert "symbolic link" in result.output
    assert victim.read_text() == "precious"


def test_key_file_write_refuses_symlink_even_with_overwrite(tmp_path: Path) -> None:
    from did_methods.keyfile import KeyFileError

    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "key.json"
    link.symlink_to(victim)
    for overwrite in (False, True):
        with pytest.raises(KeyFileError):
            write_key_file(link, PrivateKey.generate(), overwrite=overwrite)
    assert victim.read_text() == "precious"


def test_master_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = MasterKey.generate()
    first.write_file(path)
    with pytest.raises(MasterKeyError, match="never overwritten"):
        MasterKey.generate().write_file(path)
    assert MasterKey.from_file(path).key_id == first.key_id


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy", "deepcopy_nested"])
def test_master_key_refuses_pickle_and_copy(how: str) -> None:
    key = MasterKey.generate()
    actions = {
        "pickle": lambda: pickle.dumps(key),
        "copy": lambda: copy.copy(key),
        "deepcopy": lambda: copy.deepcopy(key),
        "deepcopy_nested": lambda: copy.deepcopy({"keys": [key]}),
    }
    with pytest.raises(SecretCopyError) as caught:
        actions[how]()
    assert caught.value.code == "secret_not_copyable"
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, SSIWalletError)
    assert key.secret.hex() not in str(caught.value)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_private_key_refuses_pickle_at_every_protocol(protocol: int) -> None:
    key = PrivateKey.generate()
    with pytest.raises(SecretCopyError):
        pickle.dumps(key, protocol=protocol)
    with pytest.raises(SecretCopyError):
        copy.deepcopy(key)


def _deep(levels: int = 5000) -> str:
    return '{"id": "did:example:holder", "x": ' + "[" * levels + "]" * levels + "}"


def test_deep_subject_file_exits_2_without_traceback(tmp_path: Path) -> None:
    key_file = tmp_path / "issuer.key"
    write_key_file(key_file, PrivateKey.generate())
    subject = tmp_path / "subject.json"
    subject.write_text(_deep())
    result = _cli(
        "issue", "--type", "WorkPermit", "--subject-file", str(subject), "--key-file", str(key_file)
    )
    _no_traceback(result, 2)
    assert "nests deeper" in result.output


def test_deep_key_file_is_invalid_key(tmp_path: Path) -> None:
    key_file = tmp_path / "issuer.key"
    key_file.write_text("[" * 30_000 + "]" * 30_000)
    with pytest.raises(InvalidKey) as caught:
        read_key_file(key_file)
    assert isinstance(caught.value.__cause__, InputTooLargeError)
    assert caught.value.__cause__.code == "json_too_deep"
    result = _cli("barcode", "issue", "--key-file", str(key_file), "--claims", str(key_file),
                  "--exp", FUTURE_EXP)  # fmt: skip
    _no_traceback(result, 2)


def test_deep_claims_file_exits_2_without_traceback(tmp_path: Path) -> None:
    key_file = tmp_path / "issuer.key"
    write_key_file(key_file, PrivateKey.generate())
    claims = tmp_path / "claims.json"
    claims.write_text(_deep())
    result = _cli("barcode", "issue", "--key-file", str(key_file), "--claims", str(claims),
                  "--exp", FUTURE_EXP)  # fmt: skip
    _no_traceback(result, 2)
    assert "nests deeper" in result.output


def test_deep_request_and_presentation_files_exit_2(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(_deep(200_000))
    result = _cli("wallet", "answer", str(deep), "--wallet", str(tmp_path / "w"), "--yes")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (1, 2)
    result = _cli("verify", str(deep))
    _no_traceback(result, 2)


# -- more hostile JSON, each reader ----------------------------------------------------


def test_did_jwk_with_duplicate_members_is_invalid_did() -> None:
    key = PrivateKey.generate()
    jwk = key.public_key.to_jwk()
    text = json.dumps(jwk)[:-1] + ', "x": "AAAA"}'
    did = "did:jwk:" + b64e(text.encode())
    result = Resolver.default().resolve(did)
    assert result.error == "invalidDid"


def test_did_web_document_nested_too_deep_reports_json_too_deep() -> None:
    from did_methods.http import StaticFetcher
    from did_methods.methods.web import WebMethod

    body = ('{"id": "did:web:a.example", "x": ' + "[" * 100 + "]" * 100 + "}").encode()
    fetcher = StaticFetcher({"https://a.example/.well-known/did.json": body})
    with pytest.raises(ResolutionError) as caught:
        WebMethod(fetcher=fetcher).resolve(DID.parse("did:web:a.example"), {})
    assert caught.value.detail == "json_too_deep"


@pytest.mark.parametrize(
    "text",
    ['{"kty": "oct", "k": NaN}', '{"kty": "oct", "kty": "oct", "k": "x"}', "{" * 10_000],
)
def test_master_key_file_that_is_not_strict_json(text: str) -> None:
    with pytest.raises(MasterKeyError) as caught:
        MasterKey.from_text(text)
    assert isinstance(caught.value.__cause__, JSONError)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"a": 1, "a": 2}', "json_duplicate_key"),
        ('{"a": 1e400}', "json_number"),
        ('{"a": "\\udc00"}', "json_lone_surrogate"),
        ('{"a": ' + "[" * 40 + "]" * 40 + "}", "json_too_deep"),
    ],
)
def test_vault_record_json_is_strict(text: str, code: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse_json(text)
    assert isinstance(caught.value.__cause__, JSONError)
    assert caught.value.__cause__.code == code


def test_vault_record_refuses_integers_beyond_ijson() -> None:
    with pytest.raises(RecordError):
        parse_json('{"n": 9007199254740993}')
    assert parse_json('{"n": 9007199254740991}') == {"n": 9007199254740991}


@pytest.mark.parametrize(
    "text",
    [
        '{"dcql_query": {}, "nonce": "n", "nonce": "m"}',
        '{"a": NaN}',
        "[" * 100_000,
        '{"client_id": "\\ud800"}',
    ],
)
def test_presentation_request_json_is_strict(text: str) -> None:
    with pytest.raises(JSONError):
        PresentationRequest.from_json(text)


def test_wallet_store_refuses_a_credential_with_a_lone_surrogate_and_still_lists(
    tmp_path: Path,
) -> None:
    wallet, _, _ = _consent_world()
    before = len(wallet.credentials())
    key = PrivateKey.generate()
    token = _signed({"typ": "dc+sd-jwt"}, '{"iss": "\\udfff", "vct": "x"}', key) + "~"
    with pytest.raises(ParseError):
        wallet.store(token)
    assert len(wallet.credentials()) == before
    assert wallet.export()


# -- the command line, end to end ------------------------------------------------------

_PW = {"PW": "a wallet passphrase"}


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """A did:key issuer's key file, a wallet, and a WorkPermit whose names carry bidi controls."""
    from credentials import schemas

    tmp = tmp_path_factory.mktemp("shell")
    key = tmp / "issuer.key"
    write_key_file(key, PrivateKey.generate())
    wallet = tmp / "holder.wallet"
    made = CliRunner().invoke(cli, ["wallet", "create", "--wallet", str(wallet),
                                    "--passphrase-env", "PW"], env=_PW)  # fmt: skip
    assert made.exit_code == 0, made.output
    subject = schemas.example_subject("WorkPermit")
    subject["id"] = made.output.strip()
    subject["givenName"] = "Amina\u202elive\u2066"
    subject["familyName"] = "Hidden\u200bname"
    subject_file = tmp / "subject.json"
    subject_file.write_text(json.dumps(subject))
    issued = CliRunner().invoke(cli, ["issue", "--type", "WorkPermit", "--subject-file",
                                      str(subject_file), "--key-file", str(key)])  # fmt: skip
    assert issued.exit_code == 0, issued.output
    permit = tmp / "permit.txt"
    permit.write_text(issued.output.strip())
    stored = CliRunner().invoke(cli, ["wallet", "store", str(permit), "--wallet", str(wallet),
                                      "--passphrase-env", "PW"], env=_PW)  # fmt: skip
    assert stored.exit_code == 0, stored.output
    return {"tmp": tmp, "key": key, "wallet": wallet, "permit": permit}


def _w(shell: dict[str, Path | str], *args: str) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--wallet", str(shell["wallet"]), "--passphrase-env", "PW"], env=_PW
    )


def test_cli_wallet_list_and_export_escape_what_the_issuer_wrote(shell: dict[str, Any]) -> None:
    listed = _w(shell, "wallet", "list", "--claims")
    _no_traceback(listed, 0)
    _assert_terminal_safe(listed.output)
    assert "Amina\\u202elive\\u2066" in listed.output and "Hidden\\u200bname" in listed.output
    exported = _w(shell, "wallet", "export")
    _no_traceback(exported, 0)
    _assert_terminal_safe(exported.output)
    assert "Amina\u202elive\u2066" in exported.output.encode().decode("unicode_escape")


def test_cli_wallet_refuses_a_lone_surrogate_credential_and_still_lists(
    shell: dict[str, Any],
) -> None:
    key = read_key_file(shell["key"])
    did = did_key_from_public_key(key.public_key)
    payload = json.dumps({"iss": did, "vct": "WorkPermit", "given_name": "x"})
    hostile = _signed({"typ": "dc+sd-jwt"}, payload.replace('"x"', '"\\ud800"'), key) + "~"
    path = shell["tmp"] / "surrogate.txt"
    path.write_text(hostile)
    stored = _w(shell, "wallet", "store", str(path))
    _no_traceback(stored, 2)
    assert "lone surrogate" in stored.output
    for args in (["wallet", "list", "--claims"], ["wallet", "export"], ["wallet", "history"]):
        _no_traceback(_w(shell, *args), 0)


def test_cli_consent_prompt_escapes_a_hostile_request(shell: dict[str, Any]) -> None:
    made = _cli(
        "verifier", "request", "--policy", "right_to_work", "--audience", "did:web:a.b",
        "--unsafe-stateless",
    )  # fmt: skip
    _no_traceback(made, 0)
    request = json.loads(made.output)
    request["client_id"] = "did:web:\u202eelpmaxe.knab"
    request["purpose"] = "payroll\x1b]0;pwned\x07\rOnly your name"
    path = shell["tmp"] / "hostile-request.json"
    path.write_text(json.dumps(request))
    answered = CliRunner().invoke(
        cli,
        ["wallet", "answer", str(path), "--wallet", str(shell["wallet"]), "--passphrase-env",
         "PW"],
        env=_PW,
        input="n\n",
    )  # fmt: skip
    _no_traceback(answered, 1)
    _assert_terminal_safe(answered.output)
    assert "did:web:\\u202eelpmaxe.knab asks:" in answered.output
    assert "payroll\\x1b]0;pwned\\x07\\rOnly your name" in answered.output
    assert "declined" in answered.output


def test_cli_wallet_export_out_is_exclusive_and_force_replaces(shell: dict[str, Any]) -> None:
    out = shell["tmp"] / "export.json"
    out.write_text("previous export")
    refused = _w(shell, "wallet", "export", "--out", str(out))
    _no_traceback(refused, 2)
    assert out.read_text() == "previous export"
    replaced = _w(shell, "wallet", "export", "--out", str(out), "--force")
    _no_traceback(replaced, 0)
    assert "credentials" in json.loads(out.read_text())
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_cli_wallet_export_never_follows_a_symlink(shell: dict[str, Any]) -> None:
    victim = shell["tmp"] / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA")
    link = shell["tmp"] / "export-link.json"
    link.symlink_to(victim)
    for extra in ([], ["--force"]):
        _no_traceback(_w(shell, "wallet", "export", "--out", str(link), *extra), 2)
    assert victim.read_text() == "ssh-ed25519 AAAA"


def test_cli_barcode_png_is_exclusive(shell: dict[str, Any]) -> None:
    pytest.importorskip("segno")
    claims = shell["tmp"] / "claims.json"
    claims.write_text('{"name": "A"}')
    png = shell["tmp"] / "code.png"
    png.write_bytes(b"keep")
    args = ["barcode", "issue", "--key-file", str(shell["key"]), "--claims", str(claims),
            "--exp", FUTURE_EXP, "--png", str(png)]  # fmt: skip
    _no_traceback(_cli(*args), 2)
    assert png.read_bytes() == b"keep"
    _no_traceback(_cli(*args, "--force"), 0)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_cli_did_create_never_writes_through_a_symlink(shell: dict[str, Any]) -> None:
    victim = shell["tmp"] / "victim-key"
    victim.write_text("precious")
    link = shell["tmp"] / "new.key"
    link.symlink_to(victim)
    _no_traceback(_cli("did", "create", "--key-file", str(link)), 1)
    assert victim.read_text() == "precious"


def test_cli_verify_output_escapes_claims(shell: dict[str, Any]) -> None:
    for extra in ([], ["--json"]):
        result = _cli("verify", str(shell["permit"]), *extra)
        assert "Traceback" not in result.output
        _assert_terminal_safe(result.output)


# -- more hostile JSON through each format --------------------------------------------


def test_sd_jwt_disclosure_with_a_lone_surrogate_is_refused() -> None:
    from credentials.sd_jwt import Disclosure

    encoded = b64e(b'["salt", "name", "\\udbff"]')
    with pytest.raises(SdJwtError) as caught:
        Disclosure.parse(encoded)
    assert isinstance(caught.value.__cause__, JSONError)
    assert caught.value.__cause__.code == "json_lone_surrogate"


def test_sd_jwt_disclosure_with_duplicate_members_in_an_object_value_is_refused() -> None:
    from credentials.sd_jwt import Disclosure

    encoded = b64e(b'["salt", "address", {"city": "A", "city": "B"}]')
    with pytest.raises(SdJwtError) as caught:
        Disclosure.parse(encoded)
    assert isinstance(caught.value.__cause__, DuplicateKeyError)


def test_data_integrity_text_with_duplicate_proof_is_refused() -> None:
    from credentials import verify

    text = '{"@context": [], "type": [], "proof": {}, "proof": {"proofValue": "z"}}'
    with pytest.raises(DuplicateKeyError) as caught:
        verify(text)
    assert caught.value.key == "proof"


def test_bitstring_status_list_credential_with_1e400_is_refused() -> None:
    from credentials.jcs import loads_strict

    with pytest.raises(JSONError) as caught:
        loads_strict('{"credentialSubject": {"statusSize": 1e400}}')
    assert caught.value.code == "json_number"


def test_did_web_document_with_duplicate_id_is_invalid_json() -> None:
    from did_methods.http import StaticFetcher
    from did_methods.methods.web import WebMethod

    body = b'{"id": "did:web:a.example", "id": "did:web:evil.example"}'
    fetcher = StaticFetcher({"https://a.example/.well-known/did.json": body})
    with pytest.raises(ResolutionError) as caught:
        WebMethod(fetcher=fetcher).resolve(DID.parse("did:web:a.example"), {})
    assert caught.value.detail == "invalid_json"


@pytest.mark.parametrize(
    "text",
    ['{"vp_token": {}, "vp_token": {}}', '{"vp_token": {"a": ["\\ud800"]}}', "[" * 5000],
)
def test_presentation_json_is_strict(text: str) -> None:
    from ssi_wallet.request import PresentationResponse

    with pytest.raises(JSONError):
        PresentationResponse.from_json(text)


def test_witness_state_with_nan_is_a_store_error(tmp_path: Path) -> None:
    from did_methods.errors import StoreError
    from ledger.witness import JSONFileWitnessState

    path = tmp_path / "witness.json"
    path.write_text('{"version": 1, "logs": {"o": {"size": NaN, "root": "", "note": ""}}}')
    with pytest.raises(StoreError) as caught:
        JSONFileWitnessState(path).get("o")
    assert isinstance(caught.value.__cause__, JSONError)


def test_cli_vault_put_deep_record_exits_2(shell: dict[str, Any]) -> None:
    tmp = shell["tmp"]
    init = _cli("vault", "init", "--db", str(tmp / "v.db"), "--master-key-file", str(tmp / "mk"),
                "--key-file", str(shell["key"]))  # fmt: skip
    _no_traceback(init, 0)
    record = tmp / "record.json"
    record.write_text('{"a": ' + "[" * 30_000 + "]" * 30_000 + "}")
    put = _cli("vault", "put", "--db", str(tmp / "v.db"), "--master-key-file", str(tmp / "mk"),
               "--key-file", str(shell["key"]), "--subject", "s-1",
               "--file", str(record))  # fmt: skip
    _no_traceback(put, 2)
    assert "nests deeper" in put.output
