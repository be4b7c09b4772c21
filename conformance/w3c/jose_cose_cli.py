#!/usr/bin/env python3
"""The command the W3C vc-jose-cose suite runs per test, over the library's public API.

The suite runs ``docker compose -f ... run --rm IMPL FN --input F --key K --feature X
[--sd P] --output O`` with paths under ``/tests/``; ``run`` puts a ``docker`` script on
PATH that calls this file instead, with ``/tests/`` mapped to the suite's ``tests/``::

    jose_cose_cli.py SUITE_DIR compose -f FILE run --rm IMPL FN --input ... --output ...

``issue`` secures the input with the key file's ``secretKeyJwk`` (``vc+jwt`` /
``vp+jwt``, ``kid`` the key's ``kid``); ``verify`` checks a token with
:class:`credentials.keysets.IssuerKeys` holding, for each controller named by a key
file of the suite, the JWK Set of its ``publicKeyJwk``s: the verifier's statement of
the keys the suite's issuer publishes. It writes ``{"result": "success" | "failure",
"data": ...}``; SD-JWT and COSE are not claimed (the run's config says so).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _path(suite: Path, given: str) -> Path:
    return suite / given.removeprefix("/") if given.startswith("/tests/") else Path(given)


def _key_sets(inputs: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    sets: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for file in sorted(inputs.glob("vm-*.json")):
        method = json.loads(file.read_text(encoding="utf-8"))
        controller = method.get("controller")
        if isinstance(controller, str) and not controller.startswith("did:"):
            sets.setdefault(controller, {"keys": []})["keys"].append(method["publicKeyJwk"])
    return sets


def _issue(feature: str, document: Any, method: dict[str, Any]) -> str:
    from credentials.jose import issue_vc_jwt, issue_vp_jwt
    from did_methods.keys import PrivateKey

    key = PrivateKey.from_jwk(method["secretKeyJwk"])
    kid = method["publicKeyJwk"].get("kid") or method["id"]
    if feature == "credential_jose":
        return issue_vc_jwt(document, key, kid=kid)
    return issue_vp_jwt(document, key, kid=kid)


def _verify(feature: str, token: str, inputs: Path) -> tuple[bool, str]:
    from credentials.jose import verify_vc_jwt, verify_vp_jwt
    from credentials.keysets import IssuerKeys

    keys = IssuerKeys(_key_sets(inputs))
    if feature == "credential_jose":
        result = verify_vc_jwt(token, keys)
    else:
        result = verify_vp_jwt(token, keys, max_age=None)
    return result.ok, ", ".join(result.codes)


def main(argv: list[str]) -> int:
    suite = Path(argv[0])
    args = argv[1:]
    # docker compose -f FILE run --rm IMPL FN ...
    while args and args[0] != "run":
        args = args[1:]
    args = [a for a in args[1:] if a != "--rm"][1:]  # drop "run", "--rm" and IMPL
    parser = argparse.ArgumentParser()
    parser.add_argument("fn", choices=("issue", "verify"))
    parser.add_argument("--input", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--feature", required=True)
    parser.add_argument("--sd")
    parser.add_argument("--output", required=True)
    ns = parser.parse_args(args)
    source = _path(suite, ns.input)
    method = json.loads(_path(suite, ns.key).read_text(encoding="utf-8"))
    output = _path(suite, ns.output)
    answer: dict[str, Any]
    from did_methods.errors import SSIWalletError

    try:
        if ns.feature not in ("credential_jose", "presentation_jose"):
            answer = {"result": "indeterminate", "data": "feature not supported"}
        elif ns.fn == "issue":
            document = json.loads(source.read_text(encoding="utf-8"))
            answer = {"result": "success", "data": _issue(ns.feature, document, method)}
        else:
            valid, codes = _verify(
                ns.feature, source.read_text(encoding="utf-8").strip(), source.parent
            )
            answer = {"result": "success" if valid else "failure", "data": codes}
    except SSIWalletError as exc:  # refused input: the library's typed error
        answer = {"result": "failure", "data": f"{type(exc).__name__}: {exc}"}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(answer), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
