"""The OpenID4VP 1.0 verifier over HTTP: requests, request objects, responses, results,
and a small web page that shows the QR code and then the decision.

Endpoints (``docs/openid4vp.md`` shows each request and answer):

* ``POST /oid4vp/requests`` (bearer token): ``{"policy", "params", "client",
  "response_mode", "request_uri_method", "purpose", "flow", "transaction_data"}``
  in, ``201`` with
  ``transaction_id``, ``request_uri``, ``authorization_request`` (the
  ``openid4vp://`` link), ``result_uri`` and ``result_token`` out;
* ``GET /oid4vp/requests/{id}`` and, when the request said
  ``request_uri_method=post``, ``POST /oid4vp/requests/{id}`` (form:
  ``wallet_nonce``, ``wallet_metadata``): the request object,
  ``application/oauth-authz-req+jwt``;
* ``POST /oid4vp/response`` (the ``response_uri``): the Authorization Response
  (form: ``vp_token`` and ``state``; for ``direct_post.jwt`` ``response``, a JWE
  to the transaction's ephemeral key; or ``error``), answered
  ``200 {}`` or ``200 {"redirect_uri"}``;
* ``GET /oid4vp/results/{transaction_id}`` (``?lang=``; ``?response_code=``, or
  ``Authorization: Bearer`` with the transaction's ``result_token`` or the back
  office's token; else 401 ``result_unauthorized``): ``status`` (``pending``,
  ``answered``, ``wallet_error``), and once answered ``ok`` (the decision),
  ``explanation`` (in the language asked) and ``report``; in a ``same_device``
  flow the result token shows the status only (``response_code_required``);
* ``GET /verifier`` (``?policy=`` and the policy's parameters, ``?client=``,
  ``?response_mode=``, ``?lang=``): the page, and ``GET /verifier/page.js``.

Errors are RFC 9457 problem details; the wallet-facing ones also carry the
OAuth ``error`` and ``error_description`` members. The configuration file adds
to the ``[server]`` table (:mod:`ssi_wallet.server.common`)::

    [oid4vp]
    ledger = "registry.db"        # the trust registry (opened read-only) and its resolver
    state = "verifier-state.db"   # optional: single-use nonces and the transactions kept
                                  # in this SQLite file (they survive a restart)
    language = "en"               # the default language of explanations
    redirect_uri = "https://verifier.example/done"   # optional: sent back after a response
    scheme = "openid4vp://"       # how authorization request links start
    default_client = "did"        # default: the first client
    page = true                   # serve the page at /verifier (default true)
    fetch_remote_status = true    # fetch issuers' status lists over HTTPS (default true)
    enc_values = ["A128GCM", "A256GCM"]   # direct_post.jwt content encryption offered
    mdoc_trust_anchors = "iaca.pem"   # optional: the IACA certificates (PEM) an mso_mdoc's
                                      # document signer must chain to (none: mdocs refused)

    [oid4vp.clients.did]
    prefix = "decentralized_identifier"
    key_file = "verifier.jwk"     # signs request objects; the client is its did:key

    [oid4vp.clients.x509]
    prefix = "x509_san_dns"
    dns_name = "verifier.example"   # a dNSName SAN of the leaf; the response URI's host
    key_file = "leaf.jwk"           # the leaf certificate's private key
    chain_file = "chain.pem"        # the leaf first, then intermediates (PEM)

    [oid4vp.clients.hash]
    prefix = "x509_hash"          # client_id is x509_hash:<base64url SHA-256 of the leaf's DER>
    key_file = "leaf.jwk"
    chain_file = "chain.pem"

    [oid4vp.clients.attested]
    prefix = "verifier_attestation"
    dns_name = "verifier.example"   # the attested name (the attestation's sub)
    key_file = "verifier.jwk"       # the attestation's cnf key
    attestation_file = "attestation.jwt"   # the Verifier Attestation JWT

    [oid4vp.clients.open]
    prefix = "redirect_uri"       # unsigned, by value; client_id is redirect_uri:<response URI>
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from credentials.x5c import load_trust_anchors
from did_methods.errors import ParseError
from did_methods.http import Fetcher
from did_methods.keyfile import read_key_file
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver
from ssi_wallet import policies
from ssi_wallet.oid4vp._protocol import ENC_VALUES, REQUEST_MEDIA_TYPE, RESPONSE_MODES, SCHEME
from ssi_wallet.oid4vp.errors import OID4VPError
from ssi_wallet.oid4vp.verifier import (
    FLOWS,
    ClientIdentity,
    DIDClient,
    Flow,
    MemoryTransactionStore,
    OID4VPVerifier,
    RedirectURIClient,
    RequestURIMethod,
    ResponseMode,
    TransactionStore,
    VerifierAttestationClient,
    X509HashClient,
    X509SanDnsClient,
)
from ssi_wallet.server.common import (
    ConfigError,
    Handler,
    HTTPProblem,
    ServerConfig,
    authorise,
    bearer_token,
    bears_token,
    build_app,
    guard,
    load_toml,
    read_form_body,
    read_json_body,
)
from ssi_wallet.verifier import TrustRegistry, Verifier

__all__ = ["ClientConfig", "OID4VPConfig", "create_app"]

#: Builds a policy from the ``params`` of a request (text values), or raises ParseError.
PolicyFactory = Callable[[Mapping[str, str]], policies.Policy]

_PREFIXES: Final = (
    "decentralized_identifier",
    "x509_san_dns",
    "x509_hash",
    "verifier_attestation",
    "redirect_uri",
)
_NO_STORE: Final = {"Cache-Control": "no-store"}
_PAGE_CSP: Final = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """One configured client identity: its name, prefix and key file (when signed)."""

    name: str
    prefix: str
    key_file: Path | None = None
    chain_file: Path | None = None
    dns_name: str | None = None
    attestation_file: Path | None = None


@dataclass(frozen=True, slots=True)
class OID4VPConfig:
    """A validated verifier configuration file."""

    server: ServerConfig
    clients: tuple[ClientConfig, ...]
    default_client: str
    ledger: Path | None = None
    state: Path | None = None
    language: str = "en"
    redirect_uri: str | None = None
    scheme: str = f"{SCHEME}://"
    fetch_remote_status: bool = True
    enc_values: tuple[str, ...] = ENC_VALUES
    page: bool = True
    mdoc_trust_anchors: Path | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> OID4VPConfig:
        """Read and check a TOML configuration file; raises :class:`ConfigError`."""
        data, base = load_toml(path)
        return cls.from_tables(data, base)

    @classmethod
    def from_tables(cls, data: Mapping[str, Any], base: Path) -> OID4VPConfig:
        """Check the ``[server]`` and ``[oid4vp]`` tables (paths relative to ``base``)."""
        server, section = data.get("server", {}), data.get("oid4vp", {})
        if not isinstance(server, dict) or not isinstance(section, dict):
            raise ConfigError("[server] and [oid4vp] must be tables")
        raw = section.get("clients", {})
        if not isinstance(raw, dict) or not raw:
            raise ConfigError("[oid4vp.clients.NAME] tables are required (at least one)")
        clients = []
        for name, table in raw.items():
            if not isinstance(table, dict) or table.get("prefix") not in _PREFIXES:
                raise ConfigError(f"oid4vp.clients.{name}.prefix must be one of {_PREFIXES}")
            key_file = table.get("key_file")
            if table["prefix"] != "redirect_uri" and not isinstance(key_file, str):
                raise ConfigError(f"oid4vp.clients.{name}.key_file is required")
            chain, dns = table.get("chain_file"), table.get("dns_name")
            if table["prefix"] == "x509_san_dns" and not (
                isinstance(chain, str) and isinstance(dns, str) and dns
            ):
                raise ConfigError(f"oid4vp.clients.{name} needs chain_file and dns_name")
            if table["prefix"] == "x509_hash" and not isinstance(chain, str):
                raise ConfigError(f"oid4vp.clients.{name} needs chain_file")
            attestation = table.get("attestation_file")
            if table["prefix"] == "verifier_attestation" and not (
                isinstance(attestation, str) and isinstance(dns, str) and dns
            ):
                raise ConfigError(f"oid4vp.clients.{name} needs attestation_file and dns_name")
            clients.append(
                ClientConfig(
                    name,
                    table["prefix"],
                    base / key_file if key_file else None,
                    base / chain if isinstance(chain, str) else None,
                    dns if isinstance(dns, str) else None,
                    base / attestation if isinstance(attestation, str) else None,
                )
            )
        default = section.get("default_client", clients[0].name)
        if default not in raw:
            raise ConfigError(f"oid4vp.default_client {default!r} is not a configured client")

        def text(name: str, default: str | None) -> str | None:
            value = section.get(name, default)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"oid4vp.{name} must be a string")
            return value

        ledger, state = text("ledger", None), text("state", None)
        iaca = text("mdoc_trust_anchors", None)
        encs = section.get("enc_values", list(ENC_VALUES))
        if not isinstance(encs, list) or not encs or any(e not in ENC_VALUES for e in encs):
            raise ConfigError(f"oid4vp.enc_values must list some of {', '.join(ENC_VALUES)}")
        remote, page = section.get("fetch_remote_status", True), section.get("page", True)
        if not isinstance(remote, bool) or not isinstance(page, bool):
            raise ConfigError("oid4vp.fetch_remote_status and oid4vp.page are true or false")
        return cls(
            ServerConfig.from_table(server, base),
            tuple(clients),
            default,
            base / ledger if ledger else None,
            base / state if state else None,
            text("language", "en") or "en",
            text("redirect_uri", None),
            text("scheme", f"{SCHEME}://") or f"{SCHEME}://",
            remote,
            tuple(encs),
            page,
            base / iaca if iaca else None,
        )


def _client(entry: ClientConfig, response_uri: str) -> ClientIdentity:
    if entry.prefix == "redirect_uri":
        return RedirectURIClient(response_uri)
    assert entry.key_file is not None
    key = read_key_file(entry.key_file)
    if entry.prefix == "verifier_attestation":
        assert entry.attestation_file is not None and entry.dns_name is not None
        try:
            attestation = entry.attestation_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {entry.attestation_file}: {exc}") from exc
        return VerifierAttestationClient(entry.dns_name, key, attestation)
    if entry.prefix in ("x509_san_dns", "x509_hash"):
        assert entry.chain_file is not None
        try:
            chain = load_trust_anchors(entry.chain_file.read_bytes())
        except (OSError, ParseError) as exc:
            raise ConfigError(f"cannot read the chain {entry.chain_file}: {exc}") from exc
        ders = tuple(c.public_bytes(Encoding.DER) for c in chain)
        if entry.prefix == "x509_hash":
            return X509HashClient(key, ders)
        assert entry.dns_name is not None
        return X509SanDnsClient(entry.dns_name, key, ders)
    did = did_key_from_public_key(key.public_key)
    return DIDClient(did, key, f"{did}#{did.removeprefix('did:key:')}")


class _Service:
    """The verifiers behind the app: one per configured client, one transaction store."""

    def __init__(
        self,
        config: OID4VPConfig,
        trust: TrustRegistry | None,
        resolver: Resolver | None,
        status_fetcher: Fetcher | None,
        extra_policies: Mapping[str, PolicyFactory],
    ) -> None:
        self.config = config
        self.extra_policies = dict(extra_policies)
        if trust is None:
            if config.ledger is None:
                raise ConfigError("oid4vp.ledger (the trust registry) is required")
            from ledger.facade import Ledger

            trust = cast(TrustRegistry, Ledger.open(config.ledger, read_only=True))
        if resolver is None:
            make = getattr(trust, "resolver", None)
            resolver = make() if callable(make) else Resolver.default()
        if status_fetcher is None and config.fetch_remote_status:
            from did_methods.http import HttpFetcher

            status_fetcher = HttpFetcher()
        replay = None
        store: TransactionStore = MemoryTransactionStore()
        if config.state is not None:
            # one file keeps the single-use nonces and the transactions: a restarted
            # service serves its pending requests, and a nonce stays spent
            from ssi_wallet.oid4vp.store import sqlite_transaction_store
            from ssi_wallet.replay import SQLiteReplayStore

            replay = SQLiteReplayStore(config.state)
            store = sqlite_transaction_store(config.state, policy_factory=self.policy)
        base = config.server.public_url
        response_uri = f"{base}/oid4vp/response"
        anchors: list[x509.Certificate] = []
        if config.mdoc_trust_anchors is not None:
            try:
                anchors = load_trust_anchors(config.mdoc_trust_anchors.read_bytes())
            except (OSError, ParseError) as exc:
                raise ConfigError(f"oid4vp.mdoc_trust_anchors: {exc}") from exc
        self.verifiers: dict[str, OID4VPVerifier] = {}
        for entry in config.clients:
            client = _client(entry, response_uri)
            verifier = Verifier(
                trust,
                audience=client.client_id,
                resolver=resolver,
                status_fetcher=status_fetcher,
                language=config.language,
                replay=replay,
                mdoc_trust_anchors=anchors,
            )
            self.verifiers[entry.name] = OID4VPVerifier(
                verifier,
                client,
                response_uri=response_uri,
                request_uri_base=f"{base}/oid4vp/requests/",
                store=store,
                redirect_uri=config.redirect_uri,
                enc_values=config.enc_values,
            )
        # every client shares the store: any verifier finds any transaction
        self.any = self.verifiers[config.default_client]

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = body.get("client", self.config.default_client)
        if name not in self.verifiers:
            raise HTTPProblem(400, "client_unknown", "No such client", str(name)[:60])
        params = body.get("params", {})
        policy_name = body.get("policy")
        if not isinstance(policy_name, str) or not isinstance(params, dict):
            raise HTTPProblem(400, "invalid_request", "`policy` (a name) and `params` (an object)")
        policy = self.policy(policy_name, params)
        mode = body.get("response_mode", "direct_post")
        method = body.get("request_uri_method", "get")
        purpose = body.get("purpose")
        if mode not in RESPONSE_MODES:
            raise HTTPProblem(400, "response_mode_unsupported", "Unsupported response_mode")
        if method not in ("get", "post") or (purpose is not None and not isinstance(purpose, str)):
            raise HTTPProblem(400, "invalid_request", "request_uri_method is get or post")
        flow = body.get("flow")
        if flow is not None and flow not in FLOWS:
            raise HTTPProblem(400, "invalid_request", f"`flow` is one of {', '.join(FLOWS)}")
        if flow == "same_device" and self.config.redirect_uri is None:
            raise HTTPProblem(
                400, "invalid_request", "a same_device flow needs oid4vp.redirect_uri"
            )
        transaction_data = body.get("transaction_data", [])
        if not isinstance(transaction_data, list) or not all(
            isinstance(t, dict) for t in transaction_data
        ):
            raise HTTPProblem(400, "invalid_request", "`transaction_data` is a list of objects")
        formats = body.get("formats")
        if formats is not None and not (
            isinstance(formats, list) and formats and all(isinstance(f, str) for f in formats)
        ):
            raise HTTPProblem(400, "invalid_request", "`formats` is a list of DCQL formats")
        made = self.verifiers[name].create(
            policy,
            formats=formats,
            response_mode=cast(ResponseMode, mode),
            request_uri_method=cast(RequestURIMethod, method),
            purpose=purpose,
            scheme=self.config.scheme,
            flow=cast(Flow | None, flow),
            transaction_data=transaction_data,
        )
        out = made.to_json()
        out["result_uri"] = f"{self.config.server.public_url}/oid4vp/results/{made.transaction_id}"
        return out

    def policy(self, name: str, params: Mapping[str, Any]) -> policies.Policy:
        """The embedding program's policy of that name, else the recipe (ParseError)."""
        make = self.extra_policies.get(name)
        return make(params) if make is not None else policies.by_name(name, params)

    def verifier_of(self, transaction_client: str) -> OID4VPVerifier:
        for verifier in self.verifiers.values():
            if verifier.client_id == transaction_client:
                return verifier
        return self.any


