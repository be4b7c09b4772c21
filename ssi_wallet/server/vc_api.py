"""The W3C CCG VC API over the library: issue, verify, status, and DID Resolution.

Endpoints (``docs/vc-api.md`` shows requests and answers):

* ``POST /credentials/issue`` (the default issuer) and
  ``POST /issuers/{name}/credentials/issue``: ``{"credential", "options"}`` in,
  ``201 {"verifiableCredential"}`` out; each issuer is configured with a key
  and a securing format (``di-eddsa``: eddsa-jcs-2022, or eddsa-rdfc-2022 when
  ``options.cryptosuite`` asks; ``di-ecdsa``: ecdsa-jcs-2019 or ecdsa-rdfc-2019;
  ``vc-jwt``: an ``EnvelopedVerifiableCredential``);
* ``POST /credentials/verify`` and ``POST /presentations/verify``
  (``options.challenge`` / ``options.domain`` for the presentation's proof):
  200 with ``checks`` when valid, 400 problem details listing ``errors`` when not;
* ``POST /credentials/status``: ``{"credentialId", "credentialStatus":
  {"type": "BitstringStatusListEntry", "statusPurpose": "revocation" |
  "suspension"}}`` revokes or suspends a credential this service issued;
* ``GET /status/{issuer}/{purpose}``: the status lists it publishes
  (``revocation``, ``suspension`` and ``token``), and
  ``POST /status/{issuer}/{purpose}/publish`` to republish them now;
* ``GET /1.0/identifiers/{did}``: DID Resolution over HTTP (and DID URL
  dereferencing), with the binding's status codes; ``did:ledger`` DIDs are
  read from the configured ledger, opened read-only.

Every changing endpoint (issue, status, publish) needs the configured bearer
token; every error is RFC 9457 problem details. Signing, verification and DID
resolution (which may wait on did:web) run in worker threads, never on the
event loop. The configuration file adds
to the ``[server]`` table (:mod:`ssi_wallet.server.common`)::

    [vc_api]
    default_issuer = "eddsa"      # default: the first issuer
    ledger = "registry.db"        # optional: resolve did:ledger from this SQLite ledger
    fetch_remote_status = false   # fetch status lists of other issuers over HTTPS

    [vc_api.authorised_controllers]  # optional: an issuer URL signs with these DIDs' keys
    "https://vc.example/issuers/5678" = ["did:key:zDnae..."]

    [vc_api.issuer_keys]          # optional: keys of issuers named by URL (RFC 7517 JWK Sets)
    "https://issuer.example" = "issuer-example.jwks.json"

    [vc_api.issuers.eddsa]
    key_file = "eddsa.jwk"        # a private JWK (did_methods.keyfile)
    format = "di-eddsa"           # di-eddsa | di-ecdsa | vc-jwt
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from credentials.data_integrity import AuthorisedControllers
from credentials.errors import ValidationError
from credentials.jose import envelope_vc_jwt
from credentials.keysets import IssuerKeys, JWKSet, KeySetError
from credentials.result import VerificationResult
from credentials.verify import verify_credential, verify_presentation
from did_methods.errors import PolicyError, ResolutionError
from did_methods.keyfile import read_key_file
from did_methods.resolver import DID_JSON, DID_LD_JSON, Resolver
from ssi_wallet.issuer import SUITES_OF_FORMAT, IssuedCredential, Issuer, StatusBoard, StatusRef
from ssi_wallet.server.common import (
    ConfigError,
    HTTPProblem,
    ServerConfig,
    authorise,
    build_app,
    guard,
    load_toml,
    read_json_body,
)

__all__ = ["IssuerConfig", "VcApiConfig", "create_app"]

Format = Literal["di-eddsa", "di-ecdsa", "vc-jwt"]
_FORMATS: Final = ("di-eddsa", "di-ecdsa", "vc-jwt")
# What the credential endpoints take: Data Integrity JSON, and vc+jwt / SD-JWT VC
# tokens in an EnvelopedVerifiableCredential.
_CREDENTIAL_FORMATS: Final = ("ldp_vc", "jwt_vc_json", "dc+sd-jwt")
_RESOLUTION_MEDIA: Final = 'application/ld+json;profile="https://w3id.org/did-resolution"'
_RESOLUTION_CONTEXT: Final = "https://w3id.org/did-resolution/v1"
# DID Resolution's HTTP(S) binding: the status code of each error.
_ERROR_STATUS: Final = {
    "invalidDid": 400,
    "invalidDidUrl": 400,
    "invalidPublicKeyLength": 400,
    "invalidPublicKey": 400,
    "invalidPublicKeyType": 400,
    "unsupportedPublicKeyType": 400,
    "invalidOptions": 400,
    "notFound": 404,
    "representationNotSupported": 406,
    "methodNotSupported": 501,
    "internalError": 500,
}
_MAX_TRACKED: Final = 100_000  # credential ids remembered for status updates


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """One configured issuer: its name in URLs, its key file and its securing format."""

    name: str
    key_file: Path
    format: Format


@dataclass(frozen=True, slots=True)
class VcApiConfig:
    """A validated VC API configuration file."""

    server: ServerConfig
    issuers: tuple[IssuerConfig, ...]
    default_issuer: str
    ledger: Path | None = None
    fetch_remote_status: bool = False
    authorised_controllers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    issuer_keys: Mapping[str, JWKSet] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VcApiConfig:
        """Read and check a TOML configuration file; raises :class:`ConfigError`."""
        data, base = load_toml(path)
        server = data.get("server", {})
        section = data.get("vc_api", {})
        if not isinstance(server, dict) or not isinstance(section, dict):
            raise ConfigError("[server] and [vc_api] must be tables")
        raw_issuers = section.get("issuers", {})
        if not isinstance(raw_issuers, dict) or not raw_issuers:
            raise ConfigError("[vc_api.issuers.NAME] tables are required (at least one)")
        issuers = []
        for name, table in raw_issuers.items():
            if not isinstance(table, dict):
                raise ConfigError(f"vc_api.issuers.{name} must be a table")
            fmt = table.get("format")
            if fmt not in _FORMATS:
                raise ConfigError(f"vc_api.issuers.{name}.format must be one of {_FORMATS}")
            key_file = table.get("key_file")
            if not isinstance(key_file, str):
                raise ConfigError(f"vc_api.issuers.{name}.key_file is required")
            issuers.append(IssuerConfig(name, base / key_file, cast(Format, fmt)))
        default = section.get("default_issuer", issuers[0].name)
        if default not in raw_issuers:
            raise ConfigError(f"vc_api.default_issuer {default!r} is not a configured issuer")
        ledger = section.get("ledger")
        if ledger is not None and not isinstance(ledger, str):
            raise ConfigError("vc_api.ledger must be a path")
        remote = section.get("fetch_remote_status", False)
        if not isinstance(remote, bool):
            raise ConfigError("vc_api.fetch_remote_status must be true or false")
        controllers = section.get("authorised_controllers", {})
        if not isinstance(controllers, dict) or not all(
            isinstance(dids, list) and all(isinstance(d, str) for d in dids)
            for dids in controllers.values()
        ):
            raise ConfigError("vc_api.authorised_controllers maps issuer URLs to lists of DIDs")
        return cls(
            ServerConfig.from_table(server, base),
            tuple(issuers),
            default,
            base / ledger if ledger else None,
            remote,
            {issuer: tuple(dids) for issuer, dids in controllers.items()},
            _issuer_keys(section.get("issuer_keys", {}), base),
        )


#: Largest JWK Set file the configuration may name.
_MAX_JWKS_FILE: Final = 1 << 20


def _issuer_keys(table: Any, base: Path) -> dict[str, JWKSet]:
    """``[vc_api.issuer_keys]``: issuer URL -> a JWK Set file (or an inline ``{keys = [...]}``)."""
    if not isinstance(table, dict):
        raise ConfigError("vc_api.issuer_keys maps issuer URLs to JWK Set files")
    sets: dict[str, JWKSet] = {}
    for issuer, value in table.items():
        where = f"vc_api.issuer_keys.{issuer!r}"
        if isinstance(value, str):
            try:
                with (base / value).open("rb") as handle:
                    data: Any = handle.read(_MAX_JWKS_FILE + 1)
            except OSError as exc:
                raise ConfigError(f"{where}: cannot read {value}: {exc}") from exc
            if len(data) > _MAX_JWKS_FILE:
                raise ConfigError(f"{where}: {value} is larger than {_MAX_JWKS_FILE} bytes")
        elif isinstance(value, dict):
            data = value
        else:
            raise ConfigError(f"{where} must name a JWK Set file or be a {{keys = [...]}} table")
        try:
            sets[issuer] = JWKSet.from_json(data)
        except KeySetError as exc:
            raise ConfigError(f"{where}: {exc} ({exc.code})") from exc
    try:
        IssuerKeys(sets)  # the issuer URLs themselves
    except KeySetError as exc:
        raise ConfigError(f"vc_api.issuer_keys: {exc} ({exc.code})") from exc
    return sets


class _StatusFetcher:
    """Status lists this service publishes, else (when allowed) fetched over HTTPS."""

    def __init__(self, board: StatusBoard, remote: Any) -> None:
        self._board = board
        self._remote = remote

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        if self._board.get(url) is not None or self._remote is None:
            return self._board.fetch(url, max_bytes=max_bytes, timeout=timeout, accept=accept)
        data = self._remote.fetch(url, max_bytes=max_bytes, timeout=timeout, accept=accept)
        assert isinstance(data, bytes)
        return data


class _Service:
    """The state behind the app: issuers, their status lists, a resolver."""

    def __init__(self, config: VcApiConfig) -> None:
        self.config = config
        self.board = StatusBoard()
        self.lock = threading.Lock()
        self.issuers: dict[str, tuple[Issuer, Format]] = {}
        base = config.server.public_url
        for entry in config.issuers:
            key = read_key_file(entry.key_file)
            issuer = Issuer.create(
                name=entry.name,
                key=key,
                status_base=f"{base}/status/{entry.name}",
                board=self.board,
            )
            self.issuers[entry.name] = (issuer, entry.format)
        # credential id -> (issuer name, where its status lives), for POST /credentials/status
        self.issued: OrderedDict[str, tuple[str, StatusRef]] = OrderedDict()
        self.ledger: Any = None
        if config.ledger is not None:
            from ledger.facade import Ledger

            self.ledger = Ledger.open(config.ledger, read_only=True)
            self.resolver: Resolver = self.ledger.resolver()
        else:
            self.resolver = Resolver.default()
        remote = None
        if config.fetch_remote_status:
            from did_methods.http import HttpFetcher

            remote = HttpFetcher()
        self.status_fetcher = _StatusFetcher(self.board, remote)
        # keys of issuers named by URL, by the operator's decision; DIDs resolve as before
        self.methods: Resolver | IssuerKeys = (
            IssuerKeys(config.issuer_keys, resolver=self.resolver)
            if config.issuer_keys
            else self.resolver
        )
        # issuers that sign with keys of other controllers, by the operator's decision
        self.key_controllers = (
            AuthorisedControllers(config.authorised_controllers)
            if config.authorised_controllers
            else None
        )

    def remember(self, credential_id: Any, issuer: str, index: StatusRef | None) -> None:
        if not isinstance(credential_id, str) or index is None:
            return
        with self.lock:
            self.issued[credential_id] = (issuer, index)
            while len(self.issued) > _MAX_TRACKED:
                self.issued.popitem(last=False)


def create_app(config: VcApiConfig) -> Starlette:
    """The VC API as an ASGI application (Starlette), ready for any ASGI server."""
    service = _Service(config)
    limit = config.server.max_body_bytes
    token = config.server.token

    async def issue(request: Request) -> Response:
        authorise(request, token)
        name = request.path_params.get("issuer", config.default_issuer)
        if name not in service.issuers:
            raise HTTPProblem(404, "issuer_not_found", "No such issuer", name)
        issuer, fmt = service.issuers[name]
        body = await read_json_body(request, limit)
        credential = body.get("credential")
        if not isinstance(credential, dict):
            raise HTTPProblem(400, "invalid_request", "`credential` must be a JSON object")
        options = body.get("options", {})
        if not isinstance(options, dict):
            raise HTTPProblem(400, "invalid_request", "`options` must be a JSON object")
        requested = options.get("cryptosuite")
        suites = SUITES_OF_FORMAT.get(fmt, ())
        if requested is not None and requested not in suites:
            raise HTTPProblem(
                400,
                "cryptosuite_unsupported",
                "The requested cryptosuite is not supported",
                f"issuer {name} secures with {' or '.join(suites) or fmt}, "
                f"not {str(requested)[:64]!r}",
            )

        def sign() -> IssuedCredential:
            with service.lock:
                return issuer.issue_credential(credential, format=fmt, cryptosuite=requested)

        try:
            issued = await run_in_threadpool(sign)
        except ValidationError as exc:
            raise HTTPProblem(
                400,
                "invalid_credential",
                "The credential breaks the VC Data Model 2.0",
                str(exc),
                errors=[{"path": p, "message": m} for p, m in exc.errors],
            ) from exc
        except PolicyError as exc:
            raise HTTPProblem(400, "issuer_refused", "The issuer refuses", str(exc)) from exc
        service.remember(credential.get("id"), name, issued.status)
        secured = issued.credential
        vc = envelope_vc_jwt(secured) if isinstance(secured, str) else secured
        return JSONResponse({"verifiableCredential": vc}, status_code=201)

    async def credentials_verify(request: Request) -> Response:
        body = await read_json_body(request, limit)
        document = body.get("verifiableCredential")
        if not isinstance(document, dict):
            raise HTTPProblem(
                400, "invalid_request", "`verifiableCredential` must be a JSON object"
            )
        return _verified(
            await run_in_threadpool(
                verify_credential,
                document,
                formats=_CREDENTIAL_FORMATS,
                credential_type=None,  # the VC API verifies any type
                resolver=service.methods,
                status=service.status_fetcher,
                key_controllers=service.key_controllers,
            )
        )

    async def presentations_verify(request: Request) -> Response:
        body = await read_json_body(request, limit)
        document = body.get("verifiablePresentation")
        if not isinstance(document, dict):
            raise HTTPProblem(
                400, "invalid_request", "`verifiablePresentation` must be a JSON object"
            )
        options = body.get("options", {})
        if not isinstance(options, dict):
            raise HTTPProblem(400, "invalid_request", "`options` must be a JSON object")
        challenge = options.get("challenge")
        domain = options.get("domain")
        if not isinstance(challenge, str) or not challenge:
            raise HTTPProblem(
                400,
                "invalid_request",
                "`options.challenge` is required",
                "a presentation is verified against the challenge it answers (replay)",
            )
        if not isinstance(domain, str) or not domain:
            raise HTTPProblem(400, "invalid_request", "`options.domain` is required")
        enveloped = "EnvelopedVerifiablePresentation" in _types(document)
        return _verified(
            await run_in_threadpool(
                verify_presentation,
                document,
                format="jwt_vc_json" if enveloped else "ldp_vc",
                nonce=challenge,
                audience=domain,
                credential_formats=_CREDENTIAL_FORMATS,
                credential_type=None,
                resolver=service.methods,
                status=service.status_fetcher,
                key_controllers=service.key_controllers,
            )
        )

    async def update_status(request: Request) -> Response:
        authorise(request, token)
        body = await read_json_body(request, limit)
        credential_id = body.get("credentialId")
        status = body.get("credentialStatus")
        if not isinstance(credential_id, str) or not isinstance(status, dict):
            raise HTTPProblem(
                400, "invalid_request", "`credentialId` and `credentialStatus` are required"
            )
        if status.get("type") != "BitstringStatusListEntry":
            raise HTTPProblem(
                400, "invalid_request", "credentialStatus.type must be BitstringStatusListEntry"
            )
        purpose = status.get("statusPurpose")
        if purpose not in ("revocation", "suspension"):
            raise HTTPProblem(
                400, "invalid_request", "statusPurpose must be revocation or suspension"
            )

        def change() -> None:
            with service.lock:
                found = service.issued.get(credential_id)
                if found is None:
                    raise HTTPProblem(
                        404, "credential_not_found", "No credential with that id was issued here"
                    )
                issuer, _ = service.issuers[found[0]]
                if purpose == "revocation":
                    issuer.revoke(found[1])
                else:
                    issuer.suspend(found[1])

        await run_in_threadpool(change)
        return JSONResponse({"credentialId": credential_id, "statusPurpose": purpose})

    async def status_list(request: Request) -> Response:
        url = _own_url(service, request)
        data = service.board.get(url)
        if data is None:
            raise HTTPProblem(404, "not_found", "No status list is published here")
        media = "application/statuslist+jwt" if url.endswith("/token") else "application/json"
        return Response(data, media_type=media, headers={"Cache-Control": "max-age=60"})

    async def publish(request: Request) -> Response:
        authorise(request, token)
        name = request.path_params["issuer"]
        if name not in service.issuers:
            raise HTTPProblem(404, "issuer_not_found", "No such issuer", name)
        await read_json_body(request, limit)

        def sign_and_publish() -> None:
            with service.lock:
                service.issuers[name][0].publish_status()

        await run_in_threadpool(sign_and_publish)
        return Response(status_code=204)

    async def identifiers(request: Request) -> Response:
        # did:web resolution may wait on the network: never on the event loop
        return await run_in_threadpool(_resolve, service, request)

    routes = [
        Route("/credentials/issue", guard(issue), methods=["POST"]),
        Route("/issuers/{issuer}/credentials/issue", guard(issue), methods=["POST"]),
        Route("/credentials/verify", guard(credentials_verify), methods=["POST"]),
        Route("/presentations/verify", guard(presentations_verify), methods=["POST"]),
        Route("/credentials/status", guard(update_status), methods=["POST"]),
        Route("/status/{issuer}/{purpose}", guard(status_list), methods=["GET"]),
        Route("/status/{issuer}/{purpose}/publish", guard(publish), methods=["POST"]),
        Route("/1.0/identifiers/{did:path}", guard(identifiers), methods=["GET"]),
    ]

    return build_app(routes, service)


def _own_url(service: _Service, request: Request) -> str:
    return service.config.server.public_url + request.url.path


def _types(document: Mapping[str, Any]) -> list[Any]:
    value = document.get("type")
    return [value] if isinstance(value, str) else value if isinstance(value, list) else []


def _verified_fields(result: VerificationResult) -> dict[str, Any]:
    """What was verified, from the result's typed fields (never the unverified document)."""
    fields: dict[str, Any] = {"kind": result.kind, "format": result.format}
    if result.kind == "presentation":
        fields["holder"] = result.holder
        fields["credentials"] = [_verified_fields(c) for c in result.credentials]
        return fields
    fields.update(issuer=result.issuer, types=list(result.types), subject=result.subject)
    for name, moment in (("validFrom", result.valid_from), ("validUntil", result.valid_until)):
        if moment is not None:
            fields[name] = moment.isoformat()
    return fields


