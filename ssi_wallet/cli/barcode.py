"""``ssi-wallet barcode``: offline credentials in a QR code."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from credentials.barcode import decode_barcode, encode_barcode, qr_png, qr_svg
from did_methods.methods.key import did_key_from_public_key
from ssi_wallet.cli._io import emit_json, force_option, read_input, read_json_object, write_out
from ssi_wallet.cli._options import INSTANT, KeySource, key_options

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
@key_options(exists=False, help="The issuer's private key file; its did:key is the issuer.")
@click.option(
    "--claims",
    "claims_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON object of claims.",
)
@click.option(
    "--exp", required=True, type=INSTANT, metavar="TIME", help="ISO 8601 expiry of the barcode."
)
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also draw a PNG.")
@click.option("--svg", type=click.Path(dir_okay=False, path_type=Path), help="Also draw an SVG.")
@force_option
def issue(
    key: KeySource,
    claims_file: Path,
    exp: datetime,
    png: Path | None,
    svg: Path | None,
    force: bool,
) -> None:
    """Sign CLAIMS into a barcode string (printed) and optionally a QR image.

    Drawing images needs the `qr` extra (segno).
    """
    signing = key.read()
    claims = read_json_object(claims_file, "claims file", max_bytes=_MAX_CLAIMS)
    did = did_key_from_public_key(signing.public_key)
    kid = f"{did}#{signing.public_key.to_multikey()}"
    text = encode_barcode(claims, signing, kid=kid, issuer=did, exp=exp)
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