def _oauth_problem(exc: OID4VPError, status: int = 400) -> HTTPProblem:
    return HTTPProblem(
        status,
        exc.code,
        "The OpenID4VP message was refused",
        exc.message,
        error=exc.error,
        error_description=exc.message,
        headers=_NO_STORE,
    )


def create_app(
    config: OID4VPConfig,
    *,
    trust: TrustRegistry | None = None,
    resolver: Resolver | None = None,
    status_fetcher: Fetcher | None = None,
    extra_policies: Mapping[str, PolicyFactory] | None = None,
) -> Starlette:
    """The verifier as an ASGI application (Starlette). ``trust``, ``resolver`` and
    ``status_fetcher`` replace what the configuration would open (for embedding);
    ``extra_policies`` names policies of the embedding program (``policy`` of
    ``POST /oid4vp/requests``: a factory of the request's ``params``) beside
    the recipes of :mod:`ssi_wallet.policies`."""
    service = _Service(config, trust, resolver, status_fetcher, extra_policies or {})
    limit = config.server.max_body_bytes

    async def create(request: Request) -> Response:
        authorise(request, config.server.token)
        body = await read_json_body(request, limit)
        made = await run_in_threadpool(service.create, body)
        return JSONResponse(made, status_code=201, headers=_NO_STORE)

    async def request_object(request: Request) -> Response:
        request_id = request.path_params["request_id"]
        form: dict[str, str] = {}
        if request.method == "POST":
            form = await read_form_body(request, limit)
        transaction = service.any.store.find(request_id=request_id)
        verifier = (
            service.any
            if transaction is None
            else service.verifier_of(transaction.request.audience)
        )

        def build() -> str:
            return verifier.request_object(
                request_id,
                method=request.method.lower(),
                wallet_nonce=form.get("wallet_nonce"),
                wallet_metadata=form.get("wallet_metadata"),
            )

        try:
            text = await run_in_threadpool(build)
        except OID4VPError as exc:
            status = 404 if exc.code == "request_unknown" else 400
            raise _oauth_problem(exc, status) from exc
        return Response(text, media_type=REQUEST_MEDIA_TYPE, headers=_NO_STORE)

    async def response(request: Request) -> Response:
        form = await read_form_body(request, limit)

        def judge() -> dict[str, Any]:
            transaction = service.any.locate(form)
            verifier = service.verifier_of(transaction.request.audience)
            return verifier.receive(form).to_json()

        try:
            ack = await run_in_threadpool(judge)
        except OID4VPError as exc:
            raise _oauth_problem(exc) from exc
        return JSONResponse(ack, headers=_NO_STORE)

    async def result(request: Request) -> Response:
        # the session fixation defence: the response_code of the wallet's redirect, or
        # the result token of the page that started it, or the back office's token
        code = request.query_params.get("response_code")
        try:
            transaction = service.any.result(
                request.path_params["transaction_id"],
                response_code=code,
                result_token=bearer_token(request),
                unsafe_back_office=bears_token(request, config.server.token),
            )
        except OID4VPError as exc:
            status = 401 if exc.code == "result_unauthorized" else 404
            raise _oauth_problem(exc, status) from exc
        language = request.query_params.get("lang") or None
        body = await run_in_threadpool(transaction.to_json, language)
        return JSONResponse(body, headers=_NO_STORE)

    async def page(request: Request) -> Response:
        query = dict(request.query_params)
        body: dict[str, Any] = {
            "policy": query.pop("policy", "right_to_work"),
            "client": query.pop("client", config.default_client),
            "response_mode": query.pop("response_mode", "direct_post"),
            "request_uri_method": query.pop("request_uri_method", "get"),
            # a QR code for a wallet on another device: this page reads the decision
            # with the transaction's result token
            "flow": "cross_device",
        }
        language = query.pop("lang", config.language)
        body["params"] = query
        made = await run_in_threadpool(service.create, body)
        return HTMLResponse(
            _page(made, language), headers={**_NO_STORE, "Content-Security-Policy": _PAGE_CSP}
        )

    async def page_js(request: Request) -> Response:
        return Response(
            _PAGE_JS, media_type="text/javascript", headers={"Cache-Control": "no-cache"}
        )

    routes = [
        Route("/oid4vp/requests", _guard(create), methods=["POST"]),
        Route("/oid4vp/requests/{request_id}", _guard(request_object), methods=["GET", "POST"]),
        Route("/oid4vp/response", _guard(response), methods=["POST"]),
        Route("/oid4vp/results/{transaction_id}", _guard(result), methods=["GET"]),
    ]
    if config.page:  # each visit makes a request: a deployment may serve its own front end
        routes += [
            Route("/verifier", _guard(page), methods=["GET"]),
            Route("/verifier/page.js", page_js, methods=["GET"]),
        ]

    return build_app(routes, service)


