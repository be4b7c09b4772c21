"""The GDPR rights on both backends: access, export, rectification, erasure, restriction."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_methods.encoding import b64url_decode
from did_methods.errors import ParseError
from ledger._merkle import hash_leaf
from ledger.audit import audit
from ledger.entry import Entry
from ledger.proofs import InclusionProof, verify_inclusion
from ledger.vault import (
    MasterKey,
    Principal,
    RecordError,
    RecordNotFound,
    ReleaseRefused,
    Role,
    SubjectNotFound,
    Vault,
    VaultError,
    canonical_json,
)
from ledger.vault.proof import KIND_COMMIT, KIND_TOMBSTONE, decode_payload

AMINA = "LT-ASY-2024-000123"
RECORD = {"name": "Amina Haidari", "birthYear": 2009, "languages": ["fa", "en"]}


def test_put_and_access_return_the_record_with_a_valid_inclusion_proof(open_vault) -> None:
    vault = open_vault()
    receipt = vault.put(AMINA, RECORD)
    access = vault.access(AMINA)
    assert access.status == "active"
    [stored] = access.records
    assert stored.record == RECORD
    assert (stored.record_id, stored.version, stored.state) == (receipt.record_id, 1, "current")
    entry = Entry.decode(stored.entry)
    assert entry.kind == KIND_COMMIT and entry.index == receipt.log_index
    assert decode_payload(entry.kind, entry.payload) == (receipt.ref, receipt.commitment)
    assert stored.inclusion is not None
    verify_inclusion(hash_leaf(stored.entry), stored.inclusion, access.log_root)
    assert audit(vault.log.store).ok


def test_the_log_never_holds_the_subject_id_or_the_record(open_vault) -> None:
    vault = open_vault()
    vault.put(AMINA, RECORD)
    vault.release(
        AMINA,
        principal=Principal("ministry-of-interior", Role.MINISTRY),
        purpose="legal-obligation",
    )
    vault.erase(AMINA)
    for entry in vault.log.range():
        data = entry.encode()
        for secret in (AMINA, "Amina", "Haidari", "2009"):
            assert secret.encode() not in data


def test_same_record_committed_twice_gives_unrelated_commitments(open_vault) -> None:
    # A low-entropy value (a birth year) cannot be confirmed by recomputing a hash.
    vault = open_vault()
    first = vault.put(AMINA, {"birthYear": 2009})
    second = vault.put(AMINA, {"birthYear": 2009})
    third = vault.put("someone-else", {"birthYear": 2009})
    commitments = {first.commitment, second.commitment, third.commitment}
    refs = {first.ref, second.ref, third.ref}
    assert len(commitments) == 3 and len(refs) == 3
    import hashlib

    assert hashlib.sha256(b'{"birthYear":2009}').digest() not in commitments


def test_rectification_supersedes_and_the_old_version_can_be_erased(open_vault) -> None:
    vault = open_vault()
    receipt = vault.put(AMINA, {"address": "Vilnius"})
    new = vault.rectify(AMINA, receipt.record_id, {"address": "Kaunas"})
    assert (new.record_id, new.version) == (receipt.record_id, 2)
    states = {(r.version, r.state): r.record for r in vault.access(AMINA).records}
    assert states == {
        (1, "superseded"): {"address": "Vilnius"},
        (2, "current"): {"address": "Kaunas"},
    }
    vault.erase(AMINA, record_id=receipt.record_id, version=1)
    access = vault.access(AMINA)
    assert [(r.version, r.record) for r in access.records] == [(2, {"address": "Kaunas"})]
    assert [(e.record_id, e.version) for e in access.erased] == [(receipt.record_id, 1)]
    # A third version continues the numbering past the erased one.
    assert vault.rectify(AMINA, receipt.record_id, {"address": "Alytus"}).version == 3
    with pytest.raises(RecordNotFound):
        vault.rectify(AMINA, "rec-none", {"address": "x"})


def test_rectify_with_erase_previous(open_vault) -> None:
    vault = open_vault()
    receipt = vault.put(AMINA, {"address": "Vilnius"})
    vault.rectify(AMINA, receipt.record_id, {"address": "Kaunas"}, erase_previous=True)
    access = vault.access(AMINA)
    assert [r.record for r in access.records] == [{"address": "Kaunas"}]
    assert len(access.erased) == 1


def test_erasure_returns_erased_with_the_tombstone_inclusion_proof(open_vault) -> None:
    vault = open_vault()
    a = vault.put(AMINA, RECORD)
    b = vault.put(AMINA, {"address": "Vilnius"})
    other = vault.put("another-person", {"x": 1})
    receipt = vault.erase(AMINA)
    assert receipt.subject_erased and len(receipt.tombstones) == 2
    assert receipt.compaction.ok
    access = vault.access(AMINA)
    assert access.status == "erased" and access.records == ()
    assert {e.record_id for e in access.erased} == {a.record_id, b.record_id}
    refs = {a.ref, b.ref}
    for erased in access.erased:
        entry = Entry.decode(erased.tombstone_entry)
        assert entry.kind == KIND_TOMBSTONE and entry.index == erased.tombstone_index
        ref, commitment = decode_payload(entry.kind, entry.payload)
        assert ref in refs and commitment is None
        assert erased.tombstone_inclusion is not None
        verify_inclusion(
            hash_leaf(erased.tombstone_entry), erased.tombstone_inclusion, access.log_root
        )
    # The log still audits clean, the other subject is untouched, and the vault is consistent.
    assert audit(vault.log.store).ok
    assert vault.access("another-person").records[0].record == {"x": 1}
    assert other.log_index < receipt.tombstones[0]
    assert vault.check().ok
    # Erasing again appends nothing; an unknown subject is an error.
    assert vault.erase(AMINA).tombstones == ()
    with pytest.raises(SubjectNotFound):
        vault.erase("never-seen")
    with pytest.raises(SubjectNotFound):
        vault.access("never-seen")


def test_erasure_survives_reopening_and_new_records_get_a_new_key(open_vault) -> None:
    vault = open_vault()
    vault.put(AMINA, RECORD)
    vault.erase(AMINA)
    vault.close()
    again = open_vault()
    assert again.access(AMINA).status == "erased"
    again.put(AMINA, {"fresh": True})
    access = again.access(AMINA)
    assert access.status == "active" and [r.record for r in access.records] == [{"fresh": True}]
    assert len(access.erased) == 1


def test_export_is_one_json_file_with_proofs_erasures_and_access_log(open_vault) -> None:
    vault = open_vault()
    kept = vault.put(AMINA, RECORD)
    gone = vault.put(AMINA, {"phone": "+370 600 00000"})
    vault.erase(AMINA, record_id=gone.record_id)
    vault.release(
        AMINA,
        principal=Principal("ministry-of-interior", Role.MINISTRY),
        purpose="legal-obligation",
    )
    data = json.loads(vault.export(AMINA))
    assert data["type"] == "VaultSubjectExport" and data["subject"] == AMINA
    assert data["status"] == "active"
    [record] = data["records"]
    assert record["recordId"] == kept.record_id and record["record"] == RECORD
    root = b64url_decode(data["log"]["root"])
    proof = InclusionProof.from_json(record["commitment"]["inclusionProof"])
    verify_inclusion(hash_leaf(b64url_decode(record["commitment"]["entry"])), proof, root)
    [erased] = data["erased"]
    assert erased["recordId"] == gone.record_id
    tomb = InclusionProof.from_json(erased["tombstone"]["inclusionProof"])
    verify_inclusion(hash_leaf(b64url_decode(erased["tombstone"]["entry"])), tomb, root)
    kinds = [e["type"] for e in data["accessLog"]]
    assert "release" in kinds and "subject-access" in kinds
    release = next(e for e in data["accessLog"] if e["type"] == "release")
    assert release["principal"] == {"id": "ministry-of-interior", "role": "ministry"}
    assert vault.log.get(release["logIndex"]).kind == "vault.release"
    assert "+370" not in json.dumps(data)


def test_restriction_freezes_release_until_lifted(open_vault) -> None:
    vault = open_vault()
    receipt = vault.put(AMINA, RECORD)
    principal = Principal("ministry-of-interior", Role.MINISTRY)
    assert vault.restrict(AMINA) == 1
    with pytest.raises(ReleaseRefused) as refused:
        vault.release(AMINA, principal=principal, purpose="legal-obligation")
    assert refused.value.code == "restricted"
    # The controller still answers the subject's access request.
    assert vault.access(AMINA).records[0].restricted
    # A rectified version stays restricted.
    vault.rectify(AMINA, receipt.record_id, {**RECORD, "birthYear": 2008})
    with pytest.raises(ReleaseRefused):
        vault.release(AMINA, principal=principal, purpose="legal-obligation")
    vault.restrict(AMINA, lift=True)
    released = vault.release(AMINA, principal=principal, purpose="legal-obligation")
    assert [r.record["birthYear"] for r in released.records] == [2008]
    with pytest.raises(SubjectNotFound):
        vault.restrict("never-seen")


def test_bad_input_raises_typed_errors(open_vault) -> None:
    vault = open_vault()
    with pytest.raises(RecordError):
        vault.put(AMINA, {"x": float("nan")})
    with pytest.raises(RecordError):
        vault.put(AMINA, ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(RecordError):
        vault.put(AMINA, {"big": "x" * 70_000})
    with pytest.raises(ValueError):
        vault.put("", RECORD)
    with pytest.raises(ValueError):
        vault.put("a\nb", RECORD)
    assert vault.check().ok and vault.check().records == 0


def test_read_only_vault_cannot_write(open_vault) -> None:
    writer = open_vault()
    writer.put(AMINA, RECORD)
    reader = open_vault(signer=None)
    assert reader.access(AMINA).records[0].record == RECORD
    with pytest.raises(VaultError):
        reader.put(AMINA, RECORD)
    with pytest.raises(VaultError):
        reader.erase(AMINA)


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats()
    | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60)
@given(subject=st.text(max_size=300), record=_values)
def test_arbitrary_puts_store_exactly_the_record_or_raise_parse_errors(
    sqlite_vault_for_hypothesis, subject: str, record: object
) -> None:
    vault = sqlite_vault_for_hypothesis
    try:
        receipt = vault.put(subject, record)  # type: ignore[arg-type]
    except ParseError:
        return
    stored = {r.record_id: r.record for r in vault.access(subject, log_event=False).records}
    assert json.loads(canonical_json(stored[receipt.record_id])) == json.loads(
        canonical_json(record)
    )


@pytest.fixture(scope="module")
def sqlite_vault_for_hypothesis(tmp_path_factory, operator, master_key_for_module):
    vault = Vault.open(
        tmp_path_factory.mktemp("hyp") / "registry.db",
        master_key=master_key_for_module,
        signer=operator,
        origin="vault.test/log",
    )
    yield vault
    vault.close()


@pytest.fixture(scope="module")
def master_key_for_module() -> MasterKey:
    return MasterKey.generate()
