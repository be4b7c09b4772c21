"""Fixtures for the mdoc tests: a PKI and device key valid at a fixed instant."""

from __future__ import annotations

import pytest
from mdoc_support import Pki, make_pki
from x509_support import NOW


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki(NOW)
