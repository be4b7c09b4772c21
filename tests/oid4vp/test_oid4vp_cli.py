"""`ssi-wallet wallet present REQUEST_URI` against our verifier over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from oid4vp_http import PKI, verifier_service
from oid4vp_world import World

from ssi_wallet import Holder
from ssi_wallet.cli import cli

pytest.importorskip("uvicorn")
PASSPHRASE = "amina's cli passphrase"


def _wallet_file(world: World, tmp_path: Path) -> Path:
    path = tmp_path / "amina.wallet"
    holder = Holder.create(path, passphrase=PASSPHRASE, resolver=world.ledger.resolver())
    issued = world.ministry.issue("WorkPermit", subject=holder.did, claims=world.work_claims())
    holder.store(issued.credential)
    holder.close()
    return path


def _present(path: Path, uri: str, *extra: str, input: str | None = None) -> object:
    return CliRunner().invoke(
        cli,
        ["wallet", "present", uri, "--wallet", str(path), "--passphrase-env", "PASS",
         "--allow-loopback", *extra],
        env={"PASS": PASSPHRASE},
        input=input,
    )  # fmt: skip


@pytest.mark.parametrize(("client", "mode"), [("did", "direct_post"), ("x509", "direct_post.jwt")])
def test_present_answers_and_the_verifier_accepts(
    world: World, tmp_path: Path, client: str, mode: str
) -> None:
    path = _wallet_file(world, tmp_path)
    (tmp_path / "anchors.pem").write_bytes(
        PKI.root.public_bytes(
            __import__("cryptography").hazmat.primitives.serialization.Encoding.PEM
        )
    )
    with verifier_service(world, tmp_path) as service:
        made = service.create(client=client, response_mode=mode)
        result = _present(
            path, made["authorization_request"], "--yes",
            "--trust-anchors", str(tmp_path / "anchors.pem"),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        said = json.loads(result.stdout)
        assert said["verifier"] == made["client_id"]
        assert said["response_mode"] == mode
        assert said["disclosed"] == ["work_sd"]
        assert "Disclose" not in result.stderr and "sector" in result.stderr.lower()
        assert service.result(made["transaction_id"])["ok"] is True


def test_declining_at_the_prompt_tells_the_verifier(world: World, tmp_path: Path) -> None:
    path = _wallet_file(world, tmp_path)
    with verifier_service(world, tmp_path) as service:
        made = service.create()
        result = _present(path, made["authorization_request"], input="n\n")
        assert result.exit_code == 1
        assert "nothing was disclosed" in result.stderr
        answer = service.result(made["transaction_id"])
    assert answer["status"] == "wallet_error" and answer["error"] == "access_denied"


def test_a_refused_verifier_exits_1_with_its_code(world: World, tmp_path: Path) -> None:
    path = _wallet_file(world, tmp_path)
    with verifier_service(world, tmp_path) as service:
        made = service.create(client="x509")
        result = _present(path, made["authorization_request"], "--yes")  # no trust anchors
        assert result.exit_code == 1
        assert "x509_untrusted" in result.stderr
        assert service.result(made["transaction_id"])["status"] == "pending"
