"""Independent review of the work landed on 2026-12-04: each test is an attack that a
landed change let through (or crashed on), kept so that it stays refused. Real servers
on 127.0.0.1 and real crypto, as everywhere in tests/attacks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

sys.path[:0] = [str(Path(__file__).parents[1] / "oid4vp")]

from oid4vp_http import verifier_service  # noqa: E402
from oid4vp_world import World as VerifierWorld  # noqa: E402
from oid4vp_world import _make_world as _make_verifier_world  # noqa: E402
from test_attacks_oid4vc import _answer  # noqa: E402
from test_attacks_oid4vp_ext import _tx_request  # noqa: E402

from did_methods._wire.b64 import b64url_encode as b64e  # noqa: E402
from ssi_wallet.oid4vp.wallet import response_form  # noqa: E402


@pytest.fixture
def vp_world() -> VerifierWorld:
    return _make_verifier_world()


def _with_kb_payload(presentation: str, payload: dict[str, Any]) -> str:
    """``presentation`` (an SD-JWT with a Key Binding JWT) with the KB-JWT's claims
    replaced (its signature no longer holds: the Verifier's own check says so)."""
    head, _, kb = presentation.rpartition("~")
    header, _, rest = kb.partition(".")
    signature = rest.partition(".")[2]
    return f"{head}~{header}.{b64e(json.dumps(payload).encode())}.{signature}"


@pytest.mark.parametrize("stray", [{}, [], [["x"]], {"a": 1}])
def test_unhashable_transaction_data_hashes_are_a_finding_not_a_crash(
    vp_world: VerifierWorld, tmp_path: Path, stray: Any
) -> None:
    """Whoever holds the link posts a presentation whose KB-JWT lists a JSON object or
    array among its transaction_data_hashes. The response URI answered 500 (TypeError:
    unhashable, in check_transaction_data) and left the transaction claimed for ever,
    so the genuine wallet could no longer answer it. Now the decision is no
    (transaction_data_unexpected), and the transaction is decided, not stuck."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _tx_request(service)
        answer = _answer(vp_world, request)
        vp_token = {
            qid: [
                _with_kb_payload(p, {"nonce": request.nonce, "transaction_data_hashes": [stray]})
                if isinstance(p, str) and "~" in p
                else p
                for p in items
            ]
            for qid, items in answer.vp_token.items()
        }
        form = response_form(request, answer)
        form["vp_token"] = json.dumps(vp_token)
        posted = service.call("POST", "/oid4vp/response", form=form, token=None)
        result = service.result(made["transaction_id"])
    assert posted[0] == 200, posted
    assert result["ok"] is False
    codes = {f["code"] for f in result["report"]["findings"] if not f["ok"]}
    assert "transaction_data_unexpected" in codes, result["report"]["findings"]


def test_a_rewritten_kind_index_row_is_caught_or_ignored(tmp_path: Path) -> None:
    """The operator rewrites the ledger_kinds row of a revoking entry to another kind:
    the log and its tree are untouched, so either the audit must report the index or a
    follower must still be handed the entry. The audit compares every row with its
    entry (kind_index_mismatch)."""
    import sqlite3

    sys.path[:0] = [str(Path(__file__).parents[1] / "ledger_store")]
    from ledger_store_support import ORIGIN, Submitter

    from ledger.audit import audit
    from ledger.log import Log
    from ledger.store import SQLiteStore

    path = tmp_path / "ledger.db"
    alice = Submitter(1)
    store = SQLiteStore(path)
    log = Log(store, origin=ORIGIN)
    log.append_batch(alice.drafts(3, kind="test.grant"))
    log.append_batch(alice.drafts(1, kind="test.revoke", tag="r"))
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE ledger_kinds SET kind = 'test.other' WHERE kind = 'test.revoke'")
    store = SQLiteStore(path)
    try:
        found = Log(store, origin=ORIGIN).entries_of_kinds(0, 4, ["test.revoke"])
        handed = found is None or [e.index for e, _ in found[0]] == [3]
        assert handed or not audit(store).ok
    finally:
        store.close()
