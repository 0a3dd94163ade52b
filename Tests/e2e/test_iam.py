"""Lakebed's IAM: OIDC discovery, grants, and the real rucio client on a bearer token (auth_type = oidc)."""
import base64
import json
import subprocess
import time
import uuid
from urllib.parse import urljoin

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import BIN, Lake, run_rucio

JDOE = ("jdoe", "jdoe-password")
RUCIO_CLIENT = ("rucio", "rucio-secret")


def lakebed_token(lake, *args, output=None):
    """Runs `lakebed token` on the lake's data folder; returns the token (read back from the file when --output is given)."""
    cmd = [BIN, "token", "--data-dir", str(lake.data_dir), *args]
    if output:
        cmd += ["--output", str(output)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return output.read_text().strip() if output else p.stdout.strip()


def oidc_cfg(lake, directory):
    """A rucio.cfg as a user with a WLCG bearer token writes it: auth_type = oidc, no password."""
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "rucio.cfg"
    cfg.write_text(f"[client]\nrucio_host = {lake.url}\nauth_host = {lake.url}\nauth_type = oidc\naccount = root\n")
    return cfg


def discovery(lake):
    r = requests.get(f"{lake.url}/iam/.well-known/openid-configuration")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    return r.json()


def token_request(lake, auth=RUCIO_CLIENT, **form):
    return requests.post(discovery(lake)["token_endpoint"], data=form, auth=auth)


def password_token(lake, scope="openid profile", **extra):
    r = token_request(lake, grant_type="password", username=JDOE[0], password=JDOE[1], scope=scope, **extra)
    assert r.status_code == 200, r.text
    return r.json()


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def rucio_status(lake, token, path="/accounts/whoami"):
    r = requests.get(lake.url + path, headers={"X-Rucio-Auth-Token": token})
    return r.status_code, r.headers.get("ExceptionClass")


def test_discovery_document_as_iam_writes_it(lake):
    conf = discovery(lake)
    issuer = conf["issuer"]
    assert issuer == f"{lake.url}/iam/"
    # Rucio finds the configuration by joining the issuer with the well-known path, which needs the trailing slash.
    assert requests.get(urljoin(issuer, ".well-known/openid-configuration")).json() == conf
    for field in ["token_endpoint", "userinfo_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"]:
        assert conf[field].startswith(issuer)
    assert {"client_credentials", "password", "refresh_token", "authorization_code",
            "urn:ietf:params:oauth:grant-type:token-exchange"} <= set(conf["grant_types_supported"])
    assert {"client_secret_basic", "client_secret_post"} <= set(conf["token_endpoint_auth_methods_supported"])
    assert {"groups", "wlcg.groups"} <= set(conf["claims_supported"])


def test_pyjwt_validates_tokens_against_discovery_and_jwks(lake):
    conf = discovery(lake)
    tok = password_token(lake, audience="rucio")["access_token"]
    key = jwt.PyJWKClient(conf["jwks_uri"]).get_signing_key_from_jwt(tok)
    c = jwt.decode(tok, key.key, algorithms=conf["id_token_signing_alg_values_supported"], audience="rucio",
                   issuer=conf["issuer"], options={"require": ["exp", "iat", "nbf", "iss", "sub", "aud", "jti"]})
    assert c["client_id"] == "rucio" and c["scope"] == "openid profile" and c["wlcg.ver"] == "1.0"
    assert c["groups"] == ["/escape", "/escape/users"] and c["wlcg.groups"] == c["groups"]
    assert str(uuid.UUID(c["sub"])) == c["sub"]
    # So is a token made offline by `lakebed token`.
    offline = lakebed_token(lake, "--scope", "openid profile storage.read:/", "--audience", "rucio")
    key = jwt.PyJWKClient(conf["jwks_uri"]).get_signing_key_from_jwt(offline)
    assert jwt.decode(offline, key.key, algorithms=["RS256"], audience="rucio", issuer=conf["issuer"])["sub"] == c["sub"]


def test_audience_as_aud_audience_or_resource(lake):
    for param in ["aud", "audience", "resource"]:
        tok = password_token(lake, **{param: "rucio"})["access_token"]
        assert claims(tok)["aud"] == "rucio"
    both = password_token(lake, audience="rucio fts")["access_token"]
    assert claims(both)["aud"] == ["rucio", "fts"]


def test_client_auth_basic_post_and_errors(lake):
    r = token_request(lake, auth=None, grant_type="client_credentials", client_id="rucio", client_secret="rucio-secret", scope="fts")
    assert r.status_code == 200 and claims(r.json()["access_token"])["sub"] == "rucio"
    r = token_request(lake, auth=("rucio", "wrong"), grant_type="client_credentials")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = token_request(lake, grant_type="authorization_code", code="x")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"      # a code no login issued
    r = token_request(lake, grant_type="implicit")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = token_request(lake, grant_type="password", username="jdoe", password="nope")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_rucio_cli_with_bearer_token_file(lake, tmp_path, make_file):
    """What a user does: a token file, auth_type = oidc, and the ordinary rucio commands."""
    token_file = tmp_path / "token"
    lakebed_token(lake, "--user", "jdoe", "--scope", "openid profile", "--audience", "rucio", output=token_file)
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    cfg = oidc_cfg(lake, tmp_path / "cfg")
    env = {"BEARER_TOKEN_FILE": str(token_file), "TMPDIR": str(tmp_path)}
    out = run_rucio("whoami", cfg=cfg, env_extra=env)[1]
    assert "root" in out
    f = make_file("oidc-up.dat", 2048)
    run_rucio("upload", "--rse", "SITE-A", "--scope", "user.root", str(f), cfg=cfg, env_extra=env, cwd=tmp_path)
    out = run_rucio("did", "list", "user.root:oidc-up*", "--filter", "type=all", cfg=cfg, env_extra=env)[1]
    assert "oidc-up.dat" in out
    dest = tmp_path / "dl"
    run_rucio("download", "user.root:oidc-up.dat", "--dir", str(dest), cfg=cfg, env_extra=env)
    assert (dest / "user.root" / "oidc-up.dat").read_bytes() == f.read_bytes()


def test_auth_validate_answers_for_a_jwt(lake):
    tok = lakebed_token(lake)
    r = requests.get(f"{lake.url}/auth/validate", headers={"X-Rucio-Auth-Token": tok})
    assert r.status_code == 200
    sub = claims(tok)["sub"]
    assert f"'identity': 'SUB={sub}, ISS={lake.url}/iam/'" in r.text and "'account': 'root'" in r.text
    assert "'audience': 'rucio'" in r.text and "'authz_scope': 'openid profile'" in r.text


def forged_with_other_key(token):
    """The same header and claims, signed by a key the IAM never had."""
    header = jwt.get_unverified_header(token)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims(token), other, algorithm="RS256", headers={"kid": header["kid"]})


