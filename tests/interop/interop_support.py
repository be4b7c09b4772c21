"""Helpers for the interop tests: install the Node harness (interop/openid4vc) with
``npm ci``, run its programs as real processes and read their JSON lines.

The harness is skipped only when npm cannot install it and SSI_WALLET_REQUIRE_INTEROP
is unset; .ci/run sets that variable, so CI fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "interop" / "openid4vc"


def interop_required() -> bool:
    """Whether a missing tool fails the tests instead of skipping them (CI sets it)."""
    return bool(os.environ.get("SSI_WALLET_REQUIRE_INTEROP"))


def skip_or_fail(message: str) -> NoReturn:
    if interop_required():
        pytest.fail(
            f"{message} (SSI_WALLET_REQUIRE_INTEROP is set, so this fails instead of skipping)"
        )
    pytest.skip(message)


def installed_from_lock() -> bool:
    """Whether node_modules holds exactly the packages package-lock.json pins.

    npm keeps the tree it installed in node_modules/.package-lock.json; it matches
    the lock file's package entries (less the root) after ``npm ci``.
    """
    installed = HARNESS / "node_modules" / ".package-lock.json"
    if not installed.exists():
        return False
    locked = json.loads((HARNESS / "package-lock.json").read_text())["packages"]
    have = json.loads(installed.read_text()).get("packages")
    return have == {name: entry for name, entry in locked.items() if name}


def install_harness() -> Path:
    """interop/openid4vc with its node_modules installed from the lock file.

    ``npm ci`` runs unless node_modules already holds exactly what the lock pins.
    """
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        skip_or_fail("node and npm are needed for the OpenID4VC interop harness")
    if not installed_from_lock():
        started = time.monotonic()
        try:
            done = subprocess.run(
                [str(npm), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HARNESS,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except subprocess.TimeoutExpired:
            skip_or_fail("npm ci for interop/openid4vc took over 600 s")
        if done.returncode != 0:
            skip_or_fail(f"npm ci for interop/openid4vc failed: {done.stderr.strip()[-800:]}")
        if not installed_from_lock():
            skip_or_fail("npm ci for interop/openid4vc left a tree that differs from the lock")
        print(f"\n[interop] npm ci in {time.monotonic() - started:.1f} s")
    return HARNESS


@dataclass
class NodeResult:
    """What a harness program printed: its last JSON line, and its exit status."""

    returncode: int
    output: dict[str, Any]
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.output.get("ok") is True


def run_node(harness: Path, script: str, *args: str, timeout: float = 60) -> NodeResult:
    """Runs one harness program to its end; its last stdout line is its JSON result."""
    done = subprocess.run(
        ["node", str(harness / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        raise AssertionError(
            f"{script} printed nothing (exit {done.returncode}): {done.stderr[-2000:]}"
        )
    return NodeResult(done.returncode, json.loads(lines[-1]), done.stderr)


class NodeService:
    """A long-running harness program (issuer.mjs, verifier.mjs) and its JSON events."""

    def __init__(self, harness: Path, script: str, *args: str) -> None:
        self._process = subprocess.Popen(
            ["node", str(harness / script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        try:
            self.ready = self.next_event("ready")
        except BaseException:
            self.close()
            raise

    def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.strip():
                self._events.put(json.loads(line))

    def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)

    def next_event(self, name: str, timeout: float = 30) -> dict[str, Any]:
        """The next event called `name` (others before it are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {name!r} event in {timeout} s; stderr: {''.join(self._stderr)[-2000:]}"
                )
            try:
                event = self._events.get(timeout=left)
            except queue.Empty:
                continue
            if event.get("ok") is False:
                raise AssertionError(f"harness service failed: {event}")
            if event.get("event") == name:
                return event

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
