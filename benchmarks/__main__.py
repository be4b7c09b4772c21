"""``python -m benchmarks``: run the rows, print the markdown table, optionally write JSON.

Exits 0 whenever the run completed, targets missed or not (the misses are
summarised under the table); 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import Settings, all_benchmarks, render_table, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure ssi-wallet against raw primitives and peer libraries (ratios).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller logs, shorter samples (under a minute)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as JSON")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this row (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "ssi-wallet-bench",
        help="where the big ledger and pymerkle's tree are built once and kept "
        "(default: %(default)s)",
    )
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the selected rows and report; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    benchmarks = all_benchmarks()
    if args.list:
        for bench in benchmarks:
            print(f"{bench.name:24} >= {bench.target:<5g} {bench.what}")
        return 0
    if args.only:
        wanted = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
        known = {bench.name for bench in benchmarks}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            parser.error(f"unknown row(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        benchmarks = tuple(bench for bench in benchmarks if bench.name in wanted)
    settings = Settings.make(quick=args.quick, workdir=args.workdir)
    started = time.perf_counter()
    results = run(benchmarks, settings, progress=lambda line: print(line, file=sys.stderr))
    took = time.perf_counter() - started
    print(render_table(results))
    print(
        f"\n{'Quick' if args.quick else 'Full'} run of {len(results)} rows in {took:.0f} s; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs."
    )
    if args.json is not None:
        args.json.write_text(
            json.dumps([r.to_json() for r in results], indent=2) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
