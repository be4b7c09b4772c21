"""Renamed public names keep their old spelling for one release, and it warns.

Each old name resolves to the new object and raises a ``DeprecationWarning``
that names the replacement; remove the alias and its test in the next release.
"""

from __future__ import annotations

import pytest

import ssi_wallet
import ssi_wallet.request


def test_presentation_is_now_presentation_response() -> None:
    for module in (ssi_wallet, ssi_wallet.request):
        with pytest.warns(DeprecationWarning, match="PresentationResponse"):
            old = module.Presentation
        assert old is ssi_wallet.request.PresentationResponse
    assert "Presentation" not in ssi_wallet.__all__
    assert "PresentationResponse" in ssi_wallet.__all__
