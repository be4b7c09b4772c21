"""``ssi-wallet demo --http``: the demo's three pathways over real HTTP on 127.0.0.1.

The scenario is the demo's own (:mod:`ssi_wallet.demo`: the same parties,
claims, policies, steps and expected outcomes); what changes is how the
messages travel. Each issuing office runs an OpenID4VCI issuer
(:mod:`ssi_wallet.server.oid4vci`) and each check is made by an OpenID4VP
verifier service (:mod:`ssi_wallet.server.oid4vp`), all of them uvicorn
servers in threads of this process on ports the system picks:

1. the office's back office makes a credential offer (``POST /offers``, a
   pre-authorized code with a transaction code);
2. the wallet (:class:`~ssi_wallet.oid4vci.WalletClient`) resolves the offer,
   reads both metadata documents, gets a DPoP-bound token with the
   transaction code, a ``c_nonce``, and receives the credentials (a batch of
   instances, each bound to a key of its own, where a pathway shows its
   permits to several verifiers), then notifies the issuer, which the back
   office reads (``GET /cases/{id}/notifications``);
3. for each check a verifier service starts with a ``decentralized_identifier:``
   (did:key) client; its back office creates a request (``POST
   /oid4vp/requests``); the wallet (:func:`~ssi_wallet.oid4vp.present`) fetches
   and verifies the signed request object, asks consent, and posts its answer
   (``direct_post``; ``direct_post.jwt`` encrypted to the border post; the
   university's request object fetched by POST); the verifier fetches the
   issuer's status list over HTTP (the border post uses its offline copy) and
   the back office reads the decision and its explanation (``GET
   /oid4vp/results/{id}``); a refused consent reaches the verifier as
   ``access_denied``.

Every request is recorded (who, method, URL, status) and narrated under the
step it belongs to; a step's ``details`` carry them as ``http`` and the
protocol facts as ``oid4vci`` / ``oid4vp``. A step whose protocol facts are
not what the scenario needs turns out ``http_unexpected``.

Needs the ``server`` extra (``pip install 'ssi-wallet[server]'``).
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from credentials import schemas
from did_methods._wire.json import loads_object
from did_methods.errors import PolicyError, SSIWalletError, UnsupportedError
from did_methods.http import FetchError, HttpFetcher, HttpResponse
from did_methods.keyfile import write_key_file
from did_methods.keys import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import policies
from ssi_wallet.demo import Decision, DemoStep, Say, _Scenario
from ssi_wallet.holder import ConsentRequest, Holder
from ssi_wallet.issuer import Issuer, StatusRef, StatusTarget

__all__ = ["DemoHttpError", "Exchange", "HttpScenario", "require_server"]

#: Instances per credential in one offer: Amina shows her permits to several verifiers,
#: each sees an instance bound to another key (unlinkable by key).
BATCH: Final = {"ResidencePermit": 3, "WorkPermit": 3}
#: Verifiers (by the demo's audience name) whose wallet answer is encrypted (direct_post.jwt).
ENCRYPTED: Final = frozenset({"border.example"})
#: Verifiers whose request object the wallet fetches by POST (request_uri_method=post).
POSTED: Final = frozenset({"uni-leipzig.example"})
#: Verifiers that check status with the issuer's lists held offline (no status request).
OFFLINE: Final = frozenset({"border.example"})
#: Most bytes read from a back-office answer.
_MAX_ANSWER: Final = 1 << 20
#: Path segments this long are random ids (offers, requests, cases): shortened in the narration.
_PRINTED_SEGMENT: Final = 32


class DemoHttpError(SSIWalletError):
    """A service of the HTTP demo answered what no step of the scenario expects."""

    code = "demo_http_failed"


def require_server() -> None:
    """Raise :class:`~did_methods.errors.UnsupportedError` unless the ``server`` extra
    (Starlette, uvicorn) is installed."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UnsupportedError(
            f"ssi-wallet demo --http needs {exc.name}: pip install 'ssi-wallet[server]'",
            "server_unavailable",
        ) from exc


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request of the run: who sent it, to which server, and the answer's status
    (``0`` when no answer came)."""

    sender: str
    server: str
    method: str
    url: str
    status: int

    @property
    def path(self) -> str:
        """The URL's path (no query)."""
        return urlsplit(self.url).path

    def to_json(self) -> dict[str, Any]:
        """JSON form: ``from``, ``to``, ``method``, ``url``, ``path``, ``status``."""
        return {
            "from": self.sender,
            "to": self.server,
            "method": self.method,
            "url": self.url,
            "path": self.path,
            "status": self.status,
        }

    def line(self) -> str:
        """One line of narration; random ids in the path are shortened."""
        path = "/".join(
            s if len(s) < _PRINTED_SEGMENT else s[:8] + "..." for s in self.path.split("/")
        )
        return (
            f"  http: {self.sender} -> {self.server}: {self.method} {path} "
            f"{self.status or 'no answer'}"
        )


