"""OpenID4VCI 1.0 over HTTP: the Credential Issuer and its Authorization Server (Starlette).

A thin adapter: each route reads a bounded body (JSON or form), hands the
parsed request to :class:`ssi_wallet.oid4vci.CredentialIssuer` in a worker
thread, and writes its :class:`~ssi_wallet.oid4vci.Reply`. Refusals are OAuth
error bodies (``{"error", "error_description"}``, ``application/json``,
``Cache-Control: no-store``; 401 with ``WWW-Authenticate`` for a bad access
token), as OpenID4VCI and RFC 6749/6750 ask. Paths are those the metadata
names:

=========================================  ====================================
``GET /.well-known/openid-credential-issuer``  Credential Issuer metadata
``GET /.well-known/oauth-authorization-server``  Authorization Server metadata
``GET /credential-offer/{id}``               an offer passed by reference
``POST /nonce``                              a fresh ``c_nonce``
``POST /token``                              pre-authorized or authorization code
``POST /par``                                pushed authorization request
``GET /authorize``                           authorization endpoint (redirects)
``POST /credential``                         Credential Endpoint
``POST /deferred_credential``                Deferred Credential Endpoint
``POST /notification``                       Notification Endpoint
=========================================  ====================================

The back office (bearer token of the ``[server]`` table) makes offers and
supplies deferred claims:

* ``POST /offers`` ``{"credential_configuration_ids", "claims", "tx_code",
  "grants", "by_reference"}`` -> ``201 {"case_id", "credential_offer", "tx_code",
  "expires_at"}``;
* ``POST /cases/{case_id}/claims`` ``{"type", "claims"}`` -> 204;
* ``GET /cases/{case_id}/notifications`` -> the wallet's events.

Configuration (``ssi-wallet serve issuer --config FILE``) adds to ``[server]``::

    [issuer]
    key_file = "issuer.jwk"       # the issuer's private key (did_methods.keyfile)
    name = "Migration Department" # shown to wallets
    identifier = "https://issuer.example"   # default: server.public_url
    types = ["WorkPermit"]        # default: every vocabulary type
    batch_size = 10               # most key proofs per Credential Request
    state = "issuer-state.db"     # optional: offers, codes and tokens survive a restart
    require_dpop = false          # true: only DPoP-bound access tokens (RFC 9449)
    dpop_nonce = false            # true: DPoP proofs must carry a nonce this server gave
    response_encryption = true    # wallets may ask for encrypted credential responses
    require_response_encryption = false   # true: every credential response encrypted
    request_key_file = "req.jwk"  # optional: a P-256 key wallets encrypt requests to (kid "enc-1");
                                  # without it (and response_encryption) one is made per start
    require_request_encryption = false    # true: clear credential requests are refused
    signed_metadata = false       # true: metadata also served signed (Accept: application/jwt)
    metadata_chain_file = "chain.pem"     # optional: its x5c (the issuer key's certificate first)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from credentials import schemas
from did_methods.errors import SSIWalletError
from did_methods.keyfile import read_key_file
from ssi_wallet.issuer import Issuer
from ssi_wallet.oid4vci import (
    CredentialIssuer,
    MetadataSigner,
    OID4VCIError,
    Reply,
    RequestDecryption,
)
from ssi_wallet.oid4vci.encryption import JWT_MEDIA_TYPE, MAX_ENCRYPTED_REQUEST
from ssi_wallet.oid4vci.metadata import accepted_languages
from ssi_wallet.oid4vci.signed_metadata import prefers_jwt
from ssi_wallet.oid4vci.sqlite_store import SQLiteStateStore
from ssi_wallet.server.common import (
    ConfigError,
    Handler,
    HTTPProblem,
    ServerConfig,
    authorise,
    build_app,
    guard,
    load_toml,
    read_body,
    read_form_body,
    read_json_body,
)

__all__ = ["IssuerServiceConfig", "create_app"]

_NO_STORE: Final = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class IssuerServiceConfig:
    """A validated ``ssi-wallet serve issuer`` configuration file."""

    server: ServerConfig
    key_file: Path
    name: str
    identifier: str
    types: tuple[str, ...]
    batch_size: int
    state: Path | None = None
    require_dpop: bool = False
    dpop_nonce: bool = False
    response_encryption: bool = True
    require_response_encryption: bool = False
    request_key_file: Path | None = None
    require_request_encryption: bool = False
    signed_metadata: bool = False
    metadata_chain_file: Path | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> IssuerServiceConfig:
        """Read and check a TOML configuration file; raises :class:`ConfigError`."""
        data, base = load_toml(path)
        server = data.get("server", {})
        section = data.get("issuer", {})
        if not isinstance(server, dict) or not isinstance(section, dict):
            raise ConfigError("[server] and [issuer] must be tables")
        config = ServerConfig.from_table(server, base)
        key_file = section.get("key_file")
        if not isinstance(key_file, str):
            raise ConfigError("issuer.key_file is required")
        name = section.get("name", "ssi-wallet issuer")
        identifier = section.get("identifier", config.public_url)
        types = section.get("types", list(schemas.CREDENTIAL_TYPES))
        batch = section.get("batch_size", 10)
        if not isinstance(name, str) or not isinstance(identifier, str):
            raise ConfigError("issuer.name and issuer.identifier must be strings")
        if not isinstance(types, list) or not all(t in schemas.CREDENTIAL_TYPES for t in types):
            raise ConfigError(f"issuer.types must list types of {schemas.CREDENTIAL_TYPES}")
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 100:
            raise ConfigError("issuer.batch_size must be an integer from 1 to 100")
        flags = {
            name: section.get(name, name == "response_encryption")
            for name in (
                "require_dpop",
                "dpop_nonce",
                "response_encryption",
                "require_response_encryption",
                "require_request_encryption",
                "signed_metadata",
            )
        }
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise ConfigError(f"issuer.{name} is true or false")
        request_key = section.get("request_key_file")
        if request_key is not None and not isinstance(request_key, str):
            raise ConfigError("issuer.request_key_file must be a path")
        if flags["require_request_encryption"] and request_key is None:
            raise ConfigError("issuer.require_request_encryption needs issuer.request_key_file")
        chain = section.get("metadata_chain_file")
        if chain is not None and (not isinstance(chain, str) or not flags["signed_metadata"]):
            raise ConfigError("issuer.metadata_chain_file is a path, with signed_metadata = true")
        state = section.get("state")
        if state is not None and not isinstance(state, str):
            raise ConfigError("issuer.state must be a path")
        return cls(
            config,
            base / key_file,
            name,
            identifier.rstrip("/"),
            tuple(types),
            batch,
            base / state if state else None,
            flags["require_dpop"],
            flags["dpop_nonce"],
            flags["response_encryption"],
            flags["require_response_encryption"],
            base / request_key if request_key else None,
            flags["require_request_encryption"],
            flags["signed_metadata"],
            base / chain if chain else None,
        )

    def build(self) -> CredentialIssuer:
        """The issuer this configuration describes (its key read, its status lists published)."""
        issuer = Issuer.create(
            name=self.name,
            key=read_key_file(self.key_file),
            status_base=f"{self.identifier}/status",
        )
        store = SQLiteStateStore(self.state) if self.state is not None else None
        decryption = None
        if self.request_key_file is not None:
            decryption = RequestDecryption(
                read_key_file(self.request_key_file),
                "enc-1",
                required=self.require_request_encryption,
            )
        signer = None
        if self.signed_metadata:
            signing = issuer.signer()
            signer = MetadataSigner(signing.key, kid=signing.method, issuer=issuer.did)
            if self.metadata_chain_file is not None:
                from cryptography import x509

                try:
                    chain = x509.load_pem_x509_certificates(self.metadata_chain_file.read_bytes())
                except (OSError, ValueError) as exc:
                    raise ConfigError(f"cannot read issuer.metadata_chain_file: {exc}") from exc
                signer = MetadataSigner.with_chain(
                    signing.key, chain, kid=signing.method, issuer=issuer.did
                )
        return CredentialIssuer(
            issuer,
            self.identifier,
            types=self.types,
            batch_size=self.batch_size,
            store=store,
            require_dpop=self.require_dpop,
            dpop_nonce=self.dpop_nonce,
            response_encryption=self.response_encryption,
            require_response_encryption=self.require_response_encryption,
            request_decryption=decryption,
            metadata_signer=signer,
        )


def _reply(reply: Reply) -> Response:
    if reply.jwt is not None:
        return Response(
            reply.jwt,
            status_code=reply.status,
            headers=dict(reply.headers),
            media_type=JWT_MEDIA_TYPE,
        )
    if reply.body is None:
        return Response(status_code=reply.status, headers=dict(reply.headers))
    return JSONResponse(reply.body, status_code=reply.status, headers=dict(reply.headers))


def _oauth_error(error: OID4VCIError, dpop_bound: bool = False) -> Response:
    headers = {**_NO_STORE, **error.headers}
    if error.status == 401:
        scheme = "DPoP" if dpop_bound else "Bearer"
        headers["WWW-Authenticate"] = (
            f'{scheme} error="{error.code}", error_description="{error.description}"'
        )
    return JSONResponse(error.to_json(), status_code=error.status, headers=headers)


def _oauth(handler: Handler) -> Handler:
    """Answer every refusal of a protocol endpoint as an OAuth error body; never a traceback."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except OID4VCIError as exc:
            dpop = request.headers.get("authorization", "").lower().startswith("dpop ")
            return _oauth_error(exc, dpop)
        except HTTPProblem as problem:  # a body too large, of the wrong type, not JSON
            return _oauth_error(
                OID4VCIError(
                    "invalid_request", problem.detail or problem.title, status=problem.status
                )
            )
        except SSIWalletError as exc:
            return _oauth_error(OID4VCIError("invalid_request", str(exc)))

    return guarded


