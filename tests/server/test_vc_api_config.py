"""The VC API's configuration, its command and TLS: bad settings are typed errors, never a
half-started server; `ssi-wallet serve vc-api` reports them as the CLI reports any error;
HTTPS works with the configured certificate (real TLS on 127.0.0.1)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

from _live_server import bind_free_socket, serve_asgi
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType, PrivateKey
from ssi_wallet.cli import cli
from ssi_wallet.server.common import ConfigError
from ssi_wallet.server.vc_api import VcApiConfig, create_app

TOKEN = "a-token-of-enough-length"


def _write(home: Path, server: str, vc_api: str) -> Path:
    if not (home / "k.jwk").exists():
        write_key_file(home / "k.jwk", PrivateKey.generate(KeyType.ED25519))
    (home / "token.txt").write_text(TOKEN)
    path = home / "vc-api.toml"
    path.write_text(f"[server]\n{server}\n\n[vc_api]\n{vc_api}\n")
    return path


ISSUER = '[vc_api.issuers.a]\nkey_file = "k.jwk"\nformat = "di-eddsa"'


@pytest.mark.parametrize(
    "server, vc_api, says",
    [
        ("", ISSUER, "token"),  # no token: nothing that changes state could be guarded
        ('token_env = "SSI_TEST_UNSET_TOKEN_VAR"', ISSUER, "empty"),
        ('token_file = "token.txt"\nport = 70000', ISSUER, "port"),
        ('token_file = "token.txt"\ntls_cert = "c.pem"', ISSUER, "go together"),
        ('token_file = "token.txt"\nmax_body_bytes = 10', ISSUER, "max_body_bytes"),
        ('token_file = "token.txt"', "", "issuers"),
        ('token_file = "token.txt"', ISSUER.replace("di-eddsa", "di-rdfc"), "format"),
        ('token_file = "token.txt"', 'default_issuer = "b"\n' + ISSUER, "default_issuer"),
        ('token_file = "token.txt"', "authorised_controllers = 3\n" + ISSUER, "authorised"),
        ('token_file = "token.txt"\nport = "x', ISSUER, "TOML"),
        # [vc_api.issuer_keys]: JWK Set files of URL issuers (RFC 7517 5)
        ('token_file = "token.txt"', "issuer_keys = 3\n" + ISSUER, "issuer_keys"),
        (
            'token_file = "token.txt"',
            '[vc_api.issuer_keys]\n"https://i.example" = "missing.json"\n' + ISSUER,
            "cannot read",
        ),
        (
            'token_file = "token.txt"',
            '[vc_api.issuer_keys]\n"https://i.example" = { keys = 3 }\n' + ISSUER,
            "keyset_invalid",
        ),
        (
            'token_file = "token.txt"',
            '[vc_api.issuer_keys]\n"did:web:i.example" = { keys = [] }\n' + ISSUER,
            "keyset_invalid",
        ),
        (
            'token_file = "token.txt"',
            '[vc_api.issuer_keys]\n"https://i.example" = '
            '{ keys = [{ kty = "OKP", crv = "Ed25519", x = "AA", d = "AA" }] }\n' + ISSUER,
            "private_key_in_set",
        ),
    ],
)
def test_bad_configuration_is_a_config_error(
    tmp_path: Path, server: str, vc_api: str, says: str
) -> None:
    path = _write(tmp_path, server, vc_api)
    with pytest.raises(ConfigError) as info:
        VcApiConfig.load(path)
    assert says in str(info.value)


def test_a_short_token_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, 'token_file = "token.txt"', ISSUER)
    (tmp_path / "token.txt").write_text("short")
    with pytest.raises(ConfigError, match="at least"):
        VcApiConfig.load(path)


def test_serve_reports_a_bad_configuration_and_exits_2(tmp_path: Path) -> None:
    # a configuration that cannot be used is malformed input: exit 2 (issue 15 item 5)
    result = CliRunner().invoke(
        cli, ["serve", "vc-api", "--config", str(tmp_path / "missing.toml")]
    )
    assert result.exit_code == 2
    assert "cannot read" in result.output


def _certificate(home: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (home / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (home / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_tls_serves_https_and_status_lists_at_the_https_url(tmp_path: Path) -> None:
    _certificate(tmp_path)
    sock = bind_free_socket()
    port = sock.getsockname()[1]
    path = _write(
        tmp_path,
        f'port = {port}\ntoken_file = "token.txt"\ntls_cert = "tls.crt"\ntls_key = "tls.key"',
        ISSUER,
    )
    config = VcApiConfig.load(path)
    assert config.server.public_url == f"https://127.0.0.1:{port}"
    with serve_asgi(
        create_app(config),
        sock=sock,
        ssl_certfile=config.server.tls_cert,
        ssl_keyfile=config.server.tls_key,
    ):
        context = ssl.create_default_context(cafile=str(tmp_path / "tls.crt"))
        url = f"https://127.0.0.1:{port}/status/a/revocation"
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            listed = json.loads(response.read())
        assert listed["id"] == url  # published under the https public URL
        with pytest.raises(OSError):  # plain HTTP is not served
            urllib.request.urlopen(url.replace("https", "http"), timeout=5)
