"""``ssi-wallet verifier``: ask a wallet for what a policy needs, and check its answer.

``verifier request`` writes a presentation request for one of the policy
recipes (a fresh nonce, the verifier's audience, an expiry). The request JSON
is the OpenID4VP-shaped form of :class:`~ssi_wallet.request.PresentationRequest`
with the recipe's name and parameters (``policy``, ``policy_args``: sector,
region, institution, date), so that ``verifier check`` rebuilds the same
policy (:func:`ssi_wallet.policies.by_name`) from the request file the
verifier kept. Wallets ignore them.

``verifier check`` judges a presentation against that request with the
ledger as trust registry. Status lists are fetched over HTTPS, or offline
from a directory of published status documents (:class:`StatusDirectory`).
Exit codes: 0 accepted, 1 refused, 2 usage or malformed input.

A request is answered once: ``request --state FILE`` records its nonce,
digest and expiry in a SQLite file (:class:`~ssi_wallet.replay.SQLiteReplayStore`;
it may be the ledger file itself), and ``check --state FILE`` consumes it, so
the flow works across two invocations. ``--unsafe-stateless`` opts out on
both sides; one of the two is required.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import click

from did_methods._wire.text import safe_json
from did_methods.encoding import b64url_encode
from did_methods.errors import ParseError, StoreError
from did_methods.http import Fetcher, FetchError, HttpFetcher
from ssi_wallet import policies
from ssi_wallet.cli._io import echo_safe, emit, emit_json, force_option, read_input, write_out
from ssi_wallet.cli._options import StoreTarget, json_option, language_option, store_options
from ssi_wallet.replay import (
    ReplayStore,
    SQLiteReplayStore,
    UnsafeStatelessRequests,
    record_request,
)
from ssi_wallet.request import PresentationRequest, PresentationResponse
from ssi_wallet.verifier import Verifier

__all__ = ["StatusDirectory", "status_file_name", "verifier"]

_MAX_NAME = 255  # the longest file name most file systems allow

#: The policy recipes by name, with the parameters each takes.


def status_file_name(url: str) -> str:
    """The file name a status document published at ``url`` has in a status directory:
    the URL's UTF-8 bytes, base64url-encoded without padding (so no path separators)."""
    return b64url_encode(url.encode("utf-8"))


