"""The issuing back office: bulk issuance against the signature underneath it.

Row ``issue_bulk``: :meth:`ssi_wallet.Issuer.issue_many` of WorkPermits secured
with Data Integrity ``eddsa-jcs-2022`` (schema validation, revocation and
suspension status entries, the proof), in batches of :data:`BATCH`
credentials to distinct holders, by an issuer kept in a SQLite ledger file
(each batch reserves its status indexes in one database write), against one
raw Ed25519 signature of 32 bytes per credential: the signature is the one
cost issuance cannot avoid. Data Integrity is the format whose only
cryptography is that one signature; the notes give the same ratio for SD-JWT
VC (which also validates the holder's key, a subgroup check that costs about
two signatures, and salts and hashes a disclosure per personal claim) and for
``vc+jwt``.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from benchmarks._fixtures import key, seeded
from benchmarks._runner import Benchmark, Pair, Settings, Side
from benchmarks.bench_credentials import ed25519_sign_reference
from credentials import schemas
from did_methods.keys import PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.facade import Ledger
from ssi_wallet import CredentialFormat, Issuer

__all__ = ["BATCH", "BENCHMARKS", "HOLDERS"]

#: Credentials per ``issue_many`` call.
BATCH = 1_000
#: Distinct holder DIDs the batches cycle through.
HOLDERS = 5_000
_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _holders(count: int) -> list[str]:
    return [
        did_key_from_public_key(PrivateKey.generate(randbytes=seeded(f"holder-{i}")).public_key)
        for i in range(count)
    ]


def _ratio(run: Callable[[], Any], count: int, sign: Callable[[int], float]) -> float:
    """Median of 5 interleaved (sign ``count`` times, ``run``) pairs: signatures / run time."""
    ratios = []
    for _ in range(5):
        signing = sign(count)
        start = time.perf_counter()
        run()
        ratios.append(signing / (time.perf_counter() - start))
    return statistics.median(ratios)


def _setup_issue_bulk(settings: Settings) -> Pair:
    settings.workdir.mkdir(parents=True, exist_ok=True)
    path = settings.workdir / f"issuer-bench-{time.time_ns()}.db"
    ledger = Ledger.open(
        path,
        key=key("issuer-bench-operator"),
        clock=lambda: datetime.fromtimestamp(1_780_000_000, UTC),
    )
    office = Issuer.create(
        ledger, name="Migration Department", key=key("issuer-bench"), clock=lambda: _NOW
    )
    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    holders = _holders(HOLDERS)
    batches = itertools.cycle(
        [[(h, claims) for h in holders[i : i + BATCH]] for i in range(0, HOLDERS, BATCH)]
    )

    def ours(n: int) -> float:
        chosen = [next(batches) for _ in range(n)]
        clock = time.perf_counter
        start = clock()
        for batch in chosen:
            office.issue_many("WorkPermit", batch, format="di-eddsa")
        return clock() - start

    reference = ed25519_sign_reference()
    assert reference.sampler is not None
    sign = reference.sampler

    # The other formats, for the notes (no target): the same ratio, measured interleaved.
    def in_format(fmt: CredentialFormat) -> Callable[[], Any]:
        batch = next(batches)
        return lambda: office.issue_many("WorkPermit", batch, format=fmt)

    other = {fmt: _ratio(in_format(fmt), BATCH, sign) for fmt in ("sd-jwt", "vc-jwt")}

    def cleanup() -> None:
        office.close()
        ledger.close()
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    return Pair(
        Side("ours", ours, ops_per_call=BATCH, max_batch=400),
        reference,
        notes=(
            f"credentials per second; eddsa-jcs-2022 WorkPermits in batches of {BATCH} to "
            f"{HOLDERS} distinct did:key holders, issuer on a SQLite ledger file, "
            "schema validation and status entries included",
            "the other formats against the same reference (medians of 5 interleaved pairs, "
            "no target): " + ", ".join(f"{fmt} {ratio:.3f}" for fmt, ratio in other.items()),
        ),
        cleanup=cleanup,
    )


BENCHMARKS = (
    Benchmark(
        "issue_bulk",
        "Issuer.issue_many: Data Integrity WorkPermits with status, schema-validated",
        0.25,
        _setup_issue_bulk,
    ),
)
