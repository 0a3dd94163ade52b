"""Data Lake as a Service: RSEs over HTTPS/WebDAV with the real client, the ESAP calls and basket, and the Rucio
JupyterLab extension's own code (replica, download and OIDC modes), ending in the workshop story on a manual clock."""
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import textwrap
from urllib.parse import urljoin

import pytest
import requests

from conftest import BIN, Lake, control, free_port, run_rucio
from lakepaths import hash_path

# ESAP's Rucio connector (esap/query/api/services/rucio.py): the URL per resource category.
ESAP_URLPATTERNS = dict(
    scope="{host}/scopes/",
    dids="{host}/dids/{scope}/",
    files="{host}/dids/{scope}/files/",
    replicas="{host}/replicas/{scope}/",
)


def lakebed(lake, *args):
    p = subprocess.run([BIN, *args, "--data-dir", str(lake.data_dir)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def token_file(lake, path, scope="openid profile", audience="rucio", lifetime=3600):
    """`lakebed token` for the IAM user jdoe (mapped to Rucio account root), written as DLaaS notebooks find it."""
    subprocess.run([BIN, "token", "--data-dir", str(lake.data_dir), "--scope", scope, "--audience", audience,
                    "--lifetime", str(lifetime), "--output", str(path)], check=True, capture_output=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def dlaas(tmp_path_factory):
    """A lake on a manual clock with its HTTPS listener on a known port, and a notebook RSE added through the API."""
    from rucio.client import Client
    https_port = free_port()
    lk = Lake(tmp_path_factory.mktemp("dlaas-lake"), args=["--time-scale", "0", "--seed", "7", "--https-port", str(https_port)]).start()
    lk.https = f"https://localhost:{https_port}"
    lk.ca = lakebed(lk, "cert")
    cfgdir = tmp_path_factory.mktemp("dlaas-cfg")
    lk.cfg = cfgdir / "rucio.cfg"
    lk.cfg.write_text(f"[client]\nrucio_host = {lk.url}\nauth_host = {lk.url}\nauth_type = userpass\n"
                      f"username = ddmlab\npassword = secret\naccount = root\n")
    lk.env = {"TMPDIR": str(cfgdir)}
    lk.client = Client(rucio_host=lk.url, auth_host=lk.url, account="root", auth_type="userpass",
                       creds={"username": "ddmlab", "password": "secret"})
    # Added the Rucio way: the RSE, then its protocols (a posix folder of the notebook's, WebDAV at Lakebed's HTTPS port).
    lk.client.add_rse("NOTEBOOK")
    domains = {"lan": {"read": 1, "write": 1, "delete": 1},
               "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1, "third_party_copy_write": 1}}
    lk.notebook_dir = tmp_path_factory.mktemp("notebook-storage")
    lk.client.add_protocol("NOTEBOOK", {"scheme": "file", "hostname": "localhost", "port": 0, "prefix": f"{lk.notebook_dir}/",
                                        "impl": "rucio.rse.protocols.posix.Default", "domains": domains})
    lk.client.add_protocol("NOTEBOOK", {"scheme": "https", "hostname": "localhost", "port": https_port, "prefix": "/storage/NOTEBOOK/",
                                        "impl": "rucio.rse.protocols.webdav.Default",
                                        "domains": {d: {k: 2 for k in ops} for d, ops in domains.items()}})
    lk.client.add_rse_attribute("NOTEBOOK", "notebook", True)
    yield lk
    lk.stop()


def cli(lake, *args, cfg=None, env=None, check=True):
    return run_rucio(*args, cfg=cfg or lake.cfg, env_extra={**lake.env, **(env or {})}, check=check)


def upload_dataset(lake, tmp_path, dataset, names, rse="SITE-A", size=4096):
    files = []
    for n in names:
        p = tmp_path / n
        p.write_bytes(os.urandom(size))
        files.append(p)
    cli(lake, "upload", "--rse", rse, "--scope", "user.root", *map(str, files))
    lake.client.add_dataset("user.root", dataset)
    lake.client.attach_dids("user.root", dataset, [{"scope": "user.root", "name": n} for n in names])
    return {n: p.read_bytes() for n, p in zip(names, files)}


# ---------------------------------------------------------------------------------------------------------------
# Storage over HTTPS/WebDAV


class Verified(requests.Session):
    """A session that checks the server against Lakebed's CA on every request (a Session's own `verify` loses to
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE when those are set)."""

    def __init__(self, ca):
        super().__init__()
        self.ca = ca

    def request(self, method, url, **kw):
        kw.setdefault("verify", self.ca)
        return super().request(method, url, **kw)


def test_https_protocol_is_published_at_the_tls_port(dlaas):
    port = int(dlaas.https.rsplit(":", 1)[1])
    # SITE-A's is Lakebed's ready-made one; NOTEBOOK's is the one its bootstrap gave it (the same shape).
    for rse in ["SITE-A", "NOTEBOOK"]:
        protos = {p["scheme"]: p for p in dlaas.client.get_protocols(rse)}
        dav = protos["https"]
        assert (dav["hostname"], dav["port"], dav["prefix"]) == ("localhost", port, f"/storage/{rse}/")
        assert dav["impl"] == "rucio.rse.protocols.webdav.Default"
        # posix stays the default; WebDAV is what a client asks for.
        assert protos["file"]["domains"]["wan"]["write"] == 1 and dav["domains"]["wan"]["write"] == 2
    # The certificate `lakebed cert` names verifies the listener (hostname localhost), with the Rucio API behind it too.
    assert requests.get(f"{dlaas.https}/ping", verify=dlaas.ca).json()["version"]
    assert lakebed(dlaas, "cert", "--pem").startswith("-----BEGIN CERTIFICATE-----")


def test_webdav_verbs_as_the_client_uses_them(dlaas):
    base = f"{dlaas.https}/storage/SITE-C"
    s = Verified(dlaas.ca)
    assert s.head(base + "/").status_code == 200
    assert s.request("MKCOL", base + "/dav/a").status_code == 201
    assert s.request("MKCOL", base + "/dav/a").status_code == 405
    data = os.urandom(5000)
    assert s.put(base + "/dav/a/f.rucio.upload", data=data).status_code == 201
    assert s.head(base + "/dav/a/f").status_code == 404
    r = s.request("MOVE", base + "/dav/a/f.rucio.upload", headers={"Destination": base + "/dav/a/f"})
    assert r.status_code == 201
    assert s.get(base + "/dav/a/f").content == data
    r = s.get(base + "/dav/a/f", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200] and r.headers["Content-Range"] == "bytes 100-199/5000"
    assert s.get(base + "/dav/a/f", headers={"Range": "bytes=-10"}).content == data[-10:]
    assert s.get(base + "/dav/a/f", headers={"Range": "bytes=9000-"}).status_code == 416
    # PROPFIND: hrefs are the absolute URL paths the webdav client compares with prefix + path + name.
    import xml.etree.ElementTree as ET
    r = s.request("PROPFIND", base + "/dav/a/f", headers={"Depth": "0"})
    assert r.status_code == 207
    resp = ET.fromstring(r.text).findall("{DAV:}response")
    assert [x.find("{DAV:}href").text for x in resp] == ["/storage/SITE-C/dav/a/f"]
    assert resp[0].find("{DAV:}propstat/{DAV:}prop/{DAV:}getcontentlength").text == "5000"
    r = s.request("PROPFIND", base + "/dav/a", headers={"Depth": "1"})
    hrefs = [x.find("{DAV:}href").text for x in ET.fromstring(r.text).findall("{DAV:}response")]
    assert hrefs == ["/storage/SITE-C/dav/a/", "/storage/SITE-C/dav/a/f"]
    assert s.delete(base + "/dav/a/f").status_code == 204
    assert s.delete(base + "/dav/a/f").status_code == 404
    assert s.get(base + "/../SITE-A/x").status_code in (403, 404)
    # The plain HTTP listener serves the same storage.
    assert requests.head(f"{dlaas.url}/storage/SITE-C/").status_code == 200


def test_oidc_rse_requires_storage_scopes(dlaas, tmp_path):
    dlaas.client.add_rse_attribute("SITE-B", "oidc_support", True)
    url = f"{dlaas.https}/storage/SITE-B/scoped/f"
    assert requests.put(url, data=b"x", verify=dlaas.ca).status_code == 401
    reader = token_file(dlaas, tmp_path / "read", scope="openid profile storage.read:/").read_text()
    r = requests.put(url, data=b"x", verify=dlaas.ca, headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403 and "insufficient_scope" in r.headers["WWW-Authenticate"]
    writer = token_file(dlaas, tmp_path / "write", scope="openid profile storage.read:/ storage.modify:/").read_text()
    assert requests.put(url, data=b"x", verify=dlaas.ca, headers={"Authorization": f"Bearer {writer}"}).status_code == 201
    assert requests.get(url, verify=dlaas.ca, headers={"Authorization": f"Bearer {reader}"}).content == b"x"
    expired = token_file(dlaas, tmp_path / "old", scope="storage.read:/", lifetime=-60).read_text()
    assert requests.get(url, verify=dlaas.ca, headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_real_client_uploads_and_downloads_over_webdav(dlaas, tmp_path):
    """`rucio upload/download --protocol https` against the HTTPS listener, with a JWT the client forwards as bearer token."""
    dlaas.client.add_rse_attribute("SITE-B", "oidc_support", True)
    tok = token_file(dlaas, tmp_path / "token", scope="openid profile storage.read:/ storage.modify:/")
    cfg = tmp_path / "rucio-https.cfg"
    cfg.write_text(f"[client]\nrucio_host = {dlaas.https}\nauth_host = {dlaas.https}\nauth_type = oidc\n"
                   f"account = root\nca_cert = {dlaas.ca}\n")
    env = {"BEARER_TOKEN_FILE": str(tok)}
    f = tmp_path / "dav-upload.dat"
    f.write_bytes(os.urandom(70_000))
    cli(dlaas, "upload", "--rse", "SITE-B", "--scope", "user.root", "--protocol", "https", str(f), cfg=cfg, env=env)
    on_disk = dlaas.rse_dir("SITE-B") / hash_path("user.root", "dav-upload.dat")
    assert on_disk.read_bytes() == f.read_bytes()
    assert not list(on_disk.parent.glob("*.rucio.upload"))
    reps = list(dlaas.client.list_replicas([{"scope": "user.root", "name": "dav-upload.dat"}], schemes=["https"]))
    assert reps[0]["states"]["SITE-B"] == "AVAILABLE"
    assert reps[0]["rses"]["SITE-B"] == [f"{dlaas.https}/storage/SITE-B/{hash_path('user.root', 'dav-upload.dat')}"]

    dest = tmp_path / "dl"
    cli(dlaas, "download", "--protocol", "https", "--dir", str(dest), "user.root:dav-upload.dat", cfg=cfg, env=env)
    assert (dest / "user.root" / "dav-upload.dat").read_bytes() == f.read_bytes()

    # A token without storage scopes is a valid Rucio token, but SITE-B's storage refuses the upload.
    plain = token_file(dlaas, tmp_path / "plain", scope="openid profile")
    g = tmp_path / "refused.dat"
    g.write_bytes(b"refused")
    _, out, err = cli(dlaas, "upload", "--rse", "SITE-B", "--scope", "user.root", "--protocol", "https", str(g),
                      cfg=cfg, env={"BEARER_TOKEN_FILE": str(plain)}, check=False)
    # (the CLI logs the failure but still exits 0; the replica it registered first stays COPYING, as with real storage)
    assert "Bad status code 403" in out + err
    assert not (dlaas.rse_dir("SITE-B") / hash_path("user.root", "refused.dat")).exists()
    reps = list(dlaas.client.list_replicas([{"scope": "user.root", "name": "refused.dat"}], all_states=True))
    assert reps[0]["states"]["SITE-B"] == "COPYING"


# ---------------------------------------------------------------------------------------------------------------
# ESAP


def esap_query(lake, token, category, scope=None, **where):
    """What ESAP's Rucio connector does: GET with the IAM token as X-Rucio-Auth-Token, then one JSON document per line."""
    url = ESAP_URLPATTERNS[category].format(host=lake.url, scope=scope)
    r = requests.get(url, where, headers={"X-Rucio-Auth-Token": token}, verify=False)
    results = []
    if r.ok and len(r.content.strip()):
        results = [json.loads(e) for e in r.content.decode("utf-8").strip().split("\n")]
    return r, results


def test_esap_rucio_connector_calls(dlaas, tmp_path):
    upload_dataset(dlaas, tmp_path, "esap-ds", ["esap-1.dat", "esap-2.dat"], size=1000)
    token = token_file(dlaas, tmp_path / "esap-token", scope="openid email profile").read_text()
    # ESAP's token check and scope dropdown.
    assert requests.get(f"{dlaas.url}/rses/", headers={"X-Rucio-Auth-Token": token}).ok
    r, scopes = esap_query(dlaas, token, "scope")
    assert r.ok and len(scopes) == 1 and "user.root" in scopes[0]  # a JSON list: one "line"
    r, rows = esap_query(dlaas, token, "dids", scope="user.root", name="esap-ds", recursive="true")
    assert r.ok and r.headers["Content-Type"] == "application/x-json-stream"
    # As Rucio's scope_list: the dataset's content, each row with its parent and level (content rows carry no bytes).
    assert [(x["name"], x["type"], x["level"]) for x in rows] == [("esap-1.dat", "FILE", 1), ("esap-2.dat", "FILE", 1)]
    assert rows[0]["parent"] == {"scope": "user.root", "name": "esap-ds"} and "bytes" not in rows[0]
    # Rucio's scope_list takes `name` as a name, not a pattern: 404 DataIdentifierNotFound, as on the real server.
    r, rows = esap_query(dlaas, token, "dids", scope="user.root", name="esap-*")
    assert r.status_code == 404 and r.headers["ExceptionClass"] == "DataIdentifierNotFound"
    # As on the real server: "files" asks for the DID '<scope>:files/' (404), "replicas" cannot be parsed (400).
    r, rows = esap_query(dlaas, token, "files", scope="user.root")
    assert (r.status_code, r.headers["ExceptionClass"], rows) == (404, "DataIdentifierNotFound", [])
    assert "user.root:files/" in r.json()["ExceptionMessage"]
    r, rows = esap_query(dlaas, token, "replicas", scope="user.root")
    assert (r.status_code, r.headers["ExceptionClass"], rows) == (400, "ValueError", [])
    # Tokens for another audience are refused.
    other = token_file(dlaas, tmp_path / "other", audience="esap").read_text()
    assert requests.get(f"{dlaas.url}/rses/", headers={"X-Rucio-Auth-Token": other}).status_code == 401


def test_esap_basket_is_per_user_and_writable(dlaas, tmp_path):
    profiles = f"{dlaas.url}/esap-api/accounts/user-profiles/"
    assert requests.get(profiles).json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert requests.get(profiles, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    jdoe = token_file(dlaas, tmp_path / "jdoe").read_text()
    hdr = {"Authorization": f"Bearer {jdoe}", "Accept": "application/json"}
    me = requests.get(profiles, headers=hdr).json()["results"][0]
    assert (me["user_name"], me["user_email"], me["shopping_cart"]) == ("jdoe", "jdoe@example.org", [])
    item = {"archive": "rucio", "record": {"scope": "user.root", "name": "x", "type": "FILE", "parent": None, "level": 0, "bytes": 1}}
    r = requests.put(profiles + "jdoe/", json={"shopping_cart": [item]}, headers=hdr)
    assert r.status_code == 200
    cart = requests.get(profiles + "jdoe/", headers=hdr).json()["shopping_cart"]
    assert [json.loads(i["item_data"]) for i in cart] == [item] and cart[0]["user_profile"] == "jdoe"
    r = requests.post(f"{dlaas.url}/esap-api/accounts/shopping-items/", json={"item_data": json.dumps({"archive": "zenodo"}), "user_profile": "jdoe"}, headers=hdr)
    assert r.status_code == 201
    assert len(requests.get(profiles, headers=hdr).json()["results"][0]["shopping_cart"]) == 2
    # Another user's profile is not visible.
    assert requests.get(profiles + "asmith/", headers=hdr).status_code == 404
    requests.put(profiles + "jdoe/", json={"shopping_cart": []}, headers=hdr).raise_for_status()


# ---------------------------------------------------------------------------------------------------------------
# The Rucio JupyterLab extension's own code


@pytest.fixture(scope="module")
def jl_home(tmp_path_factory):
    """rucio-jupyterlab keeps its cache DB under ~ (chosen at import) and downloads under ~/rucio: give it a home."""
    home = tmp_path_factory.mktemp("jl-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        import rucio_jupyterlab.db  # noqa: F401  (creates ~/.rucio_jupyterlab/cache.db now)
        yield home


def notebook_instance(lake, token_path, **extra):
    """The extension's instance config for Lakebed in replica mode: the NOTEBOOK RSE's directory is the mount."""
    file_proto = next(p for p in lake.client.get_protocols("NOTEBOOK") if p["scheme"] == "file")
    root = file_proto["prefix"].rstrip("/")
    return {"name": "lakebed", "display_name": "Lakebed", "rucio_base_url": lake.url, "mode": "replica",
            "destination_rse": "NOTEBOOK", "rse_mount_path": root, "path_begins_at": len(root.strip("/").split("/")),
            "oidc_auth": "file", "oidc_file_name": str(token_path), **extra}


def test_jupyterlab_oidc_mode_validates_a_lakebed_token(dlaas, jl_home, tmp_path):
    from rucio_jupyterlab.rucio.exceptions import RucioAPIException
    from rucio_jupyterlab.rucio.rucio import RucioAPI
    tok = token_file(dlaas, tmp_path / "oidc-token")
    api = RucioAPI(instance_config=notebook_instance(dlaas, tok, name="oidc-ok"), auth_type="oidc", auth_config=None)
    token, expiry = api.authenticate(None, "oidc")  # GET /auth/validate with the file's token
    assert token == tok.read_text() and expiry > 0
    assert "user.root" in api.get_scopes()
    expired = token_file(dlaas, tmp_path / "expired", lifetime=-60)
    bad = RucioAPI(instance_config=notebook_instance(dlaas, expired, name="oidc-expired"), auth_type="oidc", auth_config=None)
    with pytest.raises(RucioAPIException, match="401"):
        bad.authenticate(None, "oidc")


def test_jupyterlab_replica_mode_makes_a_dataset_available(dlaas, jl_home, tmp_path):
    from rucio_jupyterlab.mode_handlers.replica import ReplicaModeHandler
    from rucio_jupyterlab.rucio.rucio import RucioAPI
    data = upload_dataset(dlaas, tmp_path, "nb-ds", ["nb-1.dat", "nb-2.dat"])
    tok = token_file(dlaas, tmp_path / "nb-token")
    api = RucioAPI(instance_config=notebook_instance(dlaas, tok, name="replica"), auth_type="oidc", auth_config=None)
    handler = ReplicaModeHandler("replica", api)
    assert {d["status"] for d in handler.get_did_details("user.root", "nb-ds", force_fetch=True)} == {"NOT_AVAILABLE"}
    rule_ids = handler.make_available("user.root", "nb-ds")
    assert len(rule_ids) == 1
    details = handler.get_did_details("user.root", "nb-ds", force_fetch=True)
    assert {d["status"] for d in details} == {"REPLICATING"} and all(d["path"] is None for d in details)
    control(dlaas, "POST", "clock/advance", json={"seconds": 120})
    assert api.get_rule_details(rule_ids[0])["state"] == "OK"
    details = handler.get_did_details("user.root", "nb-ds", force_fetch=True)
    assert {d["status"] for d in details} == {"OK"}
    for d in details:
        name = d["did"].split(":", 1)[1]
        assert d["path"] == str(dlaas.notebook_dir / hash_path("user.root", name))
        assert pathlib.Path(d["path"]).read_bytes() == data[name]


DOWNLOAD_WORKER = textwrap.dedent("""
    import json, sys
    from rucio_jupyterlab.mode_handlers.download import DownloadModeHandler
    from rucio_jupyterlab.rucio.download import RucioFileDownloader
    from rucio_jupyterlab.rucio.rucio import RucioAPI
    instance, auth, did = json.loads(sys.argv[1])
    api = RucioAPI(instance_config=instance, auth_type="userpass", auth_config=auth)
    # What DownloadModeHandler.make_available runs in its background process, run here in the foreground.
    RucioFileDownloader.start_download_target(instance["name"], did, api)
    scope, name = did.split(":", 1)
    print(json.dumps(DownloadModeHandler(instance["name"], api).get_did_details(scope, name, force_fetch=True)))
""")


def test_jupyterlab_download_mode_fetches_into_its_folder(dlaas, tmp_path):
    """Download mode over HTTPS: the extension writes rucio.cfg with ca_cert = Lakebed's CA and runs DownloadClient."""
    data = upload_dataset(dlaas, tmp_path, "dl-ds", ["dl-1.dat", "dl-2.dat"])
    instance = {"name": "dlmode", "display_name": "Lakebed", "rucio_base_url": dlaas.https, "mode": "download",
                "rucio_ca_cert": dlaas.ca}
    auth = {"username": "ddmlab", "password": "secret", "account": "root"}
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("RUCIO_CONFIG", "RUCIO_HOME")}
    env.update(HOME=str(home), TMPDIR=str(tmp_path))
    p = subprocess.run([sys.executable, "-c", DOWNLOAD_WORKER, json.dumps([instance, auth, "user.root:dl-ds"])],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    details = json.loads(p.stdout.strip().splitlines()[-1])
    assert {d["status"] for d in details} == {"OK"}, details
    for d in details:
        name = d["did"].split(":", 1)[1]
        assert d["path"].startswith(str(home / "rucio" / "dlmode" / "downloads"))
        assert pathlib.Path(d["path"]).read_bytes() == data[name]


# ---------------------------------------------------------------------------------------------------------------
# The workshop story


def test_workshop_story_search_basket_notebook(dlaas, jl_home, tmp_path):
    from rucio_jupyterlab.mode_handlers.replica import ReplicaModeHandler
    from rucio_jupyterlab.rucio.rucio import RucioAPI
    data = upload_dataset(dlaas, tmp_path, "workshop-ds", ["obs-1.fits", "obs-2.fits", "obs-3.fits"], rse="SITE-C")
    tok = token_file(dlaas, tmp_path / "workshop-token", scope="openid email profile")
    token = tok.read_text()

    # 1. Search the lake like ESAP does, with the user's IAM token: Rucio's scope_list lists the dataset's files, each
    #    with the dataset as its parent.
    r, rows = esap_query(dlaas, token, "dids", scope="user.root", name="workshop-ds")
    assert r.ok and sorted(x["name"] for x in rows) == sorted(data)
    found = [{"scope": p["scope"], "name": p["name"], "type": "DATASET"} for p in {(x["parent"]["scope"], x["parent"]["name"]): x["parent"] for x in rows}.values()]
    assert [x["name"] for x in found] == ["workshop-ds"]

    # 2. Put the result in the basket, as ESAP's GUI saves it.
    profiles = f"{dlaas.url}/esap-api/accounts/user-profiles/"
    hdr = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    me = requests.get(profiles, headers=hdr).json()["results"][0]["user_name"]
    basket = [{"archive": "rucio", "record": x} for x in found]
    requests.put(f"{profiles}{me}/", json={"shopping_cart": basket}, headers=hdr).raise_for_status()

    # 3. Read the basket like the notebook's shopping client: token from the DLaaS token file, results[0].shopping_cart.
    with open(tok) as fh:
        nb_token = fh.readline()
    resp = requests.get(urljoin(dlaas.url + "/", "esap-api/accounts/user-profiles/"),
                        headers=dict(Accept="application/json", Authorization=f"Bearer {nb_token}"))
    assert resp.ok
    items = [json.loads(i["item_data"]) for i in json.loads(resp.content)["results"][0]["shopping_cart"]]
    dids = [(i["record"]["scope"], i["record"]["name"]) for i in items if i.get("archive") == "rucio"]
    assert dids == [("user.root", "workshop-ds")]

    # 4. Make them available on the notebook RSE with the extension's replica mode.
    api = RucioAPI(instance_config=notebook_instance(dlaas, tok, name="workshop"), auth_type="oidc", auth_config=None)
    handler = ReplicaModeHandler("workshop", api)
    for scope, name in dids:
        handler.make_available(scope, name)
        assert {d["status"] for d in handler.get_did_details(scope, name, force_fetch=True)} == {"REPLICATING"}
    control(dlaas, "POST", "clock/advance", json={"seconds": 300})

    # 5. Read the bytes next to the compute.
    for scope, name in dids:
        details = handler.get_did_details(scope, name, force_fetch=True)
        assert {d["status"] for d in details} == {"OK"}
        assert {pathlib.Path(d["path"]).name: pathlib.Path(d["path"]).read_bytes() for d in details} == data
