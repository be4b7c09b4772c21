"""DID documents (W3C DID Core 1.0, section 5), as immutable values.

``DIDDocument.from_json`` validates the JSON (``application/did+json``) form
and keeps every property, known or not, so ``to_json(from_json(x)) == x`` for
any valid document. Verification relationships may reference a method by
(possibly relative) DID URL or embed it; :meth:`DIDDocument.find` and
:meth:`DIDDocument.verification_methods_for` resolve both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from did_methods.did import DID, DIDURL
from did_methods.encoding import base58btc_decode
from did_methods.errors import InvalidDID, InvalidDocument, InvalidKey, UnsupportedError
from did_methods.keys import KeyType, PublicKey

__all__ = [
    "DID_CONTEXT",
    "DID_CONTEXT_V1_1",
    "MULTIKEY_CONTEXT",
    "PROOF_PURPOSES",
    "DIDDocument",
    "Service",
    "VerificationMethod",
]

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
DID_CONTEXT_V1_1 = "https://www.w3.org/ns/did/v1.1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"

#: The verification relationships of DID Core, by their JSON names.
PROOF_PURPOSES = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)
_MAX_ENTRIES = 256  # verification methods, services or references in one document

_LEGACY_BASE58_TYPES = {
    "Ed25519VerificationKey2018": KeyType.ED25519,
    "X25519KeyAgreementKey2019": KeyType.X25519,
}


def _absolute(ref: str, base: str) -> str:
    """Resolve a relative DID URL (``#frag``, ``?q``, ``/path``) against a DID."""
    if ref.startswith(("#", "?", "/")):
        return base + ref
    return ref


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidDocument(f"{where} must be a string")
    return value


def _did_url(value: Any, where: str, base: str | None) -> str:
    text = _str(value, where)
    try:
        DIDURL.parse(_absolute(text, base) if base else text)
    except InvalidDID as exc:
        raise InvalidDocument(f"{where} is not a DID URL: {exc}") from exc
    return text


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidDocument(f"{where} must be a list")
    if len(value) > _MAX_ENTRIES:
        raise InvalidDocument(f"{where} has more than {_MAX_ENTRIES} entries")
    return value


#: The members that carry a verification method's key material.
_KEY_MATERIAL = ("publicKeyMultibase", "publicKeyJwk", "publicKeyBase58")


def _key_from_json(vm: Mapping[str, Any]) -> PublicKey:
    vm_type = vm.get("type")
    if "publicKeyMultibase" in vm:
        if vm_type == "Ed25519VerificationKey2020":
            from did_methods.encoding import multibase_decode

            raw = multibase_decode(vm["publicKeyMultibase"])
            if raw[:2] != b"\xed\x01":
                raise InvalidKey("Ed25519VerificationKey2020 must hold an ed25519-pub multikey")
            return PublicKey.from_raw(KeyType.ED25519, raw[2:])
        return PublicKey.from_multikey(vm["publicKeyMultibase"])
    if "publicKeyJwk" in vm:
        return PublicKey.from_jwk(vm["publicKeyJwk"])
    if "publicKeyBase58" in vm and vm_type in _LEGACY_BASE58_TYPES:
        return PublicKey.from_raw(
            _LEGACY_BASE58_TYPES[vm_type], base58btc_decode(vm["publicKeyBase58"])
        )
    raise UnsupportedError(f"verification method type {vm_type!r} has no key material we can read")


@dataclass(frozen=True, slots=True)
class VerificationMethod:
    """A verification method: ``id`` (absolute DID URL), ``type``, ``controller``, key.

    The key is read when the method is built; :attr:`public_key` returns it
    or raises :class:`UnsupportedError` (key type we do not support) or
    :class:`InvalidKey` (malformed key material).
    """

    id: str
    type: str
    controller: str
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False)
    _key: PublicKey | None = field(default=None, repr=False, compare=False)
    _key_error: Exception | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any, *, base: str | None = None) -> VerificationMethod:
        """Validate a verification method object; relative ids resolve against ``base``."""
        if not isinstance(data, Mapping):
            raise InvalidDocument("a verification method must be a JSON object")
        vm_id = _did_url(data.get("id"), "verificationMethod.id", base)
        vm_type = _str(data.get("type"), "verificationMethod.type")
        controller = _str(data.get("controller"), "verificationMethod.controller")
        try:
            DID.parse(controller)
        except InvalidDID as exc:
            raise InvalidDocument(f"verificationMethod.controller is not a DID: {exc}") from exc
        if sum(name in data for name in _KEY_MATERIAL) > 1:
            # DID Core 5.2.1: one key, one representation. Two could name two keys,
            # and which one a verifier read would decide whether a signature counts.
            raise InvalidDocument(
                f"verification method {str(vm_id)[:200]} carries its key material in more "
                "than one member"
            )
        key: PublicKey | None = None
        error: Exception | None = None
        try:
            key = _key_from_json(data)
        except (UnsupportedError, InvalidKey) as exc:
            error = exc
        return cls(
            _absolute(vm_id, base) if base else vm_id, vm_type, controller, dict(data), key, error
        )

    @classmethod
    def from_public_key(
        cls, key: PublicKey, *, controller: str, id: str | None = None
    ) -> VerificationMethod:
        """A ``Multikey`` method for ``key``; the id defaults to ``controller#<multikey>``."""
        multikey = key.to_multikey()
        vm_id = id or f"{controller}#{multikey}"
        props = {
            "id": vm_id,
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": multikey,
        }
        return cls(vm_id, "Multikey", controller, props, key, None)

    @classmethod
    def from_jwk(cls, key: PublicKey, *, controller: str, id: str) -> VerificationMethod:
        """A ``JsonWebKey`` verification method for ``key``."""
        props = {
            "id": id,
            "type": "JsonWebKey",
            "controller": controller,
            "publicKeyJwk": key.to_jwk(),
        }
        return cls(id, "JsonWebKey", controller, props, key, None)

    @property
    def public_key(self) -> PublicKey:
        """The method's public key; raises if it could not be read."""
        if self._key is None:
            raise self._key_error or UnsupportedError("verification method has no key")
        return self._key

    @property
    def did(self) -> str:
        """The DID part of this method's id."""
        return str(DIDURL.parse(self.id).did)

    def to_json(self) -> dict[str, Any]:
        """The JSON form, as it was given (properties kept in order)."""
        return dict(self.properties)


