"""``ssi-wallet demo --http`` (issue 14 item 4): the three pathways over real HTTP on 127.0.0.1.

Through the real console entry point, as a user runs it: the narration shows
the servers and, under each step, every request with its status; the JSON
run is checked field by field (the OpenID4VCI and OpenID4VP facts of each
step, every exchange, the wallet's history naming the verifiers that asked);
without the server extra the command says what to install and exits 2.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("uvicorn")

from ssi_wallet.demo import FILES

ISSUERS = ("Federal Office for Migration and Refugees", "Ausländerbehörde Leipzig")
#: The checks, in order: step, verifier, decision (the in-process demo's, unchanged).
CHECKS = (
    (6, "klinikum-nordstadt.example", "accepted"),
    (7, "jobs-fast.example", "declined"),
    (8, "wohnen.example", "accepted"),
    (9, "klinikum-nordstadt.example", "refused"),
    (10, "pflegedienst-leipzig.example", "accepted"),
    (11, "sozialamt-leipzig.example", "refused"),
    (14, "border.example", "accepted"),
    (16, "uni-leipzig.example", "accepted"),
)
#: What the wallet and the back office send to receive one offer of N configurations.
RECEIVE_HEAD = [
    ("back office", "POST", "/offers", 201),
    ("wallet", "GET", "/credential-offer/", 200),
    ("wallet", "GET", "/.well-known/openid-credential-issuer", 200),
    ("wallet", "GET", "/.well-known/oauth-authorization-server", 200),
    ("wallet", "POST", "/token", 200),
]
RECEIVE_EACH = [
    ("wallet", "POST", "/nonce", 200),
    ("wallet", "POST", "/credential", 200),
    ("wallet", "POST", "/notification", 204),
]
RECEIVE_TAIL = [("back office", "GET", "/cases/", 200)]


def ssi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture(scope="module")
def narrated() -> str:
    done = ssi("demo", "--http")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def as_json(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    folder = tmp_path_factory.mktemp("kept") / "demo"
    done = ssi("demo", "--http", "--json", "--language", "de", "--keep", str(folder))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    return json.loads(done.stdout), folder  # nothing but the JSON on stdout


def blocks(text: str) -> dict[int, str]:
    """Each numbered step's lines: from its ``N.`` line up to the next step or heading."""
    out: dict[int, list[str]] = {}
    current: int | None = None
    for line in text.splitlines():
        match = re.match(r"^\s?(\d+)\. ", line)
        if match:
            current = int(match.group(1))
            out[current] = [line]
        elif line.startswith("== ") or line.startswith("    [Open"):
            current = None
        elif current is not None:
            out[current].append(line)
    return {n: "\n".join(lines) for n, lines in out.items()}


def http_lines(block: str) -> list[tuple[str, str, str, str, int]]:
    """(from, to, method, path, status) of each ``http:`` line."""
    found = re.findall(r"^\s+http: (.+?) -> (.+?): (GET|POST) (\S+) (\d+)$", block, re.M)
    return [(a, b, m, p, int(s)) for a, b, m, p, s in found]


def receive_pattern(configurations: int) -> list[tuple[str, str, str, int]]:
    return RECEIVE_HEAD + RECEIVE_EACH * configurations + RECEIVE_TAIL


def matches(got: list[tuple[str, str, str, int]], want: list[tuple[str, str, str, int]]) -> bool:
    return len(got) == len(want) and all(
        g[0] == w[0] and g[1] == w[1] and g[2].startswith(w[2]) and g[3] == w[3]
        for g, w in zip(got, want, strict=True)
    )


# ----------------------------------------------------------------------------- narration


def test_the_narration_names_every_server_and_each_port_once(narrated: str) -> None:
    listening = re.findall(
        r"^    \[(OpenID4VCI issuer|OpenID4VP verifier) (.+) listens on (http://127\.0\.0\.1:\d+)\]$",
        narrated,
        re.M,
    )
    assert [(role, name) for role, name, _ in listening[:2]] == [
        ("OpenID4VCI issuer", name) for name in ISSUERS
    ]
    verifiers = [name for role, name, _ in listening if role == "OpenID4VP verifier"]
    assert verifiers == [name for _, name, _ in CHECKS]
    assert len({url for _, _, url in listening}) == len(listening) == 2 + len(CHECKS)
    assert "UNEXPECTED" not in narrated and "Demo complete" in narrated