class _Log:
    """The exchanges not yet narrated; servers' threads add to it too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Exchange] = []
        self.names: dict[str, str] = {}  # base URL -> server name

    def add(self, sender: str, method: str, url: str, status: int) -> None:
        parts = urlsplit(url)
        server = self.names.get(f"{parts.scheme}://{parts.netloc}", parts.netloc)
        with self._lock:
            self._pending.append(Exchange(sender, server, method, url, status))

    def drain(self) -> list[Exchange]:
        with self._lock:
            out, self._pending = self._pending, []
        return out


class _Recorder(HttpFetcher):
    """The demo's HTTP client: an :class:`HttpFetcher` for 127.0.0.1 that logs each request."""

    def __init__(self, log: _Log, sender: str) -> None:
        super().__init__(allow_loopback=True)
        self._log = log
        self._sender = sender

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int = 1 << 20,
        timeout: float = 10.0,
        follow_redirects: bool = False,
    ) -> HttpResponse:
        try:
            reply = super().request(
                method, url, headers=headers, body=body, max_bytes=max_bytes, timeout=timeout,
                follow_redirects=follow_redirects,
            )  # fmt: skip
        except FetchError as exc:
            self._log.add(self._sender, method, url, exc.status or 0)
            raise
        self._log.add(self._sender, method, url, reply.status)
        return reply

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        try:
            data = super().fetch(url, max_bytes=max_bytes, timeout=timeout, accept=accept)
        except FetchError as exc:
            self._log.add(self._sender, "GET", url, exc.status or 0)
            raise
        self._log.add(self._sender, "GET", url, 200)
        return data


def _answer(reply: HttpResponse, status: int, what: str) -> dict[str, Any]:
    """The JSON object of a back-office answer that must have ``status``."""
    if reply.status != status:
        raise DemoHttpError(f"{what} answered {reply.status}, not {status}: {reply.body[:200]!r}")
    return loads_object(reply.body, what=what, max_bytes=_MAX_ANSWER)


@dataclass(frozen=True, slots=True)
class _Answered:
    """A decision as a verifier service reports it (``GET /oid4vp/results/{id}``)."""

    ok: bool
    codes: tuple[str, ...]
    explanation: str

    def explain(self, language: str | None = None) -> str:
        return self.explanation  # fetched in the run's language

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> _Answered:
        report = result.get("report")
        findings = report.get("findings") if isinstance(report, Mapping) else None
        if not isinstance(result.get("ok"), bool) or not isinstance(findings, list):
            raise DemoHttpError(f"the verifier's result holds no decision: {str(result)[:200]}")
        codes = tuple(
            str(f.get("code")) for f in findings if isinstance(f, Mapping) and not f.get("ok")
        )
        return cls(result["ok"], codes, str(result.get("explanation", "")))


@dataclass(frozen=True, slots=True)
class _Office:
    """An issuing office's OpenID4VCI service: where it answers, its back-office token."""

    name: str
    base: str
    token: str


