"""``ssi-wallet wallet`` and ``ssi-wallet verifier`` end to end, through real subprocesses.

The issuer side (a ledger file, an accredited ministry, a permit) is built in
Python; everything the holder and the verifier do goes through
``python -m ssi_wallet``, as a person at a shell would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _live_server import StaticServer
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import schemas
from did_methods import PrivateKey, did_key_from_public_key
from ledger.facade import Ledger
from ssi_wallet import Issuer, StatusBoard
from ssi_wallet.cli import cli
from ssi_wallet.cli.verifier import StatusDirectory, status_file_name

PASSPHRASE = "correct horse battery staple"
AUDIENCE = "did:web:clinic.example"
PERSONAL = ("familyName", "givenName", "birthDate", "nationality")


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "WALLET_PW": PASSPHRASE, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        env=environ,
    )


@dataclass
class World:
    tmp: Path
    db: Path
    root: str
    root_key: PrivateKey
    ministry: Issuer
    ledger: Ledger
    wallet: Path
    holder_did: str
    permit: Path
    status_index: int
    statuses: Path
    state: Path  # the verifier's nonces, shared by 'verifier request' and 'verifier check'

    def w(self, *args: str) -> list[str]:
        """Wallet options for a subcommand."""
        return [*args, "--wallet", str(self.wallet), "--passphrase-env", "WALLET_PW"]

    def publish_statuses(self) -> None:
        for purpose in ("revocation", "suspension", "token"):
            url = self.ministry.status_url(purpose)
            data = self.ministry.board.get(url)
            assert data is not None
            (self.statuses / status_file_name(url)).write_bytes(data)

    def request(self, name: str, *extra: str) -> Path:
        out = self.tmp / name
        done = run(
            "verifier", "request", "--policy", "right_to_work", "--sector", "Q86",
            "--audience", AUDIENCE, "--out", str(out), "--state", str(self.state), *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return out

    def answered(self, name: str) -> tuple[Path, Path]:
        """A fresh request and the wallet's answer to it (a request is answered once)."""
        request = self.request(f"{name}.json")
        presentation = self.tmp / f"{name}-presentation.json"
        done = run(*self.w("wallet", "answer", str(request), "--yes", "--out", str(presentation)))
        assert done.returncode == 0, done.stderr
        return request, presentation

    def check(self, request: Path, presentation: Path, *extra: str) -> Any:
        return run(
            "verifier", "check", "--db", str(self.db), "--trust-root", self.root,
            "--status-dir", str(self.statuses), "--state", str(self.state),
            str(request), str(presentation), *extra,
        )  # fmt: skip


def work_claims() -> dict[str, Any]:
    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    today = datetime.now(UTC).date()
    claims["issueDate"] = (today - timedelta(days=30)).isoformat()
    claims["expiryDate"] = (today + timedelta(days=365)).isoformat()
    return claims


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("wallet_cli")
    db = tmp / "registry.db"
    root = PrivateKey.generate()
    ledger = Ledger.open(db, key=root)
    ministry = Issuer.create(ledger, name="Migration Department")
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    wallet = tmp / "amina.wallet"
    created = run("wallet", "create", "--wallet", str(wallet), "--passphrase-env", "WALLET_PW")
    assert created.returncode == 0, created.stderr
    holder_did = created.stdout.strip()
    issued = ministry.issue("WorkPermit", subject=holder_did, claims=work_claims())
    assert issued.status_index is not None
    permit = tmp / "permit.txt"
    permit.write_text(issued.serialise())
    statuses = tmp / "status"
    statuses.mkdir()
    root_did = ledger.issuers.root
    world = World(
        tmp, db, root_did, root, ministry, ledger, wallet, holder_did, permit, issued.status_index,
        statuses, tmp / "verifier-state.db",
    )  # fmt: skip
    world.publish_statuses()
    yield world
    ledger.close()


@pytest.fixture(scope="module")
def stored(world: World) -> str:
    done = run(*world.w("wallet", "store", str(world.permit), "--db", str(world.db), "--json"))
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["id"])


