"""`ssi-wallet serve issuer`: the configuration read, the issuer run as a real process on
127.0.0.1, an offer made through its back office and received by our wallet, and bad
configurations reported with exit code 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _live_server import bind_free_socket
from click.testing import CliRunner
from oid4vci_world import SocketTransport

from credentials import schemas
from did_methods.http import FetchError
from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType, PrivateKey
from ssi_wallet import Holder
from ssi_wallet.cli import cli
from ssi_wallet.oid4vci.wallet import WalletClient
from ssi_wallet.server.common import ConfigError
from ssi_wallet.server.oid4vci import IssuerServiceConfig

pytest.importorskip("uvicorn")
TOKEN = "a-token-for-serve-issuer"


def _config(home: Path, port: int, issuer: str | None = None) -> Path:
    write_key_file(home / "issuer.jwk", PrivateKey.generate(KeyType.P256))
    (home / "token.txt").write_text(TOKEN)
    path = home / "issuer.toml"
    path.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\ntoken_file = "token.txt"\n\n'
        + (
            issuer
            or '[issuer]\nkey_file = "issuer.jwk"\nname = "Office"\n'
            'types = ["WorkPermit", "ResidencePermit"]\nbatch_size = 3\n'
        )
    )
    return path


def test_serve_issuer_issues_to_our_wallet(tmp_path: Path) -> None:
    sock = bind_free_socket()
    port = sock.getsockname()[1]
    sock.close()
    path = _config(tmp_path, port)
    process = subprocess.Popen(
        [sys.executable, "-m", "ssi_wallet", "serve", "issuer", "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    transport = SocketTransport()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = transport.request(
                    "GET", base + "/.well-known/openid-credential-issuer", headers={}
                )
                break
            except FetchError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the issuer did not start"
                time.sleep(0.2)
        metadata = json.loads(reply.body)
        assert sorted(metadata["credential_configurations_supported"]) == [
            "ResidencePermit.jwt_vc_json",
            "ResidencePermit.ldp_vc",
            "ResidencePermit.sd_jwt",
            "WorkPermit.jwt_vc_json",
            "WorkPermit.ldp_vc",
            "WorkPermit.sd_jwt",
        ]
        assert metadata["credential_configurations_supported"]["WorkPermit.ldp_vc"][
            "credential_signing_alg_values_supported"
        ] == ["ecdsa-jcs-2019"]
        claims = schemas.example_subject("WorkPermit")
        claims.pop("id")
        body = {
            "credential_configuration_ids": ["WorkPermit.ldp_vc"],
            "claims": {"WorkPermit": claims},
        }
        made = transport.request(
            "POST",
            base + "/offers",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
            body=json.dumps(body).encode(),
        )
        assert made.status == 201, made.body
        offer = json.loads(made.body)
        wallet = Holder.create(":memory:", passphrase="p")
        client = WalletClient(wallet, transport, unsafe_allow_http=True)
        stored = client.receive(offer["credential_offer"], tx_code=offer["tx_code"], batch=2).stored
        assert [c.format for c in stored] == ["ldp_vc", "ldp_vc"]
        status_url = stored[0].claims["credentialStatus"][0]["statusListCredential"]
        assert status_url.startswith(base + "/status/")
        assert transport.request("GET", status_url, headers={}).status == 200
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_issuer_reports_a_bad_configuration(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "issuer", "--config", str(tmp_path / "no.toml")])
    assert result.exit_code == 2  # malformed input (issue 15 item 5)
    assert "cannot read" in result.output


@pytest.mark.parametrize(
    ("issuer", "says"),
    [
        ("[issuer]\n", "key_file is required"),
        ('[issuer]\nkey_file = "issuer.jwk"\ntypes = ["Spaceship"]\n', "issuer.types"),
        ('[issuer]\nkey_file = "issuer.jwk"\nbatch_size = 0\n', "batch_size"),
    ],
)
def test_bad_issuer_tables_are_refused(tmp_path: Path, issuer: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        IssuerServiceConfig.load(_config(tmp_path, 8443, issuer))


def _start(path: Path, base: str, transport: SocketTransport) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ssi_wallet", "serve", "issuer", "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            transport.request("GET", base + "/.well-known/oauth-authorization-server", headers={})
            return process
        except FetchError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the issuer did not start"
            time.sleep(0.2)


def test_an_offer_survives_a_restart_with_a_state_file(tmp_path: Path) -> None:
    sock = bind_free_socket()
    port = sock.getsockname()[1]
    sock.close()
    path = _config(tmp_path, port, '[issuer]\nkey_file = "issuer.jwk"\nstate = "state.db"\n')
    base = f"http://127.0.0.1:{port}"
    transport = SocketTransport()
    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    process = _start(path, base, transport)
    try:
        made = transport.request(
            "POST",
            base + "/offers",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
            body=json.dumps(
                {
                    "credential_configuration_ids": ["WorkPermit.sd_jwt"],
                    "claims": {"WorkPermit": claims},
                }
            ).encode(),
        )
        assert made.status == 201, made.body
    finally:
        process.terminate()
        process.wait(timeout=20)
    offer = json.loads(made.body)
    process = _start(path, base, transport)  # a new process: only the state file remembers
    try:
        client = WalletClient(
            Holder.create(":memory:", passphrase="p"), transport, unsafe_allow_http=True
        )
        stored = client.receive(offer["credential_offer"], tx_code=offer["tx_code"]).stored
        assert [c.format for c in stored] == ["dc+sd-jwt"]
        events = transport.request(
            "GET",
            f"{base}/cases/{offer['case_id']}/notifications",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert [e["event"] for e in json.loads(events.body)["events"]] == ["credential_accepted"]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert (tmp_path / "state.db").exists()


def test_dpop_settings_reach_the_issuer(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        8443,
        '[issuer]\nkey_file = "issuer.jwk"\nrequire_dpop = true\ndpop_nonce = true\n',
    )
    service = IssuerServiceConfig.load(path).build()
    assert service.require_dpop and service.dpop_nonce
    path.write_text(path.read_text().replace("dpop_nonce = true", 'dpop_nonce = "yes"'))
    with pytest.raises(ConfigError, match="true or false"):
        IssuerServiceConfig.load(path)