class StatusDirectory:
    """A :class:`~did_methods.http.Fetcher` that reads status documents from a directory.

    For a verifier without a network: an issuer's published status lists,
    each saved under :func:`status_file_name` of its URL. The documents are
    verified exactly as fetched ones are (signature, issuer, validity), so the
    directory need not be trusted, only recent. Raises
    :class:`~did_methods.http.FetchError` (``http_status`` when missing,
    ``too_large`` when over ``max_bytes``).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        """The document saved for ``url``, or a ``FetchError``."""
        name = status_file_name(url)
        if len(name) > _MAX_NAME:
            raise FetchError("invalid_url", "URL too long for a status directory", url=url)
        try:
            with open(self.root / name, "rb") as fh:
                data = fh.read(max_bytes + 1)
        except FileNotFoundError as exc:
            raise FetchError(
                "http_status", f"no status document for {url} in {self.root}", url=url, status=404
            ) from exc
        except OSError as exc:
            raise FetchError("network", f"cannot read the status document: {exc}", url=url) from exc
        if len(data) > max_bytes:
            raise FetchError("too_large", f"{url} is larger than {max_bytes} bytes", url=url)
        return data


def _replay_store(state: Path | None, unsafe_stateless: bool) -> ReplayStore:
    """The store named on the command line: exactly one of ``--state`` and
    ``--unsafe-stateless``."""
    if (state is None) == (not unsafe_stateless):
        raise click.UsageError(
            "say where the request's nonce is kept: --state FILE (the same file for "
            "'verifier request' and 'verifier check'), or --unsafe-stateless"
        )
    if state is None:
        return UnsafeStatelessRequests()
    try:
        return SQLiteReplayStore(state)
    except StoreError as exc:
        raise click.UsageError(f"--state {state}: {exc}") from exc


_STATE_HELP = (
    "A SQLite file that keeps the nonces of the requests made (created if missing; "
    "may be the ledger file): 'verifier check --state' with the same file accepts one "
    "answer to each."
)
_UNSAFE_HELP = "Keep no nonces: the same answer is accepted again and again (testing only)."


@click.group()
def verifier() -> None:
    """Ask a wallet for what a policy needs, and check the presentation it sends back."""


@verifier.command("request")
@click.option(
    "--policy",
    "policy_name",
    required=True,
    type=click.Choice(list(policies.RECIPES)),
    help="What to ask for.",
)
@click.option("--audience", required=True, help="This verifier's identifier (a DID or URL).")
@click.option("--sector", help="right_to_work: a NACE code or prefix, e.g. Q86.")
@click.option("--region", help="right_to_work: the region of the job.")
@click.option("--institution", help="right_to_study: the institution's name.")
@click.option(
    "--on",
    "on",
    metavar="DATE",
    help="The day the permit must be valid on (default: the day checked).",
)
@click.option(
    "--purpose", help="Why you ask, in words the holder will see (default: the policy's)."
)
@click.option(
    "--ttl",
    type=click.IntRange(10, 86_400),
    default=600,
    show_default=True,
    help="Seconds the request stays answerable.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the request to this new file instead of stdout.",
)
@force_option
@click.option(
    "--state", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE", help=_STATE_HELP
)
@click.option("--unsafe-stateless", is_flag=True, help=_UNSAFE_HELP)
def request(
    policy_name: str,
    audience: str,
    sector: str | None,
    region: str | None,
    institution: str | None,
    on: str | None,
    purpose: str | None,
    ttl: int,
    out: Path | None,
    force: bool,
    state: Path | None,
    unsafe_stateless: bool,
) -> None:
    """Make a presentation request for a policy, with a fresh nonce.

    Keep the request: 'verifier check' needs it to judge the answer. Send it
    to the wallet (as a file, a link or a QR code). The nonce is recorded in
    the --state file, where 'verifier check' consumes it: one answer per request.
    """
    given = {"sector": sector, "region": region, "institution": institution, "on": on}
    args = {k: v for k, v in given.items() if v is not None}
    try:
        policy = policies.by_name(policy_name, args)
    except ParseError as exc:
        raise click.UsageError(str(exc)) from exc
    store = _replay_store(state, unsafe_stateless)
    made = PresentationRequest.for_policy(policy, audience=audience, purpose=purpose, ttl=ttl)
    try:
        record_request(store, made, now=made.issued_at)
    finally:
        if isinstance(store, SQLiteReplayStore):
            store.close()
    data = made.to_json()
    if out is None:
        emit_json(data)
    else:
        write_out(out, safe_json(data) + "\n", force=force)
        echo_safe(f"request for {policy.purpose} written to {out}", err=True)


@verifier.command("check")
@store_options(db_help="The ledger (SQLite file): trusted issuers, DIDs, status list anchors.")
@click.option(
    "--trust-root",
    required=True,
    metavar="DID",
    help="The DID of the registry's root authority, whose accreditations you trust.",
)
@click.argument("request_file", metavar="REQUEST.json")
@click.argument("presentation_file", metavar="PRESENTATION.json|-")
@click.option(
    "--status-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Read status lists from this directory (offline), not over the network.",
)
@click.option(
    "--allow-http", is_flag=True, help="Fetch status lists and did:web over plain HTTP (testing)."
)
@click.option(
    "--allow-private", is_flag=True, help="Allow private and loopback addresses (testing only)."
)
@language_option(help="Language of the explanation.")
@json_option
@click.option(
    "--state",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    metavar="FILE",
    help="The file 'verifier request --state' recorded the request's nonce in.",
)
@click.option("--unsafe-stateless", is_flag=True, help=_UNSAFE_HELP)
def check(
    store: StoreTarget,
    trust_root: str,
    request_file: str,
    presentation_file: str,
    status_dir: Path | None,
    allow_http: bool,
    allow_private: bool,
    language: str,
    as_json: bool,
    state: Path | None,
    unsafe_stateless: bool,
) -> None:
    """Check a presentation against the request it answers, and explain the decision.

    Runs every step of the verifier: nonce and audience (the nonce, from the
    --state file, is consumed: a second answer is refused), completeness, each
    credential's signature, holder binding, validity and status (fail
    closed), its type, its issuer's accreditation on the ledger, and the
    policy's rule. Exit 0 accepted, 1 refused, 2 malformed input.
    """
    made = PresentationRequest.from_json(read_input(request_file, "request"))
    args = made.extra.get("policy_args", {})
    policy = policies.by_name(made.policy or "", args if isinstance(args, Mapping) else None)
    if made.query.to_json() != policy.query().to_json():
        raise ParseError(f"the request does not ask what {made.policy} asks: it was edited")
    presentation = PresentationResponse.from_json(read_input(presentation_file, "presentation"))
    http = HttpFetcher(allow_http=allow_http, allow_private=allow_private)
    fetcher: Fetcher = StatusDirectory(status_dir) if status_dir is not None else http
    replay = _replay_store(state, unsafe_stateless)
    try:
        ledger = store.open_ledger(trust_root=trust_root, read_only=True)
        try:
            checker = Verifier(
                ledger,
                audience=made.audience,
                resolver=ledger.resolver(fetcher=http),
                status_fetcher=fetcher,
                language=language,
                replay=replay,
            )
            report = checker.check(presentation, made, policy=policy)
        finally:
            ledger.close()
    finally:
        if isinstance(replay, SQLiteReplayStore):
            replay.close()
    text = report.explain()
    if not report.ok:
        text += f"\ncodes: {', '.join(report.codes)}"
    emit(as_json, report.to_json(), text)
    sys.exit(0 if report.ok else 1)
