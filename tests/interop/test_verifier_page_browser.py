"""Our verifier's web page in a real headless browser (Debian's Chromium, driven by
Python playwright), answered by the OpenWallet Foundation's wallet (Node harness).

The page (``GET /verifier`` of ``ssi_wallet.server.oid4vp``) shows the request as a
QR code and a link, then polls for the result. The test reads the link from the
rendered page, as a person's wallet would scan it, has the Node wallet answer it
over HTTP, and waits for the page itself to show the decision and its explanation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from interop_support import OurServices, run_node


def _open(browser: Any, url: str) -> Any:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.errors = errors  # what the page's own script threw, checked by the tests
    return page


def _answer_from_the_page(harness: Path, world: dict[str, Any], page: Any) -> dict[str, Any]:
    link = page.get_attribute("#oid4vp-link", "href")
    assert link is not None and link.startswith("openid4vp://?client_id=")
    answer = run_node(harness, "wallet-present.mjs", link, "--credentials", str(world["held"]))
    assert answer.ok, answer.output
    return answer.output


def test_page_shows_the_decision_and_its_explanation(
    harness: Path, world: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    services: OurServices = world["services"]
    page = _open(browser, f"{services.verifier_base}/verifier?policy=right_to_work&lang=en")
    try:
        # before the wallet answers: the QR code and "pending"
        assert page.locator("#oid4vp-qr svg").count() == 1
        assert page.inner_text("#oid4vp-status") == "pending"
        assert page.locator("#oid4vp-explanation").is_hidden()

        _answer_from_the_page(harness, world, page)

        page.wait_for_selector("body[data-status='accepted']", timeout=15_000)
        assert page.inner_text("#oid4vp-status") == "accepted"
        assert page.inner_text("#oid4vp-decision") == "Accepted"
        explanation = page.inner_text("#oid4vp-explanation")
        assert explanation.startswith("ACCEPTED: right to work")
        assert "is accredited for Work permit" in explanation
        assert page.locator("#oid4vp-qr").is_hidden()
        page.screenshot(path=str(tmp_path / "verifier-accepted.png"))
        assert page.errors == []
    finally:
        page.close()


def test_page_shows_a_refusal_in_the_language_asked_for(
    harness: Path, world: dict[str, Any], browser: Any
) -> None:
    services: OurServices = world["services"]
    # the permit is for health care (NACE Q86.10); the page asks for manufacturing, in German
    page = _open(
        browser, f"{services.verifier_base}/verifier?policy=right_to_work&sector=C10&lang=de"
    )
    try:
        assert page.get_attribute("html", "lang") == "de"
        _answer_from_the_page(harness, world, page)
        page.wait_for_selector("body[data-status='refused']", timeout=15_000)
        assert page.inner_text("#oid4vp-decision") == "Not accepted"
        explanation = page.inner_text("#oid4vp-explanation")
        transaction = page.get_attribute("#oid4vp", "data-transaction-id")
        result_uri = f"{services.verifier_base}/oid4vp/results/{transaction}"
        expected = services.result({"result_uri": result_uri}, lang="de")
        # the page shows what the verifier decided, in German (not the English text)
        assert expected["ok"] is False
        assert explanation == expected["explanation"]
        assert explanation != services.result({"result_uri": result_uri}, lang="en")["explanation"]
        assert page.errors == []
    finally:
        page.close()