def _office_problem(exc: SSIWalletError) -> HTTPProblem | None:
    """Back-office endpoints answer problem details (RFC 9457), as the VC API does."""
    if isinstance(exc, OID4VCIError):
        return HTTPProblem(exc.status, exc.code, "Refused", exc.description)
    return None


def _office(handler: Handler) -> Handler:
    return guard(handler, _office_problem)


def create_app(
    service: CredentialIssuer, *, token: str | None = None, max_body_bytes: int = 1 << 20
) -> Starlette:
    """The issuer as an ASGI application; ``token`` guards the back-office endpoints.

    Without ``token`` the back office is not served (offers are then made in
    process, with :meth:`CredentialIssuer.offer`).
    """
    limit = max_body_bytes
    endpoints = service.endpoints

    async def issuer_metadata(request: Request) -> Response:
        languages = accepted_languages(request.headers.get("accept-language"))
        headers = {"Content-Language": ", ".join(languages), "Vary": "Accept, Accept-Language"}
        if service.metadata_signer is not None and prefers_jwt(request.headers.get("accept")):
            signed = await run_in_threadpool(service.signed_issuer_metadata, languages)
            return Response(signed, headers=headers, media_type=JWT_MEDIA_TYPE)
        return JSONResponse(service.issuer_metadata(languages), headers=headers)

    async def server_metadata(request: Request) -> Response:
        return JSONResponse(service.authorization_server_metadata())

    async def offer(request: Request) -> Response:
        return JSONResponse(
            service.offer_document(request.path_params["offer_id"]), headers=_NO_STORE
        )

    async def nonce(request: Request) -> Response:
        return _reply(service.nonce())

    async def token_endpoint(request: Request) -> Response:
        form = await read_form_body(request, limit)
        return _reply(
            await run_in_threadpool(
                service.token, form, dpop=request.headers.get("dpop"), url=endpoints.token
            )
        )

    async def par(request: Request) -> Response:
        form = await read_form_body(request, limit)
        return _reply(
            await run_in_threadpool(
                service.pushed_authorization_request,
                form,
                dpop=request.headers.get("dpop"),
                url=endpoints.par,
            )
        )

    async def authorize(request: Request) -> Response:
        query = dict(request.query_params)
        if len(request.query_params.multi_items()) != len(query):
            raise OID4VCIError("invalid_request", "a parameter is repeated")
        location = await run_in_threadpool(service.authorize, query)
        return RedirectResponse(location, status_code=302, headers=_NO_STORE)

    def protected(method: Callable[..., Reply], url: str, encrypted: bool = False) -> Handler:
        async def handle(request: Request) -> Response:
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body: dict[str, Any] | str
            if encrypted and media == JWT_MEDIA_TYPE:  # an encrypted request (section 10)
                raw = await read_body(request, min(limit, MAX_ENCRYPTED_REQUEST))
                try:
                    body = raw.decode("ascii").strip()
                except UnicodeDecodeError as exc:
                    raise OID4VCIError(
                        "invalid_encryption_parameters", "an encrypted request is a compact JWE"
                    ) from exc
            else:
                body = await read_json_body(request, limit)
            return _reply(
                await run_in_threadpool(
                    method,
                    body,
                    authorization=request.headers.get("authorization"),
                    dpop=request.headers.get("dpop"),
                    url=url,
                )
            )

        return handle

    async def new_offer(request: Request) -> Response:
        authorise(request, token or "")
        body = await read_json_body(request, limit)
        ids = body.get("credential_configuration_ids")
        claims = body.get("claims")
        grants = body.get("grants", ["pre-authorized_code"])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise HTTPProblem(400, "invalid_request", "credential_configuration_ids: strings")
        if not isinstance(claims, dict) or not isinstance(grants, list):
            raise HTTPProblem(400, "invalid_request", "claims must be an object, grants a list")
        made = await run_in_threadpool(
            lambda: service.offer(
                ids,
                claims=claims,
                tx_code=body.get("tx_code", True) is True,
                pre_authorized="pre-authorized_code" in grants,
                authorization_code="authorization_code" in grants,
                by_reference=body.get("by_reference", True) is True,
            )
        )
        return JSONResponse(
            {
                "case_id": made.case_id,
                "credential_offer": made.uri,
                "tx_code": made.tx_code,
                "expires_at": int(made.expires_at),
            },
            status_code=201,
            headers=_NO_STORE,
        )

    async def provide(request: Request) -> Response:
        authorise(request, token or "")
        body = await read_json_body(request, limit)
        type_name, claims = body.get("type"), body.get("claims")
        if not isinstance(type_name, str) or not isinstance(claims, dict):
            raise HTTPProblem(400, "invalid_request", "type (a string) and claims (an object)")
        service.provide(request.path_params["case_id"], type_name, claims)
        return Response(status_code=204)

    async def notifications(request: Request) -> Response:
        authorise(request, token or "")
        return JSONResponse(
            {"events": service.notifications(request.path_params["case_id"])}, headers=_NO_STORE
        )

    def path(url: str) -> str:
        return urlsplit(url).path or "/"

    routes = [
        Route(path(endpoints.issuer_metadata), _oauth(issuer_metadata), methods=["GET"]),
        Route(
            path(endpoints.authorization_server_metadata), _oauth(server_metadata), methods=["GET"]
        ),
        Route(path(endpoints.offer("{offer_id}")), _oauth(offer), methods=["GET"]),
        Route(path(endpoints.nonce), _oauth(nonce), methods=["POST"]),
        Route(path(endpoints.token), _oauth(token_endpoint), methods=["POST"]),
        Route(path(endpoints.par), _oauth(par), methods=["POST"]),
        Route(path(endpoints.authorize), _oauth(authorize), methods=["GET"]),
        Route(
            path(endpoints.credential),
            _oauth(protected(service.credential, endpoints.credential, True)),
            methods=["POST"],
        ),
        Route(
            path(endpoints.deferred_credential),
            _oauth(protected(service.deferred_credential, endpoints.deferred_credential, True)),
            methods=["POST"],
        ),
        Route(
            path(endpoints.notification),
            _oauth(protected(service.notification, endpoints.notification)),
            methods=["POST"],
        ),
        Route(
            path(endpoints.url("/status/{purpose:path}")),
            _office(_status(service)),
            methods=["GET"],
        ),
    ]
    if token:
        routes += [
            Route(path(endpoints.url("/offers")), _office(new_offer), methods=["POST"]),
            Route(
                path(endpoints.url("/cases/{case_id}/claims")), _office(provide), methods=["POST"]
            ),
            Route(
                path(endpoints.url("/cases/{case_id}/notifications")),
                _office(notifications),
                methods=["GET"],
            ),
        ]

    return build_app(routes, service)


def _status(service: CredentialIssuer) -> Handler:
    """The issuer's status lists, published where its credentials point."""

    async def status_list(request: Request) -> Response:
        parts = urlsplit(service.identifier)
        url = f"{parts.scheme}://{parts.netloc}{request.url.path}"
        data = service.issuer.board.get(url)
        if data is None:
            raise HTTPProblem(404, "not_found", "No status list is published here")
        media = "application/statuslist+jwt" if url.endswith("/token") else "application/json"
        return Response(data, media_type=media, headers={"Cache-Control": "max-age=60"})

    return status_list


def app_from_config(config: IssuerServiceConfig) -> Starlette:
    """The app ``ssi-wallet serve issuer`` runs."""
    return create_app(
        config.build(), token=config.server.token, max_body_bytes=config.server.max_body_bytes
    )
