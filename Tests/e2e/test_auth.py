"""Tokens cannot be forged, replayed after they expire, or used for another account; passwords are stored salted and
hashed; the server binds to loopback unless told otherwise, and says so loudly when it is not."""
import sqlite3
import subprocess

import pytest
import requests

from conftest import BIN, control, free_port, private_lake


def login(lake, username, password, account):
    return requests.get(f"{lake.url}/auth/userpass", timeout=10,
                        headers={"X-Rucio-Account": account, "X-Rucio-Username": username, "X-Rucio-Password": password})


def call(lake, method, path, token, **kw):
    r = requests.request(method, f"{lake.url}{path}", headers={"X-Rucio-Auth-Token": token, **kw.pop("headers", {})}, timeout=10, **kw)
    return r.status_code, r.headers.get("ExceptionClass")


@pytest.fixture(scope="module")
def auth_lake(tmp_path_factory):
    lk = private_lake(tmp_path_factory, "auth-lake", ["--time-scale", "0", "--no-https"])
    c = lk.client
    for acct in ("alice", "bob"):
        c.add_account(acct, "USER", f"{acct}@example.org")
        c.add_scope(acct, f"user.{acct}")
        # The same password for both: their stored hashes must still differ.
        c.add_identity(acct, f"{acct}-login", "USERPASS", f"{acct}@example.org", default=True, password="same-password")
    yield lk
    lk.stop()


def test_guessed_or_altered_tokens_are_refused(auth_lake):
    good = login(auth_lake, "alice-login", "same-password", "alice")
    assert good.status_code == 200
    token = good.headers["X-Rucio-Auth-Token"]
    assert call(auth_lake, "GET", "/accounts/whoami", token)[0] == 200
    # Like Rucio's, a token is `account-identity-appid-<random UUID>`: the readable prefix is not the secret.
    secret = token.rsplit("-", 1)[1]
    assert token.startswith("alice-") and len(secret) == 32 and int(secret, 16) >= 0
    for forged in (token[:-1] + ("0" if token[-1] != "0" else "1"), token.upper(), token + "x", token.rsplit("-", 1)[0] + "-" + "0" * 32,
                   "root-ddmlab-unknown-" + token.rsplit("-", 1)[1], "null", "a.b.c"):
        assert call(auth_lake, "GET", "/accounts/whoami", forged) == (401, "CannotAuthenticate"), forged
    # No token, or an empty one, is a malformed request, as in Rucio ("Token must be set.").
    assert call(auth_lake, "GET", "/accounts/whoami", "") == (400, "ValueError")
    r = requests.get(f"{auth_lake.url}/accounts/whoami", timeout=10)
    assert (r.status_code, r.headers["ExceptionClass"]) == (400, "ValueError")
    # A wrong password.
    assert (login(auth_lake, "alice-login", "wrong", "alice").status_code, login(auth_lake, "alice-login", "wrong", "alice").headers["ExceptionClass"]) == (401, "CannotAuthenticate")


def test_tokens_are_not_accepted_after_they_expire(auth_lake):
    r = login(auth_lake, "bob-login", "same-password", "bob")
    token = r.headers["X-Rucio-Auth-Token"]
    assert call(auth_lake, "GET", "/accounts/whoami", token)[0] == 200
    control(auth_lake, "POST", "clock/advance", json={"seconds": 3599})
    assert call(auth_lake, "GET", "/accounts/whoami", token)[0] == 200
    control(auth_lake, "POST", "clock/advance", json={"seconds": 2})
    assert call(auth_lake, "GET", "/accounts/whoami", token) == (401, "CannotAuthenticate")
    assert call(auth_lake, "GET", "/auth/validate", token) == (401, "CannotAuthenticate")
    # A fresh login works again.
    fresh = login(auth_lake, "bob-login", "same-password", "bob").headers["X-Rucio-Auth-Token"]
    assert call(auth_lake, "GET", "/accounts/whoami", fresh)[0] == 200


