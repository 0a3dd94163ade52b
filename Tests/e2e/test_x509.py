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

from conftest import BIN, Lake, control, free_port, run_rucio, write_cfg

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
    assert r.json()["user_dn"] == alice["dn"] and r.json()["is_root"] is False and r.json()["method"] == "certificate"
    # The real fts3 client, with the certificate and with the proxy.
    import fts3.rest.client.easy as fts3
    for ucert, ukey in [(alice["cert"], alice["key"]), (alice["proxy"], alice["proxy"])]:
        ctx = fts3.Context(tls_lake.https + "/fts", ucert=str(ucert), ukey=str(ukey), verify=True, capath=tls_lake.ca)
        assert fts3.whoami(ctx)["user_dn"] == alice["dn"]
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


def test_a_resumed_tls_session_keeps_its_certificate(tls_lake, alice):
    """TLS resumption runs no certificate verification: the chain presented on the first handshake still counts."""
    import socket
    import ssl
    port = int(tls_lake.https.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=tls_lake.ca)
    ctx.load_cert_chain(str(alice["proxy"]))

    def login(session=None):
        s = ctx.wrap_socket(socket.create_connection(("localhost", port)), server_hostname="localhost", session=session)
        s.sendall(b"GET /auth/x509_proxy HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return s, data

    first, data = login()
    assert b"X-Rucio-Auth-Account: alice" in data
    again, data = login(first.session)
    assert again.session_reused and b"200 OK" in data.split(b"\r\n")[0] and b"X-Rucio-Auth-Account: alice" in data


# ---- FTS: GridSite delegation with the real fts3 client


@pytest.fixture(scope="module")
def token_only_rses(tls_lake, tmp_path_factory):
    """Two RSEs whose storage takes tokens only (`oidc_support`): a certificate user's jobs reach them by its proxy."""
    stores = {}
    for rse in ("DLG-SRC", "DLG-DST"):
        store = tmp_path_factory.mktemp(rse.lower())
        tls_lake.root.add_rse(rse)
        tls_lake.root.add_protocol(rse, {"scheme": "file", "hostname": "localhost", "port": 0, "prefix": str(store) + "/",
                                         "impl": "rucio.rse.protocols.posix.Default"})
        tls_lake.root.add_rse_attribute(rse, "oidc_support", True)
        stores[rse] = store
    return stores


def fts_context(lake, ucert, ukey):
    import fts3.rest.client.easy as fts3
    return fts3.Context(lake.https + "/fts", ucert=str(ucert), ukey=str(ukey), verify=True, capath=lake.ca)


def finished_job(lake, ctx, job_id, limit=60):
    """Polls the job with the real client, moving the lake's clock 5 s at a time, until it ends (bounded)."""
    import fts3.rest.client.easy as fts3
    for _ in range(limit):
        status = fts3.get_job_status(ctx, job_id, list_files=True)
        if status["job_state"] in ("FINISHED", "FAILED", "FINISHEDDIRTY", "CANCELED"):
            return status
        control(lake, "POST", "clock/advance", json={"seconds": 5})
    pytest.fail(f"job {job_id} still {status['job_state']} after {limit} steps")


def test_certificate_users_delegate_then_submit_with_the_real_fts3_client(tls_lake, alice, token_only_rses):
    import hashlib
    import fts3.rest.client.easy as fts3
    from fts3.rest.client import Delegator, Submitter
    from fts3.rest.client.exceptions import NeedDelegation
    cert = (str(alice["cert"]), str(alice["key"]))
    ctx = fts_context(tls_lake, *cert)
    dlg_id = fts3.whoami(ctx)["delegation_id"]
    assert dlg_id == hashlib.sha1(alice["dn"].encode()).hexdigest()[:16]   # FTS's generate_delegation_id
    src, dst = token_only_rses["DLG-SRC"], token_only_rses["DLG-DST"]
    storage = tls_lake.https + "/storage"
    assert requests.put(f"{storage}/DLG-SRC/dlg/in.dat", data=b"delegated bytes" * 1000, cert=cert, verify=tls_lake.ca).status_code == 201

    def transfer(name):
        return [fts3.new_transfer(f"{storage}/DLG-SRC/dlg/in.dat", f"{storage}/DLG-DST/dlg/{name}")]

    # Without a delegation FTS refuses a certificate submission with 419 (the client's NeedDelegation).
    assert Delegator(ctx).get_info(dlg_id) is None
    with pytest.raises(NeedDelegation):
        Submitter(ctx).submit(transfers=transfer("never.dat"))
    r = requests.post(tls_lake.https + "/fts/jobs", json={"files": transfer("never.dat")}, cert=cert, verify=tls_lake.ca)
    assert r.status_code == 419 and r.json()["message"] == f'No delegation found for "{alice["dn"]}"'

    # Delegate with the certificate, then submit: the job's transfer runs on the delegated proxy.
    assert fts3.delegate(ctx, lifetime=datetime.timedelta(hours=7)) == dlg_id
    info = Delegator(ctx).get_info(dlg_id)
    left = datetime.datetime.strptime(info["termination_time"], "%Y-%m-%dT%H:%M:%S") - datetime.datetime.utcnow()
    assert datetime.timedelta(hours=6, minutes=50) < left <= datetime.timedelta(hours=7)
    job = fts3.submit(ctx, fts3.new_job(transfer("by-cert.dat")))
    status = finished_job(tls_lake, ctx, job)
    assert status["job_state"] == "FINISHED" and status["cred_id"] == dlg_id, status
    assert (dst / "dlg" / "by-cert.dat").read_bytes() == b"delegated bytes" * 1000

    # With the proxy: a proxy of the proxy is delegated (forced, as the old one still has hours left).
    pctx = fts_context(tls_lake, alice["proxy"], alice["proxy"])
    assert fts3.delegate(pctx, force=True) == dlg_id
    proxy_end = x509.load_pem_x509_certificate(alice["proxy"].read_bytes()).not_valid_after_utc.replace(tzinfo=None)
    assert datetime.datetime.strptime(Delegator(pctx).get_info()["termination_time"], "%Y-%m-%dT%H:%M:%S") <= proxy_end
    job = fts3.submit(pctx, fts3.new_job(transfer("by-proxy.dat")))
    assert finished_job(tls_lake, pctx, job)["job_state"] == "FINISHED"
    assert (dst / "dlg" / "by-proxy.dat").read_bytes() == b"delegated bytes" * 1000

    # Deleting the delegation: a queued transfer fails with the reason instead of running, a new job is refused.
    queued = fts3.submit(ctx, fts3.new_job(transfer("revoked.dat")))
    r = requests.delete(f"{tls_lake.https}/fts/delegation/{dlg_id}", cert=cert, verify=tls_lake.ca)
    assert r.status_code == 204, r.text
    assert requests.delete(f"{tls_lake.https}/fts/delegation/{dlg_id}", cert=cert, verify=tls_lake.ca).status_code == 404
    status = finished_job(tls_lake, ctx, queued)
    assert status["job_state"] == "FAILED", status
    assert "delegated credential" in status["reason"] and "deleted" in status["reason"], status
    assert not (dst / "dlg" / "revoked.dat").exists()
    assert Delegator(ctx).get_info(dlg_id) is None
    with pytest.raises(NeedDelegation):
        Submitter(ctx).submit(transfers=transfer("after-delete.dat"))
    assert not (src / "dlg" / "after-delete.dat").exists() and (src / "dlg" / "in.dat").exists()


def test_a_delegation_belongs_to_its_owner_and_takes_only_a_proxy_for_its_request(tls_lake, alice, tmp_path):
    cert = (str(alice["cert"]), str(alice["key"]))
    import hashlib
    dlg_id = hashlib.sha1(alice["dn"].encode()).hexdigest()[:16]
    base = f"{tls_lake.https}/fts/delegation/{dlg_id}"
    r = requests.get(base + "/request", cert=cert, verify=tls_lake.ca)
    assert r.status_code == 200 and r.headers["X-Delegation-ID"] == dlg_id
    request = x509.load_pem_x509_csr(r.content)
    assert request.is_signature_valid
    # Another user of the same CA may not look at, ask for or put alice's delegation.
    carol_dn, folder = issue(tls_lake, "carol")
    tls_lake.root.add_account("carol", "USER", "carol@example.org")
    tls_lake.root.add_identity("carol", carol_dn, "X509", "carol@example.org")
    carol = (str(folder / "usercert.pem"), str(folder / "userkey.pem"))
    for method, path in (("GET", ""), ("GET", "/request"), ("PUT", "/credential"), ("DELETE", "")):
        r = requests.request(method, base + path, cert=carol, verify=tls_lake.ca, data="")
        assert r.status_code == 403 and "do not match" in r.json()["message"], (method, path, r.text)
    # A proxy for another key than the request's is refused; without a certificate there is no delegation.
    user, ukey = load_user(alice)
    wrong, _ = make_proxy(user, ukey, "1234567", now() - datetime.timedelta(minutes=5), now() + datetime.timedelta(hours=8))
    body = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (wrong, user))
    r = requests.put(base + "/credential", data=body, cert=cert, verify=tls_lake.ca)
    assert r.status_code == 400 and r.json()["message"] == \
        "Could not process the proxy: The proxy does not match the stored associated private key", r.text
    assert requests.get(base, cert=cert, verify=tls_lake.ca).json() is None
    assert requests.get(base + "/request", verify=tls_lake.ca).status_code == 401