def test_create_makes_a_private_file_and_did_reads_it_back(world: World) -> None:
    assert world.holder_did.startswith("did:key:z")
    assert stat.S_IMODE(world.wallet.stat().st_mode) == 0o600
    done = run(*world.w("wallet", "did"))
    assert (done.returncode, done.stdout.strip()) == (0, world.holder_did)
    again = run("wallet", "create", "--wallet", str(world.wallet), "--passphrase-env", "WALLET_PW")
    assert again.returncode == 2
    assert "refusing to overwrite" in again.stderr


def test_store_then_list_shows_no_personal_claims(world: World, stored: str) -> None:
    listed = run(*world.w("wallet", "list", "--json"))
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row == {
        "id": stored,
        "type": "WorkPermit",
        "issuer": world.ministry.did,
        "format": "dc+sd-jwt",
        "stored_at": row["stored_at"],
    }
    for name in ("Haddad", *PERSONAL):
        assert name not in listed.stdout
    with_claims = run(*world.w("wallet", "list", "--json", "--claims"))
    assert json.loads(with_claims.stdout)[0]["claims"]["sector"] == "Q86.10"


def test_full_flow_request_answer_check_history_export(world: World, stored: str) -> None:
    request = world.request("request.json")
    text = request.read_text()
    assert json.loads(text)["policy_args"] == {"sector": "Q86"}
    presentation = world.tmp / "presentation.json"
    answered = run(*world.w("wallet", "answer", str(request), "--yes", "--out", str(presentation)))
    assert answered.returncode == 0, answered.stderr
    assert f"{AUDIENCE} asks: right to work in sector Q86" in answered.stderr
    assert "always shown with it: your DID, Document number" in answered.stderr
    assert stat.S_IMODE(presentation.stat().st_mode) == 0o600
    checked = world.check(request, presentation, "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] is True
    assert report["disclosed"]["work"]["sector"] == "Q86.10"
    for name in PERSONAL:
        assert name not in report["disclosed"]["work"]
    # The request was answered: the same presentation, checked again, is a replay.
    again = world.check(request, presentation)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "codes: replayed" in again.stdout
    history = run(*world.w("wallet", "history", "--json"))
    records = json.loads(history.stdout)
    assert [r["verifier"] for r in records] == [AUDIENCE]
    assert ["sector"] in records[0]["disclosed"][stored]
    export = world.tmp / "export.json"
    exported = run(*world.w("wallet", "export", "--out", str(export)))
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    data = json.loads(export.read_text())
    assert data["holder"] == world.holder_did
    assert data["credentials"][0]["claims"]["familyName"]
    assert data["history"][0]["verifier"] == AUDIENCE
    assert "private" not in json.dumps(data).lower()

    # A verifier that trusts another root authority does not accept this issuer.
    other_root = did_key_from_public_key(PrivateKey.generate().public_key)
    request, presentation = world.answered("distrusted")
    distrusted = run(
        "verifier", "check", "--db", str(world.db), "--trust-root", other_root,
        "--status-dir", str(world.statuses), "--state", str(world.state),
        str(request), str(presentation),
    )  # fmt: skip
    assert distrusted.returncode == 1
    assert "codes: issuer_not_accredited" in distrusted.stdout
    in_german = world.check(*world.answered("german"), "--language", "de")
    assert in_german.returncode == 0
    assert "Arbeitserlaubnis" in in_german.stdout

    # A fresh presentation, tampered with: one disclosed value changed.
    request, presentation = world.answered("to-tamper")
    tampered = world.tmp / "tampered.json"
    body = json.loads(presentation.read_text())
    token = body["vp_token"]["work_sd"][0]
    jws, *rest = token.split("~")
    header, payload, signature = jws.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    body["vp_token"]["work_sd"][0] = "~".join([f"{header}.{payload}.{flipped}", *rest])
    tampered.write_text(json.dumps(body))
    refused = world.check(request, tampered)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stdout.startswith("REFUSED")
    assert "codes: signature_invalid" in refused.stdout


def test_consent_refused_discloses_nothing(world: World, stored: str) -> None:
    before = json.loads(run(*world.w("wallet", "history", "--json")).stdout)
    request = world.request("refused.json")
    presentation = world.tmp / "refused-presentation.json"
    done = run(
        *world.w("wallet", "answer", str(request), "--out", str(presentation), "--language", "de"),
        stdin="n\n",
    )
    assert done.returncode == 1
    assert "from your Arbeitserlaubnis: " in done.stderr
    assert "Disclose this?" in done.stderr
    assert "declined: nothing was disclosed" in done.stderr
    assert not presentation.exists()
    assert done.stdout == ""
    after = json.loads(run(*world.w("wallet", "history", "--json")).stdout)
    assert after == before


# Revocation is for good: this runs after the tests that need the permit valid.
def test_revoked_credential_is_refused_with_its_code(world: World, stored: str) -> None:
    assert world.check(*world.answered("before-revocation")).returncode == 0
    world.ministry.revoke(world.status_index)
    world.publish_statuses()
    refused = world.check(*world.answered("after-revocation"))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "codes: revoked" in refused.stdout
    as_json = world.check(*world.answered("after-revocation-json"), "--json")
    assert as_json.returncode == 1
    assert "revoked" in [f["code"] for f in json.loads(as_json.stdout)["findings"]]
    # Without its status lists the verifier fails closed.
    empty = world.tmp / "no-status"
    empty.mkdir()
    request, presentation = world.answered("no-status")
    closed = run(
        "verifier", "check", "--db", str(world.db), "--trust-root", world.root,
        "--status-dir", str(empty), "--state", str(world.state), str(request), str(presentation),
    )  # fmt: skip
    assert closed.returncode == 1
    assert "status" in closed.stdout


def test_wrong_passphrase_is_a_clear_no(world: World) -> None:
    done = run(*world.w("wallet", "list"), env={"WALLET_PW": "not the passphrase"})
    assert done.returncode == 1
    assert "wrong passphrase" in done.stderr
    assert "Traceback" not in done.stderr
    missing = run("wallet", "list", "--wallet", str(world.tmp / "nope"), "--passphrase-env", "X")
    assert missing.returncode == 2


def test_malformed_inputs_exit_2(world: World) -> None:
    bad = world.tmp / "bad-request.json"
    bad.write_text('{"nonce": "short", "client_id": "x", "dcql_query": {}}')
    answered = run(*world.w("wallet", "answer", str(bad), "--yes"))
    assert answered.returncode == 2
    assert "nonce" in answered.stderr
    not_json = world.tmp / "not-json.json"
    not_json.write_text("[1, 2")
    assert run(*world.w("wallet", "answer", str(not_json), "--yes")).returncode == 2
    good = world.request("for-malformed.json")
    assert world.check(bad, not_json).returncode == 2
    assert world.check(good, not_json).returncode == 2
    # An edited request: the query no longer matches the named policy.
    edited = json.loads(good.read_text())
    edited["dcql_query"]["credentials"][0]["claims"].append({"path": ["nationality"]})
    edited_file = world.tmp / "edited.json"
    edited_file.write_text(json.dumps(edited))
    done = world.check(edited_file, not_json)
    assert done.returncode == 2
    assert "edited" in done.stderr
    garbage = world.tmp / "garbage.txt"
    garbage.write_text("eyJ~not~an~sd-jwt")
    stored = run(*world.w("wallet", "store", str(garbage), "--db", str(world.db)))
    assert stored.returncode == 2, stored.stderr


def test_store_refuses_a_credential_that_does_not_verify(world: World) -> None:
    text = world.permit.read_text()
    jws, *rest = text.split("~")
    header, payload, signature = jws.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged = world.tmp / "forged.txt"
    forged.write_text("~".join([f"{header}.{payload}.{flipped}", *rest]))
    done = run(*world.w("wallet", "store", "-", "--db", str(world.db)), stdin=forged.read_text())
    assert done.returncode == 1
    assert "not stored" in done.stderr
    # Without the ledger the did:ledger issuer cannot be resolved: not stored either.
    unresolved = run(*world.w("wallet", "store", str(world.permit)))
    assert unresolved.returncode == 1


def test_show_and_delete(world: World) -> None:
    added = run(*world.w("wallet", "store", str(world.permit), "--db", str(world.db), "--json"))
    cred_id = json.loads(added.stdout)["id"]
    shown = run(*world.w("wallet", "show", cred_id))
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["raw"] == world.permit.read_text()
    assert run(*world.w("wallet", "delete", cred_id)).returncode == 0
    assert run(*world.w("wallet", "show", cred_id)).returncode == 1
    assert run(*world.w("wallet", "delete", cred_id)).returncode == 1


def test_unanswerable_request_is_a_no(world: World) -> None:
    request = world.tmp / "reside.json"
    made = run(
        "verifier", "request", "--policy", "right_to_reside", "--audience", AUDIENCE,
        "--out", str(request), "--state", str(world.state),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    done = run(*world.w("wallet", "answer", str(request), "--yes"))
    assert done.returncode == 1
    assert "no credential in this wallet fits" in done.stderr


def test_status_lists_over_http(world: World, tmp_path: Path) -> None:
    board = StatusBoard()

    server = StaticServer()
    server.fallback = lambda path: board.get(server.url(path))
    try:
        office = Issuer.create(
            world.ledger,
            name="Residence Office",
            board=board,
            status_base=server.url("/status"),
        )
        world.ledger.accredit(office.did, types=["ResidencePermit"], by=world.root_key)
        wallet = tmp_path / "second.wallet"
        holder = run("wallet", "create", "--wallet", str(wallet), "--passphrase-env", "WALLET_PW")
        claims = schemas.example_subject("ResidencePermit")
        claims.pop("id")
        today = datetime.now(UTC).date()
        claims["issueDate"] = (today - timedelta(days=1)).isoformat()
        claims["expiryDate"] = (today + timedelta(days=90)).isoformat()
        permit = tmp_path / "residence.txt"
        permit.write_text(
            office.issue(
                "ResidencePermit", subject=holder.stdout.strip(), claims=claims
            ).serialise()
        )
        opts = ["--wallet", str(wallet), "--passphrase-env", "WALLET_PW"]
        stored = run("wallet", "store", str(permit), "--db", str(world.db), *opts)
        assert stored.returncode == 0, stored.stderr
        state = ["--state", str(world.state)]

        def answered(name: str) -> list[str]:
            request, presentation = tmp_path / f"{name}.json", tmp_path / f"{name}-vp.json"
            made = run(
                "verifier", "request", "--policy", "right_to_reside", "--audience", AUDIENCE,
                "--out", str(request), *state,
            )  # fmt: skip
            assert made.returncode == 0, made.stderr
            done = run("wallet", "answer", str(request), "--yes", "--out", str(presentation), *opts)
            assert done.returncode == 0, done.stderr
            return [str(request), str(presentation)]

        check = ["verifier", "check", "--db", str(world.db), "--trust-root", world.root, *state]
        # The safe default refuses a loopback address: status fails closed.
        refused = run(*check, *answered("reside"))
        assert refused.returncode == 1
        assert "status" in refused.stdout
        accepted = run(*check, "--allow-http", "--allow-private", *answered("reside-again"))
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
        assert accepted.stdout.startswith("ACCEPTED: right to reside")
    finally:
        server.close()


# -- in process: help, usage and the status directory --------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["wallet"],
        *[["wallet", c] for c in ("create", "did", "store", "list", "show", "delete")],
        *[["wallet", c] for c in ("history", "erase-history", "export", "answer")],
        ["verifier"],
        ["verifier", "request"],
        ["verifier", "check"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_request_rejects_parameters_the_policy_does_not_take() -> None:
    result = CliRunner().invoke(
        cli, ["verifier", "request", "--policy", "right_to_reside", "--sector", "Q86",
              "--audience", AUDIENCE],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "takes no sector" in result.output


def test_request_is_fresh_each_time(tmp_path: Path) -> None:
    args = ["verifier", "request", "--policy", "right_to_study", "--audience", AUDIENCE]
    args += ["--state", str(tmp_path / "state.db")]
    first = json.loads(CliRunner().invoke(cli, [*args, "--institution", "TU Wien"]).output)
    second = json.loads(CliRunner().invoke(cli, [*args, "--institution", "TU Wien"]).output)
    assert first["nonce"] != second["nonce"]
    assert first["exp"] - first["iat"] == 600
    assert first["policy_args"] == {"institution": "TU Wien"}


def test_status_directory_bounds_and_misses(tmp_path: Path) -> None:
    from did_methods.http import FetchError

    url = "https://status.example/abc/token"
    (tmp_path / status_file_name(url)).write_bytes(b"x" * 100)
    fetcher = StatusDirectory(tmp_path)
    assert fetcher.fetch(url, max_bytes=100, timeout=1, accept="*/*") == b"x" * 100
    with pytest.raises(FetchError) as too_large:
        fetcher.fetch(url, max_bytes=99, timeout=1, accept="*/*")
    assert too_large.value.code == "too_large"
    with pytest.raises(FetchError) as missing:
        fetcher.fetch(url + "/other", max_bytes=100, timeout=1, accept="*/*")
    assert missing.value.code == "http_status"
    assert "/" not in status_file_name("https://a/../../etc/passwd")


def test_create_asks_for_the_passphrase_twice(tmp_path: Path) -> None:
    path = tmp_path / "prompted.wallet"
    mismatch = CliRunner().invoke(cli, ["wallet", "create", "--wallet", str(path)], input="a\nb\n")
    assert mismatch.exit_code != 0
    assert "do not match" in mismatch.output
    assert not path.exists()
    done = CliRunner().invoke(
        cli, ["wallet", "create", "--wallet", str(path)], input="a pass phrase\na pass phrase\n"
    )
    assert done.exit_code == 0, done.output
    assert "a pass phrase" not in done.output  # hidden input is not echoed
    did_line = done.output.strip().splitlines()[-1]
    assert did_line.startswith("did:key:z")
    again = CliRunner().invoke(
        cli, ["wallet", "did", "--wallet", str(path)], input="a pass phrase\n"
    )
    assert (again.exit_code, again.output.strip().splitlines()[-1]) == (0, did_line)


def test_request_rejects_a_date_that_is_not_one() -> None:
    result = CliRunner().invoke(
        cli, ["verifier", "request", "--policy", "right_to_reside", "--on", "soon",
              "--audience", AUDIENCE],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "not a date" in result.output


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    token=st.dictionaries(
        st.sampled_from(["work_sd", "work_di"]), st.lists(_JSON, min_size=1, max_size=2)
    ),
    nonce=st.booleans(),
    raw=st.one_of(st.none(), st.binary(max_size=60)),
)
def test_check_answers_any_presentation_with_1_or_2(
    world: World, token: dict[str, Any], nonce: bool, raw: bytes | None
) -> None:
    request = world.tmp / "fuzz-request.json"
    if not request.exists():
        world.request("fuzz-request.json")
    body = json.loads(request.read_text())
    presentation = world.tmp / "fuzz-presentation.json"
    if raw is not None:
        presentation.write_bytes(raw)
    else:
        presentation.write_text(
            json.dumps(
                {
                    "vp_token": token,
                    "nonce": body["nonce"] if nonce else "x" * 22,
                    "client_id": AUDIENCE,
                }
            )
        )
    # --unsafe-stateless: each example reaches the steps after the nonce's.
    result = CliRunner().invoke(
        cli, ["verifier", "check", "--db", str(world.db), "--trust-root", world.root,
              "--status-dir", str(world.statuses), "--unsafe-stateless",
              str(request), str(presentation)],
    )  # fmt: skip
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert result.exit_code in (1, 2), result.output
