"""The spine, driven by the real rucio CLI and Python client."""
import hashlib
from pathlib import Path
import time
import zlib

import pytest
import requests
from rucio.common.exception import (AccessDenied, CannotAuthenticate, DataIdentifierAlreadyExists,
                                    DataIdentifierNotFound, Duplicate, InvalidObject, RSENotFound,
                                    ScopeNotFound, UnsupportedOperation)

from conftest import Lake, run_rucio
from lakepaths import hash_path


def adler32(data):
    return "%08x" % (zlib.adler32(data) & 0xffffffff)


def token(lake):
    r = requests.get(f"{lake.url}/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret", "X-Rucio-Account": "root"})
    assert r.status_code == 200
    return r.headers["X-Rucio-Auth-Token"]


def test_ping_and_whoami(lake):
    assert run_rucio("ping")[1].strip() == "41.5.1"
    out = run_rucio("whoami")[1]
    assert "root" in out and "SERVICE" in out


def test_userpass_token_headers(lake):
    r = requests.get(f"{lake.url}/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret"})
    assert r.status_code == 200
    assert r.headers["X-Rucio-Auth-Token"].startswith("root-")
    time.strptime(r.headers["X-Rucio-Auth-Token-Expires"], "%a, %d %b %Y %H:%M:%S %Z")
    bad = requests.get(f"{lake.url}/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "wrong"})
    assert bad.status_code == 401 and bad.headers["ExceptionClass"] == "CannotAuthenticate"


def test_bad_and_missing_tokens(lake):
    r = requests.get(f"{lake.url}/scopes/", headers={"X-Rucio-Auth-Token": "root-forged-token"})
    assert r.status_code == 401 and r.headers["ExceptionClass"] == "CannotAuthenticate"
    assert r.json()["ExceptionClass"] == "CannotAuthenticate"
    r = requests.get(f"{lake.url}/scopes/")
    assert r.status_code == 400 and r.headers["ExceptionClass"] == "ValueError"


def test_wrong_password_client(lake, tmp_path):
    from conftest import write_cfg
    cfg = write_cfg(tmp_path, lake.url, password="nope")
    # A fresh temp dir: no cached token to fall back on.
    rc, out, err = run_rucio("whoami", cfg=cfg, check=False, env_extra={"TMPDIR": str(tmp_path)})
    assert rc != 0
    assert "authenticate" in (out + err).lower()


def test_accounts_and_identities(client, jdoe):
    acc = client.get_account("jdoe")
    assert acc["account_type"] == "USER" and acc["email"] == "jdoe@example.org"
    assert "jdoe" in [a["account"] for a in client.list_accounts()]
    assert jdoe.whoami()["account"] == "jdoe"
    with pytest.raises(Duplicate):
        client.add_account("jdoe", "USER", "x@example.org")


def test_scopes(client, jdoe):
    client.add_scope("root", "data25")
    assert "data25" in client.list_scopes()
    assert {"scope": "user.jdoe", "account": "jdoe"} in client.list_scope_owners()
    assert client.list_scopes_for_account("jdoe") == ["user.jdoe"]
    with pytest.raises(Duplicate):
        client.add_scope("root", "data25")
    out = run_rucio("scope", "list")[1]
    assert "user.jdoe" in out


def test_rses(client, jdoe):
    assert sorted(r["rse"] for r in client.list_rses("tier=2")) == ["SITE-B", "SITE-C"]
    client.add_rse("SITE-X", country_name="FR")
    info = client.get_rse("SITE-X")
    # As in Rucio, an RSE added through the API has no protocol until one is added.
    assert info["rse"] == "SITE-X" and info["protocols"] == []
    client.update_rse("SITE-X", {"availability_write": False})
    assert client.get_rse("SITE-X")["availability_write"] is False
    client.add_rse_attribute("SITE-X", "tier", "3")
    assert client.list_rse_attributes("SITE-X")["tier"] == "3"
    client.add_distance("SITE-A", "SITE-X", {"distance": 4})
    assert client.get_distance("SITE-A", "SITE-X")[0]["distance"] == 4
    client.delete_rse_attribute("SITE-X", "tier")
    client.delete_rse("SITE-X")
    with pytest.raises(RSENotFound):
        client.get_rse("SITE-X")
    with pytest.raises(AccessDenied):
        jdoe.add_rse("SITE-J")


def test_upload_download_roundtrip(lake, client, make_file, tmp_path):
    f = make_file("up1.dat", 4096)
    run_rucio("upload", "--rse", "SITE-A", "--scope", "user.root", str(f), cwd=tmp_path)
    on_disk = lake.rse_dir("SITE-A") / hash_path("user.root", "up1.dat")
    assert on_disk.read_bytes() == f.read_bytes()
    did = client.get_did("user.root", "up1.dat")
    assert did["bytes"] == 4096 and did["adler32"] == adler32(f.read_bytes())
    assert did["md5"] == hashlib.md5(f.read_bytes()).hexdigest()
    reps = list(client.list_replicas([{"scope": "user.root", "name": "up1.dat"}]))
    assert reps[0]["states"] == {"SITE-A": "AVAILABLE"}
    rules = list(client.list_did_rules("user.root", "up1.dat"))
    assert [(r["rse_expression"], r["state"]) for r in rules] == [("SITE-A", "OK")]
    dest = tmp_path / "dl"
    run_rucio("download", "user.root:up1.dat", "--dir", str(dest))
    assert (dest / "user.root" / "up1.dat").read_bytes() == f.read_bytes()
    usage = list(client.get_rse_usage("SITE-A"))
    assert usage[0]["used"] >= 4096 and usage[0]["files"] >= 1


def test_datasets_attach_and_download(lake, client, make_file, tmp_path):
    files = [make_file(f"dsf{i}.dat", 100 + i) for i in range(3)]
    run_rucio("upload", "--rse", "SITE-B", "--scope", "user.root", *map(str, files), cwd=tmp_path)
    client.add_dataset("user.root", "ds-a")
    client.attach_dids("user.root", "ds-a", [{"scope": "user.root", "name": f.name} for f in files])
    assert sorted(c["name"] for c in client.list_content("user.root", "ds-a")) == sorted(f.name for f in files)
    assert len(list(client.list_files("user.root", "ds-a"))) == 3
    client.add_container("user.root", "cont-a")
    client.attach_dids("user.root", "cont-a", [{"scope": "user.root", "name": "ds-a"}])
    assert [p["name"] for p in client.list_parent_dids("user.root", "ds-a")] == ["cont-a"]
    assert client.get_did("user.root", "ds-a")["length"] == 3
    dest = tmp_path / "dl"
    run_rucio("download", "user.root:ds-a", "--dir", str(dest))
    for f in files:
        assert (dest / "ds-a" / f.name).read_bytes() == f.read_bytes()
    client.detach_dids("user.root", "ds-a", [{"scope": "user.root", "name": files[0].name}])
    assert len(list(client.list_content("user.root", "ds-a"))) == 2
    client.close("user.root", "ds-a")
    with pytest.raises(UnsupportedOperation):
        client.attach_dids("user.root", "ds-a", [{"scope": "user.root", "name": files[0].name}])


def test_wildcard_download(client, make_file, tmp_path):
    files = [make_file(f"wild{i}.dat", 50) for i in range(2)]
    run_rucio("upload", "--rse", "SITE-C", "--scope", "user.root", *map(str, files), cwd=tmp_path)
    dest = tmp_path / "dl"
    run_rucio("download", "user.root:wild*", "--dir", str(dest))
    for f in files:
        assert (dest / "user.root" / f.name).read_bytes() == f.read_bytes()


def test_search_and_metadata(client):
    client.add_dataset("user.root", "obs-1", meta={"telescope": "LOFAR"})
    client.add_dataset("user.root", "obs-2")
    client.set_metadata("user.root", "obs-2", "run_number", 42)
    client.set_metadata_bulk("user.root", "obs-2", {"telescope": "Apertif", "band": 3})
    assert client.get_metadata("user.root", "obs-2")["run_number"] == 42
    assert client.get_metadata("user.root", "obs-2", plugin="JSON") == {"telescope": "Apertif", "band": 3}
    assert client.get_metadata("user.root", "obs-2", plugin="ALL")["band"] == 3
    names = sorted(client.list_dids("user.root", {"name": "obs-*"}, did_type="dataset"))
    assert names == ["obs-1", "obs-2"]
    assert list(client.list_dids("user.root", [{"telescope": "LOFAR"}], did_type="all")) == ["obs-1"]
    assert list(client.list_dids("user.root", [{"band.gt": 2}], did_type="all")) == ["obs-2"]
    client.delete_metadata("user.root", "obs-2", "band")
    assert "band" not in client.get_metadata("user.root", "obs-2", plugin="JSON")
    listing = list(client.scope_list("user.root"))
    assert any(e["name"] == "obs-1" and e["type"] == "DATASET" for e in listing)


def test_register_replica_and_dataset_replicas(lake, client):
    data = b"registered by hand"
    path = lake.rse_dir("SITE-B") / hash_path("test", "manual.dat")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    client.add_replica("SITE-B", "test", "manual.dat", len(data), adler32(data))
    reps = list(client.list_replicas([{"scope": "test", "name": "manual.dat"}]))
    assert list(reps[0]["rses"]) == ["SITE-B"]
    meta = client.list_replicas([{"scope": "test", "name": "manual.dat"}], metalink=True)
    assert "SITE-B" in str(meta)
    r = requests.get(f"{lake.url}/replicas/test/manual.dat", headers={"X-Rucio-Auth-Token": token(lake)})
    assert r.headers["Content-Type"] == "application/x-json-stream" and "SITE-B" in r.text
    client.add_dataset("test", "manual-ds")
    client.attach_dids("test", "manual-ds", [{"scope": "test", "name": "manual.dat"}])
    dr = list(client.list_dataset_replicas("test", "manual-ds"))
    assert dr[0]["rse"] == "SITE-B" and dr[0]["available_length"] == 1
    client.delete_replicas("SITE-B", [{"scope": "test", "name": "manual.dat"}])
    assert not path.exists()


def test_errors(client, jdoe):
    with pytest.raises(DataIdentifierNotFound):
        client.get_did("user.root", "does-not-exist")
    rc, _, _ = run_rucio("did", "show", "user.root:does-not-exist", check=False)
    assert rc != 0
    client.add_dataset("user.root", "dup-ds")
    with pytest.raises(DataIdentifierAlreadyExists):
        client.add_dataset("user.root", "dup-ds")
    with pytest.raises(AccessDenied):
        jdoe.add_dataset("user.root", "not-mine")
    jdoe.add_dataset("user.jdoe", "mine")
    with pytest.raises(ScopeNotFound):
        client.add_dataset("no.such.scope", "x1")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs", "a\x00b", "a/../../b"])
def test_path_traversal_is_refused(lake, client, name):
    with pytest.raises((InvalidObject, DataIdentifierNotFound, Exception)) as exc:
        client.add_replica("SITE-A", "test", name, 10, "00000001")
    assert type(exc.value).__name__ in ("InvalidObject", "InvalidPath", "DataIdentifierNotFound", "RucioException")
    # <data>/etc holds Lakebed's credential files (rse-accounts.cfg, as in Rucio's etc): look for the canary names
    escaped = [p for p in lake.data_dir.parent.rglob("*") if p.name in ("passwd", "abs", "b") and p.is_file()]
    assert escaped == [] and not Path("/abs").exists()
    with pytest.raises(Exception):
        client.add_dataset("test", name)


def test_restart_keeps_everything(tmp_path, make_file):
    from conftest import write_cfg
    lk = Lake(tmp_path / "lake").start()
    cfg = write_cfg(tmp_path / "cfg", lk.url)
    try:
        f = make_file("persist.dat", 777)
        run_rucio("upload", "--rse", "SITE-A", "--scope", "user.root", str(f), cfg=cfg, cwd=tmp_path)
    finally:
        lk.stop()
    lk.start()
    try:
        out = run_rucio("did", "list", "user.root:persist*", "--filter", "type=all", cfg=cfg)[1]
        assert "persist.dat" in out
        run_rucio("download", "user.root:persist.dat", "--dir", str(tmp_path / "dl"), cfg=cfg)
        assert (tmp_path / "dl" / "user.root" / "persist.dat").read_bytes() == f.read_bytes()
    finally:
        lk.stop()
