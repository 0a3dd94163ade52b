"""The WLCG storage clients against Lakebed's HTTPS storage: gfal2 (gfal-copy, -ls, -stat, -sum, -rm) and davix,
Debian's packages as sites and FTS use them, with and without bearer tokens."""
import hashlib
import os
import pathlib
import shutil
import subprocess
import zlib

import pytest

from conftest import BIN, Lake, free_port, run_rucio
from lakepaths import hash_path

# Scripts/test.sh installs them; in CI a missing client is a failure, not a skip.
pytestmark = pytest.mark.skipif(not (shutil.which("gfal-copy") and shutil.which("davix-put")) and os.environ.get("CI") != "true",
                                reason="gfal2 and davix are not installed (Scripts/test.sh installs them)")


def tool(*args, env=None, check=True, timeout=60):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert p.returncode == 0, f"{args}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A lake with its HTTPS port known, a CA folder as gfal2 and davix read it, and the clients' environment."""
    https_port = free_port()
    lk = Lake(tmp_path_factory.mktemp("wlcg-lake"), args=["--time-scale", "0", "--https-port", str(https_port)]).start()
    lk.davs = f"davs://localhost:{https_port}/storage"
    lk.https = f"https://localhost:{https_port}/storage"
    certs = tmp_path_factory.mktemp("wlcg-certs")
    ca = certs / "lakebed-ca.pem"
    shutil.copy(lk.data_dir / "tls" / "ca.pem", ca)
    digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(ca)], capture_output=True, text=True, check=True).stdout.strip()
    (certs / f"{digest}.0").symlink_to(ca.name)
    lk.certs = str(certs)
    # gfal's scripts need the Python that has Debian's gfal2 bindings, whatever python3 comes first on PATH.
    lk.env = dict(os.environ, X509_CERT_DIR=str(certs), GFAL_PYTHONBIN="/usr/bin/python3")
    lk.env.pop("BEARER_TOKEN", None)
    cfgdir = tmp_path_factory.mktemp("wlcg-cfg")
    lk.cfg = cfgdir / "rucio.cfg"
    lk.cfg.write_text(f"[client]\nrucio_host = {lk.url}\nauth_host = {lk.url}\nauth_type = userpass\n"
                      f"username = ddmlab\npassword = secret\naccount = root\n")
    lk.cfg_env = {"TMPDIR": str(cfgdir)}
    yield lk
    lk.stop()


def sums(data):
    return "%08x" % (zlib.adler32(data) & 0xFFFFFFFF), hashlib.md5(data).hexdigest()


def test_gfal_copies_lists_sums_and_removes(site, tmp_path):
    data = os.urandom(300_000)
    src = tmp_path / "gfal.bin"
    src.write_bytes(data)
    url = f"{site.davs}/SITE-A/wlcg/gfal.bin"
    # An upload sends `Expect: 100-continue` first; it used to hang there.
    tool("gfal-copy", f"file://{src}", url, env=site.env)
    assert (site.data_dir / "rses" / "SITE-A" / "wlcg" / "gfal.bin").read_bytes() == data
    listing = tool("gfal-ls", "-l", f"{site.davs}/SITE-A/wlcg/", env=site.env).stdout
    assert "gfal.bin" in listing and "300000" in listing
    assert "Size: 300000" in tool("gfal-stat", url, env=site.env).stdout
    adler, md5 = sums(data)
    assert tool("gfal-sum", url, "ADLER32", env=site.env).stdout.split()[-1] == adler
    assert tool("gfal-sum", url, "MD5", env=site.env).stdout.split()[-1] == md5
    back = tmp_path / "back.bin"
    tool("gfal-copy", url, f"file://{back}", env=site.env)
    assert back.read_bytes() == data
    tool("gfal-rm", url, env=site.env)
    assert tool("gfal-stat", url, env=site.env, check=False).returncode != 0


def test_gfal_sum_equals_the_catalog_for_an_uploaded_replica(site, tmp_path):
    data = os.urandom(70_000)
    f = tmp_path / "catalogued.dat"
    f.write_bytes(data)
    run_rucio("upload", "--rse", "SITE-B", "--scope", "user.root", str(f), cfg=site.cfg, env_extra=site.cfg_env)
    from rucio.client import Client
    c = Client(rucio_host=site.url, auth_host=site.url, account="root", auth_type="userpass",
               creds={"username": "ddmlab", "password": "secret"})
    meta = c.get_metadata("user.root", "catalogued.dat")
    url = f"{site.davs}/SITE-B/{hash_path('user.root', 'catalogued.dat')}"
    assert tool("gfal-sum", url, "ADLER32", env=site.env).stdout.split()[-1] == meta["adler32"]
    assert tool("gfal-sum", url, "MD5", env=site.env).stdout.split()[-1] == meta["md5"]