def _verified(result: VerificationResult) -> Response:
    checks = [c.name for c in result.checks if c.status == "passed"]
    if result.ok:
        return JSONResponse(
            {
                "verified": True,
                "checks": checks,
                "warnings": [],
                "errors": [],
                "verified_fields": _verified_fields(result),
                "report": result.to_json(),
            }
        )
    errors = [{"name": c.name, "code": c.code, "message": c.message} for c in result.failures]
    first = result.failures[0]
    raise HTTPProblem(
        400,
        first.code,
        "Verification failed",
        "; ".join(f"{c.name}: {c.message}" for c in result.failures),
        verified=False,
        checks=checks,
        warnings=[],
        errors=errors,
        report=result.to_json(),
    )


def _wants_result(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "did-resolution" in accept or not accept or accept == "*/*"


def _resolve(service: _Service, request: Request) -> Response:
    """DID Resolution (a bare DID) or DID URL dereferencing (a DID URL) over HTTP."""
    text = request.path_params["did"]
    options: dict[str, Any] = dict(request.query_params)
    is_url = any(c in text for c in "#?/")
    if is_url:
        return _dereference(service, text, _resolution_options(options))
    accept = request.headers.get("accept", "")
    representation = DID_LD_JSON if DID_LD_JSON in accept else DID_JSON
    result = service.resolver.resolve(text, accept=representation, **_resolution_options(options))
    status = 200 if result.error is None else _ERROR_STATUS.get(result.error, 500)
    if result.error is None and result.deactivated:
        status = 410
    if _wants_result(request) or result.error is not None:
        return JSONResponse(result.to_json(), status_code=status, media_type=_RESOLUTION_MEDIA)
    assert result.did_document is not None
    document = result.did_document.to_json()
    return JSONResponse(document, status_code=status, media_type=representation)


_OPTIONS: Final = (
    "versionId",
    "versionTime",
    "publicKeyFormat",
    "enableExperimentalPublicKeyTypes",
    "defaultContext",
)


def _resolution_options(query: Mapping[str, str]) -> dict[str, Any]:
    return {k: v for k, v in query.items() if k in _OPTIONS}


def _dereference(service: _Service, text: str, options: Mapping[str, Any]) -> Response:
    """A DID URL dereferencing result: DID Resolution's names (``dereferencingMetadata``,
    ``contentStream``, ``contentMetadata``) and, beside them, the earlier binding's
    (``didDereferencingMetadata``, ``didDocument``, ``didDocumentMetadata``) that
    did:key resolvers and the W3C CCG did:key test suite still read."""
    try:
        found = service.resolver.dereference(text, **options)
    except ResolutionError as exc:
        metadata = {"error": exc.code, "errorMessage": exc.message}
        return JSONResponse(
            _dereferencing_body(metadata, None), status_code=_ERROR_STATUS.get(exc.code, 500)
        )
    body = _dereferencing_body({"contentType": DID_JSON}, found.to_json())
    return JSONResponse(body, media_type=_RESOLUTION_MEDIA)


def _dereferencing_body(metadata: dict[str, Any], content: Any) -> dict[str, Any]:
    return {
        "@context": _RESOLUTION_CONTEXT,
        "dereferencingMetadata": metadata,
        "contentStream": content,
        "contentMetadata": {},
        "didDereferencingMetadata": metadata,
        "didDocument": content,
        "didDocumentMetadata": {},
    }
