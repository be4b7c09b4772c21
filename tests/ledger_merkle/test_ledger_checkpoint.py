"""C2SP checkpoints and signed notes: the Go reference note byte for byte, bounds, bad input."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_methods.errors import SSIWalletError, UnsupportedError, VerificationError
from did_methods.keys import KeyType, PrivateKey
from ledger._merkle import EMPTY_ROOT
from ledger.checkpoint import (
    MAX_NOTE_SIGNATURES,
    MAX_NOTE_SIZE,
    Checkpoint,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    compute_key_id,
    sign_checkpoint,
    verify_checkpoint,
    verify_note,
)
from ledger.errors import CheckpointError

# The example key pair and note of golang.org/x/mod/sumdb/note (package documentation
# and note_test.go), the reference implementation the C2SP signed-note spec came from.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
GO_NOTE = GO_TEXT + "\n" + "\u2014 PeterNeumann " + GO_SIG + "\n"

# The example checkpoint body of C2SP tlog-checkpoint.
C2SP_BODY = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def _key(seed: int) -> PrivateKey:
    return PrivateKey(KeyType.ED25519, bytes([seed]) * 32)


LOG = NoteSigner("example.org/log", _key(1))
ROOT = hashlib.sha256(b"root").digest()


def test_go_reference_note_byte_for_byte() -> None:
    signer = NoteSigner.from_skey(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert signer.key_id == 0xC74F20A3
    note = SignedNote(GO_TEXT, (signer.sign(GO_TEXT.encode()),))
    assert note.to_text() == GO_NOTE
    parsed, good = verify_note(GO_NOTE, [NoteVerifier.from_vkey(GO_VKEY)])
    assert parsed.text == GO_TEXT
    assert good == (NoteVerifier.from_vkey(GO_VKEY),)


def test_key_id_is_the_spec_formula() -> None:
    pub = LOG.private_key.public_key.raw
    digest = hashlib.sha256(b"example.org/log\n\x01" + pub).digest()
    assert LOG.key_id == int.from_bytes(digest[:4], "big")
    assert compute_key_id("example.org/log", 1, pub) == LOG.key_id


def test_c2sp_example_body_round_trips() -> None:
    cp = Checkpoint.parse(C2SP_BODY)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.body() == C2SP_BODY


def test_sign_and_verify_checkpoint_with_extensions() -> None:
    cp = Checkpoint("example.org/log", 7, ROOT, ("ext one", "ext-2"))
    note = sign_checkpoint(cp, LOG)
    assert note.startswith(cp.body().decode() + "\n\u2014 example.org/log ")
    assert verify_checkpoint(note, [LOG.verifier]) == cp
    assert verify_checkpoint(note, [LOG.verifier], origin="example.org/log") == cp
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(note, [LOG.verifier], origin="other.org/log")
    assert exc.value.code == "origin_mismatch"


def test_unknown_signers_are_ignored_but_one_known_is_required() -> None:
    cp = Checkpoint("example.org/log", 0, EMPTY_ROOT)
    other = NoteSigner("other.org/key", _key(2))
    note = SignedNote.parse(sign_checkpoint(cp, LOG)).with_signature(other.sign(cp.body()))
    assert verify_checkpoint(note.to_text(), [LOG.verifier]) == cp
    assert verify_checkpoint(note.to_text(), [other.verifier]) == cp
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(note.to_text(), [NoteSigner("x.org/y", _key(3)).verifier])
    assert exc.value.code == "no_trusted_signature"
    # Same name, different key: not the known key, so ignored rather than failed.
    impostor = NoteSigner("example.org/log", _key(4))
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(sign_checkpoint(cp, impostor), [LOG.verifier])
    assert exc.value.code == "no_trusted_signature"


def test_a_failing_known_signature_rejects_the_note() -> None:
    cp = Checkpoint("example.org/log", 3, ROOT)
    good = SignedNote.parse(sign_checkpoint(cp, LOG))
    sig = good.signatures[0]
    bad = NoteSignature(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    for note in (SignedNote(good.text, (bad,)), SignedNote(good.text, (sig, bad))):
        with pytest.raises(VerificationError) as exc:
            verify_checkpoint(note.to_text(), [LOG.verifier])
        assert exc.value.code == "signature_invalid"
    # A changed body no longer matches the signature.
    changed = SignedNote(Checkpoint("example.org/log", 4, ROOT).body().decode(), (sig,))
    with pytest.raises(VerificationError):
        verify_checkpoint(changed.to_text(), [LOG.verifier])


def test_vkey_parsing_rejects_manglings() -> None:
    assert NoteVerifier.from_vkey(GO_VKEY).vkey == GO_VKEY
    for i in range(len(GO_VKEY)):
        mangled = GO_VKEY[:i] + chr(ord(GO_VKEY[i]) + 1) + GO_VKEY[i + 1 :]
        with pytest.raises(SSIWalletError):
            NoteVerifier.from_vkey(mangled)
    for i in range(1, len(GO_VKEY)):
        with pytest.raises(SSIWalletError):
            NoteVerifier.from_vkey(GO_VKEY[:i])
    # Another signature type (0x04, a cosignature key) is not a note key.
    pub = LOG.private_key.public_key.raw
    kid = compute_key_id("w.org/w", 4, pub)
    vkey4 = f"w.org/w+{kid:08x}+" + base64.b64encode(b"\x04" + pub).decode()
    with pytest.raises(UnsupportedError):
        NoteVerifier.from_vkey(vkey4)


def test_signer_key_parsing_rejects_manglings() -> None:
    for i in range(len("PRIVATE+KEY+"), len(GO_SKEY)):
        mangled = GO_SKEY[:i] + chr(ord(GO_SKEY[i]) + 1) + GO_SKEY[i + 1 :]
        with pytest.raises(SSIWalletError):
            NoteSigner.from_skey(mangled)


def test_only_ed25519_keys() -> None:
    p256 = PrivateKey.generate(KeyType.P256)
    with pytest.raises(UnsupportedError):
        NoteSigner("a.org/b", p256)
    with pytest.raises(UnsupportedError):
        NoteVerifier("a.org/b", p256.public_key)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\nb"])
def test_bad_key_names(name: str) -> None:
    with pytest.raises(CheckpointError):
        NoteSigner(name, _key(1))


BAD_BODIES = [
    b"",
    b"origin\n1\n",  # no root
    b"origin\n1\n" + base64.b64encode(ROOT) + b"",  # no final newline
    b"\n1\n" + base64.b64encode(ROOT) + b"\n",  # empty origin
    b"origin\n01\n" + base64.b64encode(ROOT) + b"\n",  # leading zero
    b"origin\n+1\n" + base64.b64encode(ROOT) + b"\n",
    b"origin\n-1\n" + base64.b64encode(ROOT) + b"\n",
    b"origin\n 1\n" + base64.b64encode(ROOT) + b"\n",
    b"origin\n9223372036854775808\n" + base64.b64encode(ROOT) + b"\n",  # 2**63
    b"origin\n1\n" + base64.b64encode(ROOT[:31]) + b"\n",  # 31-byte root
    b"origin\n1\n" + base64.b64encode(ROOT).rstrip(b"=") + b"\n",  # unpadded
    b"origin\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32) + b"\n",  # base64url
    b"origin\n1\n" + base64.b64encode(ROOT) + b"\n\n",  # empty extension line
    b"origin\n1\n" + base64.b64encode(ROOT) + b"\next\x01\n",  # control character
    b"ori\xffgin\n1\n" + base64.b64encode(ROOT) + b"\n",  # not UTF-8
    b"origin\r\n1\n" + base64.b64encode(ROOT) + b"\n",
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_malformed_checkpoint_bodies(body: bytes) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(body)


def _note(text: str, *lines: str) -> str:
    return text + "\n" + "".join(line + "\n" for line in lines)


GOOD_LINE = GO_NOTE.splitlines()[-1]

BAD_NOTES = [
    GO_TEXT,  # no signatures
    GO_TEXT + "\n",  # blank line but no signatures
    GO_NOTE[:-1],  # no final newline
    GO_NOTE.replace("\u2014", "-"),  # hyphen, not em dash
    GO_NOTE.replace("\u2014 ", "\u2014"),
    GO_NOTE.replace("PeterNeumann ", "Peter Neumann "),
    GO_NOTE.replace("PeterNeumann ", "PeterNeumann  "),
    GO_NOTE.replace("=\n", "\n"),  # unpadded base64
    GO_NOTE.replace("x08go", "x08g!"),
    GO_NOTE + "\n",  # trailing blank line
    GO_NOTE + "extra\n",
    _note(GO_TEXT, "\u2014 PeterNeumann " + base64.b64encode(b"\x00\x01\x02\x03").decode()),
    GO_NOTE.replace("problem,", "problem,\x07"),
    _note(GO_TEXT, *([GOOD_LINE] * (MAX_NOTE_SIGNATURES + 1))),
]


@pytest.mark.parametrize("note", BAD_NOTES)
def test_malformed_notes(note: str) -> None:
    with pytest.raises(CheckpointError):
        SignedNote.parse(note)


def test_note_bounds() -> None:
    many = _note(GO_TEXT, *([GOOD_LINE] * MAX_NOTE_SIGNATURES))
    assert len(SignedNote.parse(many).signatures) == MAX_NOTE_SIGNATURES
    huge = "x" * MAX_NOTE_SIZE + "\n\n" + GOOD_LINE + "\n"
    with pytest.raises(CheckpointError):
        SignedNote.parse(huge)
    with pytest.raises(CheckpointError):
        SignedNote.parse(huge.encode())
    # Multi-byte characters count in bytes, not characters.
    wide = "\u00e9" * (MAX_NOTE_SIZE // 2) + "\n\n" + GOOD_LINE + "\n"
    with pytest.raises(CheckpointError):
        SignedNote.parse(wide)


def test_note_text_may_hold_blank_lines() -> None:
    text = "line one\n\nline three\n"
    signer = NoteSigner("a.org/b", _key(5))
    note = SignedNote(text, (signer.sign(text.encode()),)).to_text()
    parsed, _ = verify_note(note, [signer.verifier])
    assert parsed.text == text


@given(st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_arbitrary_input_raises_only_our_errors(data: bytes | str) -> None:
    for fn in (SignedNote.parse, Checkpoint.parse):
        try:
            fn(data)
        except CheckpointError:
            pass
    try:
        verify_checkpoint(data, [LOG.verifier])
    except (CheckpointError, VerificationError):
        pass


@given(st.text(min_size=1, max_size=60), st.text(max_size=60))
def test_arbitrary_note_signature_lines(name: str, blob: str) -> None:
    try:
        SignedNote.parse(GO_TEXT + "\n\u2014 " + name + " " + blob + "\n")
    except CheckpointError:
        pass
    try:
        NoteVerifier.from_vkey(name + "+" + blob)
    except (CheckpointError, UnsupportedError):
        pass


def test_checkpoint_values_are_validated() -> None:
    for args in [
        ("", 1, ROOT),
        ("a\nb", 1, ROOT),
        ("o", -1, ROOT),
        ("o", True, ROOT),
        ("o", 2**63, ROOT),
        ("o", 1, ROOT[:31]),
        ("o", 1, "00" * 32),
    ]:
        with pytest.raises(CheckpointError):
            Checkpoint(*args)  # type: ignore[arg-type]
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT, ("",))
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT, ["x"])  # type: ignore[arg-type]
