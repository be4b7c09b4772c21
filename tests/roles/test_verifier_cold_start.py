"""A verifier process opening a large ledger makes its first decision without reading
the whole log (issue 12, "Shown by"): the rows of the log's entry table it reads are
counted in a fresh Python process that opens the ledger read-only and decides on a real
presentation (signature, the issuer's did:ledger, its accreditation, the status list).

The log holds 20,000 entries of another kind before the issuer, its accreditation and
its status lists (200,000 under the ``slow`` marker); the process that accredited the
issuer persisted the registry follower's position, as every writer does.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from credentials import schemas
from did_methods import PrivateKey
from ledger.entry import EntryDraft
from ledger.facade import Ledger
from ledger.log import Log
from ledger.registry import Signer
from ledger.store import SQLiteStore
from ssi_wallet import Holder, Issuer

ORIGIN = "coldstart.example/ledger"
START_MS = 1_772_323_200_000  # 2026-03-01T00:00:00Z
PASSPHRASE = "cold start wallet"

# The verifier's process: a SQLite store that counts every row it reads from the log's
# entry table (whatever reads it: the follower, DID resolution, status anchoring).
_CHILD = textwrap.dedent(
    """
    import base64, json, sys
    from datetime import datetime
    from did_methods.http import StaticFetcher
    from ledger.facade import Ledger
    from ledger.store import SQLiteStore
    from ssi_wallet import Holder, Verifier, policies

    class CountingStore(SQLiteStore):
        rows_read = 0

        def _query(self, sql, params):
            rows = super()._query(sql, params)
            if "ledger_entries" in sql:
                CountingStore.rows_read += len(rows)
            return rows

        def read_sql(self, sql, params=()):
            rows = super().read_sql(sql, params)
            if "ledger_entries" in sql:
                CountingStore.rows_read += len(rows)
            return rows

    db, wallet_path, board_path, now_text, origin, passphrase = sys.argv[1:7]
    now = datetime.fromisoformat(now_text)
    board = {u: base64.b64decode(d) for u, d in json.loads(open(board_path).read()).items()}
    wallet = Holder.open(wallet_path, passphrase=passphrase)
    with Ledger(CountingStore(db, read_only=True), origin=origin) as ledger:
        size = ledger.log.size
        verifier = Verifier(
            ledger,
            audience="did:web:clinic.example",
            status_fetcher=StaticFetcher(board),
            clock=lambda: now,
        )
        request = verifier.request(policies.right_to_work())
        presentation = wallet.answer(request, consent=lambda ask: True, now=now)
        report = verifier.check(presentation, request)
    print(json.dumps({"ok": report.ok, "codes": sorted(report.codes), "size": size,
                      "rows_read": CountingStore.rows_read}))
    """
)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _filler_log(path: Path, size: int) -> int:
    """``size`` signed entries of another kind (a bulk import); returns the next clock ms."""
    author = Signer.for_did_key(PrivateKey.generate())
    store = SQLiteStore(path)
    log = Log(store, origin=ORIGIN, verify_signatures=False, max_clock_skew_ms=None)
    for first in range(0, size, 10_000):
        drafts = [
            EntryDraft("vault.commitment", b"rec-%08d" % i).sign(
                author.key, author.submitter, now=lambda i=i: _at(START_MS + i)
            )
            for i in range(first, min(size, first + 10_000))
        ]
        log.append_batch(drafts)
    store.close()
    return START_MS + size + 1000


@pytest.mark.parametrize("size", [20_000, pytest.param(200_000, marks=pytest.mark.slow)])
def test_a_verifier_process_decides_first_without_reading_the_log(
    tmp_path: Path, size: int
) -> None:
    db = tmp_path / "big.db"
    clock_ms = _filler_log(db, size)
    at = datetime.fromtimestamp(clock_ms / 1000, tz=UTC)
    root, key = PrivateKey.generate(), PrivateKey.generate()
    # The fillers were bulk-imported with no operator key: root becomes the operator
    # only by adopting the log explicitly (without adopt: operator_unknown).
    with Ledger.open(db, key=root, origin=ORIGIN, clock=lambda: at, adopt=True) as ledger:
        ministry = Issuer.create(ledger, name="Ministry", key=key, clock=lambda: at)
        ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="LT")
        wallet = Holder.create(tmp_path / "amina.wallet", passphrase=PASSPHRASE,
                               resolver=ledger.resolver(), clock=lambda: at)  # fmt: skip
        claims = schemas.example_subject("WorkPermit", now=at)
        claims.pop("id")
        claims["issuingState"] = "LT"
        wallet.store(ministry.issue("WorkPermit", subject=wallet.did, claims=claims))
        wallet.close()
        board = {u: base64.b64encode(d).decode() for u, d in ministry.board.documents().items()}
        grown = ledger.log.size - size
    (tmp_path / "board.json").write_text(json.dumps(board), encoding="utf-8")
    assert 0 < grown < 20  # the DID, its accreditation, the anchored status lists
    decided_at = datetime.fromtimestamp((clock_ms + 60_000) / 1000, tz=UTC)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(db),
            str(tmp_path / "amina.wallet"),
            str(tmp_path / "board.json"),
            decided_at.isoformat(),
            ORIGIN,
            PASSPHRASE,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["ok"], answer
    assert answer["size"] == size + grown
    # The registry entries and the few the decision proves or resolves: nothing of the
    # filler, so the count does not depend on the size of the log.
    assert answer["rows_read"] <= 3 * grown, answer
