"""``ssi-wallet barcode``: offline credentials in a QR code."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from credentials.barcode import decode_barcode, encode_barcode, qr_png, qr_svg
from did_methods.keyfile import read_key_file
from did_methods.methods.key import did_key_from_public_key
from ssi_wallet.cli._io import emit_json, force_option, read_input, read_json_object, write_out

__all__ = ["barcode"]

_MAX_CLAIMS = 64 * 1024


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


@click.group()
def barcode() -> None:
    """Sign credentials into QR codes that verify offline, and read them."""


@barcode.command("issue")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The issuer's private key file; its did:key is the issuer.",
)
@click.option(
    "--claims",
    "claims_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON object of claims.",
)
@click.option("--exp", required=True, metavar="TIME", help="ISO 8601 expiry of the barcode.")
@click.option("--passphrase-env", metavar="VAR", help="Variable holding the key file's passphrase.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also draw a PNG.")
@click.option("--svg", type=click.Path(dir_okay=False, path_type=Path), help="Also draw an SVG.")
@force_option
def issue(
    key_file: Path,
    claims_file: Path,
    exp: str,
    passphrase_env: str | None,
    png: Path | None,
    svg: Path | None,
    force: bool,
) -> None:
    """Sign CLAIMS into a barcode string (printed) and optionally a QR image.

    Drawing images needs the `qr` extra (segno).
    """
    passphrase = os.environ.get(passphrase_env) if passphrase_env else None
    key = read_key_file(key_file, passphrase=passphrase)
    claims = read_json_object(claims_file, "claims file", max_bytes=_MAX_CLAIMS)
    try:
        expires = datetime.fromisoformat(exp.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    did = did_key_from_public_key(key.public_key)
    kid = f"{did}#{key.public_key.to_multikey()}"
    text = encode_barcode(claims, key, kid=kid, issuer=did, exp=expires)
    if png is not None:
        write_out(png, qr_png(text), force=force)
    if svg is not None:
        write_out(svg, qr_svg(text), force=force)
    click.echo(text)


@barcode.command("show")
@click.argument("source", metavar="TEXT|FILE|-")
def show(source: str) -> None:
    """Decode a barcode WITHOUT verifying it (use `ssi-wallet verify` to verify)."""
    if source == "-" or Path(source).is_file():
        text = read_input(source, "barcode", max_bytes=_MAX_CLAIMS * 4)
    else:
        text = source
    decoded = decode_barcode(text.strip())
    cwt = {str(k): v for k, v in decoded.cwt_claims.items() if k != -65537}
    out = {"UNVERIFIED": True, "cwt": cwt, "claims": dict(decoded.claims)}
    emit_json(out, default=_json_default)
