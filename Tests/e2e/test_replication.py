"""Rules that replicate: the real CLI and client against Lakebed's rule engine and emulated FTS, on a manual clock."""
import hashlib
import json
import re

from conftest import control, run_rucio
from lakepaths import hash_path


def cli(lake, *args, check=True):
    return run_rucio(*args, cfg=lake.cfg, env_extra=lake.env, check=check)


def rule_state(lake, rule_id):
    return lake.client.get_replication_rule(rule_id)["state"]


def test_rule_replicates_then_removal_reaps(manual_lake, make_file, tmp_path):
    lake, c = manual_lake, manual_lake.client
    f = make_file("replicated.dat", 200_000)
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    c.add_dataset("user.root", "replds")
    c.attach_dids("user.root", "replds", [{"scope": "user.root", "name": "replicated.dat"}])

    _, out, _ = cli(lake, "rule", "add", "--copies", "2", "user.root:replds", "--rses", "country=CH|country=NL")
    rule_id = re.search(r"[0-9a-f]{32}", out).group(0)
    rule = c.get_replication_rule(rule_id)
    assert rule["state"] == "REPLICATING"
    assert (rule["locks_ok_cnt"], rule["locks_replicating_cnt"]) == (1, 1)
    # The missing replica became a transfer request handed to the emulated FTS.
    req = c.list_request_by_did("replicated.dat", "SITE-B", scope="user.root")
    assert req["state"] in ("QUEUED", "SUBMITTED") and req["dest_rse"] == "SITE-B"

    control(lake, "POST", "clock/advance", json={"seconds": 60})
    assert rule_state(lake, rule_id) == "OK"
    _, out, _ = cli(lake, "rule", "show", rule_id)
    assert re.search(r"State:\s+OK", out)
    _, out, _ = cli(lake, "replica", "list", "file", "user.root:replicated.dat")
    assert "SITE-A" in out and "SITE-B" in out
    copied = lake.rse_dir("SITE-B") / hash_path("user.root", "replicated.dat")
    assert copied.read_bytes() == f.read_bytes()
    req = c.list_request_by_did("replicated.dat", "SITE-B", scope="user.root")
    assert req["state"] == "DONE" and req["source_rse"] == "SITE-A"
    done = list(c.list_requests("SITE-A", "SITE-B", ["D"]))
    assert any(r["name"] == "replicated.dat" for r in done)

    cli(lake, "rule", "remove", rule_id)
    control(lake, "POST", "clock/advance", json={"seconds": 5})
    assert not copied.exists()
    reps = list(c.list_replicas([{"scope": "user.root", "name": "replicated.dat"}]))
    assert set(reps[0]["rses"]) == {"SITE-A"}
    # The upload's own rule still protects the SITE-A copy.
    assert (lake.rse_dir("SITE-A") / hash_path("user.root", "replicated.dat")).exists()


def test_failing_link_makes_rule_stuck_then_recovers(manual_lake, make_file):
    lake, c = manual_lake, manual_lake.client
    f = make_file("faraway.dat", 4096)
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    control(lake, "PUT", "links/SITE-A/SITE-C", json={"down": True, "failure_reason": "TRANSFER [110] Connection timed out (SITE-C unreachable)"})
    [rule_id] = c.add_replication_rule([{"scope": "user.root", "name": "faraway.dat"}], 1, "SITE-C")
    control(lake, "POST", "clock/advance", json={"seconds": 300})

    rule = c.get_replication_rule(rule_id)
    assert rule["state"] == "STUCK"
    assert rule["locks_stuck_cnt"] == 1
    assert "Connection timed out" in rule["error"]
    _, out, _ = cli(lake, "rule", "show", rule_id)
    assert re.search(r"State:\s+STUCK", out) and "Connection timed out" in out
    _, out, _ = cli(lake, "rule", "show", "--examine", rule_id)
    assert "user.root:faraway.dat" in out and "Connection timed out" in out and "SITE-A" in out
    req = c.list_request_by_did("faraway.dat", "SITE-C", scope="user.root")
    assert req["state"] == "FAILED" and req["retry_count"] == 3

    control(lake, "PUT", "links/SITE-A/SITE-C", json={"down": False})
    control(lake, "POST", "clock/advance", json={"seconds": 900})
    rule = c.get_replication_rule(rule_id)
    assert rule["state"] == "OK" and rule["error"] is None
    assert (lake.rse_dir("SITE-C") / hash_path("user.root", "faraway.dat")).read_bytes() == f.read_bytes()
    links = control(lake, "GET", "links")
    stats = {(s["source"], s["destination"]): s for s in links["stats"]}
    assert stats[("SITE-A", "SITE-C")]["failed"] == 3 and stats[("SITE-A", "SITE-C")]["finished"] == 1


def test_reduce_and_move(manual_lake, make_file):
    lake, c = manual_lake, manual_lake.client
    f = make_file("movable.dat", 1000)
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    [rid] = c.add_replication_rule([{"scope": "user.root", "name": "movable.dat"}], 2, "SITE-B|SITE-C")
    control(lake, "POST", "clock/advance", json={"seconds": 60})
    assert rule_state(lake, rid) == "OK"
    [reduced] = c.reduce_replication_rule(rid, 1, exclude_expression="SITE-C")
    assert c.get_replication_rule(reduced)["copies"] == 1
    locks = list(c.list_replica_locks(reduced))
    assert [l["rse"] for l in locks] == ["SITE-B"]
    moved = c.move_replication_rule(reduced, "SITE-C", override={})
    control(lake, "POST", "clock/advance", json={"seconds": 60})
    assert rule_state(lake, moved) == "OK"
    rules = [r["id"] for r in c.list_did_rules("user.root", "movable.dat")]
    assert reduced not in rules and moved in rules


def test_fts3_client_moves_bytes_between_storage_urls(manual_lake, make_file, tmp_path):
    import pathlib
    import subprocess
    import sys
    import requests
    lake = manual_lake
    # A Rucio token serves as the bearer token for the FTS emulation.
    tok = requests.get(f"{lake.url}/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret"}).headers["X-Rucio-Auth-Token"]
    control(lake, "PUT", "clock", json={"scale": 1})
    try:
        src = lake.rse_dir("SITE-A") / "fts" / "input.bin"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(b"fts bytes " * 1000)
        dst = lake.rse_dir("SITE-B") / "fts" / "output.bin"
        bindir = pathlib.Path(sys.executable).parent
        p = subprocess.run([str(bindir / "fts-rest-transfer-submit"), "-s", f"{lake.url}/fts", "--access-token", tok, "--blocking",
                            "-i", "1", f"file://{src}", f"file://{dst}"], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        job_id = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", p.stdout + p.stderr).group(0)
        assert dst.read_bytes() == src.read_bytes()
        p = subprocess.run([str(bindir / "fts-rest-transfer-status"), "-s", f"{lake.url}/fts", "--access-token", tok, "-j", job_id],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        status = json.loads(p.stdout)
        assert status["job_state"] == "FINISHED"
        # Without a token FTS refuses.
        r = requests.get(f"{lake.url}/fts//jobs/{job_id}")
        assert r.status_code == 401
        r = requests.get(f"{lake.url}/fts//jobs/{job_id}/files", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200 and r.json()[0]["file_state"] == "FINISHED"
    finally:
        control(lake, "PUT", "clock", json={"scale": 0})
