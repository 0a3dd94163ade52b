"""DIRAC registration, the open data catalog, signed URLs and new DIDs, through the 41.5.1 client's own calls."""
import hashlib
import hmac
import json
import os
import urllib.parse
import zlib

import pytest
import requests
from lakepaths import hash_path
from rucio.client.credentialclient import CredentialClient
from rucio.client.diracclient import DiracClient
from rucio.client.opendataclient import OpenDataClient
from rucio.common.exception import (AccessDenied, DataIdentifierNotFound, OpenDataDataIdentifierAlreadyExists,
                                    OpenDataDataIdentifierNotFound, OpenDataInvalidStateUpdate, RSENotFound, RucioException)


def put_bytes(lake, rse, scope, name, body):
    """Writes a file's bytes where the RSE keeps them (as a storage element would hold them before DIRAC registers them)."""
    path = lake.rse_dir(rse) / hash_path(scope, name).replace("//", "/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return {"bytes": len(body), "adler32": f"{zlib.adler32(body) & 0xffffffff:08x}"}


def test_dirac_add_files_creates_the_file_its_dataset_and_containers_with_rules(lake, client):
    client.set_config_option("policy", "extract_scope", "dirac")
    client.add_rse_attribute("SITE-A", "ANY", True)
    client.add_scope("root", "lakebed")   # the VO's scope: the LFN's top folder, a container, goes there
    lfn = "/lakebed/test/run1/f1.dat"
    sums = put_bytes(lake, "SITE-A", "test", lfn, os.urandom(3000))
    DiracClient(rucio_host=lake.url, auth_host=lake.url).add_files(
        lfns=[{"lfn": lfn, "rse": "SITE-A", "guid": "a" * 32, **sums}], parents_metadata={"/lakebed/test/run1": {"project": "dirac-run"}})
    f = client.get_did("test", lfn)
    assert f["type"] == "FILE" and f["bytes"] == sums["bytes"] and f["adler32"] == sums["adler32"]
    replicas = list(client.list_replicas([{"scope": "test", "name": lfn}]))
    assert list(replicas[0]["rses"]) == ["SITE-A"]
    assert client.get_did("test", "/lakebed/test/run1")["type"] == "DATASET"
    assert client.get_metadata("test", "/lakebed/test/run1")["project"] == "dirac-run"
    assert client.get_did("test", "/lakebed/test")["type"] == "CONTAINER"
    assert [d["name"] for d in client.list_content("test", "/lakebed/test/run1")] == [lfn]
    assert [d["name"] for d in client.list_content("test", "/lakebed/test")] == ["/lakebed/test/run1"]
    assert [d["name"] for d in client.list_content("lakebed", "/lakebed")] == ["/lakebed/test"]
    ds_rules = list(client.list_did_rules("test", "/lakebed/test/run1"))
    assert [r["rse_expression"] for r in ds_rules] == ["ANY=true"]
    assert [r["rse_expression"] for r in client.list_did_rules("test", lfn)] == ["SITE-A"]
    # A second call with the same file changes nothing (Rucio skips files it knows).
    DiracClient(rucio_host=lake.url, auth_host=lake.url).add_files(lfns=[{"lfn": lfn, "rse": "SITE-A", **sums}])
    assert len(list(client.list_did_rules("test", lfn))) == 1


def test_dirac_errors_are_rucios(lake, client):
    dirac = DiracClient(rucio_host=lake.url, auth_host=lake.url)
    with pytest.raises(RSENotFound):
        dirac.add_files(lfns=[{"lfn": "/lakebed/test/run2/x.dat", "rse": "NO-SUCH-RSE", "bytes": 1, "adler32": "00000001"}])
    # Nothing of a failed call stays behind.
    with pytest.raises(DataIdentifierNotFound):
        client.get_did("test", "/lakebed/test/run2")


def test_open_data_lifecycle_with_the_opendata_client(lake, client):
    od = OpenDataClient(rucio_host=lake.url, auth_host=lake.url)
    client.add_dataset("test", "od.ds1")
    with pytest.raises(OpenDataDataIdentifierNotFound):
        od.get_opendata_did(scope="test", name="od.ds1")
    od.add_opendata_did(scope="test", name="od.ds1")
    with pytest.raises(OpenDataDataIdentifierAlreadyExists):
        od.add_opendata_did(scope="test", name="od.ds1")
    got = od.get_opendata_did(scope="test", name="od.ds1", include_metadata=True)
    assert got["state"] == "DRAFT" and got["doi"] is None and got["meta"] == {}
    # Public only once closed; a draft is not public.
    with pytest.raises(OpenDataInvalidStateUpdate, match="must be closed first"):
        od.update_opendata_did(scope="test", name="od.ds1", state="public")
    with pytest.raises(OpenDataDataIdentifierNotFound):
        od.get_opendata_did(scope="test", name="od.ds1", public=True)
    od.update_opendata_did(scope="test", name="od.ds1", meta={"title": "Lakebed run"}, doi="10.1234/lakebed.1")
    client.close("test", "od.ds1")
    od.update_opendata_did(scope="test", name="od.ds1", state="public")
    public = od.get_opendata_did(scope="test", name="od.ds1", public=True, include_metadata=True)
    assert public["state"] == "PUBLIC" and public["doi"] == "10.1234/lakebed.1" and public["meta"] == {"title": "Lakebed run"}
    listing = od.list_opendata_dids(public=True)
    assert listing["total"] == 1 and [d["name"] for d in listing["dids"]] == ["od.ds1"]
    # Once public it cannot go back to draft nor be deleted.
    with pytest.raises(OpenDataInvalidStateUpdate):
        od.update_opendata_did(scope="test", name="od.ds1", state="draft")
    with pytest.raises(RucioException):
        od.remove_opendata_did(scope="test", name="od.ds1")
    od.update_opendata_did(scope="test", name="od.ds1", state="suspended")
    assert od.list_opendata_dids(public=True)["total"] == 0
    assert od.list_opendata_dids(state="suspended")["total"] == 1


def test_open_data_changes_need_an_admin(lake, jdoe, client):
    client.add_dataset("test", "od.ds2")
    od = OpenDataClient(rucio_host=lake.url, auth_host=lake.url, account="jdoe", auth_type="userpass",
                        creds={"username": "jdoe", "password": "jdoe-pw"})
    with pytest.raises(AccessDenied):
        od.add_opendata_did(scope="test", name="od.ds2")


def sigv4(secret, region, method, host, path, query):
    """An independent SigV4 check (AWS's algorithm written out), to verify what Lakebed signed."""
    q = dict(urllib.parse.parse_qsl(query))
    signature = q.pop("X-Amz-Signature")
    canonical_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(q.items()))
    creq = "\n".join([method, path, canonical_query, f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"])
    day = q["X-Amz-Date"][:8]
    sts = "\n".join(["AWS4-HMAC-SHA256", q["X-Amz-Date"], f"{day}/{region}/s3/aws4_request", hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return signature, hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def test_signed_s3_url_from_the_rse_accounts_file(lake, client):
    rse_id = client.get_rse("SITE-B")["id"]
    etc = lake.data_dir / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "rse-accounts.cfg").write_text(json.dumps({rse_id: {
        "access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "signature_version": "s3v4", "region": "eu-west-1"}}))
    cc = CredentialClient(rucio_host=lake.url, auth_host=lake.url)
    url = cc.get_signed_url("SITE-B", "s3", "read", "https://s3.example.org/bucket/dir/file one.dat", lifetime=900)
    u = urllib.parse.urlparse(url)
    assert (u.scheme, u.netloc, u.path) == ("https", "s3.example.org:443", "/bucket/dir/file%2520one.dat")
    q = dict(urllib.parse.parse_qsl(u.query))
    assert q["X-Amz-Expires"] == "900" and q["X-Amz-Credential"].startswith("AKIAIOSFODNN7EXAMPLE/") and q["X-Amz-Credential"].endswith("/eu-west-1/s3/aws4_request")
    given, expected = sigv4("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-1", "GET", "s3.example.org", u.path, u.query)
    assert given == expected
    put = urllib.parse.urlparse(cc.get_signed_url("SITE-B", "s3", "write", "https://s3.example.org:9000/bucket/k", lifetime=60))
    given, expected = sigv4("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-1", "PUT", "s3.example.org:9000", put.path, put.query)
    assert given == expected and put.netloc == "s3.example.org:9000"
    # An RSE without credentials: the server's configuration is missing (Rucio's ErrorLoadingCredentials).
    with pytest.raises(RucioException, match="SITE-C"):
        cc.get_signed_url("SITE-C", "s3", "read", "https://s3.example.org/bucket/k")
    with pytest.raises(RSENotFound):
        cc.get_signed_url("NO-SUCH-RSE", "s3", "read", "https://s3.example.org/bucket/k")


def test_signed_urls_need_root_or_the_sign_url_attribute(lake, jdoe, client):
    cc = CredentialClient(rucio_host=lake.url, auth_host=lake.url, account="jdoe", auth_type="userpass",
                          creds={"username": "jdoe", "password": "jdoe-pw"})
    with pytest.raises(AccessDenied):
        cc.get_signed_url("SITE-B", "swift", "read", "https://swift.example.org/v1/AUTH_x/c/o")


def test_new_dids_are_listed_until_the_transmogrifier_has_seen_them(manual_lake):
    # The 41.5.1 client has no call for GET /dids/new (Rucio's transmogrifier reads it in-process): asked directly.
    c = manual_lake.client

    def new(**params):
        r = requests.get(f"{manual_lake.url}/dids/new", params=params, headers={"X-Rucio-Auth-Token": c.auth_token}, timeout=60)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-json-stream"
        return [json.loads(line) for line in r.text.splitlines()]

    c.add_dataset("test", "fresh.ds")
    assert {"scope": "test", "name": "fresh.ds", "did_type": "DATASET"} in new(type="DATASET")
    assert all(d["did_type"] == "DATASET" for d in new(type="dataset"))
    assert not [d for d in new(type="CONTAINER") if d["name"] == "fresh.ds"]
    requests.post(f"{manual_lake.url}/lakebed/clock/advance", json={"seconds": 600}, timeout=60).raise_for_status()
    assert not [d for d in new() if d["name"] == "fresh.ds"]