@dataclass(frozen=True, slots=True)
class Service:
    """A service endpoint: ``id``, ``type`` (string or list) and ``serviceEndpoint``."""

    id: str
    type: str | tuple[str, ...]
    endpoint: Any
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, data: Any, *, base: str | None = None) -> Service:
        """Validate a service object (DID Core 5.4)."""
        if not isinstance(data, Mapping):
            raise InvalidDocument("a service must be a JSON object")
        sid = _str(data.get("id"), "service.id")
        stype = data.get("type")
        if isinstance(stype, list) and stype and all(isinstance(t, str) for t in stype):
            typ: str | tuple[str, ...] = tuple(stype)
        elif isinstance(stype, str):
            typ = stype
        else:
            raise InvalidDocument("service.type must be a string or a non-empty list of strings")
        if "serviceEndpoint" not in data:
            raise InvalidDocument("service.serviceEndpoint is required")
        endpoint = data["serviceEndpoint"]
        if not isinstance(endpoint, str | Mapping | list):
            raise InvalidDocument("service.serviceEndpoint must be a string, a map or a list")
        return cls(_absolute(sid, base) if base else sid, typ, endpoint, dict(data))

    def to_json(self) -> dict[str, Any]:
        """The JSON form, as it was given."""
        return dict(self.properties)


