"""The roles layer: a verifier's decision and a wallet's query.

Rows:

* ``verifier_right_to_work``: :meth:`ssi_wallet.Verifier.check` on an SD-JWT
  VC work permit presented with key binding for ``policies.right_to_work``
  (issuer a ``did:ledger`` accredited in the ledger's trusted issuer
  registry, status lists fetched from the issuer's board), after one
  warm-up decision so the status lists, the registry and the resolver are
  cached, against two raw Ed25519 verifications (the issuer's signature
  and the key binding JWT's are the two a decision cannot skip);
* ``wallet_query``: :func:`ssi_wallet.dcql.match` of the right-to-work
  request over a wallet of 10,000 stored credentials (ten vocabulary types in
  three formats), against the budget of 50 ms a wallet may take to answer
  (20 per second).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from benchmarks._fixtures import key, seeded
from benchmarks._runner import Benchmark, Pair, Settings, Side, loop
from benchmarks.bench_credentials import ed25519_verify_reference
from credentials import schemas
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, Verifier, policies
from ssi_wallet.dcql import match
from ssi_wallet.holder import StoredCredential

__all__ = ["BENCHMARKS", "WALLET_SIZE"]

#: Credentials in the benchmark wallet.
WALLET_SIZE = 10_000
_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_AUDIENCE = "did:web:clinic.example"


def _setup_verifier(settings: Settings) -> Pair:
    clock_ms = int(_NOW.timestamp() * 1000)
    root = key("roles-registry-root")
    ledger = Ledger.open(":memory:", key=root, clock=lambda: clock_ms, randbytes=seeded("ledger"))
    ministry = Issuer.create(
        ledger, name="Migration Department", key=key("roles-ministry"), clock=lambda: _NOW
    )
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="LT")
    wallet = Holder.create(":memory:", passphrase="benchmark wallet", resolver=ledger.resolver())
    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    wallet.store(ministry.issue("WorkPermit", subject=wallet.did, claims=claims).credential)
    verifier = Verifier(
        ledger, audience=_AUDIENCE, status_fetcher=ministry.board, clock=lambda: _NOW
    )
    request = verifier.request(policies.right_to_work(sector="Q86"))
    presentation = wallet.answer(request, consent=lambda ask: True, now=_NOW.timestamp())
    # Warm-up decision: fetches and verifies the status lists, resolves the DIDs.
    report = verifier.check(presentation, request)
    if not report.accepted:
        raise AssertionError(f"benchmark presentation refused:\n{report.explain()}")

    def ours() -> None:
        verifier.check(presentation, request)

    single = ed25519_verify_reference()
    assert single.sampler is not None
    once = single.sampler

    def cleanup() -> None:
        wallet.close()
        ledger.close()

    return Pair(
        Side("ours", loop(ours)),
        Side("raw Ed25519 verify of 32 B x2 (PyNaCl)", lambda n: once(2 * n)),
        notes=(
            "an SD-JWT VC WorkPermit (Ed25519 issuer on did:ledger, Ed25519 holder key "
            "binding) checked against policies.right_to_work(sector='Q86'); status lists "
            "and registry answers cached by a warm-up decision",
        ),
        cleanup=cleanup,
    )


def _wallet(size: int) -> list[StoredCredential]:
    # Ten vocabulary types in the three formats a wallet keeps; the permit that
    # answers the right-to-work request is the last, so every candidate is examined.
    # Matching reads types, issuer and claims only, so nothing here is signed.
    types = [t for t in schemas.CREDENTIAL_TYPES if t != "WorkPermit"]
    formats = ("dc+sd-jwt", "ldp_vc", "jwt_vc_json")
    issuer = "did:ledger:ministry"
    out: list[StoredCredential] = []
    for i in range(size):
        last = i == size - 1
        type_name = "WorkPermit" if last else types[i % len(types)]
        fmt = "dc+sd-jwt" if last else formats[i % len(formats)]
        credential = schemas.example_credential(type_name, issuer=issuer)
        credential["id"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        if fmt == "dc+sd-jwt":
            subject = dict(credential["credentialSubject"])
            claims: dict[str, Any] = {
                "iss": issuer,
                "vct": schemas.vct(type_name),
                "sub": subject.pop("id"),
                **subject,
            }
            kinds: tuple[str, ...] = (schemas.vct(type_name),)
            raw: str | dict[str, Any] = f"eyJ0eXAiOiJkYytzZC1qd3QifQ.{i}.sig~"
        else:
            claims = credential
            kinds = tuple(credential["type"])
            raw = credential if fmt == "ldp_vc" else f"eyJ0eXAiOiJ2Yytqd3QifQ.{i}.sig"
        out.append(
            StoredCredential(
                f"urn:uuid:wallet-{i:08d}", fmt, kinds, issuer, claims, raw, "2026-05-01T00:00:00Z"
            )
        )
    return out


def _setup_wallet_query(settings: Settings) -> Pair:
    pool = _wallet(WALLET_SIZE)
    query = policies.right_to_work(sector="Q86").query()
    found = match(query, pool)
    if not found.satisfied or found.matches["work_sd"].credential_ids != (pool[-1].id,):
        raise AssertionError("the benchmark wallet does not answer the request as expected")
    size_kb = sum(len(json.dumps(c.to_json())) for c in pool) / 1024
    return Pair(
        Side("ours", loop(lambda: match(query, pool))),
        Side("a 50 ms answer budget (constant)", fixed_ops_s=20.0),
        notes=(
            f"{WALLET_SIZE:,} stored credentials ({size_kb:,.0f} KiB of JSON), the right-to-work "
            "DCQL query of the Verifier (SD-JWT VC or Data Integrity alternatives)",
        ),
    )


BENCHMARKS = (
    Benchmark(
        "verifier_right_to_work",
        "Verifier decision on an SD-JWT presentation, status list and registry cached",
        0.35,
        _setup_verifier,
    ),
    Benchmark(
        "wallet_query", "DCQL match over 10,000 stored credentials", 1.0, _setup_wallet_query
    ),
)
