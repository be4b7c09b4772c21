"""``ssi-wallet demo`` runs the whole scenario for real, and every step's outcome is checked.

Each step of :func:`run_demo` reports what it expected and what happened; these
tests check the outcome of each step against the scenario written out here (not
against the demo's own expectations), and the facts behind them: the declined
request left no trace, the revoked registration was refused as revoked, the
erased case file is gone from the vault while the ledger still audits clean.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from did_methods.errors import ParseError
from ledger.audit import audit
from ledger.facade import Ledger
from ledger.vault import MasterKey, Vault
from ssi_wallet.demo import FILES, DemoResult, run_demo
from ssi_wallet.holder import Holder

ORIGIN = "registry.eu.example/log"

#: The scenario, step by step: (number, outcome), as a newcomer reads it in the docs.
SCENARIO = [
    (1, "done"),  # the EU root accredits the federal office
    (2, "done"),  # which accredits the Leipzig office
    (3, "done"),  # Amina's wallet
    (4, "done"),  # asylum registration and protection status
    (5, "done"),  # residence and work permits
    (6, "accepted"),  # the hospital, after consent
    (7, "declined"),  # the recruitment agency: consent refused
    (8, "accepted"),  # the landlord
    (9, "refused"),  # work permit suspended
    (10, "accepted"),  # suspension lifted
    (11, "refused"),  # asylum registration revoked
    (12, "done"),  # the wallet's history
    (13, "done"),  # Karim's case file and return travel document
    (14, "accepted"),  # the border post, offline
    (15, "erased"),  # Karim's case file erased
    (16, "accepted"),  # Lena's study permit at the university
    (17, "intact"),  # the ledger audit
]


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, list[str], Path]:
    folder = tmp_path_factory.mktemp("demo") / "kept"
    lines: list[str] = []
    result = run_demo(lines.append, folder=folder)
    return result, lines, folder


def test_every_step_turns_out_as_the_scenario_says(
    kept: tuple[DemoResult, list[str], Path],
) -> None:
    result, lines, _ = kept
    steps = result.steps
    assert [(s.number, s.outcome) for s in steps] == SCENARIO
    assert result.ok
    # one numbering: each step's line starts with its own number, once
    numbered = [m.group(1) for m in map(re.compile(r"\s*(\d+)\. ").match, lines) if m]
    assert numbered == [str(n) for n, _ in SCENARIO]
    assert "Demo complete" in lines[-1]


def test_consent_given_and_refused(kept: tuple[DemoResult, list[str], Path]) -> None:
    result, lines, _ = kept
    given, refused = result.step(6), result.step(7)
    assert given.details["consent_lines"] >= 2  # who asks, then what would be shown
    assert refused.details["history_before"] == refused.details["history_after"] == 1
    text = "\n".join(lines)
    assert "did:web:jobs-fast.example asks: international protection" in text


def test_suspension_lifted_and_revocation_final(kept: tuple[DemoResult, list[str], Path]) -> None:
    result, _, _ = kept
    assert result.step(9).details["codes"] == ["suspended"]
    assert result.step(10).details["codes"] == []
    assert result.step(11).details["codes"] == ["revoked"]


def test_history_counts_the_claims_always_shown(kept: tuple[DemoResult, list[str], Path]) -> None:
    result, _, folder = kept
    history = result.step(12).details
    assert history["disclosures"] == 5  # hospital, landlord, two employers, welfare office
    assert "did:web:jobs-fast.example" not in history["verifiers"]  # the declined one
    # the hospital asked for 6 work-permit claims; 5 more are in clear (DID, number, ...)
    assert history["claims_shown"][0] == 11
    passphrase = (folder / "amina.passphrase").read_text(encoding="utf-8").strip()
    with Holder.open(folder / "amina.wallet", passphrase=passphrase, read_only=True) as wallet:
        first = wallet.history()[0]
        assert ["sub"] in next(iter(first.disclosed.values()))


def test_erasure_leaves_the_ledger_auditing_clean(kept: tuple[DemoResult, list[str], Path]) -> None:
    result, _, folder = kept
    erased = result.step(15).details
    assert erased["tombstones"] >= 1 and erased["audit_before"] and erased["audit_after"]
    master = MasterKey.from_file(folder / "vault.key")
    with Vault.open(folder / "registry.db", master_key=master, create=False) as vault:
        after = vault.access("DE-BAMF-2026-207311")
        assert after.status == "erased" and after.records == ()
        assert audit(vault.log.store).ok
    data = (folder / "registry.db").read_bytes()
    for personal in (b"Tursunov", b"Haddad", b"Amina"):
        assert personal not in data  # the ledger and the vault hold no personal data in clear


def test_kept_folder_holds_the_files_it_names(kept: tuple[DemoResult, list[str], Path]) -> None:
    result, _, folder = kept
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    assert result.to_json()["files"] == sorted(FILES)
    with Ledger.open(folder / "registry.db", origin=ORIGIN, read_only=True) as ledger:
        assert ledger.log.size == result.step(17).details["entries"]
        assert ledger.audit().ok
    wallet = (folder / "amina.wallet").read_bytes()
    assert b"Haddad" not in wallet and b"Amina" not in wallet


def test_permits_name_the_jurisdiction_of_the_offices(
    kept: tuple[DemoResult, list[str], Path],
) -> None:
    _, lines, _ = kept
    text = "\n".join(lines)
    states = [line.split(":", 1)[1].strip() for line in lines if "Issuing state:" in line]
    assert states and set(states) == {"DE"}
    numbers = [line.split(":", 1)[1].strip() for line in lines if "Document number:" in line]
    assert numbers and all(n.startswith("DE-") for n in numbers)
    assert "Universität Leipzig" in text and "Politechnika" not in text


@pytest.mark.parametrize(
    ("language", "headline"),
    [
        ("de", "ANGENOMMEN: Recht auf Arbeit im Sektor Q86"),
        ("uk", "ПРИЙНЯТО: право на роботу в секторі Q86"),
    ],
)
def test_language_of_decisions_and_names(language: str, headline: str) -> None:
    lines: list[str] = []
    result = run_demo(lines.append, language=language)
    assert [(s.number, s.outcome) for s in result.steps] == SCENARIO
    assert headline in "\n".join(lines)
    assert result.language == language and result.folder is None


def test_refuses_an_unknown_language_and_a_used_folder(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no language"):
        run_demo(lambda line: None, language="xx")
    (tmp_path / "something").write_text("mine", encoding="utf-8")
    with pytest.raises(ParseError, match="not an empty folder"):
        run_demo(lambda line: None, folder=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["something"]


def test_demo_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ssi_wallet", "demo"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Demo complete" in done.stdout


def test_the_docs_page_lists_the_same_steps(kept: tuple[DemoResult, list[str], Path]) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "demo.md"
    rows = re.findall(r"^\| (\d+) \| .* \| (\w+) \|$", page.read_text(encoding="utf-8"), re.M)
    result, _, _ = kept
    assert [(int(n), outcome) for n, outcome in rows] == SCENARIO
    assert [(s.number, s.outcome) for s in result.steps] == SCENARIO
