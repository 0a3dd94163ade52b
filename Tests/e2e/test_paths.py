"""Names that become paths cannot reach outside their folder, and a lake that lost its catalog is not seeded over
(the outside review's worst finding: `POST /lakebed/snapshots/%2e%2e` removed the whole data folder)."""
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
