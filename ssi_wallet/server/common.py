"""What every ssi-wallet HTTP service shares: configuration, bounded JSON and form bodies,
RFC 9457 problem details, bearer-token authorisation and the uvicorn runner.

The library's core stays sans-IO; Starlette and uvicorn are imported only in
this package (``pip install 'ssi-wallet[server]'``).

Configuration is a TOML file whose ``[server]`` table reads::

    [server]
    host = "127.0.0.1"            # default
    port = 8443                   # default
    public_url = "https://127.0.0.1:8443"   # how clients reach it (default from host/port/TLS)
    max_body_bytes = 1048576      # default: 1 MiB
    token_file = "token.txt"      # the bearer token; or token_env = "VAR"
    tls_cert = "cert.pem"         # optional: serve HTTPS with this certificate chain
    tls_key = "key.pem"           #   and its private key

Relative paths are read relative to the configuration file. A token is
required: no endpoint that changes anything answers without it.
"""

from __future__ import annotations

import hmac
import os
import tomllib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from credentials.errors import JSONError
from credentials.jcs import loads_strict
from did_methods.errors import ParseError, SSIWalletError, UnsupportedError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ConfigError",
    "HTTPProblem",
    "Handler",
    "ServerConfig",
    "authorise",
    "bearer_token",
    "bears_token",
    "build_app",
    "guard",
    "load_toml",
    "problem_response",
    "read_body",
    "read_form_body",
    "read_json_body",
    "run",
]

#: The media type of RFC 9457 problem details.
PROBLEM_MEDIA_TYPE: Final = "application/problem+json"

_DEFAULT_MAX_BODY: Final = 1024 * 1024
_MIN_TOKEN: Final = 16


class ConfigError(ParseError):
    """A server configuration file is missing, unreadable or inconsistent (malformed input)."""


class HTTPProblem(Exception):
    """An error answered as RFC 9457 problem details.

    ``code`` is a stable machine-readable name (it becomes the ``type`` URN
    ``urn:ssi-wallet:problem:<code>`` and the ``code`` member); ``extra``
    members are added to the body as RFC 9457 extension members.
    """

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem_response(problem: HTTPProblem, instance: str | None = None) -> JSONResponse:
    """The problem as an ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": f"urn:ssi-wallet:problem:{problem.code}",
        "title": problem.title,
        "status": problem.status,
        "code": problem.code,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if instance:
        body["instance"] = instance
    body.update(problem.extra)
    return JSONResponse(
        body, status_code=problem.status, headers=problem.headers, media_type=PROBLEM_MEDIA_TYPE
    )


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The ``[server]`` table of a configuration file, validated."""

    host: str
    port: int
    public_url: str
    max_body_bytes: int
    token: str
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @classmethod
    def from_table(cls, table: Mapping[str, Any], base: Path) -> ServerConfig:
        """Validate the ``[server]`` table; paths are relative to ``base``."""
        host = _get(table, "host", str, "127.0.0.1")
        port = _get(table, "port", int, 8443)
        if not 0 <= port <= 65535:
            raise ConfigError(f"server.port {port} is not a TCP port")
        max_body = _get(table, "max_body_bytes", int, _DEFAULT_MAX_BODY)
        if max_body < 1024:
            raise ConfigError("server.max_body_bytes must be at least 1024")
        cert = table.get("tls_cert")
        key = table.get("tls_key")
        if (cert is None) != (key is None):
            raise ConfigError("server.tls_cert and server.tls_key go together")
        cert_path = base / _get(table, "tls_cert", str, "") if cert is not None else None
        key_path = base / _get(table, "tls_key", str, "") if key is not None else None
        scheme = "https" if cert_path else "http"
        public_url = _get(table, "public_url", str, f"{scheme}://{host}:{port}").rstrip("/")
        return cls(
            host,
            port,
            public_url,
            max_body,
            _token(table, base),
            cert_path,
            key_path,
        )


def _get(table: Mapping[str, Any], name: str, kind: type, default: Any) -> Any:
    value: Any = table.get(name, default)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ConfigError(f"server.{name} must be a {kind.__name__}")
    return value


def _token(table: Mapping[str, Any], base: Path) -> str:
    token: str
    if "token_file" in table:
        path = base / _get(table, "token_file", str, "")
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the token file {path}: {exc}") from exc
    elif "token_env" in table:
        name: str = _get(table, "token_env", str, "")
        token = os.environ.get(name, "").strip()
        if not token:
            raise ConfigError(f"the environment variable {name} holding the token is empty")
    else:
        raise ConfigError("server.token_file or server.token_env is required")
    if len(token) < _MIN_TOKEN:
        raise ConfigError(f"the bearer token must be at least {_MIN_TOKEN} characters")
    return token


