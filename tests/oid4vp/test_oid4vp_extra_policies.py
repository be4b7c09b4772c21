"""create_app(extra_policies=...): a program embedding the verifier adds policies of its own.

``POST /oid4vp/requests`` with such a name builds the policy from the request's
``params``; the exchange then runs over real HTTP and the decision is that
policy's. Without the mapping the same name is refused as any unknown policy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from credentials import schemas
from did_methods._wire.json import loads_object
from did_methods.http import HttpFetcher
from did_methods.keyfile import write_key_file
from did_methods.keys import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, policies
from ssi_wallet.oid4vp import present
from ssi_wallet.server.background import BackgroundServer
from ssi_wallet.server.common import ServerConfig
from ssi_wallet.server.oid4vp import ClientConfig, OID4VPConfig, create_app

TOKEN = "extra-policies-test-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def journey_policy(params: Mapping[str, str]) -> policies.Policy:
    """A return travel document for the destination named in ``params``."""
    destination = params["destination"]

    def rule(disclosed: policies.Disclosed, at: datetime) -> list[policies.Finding]:
        query_id, claims = next(iter(disclosed.items()))
        ok = claims.get("destinationCountry") == destination
        code = "destination_matches" if ok else "destination_other"
        message = f"destination {claims.get('destinationCountry')}"
        return [policies.Finding(code, ok, message, query_id)]

    return policies.Policy(
        "return_journey",
        "return journey",
        {"document": "ReturnTravelDocument"},
        ("destinationCountry",),
        rule,
        params={"destination": destination},
    )


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    office = Issuer.create(ledger, name="Bundesamt")
    ledger.accredit(office.did, types=["ReturnTravelDocument"], by=root, jurisdiction="DE")
    wallet = Holder.create(":memory:", passphrase="karim's passphrase", resolver=ledger.resolver())
    claims = schemas.example_subject("ReturnTravelDocument")
    claims.pop("id")
    claims["expiryDate"] = "2099-12-31"  # the vocabulary's sample has expired
    claims["issuingState"] = "DE"  # where the office is accredited
    wallet.store(office.issue("ReturnTravelDocument", subject=wallet.did, claims=claims).credential)
    key_file = tmp_path_factory.mktemp("keys") / "verifier.jwk"
    write_key_file(key_file, PrivateKey.generate())
    yield {
        "ledger": ledger,
        "office": office,
        "wallet": wallet,
        "key_file": key_file,
        "destination": claims["destinationCountry"],
    }
    wallet.close()
    ledger.close()


def serve(parts: dict[str, Any], server: BackgroundServer, extra: Any) -> None:
    config = OID4VPConfig(
        ServerConfig(server.host, server.port, server.base, 1 << 16, TOKEN),
        (ClientConfig("did", "decentralized_identifier", Path(parts["key_file"])),),
        "did",
    )
    server.start(
        create_app(
            config,
            trust=parts["ledger"],
            status_fetcher=parts["office"].board,
            extra_policies=extra,
        )
    )


@pytest.mark.parametrize("matches", [True, False])
def test_an_extra_policy_is_asked_for_by_name_and_decides(
    parts: dict[str, Any], matches: bool
) -> None:
    http = HttpFetcher(allow_loopback=True)
    destination = parts["destination"] if matches else "XX"
    with BackgroundServer() as server:
        serve(parts, server, {"return_journey": journey_policy})
        made = loads_object(
            http.post_json(
                f"{server.base}/oid4vp/requests",
                {"policy": "return_journey", "params": {"destination": destination}},
                headers=BEARER,
            ).body
        )
        present(
            parts["wallet"],
            made["authorization_request"],
            consent=lambda ask: True,
            resolver=parts["ledger"].resolver(),
            transport=http,
        )
        token = {"Authorization": f"Bearer {made['result_token']}"}
        result = loads_object(http.get(made["result_uri"], headers=token).body)
    assert result["status"] == "answered", result
    assert result["ok"] is matches, result["explanation"]
    codes = [f["code"] for f in result["report"]["findings"]]
    assert ("destination_matches" if matches else "destination_other") in codes
    disclosed = next(iter(result["report"]["disclosed"].values()))
    assert disclosed["destinationCountry"] == parts["destination"]
    assert "familyName" not in disclosed  # only what the extra policy asked for


def test_without_the_mapping_the_name_is_unknown(parts: dict[str, Any]) -> None:
    http = HttpFetcher(allow_loopback=True)
    with BackgroundServer() as server:
        serve(parts, server, None)
        answer = http.post_json(
            f"{server.base}/oid4vp/requests",
            {"policy": "return_journey", "params": {"destination": "UZ"}},
            headers=BEARER,
        )
    assert answer.status == 400
    problem = loads_object(answer.body)
    assert problem["code"] == "invalid_input" and "return_journey" in problem["detail"]
