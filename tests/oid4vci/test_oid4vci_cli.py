"""`ssi-wallet wallet receive OFFER_URI` against our issuer over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _live_server import bind_free_socket, serve_asgi
from click.testing import CliRunner

from credentials import schemas
from ssi_wallet import Holder, Issuer
from ssi_wallet.cli import cli
from ssi_wallet.oid4vci import CredentialIssuer
from ssi_wallet.server.oid4vci import create_app

PASSPHRASE = "cli wallet passphrase"


@dataclass
class Office:
    service: CredentialIssuer
    wallet: Path

    def claims(self, type_name: str = "WorkPermit") -> dict[str, Any]:
        claims = schemas.example_subject(type_name)
        claims.pop("id")
        return claims

    def receive(self, uri: str, *args: str, tx_code: str | None = None, input: str | None = None):
        env = {"WALLET_PASS": PASSPHRASE, "TX_CODE": tx_code or ""}
        return CliRunner().invoke(
            cli,
            [
                "wallet",
                "receive",
                uri,
                "--wallet",
                str(self.wallet),
                "--passphrase-env",
                "WALLET_PASS",
                "--allow-loopback",
                *(["--tx-code-env", "TX_CODE"] if tx_code else []),
                *args,
            ],
            env=env,
            input=input,
        )


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    sock = bind_free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    issuer = Issuer.create(name="Office", status_base=f"{base}/status")  # a did:key issuer
    service = CredentialIssuer(issuer, base, deferred_interval=1)
    wallet = tmp_path_factory.mktemp("cli") / "amina.wallet"
    Holder.create(wallet, passphrase=PASSPHRASE).close()
    with serve_asgi(create_app(service), sock=sock):
        yield Office(service, wallet)


def test_receive_a_batch_and_list_it(office: Office) -> None:
    offer = office.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": office.claims()})
    result = office.receive(offer.uri, "--yes", "--batch", "2", tx_code=offer.tx_code)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["issuer"] == office.service.identifier and out["deferred"] == []
    assert [c["format"] for c in out["stored"]] == ["dc+sd-jwt", "dc+sd-jwt"]
    assert "offers: WorkPermit.sd_jwt" in result.stderr
    listed = CliRunner().invoke(
        cli,
        ["wallet", "list", "--json", "--wallet", str(office.wallet), "--passphrase-env", "P"],
        env={"P": PASSPHRASE},
    )
    ids = {c["id"] for c in json.loads(listed.stdout)}
    assert {c["id"] for c in out["stored"]} <= ids


def test_prompted_transaction_code_and_a_wrong_one(office: Office) -> None:
    offer = office.service.offer(["WorkPermit.jwt_vc_json"], claims={"WorkPermit": office.claims()})
    assert offer.tx_code is not None
    wrong = str((int(offer.tx_code) + 1) % 1_000_000).zfill(6)
    result = office.receive(offer.uri, "--yes", input=f"{wrong}\n")
    assert result.exit_code == 1
    assert "invalid_grant" in result.stderr
    result = office.receive(offer.uri, "--yes", input=f"{offer.tx_code}\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stored"][0]["format"] == "jwt_vc_json"


def test_declining_requests_nothing(office: Office) -> None:
    offer = office.service.offer(
        ["WorkPermit.ldp_vc"], claims={"WorkPermit": office.claims()}, tx_code=False
    )
    result = office.receive(offer.uri, input="n\n")
    assert result.exit_code == 1 and "declined" in result.stderr
    # the code was never spent: it still works
    assert office.receive(offer.uri, "--yes").exit_code == 0


def test_waiting_for_a_deferred_credential(office: Office) -> None:
    offer = office.service.offer(
        ["ResidencePermit.sd_jwt"], claims={"ResidencePermit": None}, tx_code=False
    )
    result = office.receive(offer.uri, "--yes")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deferred"][0]["configuration_id"] == "ResidencePermit.sd_jwt"

    second = office.service.offer(
        ["ResidencePermit.sd_jwt"], claims={"ResidencePermit": None}, tx_code=False
    )
    timer = threading.Timer(
        1.0,
        office.service.provide,
        (second.case_id, "ResidencePermit", office.claims("ResidencePermit")),
    )
    timer.start()
    try:
        result = office.receive(second.uri, "--yes", "--wait", "20")
    finally:
        timer.cancel()
    out = json.loads(result.stdout)
    assert result.exit_code == 0 and out["deferred"] == []
    assert [c["format"] for c in out["stored"]] == ["dc+sd-jwt"]


def test_authorization_code_offer_from_the_command_line(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person opens the printed address in a browser and pastes where it led: here the
    'browser' is a real HTTP GET to our authorization endpoint, and the pasting is the prompt."""
    import ssi_wallet.cli.wallet as wallet_cli
    from did_methods.http import HttpFetcher

    printed: list[str] = []
    original_echo = wallet_cli.echo_safe

    def echo(text: str, **kw: Any) -> None:
        printed.append(text)
        original_echo(text, **kw)

    def prompt(message: str, **kw: Any) -> str:
        assert message == "Address you were sent back to"
        url = printed[-1].rsplit("\n", 1)[-1]
        answer = HttpFetcher(allow_loopback=True).request("GET", url)
        assert answer.status == 302
        return answer.headers["location"]

    monkeypatch.setattr(wallet_cli, "echo_safe", echo)
    monkeypatch.setattr(wallet_cli.click, "prompt", prompt)
    offer = office.service.offer(
        ["WorkPermit.jwt_vc_json"],
        claims={"WorkPermit": office.claims()},
        pre_authorized=False,
        authorization_code=True,
    )
    result = office.receive(offer.uri, "--yes")
    assert result.exit_code == 0, result.output
    assert [c["format"] for c in json.loads(result.stdout)["stored"]] == ["jwt_vc_json"]
    assert any("/authorize?client_id=" in line for line in printed)
