"""Transactions of an :class:`~ssi_wallet.oid4vp.OID4VPVerifier` kept in a record store, so
a restarted verifier still serves its pending requests and their results.

:class:`StateTransactionStore` is a :class:`~ssi_wallet.oid4vp.verifier.TransactionStore`
over the record stores of the OpenID4VCI issuer (:class:`~ssi_wallet.oid4vci.store.StateStore`:
kind, key, JSON value, expiry; the same code, not a copy):
:class:`~ssi_wallet.oid4vci.store.MemoryStateStore` in one process, or
:class:`~ssi_wallet.oid4vci.sqlite_store.SQLiteStateStore`, a SQLite file (mode 0600,
``secure_delete``) shared by every process that opens it;
:func:`sqlite_transaction_store` opens one.

Each transaction is one record (``oid4vp_tx``) and one index record per handle
(kinds ``oid4vp_index_request_id``, ``_state`` and ``_kid`` for the JWE key); a
transaction still ``pending`` also holds a claim record (``oid4vp_claim``). A
response claims the transaction by *taking* that record (one ``DELETE ...
RETURNING`` in SQLite), so two responses racing, even in two processes, never both
get it. Records expire ``retention`` seconds after the request does.

The decision survives as what it explains: the findings, the disclosed claims and
the policy's purpose (so :meth:`~ssi_wallet.verifier.Report.explain` speaks every
language after a restart), with the report's JSON form kept as it was. The
policy is rebuilt from its name and parameters by ``policy_factory`` (default
:func:`ssi_wallet.policies.by_name`). Single-use nonces are the Verifier's replay
store's: give the Verifier a persistent one too (the service's ``state`` file holds
both).

Errors: a record that cannot be read back raises
:class:`~did_methods.errors.StoreError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

from did_methods._wire.dates import Clock, system_clock
from did_methods.errors import ParseError, SSIWalletError, StoreError
from did_methods.keys import PrivateKey
from ssi_wallet import policies
from ssi_wallet.oid4vci.store import StateStore
from ssi_wallet.oid4vp.verifier import FLOWS, Status, Transaction
from ssi_wallet.policies import DisclosedClaims, Finding, Policy
from ssi_wallet.request import PresentationRequest
from ssi_wallet.verifier import Report

__all__ = [
    "StateTransactionStore",
    "sqlite_transaction_store",
    "transaction_from_json",
    "transaction_to_json",
]

#: Builds a policy from its name and parameters (text values), or raises ParseError.
PolicyFactory = Callable[[str, Mapping[str, str]], Policy]

_TX: Final = "oid4vp_tx"
_INDEX: Final = "oid4vp_index"
_CLAIM: Final = "oid4vp_claim"
_STATUSES: Final = ("pending", "checking", "answered", "wallet_error")


class StateTransactionStore:
    """A :class:`~ssi_wallet.oid4vp.verifier.TransactionStore` in a
    :class:`~ssi_wallet.oid4vci.store.StateStore` (see the module docstring)."""

    def __init__(
        self,
        state: StateStore,
        *,
        retention: int = 3600,
        policy_factory: PolicyFactory = policies.by_name,
        clock: Clock = system_clock,
    ) -> None:
        self.state = state
        self._retention = retention
        self._policy = policy_factory
        self._clock = clock

    def _now(self) -> float:
        return self._clock().timestamp()

    def _expiry(self, transaction: Transaction) -> float:
        return float(transaction.expires_at + self._retention)

    @staticmethod
    def _handles(t: Transaction) -> list[tuple[str, str]]:
        # one kind per handle, so each kind holds at most one record per transaction
        # and the store's per-kind bound drops whole transactions' handles alike
        keys = [(f"{_INDEX}_request_id", t.request_id), (f"{_INDEX}_state", t.state)]
        if t.encryption_kid is not None:
            keys.append((f"{_INDEX}_kid", t.encryption_kid))
        return keys

    def add(self, transaction: Transaction, *, now: int) -> None:
        """Keep a new transaction, its handles and (while pending) its claim record."""
        for kind, handle in self._handles(transaction):
            if self.state.get(kind, handle, now=now) is not None:
                raise ParseError(f"{kind.removeprefix(_INDEX + '_')} already in use")
        expiry = self._expiry(transaction)
        self.state.put(_TX, transaction.id, transaction_to_json(transaction), expires_at=expiry)
        for kind, handle in self._handles(transaction):
            self.state.put(kind, handle, {"id": transaction.id}, expires_at=expiry)
        if transaction.status == "pending":
            self.state.put(_CLAIM, transaction.id, {}, expires_at=expiry)

    def find(
        self,
        *,
        id: str | None = None,
        request_id: str | None = None,
        state: str | None = None,
        kid: str | None = None,
        now: float | None = None,
    ) -> Transaction | None:
        """Look a transaction up by exactly one of its handles."""
        moment = self._now() if now is None else now
        if id is None:
            for name, value in (("request_id", request_id), ("state", state), ("kid", kid)):
                if value is not None:
                    found = self.state.get(f"{_INDEX}_{name}", value, now=moment)
                    id = None if found is None else str(found.get("id"))
                    break
        if id is None:
            return None
        record = self.state.get(_TX, id, now=moment)
        return None if record is None else self._read(record)

    def transition(self, transaction_id: str, old: Status, new: Transaction) -> bool:
        """Compare-and-set on the status: leaving ``pending`` takes the claim record (so
        only one caller wins); going back to ``pending`` puts it back."""
        now = self._now()
        expiry = self._expiry(new)
        if old == "pending":
            if self.state.take(_CLAIM, transaction_id, now=now) is None:
                return False
        else:
            current = self.find(id=transaction_id, now=now)
            if current is None or current.status != old:
                return False
        self.state.put(_TX, transaction_id, transaction_to_json(new), expires_at=expiry)
        if new.status == "pending":
            self.state.put(_CLAIM, transaction_id, {}, expires_at=expiry)
        return True

    def _read(self, record: Mapping[str, Any]) -> Transaction:
        try:
            return transaction_from_json(record, self._policy)
        except (SSIWalletError, KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"an OpenID4VP transaction record is unreadable: {exc}") from exc


def sqlite_transaction_store(
    path: str | os.PathLike[str],
    *,
    retention: int = 3600,
    policy_factory: PolicyFactory = policies.by_name,
    max_entries: int = 100_000,
    clock: Clock = system_clock,
) -> StateTransactionStore:
    """A :class:`StateTransactionStore` in the SQLite file at ``path`` (the issuer's
    :class:`~ssi_wallet.oid4vci.sqlite_store.SQLiteStateStore`: created mode 0600 if
    absent, ``secure_delete``; it may be the file of the Verifier's
    :class:`~ssi_wallet.replay.SQLiteReplayStore`). Raises
    :class:`~did_methods.errors.StoreError` when it cannot be opened."""
    from ssi_wallet.oid4vci.sqlite_store import SQLiteStateStore

    return StateTransactionStore(
        SQLiteStateStore(path, max_per_kind=max_entries),
        retention=retention,
        policy_factory=policy_factory,
        clock=clock,
    )


# -- the JSON form of a transaction ---------------------------------------------------------


def transaction_to_json(t: Transaction) -> dict[str, Any]:
    """Everything of ``t`` as JSON (its ephemeral decryption key as a private JWK)."""
    out: dict[str, Any] = {
        "id": t.id,
        "request_id": t.request_id,
        "state": t.state,
        "request": t.request.to_json(),
        "policy": {"name": t.policy.name, "params": dict(t.policy.params)},
        "response_mode": t.response_mode,
        "request_uri_method": t.request_uri_method,
        "expires_at": t.expires_at,
        "status": t.status,
        "result_token": t.result_token,
        "flow": t.flow,
    }
    if t.transaction_data:
        out["transaction_data"] = list(t.transaction_data)
    if t.encryption_key is not None:
        out["encryption_key"] = t.encryption_key.private_jwk()
        out["encryption_kid"] = t.encryption_kid
    for name in ("wallet_error", "wallet_error_description", "response_code"):
        if getattr(t, name) is not None:
            out[name] = getattr(t, name)
    if t.report is not None:
        out["report"] = _report_to_json(t.report, t.report_json)
    return out


def transaction_from_json(data: Mapping[str, Any], policy_factory: PolicyFactory) -> Transaction:
    """The :class:`Transaction` of :func:`transaction_to_json`'s output."""
    status, flow = data["status"], data.get("flow", "cross_device")
    if status not in _STATUSES or flow not in FLOWS:
        raise ParseError("unknown status or flow")
    policy = data["policy"]
    key = data.get("encryption_key")
    report = data.get("report")
    return Transaction(
        str(data["id"]),
        str(data["request_id"]),
        str(data["state"]),
        PresentationRequest.from_json(data["request"]),
        policy_factory(str(policy["name"]), dict(policy["params"])),
        data["response_mode"],
        data["request_uri_method"],
        int(data["expires_at"]),
        None if key is None else PrivateKey.from_jwk(key),
        data.get("encryption_kid"),
        status,
        None if report is None else _report_from_json(report),
        data.get("wallet_error"),
        data.get("wallet_error_description"),
        data.get("response_code"),
        str(data.get("result_token", "")),
        flow,
        report_json=None if report is None else dict(report["json"]),
        transaction_data=tuple(str(i) for i in data.get("transaction_data", ())),
    )


