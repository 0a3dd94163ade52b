"""A kill -9 in the middle of replication loses nothing: after a restart on the same data folder the transfer is
queued again and completes, and no replica is ever AVAILABLE without its bytes."""
import hashlib
import signal
import time

import requests

from conftest import Lake, control, run_rucio, write_cfg
from lakepaths import hash_path


def test_kill_during_replication_then_restart(tmp_path, make_file):
    from rucio.client import Client
    data = tmp_path / "lake"
    lake = Lake(data, args=["--time-scale", "0"]).start()
    try:
        c = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        # A slow link: 500 kB at 1 kB/s takes 500 lake seconds.
        control(lake, "PUT", "links/SITE-A/SITE-C", json={"bandwidth": 1000, "latency": 0})
        f = make_file("survivor.dat", 500_000)
        cfg = write_cfg(tmp_path / "cfg", lake.url)
        run_rucio("upload", "--rse", "SITE-A", "--scope", "user.root", str(f), cfg=cfg, env_extra={"TMPDIR": str(tmp_path / "cfg")})
        [rid] = c.add_replication_rule([{"scope": "user.root", "name": "survivor.dat"}], 1, "SITE-C")
        control(lake, "POST", "clock/advance", json={"seconds": 200})
        moving = control(lake, "GET", "transfers")
        assert [t["did"] for t in moving] == ["user.root:survivor.dat"] and 0 < moving[0]["transferred"] < 500_000
        req = c.list_request_by_did("survivor.dat", "SITE-C", scope="user.root")
        assert req["state"] == "SUBMITTED"
    finally:
        lake.proc.send_signal(signal.SIGKILL)
        lake.proc.wait(timeout=10)

    # Nothing half-written counts: the replica at SITE-C is still COPYING and has no bytes under its name.
    target = data / "rses" / "SITE-C" / hash_path("user.root", "survivor.dat")
    assert not target.exists()

    lake2 = Lake(data, args=["--time-scale", "0"])
    lake2.start()
    try:
        c = Client(rucio_host=lake2.url, auth_host=lake2.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        rule = c.get_replication_rule(rid)
        assert rule["state"] == "REPLICATING"
        reps = list(c.list_replicas([{"scope": "user.root", "name": "survivor.dat"}], all_states=True))
        assert reps[0]["states"] == {"SITE-A": "AVAILABLE", "SITE-C": "COPYING"}
        # The in-flight transfer was lost with the process; it is queued again and completes on the new clock.
        control(lake2, "PUT", "links/SITE-A/SITE-C", json={"bandwidth": 1000, "latency": 0})
        control(lake2, "POST", "clock/advance", json={"seconds": 600})
        assert c.get_replication_rule(rid)["state"] == "OK"
        assert target.read_bytes() == f.read_bytes()
        assert not list(target.parent.glob("*.lakebed-part"))
        req = c.list_request_by_did("survivor.dat", "SITE-C", scope="user.root")
        assert req["state"] == "DONE"
    finally:
        lake2.stop()
