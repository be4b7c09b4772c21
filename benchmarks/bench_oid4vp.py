"""OpenID4VP over real HTTP against the same exchange in process.

Row:

* ``oid4vp_http_roundtrip``: one whole OpenID4VP exchange with the verifier
  service (:mod:`ssi_wallet.server.oid4vp`, uvicorn in a thread on 127.0.0.1,
  a ``decentralized_identifier:`` did:key client): the back office creates the
  request (``POST /oid4vp/requests``), the wallet fetches and verifies the
  signed request object, answers with a selectively disclosed SD-JWT VC work
  permit (``direct_post``), the verifier decides, and the back office reads
  the decision (``GET /oid4vp/results/{id}``); against the same request,
  answer and decision in process (:meth:`Verifier.request`,
  :meth:`Holder.answer`, :meth:`Verifier.check`). Status lists come from the
  issuer's board on both sides and are cached after a warm-up, so the ratio is
  what the protocol (request object signed and verified, four HTTP requests,
  form and JSON bodies) costs on top of the decision. Target 0.2: an exchange
  over HTTP takes at most five times the in-process one.

Needs the ``server`` extra (Starlette, uvicorn).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks._fixtures import key
from benchmarks._runner import Benchmark, Pair, Settings, Side, loop
from credentials import schemas
from did_methods._wire.json import loads_object
from did_methods.http import HttpFetcher
from did_methods.keyfile import write_key_file
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, Verifier, policies

__all__ = ["BENCHMARKS"]

_TOKEN = "benchmark-back-office-token"


def _setup_roundtrip(settings: Settings) -> Pair:
    from ssi_wallet.oid4vp import present
    from ssi_wallet.server.background import BackgroundServer
    from ssi_wallet.server.common import ServerConfig
    from ssi_wallet.server.oid4vp import ClientConfig, OID4VPConfig, create_app

    root = key("oid4vp-registry-root")
    ledger = Ledger.open(":memory:", key=root)
    ministry = Issuer.create(ledger, name="Migration Department", key=key("oid4vp-ministry"))
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    wallet = Holder.create(":memory:", passphrase="benchmark wallet", resolver=ledger.resolver())
    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    wallet.store(ministry.issue("WorkPermit", subject=wallet.did, claims=claims).credential)
    policy = policies.right_to_work(sector="Q86")

    folder = tempfile.TemporaryDirectory(prefix="ssi-wallet-bench-oid4vp-")
    key_file = Path(folder.name) / "verifier.jwk"
    write_key_file(key_file, key("oid4vp-verifier"))
    server = BackgroundServer()
    config = OID4VPConfig(
        ServerConfig(server.host, server.port, server.base, 1 << 20, _TOKEN),
        (ClientConfig("did", "decentralized_identifier", key_file),),
        "did",
    )
    server.start(create_app(config, trust=ledger, status_fetcher=ministry.board))
    http = HttpFetcher(allow_loopback=True)
    resolver = ledger.resolver()
    bearer = {"Authorization": f"Bearer {_TOKEN}"}

    def over_http() -> None:
        made = loads_object(
            http.post_json(
                f"{server.base}/oid4vp/requests",
                {"policy": policy.name, "params": dict(policy.params)},
                headers=bearer,
            ).body
        )
        present(
            wallet,
            made["authorization_request"],
            consent=lambda ask: True,
            resolver=resolver,
            transport=http,
        )
        token = {"Authorization": f"Bearer {made['result_token']}"}
        result = loads_object(http.get(made["result_uri"], headers=token).body)
        if result.get("ok") is not True:
            raise AssertionError(f"refused over HTTP: {result.get('explanation')}")

    verifier = Verifier(ledger, audience="did:web:clinic.example", status_fetcher=ministry.board)

    def in_process() -> None:
        request = verifier.request(policy)
        report = verifier.check(wallet.answer(request, consent=lambda ask: True), request)
        if not report.ok:
            raise AssertionError(f"refused in process: {report.explain()}")

    over_http()  # warm-up: status lists, DIDs, connections made once
    in_process()

    def cleanup() -> None:
        server.stop()
        wallet.close()
        ledger.close()
        folder.cleanup()

    return Pair(
        Side("ours", loop(over_http)),
        Side("the same request, answer and decision in process", loop(in_process)),
        notes=(
            "an SD-JWT VC WorkPermit (Ed25519 issuer on did:ledger) shown selectively for "
            "policies.right_to_work(sector='Q86'); over HTTP: POST /oid4vp/requests, GET the "
            "signed request object (did:key client, verified by the wallet), POST the "
            "direct_post response, GET the result, with uvicorn in a thread of the same "
            "process; status lists from the issuer's board, cached on both sides",
        ),
        cleanup=cleanup,
    )


BENCHMARKS = (
    Benchmark(
        "oid4vp_http_roundtrip",
        "OpenID4VP exchange over HTTP on 127.0.0.1 vs the same exchange in process",
        0.2,
        _setup_roundtrip,
    ),
)
