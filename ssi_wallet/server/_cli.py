"""``ssi-wallet serve``: run an HTTP service from a configuration file."""

from __future__ import annotations

import click

__all__ = ["serve"]


@click.group()
def serve() -> None:
    """Run an HTTP service: the VC API, an OpenID4VCI issuer or an OpenID4VP verifier.

    Install it with: pip install 'ssi-wallet[server]'.
    """


@serve.command("vc-api")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="TOML configuration file (see docs/vc-api.md).",
)
def vc_api(config_path: str) -> None:
    """Serve the W3C VC API: issue, verify, status lists and DID Resolution."""
    try:
        from ssi_wallet.server.common import run
        from ssi_wallet.server.vc_api import VcApiConfig, create_app
    except ImportError as exc:  # starlette or uvicorn missing
        raise click.ClickException(
            f"{exc.name} is not installed: pip install 'ssi-wallet[server]'"
        ) from exc
    config = VcApiConfig.load(config_path)
    app = create_app(config)
    click.echo(f"VC API on {config.server.public_url}", err=True)
    run(app, config.server)


@serve.command("verifier")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="TOML configuration file (see docs/openid4vp.md).",
)
def verifier(config_path: str) -> None:
    """Serve an OpenID4VP 1.0 verifier: request objects, responses, results, a QR page."""
    try:
        from ssi_wallet.server.common import run
        from ssi_wallet.server.oid4vp import OID4VPConfig, create_app
    except ImportError as exc:  # starlette, uvicorn or segno missing
        raise click.ClickException(
            f"{exc.name} is not installed: pip install 'ssi-wallet[server]'"
        ) from exc
    config = OID4VPConfig.load(config_path)
    app = create_app(config)
    click.echo(f"OpenID4VP verifier on {config.server.public_url}/verifier", err=True)
    run(app, config.server)


@serve.command("issuer")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="TOML configuration file (see docs/openid4vci.md).",
)
def issuer(config_path: str) -> None:
    """Serve an OpenID4VCI 1.0 credential issuer: metadata, offers, tokens, credentials."""
    try:
        from ssi_wallet.server.common import run
        from ssi_wallet.server.oid4vci import IssuerServiceConfig, app_from_config
    except ImportError as exc:  # starlette or uvicorn missing
        raise click.ClickException(
            f"{exc.name} is not installed: pip install 'ssi-wallet[server]'"
        ) from exc
    config = IssuerServiceConfig.load(config_path)
    app = app_from_config(config)
    click.echo(f"OpenID4VCI issuer {config.identifier} on {config.server.public_url}", err=True)
    run(app, config.server)
