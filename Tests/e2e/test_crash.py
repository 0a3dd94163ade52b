"""kill -9 at random moments of a stream of uploads, rule additions and transfers never leaves the lake inconsistent,
and `lakebed check` is what says so (Scripts/crash-stress runs many more rounds)."""
import json
import subprocess

from conftest import BIN, Lake
from crashing import hash_path, run_rounds


def test_kill_9_rounds_lose_nothing(tmp_path):
    # Each round: fresh data folder, 3 clients streaming, kill -9 after a seeded number of acknowledged operations
    # plus a jitter, `lakebed check` on the dead lake's folder, restart, every acknowledged upload and rule there,
    # every rule OK after the clock runs, the online check consistent.
    results = run_rounds(5, seed=11, base_dir=tmp_path)
    assert len(results) == 5
    assert sum(r["acked_files"] for r in results) > 0 and sum(r["acked_rules"] for r in results) > 0
    assert sum(r["live_requests_at_kill"] for r in results) > 0, "no round was killed with transfers queued or in flight"


def test_check_reports_lost_and_altered_bytes(tmp_path, make_file):
    from rucio.client import Client
    from rucio.client.uploadclient import UploadClient
    data = tmp_path / "lake"
    lake = Lake(data, args=["--no-https"]).start()
    try:
        c = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        import os
        from conftest import write_cfg
        os.environ["RUCIO_CONFIG"] = str(write_cfg(tmp_path / "cfg", lake.url))
        for n in ("kept.dat", "lost.dat", "altered.dat"):
            f = make_file(n, 4000)
            UploadClient(_client=c).upload([{"path": str(f), "rse": "SITE-A", "did_scope": "user.root", "did_name": n}])
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
