"""Status-list anchoring: the digest of every published status list credential, on the log.

An issuer that publishes a Bitstring Status List credential at a URL logs a
``status.anchor`` entry::

    {"v": 1, "url": "https://...", "digest": SHA-256 of the credential bytes, "vm": issuer's method}

Only the digest is logged: never the list, and nothing about any person (a
status list holds none anyway). A verifier that fetched the list checks with
:meth:`StatusListRegistry.check_status_list_current` that the bytes it holds
are the ones most recently anchored, so an issuer (or a man in the middle)
cannot show one verifier a list different from everyone else's without the
log recording it.

The first anchor of a URL binds it to its issuer's DID; anchors of that URL
by any other DID are ignored. The signing method must be authorised
(``assertionMethod``) by the issuer when the entry is made, and anchors of a
URL must be logged in time order.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from did_methods._wire.dates import Clock, from_unix_ms, system_clock
from did_methods.errors import SSIWalletError, VerificationError
from did_methods.keys import PrivateKey
from did_methods.resolver import Resolver
from ledger.entry import GENESIS_PREV_HASH, HASH_SIZE, Entry, SignedDraft, ms_clock
from ledger.log import BeforeCommit, Log
from ledger.registry._common import (
    EntryProof,
    LogFollower,
    Signer,
    as_signer,
    authorise_vm,
    decode_payload,
    digest,
    from_ms,
    local_resolver,
    prove_entries,
    to_ms,
)
from ledger.registry.errors import RegistryError, RegistryRejected

__all__ = ["KIND_ANCHOR", "MAX_URL_LENGTH", "StatusAnchor", "StatusListRegistry"]

KIND_ANCHOR = "status.anchor"
#: Longest status list URL accepted.
MAX_URL_LENGTH = 2048

_URL_RE = re.compile(r"https?://[\x21-\x7e]+")
# Times one anchor is signed anew (a millisecond later) to differ from an earlier entry.
_MAX_RESIGN = 64


def _check_url(url: object) -> str:
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or not _URL_RE.fullmatch(url):
        raise RegistryError(
            f"a status list URL is an http(s) URL of at most {MAX_URL_LENGTH} chars"
        )
    return url


@dataclass(frozen=True, slots=True)
class StatusAnchor:
    """One anchored status list: ``url``, SHA-256 ``digest``, ``issuer`` DID, when
    (``time_ms``, the entry's Unix ms timestamp) and where (log ``index``)."""

    url: str
    digest: bytes
    issuer: str
    time_ms: int
    index: int

    @property
    def time(self) -> datetime:
        """When the anchor was logged (aware UTC)."""
        return from_ms(self.time_ms)


class _Anchors:
    __slots__ = ("issuer", "items", "times")

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.items: list[StatusAnchor] = []
        self.times: list[int] = []


class StatusListRegistry:
    """Anchored status-list digests on a log, indexed in memory by URL.

    ``resolver`` checks the issuers' methods (default: did:key and did:jwk);
    ``follower`` shares one pass over the log with other registries;
    ``clock`` (a callable returning an aware datetime) stamps the entries this
    object signs.
    """

    def __init__(
        self,
        log: Log,
        *,
        resolver: Resolver | None = None,
        follower: LogFollower | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._log = log
        self._resolver = resolver or local_resolver()
        self._follower = follower or LogFollower(log)
        self._clock = ms_clock(clock)
        self._lock = threading.Lock()
        self._urls: dict[str, _Anchors] = {}
        self._rejected: dict[int, SSIWalletError] = {}
        self._follower.subscribe(KIND_ANCHOR, self._on_anchor)

    def _on_anchor(self, entry: Entry) -> None:
        try:
            anchor = self._check(entry)
        except (RegistryRejected, RegistryError) as exc:
            self._rejected[entry.index] = exc
            return
        except SSIWalletError as exc:
            self._rejected[entry.index] = RegistryRejected("malformed", str(exc))
            return
        with self._lock:
            anchors = self._urls.setdefault(anchor.url, _Anchors(anchor.issuer))
            anchors.items.append(anchor)
            anchors.times.append(anchor.time_ms)

    def _check(self, entry: Entry) -> StatusAnchor:
        payload = decode_payload(entry.payload)
        if set(payload) != {"v", "url", "digest", "vm"} or payload["v"] != 1:
            raise RegistryError("an anchor has exactly the members v, url, digest, vm")
        url = _check_url(payload["url"])
        value = payload["digest"]
        if type(value) is not bytes or len(value) != HASH_SIZE:
            raise RegistryError("digest must be the 32 bytes of a SHA-256 hash")
        issuer = authorise_vm(self._resolver, payload["vm"], "assertionMethod", entry)
        with self._lock:
            anchors = self._urls.get(url)
            if anchors is not None:
                if anchors.issuer != issuer:
                    raise RegistryRejected(
                        "issuer_mismatch", f"{url[:100]} is anchored by {anchors.issuer[:100]}"
                    )
                if entry.timestamp < anchors.times[-1]:
                    raise RegistryRejected("time_order", "an anchor cannot predate the last one")
        return StatusAnchor(url, value, issuer, entry.timestamp, entry.index)

    def _same_anchor(self, url: str, draft: SignedDraft) -> StatusAnchor | None:
        # The anchor that this very draft (same list, digest, signer and time) made, if any.
        identity = draft.identity()
        with self._lock:
            anchors = self._urls.get(url)
            if anchors is None:
                return None
            first = bisect_left(anchors.times, draft.timestamp)
            last = bisect_right(anchors.times, draft.timestamp)
            candidates = anchors.items[first:last]
        for anchor in candidates:
            if self._log.get(anchor.index).identity() == identity:
                return anchor
        return None

    def _draft(self, actor: Signer, url: str, value: bytes, now: int) -> SignedDraft:
        """The anchor entry to append for ``url`` at ``now``.

        A log holds each signed statement once: the same list, digest, signer
        and time anchored again (a list back at an earlier state, or published
        twice, within one clock tick) is signed anew one millisecond after the
        latest anchor of ``url``, never by repeating the earlier entry.
        """
        payload = {"v": 1, "url": url, "digest": value}
        at = now
        for _ in range(_MAX_RESIGN):
            draft = actor.sign(KIND_ANCHOR, payload, now=lambda at=at: from_unix_ms(at))  # type: ignore[misc]
            if self._same_anchor(url, draft) is None:
                return draft
            with self._lock:
                at = max(at, self._urls[url].items[-1].time_ms) + 1
        raise RegistryError(f"{url[:100]} was anchored too often within one instant")

    def rejection(self, index: int) -> SSIWalletError | None:
        """Why the anchor entry at log ``index`` was ignored, or ``None``."""
        self._follower.catch_up()
        return self._rejected.get(index) or self._follower.rejection(index)

    def anchor_status_list(
        self,
        url: str,
        credential: bytes | str | None = None,
        *,
        issuer: str,
        signer: PrivateKey | Signer,
        digest_value: bytes | None = None,
    ) -> StatusAnchor:
        """Log the SHA-256 digest of the status list credential published at ``url``.

        Give the credential as published (``bytes``, or ``str`` for a JWT,
        hashed as UTF-8) or its ``digest_value`` (32 bytes), not both.
        ``signer`` must hold an ``assertionMethod`` key of ``issuer`` (a bare
        key acts as its ``did:key``). Raises :class:`RegistryError` for
        malformed input and :class:`RegistryRejected` (``not_authorised``,
        ``issuer_mismatch``, ``key_mismatch``); nothing is appended then.
        """
        if (credential is None) == (digest_value is None):
            raise RegistryError("give the credential or its digest, exactly one")
        if credential is not None:
            data = credential.encode("utf-8") if isinstance(credential, str) else credential
            if not isinstance(data, bytes):
                raise RegistryError("the credential must be bytes or text")
            value = digest(data)
        else:
            if type(digest_value) is not bytes or len(digest_value) != HASH_SIZE:
                raise RegistryError("digest_value must be 32 bytes (SHA-256)")
            value = digest_value
        actor = as_signer(signer)
        if actor.did != issuer:
            raise RegistryRejected("not_authorised", f"{actor.method} is not a method of {issuer}")
        return self._append(actor, [(_check_url(url), value)], None)[0]

    def _append(
        self, actor: Signer, lists: list[tuple[str, bytes]], before_commit: BeforeCommit | None
    ) -> list[StatusAnchor]:
        self._follower.catch_up()
        now = self._clock()
        drafts = [self._draft(actor, url, value, now) for url, value in lists]
        # Check each draft as the follower will, so a refused anchor appends nothing.
        for draft in drafts:
            self._check(Entry.from_draft(draft, index=self._log.size, prev_hash=GENESIS_PREV_HASH))
        entries = self._log.append_batch(drafts, before_commit=before_commit)
        for entry in entries:
            problem = self.rejection(entry.index)
            if problem is not None:
                raise problem
        with self._lock:
            return [self._urls[url].items[-1] for url, _ in lists]

    def anchor_status_lists(
        self,
        lists: Sequence[tuple[str, bytes | str]],
        *,
        issuer: str,
        signer: PrivateKey | Signer,
        before_commit: BeforeCommit | None = None,
    ) -> list[StatusAnchor]:
        """Log the digests of several status list credentials in ONE append (one transaction).

        ``lists`` holds ``(url, credential as published)`` pairs with distinct
        URLs; each gets its own ``status.anchor`` entry, so verifiers read them
        exactly as those of :meth:`anchor_status_list`, but the batch costs one
        transaction (one fsync) however many lists it holds. ``before_commit``
        runs inside that transaction (see :meth:`ledger.log.Log.append_batch`):
        an issuer's own rows commit with the anchors or not at all. Raises as
        :meth:`anchor_status_list` (``RegistryError`` also for repeated URLs);
        nothing is appended then.
        """
        actor = as_signer(signer)
        if actor.did != issuer:
            raise RegistryRejected("not_authorised", f"{actor.method} is not a method of {issuer}")
        urls = [_check_url(url) for url, _ in lists]
        if len(set(urls)) != len(urls):
            raise RegistryError("each status list URL appears once in a batch")
        values: list[tuple[str, bytes]] = []
        for url, (_, credential) in zip(urls, lists, strict=True):
            data = credential.encode("utf-8") if isinstance(credential, str) else credential
            if not isinstance(data, bytes):
                raise RegistryError("the credential must be bytes or text")
            values.append((url, digest(data)))
        if not values:
            return []
        return self._append(actor, values, before_commit)

    def current(self, url: str, at: datetime | None = None) -> StatusAnchor | None:
        """The anchor of ``url`` in force at ``at`` (default: the latest), or ``None``."""
        _check_url(url)
        at_ms = None if at is None else to_ms(at)
        self._follower.catch_up()
        with self._lock:
            anchors = self._urls.get(url)
            if anchors is None:
                return None
            if at_ms is None:
                return anchors.items[-1]
            position = bisect_right(anchors.times, at_ms)
            return anchors.items[position - 1] if position else None

    def current_status_list_digest(self, url: str, at: datetime | None = None) -> bytes | None:
        """The SHA-256 digest anchored for ``url`` at ``at`` (default: latest), or ``None``."""
        anchor = self.current(url, at)
        return None if anchor is None else anchor.digest

    def check_status_list_current(
        self, url: str, credential: bytes | str, *, at: datetime | None = None
    ) -> StatusAnchor:
        """Check that ``credential`` is the status list anchored for ``url`` (at ``at``).

        Returns the matching anchor. Raises
        :class:`~did_methods.errors.VerificationError` with code
        ``status_list_unknown`` (nothing anchored for ``url``) or
        ``status_list_not_current`` (the bytes differ from the anchored digest).
        """
        data = credential.encode("utf-8") if isinstance(credential, str) else credential
        if not isinstance(data, bytes):
            raise RegistryError("the credential must be bytes or text")
        anchor = self.current(url, at)
        if anchor is None:
            raise VerificationError("status_list_unknown", f"no status list anchored for {url}")
        if digest(data) != anchor.digest:
            raise VerificationError(
                "status_list_not_current",
                f"this is not the status list anchored for {url} at log index {anchor.index}",
            )
        return anchor

    def history(self, url: str) -> tuple[StatusAnchor, ...]:
        """Every anchor of ``url``, oldest first."""
        _check_url(url)
        self._follower.catch_up()
        with self._lock:
            anchors = self._urls.get(url)
            return () if anchors is None else tuple(anchors.items)

    def prove(self, anchor: StatusAnchor) -> EntryProof:
        """The anchor's entry with its inclusion proof in the current tree."""
        return prove_entries(self._log, [anchor.index])[0]