def load_toml(path: str | os.PathLike[str]) -> tuple[dict[str, Any], Path]:
    """Read a TOML configuration file; returns the table and the file's directory."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from exc
    return data, file.resolve().parent


async def read_json_body(request: Request, limit: int) -> dict[str, Any]:
    """The request body as a strict JSON object, read no further than ``limit`` bytes.

    Raises :class:`HTTPProblem` 413 for a longer body, 415 for a media type
    other than JSON, 400 for a body that is not a strict JSON object.
    """
    media = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media != "application/json" and not media.endswith("+json"):
        raise HTTPProblem(415, "unsupported_media_type", "Send application/json", media)
    try:
        data = loads_strict(await read_body(request, limit))
    except JSONError as exc:
        raise HTTPProblem(400, "invalid_json", "The body is not strict JSON", str(exc)) from exc
    if not isinstance(data, dict):
        raise HTTPProblem(400, "invalid_json", "The body must be a JSON object")
    return data


#: Most parameters a form body may carry.
_MAX_FORM_FIELDS: Final = 64


async def read_form_body(request: Request, limit: int) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict, each parameter at most once.

    Read no further than ``limit`` bytes. Raises :class:`HTTPProblem` 413 for a
    longer body, 415 for another media type, 400 (code ``invalid_request``)
    for a body that is not UTF-8 form encoding, has more than 64 parameters or
    repeats one (RFC 6749 3.1: parameters MUST NOT be included more than once).
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise HTTPProblem(
            415, "unsupported_media_type", "Send application/x-www-form-urlencoded", media
        )
    raw = await read_body(request, limit)
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(raw),
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPProblem(400, "invalid_request", "The form body cannot be read", str(exc)) from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise HTTPProblem(
                400, "invalid_request", "A parameter is repeated", f"{name[:40]!r} appears twice"
            )
        form[name] = value
    return form


async def read_body(request: Request, limit: int) -> bytes:
    """The raw request body, read no further than ``limit`` bytes (413 beyond it)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPProblem(413, "body_too_large", "Request body too large", f"limit {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPProblem(
                413, "body_too_large", "Request body too large", f"limit {limit} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


#: An endpoint: a request in, a response out.
Handler = Callable[[Request], Awaitable[Response]]


def _default_problem(exc: SSIWalletError) -> HTTPProblem:
    if isinstance(exc, ParseError):
        return HTTPProblem(400, "invalid_input", "The input cannot be read", str(exc))
    if isinstance(exc, UnsupportedError):
        return HTTPProblem(400, exc.code, "Not supported", str(exc))
    return HTTPProblem(422, "refused", type(exc).__name__, str(exc))


def guard(
    handler: Handler, translate: Callable[[SSIWalletError], HTTPProblem | None] | None = None
) -> Handler:
    """``handler`` answering every failure as problem details, never a traceback.

    An error of ours goes through ``translate`` first (a service's own mapping;
    ``None`` from it: the default one): :class:`~did_methods.errors.ParseError`
    400 ``invalid_input``, :class:`~did_methods.errors.UnsupportedError` 400 with
    its code, any other 422 ``refused``.
    """

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except HTTPProblem as problem:
            return problem_response(problem, request.url.path)
        except SSIWalletError as exc:
            mapped = translate(exc) if translate is not None else None
            return problem_response(mapped or _default_problem(exc), request.url.path)

    return guarded


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    problem = HTTPProblem(exc.status_code, "http_error", str(exc.detail))
    return problem_response(problem, request.url.path)


def build_app(routes: Sequence[BaseRoute], state: object) -> Starlette:
    """A Starlette application of ``routes`` whose own errors (404, 405) are problem
    details too; ``state`` is kept as ``app.state.service``."""
    app = Starlette(routes=list(routes), exception_handlers={HTTPException: _http_error})
    app.state.service = state
    return app


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or ``None``."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else None


def bears_token(request: Request, token: str) -> bool:
    """Whether the request's ``Authorization: Bearer`` token is ``token`` (constant time)."""
    given = bearer_token(request)
    return given is not None and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def authorise(request: Request, token: str) -> None:
    """Raise a 401 :class:`HTTPProblem` unless the request bears ``token``."""
    if not bears_token(request, token):
        raise HTTPProblem(
            401,
            "unauthorised",
            "A valid bearer token is required",
            "this endpoint changes state: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="ssi-wallet"'},
        )


def run(app: Any, config: ServerConfig) -> None:
    """Serve ``app`` with uvicorn on the configured address, over TLS when configured."""
    import uvicorn

    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
        ssl_keyfile=str(config.tls_key) if config.tls_key else None,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
    )
