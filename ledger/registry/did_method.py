"""The ``did:ledger`` DID method: DIDs whose whole history is a chain of log entries.

The specification is ``docs/did-ledger-method.md``; in short:

* **create** logs a ``did-ledger.create`` entry holding the initial document
  *template* (Multikey verification methods, relationships and services with
  relative ``#fragment`` ids), a random nonce and the fragment of the key that
  signed it. The DID is ``did:ledger:<base58btc(SHA-256(payload))>``, so it
  cannot be chosen, and the signing key must be a ``capabilityInvocation``
  method of the template (it proves control of the DID's first key).
* **update** logs a ``did-ledger.update`` entry with the DID, the version it
  replaces (``prev`` and the SHA-256 ``prevDigest`` of that version's payload),
  the new template, and the signing method, which must be listed under
  ``capabilityInvocation`` in the version it replaces. Anything else is
  ignored by every reader of the log.
* **deactivate** (``did-ledger.deactivate``) is authorised the same way and
  ends the DID: later updates are ignored.

Resolution (:meth:`LedgerMethod.resolve`, plugged into a
:class:`did_methods.resolver.Resolver`) answers from an in-memory index of
every DID's versions, built once from the log when the method is first used
and extended with new entries on each call (see
:class:`ledger.registry.LogFollower`); a lookup is a dictionary access and a
binary search over that DID's versions.
"""

from __future__ import annotations

import os
import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from did_methods._wire.dates import Clock, system_clock
from did_methods.did import DID
from did_methods.document import DID_CONTEXT_V1_1, MULTIKEY_CONTEXT, PROOF_PURPOSES, DIDDocument
from did_methods.encoding import base58btc_encode
from did_methods.errors import ResolutionError, SSIWalletError
from did_methods.keys import PrivateKey, PublicKey
from did_methods.resolver import ResolutionResult
from ledger.entry import Entry, EntryDraft
from ledger.log import Log
from ledger.registry._common import (
    EntryProof,
    LogFollower,
    Signer,
    check_vm_key,
    decode_payload,
    digest,
    encode_payload,
    from_ms,
    parse_rfc3339,
    prove_entries,
    rfc3339,
    submitter_key,
    to_ms,
)
from ledger.registry.errors import RegistryError, RegistryRejected

__all__ = [
    "KIND_CREATE",
    "KIND_DEACTIVATE",
    "KIND_UPDATE",
    "DIDVersion",
    "LedgerMethod",
    "check_template",
    "default_template",
]

KIND_CREATE = "did-ledger.create"
KIND_UPDATE = "did-ledger.update"
KIND_DEACTIVATE = "did-ledger.deactivate"

_PREFIX = "did:ledger:"
_FRAGMENT_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_MSID_RE = re.compile(r"[1-9A-HJ-NP-Za-km-z]{40,50}")
_MAX_METHODS = 32
_MAX_SERVICES = 32
_MAX_SERVICE_TEXT = 2048
_NONCE_SIZE = 16
_TEMPLATE_KEYS = frozenset(("verificationMethod", "service", *PROOF_PURPOSES))


# -- document templates -------------------------------------------------------------


