"""X.509 logins over Lakebed's HTTPS listener, with the real Rucio client: a user certificate and proxies issued by
`lakebed cert --user`, refused certificates (another CA, an expired proxy), and the same certificate at FTS and WebDAV.

The certificates Lakebed does not make (another CA's, an expired proxy, a legacy GT2 proxy) are built here with the
`cryptography` package, independently of Lakebed's own issuing code.
"""
import datetime
import os
import pathlib
import re
import subprocess
import sys

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import BIN, Lake, free_port, run_rucio, write_cfg

PROXY_CERT_INFO = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14")
# ProxyCertInfo ::= SEQUENCE { proxyPolicy SEQUENCE { policyLanguage id-ppl-inheritAll } }
INHERIT_ALL = bytes.fromhex("300c300a06082b06010505071501")


@pytest.fixture(scope="module")
def tls_lake(tmp_path_factory):
    base = tmp_path_factory.mktemp("x509")
    port = free_port()
    lk = Lake(base / "lake", args=["--empty", "--time-scale", "0", "--https-port", str(port)]).start()
    lk.https = f"https://localhost:{port}"
    lk.ca = str(lk.data_dir / "tls" / "ca.pem")
    lk.base = base
    from rucio.client import Client
    lk.root = Client(rucio_host=lk.url, auth_host=lk.url, account="root", auth_type="userpass",
                     creds={"username": "ddmlab", "password": "secret"})
    lk.cfg = write_cfg(base / "root-cfg", lk.url)
    yield lk
    lk.stop()


def issue(lake, name, *extra):
    out = lake.base / name
    p = subprocess.run([BIN, "cert", "--data-dir", str(lake.data_dir), "--user", name, "--out", str(out), *extra],
                       capture_output=True, text=True, check=True)
    dn = re.search(r"^DN\s*: (.+)$", p.stdout, re.M).group(1)
    return dn, out


def x509_cfg(lake, directory, account, **creds):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"rucio_host = {lake.https}", f"auth_host = {lake.https}", f"ca_cert = {lake.ca}", f"account = {account}"]
    lines += [f"{k} = {v}" for k, v in creds.items()]
    cfg = directory / "rucio.cfg"
    cfg.write_text("[client]\n" + "\n".join(lines) + "\n")
    return cfg


def whoami(cfg, tmp):
    """`rucio whoami` in a process of its own (the client reads its configuration once per process)."""
    _, out, _ = run_rucio("whoami", cfg=cfg, env_extra={"TMPDIR": str(tmp)})
    return out


@pytest.fixture(scope="module")
def alice(tls_lake):
    dn, folder = issue(tls_lake, "alice", "--proxy")
    tls_lake.root.add_account("alice", "USER", "alice@example.org")
    # The documented way to register the DN: rucio-admin identity add --type X509.
    exe = str(pathlib.Path(sys.executable).parent / "rucio-admin")
    subprocess.run([exe, "identity", "add", "--account", "alice", "--type", "X509", "--id", dn, "--email", "alice@example.org"],
                   env=dict(os.environ, RUCIO_CONFIG=str(tls_lake.cfg), TMPDIR=str(tls_lake.base)), check=True,
                   capture_output=True, text=True)
    return {"dn": dn, "cert": folder / "usercert.pem", "key": folder / "userkey.pem", "proxy": folder / "x509up"}


def test_lakebed_cert_prints_a_dn_in_rucios_format(alice):
    assert alice["dn"] == "/DC=org/DC=lakebed/OU=Users/CN=alice"
    assert oct(alice["key"].stat().st_mode)[-3:] == "600"


def test_user_certificate_logs_in_with_the_real_client(tls_lake, alice, tmp_path):
    cfg = x509_cfg(tls_lake, tmp_path / "cfg", "alice", auth_type="x509", client_cert=alice["cert"], client_key=alice["key"])
    out = whoami(cfg, tmp_path)
    assert re.search(r"account\s*:\s*alice", out), out


def test_rfc3820_proxy_logs_in_with_the_real_client(tls_lake, alice, tmp_path):
    cfg = x509_cfg(tls_lake, tmp_path / "cfg", "alice", auth_type="x509_proxy", client_x509_proxy=alice["proxy"])
    assert re.search(r"account\s*:\s*alice", whoami(cfg, tmp_path))
    # The Python client too, and the token names the identity's DN without the proxy's CN.
    from rucio.client import Client
    c = Client(rucio_host=tls_lake.https, auth_host=tls_lake.https, account="alice", auth_type="x509_proxy",
               ca_cert=tls_lake.ca, creds={"client_proxy": str(alice["proxy"])})
    assert c.whoami()["account"] == "alice"


