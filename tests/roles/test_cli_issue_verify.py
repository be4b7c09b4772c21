"""``ssi-wallet issue`` and ``ssi-wallet verify`` through the console entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from credentials import schemas
from did_methods import KeyType, PrivateKey, did_key_from_public_key, write_key_file
from did_methods.encoding import b64url_decode


@pytest.fixture
def soon() -> str:
    """An instant inside the validity of a credential the CLI issues during the test.

    ``ssi-wallet issue`` signs at the wall clock (it takes no time), so the
    instant is read from it when the test starts, not when the module is imported.
    """
    return (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
    )


@pytest.fixture
def issuer_files(tmp_path: Path) -> tuple[Path, Path, PrivateKey]:
    ed = tmp_path / "ed.jwk"
    p256 = tmp_path / "p256.jwk"
    write_key_file(ed, PrivateKey.generate(KeyType.ED25519))
    write_key_file(p256, PrivateKey.generate(KeyType.P256))
    holder = PrivateKey.generate()
    subject = schemas.example_subject("ResidencePermit")
    subject["id"] = did_key_from_public_key(holder.public_key)
    subject_file = tmp_path / "subject.json"
    subject_file.write_text(json.dumps(subject))
    return ed, p256, holder


@pytest.mark.parametrize(
    ("fmt", "key"),
    [("sd-jwt", 0), ("di-eddsa", 0), ("di-ecdsa", 1), ("vc-jwt", 1), ("jwt_vc_json", 1)],
)
def test_issue_then_verify(
    tmp_path: Path, issuer_files: tuple[Path, Path, PrivateKey], fmt: str, key: int, soon: str
) -> None:
    key_file = issuer_files[key]
    issued = run(
        "issue",
        "--type",
        "ResidencePermit",
        "--subject-file",
        str(tmp_path / "subject.json"),
        "--key-file",
        str(key_file),
        "--format",
        fmt,
    )
    assert issued.returncode == 0, issued.stderr
    credential = tmp_path / "credential.txt"
    credential.write_text(issued.stdout)
    checked = run("verify", str(credential), "--at", soon)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("VALID")
    as_json = json.loads(run("verify", "--json", "-", "--at", soon, stdin=issued.stdout).stdout)
    assert as_json["ok"] is True
    assert {c["name"] for c in as_json["checks"]} >= {"signature", "validity_period"}
    if fmt == "jwt_vc_json":  # a VC Data Model 1.1 JWT, told apart from a vc+jwt
        assert as_json["format"] == "jwt_vc_json"
        assert "vc" in json.loads(b64url_decode(issued.stdout.split(".")[1]))
    # validity is judged at --at: after the sample's expiryDate it is invalid
    # (the sample's dates follow the wall clock, so the instant is read from them)
    expiry = date.fromisoformat(json.loads((tmp_path / "subject.json").read_text())["expiryDate"])
    after = f"{expiry + timedelta(days=1)}T00:05:00Z"
    late = run("verify", str(credential), "--at", after, "--json")
    assert late.returncode == 1
    assert "expired" in [c["code"] for c in json.loads(late.stdout)["checks"]]
    # a flipped character in the signed part is invalid (or malformed), never valid
    text = issued.stdout.strip()
    middle = len(text) // 3
    flipped = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    bad = run("verify", "-", stdin=flipped)
    assert bad.returncode in (1, 2)


def test_sd_jwt_holder_binding_flags(
    tmp_path: Path, issuer_files: tuple[Path, Path, PrivateKey], soon: str
) -> None:
    from credentials.sd_jwt import present

    issued = run(
        "issue",
        "--type",
        "ResidencePermit",
        "--subject-file",
        str(tmp_path / "subject.json"),
        "--key-file",
        str(issuer_files[0]),
    )
    sd_jwt = issued.stdout.strip()
    without = json.loads(run("verify", "-", "--json", "--at", soon, stdin=sd_jwt).stdout)
    binding = [c for c in without["checks"] if c["name"] == "holder_binding"]
    assert binding and binding[0]["status"] == "skipped"
    missing_kb = run(
        "verify",
        "-",
        "--nonce",
        "n-123",
        "--audience",
        "did:web:v.example",
        "--at",
        soon,
        stdin=sd_jwt,
    )
    assert missing_kb.returncode == 1
    presented = present(
        sd_jwt,
        [("issuingState",)],
        holder_key=issuer_files[2],
        nonce="n-123",
        audience="did:web:v.example",
        now=datetime.fromisoformat(soon),
    )
    ok = run(
        "verify",
        "-",
        "--nonce",
        "n-123",
        "--audience",
        "did:web:v.example",
        "--at",
        soon,
        stdin=presented,
    )
    assert ok.returncode == 0, ok.stdout
    wrong = run(
        "verify",
        "-",
        "--nonce",
        "other",
        "--audience",
        "did:web:v.example",
        "--at",
        soon,
        stdin=presented,
    )
    assert wrong.returncode == 1


def test_issue_refuses_schema_violations(
    tmp_path: Path, issuer_files: tuple[Path, Path, PrivateKey]
) -> None:
    bad = json.loads((tmp_path / "subject.json").read_text())
    bad["issuingState"] = "Lithuania"
    del bad["documentNumber"]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    done = run(
        "issue",
        "--type",
        "ResidencePermit",
        "--subject-file",
        str(tmp_path / "bad.json"),
        "--key-file",
        str(issuer_files[0]),
    )
    assert done.returncode == 2
    assert "issuingState" in done.stderr and "documentNumber" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("garbage", ["", "not a credential", "{", "{}", "a.b.c", "~~~", "[1,2]"])
def test_verify_malformed_input_exits_2_or_1(garbage: str) -> None:
    done = run("verify", "-", stdin=garbage)
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr


def test_usage_errors() -> None:
    assert run("verify").returncode == 2
    assert run("verify", "/no/such/file").returncode == 2
    assert run("issue", "--type", "Nope").returncode == 2
    for args in (["verify", "--help"], ["issue", "--help"]):
        assert run(*args).returncode == 0


def test_barcode_issue_show_verify(
    tmp_path: Path, issuer_files: tuple[Path, Path, PrivateKey]
) -> None:
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps({"documentNumber": "LT7304519", "permitCategory": "employment"}))
    png = tmp_path / "permit.png"
    # `verify` judges at the wall clock: the expiry is relative to it (a fixed
    # 2030-01-01 would fail every run from that day on)
    exp = datetime.now(UTC) + timedelta(days=3 * 365)
    after = (exp + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    issued = run(
        "barcode",
        "issue",
        "--key-file",
        str(issuer_files[1]),
        "--claims",
        str(claims),
        "--exp",
        exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--png",
        str(png),
    )
    assert issued.returncode == 0, issued.stderr
    text = issued.stdout.strip()
    assert text.startswith("VC1:")
    assert png.read_bytes().startswith(b"\x89PNG")
    shown = json.loads(run("barcode", "show", text).stdout)
    assert shown["UNVERIFIED"] is True and shown["claims"]["documentNumber"] == "LT7304519"
    assert run("verify", "-", stdin=text).returncode == 0
    assert run("verify", "-", "--at", after, stdin=text).returncode == 1
    flipped = text[:-5] + ("A" if text[-5] != "A" else "B") + text[-4:]
    assert run("verify", "-", stdin=flipped).returncode in (1, 2)
    assert run("barcode", "show", "VC1:not base45!").returncode == 2
