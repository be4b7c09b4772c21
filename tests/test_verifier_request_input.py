"""`verifier request` refuses an empty audience and a sector that is no NACE code (exit 2)."""

from __future__ import annotations

from click.testing import CliRunner

from ssi_wallet.cli import cli


def _request(*extra: str) -> tuple[int, str]:
    args = ["verifier", "request", "--policy", "right_to_work", "--unsafe-stateless", *extra]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


def test_empty_audience_is_refused() -> None:
    code, out = _request("--audience", "")
    assert code == 2
    assert "audience" in out
    assert "Traceback" not in out


def test_unknown_sector_is_refused() -> None:
    code, out = _request("--audience", "did:web:v.example", "--sector", "healthcare")
    assert code == 2
    assert "NACE" in out


def test_nace_sector_is_accepted() -> None:
    code, out = _request("--audience", "did:web:v.example", "--sector", "Q86")
    assert code == 0, out
    assert '"client_id": "did:web:v.example"' in out
