"""`lakebed serve --empty`: a lake as bare as a fresh Rucio, bootstrapped with the real client the way Rucio's dev
environment does it (RSEs, attributes, distances, limits, a scope), then used: upload, a 2-copy rule, download, reap."""
import hashlib
import re

from conftest import Lake, control, run_rucio, write_cfg
from lakepaths import hash_path


def test_an_empty_lake_is_bootstrapped_by_the_client_then_replicates(tmp_path, make_file):
    from rucio.client import Client
    lake = Lake(tmp_path / "lake", args=["--empty", "--time-scale", "0"]).start()
    try:
        cfgdir = tmp_path / "cfg"
        cfgdir.mkdir()
        cfg = write_cfg(cfgdir, lake.url)
        env = {"TMPDIR": str(cfgdir)}
        c = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        # As fresh as Rucio after create_root_account: root, no RSEs, no scopes.
        assert list(c.list_rses()) == []
        assert [a["account"] for a in c.list_accounts()] == ["root"]
        assert list(c.list_scopes()) == []

        for name, country in (("XRD1", "CH"), ("XRD2", "NL"), ("XRD3", "US")):
            c.add_rse(name)
            c.add_rse_attribute(name, "country", country)
            c.add_rse_attribute(name, "fakeweight", 10)
            c.set_local_account_limit("root", name, 10**12)
        c.add_distance("XRD1", "XRD2", {"distance": 1})
        c.add_distance("XRD1", "XRD3", {"distance": 2})
        c.add_scope("root", "test")
        assert sorted(r["rse"] for r in c.list_rses()) == ["XRD1", "XRD2", "XRD3"]

        f = make_file("boot.dat", 40_000)
        run_rucio("upload", "--rse", "XRD1", "--scope", "test", str(f), cfg=cfg, env_extra=env)
        _, out, _ = run_rucio("rule", "add", "--copies", "2", "test:boot.dat", "--rses", "country=NL|country=US", cfg=cfg, env_extra=env)
        rule_id = re.search(r"[0-9a-f]{32}", out).group(0)
        control(lake, "POST", "clock/advance", json={"seconds": 120})
        assert c.get_replication_rule(rule_id)["state"] == "OK"
        reps = list(c.list_replicas([{"scope": "test", "name": "boot.dat"}]))[0]
        assert set(reps["rses"]) == {"XRD1", "XRD2", "XRD3"}
        for rse in ("XRD2", "XRD3"):
            assert (lake.rse_dir(rse) / hash_path("test", "boot.dat")).read_bytes() == f.read_bytes()
        down = tmp_path / "down"
        run_rucio("download", "--dir", str(down), "test:boot.dat", cfg=cfg, env_extra=env)
        assert hashlib.md5((down / "test" / "boot.dat").read_bytes()).hexdigest() == hashlib.md5(f.read_bytes()).hexdigest()

        run_rucio("rule", "remove", rule_id, cfg=cfg, env_extra=env)
        control(lake, "POST", "clock/advance", json={"seconds": 120})
        left = set(list(c.list_replicas([{"scope": "test", "name": "boot.dat"}]))[0]["rses"])
        assert left == {"XRD1"}  # the upload's own rule keeps the XRD1 copy; the reaper took the others
        for rse in ("XRD2", "XRD3"):
            assert not (lake.rse_dir(rse) / hash_path("test", "boot.dat")).exists()
    finally:
        lake.stop()
