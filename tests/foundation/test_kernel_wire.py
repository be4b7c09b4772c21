"""The private kernel (``did_methods._wire``) is the one home of each wire primitive.

These tests pin that the public names and every package's callers are the
kernel's own function objects, not copies that could drift apart.
"""

from __future__ import annotations

import pytest

import credentials.jcs
import ledger.vault._canonical as vault_canonical
from credentials.errors import CanonicalizationError as CredentialsCanonicalizationError
from did_methods._wire import jcs, json
from did_methods.errors import CanonicalizationError
from ledger.vault import RecordError, canonical_json


def test_one_jcs_for_credentials_and_the_vault() -> None:
    assert credentials.jcs.canonicalize is jcs.canonicalize
    assert credentials.jcs.format_number is jcs.format_number
    assert credentials.jcs.MAX_DEPTH == jcs.MAX_DEPTH
    assert vault_canonical.canonicalize is jcs.canonicalize
    assert vault_canonical.loads is json.loads
    assert CredentialsCanonicalizationError is CanonicalizationError


def test_the_vault_rules_are_options_of_the_one_jcs() -> None:
    record = {"b": [1.5, "\u20ac"], "a": {"\U0001f600": None, "\r": True}}
    assert canonical_json(record) == jcs.canonicalize(record)
    # the vault's one departure from RFC 8785, as a kernel option
    assert jcs.canonicalize(2.0**60) == b"1152921504606847000"
    with pytest.raises(CanonicalizationError, match="integral numbers"):
        jcs.canonicalize([2.0**60], safe_integers=True)
    with pytest.raises(RecordError, match="integral numbers"):
        canonical_json([2.0**60])
    # the vault's depth bound is the kernel's max_depth
    deep: object = 0
    for _ in range(vault_canonical.MAX_DEPTH):
        deep = [deep]
    assert canonical_json(deep) == jcs.canonicalize(deep)
    with pytest.raises(RecordError, match="nesting too deep"):
        canonical_json([deep])