def test_each_credential_arrives_over_openid4vci(narrated: str) -> None:
    steps = blocks(narrated)
    for number, issuer, configurations in (
        (4, ISSUERS[0], 2),
        (5, ISSUERS[1], 2),
        (13, ISSUERS[0], 1),
    ):
        exchanges = http_lines(steps[number])
        assert {to for _, to, _, _, _ in exchanges} == {issuer}, number
        got = [(a, m, p, s) for a, _, m, p, s in exchanges]
        assert matches(got, receive_pattern(configurations)), (number, got)
    assert "3 instance(s) of each credential, 6 key(s) in all" in steps[5]
    assert "notified: credential_accepted, credential_accepted" in steps[5]
    # Lena's study permit, then the university's check, in one step
    got = [(a, m, p, s) for a, _, m, p, s in http_lines(steps[16])]
    assert matches(got[:9], receive_pattern(1)), got


def test_each_check_travels_over_openid4vp_with_its_decision(narrated: str) -> None:
    steps = blocks(narrated)
    for number, verifier, decision in CHECKS:
        block = steps[number]
        exchanges = [(a, t, m, p, s) for a, t, m, p, s in http_lines(block) if t == verifier]
        calls = [(a, m, p.rsplit("/", 1)[0] if "/requests/" in p or "/results/" in p else p, s)
                 for a, _, m, p, s in exchanges]  # fmt: skip
        fetch = "POST" if verifier == "uni-leipzig.example" else "GET"
        assert calls == [
            ("back office", "POST", "/oid4vp/requests", 201),
            ("wallet", fetch, "/oid4vp/requests", 200),
            ("wallet", "POST", "/oid4vp/response", 200),
            ("back office", "GET", "/oid4vp/results", 200),
        ], (number, calls)
        status_reads = [e for e in http_lines(block) if e[0] == verifier]
        if decision == "declined" or verifier == "border.example":
            assert status_reads == [], number  # declined: nothing to check; border: offline
        else:
            assert [(m, p, s) for _, _, m, p, s in status_reads] == [("GET", "/status/token", 200)]
        headline = {"accepted": "ACCEPTED: ", "refused": "REFUSED: "}.get(decision)
        if headline:
            assert headline in block, number
    assert "the credential is suspended" in steps[9]
    assert "the credential has been revoked" in steps[11]
    assert "told the verifier only access_denied" in steps[7]
    assert "history still lists 1 disclosure(s)" in steps[7]
    assert "the answer sent direct_post.jwt; status lists read offline" in steps[14]


# ----------------------------------------------------------------------------- JSON