def _report_to_json(report: Report, shown: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "policy": report.policy,
        "findings": [
            {
                "code": f.code,
                "ok": f.ok,
                "message": f.message,
                "query_id": f.query_id,
                "details": dict(f.details),
            }
            for f in report.findings
        ],
        "disclosed": {
            qid: {
                "type_name": getattr(c, "type_name", None),
                "issuer": getattr(c, "issuer", None),
                "claims": dict(c),
            }
            for qid, c in report.disclosed.items()
        },
        "language": report.language,
        "purpose_key": report.purpose_key,
        "purpose_params": dict(report.purpose_params),
        "json": dict(shown) if shown is not None else report.to_json(),
    }


def _report_from_json(data: Mapping[str, Any]) -> Report:
    findings = tuple(
        Finding(f["code"], bool(f["ok"]), f["message"], f.get("query_id"), f.get("details") or {})
        for f in data["findings"]
    )
    disclosed: dict[str, Any] = {}
    for qid, c in data["disclosed"].items():
        if c.get("type_name") is None:
            disclosed[qid] = dict(c["claims"])
        else:
            disclosed[qid] = DisclosedClaims(c["type_name"], c["issuer"], c["claims"])
    return Report(
        bool(data["ok"]),
        str(data["policy"]),
        findings,
        {},
        disclosed,
        str(data.get("language", "en")),
        data.get("purpose_key"),
        dict(data.get("purpose_params") or {}),
    )
