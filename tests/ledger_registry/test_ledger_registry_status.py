"""Status-list anchoring: digests on the log, the current list, time travel, URL ownership."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_registry_support import FakeClock

from did_methods.errors import SSIWalletError, VerificationError
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.facade import Ledger
from ledger.registry import KIND_ANCHOR, RegistryError, RegistryRejected, Signer
from ledger.registry._common import decode_payload

URL = "https://issuer.example/status/1"
LIST_V1 = b'{"type":"BitstringStatusListCredential","encodedList":"uH4sIAAAAAAAA..."}'
LIST_V2 = b'{"type":"BitstringStatusListCredential","encodedList":"uH4sIAAAAAAAB..."}'


def _issuer() -> tuple[str, PrivateKey]:
    key = PrivateKey.generate(KeyType.ED25519)
    return did_key_from_public_key(key.public_key), key


def test_anchor_then_check_current_and_history(ledger: Ledger, clock: FakeClock) -> None:
    issuer, key = _issuer()
    registry = ledger.status_lists
    first = registry.anchor_status_list(URL, LIST_V1, issuer=issuer, signer=key)
    assert first.digest == hashlib.sha256(LIST_V1).digest() and first.issuer == issuer
    # Only the digest is on the log, never the list itself.
    entry = ledger.log.get(first.index)
    assert entry.kind == KIND_ANCHOR and LIST_V1 not in entry.payload
    assert set(decode_payload(entry.payload)) == {"v", "url", "digest", "vm"}
    assert registry.check_status_list_current(URL, LIST_V1) == first
    t1 = clock.advance(hours=1)
    second = registry.anchor_status_list(URL, LIST_V2, issuer=issuer, signer=key)
    clock.advance(hours=1)
    with pytest.raises(VerificationError) as stale:
        registry.check_status_list_current(URL, LIST_V1)
    assert stale.value.code == "status_list_not_current"
    assert registry.check_status_list_current(URL, LIST_V2).index == second.index
    # At an earlier instant, the earlier list was the current one.
    assert registry.check_status_list_current(URL, LIST_V1, at=t1 - timedelta(seconds=1)) == first
    assert registry.current_status_list_digest(URL) == hashlib.sha256(LIST_V2).digest()
    assert registry.current_status_list_digest(URL, at=t1 - timedelta(days=1)) is None
    assert registry.history(URL) == (first, second)
    registry.prove(second).verify()
    with pytest.raises(VerificationError) as unknown:
        registry.check_status_list_current("https://other.example/sl", LIST_V1)
    assert unknown.value.code == "status_list_unknown"


def test_digest_only_and_jwt_text(ledger: Ledger) -> None:
    issuer, key = _issuer()
    jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdGF0dXMiOiJ4In0.c2ln"
    digest = hashlib.sha256(jwt.encode()).digest()
    anchor = ledger.status_lists.anchor_status_list(
        URL, issuer=issuer, signer=key, digest_value=digest
    )
    assert ledger.status_lists.check_status_list_current(URL, jwt) == anchor
    for bad in (
        lambda: ledger.status_lists.anchor_status_list(URL, issuer=issuer, signer=key),
        lambda: ledger.status_lists.anchor_status_list(
            URL, b"x", issuer=issuer, signer=key, digest_value=digest
        ),
        lambda: ledger.status_lists.anchor_status_list(
            URL, issuer=issuer, signer=key, digest_value=b"short"
        ),
        lambda: ledger.status_lists.anchor_status_list("ftp://x", b"x", issuer=issuer, signer=key),
        lambda: ledger.status_lists.anchor_status_list(
            "https://x.example/" + "a" * 3000, b"x", issuer=issuer, signer=key
        ),
    ):
        with pytest.raises(RegistryError):
            bad()


def test_only_the_first_issuer_of_a_url_may_anchor_it(ledger: Ledger, clock: FakeClock) -> None:
    issuer, key = _issuer()
    intruder, intruder_key = _issuer()
    ledger.status_lists.anchor_status_list(URL, LIST_V1, issuer=issuer, signer=key)
    size = ledger.log.size
    with pytest.raises(RegistryRejected) as hijack:
        ledger.status_lists.anchor_status_list(URL, LIST_V2, issuer=intruder, signer=intruder_key)
    assert hijack.value.code == "issuer_mismatch"
    with pytest.raises(RegistryRejected) as pretend:
        ledger.status_lists.anchor_status_list(URL, LIST_V2, issuer=issuer, signer=intruder_key)
    assert pretend.value.code == "not_authorised"
    assert ledger.log.size == size
    # Written straight to the log, the intruder's anchor is ignored by every reader.
    draft = Signer.for_did_key(intruder_key).sign(
        KIND_ANCHOR, {"v": 1, "url": URL, "digest": hashlib.sha256(LIST_V2).digest()}, now=clock
    )
    entry = ledger.log.append(draft)
    assert ledger.status_lists.check_status_list_current(URL, LIST_V1).issuer == issuer
    problem = ledger.status_lists.rejection(entry.index)
    assert isinstance(problem, RegistryRejected) and problem.code == "issuer_mismatch"


def test_a_did_ledger_issuer_anchors_with_its_current_key(ledger: Ledger, clock: FakeClock) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    did = ledger.dids.create(key).did
    signer = Signer(key, f"{did}#key-1")
    ledger.status_lists.anchor_status_list(URL, LIST_V1, issuer=did, signer=signer)
    clock.advance(minutes=1)
    new_key = PrivateKey.generate(KeyType.ED25519)
    ledger.dids.rotate_key(did, signer, new_key.public_key)
    clock.advance(minutes=1)
    with pytest.raises(RegistryRejected):
        ledger.status_lists.anchor_status_list(URL, LIST_V2, issuer=did, signer=signer)
    ledger.status_lists.anchor_status_list(
        URL, LIST_V2, issuer=did, signer=Signer(new_key, f"{did}#key-2")
    )
    assert ledger.status_lists.check_status_list_current(URL, LIST_V2).issuer == did


@settings(max_examples=80)
@given(url=st.text(max_size=80), credential=st.binary(max_size=64))
def test_arbitrary_queries_raise_only_typed_errors(url: str, credential: bytes) -> None:
    with Ledger.open(":memory:", clock=FakeClock()) as led:
        try:
            led.status_lists.check_status_list_current(url, credential)
        except SSIWalletError:
            pass


def test_several_lists_anchored_in_one_append(ledger: Ledger) -> None:
    issuer, key = _issuer()
    registry = ledger.status_lists
    urls = [f"{URL}/{purpose}" for purpose in ("revocation", "suspension", "token")]
    seen: list[int] = []
    before = ledger.log.size
    anchors = registry.anchor_status_lists(
        [(urls[0], LIST_V1), (urls[1], LIST_V2), (urls[2], "a.b.c")],
        issuer=issuer,
        signer=key,
        before_commit=lambda writer, entries: seen.append(len(entries)),
    )
    # One transaction (the hook ran once, for the three entries), one entry per list.
    assert seen == [3]
    assert ledger.log.size == before + 3
    assert [a.url for a in anchors] == urls
    assert registry.check_status_list_current(urls[1], LIST_V2) == anchors[1]
    assert registry.check_status_list_current(urls[2], "a.b.c") == anchors[2]
    assert registry.anchor_status_lists([], issuer=issuer, signer=key) == []


def test_a_refused_batch_appends_nothing(ledger: Ledger) -> None:
    issuer, key = _issuer()
    other, other_key = _issuer()
    registry = ledger.status_lists
    registry.anchor_status_list(URL, LIST_V1, issuer=issuer, signer=key)
    before = ledger.log.size
    with pytest.raises(RegistryError, match="once"):
        registry.anchor_status_lists(
            [(f"{URL}/a", LIST_V1), (f"{URL}/a", LIST_V2)], issuer=other, signer=other_key
        )
    # URL is bound to the first issuer: the whole batch is refused, its fresh URL too.
    with pytest.raises(RegistryRejected) as refused:
        registry.anchor_status_lists(
            [(f"{URL}/fresh", LIST_V1), (URL, LIST_V2)], issuer=other, signer=other_key
        )
    assert refused.value.code == "issuer_mismatch"
    with pytest.raises(RegistryRejected):
        registry.anchor_status_lists([(f"{URL}/b", LIST_V1)], issuer=issuer, signer=other_key)

    def failing_hook(writer: object, entries: object) -> None:
        raise SSIWalletError("the issuer's rows could not be written")

    with pytest.raises(SSIWalletError, match="rows could not"):
        registry.anchor_status_lists(
            [(f"{URL}/c", LIST_V1)], issuer=issuer, signer=key, before_commit=failing_hook
        )
    assert ledger.log.size == before
    assert registry.current(f"{URL}/fresh") is None and registry.current(f"{URL}/c") is None
