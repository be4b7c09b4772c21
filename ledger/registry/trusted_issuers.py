"""The trusted issuer registry: who may issue which credential types, where, and when.

A *root authority* (its DID fixed when the registry is opened) accredits an
issuer DID for credential types in a jurisdiction (an ISO 3166-1 alpha-2
country code, or ``EU``) for a validity period, and may revoke the
accreditation. An accredited body whose accreditation allows delegation may
accredit others below it, never for types or a jurisdiction wider than its
own: EU level, then a member state, then an agency, and so on (chains are
bounded at :data:`MAX_CHAIN_DEPTH`).

Everything is a log entry:

``trust.accredit``
    ``{"v": 1, "subject": DID, "types": [sorted, unique], "jurisdiction": "EU" | "LT" | ...,
    "validFrom": ms, "validUntil": ms | null, "delegate": bool, "vm": accreditor's method}``
``trust.revoke``
    ``{"v": 1, "accreditation": <log index of the trust.accredit entry>, "vm": revoker's method}``

An accreditation's id is the log index of its entry. It is *in force* at
instant ``t`` when ``max(validFrom, logged) <= t < validUntil`` and it was not
revoked at or before ``t``; ``logged`` is the entry's timestamp, so an
accreditation can never be backdated before it was logged, and a revocation
takes effect when it is logged (it never rewrites the past). Entries are
judged at their position in the log, not by the time they claim: a replayed
entry (``duplicate_entry``) or one back-dated beyond the clock-skew window
(``backdated``) never counts (see :class:`~ledger.registry.LogFollower`); an
accreditor revoked earlier in the log accredits nobody (``delegate_revoked``);
and a key rotated out of the accreditor's DID earlier in the log signs nothing
that counts (``key_rotated_out``). So an answer about an instant older than the
window (in log time) never changes. A chain answers
:meth:`TrustedIssuerRegistry.was_accredited` when every link is in force at
``t``, every link above the first allows delegation and covers the types and
jurisdiction of the link below it, and the top link was made by the root.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from did_methods._wire.dates import Clock, from_unix_ms, system_clock
from did_methods._wire.renamed import warn_renamed
from did_methods.did import DID
from did_methods.errors import InvalidDID, SSIWalletError
from did_methods.keys import PrivateKey
from did_methods.resolver import Resolver
from ledger.entry import GENESIS_PREV_HASH, Entry, SignedDraft, ms_clock
from ledger.log import Log
from ledger.registry._common import (
    EntryProof,
    LogFollower,
    Signer,
    as_signer,
    authorise_vm,
    decode_payload,
    from_ms,
    local_resolver,
    prove_entries,
    to_ms,
)
from ledger.registry.errors import RegistryError, RegistryRejected

__all__ = [
    "EU_MEMBER_STATES",
    "KIND_ACCREDIT",
    "KIND_REVOKE",
    "MAX_CHAIN_DEPTH",
    "Accreditation",
    "AccreditationAnswer",
    "TrustedIssuerRegistry",
    "covers_jurisdiction",
]

KIND_ACCREDIT = "trust.accredit"
KIND_REVOKE = "trust.revoke"
#: Longest accreditation chain followed (root's accreditation included).
MAX_CHAIN_DEPTH = 8
#: ISO 3166-1 alpha-2 codes of the EU member states, covered by the jurisdiction ``EU``.
EU_MEMBER_STATES = frozenset((
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
))  # fmt: skip

_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9._:-]{0,127}")
_JURISDICTION_RE = re.compile(r"EU|[A-Z]{2}")
_MAX_TYPES = 32
_MAX_MS = 2**53 - 1
_ACCREDIT_KEYS = frozenset(
    ("v", "subject", "types", "jurisdiction", "validFrom", "validUntil", "delegate", "vm")
)


def covers_jurisdiction(outer: str, inner: str) -> bool:
    """True when an accreditation for ``outer`` also covers ``inner`` (``EU`` covers its
    member states; a country covers only itself)."""
    return outer == inner or (outer == "EU" and inner in EU_MEMBER_STATES)


def _check_types(types: object) -> tuple[str, ...]:
    if not isinstance(types, list | tuple) or not 0 < len(types) <= _MAX_TYPES:
        raise RegistryError(f"types must list 1 to {_MAX_TYPES} credential types")
    for t in types:
        if not isinstance(t, str) or not _TYPE_RE.fullmatch(t):
            raise RegistryError(f"not a credential type name: {str(t)[:80]!r}")
    return tuple(sorted(set(types)))


def _check_jurisdiction(value: object) -> str:
    if not isinstance(value, str) or not _JURISDICTION_RE.fullmatch(value):
        raise RegistryError("jurisdiction must be 'EU' or an ISO 3166-1 alpha-2 code")
    return value


def _check_did(value: object, what: str) -> str:
    try:
        return str(DID.parse(value))  # type: ignore[arg-type]
    except InvalidDID as exc:
        raise RegistryError(f"{what} is not a DID: {exc}") from exc


def _check_ms(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_MS:
        raise RegistryError(f"{what} must be Unix milliseconds")
    return value


@dataclass(frozen=True, slots=True)
class Accreditation:
    """One accreditation as the log states it, with its revocation if any.

    ``id`` is the log index of the ``trust.accredit`` entry; times are Unix
    milliseconds (``valid_until_ms`` ``None`` means open-ended;
    ``logged_ms`` is the entry's timestamp; ``revoked_ms`` and
    ``revocation_index`` are set once it is revoked).
    """

    id: int
    accreditor: str
    subject: str
    types: tuple[str, ...]
    jurisdiction: str
    valid_from_ms: int
    valid_until_ms: int | None
    delegate: bool
    logged_ms: int
    revoked_ms: int | None = None
    revocation_index: int | None = None

    def in_force(self, at_ms: int) -> bool:
        """True when this accreditation was in force at ``at_ms`` (see the module docstring)."""
        if at_ms < max(self.valid_from_ms, self.logged_ms):
            return False
        if self.valid_until_ms is not None and at_ms >= self.valid_until_ms:
            return False
        return self.revoked_ms is None or at_ms < self.revoked_ms

    @property
    def valid_from(self) -> datetime:
        """Start of validity (aware UTC)."""
        return from_ms(self.valid_from_ms)

    @property
    def valid_until(self) -> datetime | None:
        """End of validity (aware UTC), or ``None``."""
        return None if self.valid_until_ms is None else from_ms(self.valid_until_ms)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "id": self.id,
            "accreditor": self.accreditor,
            "subject": self.subject,
            "types": list(self.types),
            "jurisdiction": self.jurisdiction,
            "validFrom": self.valid_from_ms,
            "validUntil": self.valid_until_ms,
            "delegate": self.delegate,
            "logged": self.logged_ms,
            "revoked": self.revoked_ms,
        }


@dataclass(frozen=True, slots=True)
class AccreditationAnswer:
    """The answer to "was ``did`` accredited for ``credential_type`` at ``at``?".

    ``ok`` is the yes/no; ``chain`` lists the accreditations from
    ``did`` up to the root's (empty for no); ``evidence`` holds the log
    entries that prove the answer with inclusion proofs in one tree (the
    chain's entries for yes; for no, the revocations that ended matching
    accreditations before ``at``, if any); ``reason`` says why in words.
    ``code`` is ``accredited``, ``not_accredited``, or ``jurisdiction_mismatch``
    when a jurisdiction was asked and ``did`` held an accreditation for the
    type at ``at``, but only for a jurisdiction that does not cover it (the
    evidence then proves that accreditation's chain);
    ``jurisdiction`` is the one held (of ``chain[0]`` for yes), else ``None``.
    An answer is deliberately not a boolean: ask ``answer.ok``.
    """

    ok: bool
    did: str
    credential_type: str
    at: datetime
    chain: tuple[Accreditation, ...]
    evidence: tuple[EntryProof, ...]
    reason: str
    code: str = "not_accredited"
    jurisdiction: str | None = None

    def __bool__(self) -> bool:
        raise TypeError("an AccreditationAnswer is not a boolean: use .ok")

    @property
    def accredited(self) -> bool:
        """Deprecated spelling of :attr:`ok` (warns; goes in the next release)."""
        warn_renamed("AccreditationAnswer.accredited", "AccreditationAnswer.ok")
        return self.ok

    def verify(self, root: bytes | None = None) -> None:
        """Check every evidence proof against ``root`` (e.g. a checkpoint's).

        Raises :class:`~ledger.errors.ProofError` (``inclusion_invalid``).
        """
        for item in self.evidence:
            item.verify(root)


class _State:
    __slots__ = ("acc", "revoked")

    def __init__(self, acc: Accreditation) -> None:
        self.acc = acc
        self.revoked: tuple[int, int] | None = None  # (ms, index)

    def current(self) -> Accreditation:
        if self.revoked is None:
            return self.acc
        a = self.acc
        return Accreditation(
            a.id, a.accreditor, a.subject, a.types, a.jurisdiction, a.valid_from_ms,
            a.valid_until_ms, a.delegate, a.logged_ms, self.revoked[0], self.revoked[1],
        )  # fmt: skip


class TrustedIssuerRegistry:
    """Accreditations on a log, indexed in memory (see the module docstring).

    ``root`` is the root authority's DID. ``resolver`` resolves the DIDs of
    accreditors to check that the method named in an entry was authorised
    (``assertionMethod``) when the entry was made; it defaults to did:key and
    did:jwk only. ``follower`` shares one pass over the log with the other
    registries; ``clock`` (a callable returning an aware datetime) stamps the
    entries this object signs.
    """

    def __init__(
        self,
        log: Log,
        root: str,
        *,
        resolver: Resolver | None = None,
        follower: LogFollower | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._log = log
        self._root = _check_did(root, "root")
        self._resolver = resolver or local_resolver()
        self._follower = follower or LogFollower(log)
        self._clock = clock
        self._now_ms = ms_clock(clock)
        self._lock = threading.Lock()
        self._by_id: dict[int, _State] = {}
        self._by_subject: dict[str, list[_State]] = {}
        self._rejected: dict[int, SSIWalletError] = {}
        self._follower.subscribe(KIND_ACCREDIT, self._on_accredit)
        self._follower.subscribe(KIND_REVOKE, self._on_revoke)

    @property
    def root(self) -> str:
        """The root authority's DID."""
        return self._root

    # -- index ------------------------------------------------------------------------

    def _guard(self, entry: Entry, step: Callable[[Entry], Callable[[], None]]) -> None:
        try:
            commit = step(entry)
        except (RegistryRejected, RegistryError) as exc:
            self._rejected[entry.index] = exc
            return
        except SSIWalletError as exc:
            self._rejected[entry.index] = RegistryRejected("malformed", str(exc))
            return
        commit()

    def _on_accredit(self, entry: Entry) -> None:
        self._guard(entry, self._check_accredit)

    def _on_revoke(self, entry: Entry) -> None:
        self._guard(entry, self._check_revoke)

    def _check_accredit(self, entry: Entry) -> Callable[[], None]:
        """Validate an accreditation entry against the state before it; return its commit."""
        payload = decode_payload(entry.payload)
        if set(payload) != _ACCREDIT_KEYS or payload["v"] != 1:
            raise RegistryError(
                f"an accreditation has exactly the members {sorted(_ACCREDIT_KEYS)}"
            )
        subject = _check_did(payload["subject"], "subject")
        types = _check_types(payload["types"])
        if list(types) != payload["types"]:
            raise RegistryError("types must be sorted and unique")
        jurisdiction = _check_jurisdiction(payload["jurisdiction"])
        valid_from = _check_ms(payload["validFrom"], "validFrom")
        valid_until = payload["validUntil"]
        if valid_until is not None and _check_ms(valid_until, "validUntil") <= valid_from:
            raise RegistryError("validUntil must be after validFrom")
        if type(payload["delegate"]) is not bool:
            raise RegistryError("delegate must be a boolean")
        accreditor = authorise_vm(self._resolver, payload["vm"], "assertionMethod", entry)
        if accreditor == subject:
            raise RegistryRejected("not_authorised", "a DID cannot accredit itself")
        if accreditor != self._root:
            # The accreditor must itself be accredited, with delegation, for a
            # scope at least as wide, at the moment this entry was made.
            # Revocations count by position: a delegate revoked earlier in the log
            # accredits nobody, whatever time its entry claims.
            with self._lock:
                chain = self._chain(
                    accreditor, set(types), jurisdiction, entry.timestamp, True, unrevoked=True
                )
                ever = self._chain(
                    accreditor, set(types), jurisdiction, entry.timestamp, True, revocations=False
                )
                revoked = chain is None and ever is not None
            if revoked:
                raise RegistryRejected(
                    "delegate_revoked",
                    f"{accreditor[:100]}'s delegable accreditation was revoked earlier in the log",
                )
            if chain is None:
                raise RegistryRejected(
                    "scope_too_wide",
                    f"{accreditor[:100]} holds no delegable accreditation covering "
                    f"{list(types)} in {jurisdiction} at this time",
                )
        acc = Accreditation(
            entry.index, accreditor, subject, types, jurisdiction, valid_from, valid_until,
            payload["delegate"], entry.timestamp,
        )  # fmt: skip

        def commit() -> None:
            state = _State(acc)
            with self._lock:
                self._by_id[acc.id] = state
                self._by_subject.setdefault(subject, []).append(state)

        return commit

    def _check_revoke(self, entry: Entry) -> Callable[[], None]:
        payload = decode_payload(entry.payload)
        if set(payload) != {"v", "accreditation", "vm"} or payload["v"] != 1:
            raise RegistryError("a revocation has exactly the members v, accreditation, vm")
        target = payload["accreditation"]
        with self._lock:
            state = self._by_id.get(target) if type(target) is int else None
        if state is None:
            raise RegistryRejected("unknown_accreditation", f"no accreditation {target!r}")
        revoker = authorise_vm(self._resolver, payload["vm"], "assertionMethod", entry)
        if revoker not in (state.acc.accreditor, self._root):
            raise RegistryRejected(
                "not_authorised", "only the accreditor or the root may revoke an accreditation"
            )
        if state.revoked is not None:
            raise RegistryRejected("already_revoked", f"accreditation {target} is revoked")

        def commit() -> None:
            with self._lock:
                state.revoked = (entry.timestamp, entry.index)

        return commit

    def _chain(
        self, subject: str, types: set[str], jurisdiction: str | None, at: int, delegating: bool,
        depth: int = 0, visited: frozenset[str] = frozenset(), unrevoked: bool = False,
        revocations: bool = True,
    ) -> list[Accreditation] | None:  # fmt: skip
        """The first chain from ``subject`` to the root covering the scope at ``at`` (lock held);
        ``unrevoked`` skips every accreditation revoked so far in the log, whenever;
        ``revocations=False`` reads every accreditation as never revoked."""
        if depth >= MAX_CHAIN_DEPTH:
            return None
        for state in reversed(self._by_subject.get(subject, [])):
            if unrevoked and state.revoked is not None:
                continue
            acc = state.current() if revocations else state.acc
            if not acc.in_force(at) or not types <= set(acc.types):
                continue
            if jurisdiction is not None and not covers_jurisdiction(acc.jurisdiction, jurisdiction):
                continue
            if delegating and not acc.delegate:
                continue
            if acc.accreditor == self._root:
                return [acc]
            if acc.accreditor in visited or acc.accreditor == subject:
                continue
            above = self._chain(
                acc.accreditor, set(acc.types), acc.jurisdiction, at, True, depth + 1,
                visited | {subject}, unrevoked, revocations,
            )  # fmt: skip
            if above is not None:
                return [acc, *above]
        return None

    def rejection(self, index: int) -> SSIWalletError | None:
        """Why the registry entry at log ``index`` was ignored, or ``None`` (``duplicate_entry``
        and ``backdated`` come from the :class:`~ledger.registry.LogFollower`)."""
        self._follower.catch_up()
        return self._rejected.get(index) or self._follower.rejection(index)

    # -- operations -------------------------------------------------------------------

    def _submit(self, draft: SignedDraft, check: Callable[[Entry], Callable[[], None]]) -> Entry:
        # Run the index's own checks on the draft as if appended next, so a
        # refused operation writes nothing; then append and re-check what the
        # index made of it (a concurrent entry may have changed the answer).
        self._follower.catch_up()
        check(Entry.from_draft(draft, index=self._log.size, prev_hash=GENESIS_PREV_HASH))
        entry = self._log.append(draft)
        problem = self.rejection(entry.index)
        if problem is not None:
            raise problem
        return entry

    def accredit(
        self,
        subject: str,
        *,
        types: Iterable[str],
        jurisdiction: str,
        by: PrivateKey | Signer,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        delegate: bool = False,
    ) -> Accreditation:
        """Accredit ``subject`` for ``types`` in ``jurisdiction``; return the accreditation.

        ``by`` is the accreditor: the root, or an accredited body allowed to
        delegate (a bare key acts as its ``did:key``). ``valid_from``
        defaults to now. Raises :class:`RegistryError` for malformed input
        and :class:`RegistryRejected` (``not_authorised``, ``scope_too_wide``,
        ``key_mismatch``) when the accreditor may not do this; nothing is
        appended then.
        """
        signer = as_signer(by)
        now = self._now_ms()
        payload = {
            "v": 1,
            "subject": _check_did(subject, "subject"),
            "types": list(_check_types(list(types))),
            "jurisdiction": _check_jurisdiction(jurisdiction),
            "validFrom": now if valid_from is None else to_ms(valid_from),
            "validUntil": None if valid_until is None else to_ms(valid_until),
            "delegate": bool(delegate),
        }
        draft = signer.sign(KIND_ACCREDIT, payload, now=lambda: from_unix_ms(now))
        entry = self._submit(draft, self._check_accredit)
        return self.get(entry.index)

    def revoke(
        self, accreditation: int | Accreditation, *, by: PrivateKey | Signer
    ) -> Accreditation:
        """Revoke an accreditation (by id or object) from now on; return it, revoked.

        Only its accreditor or the root may. Raises :class:`RegistryRejected`
        (``unknown_accreditation``, ``not_authorised``, ``already_revoked``).
        """
        target = accreditation.id if isinstance(accreditation, Accreditation) else accreditation
        signer = as_signer(by)
        draft = signer.sign(KIND_REVOKE, {"v": 1, "accreditation": target}, now=self._clock)
        self._submit(draft, self._check_revoke)
        return self.get(target)

    # -- queries ----------------------------------------------------------------------

    def get(self, accreditation_id: int) -> Accreditation:
        """The accreditation with this id; raise ``RegistryRejected('unknown_accreditation')``."""
        self._follower.catch_up()
        with self._lock:
            state = self._by_id.get(accreditation_id)
            if state is None:
                raise RegistryRejected(
                    "unknown_accreditation", f"no accreditation {accreditation_id!r}"
                )
            return state.current()

    def accreditations(self, subject: str) -> tuple[Accreditation, ...]:
        """Every accreditation ever made for ``subject``, oldest first."""
        self._follower.catch_up()
        with self._lock:
            return tuple(s.current() for s in self._by_subject.get(subject, []))

    def was_accredited(
        self,
        did: str,
        credential_type: str,
        at: datetime,
        *,
        jurisdiction: str | None = None,
        evidence: bool = True,
    ) -> AccreditationAnswer:
        """Was ``did`` accredited for ``credential_type`` (in ``jurisdiction``, if given) at ``at``?

        Answers from the log as it stands: a revocation logged after ``at``
        does not change the answer, one logged at or before ``at`` does.
        ``jurisdiction`` is where the credential was issued (its issuing
        state): an accreditation counts only if its jurisdiction covers it
        (:func:`covers_jurisdiction`); when one for another jurisdiction was
        in force, the answer's ``code`` is ``jurisdiction_mismatch``.
        ``evidence=False`` skips building the inclusion proofs (a verifier's
        hot path); the answer then carries none.
        Raises :class:`RegistryError` for a naive ``at`` or a malformed type
        or jurisdiction.
        """
        at_ms = to_ms(at)
        (ctype,) = _check_types([credential_type])
        if jurisdiction is not None:
            _check_jurisdiction(jurisdiction)
        self._follower.catch_up()
        with self._lock:
            chain = self._chain(did, {ctype}, jurisdiction, at_ms, False)
            elsewhere = None
            if chain is None and jurisdiction is not None:
                elsewhere = self._chain(did, {ctype}, None, at_ms, False)
            matching = [
                s.current()
                for s in self._by_subject.get(did, [])
                if ctype in s.acc.types and s.revoked is not None and s.revoked[0] <= at_ms
            ]
        if chain is not None:
            proofs = prove_entries(self._log, [a.id for a in chain]) if evidence else ()
            path = " <- ".join(a.accreditor for a in chain)
            reason = f"{did} was accredited for {ctype} through {path}"
            return AccreditationAnswer(
                True, did, ctype, at, tuple(chain), proofs, reason, "accredited",
                chain[0].jurisdiction,
            )  # fmt: skip
        if elsewhere is not None:
            held = elsewhere[0].jurisdiction
            reason = (
                f"{did} was accredited for {ctype} in {held}, which does not cover {jurisdiction}"
            )
            proofs = prove_entries(self._log, [a.id for a in elsewhere]) if evidence else ()
            return AccreditationAnswer(
                False, did, ctype, at, (), proofs, reason, "jurisdiction_mismatch", held
            )
        revocations = [a.revocation_index for a in matching if a.revocation_index is not None]
        proofs = (
            prove_entries(self._log, [a.id for a in matching] + revocations) if evidence else ()
        )
        reason = f"{did} was not accredited for {ctype} at {at.isoformat()}" + (
            " (revoked before then)" if matching else ""
        )
        return AccreditationAnswer(False, did, ctype, at, (), proofs, reason)
