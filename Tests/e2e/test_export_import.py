"""Rucio's export and import with the real client: one lake's topology (RSEs, settings, protocols, attributes,
distances) exported with `client.export_data()` and imported with `client.import_data()` into an empty lake, or at
start with `lakebed serve --import`; Rucio's update and sync semantics; accounts; mistakes refused before anything changes.
"""
import json
import pathlib

import pytest
from rucio.common.exception import RSENotFound

from conftest import Lake, private_lake

SETTINGS = ["rse_type", "deterministic", "volatile", "staging_area", "city", "region_code", "country_name", "time_zone",
            "longitude", "latitude", "availability_read", "availability_write", "availability_delete"]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The default lake plus what a production topology has: an RSE with settings, foreign protocols, attributes, a limit."""
    lk = private_lake(tmp_path_factory, "export-src", ["--time-scale", "0"])
    c = lk.client
    c.add_rse("PROD-TAPE", rse_type="TAPE", deterministic=False, city="Geneva", country_name="CH", latitude=46.2, longitude=6.1)
    c.add_protocol("PROD-TAPE", {"scheme": "root", "hostname": "eosctapublic.cern.ch", "port": 1094, "prefix": "/eos/ctapublic/",
                                 "impl": "rucio.rse.protocols.xrootd.Default",
                                 "domains": {"lan": {"read": 1, "write": 1, "delete": 1},
                                             "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1,
                                                     "third_party_copy_write": 1}}})
    c.add_protocol("PROD-TAPE", {"scheme": "davs", "hostname": "eosctapublic.cern.ch", "port": 443, "prefix": "/eos/ctapublic/",
                                 "impl": "rucio.rse.protocols.gfal.Default",
                                 "domains": {"lan": {"read": 2, "write": 2, "delete": 2},
                                             "wan": {"read": 2, "write": 2, "delete": 2, "third_party_copy_read": 2,
                                                     "third_party_copy_write": 2}}})
    c.add_rse_attribute("PROD-TAPE", "tier", "0")
    c.add_rse_attribute("PROD-TAPE", "fts", "https://fts3-public.cern.ch:8446")
    c.set_rse_limits("PROD-TAPE", "MinFreeSpace", 10**12)
    c.add_distance("SITE-A", "PROD-TAPE", {"distance": 5})
    c.update_rse("SITE-C", {"availability_write": False})
    yield lk
    lk.stop()


def topology(client):
    """What the comparison covers, per RSE: settings, protocols, attributes; and every distance."""
    out = {}
    for r in client.list_rses():
        name = r["rse"]
        info = client.get_rse(name)
        out[name] = {
            "settings": {k: r.get(k) for k in SETTINGS},
            "protocols": sorted((json.dumps(p, sort_keys=True) for p in info["protocols"])),
            # Rucio's importer writes the export's lfn2pfn_algorithm and verify_checksum (the RSE's effective ones,
            # defaults included) as attributes: compare the effective values, and the other attributes as they are.
            "attributes": {k: v for k, v in client.list_rse_attributes(name).items() if k not in ("lfn2pfn_algorithm", "verify_checksum")},
            "lfn2pfn_algorithm": info.get("lfn2pfn_algorithm"),
            "verify_checksum": info.get("verify_checksum"),
        }
    distances = {}
    for src in out:
        for dst in out:
            for d in client.get_distance(src, dst) if src != dst else []:
                distances[(src, dst)] = d["distance"]
    return out, distances


def test_export_has_rucios_keys(source):
    data = source.client.export_data()
    assert set(data) == {"rses", "distances"}
    tape = data["rses"]["PROD-TAPE"]
    for key in ["id", "rse", "vo", "rse_type", "deterministic", "volatile", "staging_area", "city", "region_code", "country_name",
                "time_zone", "longitude", "latitude", "availability", "availability_read", "availability_write",
                "availability_delete", "qos_class", "created_at", "updated_at", "attributes", "lfn2pfn_algorithm",
                "verify_checksum", "credentials", "protocols", "MinFreeSpace"]:
        assert key in tape, key
    assert tape["rse_type"] == "TAPE" and tape["MinFreeSpace"] == 10**12 and tape["attributes"]["tier"] == "0"
    assert {p["scheme"] for p in tape["protocols"]} == {"root", "davs"}
    d = data["distances"]["SITE-A"]["PROD-TAPE"]
    assert d["distance"] == 5 and d["ranking"] == 5 and set(d) >= {"src_rse_id", "dest_rse_id", "created_at", "updated_at"}
    assert "distances" not in source.client.export_data(distance=False)


def test_export_imported_into_an_empty_lake_gives_the_same_topology(source, tmp_path_factory):
    data = source.client.export_data()
    target = private_lake(tmp_path_factory, "import-dst", ["--empty", "--time-scale", "0"])
    try:
        assert list(target.client.list_rses()) == []
        target.client.import_data(data)
        assert topology(target.client) == topology(source.client)
        # Imported again (Rucio's default `edit` sync), nothing changes and nothing is duplicated.
        target.client.import_data(source.client.export_data())
        assert topology(target.client) == topology(source.client)
        assert target.client.get_rse_limits("PROD-TAPE")["MinFreeSpace"] == 10**12
    finally:
        target.stop()


def test_serve_import_starts_a_lake_with_the_topology(source, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve-import")
    import os, subprocess, sys
    # The file as a user makes it: rucio-admin data export.
    subprocess.run([str(pathlib.Path(sys.executable).parent / "rucio-admin"), "data", "export", str(folder / "export.json")],
                   env=dict(os.environ, RUCIO_CONFIG=str(source.cfg), **source.env), check=True, capture_output=True, text=True)
    assert "PROD-TAPE" in json.loads((folder / "export.json").read_text())["rses"]
    lk = Lake(folder / "lake", args=["--empty", "--time-scale", "0", "--import", str(folder / "export.json")]).start()
    try:
        from rucio.client import Client
        c = Client(rucio_host=lk.url, auth_host=lk.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        assert topology(c) == topology(source.client)
        # A reset goes back to the imported lake, not to an empty one.
        import requests
        assert requests.post(lk.url + "/lakebed/reset", timeout=60).status_code == 200
        assert topology(c) == topology(source.client)
    finally:
        lk.stop()
    # The folder now holds a lake: importing on top of it is refused, with what to do.
    import subprocess
    from conftest import BIN
    p = subprocess.run([BIN, "serve", "--data-dir", str(folder / "lake"), "--port", "0", "--no-https",
                        "--import", str(folder / "export.json")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "already holds a lake" in p.stderr and "--fresh" in p.stderr


def test_import_updates_existing_rses_and_sync_hard_deletes_what_is_absent(tmp_path_factory):
    lk = private_lake(tmp_path_factory, "import-sync", ["--empty", "--time-scale", "0"])
    c = lk.client
    try:
        proto = {"scheme": "root", "hostname": "xrd.example.org", "port": 1094, "prefix": "/a/", "impl": "rucio.rse.protocols.xrootd.Default"}
        other = dict(proto, scheme="davs", port=443, impl="rucio.rse.protocols.gfal.Default")
        c.import_data({"rses": {"SYNC-1": {"city": "Bern", "attributes": {"keep": "1", "drop": "1"}, "protocols": [proto, other]}}})
        c.import_data({"rses": {"SYNC-1": {"city": "Zurich", "attributes": {"keep": "2"}, "protocols": [dict(proto, prefix="/b/")]}}})
        info = c.get_rse("SYNC-1")
        assert c.list_rse_attributes("SYNC-1")["city"] == "Zurich"
        assert {p["scheme"]: p["prefix"] for p in info["protocols"]} == {"root": "/b/", "davs": "/a/"}   # edit: absent ones stay
        attrs = c.list_rse_attributes("SYNC-1")
        assert attrs["keep"] == "2" and attrs["drop"] == "1"
        c.set_config_option("importer", "rse_sync_method", "hard")
        c.set_config_option("importer", "attr_sync_method", "hard")
        c.add_rse("SYNC-GONE")
        c.import_data({"rses": {"SYNC-1": {"attributes": {"keep": "3"}, "protocols": [dict(proto, prefix="/c/")]}}})
        assert [p["scheme"] for p in c.get_rse("SYNC-1")["protocols"]] == ["root"]
        attrs = c.list_rse_attributes("SYNC-1")
        assert attrs["keep"] == "3" and "drop" not in attrs and attrs["SYNC-1"] is True
        assert [r["rse"] for r in c.list_rses()] == ["SYNC-1"]
    finally:
        lk.stop()


def test_import_accounts_as_rucio_does(tmp_path_factory):
    lk = private_lake(tmp_path_factory, "import-accounts", ["--empty", "--time-scale", "0"])
    c = lk.client
    try:
        c.add_account("leftover", "USER", "l@example.org")
        c.import_data({"accounts": [
            {"account": "root", "email": "root@example.org"},
            {"account": "carol", "email": "carol@example.org", "identities": [
                {"type": "X509", "identity": "/DC=org/DC=lakebed/OU=Users/CN=carol"},
                {"type": "USERPASS", "identity": "carol", "password": "carol-pw"}]}]})
        assert c.get_account("carol")["email"] == "carol@example.org"
        assert {(i["type"], i["identity"]) for i in c.list_identities("carol")} == {
            ("X509", "/DC=org/DC=lakebed/OU=Users/CN=carol"), ("USERPASS", "carol")}
        # Rucio's importer deletes every account the import does not list (but root).
        assert c.get_account("leftover")["status"] == "DELETED"
        from rucio.client import Client
        carol = Client(rucio_host=lk.url, auth_host=lk.url, account="carol", auth_type="userpass",
                       creds={"username": "carol", "password": "carol-pw"})
        assert carol.whoami()["account"] == "carol"
        # Identities become the listed ones.
        c.import_data({"accounts": [{"account": "root", "email": "root@example.org"},
                                    {"account": "carol", "email": "carol@example.org",
                                     "identities": [{"type": "USERPASS", "identity": "carol", "password": "carol-pw"}]}]})
        assert [i["type"] for i in c.list_identities("carol")] == ["USERPASS"]
    finally:
        lk.stop()


def test_a_mistake_is_refused_before_anything_changes(tmp_path_factory):
    lk = private_lake(tmp_path_factory, "import-errors", ["--empty", "--time-scale", "0"])
    c = lk.client
    try:
        with pytest.raises(RSENotFound):
            c.import_data({"rses": {"NEW-1": {}}, "distances": {"NEW-1": {"NOWHERE": {"distance": 1}}}})
        from rucio.common.exception import InvalidObject, AccessDenied
        with pytest.raises(InvalidObject):
            c.import_data({"rses": {"NEW-2": {"protocols": [{"scheme": "https", "hostname": "h.example.org", "port": 443}]}}})
        with pytest.raises(InvalidObject):
            c.import_data({"rses": {"NEW-3": {"rse_type": "FLOPPY"}}})
        assert list(c.list_rses()) == []
        c.add_account("eve", "USER", "eve@example.org")
        c.add_identity("eve", "eve", "USERPASS", "eve@example.org", password="eve-pw")
        from rucio.client import Client
        eve = Client(rucio_host=lk.url, auth_host=lk.url, account="eve", auth_type="userpass",
                     creds={"username": "eve", "password": "eve-pw"})
        with pytest.raises(AccessDenied):
            eve.import_data({"rses": {"NEW-4": {}}})
        with pytest.raises(AccessDenied):
            eve.export_data()
    finally:
        lk.stop()