def test_refused_tokens_get_401(lake, tmp_path):
    good = lakebed_token(lake)
    assert rucio_status(lake, good) == (200, None)
    refused = {
        "expired": lakebed_token(lake, "--lifetime", "-60"),
        "wrong audience": lakebed_token(lake, "--audience", "fts"),
        "missing profile scope": lakebed_token(lake, "--scope", "openid"),
        "other key": forged_with_other_key(good),
        "unknown identity": lakebed_token(lake, "--user", "asmith"),
        "client token": lakebed_token(lake, "--client", "rucio"),
    }
    for what, tok in refused.items():
        assert rucio_status(lake, tok) == (401, "CannotAuthenticate"), what
        assert rucio_status(lake, tok, "/auth/validate") == (401, "CannotAuthenticate"), what
    # The rucio CLI falls back to Rucio's interactive OIDC login, as against a real Rucio with an identity provider: it
    # prints the login URL and waits for the code from the browser; with no terminal to read it from, it gets no token.
    token_file = tmp_path / "expired"
    token_file.write_text(refused["expired"])
    rc, out, err = run_rucio("whoami", cfg=oidc_cfg(lake, tmp_path / "cfg"), check=False,
                             env_extra={"BEARER_TOKEN_FILE": str(token_file), "TMPDIR": str(tmp_path)})
    assert "account    : root" not in out and "/auth/oidc_redirect?" in out and "EOF when reading a line" in (out + err)