def default_template(
    key: PublicKey, *, fragment: str = "key-1", services: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A template with one Multikey method used for every relationship but key agreement.

    ``services`` are service objects with relative ids (``"#hub"``). Raises
    :class:`RegistryError` for a bad fragment or service.
    """
    ref = f"#{fragment}"
    template: dict[str, Any] = {
        "verificationMethod": [
            {"id": ref, "type": "Multikey", "publicKeyMultibase": key.to_multikey()}
        ],
        "authentication": [ref],
        "assertionMethod": [ref],
        "capabilityInvocation": [ref],
        "capabilityDelegation": [ref],
    }
    service_list = [dict(s) for s in services]
    if service_list:
        template["service"] = service_list
    return check_template(template)


def _fragment(ref: object, where: str) -> str:
    if not isinstance(ref, str) or not ref.startswith("#") or not _FRAGMENT_RE.fullmatch(ref[1:]):
        raise RegistryError(f"{where} must be a relative id '#fragment' ([A-Za-z0-9._-]{{1,64}})")
    return ref


def check_template(template: object) -> dict[str, Any]:
    """Validate a document template and return a plain copy; raise :class:`RegistryError`.

    A template has only ``verificationMethod`` (Multikey objects with ``id``,
    ``type`` and ``publicKeyMultibase``), the five relationships (lists of
    ``#fragment`` references to those methods), and ``service`` (objects with
    ``id``, ``type``, ``serviceEndpoint``). At least one method must be
    listed under ``capabilityInvocation``.
    """
    if not isinstance(template, Mapping):
        raise RegistryError("a DID document template must be a map")
    unknown = set(template) - _TEMPLATE_KEYS
    if unknown:
        raise RegistryError(f"a template may not hold {sorted(unknown)!r}")
    out: dict[str, Any] = {}
    vms = template.get("verificationMethod", [])
    if not isinstance(vms, list) or not 0 < len(vms) <= _MAX_METHODS:
        raise RegistryError(f"verificationMethod must list 1 to {_MAX_METHODS} methods")
    ids: list[str] = []
    clean_vms: list[dict[str, Any]] = []
    for vm in vms:
        if not isinstance(vm, Mapping) or set(vm) != {"id", "type", "publicKeyMultibase"}:
            raise RegistryError("a method must have exactly id, type and publicKeyMultibase")
        ids.append(_fragment(vm["id"], "verificationMethod.id"))
        if vm["type"] != "Multikey":
            raise RegistryError("verification methods must be of type Multikey")
        try:
            PublicKey.from_multikey(vm["publicKeyMultibase"])
        except SSIWalletError as exc:
            raise RegistryError(f"{vm['id']}: not a supported Multikey: {exc}") from exc
        clean_vms.append(
            {"id": vm["id"], "type": "Multikey", "publicKeyMultibase": vm["publicKeyMultibase"]}
        )
    if len(set(ids)) != len(ids):
        raise RegistryError("verification method ids must be unique")
    out["verificationMethod"] = clean_vms
    for purpose in PROOF_PURPOSES:
        if purpose not in template:
            continue
        refs = template[purpose]
        if not isinstance(refs, list) or len(refs) > _MAX_METHODS:
            raise RegistryError(f"{purpose} must be a list of at most {_MAX_METHODS} references")
        for ref in refs:
            if _fragment(ref, purpose) not in ids:
                raise RegistryError(f"{purpose} names {ref!r}, which is not a method here")
        if len(set(refs)) != len(refs):
            raise RegistryError(f"{purpose} lists a method twice")
        if refs:
            out[purpose] = list(refs)
    if not out.get("capabilityInvocation"):
        raise RegistryError("at least one method must be listed under capabilityInvocation")
    services = template.get("service", [])
    if not isinstance(services, list) or len(services) > _MAX_SERVICES:
        raise RegistryError(f"service must be a list of at most {_MAX_SERVICES} services")
    service_ids: list[str] = []
    clean_services: list[dict[str, Any]] = []
    for service in services:
        if not isinstance(service, Mapping) or set(service) != {"id", "type", "serviceEndpoint"}:
            raise RegistryError("a service must have exactly id, type and serviceEndpoint")
        service_ids.append(_fragment(service["id"], "service.id"))
        stype, endpoint = service["type"], service["serviceEndpoint"]
        if not (isinstance(stype, str) and 0 < len(stype) <= 128):
            raise RegistryError("service.type must be a string of 1 to 128 characters")
        if not (isinstance(endpoint, str) and 0 < len(endpoint) <= _MAX_SERVICE_TEXT):
            raise RegistryError("service.serviceEndpoint must be a URL string")
        clean_services.append({"id": service["id"], "type": stype, "serviceEndpoint": endpoint})
    if len(set(service_ids) | set(ids)) != len(service_ids) + len(ids):
        raise RegistryError("service and method ids must be unique")
    if clean_services:
        out["service"] = clean_services
    return out


def _materialise(did: str, template: Mapping[str, Any]) -> DIDDocument:
    data: dict[str, Any] = {"@context": [DID_CONTEXT_V1_1, MULTIKEY_CONTEXT], "id": did}
    data["verificationMethod"] = [
        {
            "id": did + vm["id"],
            "type": vm["type"],
            "controller": did,
            "publicKeyMultibase": vm["publicKeyMultibase"],
        }
        for vm in template["verificationMethod"]
    ]
    for purpose in PROOF_PURPOSES:
        if purpose in template:
            data[purpose] = [did + ref for ref in template[purpose]]
    if "service" in template:
        data["service"] = [{**s, "id": did + s["id"]} for s in template["service"]]
    return DIDDocument.from_json(data)


def _template_key(template: Mapping[str, Any], ref: str, purpose: str) -> PublicKey:
    """The key of method ``ref`` if it is listed under ``purpose``; else ``not_authorised``."""
    if ref not in template.get(purpose, ()):
        raise RegistryRejected("not_authorised", f"{ref} is not listed under {purpose}")
    for vm in template["verificationMethod"]:
        if vm["id"] == ref:
            return PublicKey.from_multikey(vm["publicKeyMultibase"])
    raise RegistryRejected("not_authorised", f"{ref} is not a method of the document")


def _holds(template: Mapping[str, Any], ref: str, key: PublicKey) -> bool:
    """Whether method ``ref`` of ``template`` is ``key`` and may invoke capabilities."""
    try:
        return _template_key(template, ref, "capabilityInvocation") == key
    except SSIWalletError:
        return False


# -- versions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DIDVersion:
    """One version of a ``did:ledger`` DID: what entry ``index`` of the log made it.

    ``number`` counts from 1 (the create operation); ``version_id`` is its
    decimal text. ``time_ms`` is the entry's timestamp (Unix ms), from which
    the version is in force until the next one. A deactivation is a version
    too (same template, ``deactivated`` true).
    """

    did: str
    number: int
    time_ms: int
    index: int
    template: Mapping[str, Any] = field(repr=False)
    digest: bytes = field(repr=False)
    deactivated: bool = False

    @property
    def version_id(self) -> str:
        """The DID Resolution ``versionId``."""
        return str(self.number)

    @property
    def time(self) -> datetime:
        """When this version came into force (aware UTC datetime)."""
        return from_ms(self.time_ms)

    def document(self) -> DIDDocument:
        """The DID document of this version."""
        return _materialise(self.did, self.template)


class _Record:
    __slots__ = ("indices", "times", "versions")

    def __init__(self) -> None:
        self.versions: list[DIDVersion] = []
        self.times: list[int] = []
        self.indices: list[int] = []


# -- the method -----------------------------------------------------------------------


class LedgerMethod:
    """The ``did:ledger`` method over a log: operations, index and resolution.

    ``follower`` shares one pass over the log with the other registries
    (default: a private one). ``clock`` (a callable returning an aware
    datetime) stamps the entries this object signs; ``randbytes`` makes
    create nonces. Plug it into a resolver with
    ``resolver.register(LedgerMethod(log))``.
    """

    name = "ledger"

    def __init__(
        self,
        log: Log,
        *,
        follower: LogFollower | None = None,
        clock: Clock = system_clock,
        randbytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._log = log
        self._follower = follower or LogFollower(log)
        self._clock = clock
        self._randbytes = randbytes
        self._lock = threading.Lock()
        self._dids: dict[str, _Record] = {}
        self._rejected: dict[int, RegistryRejected | RegistryError] = {}
        self._follower.subscribe(KIND_CREATE, self._on_create)
        self._follower.subscribe(KIND_UPDATE, self._on_update)
        self._follower.subscribe(KIND_DEACTIVATE, self._on_deactivate)

    # -- index ------------------------------------------------------------------------

    def _guard(self, entry: Entry, apply: Callable[[Entry, dict[str, Any]], None]) -> None:
        # Entries that break a rule are recorded and ignored, never fatal:
        # anyone may append to the log, and one bad entry must not stop the index.
        try:
            apply(entry, decode_payload(entry.payload))
        except (RegistryRejected, RegistryError) as exc:
            self._rejected[entry.index] = exc
        except SSIWalletError as exc:
            self._rejected[entry.index] = RegistryRejected("malformed", str(exc))

    def _on_create(self, entry: Entry) -> None:
        self._guard(entry, self._apply_create)

    def _on_update(self, entry: Entry) -> None:
        self._guard(entry, self._apply_update)

    def _on_deactivate(self, entry: Entry) -> None:
        self._guard(entry, self._apply_deactivate)

    def _apply_create(self, entry: Entry, payload: dict[str, Any]) -> None:
        if set(payload) != {"v", "document", "nonce", "vm"} or payload["v"] != 1:
            raise RegistryError("a create payload has exactly v=1, document, nonce and vm")
        if type(payload["nonce"]) is not bytes or len(payload["nonce"]) != _NONCE_SIZE:
            raise RegistryError(f"nonce must be {_NONCE_SIZE} bytes")
        template = check_template(payload["document"])
        if template != payload["document"]:
            raise RegistryError("the template is not in normal form")
        ref = _fragment(payload["vm"], "vm")
        check_vm_key(_template_key(template, ref, "capabilityInvocation"), entry)
        did = _PREFIX + base58btc_encode(digest(entry.payload))
        with self._lock:
            if did in self._dids:
                raise RegistryRejected("stale_version", f"{did} exists already")
            record = _Record()
            self._add(
                record,
                DIDVersion(did, 1, entry.timestamp, entry.index, template, digest(entry.payload)),
            )
            self._dids[did] = record

    def _current(self, entry: Entry, payload: Mapping[str, Any]) -> tuple[_Record, DIDVersion]:
        did = payload["did"]
        record = self._dids.get(did) if isinstance(did, str) else None
        if record is None:
            raise RegistryRejected("unknown_did", f"no DID {str(did)[:100]!r} in this log")
        latest = record.versions[-1]
        if latest.deactivated:
            raise RegistryRejected("deactivated", f"{did} is deactivated")
        if payload["prev"] != latest.version_id or payload["prevDigest"] != latest.digest:
            raise RegistryRejected(
                "stale_version", f"the update does not replace version {latest.version_id} of {did}"
            )
        if entry.timestamp < latest.time_ms:
            raise RegistryRejected("time_order", "an update cannot predate the version it replaces")
        vm = payload["vm"]
        if not isinstance(vm, str) or not vm.startswith(did + "#"):
            raise RegistryRejected("not_authorised", "vm must be a method of the DID itself")
        ref = _fragment(vm[len(did) :], "vm")
        try:
            check_vm_key(_template_key(latest.template, ref, "capabilityInvocation"), entry)
        except RegistryRejected:
            # What an earlier version's key signs after its rotation (by log order)
            # has no effect; say so rather than "not authorised".
            if any(_holds(v.template, ref, submitter_key(entry)) for v in record.versions[:-1]):
                raise RegistryRejected(
                    "key_rotated_out",
                    f"{vm[:100]} was rotated out of {did} before entry {entry.index}",
                ) from None
            raise
        return record, latest

    def _apply_update(self, entry: Entry, payload: dict[str, Any]) -> None:
        if (
            set(payload) != {"v", "did", "prev", "prevDigest", "document", "vm"}
            or payload["v"] != 1
        ):
            raise RegistryError(
                "an update payload has exactly v=1, did, prev, prevDigest, document and vm"
            )
        template = check_template(payload["document"])
        if template != payload["document"]:
            raise RegistryError("the template is not in normal form")
        with self._lock:
            record, latest = self._current(entry, payload)
            self._add(
                record,
                DIDVersion(
                    latest.did,
                    latest.number + 1,
                    entry.timestamp,
                    entry.index,
                    template,
                    digest(entry.payload),
                ),
            )

    def _apply_deactivate(self, entry: Entry, payload: dict[str, Any]) -> None:
        if set(payload) != {"v", "did", "prev", "prevDigest", "vm"} or payload["v"] != 1:
            raise RegistryError(
                "a deactivate payload has exactly v=1, did, prev, prevDigest and vm"
            )
        with self._lock:
            record, latest = self._current(entry, payload)
            self._add(
                record,
                DIDVersion(
                    latest.did,
                    latest.number + 1,
                    entry.timestamp,
                    entry.index,
                    latest.template,
                    digest(entry.payload),
                    deactivated=True,
                ),
            )

    @staticmethod
    def _add(record: _Record, version: DIDVersion) -> None:
        record.versions.append(version)
        record.times.append(version.time_ms)
        record.indices.append(version.index)

    def rejection(self, index: int) -> RegistryRejected | RegistryError | None:
        """Why the DID entry at log ``index`` was ignored, or ``None`` if it was not
        (``duplicate_entry`` and ``backdated`` come from the :class:`LogFollower`)."""
        self._follower.catch_up()
        return self._rejected.get(index) or self._follower.rejection(index)

    # -- operations -------------------------------------------------------------------

    def _append(self, draft: Any) -> Entry:
        entry = self._log.append(draft)
        problem = self.rejection(entry.index)
        if problem is not None:
            raise problem
        return entry

    def create(
        self,
        key: PrivateKey,
        *,
        template: Mapping[str, Any] | None = None,
        signing_fragment: str = "key-1",
        services: Iterable[Mapping[str, Any]] = (),
    ) -> DIDVersion:
        """Create a DID controlled by ``key`` and return its first version.

        ``template`` defaults to :func:`default_template` of ``key`` (with
        ``services``); ``key`` must be the method ``#signing_fragment`` of the
        template and be listed under ``capabilityInvocation``. Raises
        :class:`RegistryError` for a bad template and
        :class:`RegistryRejected` when ``key`` does not control it.
        """
        if template is None:
            template = default_template(
                key.public_key, fragment=signing_fragment, services=services
            )
        clean = check_template(template)
        ref = f"#{signing_fragment}"
        if _template_key(clean, ref, "capabilityInvocation") != key.public_key:
            raise RegistryRejected("key_mismatch", f"{ref} in the template is not this key")
        payload = {"v": 1, "document": clean, "nonce": self._randbytes(_NONCE_SIZE), "vm": ref}
        signer = Signer.for_did_key(key)
        draft = EntryDraft(KIND_CREATE, encode_payload(payload)).sign(
            key, signer.submitter, now=self._clock
        )
        entry = self._append(draft)
        return self._record(_PREFIX + base58btc_encode(digest(entry.payload))).versions[0]

    def update(self, did: str, signer: Signer, template: Mapping[str, Any]) -> DIDVersion:
        """Replace the document of ``did`` with ``template``; return the new version.

        ``signer.method`` must be listed under ``capabilityInvocation`` in the
        *current* version. Raises :class:`~did_methods.errors.ResolutionError`
        (``notFound``) for an unknown DID, :class:`RegistryError` for a bad
        template and :class:`RegistryRejected` (``not_authorised``,
        ``key_mismatch``, ``deactivated``) otherwise.
        """
        clean = check_template(template)
        latest = self._authorise(did, signer)
        payload = {
            "v": 1,
            "did": did,
            "prev": latest.version_id,
            "prevDigest": latest.digest,
            "document": clean,
        }
        entry = self._append(signer.sign(KIND_UPDATE, payload, now=self._clock))
        return self._made_by(did, entry)

    def deactivate(self, did: str, signer: Signer) -> DIDVersion:
        """Deactivate ``did`` for good; return the deactivation version.

        Raises as :meth:`update`.
        """
        latest = self._authorise(did, signer)
        payload = {"v": 1, "did": did, "prev": latest.version_id, "prevDigest": latest.digest}
        entry = self._append(signer.sign(KIND_DEACTIVATE, payload, now=self._clock))
        return self._made_by(did, entry)

    def rotate_key(
        self,
        did: str,
        signer: Signer,
        new_key: PublicKey,
        *,
        old_fragment: str | None = None,
        new_fragment: str | None = None,
    ) -> DIDVersion:
        """Replace method ``#old_fragment`` (default: the signer's) by ``new_key`` everywhere.

        The new method takes the old one's place in every relationship; its
        fragment defaults to ``key-<next version number>``. Raises as :meth:`update`.
        """
        latest = self.latest(did)
        old = "#" + (old_fragment or signer.method.partition("#")[2])
        new = "#" + (new_fragment or f"key-{latest.number + 1}")
        template = self.template(did)
        if not any(vm["id"] == old for vm in template["verificationMethod"]):
            raise RegistryError(f"{old} is not a method of {did}")
        template["verificationMethod"] = [
            {"id": new, "type": "Multikey", "publicKeyMultibase": new_key.to_multikey()}
            if vm["id"] == old
            else vm
            for vm in template["verificationMethod"]
        ]
        for purpose in PROOF_PURPOSES:
            if purpose in template:
                template[purpose] = [new if ref == old else ref for ref in template[purpose]]
        return self.update(did, signer, template)

    def add_service(self, did: str, signer: Signer, service: Mapping[str, Any]) -> DIDVersion:
        """Add a service (relative ``#id``, ``type``, ``serviceEndpoint``).

        Raises as :meth:`update`.
        """
        template = self.template(did)
        template["service"] = [*template.get("service", []), dict(service)]
        return self.update(did, signer, template)

    def remove_service(self, did: str, signer: Signer, service_id: str) -> DIDVersion:
        """Remove the service ``#service_id``. Raises as :meth:`update`, and
        :class:`RegistryError` when there is no such service."""
        ref = service_id if service_id.startswith("#") else f"#{service_id}"
        template = self.template(did)
        kept = [s for s in template.get("service", []) if s["id"] != ref]
        if len(kept) == len(template.get("service", [])):
            raise RegistryError(f"{did} has no service {ref}")
        template["service"] = kept
        if not kept:
            del template["service"]
        return self.update(did, signer, template)

    def _made_by(self, did: str, entry: Entry) -> DIDVersion:
        record = self._record(did)
        with self._lock:
            return next(v for v in reversed(record.versions) if v.index == entry.index)

    def _authorise(self, did: str, signer: Signer) -> DIDVersion:
        latest = self.latest(did)
        if latest.deactivated:
            raise RegistryRejected("deactivated", f"{did} is deactivated")
        if signer.did != did:
            raise RegistryRejected("not_authorised", f"{signer.method} is not a method of {did}")
        ref = "#" + signer.method.partition("#")[2]
        if _template_key(latest.template, ref, "capabilityInvocation") != signer.key.public_key:
            raise RegistryRejected("key_mismatch", f"{signer.method} does not hold this key")
        return latest

    # -- queries ----------------------------------------------------------------------

    def _record(self, did: str) -> _Record:
        self._follower.catch_up()
        with self._lock:
            record = self._dids.get(did)
        if record is None:
            raise ResolutionError("notFound", f"{did[:120]} is not in this ledger")
        return record

    def latest(self, did: str) -> DIDVersion:
        """The latest version of ``did``; raise ``ResolutionError('notFound')``."""
        return self._record(did).versions[-1]

    def template(self, did: str) -> dict[str, Any]:
        """A copy of the latest template of ``did`` (to edit and pass to :meth:`update`)."""
        template = self.latest(did).template
        return {
            k: [dict(x) if isinstance(x, Mapping) else x for x in v] for k, v in template.items()
        }

    def history(self, did: str) -> tuple[DIDVersion, ...]:
        """Every version of ``did``, oldest first."""
        record = self._record(did)
        with self._lock:
            return tuple(record.versions)

    def version(
        self,
        did: str,
        *,
        version_id: str | None = None,
        version_time: datetime | str | None = None,
        position: int | None = None,
    ) -> DIDVersion:
        """The version with ``version_id``, or in force at ``version_time``, or the latest.

        ``position`` (a log index; it wins over the other options) asks for
        the latest version made by an entry *before* that index: what the
        registries check an entry's signer against, so that a key rotated out
        earlier in the log signs nothing that counts, whatever time the entry
        claims.

        Raises :class:`~did_methods.errors.ResolutionError`: ``notFound`` for
        an unknown DID, version, or a time before the DID existed;
        ``invalidOptions`` for both options at once or a malformed one.
        """
        record = self._record(did)
        if version_id is not None and version_time is not None:
            raise ResolutionError("invalidOptions", "give versionId or versionTime, not both")
        versions = record.versions
        if position is not None:
            # The latest version made by an entry before log index ``position``.
            if type(position) is not int or position < 0:
                raise ResolutionError("invalidOptions", "ledgerPosition must be a log index")
            found = bisect_right(record.indices, position - 1)
            if found == 0:
                raise ResolutionError("notFound", f"{did} did not exist before entry {position}")
            return versions[found - 1]
        if version_id is not None:
            if not isinstance(version_id, str) or not re.fullmatch(r"[1-9][0-9]{0,17}", version_id):
                raise ResolutionError("notFound", f"no version {str(version_id)[:40]!r} of {did}")
            number = int(version_id)
            if number > len(versions):
                raise ResolutionError("notFound", f"no version {version_id} of {did}")
            return versions[number - 1]
        if version_time is not None:
            try:
                at = (
                    to_ms(version_time)
                    if isinstance(version_time, datetime)
                    else (parse_rfc3339(version_time))
                )
            except RegistryError as exc:
                raise ResolutionError("invalidOptions", f"versionTime: {exc}") from exc
            found = bisect_right(record.times, at)
            if found == 0:
                raise ResolutionError("notFound", f"{did} did not exist at {version_time}")
            return versions[found - 1]
        return versions[-1]

    def metadata(self, version: DIDVersion) -> dict[str, Any]:
        """The DID document metadata of ``version`` (see the method specification)."""
        versions = self._record(version.did).versions
        meta: dict[str, Any] = {
            "created": rfc3339(versions[0].time_ms),
            "versionId": version.version_id,
            "deactivated": version.deactivated,
            "ledger": {"origin": self._log.origin, "index": version.index},
        }
        if version.number > 1:
            meta["updated"] = rfc3339(version.time_ms)
        if version.number < len(versions):
            following = versions[version.number]
            meta["nextVersionId"] = following.version_id
            meta["nextUpdate"] = rfc3339(following.time_ms)
        return meta

    def prove(self, version: DIDVersion) -> EntryProof:
        """The entry that made ``version`` with its inclusion proof in the current tree."""
        return prove_entries(self._log, [version.index])[0]

    def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult:
        """DID Resolution for the :class:`~did_methods.resolver.Resolver` (``DIDMethod``).

        Options ``versionId`` and ``versionTime`` (RFC 3339) select a version;
        ``ledgerPosition`` (a log index) the latest version before that entry.
        Raises :class:`~did_methods.errors.ResolutionError` (``notFound``,
        ``invalidDid``, ``invalidOptions``), which the resolver reports.
        """
        text = str(did)
        if did.method != self.name or not _MSID_RE.fullmatch(did.method_specific_id):
            raise ResolutionError("invalidDid", f"not a did:ledger DID: {text[:100]}")
        version = self.version(
            text,
            version_id=options.get("versionId"),
            version_time=options.get("versionTime"),
            position=options.get("ledgerPosition"),
        )
        return ResolutionResult.found(version.document(), document_metadata=self.metadata(version))
