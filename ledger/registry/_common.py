"""What the three registries share: signers, payload codec, clocks, proofs and the log follower.

Every registry operation is a log entry whose ``submitter`` is the ``did:key``
DID URL of the key that signed it (self-certifying: any log and any auditor
can check the signature with no resolution), and whose payload names, in
``vm``, the verification method of the *acting* DID that holds that key. The
registry then checks that ``vm`` is authorised for the operation and that its
key is the submitter's key. Payloads are deterministic CBOR maps (RFC 8949
section 4.2) restricted to the JSON data model without floats.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cbor2

from did_methods._wire.dates import Clock, system_clock
from did_methods.document import VerificationMethod
from did_methods.errors import SSIWalletError, VerificationError
from did_methods.keys import PrivateKey, PublicKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver
from ledger._merkle import hash_leaf
from ledger.entry import Entry, EntryDraft, SignedDraft
from ledger.errors import LedgerError
from ledger.log import DEFAULT_MAX_CLOCK_SKEW_MS, Log, did_key_lookup
from ledger.proofs import InclusionProof, verify_inclusion
from ledger.registry._position import KindRow, load_position, save_position
from ledger.registry.errors import RegistryError, RegistryRejected

__all__ = [
    "EntryProof",
    "LogFollower",
    "Signer",
    "decode_payload",
    "encode_payload",
    "from_ms",
    "submitter_key",
    "to_ms",
]

_MAX_DEPTH = 16
_MAX_ITEMS = 1024
# Older DID versions looked through to tell a rotated-out key from a stranger's.
_MAX_VERSIONS_BACK = 64


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key and the DID URL of the verification method that holds it.

    ``method`` names the key inside the acting DID's document (for example
    ``did:ledger:...#key-1``); for a ``did:key`` actor use :meth:`for_did_key`.
    Entries are submitted under the ``did:key`` URL of ``key`` (see the
    module docstring). Raises :class:`RegistryError` when ``method`` is not a
    DID URL with a fragment.
    """

    key: PrivateKey = field(repr=False)
    method: str

    def __post_init__(self) -> None:
        if not isinstance(self.key, PrivateKey):
            raise RegistryError("a Signer needs a did_methods.keys.PrivateKey")
        if not isinstance(self.method, str) or "#" not in self.method:
            raise RegistryError("a Signer's method must be a DID URL with a fragment")
        if not self.method.startswith("did:") or len(self.method) > 2048:
            raise RegistryError("a Signer's method must be a DID URL of at most 2048 chars")

    @classmethod
    def for_did_key(cls, key: PrivateKey) -> Signer:
        """The signer of the ``did:key`` DID of ``key``."""
        did = did_key_from_public_key(key.public_key)
        return cls(key, f"{did}#{did[len('did:key:') :]}")

    @property
    def did(self) -> str:
        """The DID that acts (``method`` without its fragment)."""
        return self.method.partition("#")[0]

    @property
    def submitter(self) -> str:
        """The ``did:key`` DID URL the entries are submitted under."""
        did = did_key_from_public_key(self.key.public_key)
        return f"{did}#{did[len('did:key:') :]}"

    def sign(
        self, kind: str, payload: Mapping[str, Any], *, now: Clock = system_clock
    ) -> SignedDraft:
        """Encode ``payload`` (with ``vm`` set to :attr:`method`) and sign it as an entry draft."""
        body = dict(payload)
        body["vm"] = self.method
        return EntryDraft(kind, encode_payload(body)).sign(self.key, self.submitter, now=now)


def as_signer(by: PrivateKey | Signer) -> Signer:
    """A :class:`Signer` from a signer or a bare key (taken as its ``did:key``)."""
    if isinstance(by, Signer):
        return by
    if isinstance(by, PrivateKey):
        return Signer.for_did_key(by)
    raise RegistryError("expected a PrivateKey or a Signer")


