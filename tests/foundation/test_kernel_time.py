"""One instant type and one clock (``did_methods._wire.dates``), and injected randomness.

Every ``now`` is an aware datetime and every clock a callable returning one;
the old shapes (seconds since the epoch, clocks returning seconds or Unix
milliseconds) are still read, each with a DeprecationWarning, and mean the
same instant. Issuer, Holder and presentation requests take ``randbytes``.
"""

from __future__ import annotations

import hashlib
import inspect
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest

import credentials.sd_jwt
import credentials.status_list
import credentials.token_status_list
from credentials.jose import issue_vc_jwt, verify_vc_jwt
from credentials.sd_jwt import SdJwt, issue_sd_jwt
from did_methods._wire import dates
from did_methods.errors import ParseError, VerificationError
from did_methods.keys import PrivateKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver
from ssi_wallet import Holder, Issuer, Verifier, policies
from ssi_wallet.request import PresentationRequest

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SECONDS = NOW.timestamp()


def test_instant_reads_aware_datetimes_in_utc_and_none_from_the_clock() -> None:
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    assert dates.instant(plus_two) == NOW
    assert dates.instant(plus_two).tzinfo is UTC
    assert dates.instant(None, clock=lambda: NOW) == NOW
    before = datetime.now(UTC)
    assert before <= dates.instant(None) <= datetime.now(UTC)


@pytest.mark.parametrize("bad", [datetime(2026, 6, 1), "2026-06-01", True, [1], float("nan"), -1.0])
def test_instant_refuses_what_is_not_an_aware_instant(bad: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ParseError):
            dates.instant(bad)  # type: ignore[arg-type]


def test_seconds_are_the_same_instant_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match="seconds since the epoch"):
        assert dates.instant(SECONDS) == NOW
    with pytest.warns(DeprecationWarning):
        assert dates.epoch_seconds(int(SECONDS)) == SECONDS


