"""The verifier service on a real socket of 127.0.0.1, and a wallet transport over urllib."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _live_server import bind_free_socket, serve_asgi
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from oid4vp_world import World
from x509_support import DAY, make_cert, p256, usage

from did_methods.http import HttpFetcher, HttpResponse
from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType, PrivateKey
from did_methods.resolver import Resolver
from ssi_wallet.holder import ConsentRequest, Holder
from ssi_wallet.oid4vp import PresentOutcome, present
from ssi_wallet.oid4vp.attestation import issue_verifier_attestation
from ssi_wallet.server.oid4vp import OID4VPConfig, create_app

TOKEN = "t0ken-for-the-oid4vp-tests"


@dataclass
class RecordingTransport:
    """The wallet's HTTP client (HttpFetcher, loopback allowed) with every call recorded
    in ``calls``; ``edit`` may alter what is read (a test's man in the middle)."""

    edit: Callable[[str, bytes], bytes] | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)
    client: HttpFetcher = field(default_factory=lambda: HttpFetcher(allow_loopback=True))

    def _edited(self, url: str, answer: HttpResponse) -> HttpResponse:
        if self.edit is None:
            return answer
        return replace(answer, body=self.edit(url, answer.body))

    def get(self, url: str, *, accept: str) -> HttpResponse:
        self.calls.append(("GET", url))
        return self._edited(url, self.client.get(url, accept=accept))

    def post_form(self, url: str, form: Mapping[str, str], *, accept: str) -> HttpResponse:
        self.calls.append(("POST", url))
        return self._edited(url, self.client.post_form(url, form, accept=accept))


@dataclass
class Service:
    base: str
    #: the result token of each transaction this front end created
    result_tokens: dict[str, str] = field(default_factory=dict)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = TOKEN,
        form: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        headers = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, got, raw = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as exc:
            status, got, raw = exc.code, dict(exc.headers), exc.read()
        kind = got.get("content-type", "")
        return status, got, json.loads(raw) if "json" in kind and raw else raw

    def create(self, **body: Any) -> dict[str, Any]:
        body.setdefault("policy", "right_to_work")
        status, _, made = self.call("POST", "/oid4vp/requests", body)
        assert status == 201, made
        assert isinstance(made, dict)
        self.result_tokens[made["transaction_id"]] = made["result_token"]
        return made

    def result(self, transaction_id: str, **query: str) -> dict[str, Any]:
        """The result as the front end that created the transaction reads it (its result
        token; with ``response_code=`` in ``query``, that code and no token)."""
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        token = None if "response_code" in query else self.result_tokens[transaction_id]
        status, _, body = self.call("GET", f"/oid4vp/results/{transaction_id}{suffix}", token=token)
        assert status == 200, body
        assert isinstance(body, dict)
        return body


@dataclass
class VerifierPKI:
    """A root CA, an intermediate and a leaf (P-256) naming ``dns_names`` as SANs."""

    root: x509.Certificate
    chain_pem: bytes  # leaf, then intermediate
    leaf_key: PrivateKey

    @classmethod
    def make(cls, *dns_names: str) -> VerifierPKI:
        now = datetime.now(UTC)
        valid = {"not_before": now - DAY, "not_after": now + 30 * DAY}
        root_key, inter_key, leaf_key = p256(), p256(), p256()
        root = make_cert(root_key, root_key, "root", "root", ca=True, usage=usage(ca=True), **valid)
        inter = make_cert(
            inter_key, root_key, "inter", "root", ca=True, path_length=0, usage=usage(ca=True),
            **valid,
        )  # fmt: skip
        leaf = make_cert(
            leaf_key, inter_key, "verifier", "inter", ca=False, san=dns_names,
            usage=usage(sign=True), **valid,
        )  # fmt: skip
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, inter))
        scalar = leaf_key.private_numbers().private_value.to_bytes(32, "big")
        return cls(root, pem, PrivateKey(KeyType.P256, scalar))


#: The verifier's certificate chain in every test: its leaf names localhost.
PKI = VerifierPKI.make("localhost")
#: The Verifier Attestation issuer our wallet trusts in these tests, and its key.
ATTESTER = "https://attester.example"
ATTESTER_KEY = PrivateKey.generate(KeyType.P256)
ATTESTATION_ISSUERS = {ATTESTER: ATTESTER_KEY.public_key}


