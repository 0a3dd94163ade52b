"""Rucio's OIDC login with the lake's IAM as identity provider, driven by the real 41.5.1 client (auth_type = oidc):
the client asks /auth/oidc for a login URL and prints it; the user (here requests, playing the browser) opens it,
is sent to the IAM's sign-in form, signs in, and is sent back to Rucio's /auth/oidc_code; the client then gets its
token by polling, or from the code the page shows, and calls whoami. The token maps to the account through the OIDC
identity SUB=<sub>, ISS=<issuer>."""
import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser

import pytest
import requests

from conftest import private_lake


class Form(HTMLParser):
    """The IAM's sign-in form: its action and fields."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def sign_in(auth_url, username="jdoe", password="jdoe-password"):
    """What the user's browser does with the printed URL; returns the last page (Rucio's /auth/oidc_code answer)."""
    browser = requests.Session()
    to_iam = browser.get(auth_url, allow_redirects=False, timeout=30)
    assert to_iam.status_code == 303, to_iam.text
    form_page = browser.get(to_iam.headers["Location"], timeout=30)
    assert form_page.status_code == 200 and "Sign in" in form_page.text
    form = Form()
    form.feed(form_page.text)
    fields = dict(form.fields, username=username, password=password)
    action = requests.compat.urljoin(form_page.url, form.action)
    back = browser.post(action, data=fields, allow_redirects=False, timeout=30)
    if back.status_code != 303:
        return back
    assert "/auth/oidc_code?" in back.headers["Location"]
    return browser.get(back.headers["Location"], timeout=30)


@pytest.fixture(scope="module")
def oidc_lake(tmp_path_factory):
    lk = private_lake(tmp_path_factory, "oidc-lake", ["--time-scale", "0", "--seed", "5"])
    yield lk
    lk.stop()


def client_process(lake, tmp_path, polling, extra=""):
    cfg = tmp_path / "rucio.cfg"
    cfg.write_text(f"[client]\nrucio_host = {lake.url}\nauth_host = {lake.url}\nauth_type = oidc\naccount = root\n"
                   f"oidc_polling = {polling}\noidc_scope = openid profile offline_access\n{extra}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEARER_TOKEN")}
    env.update(RUCIO_CONFIG=str(cfg), TMPDIR=str(tmp_path), XDG_RUNTIME_DIR=str(tmp_path))
    script = textwrap.dedent("""
        from rucio.client import Client
        c = Client()
        print("WHOAMI", c.whoami()["account"], flush=True)
        print("TOKEN", c.auth_token, flush=True)
    """)
    return subprocess.Popen([sys.executable, "-u", "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def read_until(proc, pattern):
    seen = []
    for line in proc.stdout:
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError("client ended without printing %r:\n%s" % (pattern, "".join(seen)))


def test_polling_client_logs_in_through_the_iam_and_calls_whoami(oidc_lake, tmp_path):
    proc = client_process(oidc_lake, tmp_path, polling=True)
    try:
        url = read_until(proc, r"(http://\S+/auth/oidc_redirect\?\S+)").group(1)
        page = sign_in(url)
        assert page.status_code == 200 and "fetch your token automatically" in page.text
        assert read_until(proc, r"WHOAMI (\S+)").group(1) == "root"
        token = read_until(proc, r"TOKEN (\S+)").group(1)
        assert token.count(".") == 2          # the IAM's access token is the Rucio token, as Rucio saves it
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    # Another call with that token works; the login session is used up.
    assert requests.get(f"{oidc_lake.url}/accounts/whoami", headers={"X-Rucio-Auth-Token": token}).json()["account"] == "root"
    again = requests.get(url, headers={"X-Rucio-Client-Fetch-Token": "True"})
    assert again.status_code == 401 and again.headers["ExceptionClass"] == "CannotAuthenticate"


def test_copy_paste_code_login_and_a_wrong_password(oidc_lake, tmp_path):
    proc = client_process(oidc_lake, tmp_path, polling=False)
    try:
        url = read_until(proc, r"(http://\S+/auth/oidc_redirect\?\S+)").group(1)
        refused = sign_in(url, password="wrong")
        assert refused.status_code == 401 and "Bad username or password" in refused.text
        page = sign_in(url)
        code = re.search(r"<b>(\w+)</b>", page.text).group(1)
        proc.stdin.write(code + "\n")
        proc.stdin.flush()
        assert read_until(proc, r"WHOAMI (\S+)").group(1) == "root"
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def test_an_identity_mapped_to_no_account_cannot_finish(oidc_lake, tmp_path):
    # asmith exists in the IAM but no Rucio account has her identity.
    r = requests.get(f"{oidc_lake.url}/auth/oidc", headers={"X-Rucio-Account": "root", "X-Rucio-Client-Authorize-Polling": "True"})
    assert r.status_code == 200
    page = sign_in(r.headers["X-Rucio-OIDC-Auth-URL"], "asmith", "asmith-password")
    assert page.status_code == 401 and page.headers["ExceptionClass"] == "CannotAuthenticate"


def test_refresh_gives_a_new_token_after_five_minutes(oidc_lake, tmp_path):
    r = requests.get(f"{oidc_lake.url}/auth/oidc", headers={
        "X-Rucio-Account": "root", "X-Rucio-Client-Authorize-Polling": "True",
        "X-Rucio-Client-Authorize-Scope": "openid profile offline_access"})
    url = r.headers["X-Rucio-OIDC-Auth-URL"]
    assert sign_in(url).status_code == 200
    token = requests.get(url, headers={"X-Rucio-Client-Fetch-Token": "True"}).headers["X-Rucio-Auth-Token"]

    def refresh(t):
        return requests.get(f"{oidc_lake.url}/auth/oidc_refresh", headers={"X-Rucio-Account": "root", "X-Rucio-Auth-Token": t})

    same = refresh(token)
    assert same.status_code == 200 and same.headers["X-Rucio-Auth-Token"] == token
    requests.post(f"{oidc_lake.url}/lakebed/clock/advance", json={"seconds": 600}).raise_for_status()
    fresh = refresh(token)
    new = fresh.headers["X-Rucio-Auth-Token"]
    assert new and new != token and int(fresh.headers["X-Rucio-Auth-Token-Expires"]) > 0
    assert requests.get(f"{oidc_lake.url}/accounts/whoami", headers={"X-Rucio-Auth-Token": new}).json()["account"] == "root"
    # The refreshed token answers with its successor; a token without a refresh token gets empty headers.
    assert refresh(token).headers["X-Rucio-Auth-Token"] == new
    plain = requests.get(f"{oidc_lake.url}/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret"})
    empty = refresh(plain.headers["X-Rucio-Auth-Token"])
    assert empty.status_code == 200 and empty.headers["X-Rucio-Auth-Token"] == ""