def test_a_token_acts_only_for_its_own_account(auth_lake):
    alice = login(auth_lake, "alice-login", "same-password", "alice").headers["X-Rucio-Auth-Token"]
    # Logging in to another account with one's own password is refused.
    r = login(auth_lake, "alice-login", "same-password", "bob")
    assert (r.status_code, r.headers["ExceptionClass"]) == (401, "CannotAuthenticate")
    r = login(auth_lake, "alice-login", "same-password", "root")
    assert (r.status_code, r.headers["ExceptionClass"]) == (401, "CannotAuthenticate")
    # The X-Rucio-Account header does not change whom a token speaks for.
    r = requests.get(f"{auth_lake.url}/accounts/whoami", headers={"X-Rucio-Auth-Token": alice, "X-Rucio-Account": "root"}, timeout=10)
    assert r.json()["account"] == "alice"
    # Alice can write in her scope, not in Bob's or root's, and cannot act as an admin or on Bob's rules.
    assert call(auth_lake, "POST", "/dids/user.alice/mine", alice, json={"type": "DATASET"})[0] == 201
    assert call(auth_lake, "POST", "/dids/user.bob/hers", alice, json={"type": "DATASET"}) == (401, "AccessDenied")
    assert call(auth_lake, "POST", "/dids/user.root/hers", alice, json={"type": "DATASET"}, headers={"X-Rucio-Account": "root"}) == (401, "AccessDenied")
    assert call(auth_lake, "POST", "/rses/EVIL", alice, json={}) == (401, "AccessDenied")
    assert call(auth_lake, "POST", "/accounts/mallory", alice, json={"type": "USER", "email": "m@example.org"}) == (401, "AccessDenied")
    c = auth_lake.client
    c.add_dataset("user.bob", "bobs", rse=None)
    [rid] = c.add_replication_rule([{"scope": "user.bob", "name": "bobs"}], 1, "SITE-A", account="bob")
    assert call(auth_lake, "DELETE", f"/rules/{rid}", alice, json={"purge_replicas": True}) == (401, "AccessDenied")
    # A rule for another account, made with Alice's token, is refused too.
    status, cls = call(auth_lake, "POST", "/rules/", alice, json={"dids": [{"scope": "user.alice", "name": "mine"}], "copies": 1,
                                                                   "rse_expression": "SITE-A", "account": "bob"})
    assert (status, cls) == (401, "AccessDenied")
    assert c.get_replication_rule(rid)["account"] == "bob"


def test_passwords_are_stored_salted_and_hashed(auth_lake):
    db = sqlite3.connect(f"file:{auth_lake.data_dir / 'catalog.sqlite'}?mode=ro", uri=True)
    rows = dict(db.execute("SELECT identity, password FROM identities WHERE id_type = 'USERPASS'").fetchall())
    db.close()
    assert {"ddmlab", "alice-login", "bob-login"} <= set(rows)
    for identity, stored in rows.items():
        assert stored.startswith("sha256i$") and "secret" not in stored and "same-password" not in stored, identity
        _, iterations, salt, digest = stored.split("$")
        assert int(iterations) >= 1000 and len(salt) == 32 and len(digest) == 64
    assert rows["alice-login"] != rows["bob-login"], "the same password gives the same stored value: no salt"
    assert rows["alice-login"].split("$")[2] != rows["bob-login"].split("$")[2]
    # The IAM's users and clients too: its directory holds hashes, and still accepts the passwords.
    import json
    text = (auth_lake.data_dir / "iam" / "directory.json").read_text()
    assert "jdoe-password" not in text and "rucio-secret" not in text
    users = {u["username"]: u for u in json.loads(text)["users"]}
    assert users["jdoe"]["password_hash"].startswith("sha256i$") and "password" not in users["jdoe"]
    r = requests.post(f"{auth_lake.url}/iam/token", auth=("rucio", "rucio-secret"), timeout=10,
                      data={"grant_type": "password", "username": "jdoe", "password": "jdoe-password", "scope": "openid profile"})
    assert r.status_code == 200 and r.json()["access_token"]
    r = requests.post(f"{auth_lake.url}/iam/token", auth=("rucio", "rucio-secret"), timeout=10,
                      data={"grant_type": "password", "username": "jdoe", "password": "jdoe-passwordX", "scope": "openid profile"})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


def test_loopback_by_default_and_a_loud_warning_otherwise(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is not loopback and not on this machine: the warning comes before the bind fails, so the
    # test never listens beyond loopback.
    p = subprocess.run([BIN, "serve", "--data-dir", str(tmp_path / "a"), "--host", "192.0.2.1", "--port", str(free_port()), "--no-https"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "WARNING" in p.stderr and "not loopback" in p.stderr and "192.0.2.1" in p.stderr
    assert "Cannot listen on 192.0.2.1" in p.stderr
    # Without --host: 127.0.0.1 only (the kernel's socket table says so), and no warning.
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--data-dir", str(tmp_path / "b"), "--port", str(port), "--no-https"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Lakebed ready at" in line or len(lines) > 200:
                break
        assert f"Lakebed ready at http://127.0.0.1:{port}" in "".join(lines)
        assert not any("WARNING" in l for l in lines)
        listening = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for row in open(table).read().splitlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                addr, p = local.rsplit(":", 1)
                if int(p, 16) == port and state == "0A":  # LISTEN
                    listening.add(addr)
        assert listening == {"0100007F"}, listening  # 127.0.0.1, and nothing else
    finally:
        proc.terminate()
        proc.wait(timeout=10)