def test_davix_puts_gets_and_lists(site, tmp_path):
    data = os.urandom(120_000)
    src = tmp_path / "davix.bin"
    src.write_bytes(data)
    url = f"{site.https}/SITE-A/wlcg-davix/davix.bin"
    tool("davix-put", "--capath", site.certs, str(src), url)
    back = tmp_path / "davix-back.bin"
    tool("davix-get", "--capath", site.certs, url, str(back))
    assert back.read_bytes() == data
    assert "davix.bin" in tool("davix-ls", "--capath", site.certs, f"{site.https}/SITE-A/wlcg-davix/").stdout


def test_gfal_needs_a_bearer_token_with_storage_scopes_where_the_rse_supports_oidc(site, tmp_path):
    from rucio.client import Client
    c = Client(rucio_host=site.url, auth_host=site.url, account="root", auth_type="userpass",
               creds={"username": "ddmlab", "password": "secret"})
    c.add_rse_attribute("SITE-C", "oidc_support", True)
    src = tmp_path / "tok.bin"
    src.write_bytes(os.urandom(10_000))
    url = f"{site.davs}/SITE-C/wlcg-token/tok.bin"
    refused = tool("gfal-copy", f"file://{src}", url, env=site.env, check=False)
    assert refused.returncode != 0 and "401" in refused.stderr
    token = subprocess.run([BIN, "token", "--data-dir", str(site.data_dir), "--scope", "openid storage.create:/ storage.read:/",
                            "--audience", "https://wlcg.cern.ch/jwt/v1/any"], capture_output=True, text=True, check=True).stdout.strip()
    with_token = dict(site.env, BEARER_TOKEN=token)
    tool("gfal-copy", f"file://{src}", url, env=with_token)
    assert tool("gfal-sum", url, "ADLER32", env=with_token).stdout.split()[-1] == sums(src.read_bytes())[0]
    read_only = subprocess.run([BIN, "token", "--data-dir", str(site.data_dir), "--scope", "openid storage.read:/",
                                "--audience", "https://wlcg.cern.ch/jwt/v1/any"], capture_output=True, text=True, check=True).stdout.strip()
    denied = tool("gfal-copy", f"file://{src}", url.replace("tok.bin", "tok2.bin"), env=dict(site.env, BEARER_TOKEN=read_only), check=False)
    assert denied.returncode != 0 and "403" in denied.stderr


def test_the_rucio_clients_gfal_implementation_uploads_and_downloads(site, tmp_path):
    """An RSE bootstrapped with a davs protocol whose implementation is Rucio's gfal one, at Lakebed's HTTPS endpoint with
    a prefix of its own: `rucio upload` and `rucio download` move the bytes through gfal2 (Debian's Python bindings, put
    on the client's path), and they land where the protocol's prefix says."""
    from rucio.client import Client
    port = int(site.https.rsplit(":", 1)[1].split("/")[0])
    c = Client(rucio_host=site.url, auth_host=site.url, account="root", auth_type="userpass",
               creds={"username": "ddmlab", "password": "secret"})
    domains = {"lan": {"read": 1, "write": 1, "delete": 1},
               "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1, "third_party_copy_write": 1}}
    c.add_rse("GFAL-SITE")
    c.add_protocol("GFAL-SITE", {"scheme": "davs", "hostname": "localhost", "port": port, "prefix": "/eos/gfal-site/rucio/",
                                 "impl": "rucio.rse.protocols.gfal.Default", "domains": domains})
    # Only the gfal2 module of Debian's bindings goes on the client's path (same CPython minor version).
    bindings = tmp_path / "gfal-bindings"
    bindings.mkdir()
    for so in pathlib.Path("/usr/lib/python3/dist-packages").glob("gfal2.cpython-*.so"):
        (bindings / so.name).symlink_to(so)
    env = {**site.cfg_env, "X509_CERT_DIR": site.certs, "PYTHONPATH": str(bindings)}
    data = os.urandom(50_000)
    f = tmp_path / "via-gfal.dat"
    f.write_bytes(data)
    _, out, err = run_rucio("upload", "--rse", "GFAL-SITE", "--scope", "user.root", str(f), cfg=site.cfg, env_extra=env)
    assert "ERROR" not in err, err
    rel = hash_path("user.root", "via-gfal.dat")
    assert (site.rse_dir("GFAL-SITE") / rel).read_bytes() == data
    [rep] = list(c.list_replicas([{"scope": "user.root", "name": "via-gfal.dat"}]))
    assert rep["states"]["GFAL-SITE"] == "AVAILABLE"
    assert rep["rses"]["GFAL-SITE"] == [f"davs://localhost:{port}/eos/gfal-site/rucio/{rel}"]
    down = tmp_path / "down"
    _, out, err = run_rucio("download", "--dir", str(down), "user.root:via-gfal.dat", cfg=site.cfg, env_extra=env)
    assert (down / "user.root" / "via-gfal.dat").read_bytes() == data, err
