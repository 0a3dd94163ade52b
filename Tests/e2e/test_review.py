"""What the outside review found (issue: reliability wave 2), each as the attacker or the unlucky user met it.

Names that become paths cannot reach outside their folder (the worst finding: `POST /lakebed/snapshots/%2e%2e`
removed the whole data folder); a lake that lost its catalog is not seeded over; credentials end when they should;
a clean stop leaves the whole catalog in catalog.sqlite, with no usable token in it, in a folder only its owner opens.
"""
import sqlite3
import stat
import subprocess

import requests
from conftest import BIN, Lake


def test_dot_segment_snapshot_names_are_refused_and_nothing_is_lost(tmp_path):
    lake = Lake(tmp_path / "lake").start()
    try:
        # Percent-encoded, as the attacker sent them (a client resolves literal dot-segments before sending).
        for name in ["%2e%2e", "%2E%2e", "%2e", "..%2F..%2Fx", "a%2Fb"]:
            r = requests.post(f"{lake.url}/lakebed/snapshots/{name}", timeout=30)
            assert r.status_code == 400, (name, r.status_code, r.text)
            assert r.json()["error"] == "ValueError", r.text
            r = requests.post(f"{lake.url}/lakebed/snapshots/{name}/restore", timeout=30)
            assert r.status_code in (400, 404), (name, r.status_code, r.text)
        # The lake is whole: its catalog, its seed snapshot, and it still answers and checks consistent.
        assert (lake.data_dir / "catalog.sqlite").is_file()
        assert (lake.data_dir / "snapshots" / "seed").is_dir()
        assert not [p for p in (lake.data_dir / "snapshots").iterdir() if p.name.endswith(".partial")]
        assert requests.get(f"{lake.url}/lakebed/check", timeout=60).json()["consistent"] is True
        assert requests.post(f"{lake.url}/lakebed/reset", timeout=60).status_code == 200
    finally:
        lake.stop()


def test_a_folder_that_lost_its_catalog_is_not_seeded_over(tmp_path):
    lake = Lake(tmp_path / "lake").start()
    lake.stop()
    for f in ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"):
        (lake.data_dir / f).unlink(missing_ok=True)
    before = sorted(p.relative_to(lake.data_dir) for p in (lake.data_dir / "rses").rglob("*"))
    r = subprocess.run([BIN, "serve", "--data-dir", str(lake.data_dir), "--port", "0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "no catalog.sqlite" in r.stderr and "will not seed" in r.stderr, r.stderr
    assert not (lake.data_dir / "catalog.sqlite").exists()
    assert sorted(p.relative_to(lake.data_dir) for p in (lake.data_dir / "rses").rglob("*")) == before


def test_suspending_an_account_or_removing_its_identity_ends_its_tokens_at_once(lake, client):
    """The outside review: a suspended account's token kept working once cached. Now suspension, and removing the
    identity a token was issued to, end that token on the very next request."""
    for acct in ("suspendme", "unbindme"):
        client.add_account(acct, "USER", f"{acct}@example.org")
        client.add_identity(acct, acct, "USERPASS", f"{acct}@example.org", default=True, password="pw-" + acct)

    def login(acct):
        r = requests.get(f"{lake.url}/auth/userpass", headers={"X-Rucio-Username": acct, "X-Rucio-Password": "pw-" + acct,
                                                                "X-Rucio-Account": acct}, timeout=30)
        assert r.status_code == 200, r.text
        return {"X-Rucio-Auth-Token": r.headers["X-Rucio-Auth-Token"]}

    for acct, end in (("suspendme", lambda: client.update_account(acct, "status", "SUSPENDED")),
                      ("unbindme", lambda: client.del_identity(acct, acct, "USERPASS"))):
        h = login(acct)
        assert requests.get(f"{lake.url}/accounts/whoami", headers=h, timeout=30).status_code in (200, 303)
        assert requests.get(f"{lake.url}/scopes/", headers=h, timeout=30).status_code == 200  # now cached
        end()
        r = requests.get(f"{lake.url}/scopes/", headers=h, timeout=30)
        assert r.status_code == 401, (acct, r.status_code, r.text)
        assert r.headers["ExceptionClass"] == "CannotAuthenticate"


def test_a_clean_stop_checkpoints_and_the_folder_holds_no_usable_token(tmp_path):
    lake = Lake(tmp_path / "lake").start()
    r = requests.get(f"{lake.url}/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret",
                                                            "X-Rucio-Account": "root"}, timeout=30)
    token = r.headers["X-Rucio-Auth-Token"]
    assert requests.get(f"{lake.url}/scopes/", headers={"X-Rucio-Auth-Token": token}, timeout=30).status_code == 200
    lake.stop()
    wal = lake.data_dir / "catalog.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0, f"the WAL still holds {wal.stat().st_size} bytes after a clean stop"
    assert stat.S_IMODE(lake.data_dir.stat().st_mode) == 0o700
    db = sqlite3.connect(f"file:{lake.data_dir / 'catalog.sqlite'}?mode=ro", uri=True)
    stored = [row[0] for row in db.execute("SELECT token FROM tokens")]
    db.close()
    assert stored and token not in stored and all(t.startswith("sha256:") for t in stored), stored
    # The lake starts again from the checkpointed file alone, and the token still works.
    lake.start()
    try:
        assert requests.get(f"{lake.url}/scopes/", headers={"X-Rucio-Auth-Token": token}, timeout=30).status_code == 200
    finally:
        lake.stop()


def test_a_search_with_a_thousand_unknown_parameters_is_a_4xx_not_a_500(lake, client):
    r = requests.get(f"{lake.url}/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret",
                                                            "X-Rucio-Account": "root"}, timeout=30)
    h = {"X-Rucio-Auth-Token": r.headers["X-Rucio-Auth-Token"]}
    params = {f"key{i}": "x" for i in range(1000)}
    r = requests.get(f"{lake.url}/dids/test/dids/search", params=params, headers=h, timeout=60)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.headers["ExceptionClass"] == "DIDFilterSyntaxError"
    # The lake is fine, and an ordinary search still answers.
    assert requests.get(f"{lake.url}/dids/test/dids/search", params={"name": "*"}, headers=h, timeout=60).status_code == 200