def test_without_an_account_the_identitys_account_is_taken(tls_lake, alice):
    r = requests.get(tls_lake.https + "/auth/x509", cert=(str(alice["cert"]), str(alice["key"])), verify=tls_lake.ca)
    assert r.status_code == 200, r.text
    assert r.headers["X-Rucio-Auth-Account"] == "alice"
    r = requests.get(tls_lake.https + "/auth/validate", headers={"X-Rucio-Auth-Token": r.headers["X-Rucio-Auth-Token"]},
                     verify=tls_lake.ca)
    assert "'identity': '/DC=org/DC=lakebed/OU=Users/CN=alice'" in r.text


def test_a_certificate_for_another_account_is_refused(tls_lake, alice):
    r = requests.get(tls_lake.https + "/auth/x509", cert=(str(alice["cert"]), str(alice["key"])), verify=tls_lake.ca,
                     headers={"X-Rucio-Account": "root"})
    assert r.status_code == 401 and r.headers["ExceptionClass"] == "CannotAuthenticate"


def test_https_clients_without_a_certificate_still_work(tls_lake):
    r = requests.get(tls_lake.https + "/ping", verify=tls_lake.ca)
    assert r.status_code == 200 and "version" in r.json()
    r = requests.get(tls_lake.https + "/auth/x509", verify=tls_lake.ca)
    assert r.status_code == 401 and r.headers["ExceptionClass"] == "CannotAuthenticate" and "Cannot get DN" in r.text


# ---- certificates made outside Lakebed


def name(*cns, dc=("org", "lakebed"), ou="Users"):
    attrs = [x509.NameAttribute(NameOID.DOMAIN_COMPONENT, d) for d in dc]
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    return x509.Name(attrs + [x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns])


def write_pem(path, *items):
    parts = []
    for it in items:
        if isinstance(it, x509.Certificate):
            parts.append(it.public_bytes(serialization.Encoding.PEM))
        else:
            parts.append(it.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    path.write_bytes(b"".join(parts))
    path.chmod(0o600)
    return path


def make_proxy(issuer_cert, issuer_key, cn, not_before, not_after, rfc=True):
    key = ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateBuilder().subject_name(x509.Name(list(issuer_cert.subject.rdns) + [
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, cn)])]))
         .issuer_name(issuer_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True))
    if rfc:
        b = b.add_extension(x509.UnrecognizedExtension(PROXY_CERT_INFO, INHERIT_ALL), critical=True)
    return b.sign(issuer_key, hashes.SHA256()), key


def load_user(alice):
    cert = x509.load_pem_x509_certificate(alice["cert"].read_bytes())
    key = serialization.load_pem_private_key(alice["key"].read_bytes(), None)
    return cert, key


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def login(lake, cert):
    return requests.get(lake.https + "/auth/x509_proxy", cert=str(cert), verify=lake.ca, headers={"X-Rucio-Account": "alice"})


def test_legacy_proxy_and_a_proxy_of_a_proxy_log_in(tls_lake, alice, tmp_path):
    user, ukey = load_user(alice)
    legacy, lkey = make_proxy(user, ukey, "proxy", now() - datetime.timedelta(minutes=5), now() + datetime.timedelta(hours=1), rfc=False)
    r = login(tls_lake, write_pem(tmp_path / "legacy", legacy, lkey, user))
    assert r.status_code == 200 and r.headers["X-Rucio-Auth-Account"] == "alice", r.text
    # `lakebed cert --proxy-style legacy` makes the same kind.
    _, folder = issue(tls_lake, "alice", "--proxy", "--proxy-style", "legacy")
    assert "CN=proxy" in x509.load_pem_x509_certificate((folder / "x509up").read_bytes()).subject.rfc4514_string()
    first, fkey = make_proxy(user, ukey, "1234567", now() - datetime.timedelta(minutes=5), now() + datetime.timedelta(hours=1))
    second, skey = make_proxy(first, fkey, "7654321", now() - datetime.timedelta(minutes=5), now() + datetime.timedelta(hours=1))
    r = login(tls_lake, write_pem(tmp_path / "chain", second, skey, first, user))
    assert r.status_code == 200, r.text