def submitter_key(entry: Entry) -> PublicKey:
    """The public key of a registry entry's ``did:key`` submitter; raise if it has none."""
    try:
        return did_key_lookup(entry.submitter)
    except SSIWalletError as exc:
        raise RegistryRejected("submitter_not_did_key", str(exc)) from exc


# -- payloads ---------------------------------------------------------------------


def _check_value(value: object, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise RegistryError("payload nests too deeply")
    if value is None or type(value) in (str, int, bool, bytes):
        return
    if type(value) is list:
        if len(value) > _MAX_ITEMS:
            raise RegistryError("payload list too long")
        for item in value:
            _check_value(item, depth + 1)
        return
    if type(value) is dict:
        if len(value) > _MAX_ITEMS:
            raise RegistryError("payload map too large")
        for key, item in value.items():
            if type(key) is not str:
                raise RegistryError("payload map keys must be text")
            _check_value(item, depth + 1)
        return
    raise RegistryError(f"payload values must be JSON-like without floats, not {type(value)}")


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """Deterministic CBOR of a payload map; raise :class:`RegistryError` for other values."""
    body = dict(payload)
    _check_value(body, 0)
    return bytes(cbor2.dumps(body, canonical=True))


def decode_payload(data: bytes) -> dict[str, Any]:
    """Decode a payload, accepting only the deterministic encoding of a map of allowed values.

    Raises :class:`RegistryError` for anything else (never a cbor2 error).
    """
    try:
        value = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises many types on hostile input
        raise RegistryError(f"payload is not well-formed CBOR: {type(exc).__name__}") from None
    if type(value) is not dict:
        raise RegistryError("payload must be a CBOR map")
    _check_value(value, 0)
    if cbor2.dumps(value, canonical=True) != data:
        raise RegistryError("payload is not in deterministic CBOR encoding")
    return value


# -- time -------------------------------------------------------------------------


def to_ms(when: datetime) -> int:
    """Unix milliseconds of an aware datetime; raise :class:`RegistryError` for a naive one."""
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise RegistryError("times must be timezone-aware datetimes")
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of Unix milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def rfc3339(ms: int) -> str:
    """An RFC 3339 UTC instant (``2026-01-02T03:04:05Z``, milliseconds only when non-zero)."""
    moment = from_ms(ms)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + "Z"


def parse_rfc3339(text: object) -> int:
    """Unix ms of an RFC 3339 instant with an offset or ``Z``; raise :class:`RegistryError`."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40 or "T" not in text.upper():
        raise RegistryError("an RFC 3339 date-time is required")
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise RegistryError(f"not an RFC 3339 date-time: {text!r}") from exc
    if moment.tzinfo is None:
        raise RegistryError("an RFC 3339 date-time needs an offset or Z")
    return to_ms(moment)


# -- proofs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryProof:
    """A log entry with its inclusion proof in the tree of ``proof.size`` entries whose root is
    ``root``.

    :meth:`verify` checks the proof against ``root``; a caller holding a
    verified checkpoint of that size should compare its root with ``root``
    (or pass it to :meth:`verify`).
    """

    entry: Entry
    proof: InclusionProof
    root: bytes

    def verify(self, root: bytes | None = None) -> Entry:
        """Check the proof against ``root`` (default: :attr:`root`) and return the entry.

        Raises :class:`~ledger.errors.ProofError` (``inclusion_invalid``).
        """
        verify_inclusion(hash_leaf(self.entry.encode()), self.proof, root or self.root)
        return self.entry

    def to_json(self) -> dict[str, Any]:
        """``{"index", "kind", "leaf" (entry CBOR, base64url), "proof", "root"}``."""
        from did_methods.encoding import b64url_encode

        return {
            "index": self.entry.index,
            "kind": self.entry.kind,
            "entry": b64url_encode(self.entry.encode()),
            "proof": self.proof.to_json(),
            "root": b64url_encode(self.root),
        }


def prove_entries(log: Log, indices: list[int]) -> tuple[EntryProof, ...]:
    """Entry proofs for ``indices``, all against the same (current) tree."""
    if not indices:
        return ()
    size = log.size
    root = log.root(size)
    return tuple(EntryProof(log.get(i), log.prove_inclusion(i, size), root) for i in indices)


# -- following the log ------------------------------------------------------------

Handler = Callable[[Entry], None]
#: A persisting follower writes its position after at most this many entries of other
#: kinds (and after every registry entry): a restart reads at most that many again.
SAVE_EVERY = 1024


class LogFollower:
    """Reads new log entries once and hands each to the registry that handles its kind.

    Registries keep in-memory indexes rebuilt from the log when opened (one
    pass) and extended incrementally: :meth:`catch_up` reads only the
    entries appended since the last call, so a query costs O(new entries),
    not O(log size). A nested call made while an entry is being handled (a
    registry resolving a DID to check that entry) returns at once: the
    indexes then reflect exactly the entries *before* the one being handled.

    Entries are judged by their position in the log, whoever wrote it: a
    registry entry whose identity (:meth:`~ledger.entry.Entry.identity`)
    appeared earlier in the log is a replay (``duplicate_entry``), and one
    timestamped more than ``max_backdate_ms`` before the newest earlier entry
    is ``backdated``; neither reaches its registry (see :meth:`rejection`).
    So once an instant is older than that window (in log time), no later
    entry can change what the registries answer about it.

    With ``persist=True`` on a SQLite or PostgreSQL store, the follower keeps
    its position and an index of the registry entries in the ledger's
    database (:mod:`ledger.registry._position`): a fresh process reads only
    the registry entries and those appended since, and its registries answer
    exactly as after a full replay. A state that does not match the log is
    rebuilt; a read-only store is never written.
    """

    def __init__(
        self,
        log: Log,
        *,
        max_backdate_ms: int = DEFAULT_MAX_CLOCK_SKEW_MS,
        persist: bool = False,
    ) -> None:
        self._log = log
        self._handlers: dict[str, Handler] = {}
        self._position = 0
        self._lock = threading.RLock()
        self._busy = False
        self._window = max_backdate_ms
        self._newest = 0
        self._identities: set[bytes] = set()
        self._rejected: dict[int, RegistryRejected] = {}
        self._persist = bool(persist)
        self._restored = False
        # (idx, kind, newest timestamp before it) of every registry entry read,
        # and the position the database holds (persisting followers only).
        self._rows: list[KindRow] = []
        self._saved = 0

    @property
    def log(self) -> Log:
        """The followed log."""
        return self._log

    @property
    def position(self) -> int:
        """How many entries have been handed out."""
        return self._position

    def subscribe(self, kind: str, handler: Handler) -> None:
        """Send entries of ``kind`` to ``handler``; only before the first :meth:`catch_up`."""
        with self._lock:
            if self._position:
                raise LedgerError("subscribe registries before the follower reads the log")
            if kind in self._handlers:
                raise LedgerError(f"entries of kind {kind!r} already have a handler")
            self._handlers[kind] = handler

    def catch_up(self) -> int:
        """Hand out every entry appended since the last call; return the log size read."""
        with self._lock:
            if self._busy:
                return self._position
            self._busy = True
            try:
                if self._persist and not self._restored:
                    self._restored = True
                    self._restore()
                size = self._log.size
                if size > self._position and not self._read_kinds(size):
                    for entry in self._log.range(self._position, size):
                        self._hand_out(entry, self._newest)
                        self._newest = max(self._newest, entry.timestamp)
                        self._position = entry.index + 1
                if self._persist:
                    self._save()
                return self._position
            finally:
                self._busy = False

    def _hand_out(self, entry: Entry, newest: int) -> None:
        # Judge an entry at its position (``newest``: the greatest timestamp before it)
        # and hand it to its registry when admitted.
        handler = self._handlers.get(entry.kind)
        if handler is None:
            return
        self._newest = newest
        if self._persist:
            self._rows.append((entry.index, entry.kind, newest))
        if self._admit(entry):
            handler(entry)

    def _read_kinds(self, size: int) -> bool:
        # Read only the entries of the handled kinds up to ``size``, each judged with
        # the newest timestamp before it, which the store computes from its kind
        # index; False (nothing read) when the store cannot answer so.
        start = self._position
        found = self._log.entries_of_kinds(start, size, self._handlers)
        if found is None:
            return False
        rows, newest = found
        base = self._newest  # the newest timestamp before the range
        for entry, before in rows:
            self._position = entry.index
            self._hand_out(entry, base if before is None else max(base, before))
        self._position = size
        self._newest = base if newest is None else max(base, newest)
        return True

    def _restore(self) -> None:
        # Hand the registries the indexed entries before the persisted position, each
        # judged with the timestamp bound of its position, as a full replay would.
        if self._position:
            return
        kinds = frozenset(self._handlers)
        state = load_position(self._log, kinds)
        if state is None:
            return
        entries = [self._log.get(idx) for idx, _, _ in state.rows]
        if any(e.kind != kind for e, (_, kind, _) in zip(entries, state.rows, strict=True)):
            return  # the index does not describe this log: replay it whole
        for entry, (_, _, before) in zip(entries, state.rows, strict=True):
            self._newest = before
            if self._admit(entry):
                self._handlers[entry.kind](entry)
        self._newest = state.newest
        self._position = self._saved = state.position
        self._rows = list(state.rows)

    def _save(self) -> None:
        # Persist when there are new registry entries or many entries since the last
        # save; a failed write (a read-only or busy store) leaves the state in memory.
        unsaved = bool(self._rows) and self._rows[-1][0] >= self._saved
        if self._position == self._saved or (
            not unsaved and self._position - self._saved < SAVE_EVERY
        ):
            return
        kinds = frozenset(self._handlers)
        try:
            held = save_position(self._log, kinds, self._position, self._newest, self._rows)
        except LedgerError:
            return
        if held is None:
            self._persist = False  # this store cannot keep it: stop trying
        else:
            self._saved = min(held, self._position)

    def _admit(self, entry: Entry) -> bool:
        # A registry entry counts at its position only if it is not a replay of an
        # earlier one and not back-dated beyond the window.
        identity = entry.identity()
        if identity in self._identities:
            self._rejected[entry.index] = RegistryRejected(
                "duplicate_entry", f"entry {entry.index} replays an earlier entry"
            )
            return False
        self._identities.add(identity)
        if entry.timestamp < self._newest - self._window:
            self._rejected[entry.index] = RegistryRejected(
                "backdated",
                f"entry {entry.index} is timestamped {entry.timestamp}, more than "
                f"{self._window} ms before an earlier entry ({self._newest})",
            )
            return False
        return True

    def rejection(self, index: int) -> RegistryRejected | None:
        """Why the follower kept the entry at ``index`` from its registry (``duplicate_entry``,
        ``backdated``), or ``None``."""
        self.catch_up()
        return self._rejected.get(index)


def digest(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    return hashlib.sha256(data).digest()


def check_vm_key(vm_key: PublicKey, entry: Entry) -> None:
    """Require the entry's submitter key to be ``vm_key``; raise ``RegistryRejected``."""
    if submitter_key(entry) != vm_key:
        raise RegistryRejected(
            "key_mismatch", "the entry was not signed by the key of the named verification method"
        )


def verification_error(exc: VerificationError) -> RegistryRejected:
    """Translate a failed check into a registry rejection with the same code."""
    return RegistryRejected(exc.code, exc.message)


def authorise_vm(resolver: Resolver, vm: object, purpose: str, entry: Entry) -> str:
    """Check that ``vm`` is authorised for ``purpose`` by its DID *when ``entry`` was made* and
    that it holds the entry's submitter key; return the DID.

    Raises :class:`RegistryRejected` (``not_authorised``, ``key_mismatch``).
    """
    if not isinstance(vm, str) or "#" not in vm or len(vm) > 2048:
        raise RegistryRejected("not_authorised", "vm must be a DID URL with a fragment")
    at = rfc3339(entry.timestamp)
    signed_by = submitter_key(entry)
    # The DID's document as the log stood just before this entry (by position, for
    # did:ledger: what a key signed after its rotation, by log order, has no effect),
    # at the entry's time for DIDs that have no log positions.
    try:
        method = _method_at(resolver, vm, purpose, at, entry.index)
        problem: RegistryRejected | None = None
        if signed_by != method.public_key:
            problem = RegistryRejected(
                "key_mismatch",
                "the entry was not signed by the key of the named verification method",
            )
    except VerificationError as exc:
        problem = RegistryRejected("not_authorised", f"{vm[:100]}: {exc.message}")
    except SSIWalletError as exc:
        problem = RegistryRejected("not_authorised", f"cannot resolve {vm[:100]}: {exc}")
    if problem is None:
        return vm.partition("#")[0]
    if _held_before(resolver, vm, purpose, signed_by, entry.index):
        raise RegistryRejected(
            "key_rotated_out",
            f"{vm[:100]} was rotated out earlier in the log than entry {entry.index}",
        )
    raise problem


# did:key and did:jwk documents are a function of the DID alone (no versions, no
# history): their checked methods are remembered per resolver, so replaying many
# entries of one actor (a root's accreditations, an issuer's anchors) builds its
# document once. Methods with history (did:ledger) are resolved at every position.
_STATIC_DIDS = ("did:key:", "did:jwk:")
_STATIC_MEMO_SIZE = 4096
_static_methods: weakref.WeakKeyDictionary[Resolver, dict[tuple[str, str], VerificationMethod]]
_static_methods = weakref.WeakKeyDictionary()
_static_lock = threading.Lock()


def _method_at(
    resolver: Resolver, vm: str, purpose: str, at: str, position: int
) -> VerificationMethod:
    # The method ``vm`` authorised for ``purpose`` as the log stood before ``position``.
    if not vm.startswith(_STATIC_DIDS):
        return resolver.verification_method(
            vm, purpose, versionTime=at, ledgerPosition=position, no_cache=True
        )
    with _static_lock:
        memo = _static_methods.setdefault(resolver, {})
        found = memo.get((vm, purpose))
    if found is None:
        found = resolver.verification_method(vm, purpose, no_cache=True)
        with _static_lock:
            if len(memo) < _STATIC_MEMO_SIZE:
                memo[(vm, purpose)] = found
    return found


def _held_before(resolver: Resolver, vm: str, purpose: str, key: PublicKey, position: int) -> bool:
    # Whether ``key`` held ``vm`` in a version of its DID older than the one in force
    # at log ``position``: then only the entry's position (after the rotation) keeps
    # it out. Only DIDs with numbered versions (did:ledger) have older versions.
    try:
        result = resolver.resolve(vm.partition("#")[0], ledgerPosition=position, no_cache=True)
    except SSIWalletError:
        return False
    version = result.did_document_metadata.get("versionId") if result.error is None else None
    if not isinstance(version, str) or not version.isdigit():
        return False
    newest = int(version)
    for number in range(newest - 1, max(0, newest - 1 - _MAX_VERSIONS_BACK), -1):
        try:
            method = resolver.verification_method(vm, purpose, versionId=str(number), no_cache=True)
        except SSIWalletError:
            continue
        if key == method.public_key:
            return True
    return False


def local_resolver() -> Resolver:
    """A resolver for ``did:key`` and ``did:jwk`` only (no I/O): the registries' default."""
    from did_methods.methods.jwk import JwkMethod
    from did_methods.methods.key import KeyMethod

    return Resolver([KeyMethod(), JwkMethod()])
