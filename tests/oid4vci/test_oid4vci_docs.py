"""The examples in docs/openid4vci.md run as written, in one namespace, top to bottom."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "openid4vci.md"


def test_doc_examples_run_and_print_what_the_page_says() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "docs_example"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile("\n".join(blocks), str(DOC), "exec"), namespace)
    out = printed.getvalue()
    assert "['dc+sd-jwt']" in out and "invalid_grant 400" in out
    # the encryption section: what the sealed issuer publishes, and a sealed receive
    assert "'encryption_required': True" in out and "enc-1" in out
    assert "True c-nonce-1" in out and "ldp_vc" in out
    assert "['iso_18045_high', 'iso_18045_moderate']" in out
    assert "https://issuer.example/credential\nTrue\nTrue" in out  # signed metadata, verified
    sealed = namespace["sealed"]
    assert sealed.request_decryption is not None  # type: ignore[attr-defined]
    # 8.2: response encryption on offer means a request key published (one made here)
    relaxed = namespace["relaxed"]
    assert relaxed.request_decryption is not None  # type: ignore[attr-defined]