def test_an_expired_proxy_is_refused(tls_lake, alice, tmp_path):
    user, ukey = load_user(alice)
    proxy, pkey = make_proxy(user, ukey, "99887766", now() - datetime.timedelta(hours=13), now() - datetime.timedelta(hours=1))
    r = login(tls_lake, write_pem(tmp_path / "expired", proxy, pkey, user))
    assert r.status_code == 401 and r.headers["ExceptionClass"] == "CannotAuthenticate"
    assert "expired" in r.json()["ExceptionMessage"]
    # The real client says the same.
    cfg = x509_cfg(tls_lake, tmp_path / "cfg", "alice", auth_type="x509_proxy", client_x509_proxy=tmp_path / "expired")
    code, out, err = run_rucio("whoami", cfg=cfg, check=False, env_extra={"TMPDIR": str(tmp_path)})
    assert code != 0 and "Cannot authenticate" in err and "expired" in err


def test_a_certificate_from_another_ca_is_refused(tls_lake, tmp_path):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lakebed"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Lakebed local CA")])   # same name, other key
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now() - datetime.timedelta(days=1))
          .not_valid_after(now() + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("alice")).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now() - datetime.timedelta(days=1))
            .not_valid_after(now() + datetime.timedelta(days=30)).sign(ca_key, hashes.SHA256()))
    write_pem(tmp_path / "cert.pem", cert)
    write_pem(tmp_path / "key.pem", key)
    r = requests.get(tls_lake.https + "/auth/x509", cert=(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")), verify=tls_lake.ca)
    assert r.status_code == 401 and r.headers["ExceptionClass"] == "CannotAuthenticate"
    assert "not signed by this lake's CA" in r.json()["ExceptionMessage"]
    cfg = x509_cfg(tls_lake, tmp_path / "cfg", "alice", auth_type="x509", client_cert=tmp_path / "cert.pem", client_key=tmp_path / "key.pem")
    code, out, err = run_rucio("whoami", cfg=cfg, check=False, env_extra={"TMPDIR": str(tmp_path)})
    assert code != 0 and "Cannot authenticate" in err and "not signed by this lake's CA" in err


def test_put_identities_x509_registers_the_callers_certificate(tls_lake):
    dn, folder = issue(tls_lake, "bob")
    tls_lake.root.add_account("bob", "USER", "bob@example.org")
    token = requests.get(tls_lake.url + "/auth/userpass", headers={
        "X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret", "X-Rucio-Account": "root"}).headers["X-Rucio-Auth-Token"]
    cert = (str(folder / "usercert.pem"), str(folder / "userkey.pem"))
    r = requests.put(tls_lake.https + "/identities/bob/x509", cert=cert, verify=tls_lake.ca,
                     headers={"X-Rucio-Auth-Token": token, "X-Rucio-Email": "bob@example.org"})
    assert r.status_code == 201, r.text
    assert {"type": "X509", "identity": dn, "email": "bob@example.org"} in [
        {k: i[k] for k in ("type", "identity", "email")} for i in tls_lake.root.list_identities("bob")]
    r = requests.get(tls_lake.https + "/auth/x509", cert=cert, verify=tls_lake.ca)
    assert r.status_code == 200 and r.headers["X-Rucio-Auth-Account"] == "bob"


def test_fts_and_webdav_take_the_same_certificate(tls_lake, alice, tmp_path):
    cert = (str(alice["cert"]), str(alice["key"]))
    r = requests.get(tls_lake.https + "/fts/whoami", cert=str(alice["proxy"]), verify=tls_lake.ca)
    assert r.status_code == 200, r.text
    assert r.json()["user_dn"] == alice["dn"] and r.json()["is_root"] is False
    assert requests.get(tls_lake.https + "/fts/whoami", verify=tls_lake.ca).status_code == 401
    # An RSE whose storage takes tokens only (oidc_support): no credential is 401, alice's certificate is let in.
    store = tmp_path / "x509-store"
    tls_lake.root.add_rse("X509-DISK")
    tls_lake.root.add_protocol("X509-DISK", {"scheme": "file", "hostname": "localhost", "port": 0, "prefix": str(store) + "/",
                                             "impl": "rucio.rse.protocols.posix.Default"})
    tls_lake.root.add_rse_attribute("X509-DISK", "oidc_support", True)
    url = tls_lake.https + "/storage/X509-DISK/alice.dat"
    assert requests.put(url, data=b"x509 bytes", verify=tls_lake.ca).status_code == 401
    r = requests.put(url, data=b"x509 bytes", cert=cert, verify=tls_lake.ca)
    assert r.status_code in (201, 204), r.text
    assert (store / "alice.dat").read_bytes() == b"x509 bytes"
    assert requests.get(url, cert=str(alice["proxy"]), verify=tls_lake.ca).content == b"x509 bytes"