@dataclass(frozen=True, slots=True)
class DIDDocument:
    """A DID document: build with :meth:`from_json` or :meth:`build`, emit with :meth:`to_json`."""

    id: str
    verification_method: tuple[VerificationMethod, ...] = ()
    relationships: Mapping[str, tuple[str | VerificationMethod, ...]] = field(default_factory=dict)
    service: tuple[Service, ...] = ()
    controller: tuple[str, ...] = ()
    also_known_as: tuple[str, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict, compare=False)

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_json(cls, data: Any) -> DIDDocument:
        """Validate a DID document in its JSON form; raise :class:`InvalidDocument`."""
        if not isinstance(data, Mapping):
            raise InvalidDocument("a DID document must be a JSON object")
        doc_id = _str(data.get("id"), "id")
        try:
            DID.parse(doc_id)
        except InvalidDID as exc:
            raise InvalidDocument(f"document id is not a DID: {exc}") from exc
        controllers: tuple[str, ...] = ()
        if "controller" in data:
            raw = data["controller"]
            items = [raw] if isinstance(raw, str) else _list(raw, "controller")
            for c in items:
                try:
                    DID.parse(_str(c, "controller"))
                except InvalidDID as exc:
                    raise InvalidDocument(f"controller is not a DID: {exc}") from exc
            controllers = tuple(items)
        aka = tuple(
            _str(a, "alsoKnownAs[]") for a in _list(data.get("alsoKnownAs", []), "alsoKnownAs")
        )
        vms = tuple(
            VerificationMethod.from_json(vm, base=doc_id)
            for vm in _list(data.get("verificationMethod", []), "verificationMethod")
        )
        ids = [vm.id for vm in vms]
        if len(set(ids)) != len(ids):
            raise InvalidDocument("verificationMethod ids must be unique")
        relationships: dict[str, tuple[str | VerificationMethod, ...]] = {}
        for purpose in PROOF_PURPOSES:
            if purpose not in data:
                continue
            refs: list[str | VerificationMethod] = []
            for item in _list(data[purpose], purpose):
                if isinstance(item, str):
                    refs.append(_did_url(item, f"{purpose}[]", doc_id))
                else:
                    refs.append(VerificationMethod.from_json(item, base=doc_id))
            relationships[purpose] = tuple(refs)
        services = tuple(
            Service.from_json(s, base=doc_id) for s in _list(data.get("service", []), "service")
        )
        return cls(doc_id, vms, relationships, services, controllers, aka, dict(data))

    @classmethod
    def build(
        cls,
        did: str,
        *,
        verification_methods: tuple[VerificationMethod, ...] = (),
        relationships: Mapping[str, tuple[str, ...]] | None = None,
        services: tuple[Mapping[str, Any], ...] = (),
        context: tuple[str, ...] = (DID_CONTEXT_V1_1, MULTIKEY_CONTEXT),
        controller: tuple[str, ...] = (),
        also_known_as: tuple[str, ...] = (),
    ) -> DIDDocument:
        """Assemble a document from parts (relationships reference methods by id)."""
        data: dict[str, Any] = {"@context": list(context), "id": did}
        if controller:
            data["controller"] = list(controller)
        if also_known_as:
            data["alsoKnownAs"] = list(also_known_as)
        if verification_methods:
            data["verificationMethod"] = [vm.to_json() for vm in verification_methods]
        for purpose in PROOF_PURPOSES:
            refs = (relationships or {}).get(purpose)
            if refs:
                data[purpose] = list(refs)
        if services:
            data["service"] = [dict(s) for s in services]
        return cls.from_json(data)

    # -- queries ------------------------------------------------------------------

    def find(self, ref: str) -> VerificationMethod | None:
        """The verification method with this (absolute or relative) id, if any."""
        target = _absolute(ref, self.id)
        for vm in self.verification_method:
            if vm.id == target:
                return vm
        for refs in self.relationships.values():
            for item in refs:
                if isinstance(item, VerificationMethod) and item.id == target:
                    return item
        return None

    def find_service(self, ref: str) -> Service | None:
        """The service with this (absolute or relative) id, if any."""
        target = _absolute(ref, self.id)
        return next((s for s in self.service if s.id == target), None)

    def verification_methods_for(self, purpose: str) -> tuple[VerificationMethod, ...]:
        """The methods authorised for a verification relationship, references resolved.

        References that point at no method in this document are skipped.
        """
        if purpose not in PROOF_PURPOSES:
            raise UnsupportedError(f"unknown proof purpose {purpose!r}")
        out: list[VerificationMethod] = []
        for item in self.relationships.get(purpose, ()):
            vm = item if isinstance(item, VerificationMethod) else self.find(item)
            if vm is not None:
                out.append(vm)
        return tuple(out)

    def is_authorised(self, method_id: str, purpose: str) -> bool:
        """True when ``method_id`` is listed (by reference or embedded) under ``purpose``."""
        target = _absolute(method_id, self.id)
        return any(vm.id == target for vm in self.verification_methods_for(purpose))

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``application/did+json``), every property kept."""
        return dict(self.properties)
