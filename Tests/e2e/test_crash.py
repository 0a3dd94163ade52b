"""kill -9 at random moments of a stream of uploads, rule additions and transfers never leaves the lake inconsistent,
and `lakebed check` is what says so (Scripts/crash-stress runs many more rounds)."""
import json
import subprocess

from conftest import BIN, Lake
from crashing import check_offline, hash_path, run_rounds


def test_kill_9_rounds_lose_nothing(tmp_path):
    # Each round: fresh data folder, 3 clients streaming, kill -9 after a seeded number of acknowledged operations
    # plus a jitter, `lakebed check` on the dead lake's folder, restart, every acknowledged upload and rule there,
    # every rule OK after the clock runs, the online check consistent.
    results = run_rounds(5, seed=11, base_dir=tmp_path)
    assert len(results) == 5
    assert sum(r["acked_files"] for r in results) > 0 and sum(r["acked_rules"] for r in results) > 0
    assert sum(r["live_requests_at_kill"] for r in results) > 0, "no round was killed with transfers queued or in flight"


def test_check_reports_lost_and_altered_bytes(tmp_path, make_file):
    from conftest import run_rucio, write_cfg
    data = tmp_path / "lake"
    lake = Lake(data, args=["--no-https"]).start()
    try:
        # The CLI in its own process: the client caches its configuration per process, and this lake is private.
        cfg = write_cfg(tmp_path / "cfg", lake.url)
        files = [str(make_file(n, 4000)) for n in ("kept.dat", "lost.dat", "altered.dat")]
        run_rucio("upload", "--rse", "SITE-A", "--scope", "user.root", *files, cfg=cfg, env_extra={"TMPDIR": str(tmp_path / "cfg")})
    finally:
        lake.stop()
    ok = subprocess.run([BIN, "check", "--data-dir", str(data)], capture_output=True, text=True)
    assert ok.returncode == 0 and "Consistent" in ok.stdout, ok.stdout + ok.stderr

    site_a = data / "rses" / "SITE-A"
    (site_a / hash_path("user.root", "lost.dat")).unlink()
    altered = site_a / hash_path("user.root", "altered.dat")
    altered.write_bytes(bytes(b ^ 1 for b in altered.read_bytes()))
    bad = subprocess.run([BIN, "check", "--data-dir", str(data), "--json"], capture_output=True, text=True)
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    details = sorted(p["detail"] for p in report["problems"])
    assert [p["kind"] for p in report["problems"]] == ["available-without-bytes"] * 2
    assert "user.root:altered.dat at SITE-A is AVAILABLE with adler32" in details[0]
    assert "user.root:lost.dat at SITE-A is AVAILABLE but" in details[1] and "does not exist" in details[1]


def test_start_killed_while_seeding_seeds_again(tmp_path, monkeypatch):
    from conftest import free_port
    data = tmp_path / "lake"
    # The first start dies (SIGKILL) after the demo dataset exists and before its files do.
    p = subprocess.run([BIN, "serve", "--data-dir", str(data), "--port", str(free_port()), "--no-https"],
                       capture_output=True, text=True, timeout=60, env={**__import__("os").environ, "LAKEBED_CRASH_POINT": "seed:datasets"})
    assert p.returncode == -9 and (data / ".seeding").exists()
    lake = Lake(data, args=["--no-https"]).start()
    try:
        c = client_for(lake)
        files = sorted(f["name"] for f in c.list_files("demo", "lofar.L630262"))
        assert files == [f"L630262_SB{i}_uv.MS.tar" for i in range(4)]
        assert not (data / ".seeding").exists()
        assert requests_get(lake, "/lakebed/check")["consistent"]
    finally:
        lake.stop()


def test_reset_killed_midway_is_finished_at_the_next_start(tmp_path, monkeypatch):
    import zlib
    import requests
    data = tmp_path / "lake"
    monkeypatch.setenv("LAKEBED_CRASH_POINT", "restore:catalog")
    lake = Lake(data, args=["--no-https", "--time-scale", "0"]).start()
    c = client_for(lake)
    # A file registered without a rule, kept in a snapshot, then deleted (bytes and all).
    body = b"kept by the snapshot" * 100
    rel = hash_path("user.root", "snap.dat")
    assert requests.put(f"{lake.url}/storage/SITE-A/{rel}", data=body, timeout=10).status_code in (200, 201, 204)
    c.add_replicas("SITE-A", [{"scope": "user.root", "name": "snap.dat", "bytes": len(body), "adler32": f"{zlib.adler32(body) & 0xffffffff:08x}"}])
    assert requests.post(f"{lake.url}/lakebed/snapshots/with-file", timeout=30).status_code == 200
    c.delete_replicas("SITE-A", [{"scope": "user.root", "name": "snap.dat"}])
    on_disk = data / "rses" / "SITE-A" / rel
    assert not on_disk.exists()
    # The restore dies after the catalog is back and before the RSE directories are.
    try:
        requests.post(f"{lake.url}/lakebed/snapshots/with-file/restore", timeout=30)
    except requests.ConnectionError:
        pass
    assert lake.proc.wait(timeout=10) == -9
    code, report = check_offline(data)
    assert code == 1 and [p["kind"] for p in report["problems"]] == ["available-without-bytes"], report
    monkeypatch.delenv("LAKEBED_CRASH_POINT")
    lake2 = Lake(data, args=["--no-https", "--time-scale", "0"]).start()
    try:
        assert requests_get(lake2, "/lakebed/check")["consistent"]
        assert on_disk.read_bytes() == body
        [rep] = list(client_for(lake2).list_replicas([{"scope": "user.root", "name": "snap.dat"}]))
        assert list(rep["rses"]) == ["SITE-A"]
    finally:
        lake2.stop()


def client_for(lake):
    from rucio.client import Client
    return Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                  creds={"username": "ddmlab", "password": "secret"})


def requests_get(lake, path):
    import requests
    r = requests.get(f"{lake.url}{path}", timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_snapshot_killed_midway_leaves_no_half_snapshot(tmp_path):
    import os
    from conftest import free_port
    data = tmp_path / "lake"
    # The first start's seed snapshot is cut off after the copy, before it is renamed into place.
    p = subprocess.run([BIN, "serve", "--data-dir", str(data), "--port", str(free_port()), "--no-https"],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "LAKEBED_CRASH_POINT": "snapshot:copied"})
    assert p.returncode == -9
    assert (data / "snapshots" / "seed.partial" / "catalog.sqlite").exists() and not (data / "snapshots" / "seed").exists()
    lake = Lake(data, args=["--no-https"]).start()
    try:
        # Seeded again, with a whole seed snapshot that a reset can go back to.
        assert (data / "snapshots" / "seed" / "scenario.json").exists() and not (data / ".seeding").exists()
        c = client_for(lake)
        c.add_dataset("user.root", "after-seed")
        assert requests_get(lake, "/lakebed/check")["consistent"]
        import requests
        assert requests.post(f"{lake.url}/lakebed/reset", timeout=60).status_code == 200
        assert "after-seed" not in [d for d in c.list_dids("user.root", {"name": "*"}, did_type="all")]
        assert len(list(c.list_files("demo", "lofar.L630262"))) == 4
    finally:
        lake.stop()
