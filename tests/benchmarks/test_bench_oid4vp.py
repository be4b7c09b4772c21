"""The ``oid4vp_http_roundtrip`` row runs both sides, each an accepted exchange, and reports."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

from benchmarks import Settings, all_benchmarks, run


def test_the_row_measures_accepted_exchanges(tmp_path: Path) -> None:
    (bench,) = [b for b in all_benchmarks() if b.name == "oid4vp_http_roundtrip"]
    settings = Settings(quick=True, workdir=tmp_path, min_sample_s=0.01, repeats=1)
    pair = bench.setup(settings)
    try:
        assert pair.ours.sampler is not None and pair.reference.sampler is not None
        # each side raises AssertionError when its exchange is not accepted
        assert pair.ours.sampler(3) > 0 and pair.reference.sampler(3) > 0
    finally:
        assert pair.cleanup is not None
        pair.cleanup()
    (result,) = run([bench], settings)
    assert result.name == "oid4vp_http_roundtrip" and result.target == 0.2
    assert result.ours_ops_s > 0 and result.reference_ops_s > 0
    assert "in process" in result.reference
