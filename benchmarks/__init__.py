"""Side-by-side performance runs: every hot path against the physical limit and the peers.

Run ``python -m benchmarks [--quick] [--json PATH] [--only NAME] [--workdir DIR]``.
Each row measures one of our operations and its reference in the same
process run, interleaved, and compares their ratio (ours / reference, higher
is better) with the target of issue 7; bare times are never compared because
machines differ and are noisy. See ``docs/performance.md``.

The references come from the ``bench`` extra (``sd-jwt``, ``pymerkle``,
``jwcrypto``, ``rfc8785``) besides PyNaCl and cryptography; a module imports
them only when its row runs.
"""

from __future__ import annotations

from benchmarks._runner import Benchmark, Pair, Result, Settings, Side, render_table, run

__all__ = [
    "Benchmark",
    "Pair",
    "Result",
    "Settings",
    "Side",
    "all_benchmarks",
    "render_table",
    "run",
]


def all_benchmarks() -> tuple[Benchmark, ...]:
    """Every row, in the order of the issue's table."""
    from benchmarks import (
        bench_credentials,
        bench_issuer,
        bench_ledger,
        bench_oid4vp,
        bench_roles,
        bench_sdjwt,
    )

    return (
        *bench_credentials.BENCHMARKS,
        *bench_sdjwt.BENCHMARKS,
        *bench_ledger.BENCHMARKS,
        *bench_roles.BENCHMARKS,
        *bench_issuer.BENCHMARKS,
        *bench_oid4vp.BENCHMARKS,
    )