def test_refresh_round_trip(lake):
    # The public client authenticates with its id alone.
    first = token_request(lake, auth=None, client_id="lakebed-cli", grant_type="password", username=JDOE[0], password=JDOE[1],
                          scope="openid profile offline_access", audience="rucio")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["token_type"] == "Bearer" and "refresh_token" in body and "id_token" in body
    again = token_request(lake, auth=None, client_id="lakebed-cli", grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert again.status_code == 200, again.text
    new = again.json()["access_token"]
    assert new != body["access_token"] and claims(new)["sub"] == claims(body["access_token"])["sub"]
    assert claims(new)["aud"] == "rucio"
    assert rucio_status(lake, new) == (200, None)
    # Another client cannot use it; up-scoping is refused.
    assert token_request(lake, grant_type="refresh_token", refresh_token=body["refresh_token"]).json()["error"] == "invalid_grant"
    r = token_request(lake, auth=None, client_id="lakebed-cli", grant_type="refresh_token", refresh_token=body["refresh_token"],
                      scope="openid storage.modify:/")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def test_token_exchange_round_trip(lake):
    subject = password_token(lake, audience="rucio")["access_token"]
    r = token_request(lake, auth=None, client_id="rucio", client_secret="rucio-secret",
                      grant_type="urn:ietf:params:oauth:grant-type:token-exchange", subject_token=subject,
                      subject_token_type="urn:ietf:params:oauth:token-type:access_token",
                      scope="openid profile fts", audience="rucio fts")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    c = claims(body["access_token"])
    assert c["act"] == {"sub": "rucio"} and c["sub"] == claims(subject)["sub"] and c["aud"] == ["rucio", "fts"]
    # The exchanged token still speaks for jdoe on the Rucio API.
    assert rucio_status(lake, body["access_token"]) == (200, None)
    bad = token_request(lake, grant_type="urn:ietf:params:oauth:grant-type:token-exchange", subject_token="x.y.z")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_userinfo_introspect_revoke(lake):
    conf = discovery(lake)
    tok = password_token(lake, scope="openid profile email", audience="rucio")["access_token"]
    info = requests.get(conf["userinfo_endpoint"], headers={"Authorization": f"Bearer {tok}"})
    assert info.status_code == 200 and info.json()["preferred_username"] == "jdoe" and info.json()["email"] == "jdoe@example.org"
    assert requests.get(conf["userinfo_endpoint"]).status_code == 401
    intro = requests.post(conf["introspection_endpoint"], data={"token": tok}, auth=RUCIO_CLIENT).json()
    assert intro["active"] is True and intro["iss"] == conf["issuer"] and intro["aud"] == "rucio" and intro["scope"] == "openid profile email"
    assert requests.post(conf["introspection_endpoint"], data={"token": tok}).status_code == 401
    assert requests.post(conf["revocation_endpoint"], data={"token": tok}, auth=RUCIO_CLIENT).status_code == 200
    assert requests.post(conf["introspection_endpoint"], data={"token": tok}, auth=RUCIO_CLIENT).json() == {"active": False}
    assert requests.get(conf["userinfo_endpoint"], headers={"Authorization": f"Bearer {tok}"}).status_code == 401


def test_keys_kept_across_restart_and_rotated(tmp_path):
    lk = Lake(tmp_path / "lake").start()
    try:
        before = lakebed_token(lk)
        kid1 = jwt.get_unverified_header(before)["kid"]
        assert rucio_status(lk, before) == (200, None)
        lk.stop()
        lk.start()  # the same port and data folder: same keys, same issuer
        assert rucio_status(lk, before) == (200, None)
        p = subprocess.run([BIN, "rotate-keys", "--data-dir", str(lk.data_dir)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        after = lakebed_token(lk)
        assert jwt.get_unverified_header(after)["kid"] != kid1
        # The running server picks up the new key and still accepts the old one.
        assert rucio_status(lk, after) == (200, None)
        kids = [k["kid"] for k in requests.get(f"{lk.url}/iam/jwk").json()["keys"]]
        assert kid1 in kids and jwt.get_unverified_header(after)["kid"] in kids
        assert rucio_status(lk, lakebed_token(lk, "--audience", "rucio other")) == (200, None)
    finally:
        lk.stop()


def test_a_revoked_token_stops_working_everywhere_even_after_use(lake):
    """The outside review: once used, an IAM token was remembered by the Rucio side and kept working after it was
    revoked. Used at the Rucio API and FTS first, then revoked: both refuse it on the next request."""
    conf = discovery(lake)
    tok = password_token(lake, scope="openid profile", audience="rucio")["access_token"]
    assert rucio_status(lake, tok) in ((200, None), (303, None))
    assert rucio_status(lake, tok, "/scopes/") == (200, None)
    fts = requests.get(lake.url + "/fts/whoami", headers={"Authorization": f"Bearer {tok}"})
    assert fts.status_code == 200, fts.text
    assert requests.post(conf["revocation_endpoint"], data={"token": tok}, auth=RUCIO_CLIENT).status_code == 200
    assert rucio_status(lake, tok, "/scopes/") == (401, "CannotAuthenticate")
    assert rucio_status(lake, tok) == (401, "CannotAuthenticate")
    assert requests.get(lake.url + "/fts/whoami", headers={"Authorization": f"Bearer {tok}"}).status_code in (401, 403)
