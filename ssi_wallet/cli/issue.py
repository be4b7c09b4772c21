"""``ssi-wallet issue``: the minimal issuing command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from credentials import schemas
from did_methods._wire.text import safe_json
from ssi_wallet.cli._io import emit_json, force_option, read_json_object, write_out
from ssi_wallet.cli._options import INSTANT, KeySource, key_options
from ssi_wallet.issuer import Issuer

__all__ = ["issue"]

_MAX_SUBJECT = 1024 * 1024


def _subject(path: Path) -> dict[str, Any]:
    subject = read_json_object(path, "subject file", max_bytes=_MAX_SUBJECT)
    if not isinstance(subject.get("id"), str):
        raise click.UsageError("the subject needs an 'id': the holder's DID")
    return subject


@click.command("issue")
@click.option(
    "--type",
    "type_name",
    required=True,
    type=click.Choice(schemas.CREDENTIAL_TYPES),
    help="Credential type from the immigration vocabulary.",
)
@click.option(
    "--example-subject",
    is_flag=True,
    help="Print an example credentialSubject of --type (JSON, valid against its schema) "
    "to start a subject file from, and exit.",
)
@click.option(
    "--subject-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file with the credentialSubject; its 'id' is the holder's DID.  [required]",
)
@key_options(
    required=False,
    exists=False,
    help="The issuer's private key file (as written by 'ssi-wallet did create').  [required]",
)
@click.option(
    "--format",
    "fmt",
    default="sd-jwt",
    show_default=True,
    type=click.Choice(["sd-jwt", "di-eddsa", "di-ecdsa", "vc-jwt", "jwt_vc_json"]),
    help="Securing format (vc-jwt: a VC DM 2.0 vc+jwt; jwt_vc_json: a VC DM 1.1 JWT).",
)
@click.option(
    "--valid-until",
    type=INSTANT,
    metavar="TIME",
    help="ISO 8601 end of validity (default: expiryDate).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the credential to this new file (mode 0600) instead of stdout; "
    "nothing is written when issuing fails.",
)
@force_option
def issue(
    type_name: str,
    example_subject: bool,
    subject_file: Path | None,
    key: KeySource | None,
    fmt: str,
    valid_until: datetime | None,
    out: Path | None,
    force: bool,
) -> None:
    """Issue a credential signed by the key in KEY_FILE (its did:key is the issuer).

    The claims are validated against the type's JSON Schema first; every
    violation is listed and nothing is signed (exit 2). The credential is
    printed to stdout: compact text for sd-jwt, vc-jwt and jwt_vc_json, JSON
    otherwise.
    """
    if example_subject:
        emit_json(schemas.example_subject(type_name))
        return
    if subject_file is None or key is None:
        missing = "--subject-file" if subject_file is None else "--key-file"
        raise click.UsageError(f"{missing} is required (or ask for --example-subject)")
    signing = key.read()
    subject = _subject(subject_file)
    holder = subject.pop("id")
    issuer = Issuer.create(None, name=str(key.path), key=signing)
    issued = issuer.issue(
        type_name,
        subject=holder,
        claims=subject,
        format=fmt,  # type: ignore[arg-type]
        valid_until=valid_until,
        with_status=False,
    )
    if out is not None:
        if isinstance(issued.credential, str):
            text = issued.credential + "\n"
        else:
            text = safe_json(issued.credential) + "\n"
        write_out(out, text, force=force)
    elif isinstance(issued.credential, str):
        click.echo(issued.credential)
    else:
        emit_json(issued.credential)