def test_json_run_field_by_field(as_json: tuple[dict[str, Any], Path]) -> None:
    outcome, folder = as_json
    assert outcome["ok"] is True and outcome["language"] == "de"
    assert outcome["folder"] == str(folder) and outcome["files"] == sorted(FILES)
    assert {p.name for p in folder.iterdir()} == set(FILES)  # verifier keys are not left there

    servers = outcome["servers"]
    assert [(s["role"], s["name"]) for s in servers] == [
        *(("OpenID4VCI issuer", name) for name in ISSUERS),
        *(("OpenID4VP verifier", name) for _, name, _ in CHECKS),
    ]
    urls = {s["name"]: s["url"] for s in servers[:2]}
    for server in servers:
        parts = urlsplit(server["url"])
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.port
    by_url = {s["url"]: s["name"] for s in servers}

    steps = outcome["steps"]
    assert [s["step"] for s in steps] == list(range(1, 18))
    assert all(s["ok"] and s["outcome"] == s["expected"] for s in steps)
    for step in steps:  # every exchange names a server of the run, by its URL
        for exchange in step["details"].get("http", []):
            assert set(exchange) == {"from", "to", "method", "url", "path", "status"}
            parts = urlsplit(exchange["url"])
            assert by_url[f"{parts.scheme}://{parts.netloc}"] == exchange["to"]
            assert parts.path == exchange["path"]

    deliveries = {4: (ISSUERS[0], ["AsylumApplicant", "InternationalProtectionStatus"], 1),
                  5: (ISSUERS[1], ["ResidencePermit", "WorkPermit"], 3),
                  13: (ISSUERS[0], ["ReturnTravelDocument"], 1),
                  16: (ISSUERS[1], ["StudyPermit"], 1)}  # fmt: skip
    for number, (issuer, types, batch) in deliveries.items():
        facts = steps[number - 1]["details"]["oid4vci"]
        assert facts == {
            "issuer": urls[issuer],
            "configurations": [f"{t}.sd_jwt" for t in types],
            "tx_code_digits": 6,
            "batch": batch,
            "received": {t: batch for t in types},
            "distinct_keys": batch * len(types),
            "notifications": ["credential_accepted"] * len(types),
        }, number
        got = [
            (e["from"], e["method"], e["path"], e["status"])
            for e in steps[number - 1]["details"]["http"]
        ][: len(receive_pattern(len(types)))]
        assert matches(got, receive_pattern(len(types))), (number, got)

    client_ids = {}
    for number, verifier, decision in CHECKS:
        details = steps[number - 1]["details"]
        facts = details["oid4vp"]
        url = next(s["url"] for s in servers if s["url"] == facts["verifier"])
        assert by_url[url] == verifier
        assert facts["client_id"].startswith("decentralized_identifier:did:key:z")
        assert facts["response_mode"] == (
            "direct_post.jwt" if verifier == "border.example" else "direct_post"
        )
        assert facts["request_uri_method"] == (
            "post" if verifier == "uni-leipzig.example" else "get"
        )
        assert facts["status_lists"] == ("offline" if verifier == "border.example" else "http")
        if decision == "declined":
            assert facts["status"] == "wallet_error" and facts["error"] == "access_denied"
            assert "accepted" not in facts
            assert details["history_before"] == details["history_after"] == 1
        else:
            assert facts["status"] == "answered"
            assert facts["accepted"] is (decision == "accepted")
            # the explanation came over HTTP in the language asked (--language de)
            word = "ANGENOMMEN: " if decision == "accepted" else "ABGELEHNT: "
            assert facts["headline"].startswith(word), facts["headline"]
            client_ids[number] = facts["client_id"]
        posted = [e for e in details["http"] if e["path"] == "/oid4vp/response"]
        assert [(e["from"], e["method"], e["status"]) for e in posted] == [("wallet", "POST", 200)]
    assert steps[8]["details"]["codes"] == ["suspended"]
    assert steps[10]["details"]["codes"] == ["revoked"]
    assert steps[5]["details"]["codes"] == [] and steps[9]["details"]["codes"] == []

    # Amina's wallet recorded exactly the verifiers that got her claims, by their client_id
    history = steps[11]["details"]
    assert history["disclosures"] == 5
    assert history["verifiers"] == [client_ids[n] for n in (6, 8, 9, 10, 11)]


def test_kept_wallet_opens_with_its_history(as_json: tuple[dict[str, Any], Path]) -> None:
    _, folder = as_json
    secret = (folder / "amina.passphrase").read_text(encoding="utf-8").strip()
    done = subprocess.run(
        [sys.executable, "-m", "ssi_wallet", "wallet", "history", "--wallet",
         str(folder / "amina.wallet"), "--passphrase-env", "PW"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PW": secret, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("decentralized_identifier:did:key:") == 5


# ----------------------------------------------------------------------------- without the extra


def test_without_the_server_extra_it_says_what_to_install() -> None:
    program = "import sys; sys.modules['uvicorn'] = None; from ssi_wallet.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", program, "demo", "--http"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'ssi-wallet[server]'" in done.stderr and "uvicorn" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_help_names_the_option() -> None:
    done = ssi("demo", "--help")
    assert done.returncode == 0 and "--http" in done.stdout and "127.0.0.1" in done.stdout
