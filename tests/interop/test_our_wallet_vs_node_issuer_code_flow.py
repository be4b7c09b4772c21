"""OUR wallet (``ssi-wallet wallet receive``, a real process) against the OpenWallet
Foundation's issuer (``issuer.mjs --grant authorization_code``, on @openid4vc/oauth2 and
@openid4vc/openid4vci) in the AUTHORIZATION CODE flow, over HTTP on 127.0.0.1.

Our wallet prints the authorization address and asks for the address it was sent back
to, as a person would answer after signing in; here the test is that person's browser:
it opens the address (one GET, the redirect read, not followed) and types the redirect
back. The Node authorization server checks PAR, PKCE S256, the redirect URI, the client
and DPoP; the Node issuer checks the key proof and binds the credential to our key.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_our_wallet_vs_node_services import Wallet

from credentials.sd_jwt import SdJwt
from did_methods.keys import PublicKey


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _open_as_browser(url: str) -> str:
    """GET ``url`` and return where it redirects (the authorization response)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=20)
    except urllib.error.HTTPError as redirect:
        assert redirect.code in (302, 303), redirect.read()[:300]
        location = redirect.headers["Location"]
        assert isinstance(location, str)
        return location
    raise AssertionError(f"{url} did not redirect")


def _receive_by_code(
    wallet: Wallet, offer_uri: str, tamper: Callable[[str], str] = lambda redirect: redirect
) -> tuple[int, str, str, str]:
    """``wallet receive`` on an authorization code offer, the test playing the browser
    (``tamper`` may change the redirect before it is typed back).

    Returns the exit status, stdout, stderr and the redirect typed back."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ssi_wallet", "wallet", "receive", offer_uri, "--wallet",
         str(wallet.file), "--passphrase-env", "SSI_WALLET_INTEROP_PASSPHRASE", "--yes",
         "--allow-loopback"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=wallet.env,
    )  # fmt: skip
    assert process.stdin is not None and process.stderr is not None
    seen: list[str] = []
    try:
        for line in process.stderr:
            seen.append(line)
            if line.startswith("http://") and "/authorize?" in line:
                break
        else:
            raise AssertionError(f"no authorization address printed: {''.join(seen)}")
        redirect = tamper(_open_as_browser(line.strip()))
        out, err = process.communicate(f"{redirect}\n", timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    return process.returncode, out, "".join(seen) + err, redirect


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet(tmp_path)


@pytest.mark.parametrize("require_dpop", [False, True])
def test_our_wallet_takes_the_node_issuers_authorization_code_flow(
    node_service: Any, wallet: Wallet, require_dpop: bool
) -> None:
    extra = ["--require-dpop"] if require_dpop else []
    issuer = node_service(
        "issuer.mjs", "--grant", "authorization_code", "--configurations",
        "ResidencePermitSdJwt", "--exit-after", "1", *extra,
    )  # fmt: skip
    assert "authorization_code" in issuer.ready["offer"]["grants"]
    status, out, err, redirect = _receive_by_code(wallet, issuer.ready["offer_uri"])
    assert status == 0, err

    # what the Node authorization server saw: PAR with authorization_details, a state
    par = issuer.next_event("par")
    assert par["authorization_details"] == [
        {"type": "openid_credential", "credential_configuration_id": "ResidencePermitSdJwt"}
    ]
    assert par["state"] and f"state={par['state']}" in redirect
    token = issuer.next_event("token")
    assert token["grant"] == "authorization_code" and token["pkce_checked"] is True
    assert token["dpop"] is True  # our wallet binds the token by DPoP when offered
    issued = issuer.next_event("issued")
    assert issued["dpop"] is True
    cnf = SdJwt.parse(issued["credentials"][0]).unverified_payload["cnf"]["jwk"]
    assert PublicKey.from_jwk(cnf) == PublicKey.from_jwk(issued["holder_jwks"][0])

    # our wallet stored it, from that issuer, with the Node issuer's claims
    (stored,) = json.loads(out)["stored"]
    assert (stored["issuer"], stored["format"]) == (issuer.ready["issuer_did"], "dc+sd-jwt")
    listed = wallet.run("list", "--json", "--claims")
    assert listed.returncode == 0, listed.stderr
    (held,) = json.loads(listed.stdout)
    assert held["id"] == stored["id"]
    assert held["claims"]["given_name"] == "Amina"


def test_our_wallet_refuses_a_redirect_with_another_state(
    node_service: Any, wallet: Wallet
) -> None:
    """A redirect whose state is not the one our wallet pushed (a forged or mixed-up
    authorization response) is refused, and nothing is stored."""
    issuer = node_service(
        "issuer.mjs", "--grant", "authorization_code", "--configurations",
        "ResidencePermitSdJwt",
    )  # fmt: skip

    def forge(redirect: str) -> str:
        state = issuer.next_event("par")["state"]
        forged = redirect.replace(f"state={state}", "state=someone-elses")
        assert forged != redirect
        return forged

    status, _, err, _ = _receive_by_code(wallet, issuer.ready["offer_uri"], forge)
    assert status == 1, err
    assert "state" in err
    assert wallet.run("list").stdout.strip() == ""
