"""The measuring machinery: warm up, repeat, interleave ours with the reference, take medians.

A benchmark's ``setup`` returns a :class:`Pair`: our operation and its
reference, each a :class:`Side` holding a :data:`Sampler` (run the
operation ``n`` times, return the elapsed seconds) or a fixed budget in
operations per second. :func:`measure` calibrates each side's batch size so
one sample lasts at least ``Settings.min_sample_s`` (the calibration doubles
as the warm-up), then takes ``repeats`` samples of each side in alternation
(ours, reference, ours, reference, ...) so that drift of the machine (turbo,
thermal, neighbours) hits both sides alike, and reports the median rate of
each side. Only ratios are compared with targets; bare rates depend on the
machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Benchmark",
    "Pair",
    "Result",
    "Sampler",
    "Settings",
    "Side",
    "loop",
    "measure",
    "render_table",
    "run",
]

#: Runs the operation ``n`` times and returns the seconds that took.
Sampler = Callable[[int], float]


def loop(operation: Callable[[], Any]) -> Sampler:
    """A :data:`Sampler` that calls ``operation`` ``n`` times under ``perf_counter``."""

    def sample(n: int) -> float:
        clock = time.perf_counter
        start = clock()
        for _ in range(n):
            operation()
        return clock() - start

    return sample


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison.

    ``label`` names it in the table. ``sampler`` runs it (``None`` only with
    ``fixed_ops_s``, a constant budget such as "50 ms" = 20 per second).
    One call of the operation counts as ``ops_per_call`` operations (1000 for
    a batch of 1000 entries, the entry count for a whole-log audit).
    ``max_batch`` caps the calls per sample (1 for operations that take seconds).
    """

    label: str
    sampler: Sampler | None = None
    ops_per_call: int = 1
    fixed_ops_s: float | None = None
    max_batch: int = 1_000_000

    def __post_init__(self) -> None:
        if (self.sampler is None) == (self.fixed_ops_s is None):
            raise ValueError("a Side has either a sampler or a fixed rate")


@dataclass(frozen=True, slots=True)
class Pair:
    """What a benchmark's setup returns: ours, the reference, notes and an optional cleanup.

    ``repeats`` overrides :attr:`Settings.repeats` for heavy rows.
    """

    ours: Side
    reference: Side
    notes: tuple[str, ...] = ()
    repeats: int | None = None
    cleanup: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """How hard to measure: ``quick`` runs are smaller and shorter (see :func:`Settings.make`)."""

    quick: bool
    workdir: Path
    min_sample_s: float
    repeats: int

    @classmethod
    def make(cls, *, quick: bool, workdir: Path) -> Settings:
        """The quick (under a minute in all) or the full (under ten minutes) settings."""
        if quick:
            return cls(quick=True, workdir=workdir, min_sample_s=0.04, repeats=5)
        return cls(quick=False, workdir=workdir, min_sample_s=0.2, repeats=9)


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A row of the table: ``name``, what it measures, its target ratio and its setup."""

    name: str
    what: str
    target: float
    setup: Callable[[Settings], Pair]


@dataclass(frozen=True, slots=True)
class Result:
    """A measured row. ``ratio`` is ours / reference (higher is better)."""

    name: str
    what: str
    ours_ops_s: float
    reference: str
    reference_ops_s: float
    target: float
    notes: tuple[str, ...] = field(default=())

    @property
    def ratio(self) -> float:
        """Our rate over the reference's."""
        return self.ours_ops_s / self.reference_ops_s

    @property
    def passed(self) -> bool:
        """Whether the ratio reaches the target."""
        return self.ratio >= self.target

    def to_json(self) -> dict[str, Any]:
        """The row as the ``--json`` file holds it."""
        return {
            "name": self.name,
            "ours_ops_s": round(self.ours_ops_s, 3),
            "reference": self.reference,
            "reference_ops_s": round(self.reference_ops_s, 3),
            "ratio": round(self.ratio, 4),
            "target": self.target,
        }


def _calibrate(side: Side, min_sample_s: float) -> int:
    # Grow the batch until one sample lasts min_sample_s; these runs are the warm-up.
    assert side.sampler is not None
    n = 1
    while True:
        elapsed = side.sampler(n)
        if elapsed >= min_sample_s or n >= side.max_batch:
            return n
        grow = 10.0 if elapsed <= 0 else min(10.0, max(2.0, 1.2 * min_sample_s / elapsed))
        n = min(side.max_batch, int(n * grow) + 1)


def measure(pair: Pair, settings: Settings) -> tuple[float, float]:
    """Median operations per second of ours and of the reference, sampled alternately."""
    sides = (pair.ours, pair.reference)
    batches = [
        0 if side.sampler is None else _calibrate(side, settings.min_sample_s) for side in sides
    ]
    rates: list[list[float]] = [[], []]
    for _ in range(pair.repeats or settings.repeats):
        for i, side in enumerate(sides):
            if side.sampler is None:
                continue
            elapsed = side.sampler(batches[i])
            rates[i].append(batches[i] * side.ops_per_call / max(elapsed, 1e-9))
    out = [
        side.fixed_ops_s if side.fixed_ops_s is not None else statistics.median(rates[i])
        for i, side in enumerate(sides)
    ]
    return out[0], out[1]


def run(
    benchmarks: Sequence[Benchmark],
    settings: Settings,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Result]:
    """Set up, measure and clean up each benchmark in turn; return one result per row."""
    results: list[Result] = []
    for bench in benchmarks:
        if progress is not None:
            progress(f"{bench.name} ...")
        started = time.perf_counter()
        pair = bench.setup(settings)
        try:
            ours, ref = measure(pair, settings)
        finally:
            if pair.cleanup is not None:
                pair.cleanup()
        result = Result(
            bench.name, bench.what, ours, pair.reference.label, ref, bench.target, pair.notes
        )
        results.append(result)
        if progress is not None:
            progress(
                f"{bench.name}: ratio {result.ratio:.3g} (target {bench.target:g}) "
                f"in {time.perf_counter() - started:.1f} s"
            )
    return results


def _rate(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def render_table(results: Sequence[Result]) -> str:
    """The results as a markdown table, then their notes and a summary of missed targets."""
    lines = [
        "| operation | ours per second | reference | reference per second "
        "| ratio | target | pass |",
        "|---|---:|---|---:|---:|---:|:---:|",
    ]
    for r in results:
        lines.append(
            f"| `{r.name}` | {_rate(r.ours_ops_s)} | {r.reference} | "
            f"{_rate(r.reference_ops_s)} | {r.ratio:.3g} | >= {r.target:g} | "
            f"{'yes' if r.passed else '**no**'} |"
        )
    notes = [f"- `{r.name}`: {note}" for r in results for note in r.notes]
    if notes:
        lines += ["", "Notes:", "", *notes]
    misses = [r for r in results if not r.passed]
    lines.append("")
    if misses:
        lines.append(
            f"{len(misses)} of {len(results)} targets missed: "
            + ", ".join(f"`{r.name}` ({r.ratio:.3g} < {r.target:g})" for r in misses)
        )
    else:
        lines.append(f"All {len(results)} targets met.")
    return "\n".join(lines)