def _guard(handler: Handler) -> Handler:
    """Problem details for every failure; an OpenID4VP refusal with its OAuth error."""
    return guard(handler, lambda exc: _oauth_problem(exc) if isinstance(exc, OID4VPError) else None)


def _qr_svg(text: str) -> str:
    """The QR code of ``text`` as an inline SVG element (segno)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, title="OpenID4VP request"
    )
    return out.getvalue().decode("utf-8")


def _page(made: Mapping[str, Any], language: str) -> str:
    """The verifier page: the QR code and link, then (by page.js) the decision."""
    link = html.escape(made["authorization_request"], quote=True)
    return f"""<!doctype html>
<html lang="{html.escape(language, quote=True)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Verifier: scan with your wallet</title>
</head>
<body data-status="pending">
<main id="oid4vp"
  data-transaction-id="{html.escape(made["transaction_id"], quote=True)}"
  data-result-uri="/oid4vp/results/{html.escape(made["transaction_id"], quote=True)}"
  data-result-token="{html.escape(made["result_token"], quote=True)}"
  data-lang="{html.escape(language, quote=True)}">
<h1>Scan with your wallet</h1>
<div id="oid4vp-qr">{_qr_svg(made["authorization_request"])}</div>
<p><a id="oid4vp-link" href="{link}">Open in a wallet on this device</a></p>
<p>Status: <strong id="oid4vp-status">pending</strong></p>
<p id="oid4vp-decision" hidden></p>
<pre id="oid4vp-explanation" hidden></pre>
</main>
<script src="/verifier/page.js"></script>
</body>
</html>
"""


_PAGE_JS: Final = """\
"use strict";
(function () {
  var main = document.getElementById("oid4vp");
  var statusEl = document.getElementById("oid4vp-status");
  var decisionEl = document.getElementById("oid4vp-decision");
  var explanationEl = document.getElementById("oid4vp-explanation");
  var url = main.dataset.resultUri + "?lang=" + encodeURIComponent(main.dataset.lang);
  function show(result) {
    var status = result.status;
    if (status === "answered") {
      status = result.ok ? "accepted" : "refused";
      decisionEl.textContent = result.ok ? "Accepted" : "Not accepted";
      explanationEl.textContent = result.explanation;
      explanationEl.hidden = false;
    } else if (status === "wallet_error") {
      decisionEl.textContent = "The wallet declined: " + (result.error || "error");
    }
    statusEl.textContent = status;
    document.body.dataset.status = status;
    if (status !== "pending") {
      decisionEl.hidden = false;
      document.getElementById("oid4vp-qr").hidden = true;
    }
    return status === "pending";
  }
  function poll() {
    fetch(url, {
      cache: "no-store",
      headers: {"Authorization": "Bearer " + main.dataset.resultToken}
    }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (result) {
      if (show(result)) { setTimeout(poll, 1000); }
    }).catch(function (err) {
      statusEl.textContent = "error";
      document.body.dataset.status = "error";
      decisionEl.textContent = String(err);
      decisionEl.hidden = false;
    });
  }
  poll();
})();
"""