def test_legacy_clocks_returning_seconds_or_milliseconds_are_read_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="Unix milliseconds"):
        legacy_ms = dates.read_clock(lambda: int(SECONDS * 1000), legacy="ms")  # type: ignore[arg-type,return-value]
        assert legacy_ms == NOW
    with pytest.warns(DeprecationWarning, match="seconds since the epoch"):
        assert dates.read_clock(lambda: SECONDS) == NOW  # type: ignore[arg-type,return-value]
    with pytest.raises(ParseError):
        dates.read_clock(lambda: datetime(2026, 6, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dates.read_clock(lambda: NOW) == NOW  # the one shape warns nothing


def test_to_unix_ms_is_exact_and_refuses_naive_datetimes() -> None:
    assert dates.to_unix_ms(NOW + timedelta(microseconds=999)) == int(SECONDS) * 1000
    assert dates.to_unix_ms(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    with pytest.raises(ParseError):
        dates.to_unix_ms(datetime(2026, 6, 1))


def test_the_default_clock_everywhere_is_the_kernel_one() -> None:
    for made in (
        credentials.status_list.StatusListResolver.__init__,
        credentials.token_status_list.TokenStatusListResolver.__init__,
        Issuer.__init__,
        Issuer.create,
        Holder.__init__,
        Verifier.__init__,
    ):
        assert inspect.signature(made).parameters["clock"].default is dates.system_clock, made


def test_jose_and_sd_jwt_take_a_datetime_and_sign_its_seconds() -> None:
    key = PrivateKey.generate(randbytes=_seeded(11))
    did = did_key_from_public_key(key.public_key)
    kid = did + "#" + did.removeprefix("did:key:")
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "validFrom": "2026-06-01T12:00:00Z",  # NOW: valid from the instant it is signed
        "credentialSubject": {"name": "Amina"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the datetime shape is not deprecated anywhere
        token = issue_vc_jwt(credential, key, kid=kid, now=NOW)
        result = verify_vc_jwt(token, Resolver.offline(), now=NOW + timedelta(seconds=5))
        assert result.ok, result.explain()
        sd = issue_sd_jwt({"a": 1}, key, issuer=did, kid=kid, vct="urn:x", now=NOW)
    assert credentials.sd_jwt.SdJwt.parse(sd).unverified_payload["iat"] == int(SECONDS)
    with pytest.warns(DeprecationWarning):
        assert verify_vc_jwt(token, Resolver.offline(), now=SECONDS + 5).ok


def _seeded(seed: int):  # type: ignore[no-untyped-def]
    """A deterministic ``randbytes``: the same seed gives the same bytes."""
    import random

    source = random.Random(seed)
    return lambda n: source.randbytes(n)


def test_presentation_requests_take_their_nonce_and_time_from_the_caller() -> None:
    policy = policies.right_to_work(sector="Q86")
    one = PresentationRequest.for_policy(
        policy, audience="did:web:v", now=NOW, randbytes=_seeded(1)
    )
    two = PresentationRequest.for_policy(
        policy, audience="did:web:v", now=NOW, randbytes=_seeded(1)
    )
    other = PresentationRequest.for_policy(policy, audience="did:web:v", now=NOW)
    assert one.nonce == two.nonce != other.nonce
    assert len(one.nonce) == 22  # 128 bits, base64url
    assert one.issued_at == int(SECONDS)
    with pytest.raises(ParseError):
        PresentationRequest.new_nonce(lambda n: b"short")


def test_issuer_holder_and_verifier_run_on_an_injected_clock_and_randomness() -> None:
    ministry = Issuer.create(name="Ministry", clock=lambda: NOW, randbytes=_seeded(7))
    again = Issuer.create(name="Ministry", clock=lambda: NOW, randbytes=_seeded(7))
    assert ministry.did == again.did  # the key came from randbytes
    wallet = Holder.create(":memory:", passphrase="pw", clock=lambda: NOW, randbytes=_seeded(3))
    twin = Holder.create(":memory:", passphrase="pw", clock=lambda: NOW, randbytes=_seeded(3))
    assert wallet.did == twin.did
    from credentials import schemas

    claims = {k: v for k, v in schemas.example_subject("WorkPermit").items() if k != "id"}
    issued = ministry.issue("WorkPermit", subject=wallet.did, claims=claims)
    stored = wallet.store(issued)
    assert stored.stored_at == "2026-06-01T12:00:00Z"
    assert stored.id == twin.store(again.issue("WorkPermit", subject=twin.did, claims=claims)).id
    payload = SdJwt.parse(issued.credential).unverified_payload
    assert payload["iat"] == int(SECONDS)


def test_the_ledger_stamps_entries_from_a_datetime_clock() -> None:
    from ledger import Ledger

    root = PrivateKey.generate()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the one shape warns nothing
        with Ledger.open(":memory:", key=root, clock=lambda: NOW) as led:
            entry = led.append("note", b"x")
    assert entry.timestamp == dates.to_unix_ms(NOW) == int(SECONDS) * 1000
    # a clock of the old shape (Unix ms) still stamps the same instant, with a warning
    legacy_ms = int(SECONDS) * 1000
    with (
        pytest.warns(DeprecationWarning, match="Unix milliseconds"),
        Ledger.open(":memory:", key=root, clock=lambda: legacy_ms) as old,  # type: ignore[arg-type,return-value]
    ):
        assert old.append("note", b"x").timestamp == entry.timestamp


def test_from_unix_ms_is_exact() -> None:
    for ms in (0, 1, 999, 1_700_000_000_123, 1_780_000_000_999):
        assert dates.to_unix_ms(dates.from_unix_ms(ms)) == ms


def test_a_witness_dates_its_cosignature_from_a_datetime_clock() -> None:
    from ledger.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
    from ledger.witness import Witness, verify_cosigned_checkpoint

    log_key, witness_key = PrivateKey.generate(), PrivateKey.generate()
    signer = NoteSigner("example.org/log", log_key)
    witness = Witness(
        "example.org/witness", witness_key, logs={"example.org/log": [signer.verifier]}
    )
    note = sign_checkpoint(Checkpoint("example.org/log", 0, hashlib.sha256(b"").digest()), signer)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        cosigned = witness.cosign(note, now=lambda: NOW)
        seen = verify_cosigned_checkpoint(
            cosigned, [signer.verifier], [witness.verifier], quorum=1, now=lambda: NOW
        )
    assert seen.size == 0
    assert cosigned.startswith(note)
    # the cosignature is dated NOW: an hour later it is too old for a 10 s window
    with pytest.raises(VerificationError):
        verify_cosigned_checkpoint(
            cosigned,
            [signer.verifier],
            [witness.verifier],
            quorum=1,
            now=lambda: NOW + timedelta(hours=1),
            max_age=10,
        )
