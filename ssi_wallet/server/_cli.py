"""``ssi-wallet serve``: run an HTTP service from a configuration file."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import click

__all__ = ["serve"]


@click.group()
def serve() -> None:
    """Run an HTTP service: the VC API, an OpenID4VCI issuer or an OpenID4VP verifier.

    Install it with: pip install 'ssi-wallet[server]'.
    """


def _config_option(page: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--config",
        "config_path",
        required=True,
        type=click.Path(dir_okay=False),
        help=f"TOML configuration file (see {page}).",
    )


def _service(name: str) -> tuple[ModuleType, Callable[..., None]]:
    """The service module ``ssi_wallet.server.<name>`` and the uvicorn runner.

    Starlette, uvicorn (and segno for the verifier page) come with the
    ``server`` extra; without them this says how to install it.
    """
    try:
        module = importlib.import_module(f"ssi_wallet.server.{name}")
        from ssi_wallet.server.common import run
    except ImportError as exc:
        raise click.ClickException(
            f"{exc.name} is not installed: pip install 'ssi-wallet[server]'"
        ) from exc
    return module, run


@serve.command("vc-api")
@_config_option("docs/vc-api.md")
def vc_api(config_path: str) -> None:
    """Serve the W3C VC API: issue, verify, status lists and DID Resolution."""
    module, run = _service("vc_api")
    config = module.VcApiConfig.load(config_path)
    app = module.create_app(config)
    click.echo(f"VC API on {config.server.public_url}", err=True)
    run(app, config.server)


@serve.command("verifier")
@_config_option("docs/openid4vp.md")
def verifier(config_path: str) -> None:
    """Serve an OpenID4VP 1.0 verifier: request objects, responses, results, a QR page."""
    module, run = _service("oid4vp")
    config = module.OID4VPConfig.load(config_path)
    app = module.create_app(config)
    click.echo(f"OpenID4VP verifier on {config.server.public_url}/verifier", err=True)
    run(app, config.server)


@serve.command("issuer")
@_config_option("docs/openid4vci.md")
def issuer(config_path: str) -> None:
    """Serve an OpenID4VCI 1.0 credential issuer: metadata, offers, tokens, credentials."""
    module, run = _service("oid4vci")
    config = module.IssuerServiceConfig.load(config_path)
    app = module.app_from_config(config)
    click.echo(f"OpenID4VCI issuer {config.identifier} on {config.server.public_url}", err=True)
    run(app, config.server)