class HttpScenario(_Scenario):
    """The demo's scenario with every credential and presentation carried over HTTP."""

    def __init__(self, say: Say, folder: Path, language: str) -> None:
        super().__init__(say, folder, language)
        self.log = _Log()
        self.offices: dict[str, _Office] = {}
        self.facts: dict[str, Any] = {}
        self.notes: list[str] = []
        self.failure: str | None = None
        self._stack = contextlib.ExitStack()
        self._keys = Path()

    # -- the servers ----------------------------------------------------------------------

    def run(self) -> tuple[DemoStep, ...]:
        with self._stack, tempfile.TemporaryDirectory(prefix="ssi-wallet-demo-keys-") as keys:
            self._keys = Path(keys)
            self.say(
                "Over HTTP: each office runs an OpenID4VCI issuer and each check an OpenID4VP "
                "verifier,\nall on 127.0.0.1 in this process; every request is shown as "
                "'http: from -> to: METHOD path status'."
            )
            return super().run()

    def announce(self, name: str, role: str, base: str) -> None:
        self.log.names[base] = name
        self.servers.append({"name": name, "role": role, "url": base})
        self.say(f"    [{role} {name} listens on {base}]")

    def new_issuer(self, ledger: Ledger, name: str) -> Issuer:
        """The issuer, and its OpenID4VCI service started (its status lists served there)."""
        from ssi_wallet.oid4vci import CredentialIssuer
        from ssi_wallet.server.background import BackgroundServer
        from ssi_wallet.server.oid4vci import create_app

        server = self._stack.enter_context(BackgroundServer())
        issuer = Issuer.create(ledger, name=name, status_base=f"{server.base}/status")
        token = secrets.token_urlsafe(24)
        service = CredentialIssuer(issuer, server.base, batch_size=max(BATCH.values()))
        server.start(create_app(service, token=token, max_body_bytes=256 * 1024))
        self.offices[issuer.did] = _Office(name, server.base, token)
        self.announce(name, "OpenID4VCI issuer", server.base)
        return issuer

    # -- the narration --------------------------------------------------------------------

    def step(
        self, title: str, expected: str, outcome: str, lines: tuple[str, ...] = (), **details: Any
    ) -> DemoStep:
        exchanges = self.log.drain()
        if exchanges:
            details["http"] = [e.to_json() for e in exchanges]
        details.update(self.facts)
        if self.failure is not None:
            outcome = self.failure
        notes = tuple(f"  ({note})" for note in self.notes)
        self.facts, self.notes, self.failure = {}, [], None
        return super().step(
            title, expected, outcome, (*lines, *notes, *(e.line() for e in exchanges)), **details
        )

    # -- OpenID4VCI -----------------------------------------------------------------------

    def deliver(
        self, issuer: Issuer, wallet: Holder, claims: Mapping[str, dict[str, object]]
    ) -> dict[str, list[StatusTarget]]:
        """The office offers the credentials; the wallet receives them over OpenID4VCI."""
        from ssi_wallet.oid4vci import WalletClient

        office = self.offices[issuer.did]
        back = _Recorder(self.log, "back office")
        bearer = {"Authorization": f"Bearer {office.token}"}
        ids = [f"{type_name}.sd_jwt" for type_name in claims]
        made = _answer(
            back.post_json(
                f"{office.base}/offers",
                {"credential_configuration_ids": ids, "claims": dict(claims), "tx_code": True},
                headers=bearer,
            ),
            201,
            "the offer endpoint",
        )
        batch = max(BATCH.get(type_name, 1) for type_name in claims)
        client = WalletClient(wallet, _Recorder(self.log, "wallet"), unsafe_allow_http=True)
        received = client.receive(made["credential_offer"], tx_code=made["tx_code"], batch=batch)
        events = _answer(
            back.get(f"{office.base}/cases/{made['case_id']}/notifications", headers=bearer),
            200,
            "the notifications endpoint",
        ).get("events", [])
        issued: dict[str, list[StatusTarget]] = {t: [] for t in claims}
        keys: set[str] = set()
        for stored in received.stored:
            type_name = schemas.type_for_vct(str(stored.claims.get("vct")))
            issued[type_name].append(_status_ref(stored.claims, issuer))
            cnf = stored.claims.get("cnf")
            if isinstance(cnf, Mapping):
                keys.add(str(cnf.get("jwk")))
        accepted = [e.get("event") for e in events if isinstance(e, Mapping)]
        self.notes.append(
            f"OpenID4VCI: an offer with a {len(str(made['tx_code']))}-digit transaction code; "
            f"{batch} instance(s) of each credential, {len(keys)} key(s) in all; "
            f"the issuer was notified: {', '.join(map(str, accepted))}"
        )
        self.facts["oid4vci"] = {
            "issuer": office.base,
            "configurations": ids,
            "tx_code_digits": len(str(made["tx_code"])),
            "batch": batch,
            "received": {t: len(refs) for t, refs in issued.items()},
            "distinct_keys": len(keys),
            "notifications": accepted,
        }
        expected = batch * len(claims)
        if (
            any(len(refs) != batch for refs in issued.values())
            or len(keys) != expected
            or accepted != ["credential_accepted"] * len(claims)
        ):
            self.failure = "http_unexpected"
        return issued

    # -- OpenID4VP ------------------------------------------------------------------------

    def ask(
        self,
        ledger: Ledger,
        audience: str,
        issuer: Issuer,
        policy: policies.Policy,
        wallet: Holder,
        consent: Callable[[ConsentRequest], bool] = lambda ask: True,
    ) -> Decision:
        """A verifier service for ``audience`` asks ``wallet`` over OpenID4VP; its decision."""
        from ssi_wallet.oid4vp import present
        from ssi_wallet.server.background import BackgroundServer
        from ssi_wallet.server.common import ServerConfig
        from ssi_wallet.server.oid4vp import ClientConfig, OID4VPConfig, create_app

        name = audience.removeprefix("did:web:")
        mode = "direct_post.jwt" if name in ENCRYPTED else "direct_post"
        method = "post" if name in POSTED else "get"
        with BackgroundServer() as server:
            token = secrets.token_urlsafe(24)
            key_file = self._keys / f"{name}-{server.port}.jwk"
            write_key_file(key_file, PrivateKey.generate())
            config = OID4VPConfig(
                ServerConfig(server.host, server.port, server.base, 256 * 1024, token),
                (ClientConfig("demo", "decentralized_identifier", key_file),),
                "demo",
                language=self.language,
            )
            extra = {} if policy.name in policies.RECIPES else {policy.name: lambda _: policy}
            status = issuer.board if name in OFFLINE else _Recorder(self.log, name)
            server.start(
                create_app(config, trust=ledger, status_fetcher=status, extra_policies=extra)
            )
            self.announce(name, "OpenID4VP verifier", server.base)
            back = _Recorder(self.log, "back office")
            made = _answer(
                back.post_json(
                    f"{server.base}/oid4vp/requests",
                    {
                        "policy": policy.name,
                        "params": dict(policy.params),
                        "response_mode": mode,
                        "request_uri_method": method,
                    },
                    headers={"Authorization": f"Bearer {token}"},
                ),
                201,
                "the request endpoint",
            )
            facts: dict[str, Any] = {
                "verifier": server.base,
                "client_id": made["client_id"],
                "response_mode": mode,
                "request_uri_method": method,
                "status_lists": "offline" if name in OFFLINE else "http",
            }
            self.facts["oid4vp"] = facts
            self.notes.append(
                f"OpenID4VP: a request object signed by {made['client_id'][:60]}..., "
                f"fetched by {method.upper()}; the answer sent {mode}"
                + ("; status lists read offline" if name in OFFLINE else "")
            )
            declined: PolicyError | None = None
            try:
                present(
                    wallet,
                    made["authorization_request"],
                    consent=consent,
                    resolver=ledger.resolver(),
                    transport=_Recorder(self.log, "wallet"),
                )
            except PolicyError as exc:
                declined = exc
            result = _answer(
                back.get(
                    f"{made['result_uri']}?lang={self.language}",
                    headers={"Authorization": f"Bearer {made['result_token']}"},
                ),
                200,
                "the result endpoint",
            )
        facts["status"] = result.get("status")
        if declined is not None:
            facts["error"] = result.get("error")
            self.notes.append(
                f"the wallet told the verifier only {result.get('error')}: "
                "an OpenID4VP error response, no claim"
            )
            if result.get("status") != "wallet_error" or result.get("error") != "access_denied":
                self.failure = "http_unexpected"
            raise declined
        answered = _Answered.from_result(result)
        facts["accepted"] = answered.ok
        facts["headline"] = answered.explanation.partition("\n")[0]
        if result.get("status") != "answered":
            self.failure = "http_unexpected"
        return answered


def _status_ref(claims: Mapping[str, Any], issuer: Issuer) -> StatusRef:
    """Where a received SD-JWT VC's status lives, as the issuer names it (its Token Status
    List entry: ``status.status_list`` ``idx`` and ``uri``)."""
    entry = claims.get("status")
    listed = entry.get("status_list") if isinstance(entry, Mapping) else None
    if not isinstance(listed, Mapping) or not isinstance(listed.get("idx"), int):
        raise DemoHttpError("a received credential carries no status list entry")
    uri = listed.get("uri")
    for number in range(64):
        if uri == issuer.status_url("token", number):
            return StatusRef(number, int(listed["idx"]))
    raise DemoHttpError(f"a received credential's status list is not its issuer's: {uri!r}")
