"""Tokens from the lake's emulated INDIGO IAM: Rucio accepts them as it accepts IAM's, and refuses bad ones."""
import base64
import json
import os
import subprocess
import sys
from pathlib import Path



def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_an_iam_token_logs_in_to_rucio(lake):
    token = lake.token(scope="openid profile")
    c = claims(token)
    assert c["iss"] == lake.iam_issuer and "rucio" in c["aud"] and "/escape" in c["groups"]
    client = lake.client(token=token)                   # auth_type = oidc
    assert client.whoami()["account"] == "root"        # jdoe's identity is mapped to root


def test_the_cli_with_a_bearer_token_file(lake, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(lake.token())
    cfg = tmp_path / "oidc.cfg"
    cfg.write_text(f"[client]\nrucio_host = {lake.url}\nauth_host = {lake.url}\nauth_type = oidc\naccount = root\n")
    env = {**os.environ, "RUCIO_CONFIG": str(cfg), "RUCIO_AUTH_TYPE": "oidc", "BEARER_TOKEN_FILE": str(token_file)}
    out = subprocess.run([str(Path(sys.executable).parent / "rucio"), "whoami"], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert "root" in out


def test_an_expired_token_is_refused(lake):
    # Asked directly: Rucio's 401 CannotAuthenticate. (A Client with auth_type = oidc would answer a refused token by
    # starting the interactive OIDC login against the lake's IAM, as it does against a real one, and wait for a code.)
    import requests
    r = requests.get(f"{lake.url}/accounts/whoami", headers={"X-Rucio-Auth-Token": lake.token(lifetime=-60)}, timeout=30)
    assert r.status_code == 401 and r.headers["ExceptionClass"] == "CannotAuthenticate"
    assert r.json()["ExceptionClass"] == "CannotAuthenticate"
    assert requests.get(f"{lake.url}/accounts/whoami", headers={"X-Rucio-Auth-Token": lake.token()}, timeout=30).status_code == 200
