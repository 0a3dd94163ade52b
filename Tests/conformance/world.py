"""The world both servers get, built through the real client only (never assuming what Lakebed seeds).

Names are the suite's own (CONF-*, conf, user.confuser, confuser), so Lakebed's default lake (SITE-A/B/C,
user.root/test/demo) does not collide. What each call returned (ids, PFN prefixes) is kept in `side.world`, so a
case can address the same thing on both servers.
"""
import json
import os
import pathlib
import subprocess
import sys

RSE1, RSE2, RSE3 = "CONF-DISK-1", "CONF-DISK-2", "CONF-TAPE"
SCOPE, USCOPE = "conf", "user.confuser"
USER, USERPW = "confuser", "confuser-pw"
FILES = ["file1.dat", "file2.dat", "file3.dat"]


def build_in_subprocess(side, cfg):
    """Builds the world in a process of its own: the client's configuration, rsemanager's RSE cache and the client
    it creates for itself are per process, so each server gets a process whose RUCIO_CONFIG points at it."""
    out = side.dir / "world.json"
    env = dict(os.environ, RUCIO_CONFIG=str(cfg), RUCIO_CLIENT_MODE="1", TMPDIR=str(side.dir))
    p = subprocess.run([sys.executable, __file__, side.url, str(side.storage or ""), str(side.dir), str(out)],
                       env=env, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"building the world on {side.name} failed:\n{p.stdout}\n{p.stderr[-6000:]}")
    side.world.update(json.loads(out.read_text()))


class _Side:
    def __init__(self, url, storage, workdir):
        self.url, self.storage, self.dir, self.world = url, storage or None, pathlib.Path(workdir), {}

    def client(self):
        from rucio.client import Client
        return Client(rucio_host=self.url, auth_host=self.url, account="root", auth_type="userpass",
                      creds={"username": "ddmlab", "password": "secret"})

    def login(self, username, password, account):
        import requests
        r = requests.get(self.url + "/auth/userpass", timeout=30, headers={
            "X-Rucio-Username": username, "X-Rucio-Password": password, "X-Rucio-Account": account})
        r.raise_for_status()
        return r.headers["X-Rucio-Auth-Token"]


def build(side):
    c = side.client()
    w = side.world
    w.update(rse1=RSE1, rse2=RSE2, rse3=RSE3, scope=SCOPE, uscope=USCOPE, user=USER)
    c.add_rse(RSE1, deterministic=True, country_name="CH", city="Geneva")
    c.add_rse(RSE2, deterministic=True, country_name="NL")
    c.add_rse(RSE3, rse_type="TAPE", deterministic=True)
    for rse in (RSE1, RSE2, RSE3):
        if side.storage is not None:   # a posix directory per RSE, as Rucio's dev environment gives its RSEs
            d = pathlib.Path(side.storage) / rse
            d.mkdir(parents=True, exist_ok=True)
            c.add_protocol(rse, {"scheme": "file", "hostname": "localhost", "port": 0, "prefix": str(d) + "/",
                                 "impl": "rucio.rse.protocols.posix.Default",
                                 "domains": {"lan": {"read": 1, "write": 1, "delete": 1},
                                             "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1,
                                                     "third_party_copy_write": 1}}})
        c.add_protocol(rse, {"scheme": "root", "hostname": "xrootd.example.org", "port": 1094, "prefix": "/conf/",
                             "impl": "rucio.rse.protocols.xrootd.Default",
                             "domains": {"lan": {"read": 3, "write": 3, "delete": 3},
                                         "wan": {"read": 3, "write": 3, "delete": 3, "third_party_copy_read": 3,
                                                 "third_party_copy_write": 3}}})
    c.add_rse_attribute(RSE1, "tier", "1")
    c.add_rse_attribute(RSE2, "tier", "2")
    c.add_rse_attribute(RSE3, "tier", "3")
    c.add_rse_attribute(RSE1, "conftest", True)
    c.add_distance(RSE1, RSE2, {"distance": 1})
    c.add_distance(RSE2, RSE1, {"distance": 1})
    c.add_account(USER, "USER", "confuser@example.org")
    c.add_identity(USER, USER, "USERPASS", "confuser@example.org", default=True, password=USERPW)
    c.add_scope("root", SCOPE)
    c.add_scope(USER, USCOPE)
    for acct in ("root", USER):
        for rse in (RSE1, RSE2, RSE3):
            c.set_local_account_limit(acct, rse, 10 ** 12)
    c.set_global_account_limit(USER, "tier=1", 10 ** 12)
    c.add_account_attribute(USER, "confattr", "yes")

    # Files with real bytes, through the real UploadClient (posix), each with its upload's rule.
    from rucio.client.uploadclient import UploadClient
    src = side.dir / "upload"
    src.mkdir(exist_ok=True)
    items = []
    for i, name in enumerate(FILES):
        p = src / name
        p.write_bytes(os.urandom(1000 + i))
        items.append({"path": str(p), "rse": RSE1, "did_scope": SCOPE, "did_name": name, "force_scheme": "file"})
    UploadClient(_client=c).upload(items)
    c.add_dataset(SCOPE, "ds1", meta={"project": "conformance"})
    c.attach_dids(SCOPE, "ds1", [{"scope": SCOPE, "name": n} for n in FILES[:2]])
    c.add_dataset(SCOPE, "ds2")
    c.add_container(SCOPE, "cont1")
    c.attach_dids(SCOPE, "cont1", [{"scope": SCOPE, "name": "ds1"}, {"scope": SCOPE, "name": "ds2"}])
    c.set_metadata(SCOPE, "file1.dat", "project", "conformance")
    c.close(SCOPE, "ds2")
    w["rule_ds1"] = c.add_replication_rule([{"scope": SCOPE, "name": "ds1"}], 1, RSE2, comment="conf")[0]
    w["rule_file3"] = c.add_replication_rule([{"scope": SCOPE, "name": "file3.dat"}], 1, RSE2, lifetime=86400)[0]
    w["rule_upload"] = next(r["id"] for r in c.list_did_rules(SCOPE, "file1.dat") if r["rse_expression"] == RSE1)
    w["user_token"] = side.login(USER, USERPW, USER)
    w["rse1_id"] = c.get_rse(RSE1)["id"]
    import datetime
    w["soon"] = (datetime.datetime.utcnow() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S")
    return w


if __name__ == "__main__":
    url, storage, workdir, out = sys.argv[1:5]
    w = build(_Side(url, storage, workdir))
    pathlib.Path(out).write_text(json.dumps(w))
