"""`ssi-wallet serve verifier`: the configuration file read, the service started as a real
process on 127.0.0.1, and a bad configuration reported with exit code 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from _live_server import bind_free_socket
from click.testing import CliRunner

from did_methods.keyfile import write_key_file
from did_methods.keys import PrivateKey
from ledger.facade import Ledger
from ssi_wallet.cli import cli
from ssi_wallet.oid4vp._protocol import RequestObject
from ssi_wallet.server.common import ConfigError
from ssi_wallet.server.oid4vp import OID4VPConfig

pytest.importorskip("uvicorn")
TOKEN = "a-token-for-serve-verifier"


def _config(home: Path, port: int, clients: str | None = None) -> Path:
    write_key_file(home / "verifier.jwk", PrivateKey.generate())
    (home / "token.txt").write_text(TOKEN)
    ledger = Ledger.open(home / "registry.db", key=PrivateKey.generate())
    ledger.close()
    path = home / "verifier.toml"
    path.write_text(
        f"""[server]
host = "127.0.0.1"
port = {port}
token_file = "token.txt"

[oid4vp]
ledger = "registry.db"
state = "nonces.db"
language = "fr"

{
            clients
            or '''[oid4vp.clients.did]
prefix = "decentralized_identifier"
key_file = "verifier.jwk"'''
        }
"""
    )
    return path


def test_serve_verifier_answers_over_http(tmp_path: Path) -> None:
    sock = bind_free_socket()
    port = sock.getsockname()[1]
    sock.close()
    path = _config(tmp_path, port)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ssi_wallet", "serve", "verifier", "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/verifier/page.js", timeout=2) as answer:
                    assert answer.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the verifier did not start"
                time.sleep(0.2)
        create = urllib.request.Request(
            base + "/oid4vp/requests",
            data=json.dumps({"policy": "right_to_reside"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
            method="POST",
        )
        with urllib.request.urlopen(create, timeout=10) as answer:
            made = json.loads(answer.read())
        with urllib.request.urlopen(made["request_uri"], timeout=10) as answer:
            media = answer.headers["Content-Type"]
            obj = RequestObject.parse(answer.read())
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert media == "application/oauth-authz-req+jwt"
    assert obj.unverified_claims["client_id"] == made["client_id"]
    assert obj.unverified_claims["response_uri"] == base + "/oid4vp/response"
    assert made["client_id"].startswith("decentralized_identifier:did:key:")
    assert (tmp_path / "nonces.db").exists()  # the nonce went to the configured state file


def test_serve_verifier_reports_a_bad_configuration(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "verifier", "--config", str(tmp_path / "missing.toml")]
    )
    assert result.exit_code == 2  # malformed input (issue 15 item 5)
    assert "cannot read" in result.output


@pytest.mark.parametrize(
    ("clients", "says"),
    [
        ('[oid4vp.clients.a]\nprefix = "openid_federation"', "prefix must be one of"),
        (
            '[oid4vp.clients.a]\nprefix = "verifier_attestation"\nkey_file = "k.jwk"',
            "needs attestation_file and dns_name",
        ),
        ('[oid4vp.clients.a]\nprefix = "x509_hash"\nkey_file = "k.jwk"', "needs chain_file"),
        ('[oid4vp.clients.a]\nprefix = "decentralized_identifier"', "key_file is required"),
        ("", "at least one"),
    ],
)
def test_bad_client_tables_are_refused(tmp_path: Path, clients: str, says: str) -> None:
    path = _config(tmp_path, 8443, clients or "# none")
    with pytest.raises(ConfigError, match=says):
        OID4VPConfig.load(path)