def test_web_pages_of_other_sites_cannot_use_a_loopback_lake(lake):
    """DNS rebinding (a foreign Host) got a root token; a cross-site form (a foreign Origin) could reset the lake."""
    creds = {"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret", "X-Rucio-Account": "root"}
    r = requests.get(f"{lake.url}/auth/userpass", headers={**creds, "Host": f"attacker.example:{lake.port}"}, timeout=30)
    assert r.status_code == 403 and "X-Rucio-Auth-Token" not in r.headers, (r.status_code, r.headers)
    assert r.headers["ExceptionClass"] == "AccessDenied"
    for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example"):
        r = requests.post(f"{lake.url}/lakebed/inject", data="fault=site-c-unreachable",
                          headers={"Origin": origin, "Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
        assert r.status_code == 403, (origin, r.status_code, r.text)
        r = requests.post(f"{lake.url}/lakebed/reset", headers={"Origin": origin, "Content-Type": "text/plain"}, timeout=30)
        assert r.status_code == 403, (origin, r.status_code, r.text)
    kinds = {e.get("kind") for e in requests.get(f"{lake.url}/lakebed/events", timeout=30).json()}
    assert not kinds & {"scenario.reset", "scenario.fault"}, kinds
    # The lake's own pages and clients still work: a loopback origin, localhost or 127.0.0.1 as Host, or no Origin.
    assert requests.get(f"{lake.url}/auth/userpass", headers={**creds, "Origin": f"http://127.0.0.1:{lake.port}"},
                        timeout=30).status_code == 200
    assert requests.get(f"{lake.url}/auth/userpass", headers={**creds, "Host": f"localhost:{lake.port}"}, timeout=30).status_code == 200
    assert requests.get(f"{lake.url}/ping", timeout=30).status_code == 200


def test_a_second_lake_on_the_same_folder_is_refused_with_the_running_ones_pid_and_url(tmp_path):
    lake = Lake(tmp_path / "lake").start()
    try:
        r = subprocess.run([BIN, "serve", "--data-dir", str(lake.data_dir), "--port", "0"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, r.stdout + r.stderr
        assert f"pid {lake.proc.pid}" in r.stderr and lake.url in r.stderr, r.stderr
        assert requests.get(f"{lake.url}/ping", timeout=30).status_code == 200
    finally:
        lake.stop()
    # Once it has stopped, the folder is free again.
    lake.start()
    lake.stop()


def test_serve_fresh_starts_the_default_lake_over(tmp_path):
    """Running the walkthrough twice failed with DataIdentifierAlreadyExists, and --fresh without --scenario did
    nothing: now it starts the default lake over."""
    lake = Lake(tmp_path / "lake").start()
    h = {"X-Rucio-Auth-Token": requests.get(f"{lake.url}/auth/userpass", headers={
        "X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret", "X-Rucio-Account": "root"}, timeout=30).headers["X-Rucio-Auth-Token"]}
    assert requests.post(f"{lake.url}/dids/user.root/walkthrough", json={"type": "DATASET"}, headers=h, timeout=30).status_code == 201
    lake.stop()
    lake.args = ["--fresh"]
    lake.start()
    try:
        h = {"X-Rucio-Auth-Token": requests.get(f"{lake.url}/auth/userpass", headers={
            "X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret", "X-Rucio-Account": "root"}, timeout=30).headers["X-Rucio-Auth-Token"]}
        assert requests.get(f"{lake.url}/dids/user.root/walkthrough", headers=h, timeout=30).status_code == 404
        assert requests.get(f"{lake.url}/dids/demo/lofar.L630262", headers=h, timeout=30).status_code == 200
    finally:
        lake.stop()