def attestation_for(world: World, base: str, **claims: Any) -> str:
    """A Verifier Attestation of ``world``'s verifier key as ``localhost``, for the
    response URI of the service at ``base`` (``claims`` replace its arguments)."""
    arguments: dict[str, Any] = {
        "issuer": ATTESTER,
        "subject": "localhost",
        "verifier_key": world.verifier_key.public_key,
        "expires_at": datetime.now(UTC) + DAY,
        "redirect_uris": [f"{base}/oid4vp/response"],
        **claims,
    }
    return issue_verifier_attestation(ATTESTER_KEY, **arguments)


def wallet_answers(
    holder: Holder,
    link: str,
    *,
    transport: RecordingTransport | None = None,
    trust_anchors: Sequence[x509.Certificate] = (PKI.root,),
    consent: Callable[[ConsentRequest], bool] = lambda _: True,
    transaction_data_types: Sequence[str] = (),
    attestation_issuers: Mapping[str, Any] = ATTESTATION_ISSUERS,
    mdocs: Sequence[tuple[Any, PrivateKey]] = (),
) -> PresentOutcome:
    """Our wallet answers ``link`` (consenting, unless ``consent`` says otherwise),
    trusting ``trust_anchors``, over ``transport`` (a fresh RecordingTransport by
    default); DIDs resolved offline."""
    return present(
        holder,
        link,
        consent=consent,
        transport=transport or RecordingTransport(),
        resolver=Resolver.offline(),
        trust_anchors=trust_anchors,
        transaction_data_types=transaction_data_types,
        attestation_issuers=attestation_issuers,
        mdocs=mdocs,
    )


@contextmanager
def verifier_service(
    world: World,
    tmp: Path,
    *,
    pki: VerifierPKI = PKI,
    dns_name: str = "localhost",
    port: int = 0,
    extra_policies: Mapping[str, Any] | None = None,
    **oid4vp: Any,
) -> Iterator[Service]:
    """The OpenID4VP verifier of ``world`` on 127.0.0.1, reached as ``localhost``: clients
    ``did`` (decentralized_identifier:), ``x509`` (x509_san_dns:), ``hash`` (x509_hash:),
    ``attested`` (verifier_attestation:, by ATTESTER) and ``open`` (redirect_uri:)."""
    if not (tmp / "verifier.jwk").exists():  # else a restart of the service in ``tmp``
        write_key_file(tmp / "verifier.jwk", world.verifier_key)
        write_key_file(tmp / "leaf.jwk", pki.leaf_key)
        (tmp / "chain.pem").write_bytes(pki.chain_pem)
    sock = bind_free_socket(port=port)  # port: a restart where the first service was
    base = f"http://localhost:{sock.getsockname()[1]}"
    (tmp / "attestation.jwt").write_text(attestation_for(world, base))
    tables = {
        "server": {"public_url": base, "token_env": "", "port": sock.getsockname()[1]},
        "oid4vp": {
            "clients": {
                "did": {"prefix": "decentralized_identifier", "key_file": "verifier.jwk"},
                "x509": {
                    "prefix": "x509_san_dns",
                    "key_file": "leaf.jwk",
                    "chain_file": "chain.pem",
                    "dns_name": dns_name,
                },
                "hash": {"prefix": "x509_hash", "key_file": "leaf.jwk", "chain_file": "chain.pem"},
                "attested": {
                    "prefix": "verifier_attestation",
                    "dns_name": "localhost",
                    "key_file": "verifier.jwk",
                    "attestation_file": "attestation.jwt",
                },
                "open": {"prefix": "redirect_uri"},
            },
            **oid4vp,
        },
    }
    import os

    os.environ["SSI_WALLET_OID4VP_TEST_TOKEN"] = TOKEN
    tables["server"]["token_env"] = "SSI_WALLET_OID4VP_TEST_TOKEN"
    config = OID4VPConfig.from_tables(tables, tmp)
    app = create_app(
        config,
        trust=world.ledger,
        status_fetcher=world.ministry.board,
        extra_policies=extra_policies,
    )
    with serve_asgi(app, sock=sock):
        yield Service(base)
