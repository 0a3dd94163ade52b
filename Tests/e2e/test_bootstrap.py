"""`lakebed serve --empty`: a lake as bare as a fresh Rucio, bootstrapped with the real client the way Rucio's dev
environment does it (RSEs, protocols with the client's own prefixes, attributes, distances, limits, a scope), then
used: upload, a 2-copy rule, download, reap. The bytes live exactly where the client's protocols say."""
import hashlib
import re
import subprocess

from conftest import Lake, control, free_port, run_rucio, write_cfg
from lakepaths import hash_path

POSIX = "rucio.rse.protocols.posix.Default"
ALL = {"lan": {"read": 1, "write": 1, "delete": 1},
       "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1, "third_party_copy_write": 1}}


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

        storage = tmp_path / "sites"  # the client's own folders, as in Rucio's dev environment (/tmp/XRD1/...)
        for name, country in (("XRD1", "CH"), ("XRD2", "NL"), ("XRD3", "US")):
            c.add_rse(name)
            # An RSE added through the API has no protocol until the client adds one; its file protocol on
            # localhost:0 is the client's, not a duplicate of one Lakebed made.
            assert c.get_rse(name)["protocols"] == []
            c.add_protocol(name, {"scheme": "file", "hostname": "localhost", "port": 0, "impl": POSIX,
                                  "prefix": f"{storage}/{name.lower()}/rucio/", "domains": ALL})
            c.add_rse_attribute(name, "country", country)
            c.add_rse_attribute(name, "fakeweight", 10)
            c.set_local_account_limit("root", name, 10**12)
        c.add_distance("XRD1", "XRD2", {"distance": 1})
        c.add_distance("XRD1", "XRD3", {"distance": 2})
        c.add_scope("root", "test")
        assert sorted(r["rse"] for r in c.list_rses()) == ["XRD1", "XRD2", "XRD3"]
        # Lakebed created the folders the prefixes name, and nothing under its own data folder for them.
        assert all((storage / n / "rucio").is_dir() for n in ("xrd1", "xrd2", "xrd3"))
        assert not (lake.data_dir / "rses").exists() or list((lake.data_dir / "rses").iterdir()) == []

        f = make_file("boot.dat", 40_000)
        run_rucio("upload", "--rse", "XRD1", "--scope", "test", str(f), cfg=cfg, env_extra=env)
        # The client wrote where its lfn2pfn puts the file under XRD1's prefix, and Lakebed found it there.
        assert (storage / "xrd1" / "rucio" / hash_path("test", "boot.dat")).read_bytes() == f.read_bytes()
        _, out, _ = run_rucio("rule", "add", "--copies", "2", "test:boot.dat", "--rses", "country=NL|country=US", cfg=cfg, env_extra=env)
        rule_id = re.search(r"[0-9a-f]{32}", out).group(0)
        control(lake, "POST", "clock/advance", json={"seconds": 120})
        assert c.get_replication_rule(rule_id)["state"] == "OK"
        reps = list(c.list_replicas([{"scope": "test", "name": "boot.dat"}]))[0]
        assert set(reps["rses"]) == {"XRD1", "XRD2", "XRD3"}
        for rse in ("XRD2", "XRD3"):
            where = storage / rse.lower() / "rucio" / hash_path("test", "boot.dat")
            assert where.read_bytes() == f.read_bytes()
            assert reps["rses"][rse] == [f"file://localhost{where}"]
        down = tmp_path / "down"
        run_rucio("download", "--dir", str(down), "--rses", "XRD3", "test:boot.dat", cfg=cfg, env_extra=env)
        assert hashlib.md5((down / "test" / "boot.dat").read_bytes()).hexdigest() == hashlib.md5(f.read_bytes()).hexdigest()
        _, out, _ = run_rucio("replica", "list", "file", "test:boot.dat", "--pfns", cfg=cfg, env_extra=env, check=False)

        run_rucio("rule", "remove", rule_id, cfg=cfg, env_extra=env)
        control(lake, "POST", "clock/advance", json={"seconds": 120})
        left = set(list(c.list_replicas([{"scope": "test", "name": "boot.dat"}]))[0]["rses"])
        assert left == {"XRD1"}  # the upload's own rule keeps the XRD1 copy; the reaper took the others
        for rse in ("XRD2", "XRD3"):
            assert not (storage / rse.lower() / "rucio" / hash_path("test", "boot.dat")).exists()
    finally:
        lake.stop()


def test_an_https_protocol_on_lakebeds_endpoint_is_served_under_its_prefix(tmp_path, make_file):
    """A client's davs/https protocol naming Lakebed's host and HTTPS port, with a prefix of its own choosing, is served
    by Lakebed's WebDAV there: `rucio upload --protocol https` and download go through it."""
    import requests
    from rucio.client import Client
    https_port = free_port()
    lake = Lake(tmp_path / "lake", args=["--empty", "--time-scale", "0", "--https-port", str(https_port)]).start()
    try:
        cfgdir = tmp_path / "cfg"
        cfgdir.mkdir()
        cfg = write_cfg(cfgdir, lake.url)
        env = {"TMPDIR": str(cfgdir)}
        c = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        c.add_rse("WEB1")
        c.add_protocol("WEB1", {"scheme": "https", "hostname": "localhost", "port": https_port,
                                "impl": "rucio.rse.protocols.webdav.Default", "prefix": "/dpm/lakebed.test/home/web1/", "domains": ALL})
        c.set_local_account_limit("root", "WEB1", 10**12)
        c.add_scope("root", "test")
        # Rucio's webdav implementation wants an X.509 proxy (or an OIDC token) before it connects; a self-signed one
        # will do: the storage verifies no certificate for an open RSE, the client just stays anonymous.
        proxy = tmp_path / "proxy.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=lakebed-test", "-days", "1",
                        "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
        proxy.write_bytes((tmp_path / "cert.pem").read_bytes() + (tmp_path / "key.pem").read_bytes())
        env["X509_USER_PROXY"] = str(proxy)
        f = make_file("web.dat", 30_000)
        _, out, err = run_rucio("upload", "--rse", "WEB1", "--scope", "test", "--protocol", "https", str(f), cfg=cfg, env_extra=env)
        assert "ERROR" not in err, err
        url = f"https://localhost:{https_port}/dpm/lakebed.test/home/web1/{hash_path('test', 'web.dat')}"
        [rep] = list(c.list_replicas([{"scope": "test", "name": "web.dat"}]))
        assert rep["rses"]["WEB1"] == [url]
        # The bytes are served at the PFN the catalog gives (and kept in Lakebed's own folder for the RSE).
        assert requests.get(url, verify=False, timeout=30).content == f.read_bytes()
        assert (lake.rse_dir("WEB1") / hash_path("test", "web.dat")).read_bytes() == f.read_bytes()
        down = tmp_path / "down"
        run_rucio("download", "--dir", str(down), "--protocol", "https", "test:web.dat", cfg=cfg, env_extra=env)
        assert (down / "test" / "web.dat").read_bytes() == f.read_bytes()
        # A prefix that is a path of the Rucio API is refused on Lakebed's own endpoint.
        from rucio.common.exception import InvalidObject
        try:
            c.add_protocol("WEB1", {"scheme": "davs", "hostname": "localhost", "port": https_port,
                                    "impl": "rucio.rse.protocols.gfal.Default", "prefix": "/rses/", "domains": ALL})
            raise AssertionError("an API path was taken as a storage prefix")
        except InvalidObject as e:
            assert "API" in str(e)
    finally:
        lake.stop()


def test_prefixes_stay_inside_the_storage_roots_and_only_admins_add_protocols(tmp_path):
    from rucio.client import Client
    from rucio.common.exception import AccessDenied
    extra = tmp_path / "extra-root"
    lake = Lake(tmp_path / "lake", args=["--empty", "--time-scale", "0", "--storage-root", str(extra)]).start()
    try:
        c = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        c.add_rse("SAFE")
        for outside in ("/etc/lakebed/", "/usr/local/rucio/", "/"):
            try:
                c.add_protocol("SAFE", {"scheme": "file", "hostname": "localhost", "port": 0, "impl": POSIX,
                                        "prefix": outside, "domains": ALL})
                raise AssertionError(f"prefix {outside} was accepted")
            except AccessDenied as e:
                assert "storage roots" in str(e)
        assert c.get_rse("SAFE")["protocols"] == []
        assert not __import__("os").path.exists("/etc/lakebed")
        # A folder named with --storage-root is one.
        c.add_protocol("SAFE", {"scheme": "file", "hostname": "localhost", "port": 0, "impl": POSIX,
                                "prefix": f"{extra}/safe/", "domains": ALL})
        assert (extra / "safe").is_dir()
        # An account that may not administer RSEs may not add protocols (Rucio's generic policy).
        c.add_account("jdoe", "USER", "jdoe@example.org")
        c.add_identity("jdoe", "jdoe", "USERPASS", "jdoe@example.org", default=True, password="jdoe-pw")
        jdoe = Client(rucio_host=lake.url, auth_host=lake.url, account="jdoe", auth_type="userpass",
                      creds={"username": "jdoe", "password": "jdoe-pw"})
        try:
            jdoe.add_protocol("SAFE", {"scheme": "https", "hostname": "example.org", "port": 443,
                                       "impl": "rucio.rse.protocols.webdav.Default", "prefix": "/x/", "domains": ALL})
            raise AssertionError("jdoe added a protocol")
        except AccessDenied:
            pass
    finally:
        lake.stop()


def test_a_production_topology_copied_in_replicates_on_virtual_storage(tmp_path, make_file):
    """RSEs whose protocols point at endpoints Lakebed does not serve (Rucio's dev topology: root://xrd1:1094//rucio)
    keep no bytes: rules still replicate onto them, timed on the links, and the log says the storage is virtual."""
    from rucio.client import Client
    lake = Lake(tmp_path / "lake", args=["--empty", "--time-scale", "0"]).start()
    try:
        cfgdir = tmp_path / "cfg"
        cfgdir.mkdir()
        cfg = write_cfg(cfgdir, lake.url)
        env = {"TMPDIR": str(cfgdir)}
        c = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        c.add_scope("root", "test")
        c.add_rse("LOCAL")
        # LOCAL holds bytes (its file protocol) and speaks root:// too, so the conveyor finds a root->root pair. Its root
        # protocol ranks after posix for reads and writes: the client picks at random among equal priorities, and no
        # XRootD server listens here.
        c.add_protocol("LOCAL", {"scheme": "root", "hostname": "localhost", "port": 1094, "prefix": "//rucio/",
                                 "impl": "rucio.rse.protocols.xrootd.Default",
                                 "domains": {"lan": {"read": 2, "write": 2, "delete": 2},
                                             "wan": {"read": 2, "write": 2, "delete": 2, "third_party_copy_read": 1,
                                                     "third_party_copy_write": 1}}})
        c.add_protocol("LOCAL", {"scheme": "file", "hostname": "localhost", "port": 0, "impl": POSIX,
                                 "prefix": f"{tmp_path}/local/", "domains": ALL})
        for i, name in enumerate(("XRD4", "XRD5")):
            c.add_rse(name)
            c.add_protocol(name, {"scheme": "root", "hostname": name.lower(), "port": 1097 + i, "prefix": "//rucio",
                                  "impl": "rucio.rse.protocols.xrootd.Default", "domains": ALL})
            c.add_distance("LOCAL", name, {"distance": 1})
            c.set_local_account_limit("root", name, 10**12)
        c.set_local_account_limit("root", "LOCAL", 10**12)
        f = make_file("topo.dat", 5_000)
        run_rucio("upload", "--rse", "LOCAL", "--scope", "test", str(f), cfg=cfg, env_extra=env)
        assert list(c.list_replicas([{"scope": "test", "name": "topo.dat"}]))[0]["states"] == {"LOCAL": "AVAILABLE"}
        [rid] = c.add_replication_rule([{"scope": "test", "name": "topo.dat"}], 1, "XRD4")
        control(lake, "POST", "clock/advance", json={"seconds": 300})
        rule = c.get_replication_rule(rid)
        assert rule["state"] == "OK", rule
        [rep] = list(c.list_replicas([{"scope": "test", "name": "topo.dat"}]))
        assert rep["rses"]["XRD4"] == [f"root://xrd4:1097//rucio/{hash_path('test', 'topo.dat')}"]
        # Nothing was written for XRD4 anywhere Lakebed keeps bytes, and the lake is consistent.
        assert not (lake.data_dir / "rses" / "XRD4").exists()
        report = control(lake, "GET", "check")
        assert report["problems"] == [] and report["lost"] == []
        assert any("XRD4" in line and "virtual" in line for line in lake.output)
        storage = {r["rse"]: r for r in control(lake, "GET", "storage")}
        assert storage["XRD4"]["storage"] == "virtual" and storage["XRD4"]["directory"] is None
        assert [p["served"] for p in storage["XRD4"]["protocols"]] == [False]
        assert storage["LOCAL"]["storage"] == "directory" and storage["LOCAL"]["directory"] == f"{tmp_path}/local"
    finally:
        lake.stop()


def test_non_deterministic_rses_take_the_clients_pfns_and_get_rucios_paths_on_transfers(tmp_path, make_file):
    from rucio.client import Client
    from rucio.common.exception import UnsupportedOperation
    lake = Lake(tmp_path / "lake", args=["--empty", "--time-scale", "0"]).start()
    try:
        c = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        c.add_scope("root", "data18")
        for name, det in (("DISK1", True), ("TAPE1", False)):
            c.add_rse(name, deterministic=det)
            c.add_protocol(name, {"scheme": "file", "hostname": "localhost", "port": 0, "impl": POSIX,
                                  "prefix": f"{tmp_path}/{name.lower()}/", "domains": ALL})
        c.add_distance("DISK1", "TAPE1", {"distance": 1})
        f = make_file("raw.dat", 2_000)
        import zlib
        adler = "%08x" % (zlib.adler32(f.read_bytes()) & 0xFFFFFFFF)
        spec = {"scope": "data18", "name": "raw.dat", "bytes": 2000, "adler32": adler}
        try:
            c.add_replicas("TAPE1", [spec])
            raise AssertionError("a non-deterministic RSE took a replica without its PFN")
        except UnsupportedOperation as e:
            assert "PFN needed" in str(e)
        # With the PFN the client chose (bytes put there first), the replica is where the PFN says.
        where = tmp_path / "tape1" / "custom" / "run1" / "raw.dat"
        where.parent.mkdir(parents=True)
        where.write_bytes(f.read_bytes())
        c.add_replicas("TAPE1", [dict(spec, pfn=f"file://localhost{where}")])
        [rep] = list(c.list_replicas([{"scope": "data18", "name": "raw.dat"}]))
        assert rep["rses"]["TAPE1"] == [f"file://localhost{where}"]
        # A transfer to a non-deterministic RSE gets Rucio's default (DQ2) path under the file's dataset.
        g = make_file("evt.dat", 3_000)
        c.add_replicas("DISK1", [{"scope": "data18", "name": "evt.dat", "bytes": 3000,
                                  "adler32": "%08x" % (zlib.adler32(g.read_bytes()) & 0xFFFFFFFF)}])
        (tmp_path / "disk1" / hash_path("data18", "evt.dat")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "disk1" / hash_path("data18", "evt.dat")).write_bytes(g.read_bytes())
        # On a deterministic RSE a PFN must be the one lfn2pfn gives (Rucio's InvalidPath otherwise).
        from rucio.common.exception import InvalidPath
        odd = {"scope": "data18", "name": "odd.dat", "bytes": 1, "adler32": "00020002"}
        try:
            c.add_replicas("DISK1", [dict(odd, pfn=f"file://localhost{tmp_path}/disk1/elsewhere/odd.dat")])
            raise AssertionError("a deterministic RSE took a PFN that is not its lfn2pfn path")
        except InvalidPath as e:
            assert "does not match the Rucio expected PFN" in str(e) and hash_path("data18", "odd.dat") in str(e)
        c.add_replicas("DISK1", [dict(odd, pfn=f"file://localhost{tmp_path}/disk1/{hash_path('data18', 'odd.dat')}")])
        assert list(c.list_replicas([{"scope": "data18", "name": "odd.dat"}], all_states=True))[0]["rses"]["DISK1"] == \
            [f"file://localhost{tmp_path}/disk1/{hash_path('data18', 'odd.dat')}"]
        c.add_dataset("data18", "data18_13TeV.00348885.physics_Main.daq.RAW")
        c.attach_dids("data18", "data18_13TeV.00348885.physics_Main.daq.RAW", [{"scope": "data18", "name": "evt.dat"}])
        [rid] = c.add_replication_rule([{"scope": "data18", "name": "data18_13TeV.00348885.physics_Main.daq.RAW"}], 1, "TAPE1")
        control(lake, "POST", "clock/advance", json={"seconds": 300})
        assert c.get_replication_rule(rid)["state"] == "OK"
        dq2 = tmp_path / "tape1" / "data18_13TeV" / "RAW" / "other" / "data18_13TeV.00348885.physics_Main.daq.RAW" / "evt.dat"
        assert dq2.read_bytes() == g.read_bytes()
        [rep] = list(c.list_replicas([{"scope": "data18", "name": "evt.dat"}]))
        assert rep["rses"]["TAPE1"] == [f"file://localhost{dq2}"]
    finally:
        lake.stop()
