"""Starts a real `lakebed` process and points the real rucio client and CLI at it."""
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# A private temp dir keeps the client's token cache (<tmp>/<user>/.rucio_<user>/) away from other runs.
os.environ["TMPDIR"] = tempfile.mkdtemp(prefix="lakebed-e2e-")
tempfile.tempdir = None

BIN = os.environ.get("LAKEBED_BIN", str(ROOT / ".build" / "debug" / "lakebed"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lake:
    """A running lakebed process on a data folder."""

    def __init__(self, data_dir, args=()):
        self.data_dir = pathlib.Path(data_dir)
        self.args = list(args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, timeout=20):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port), "--host", "127.0.0.1", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "Lakebed ready at" in line:
                # Keep reading what the server prints, so a full pipe never blocks it; keep it for diagnostics.
                import threading
                self.output = []
                threading.Thread(target=lambda: [self.output.append(l) for l in self.proc.stdout], daemon=True).start()
                return self
            if line == "" and self.proc.poll() is not None:
                break
        raise RuntimeError("lakebed did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def rse_dir(self, rse):
        return self.data_dir / "rses" / rse


def write_cfg(directory, url, username="ddmlab", password="secret", account="root"):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cfg = directory / "rucio.cfg"
    cfg.write_text(f"[client]\nrucio_host = {url}\nauth_host = {url}\nauth_type = userpass\n"
                   f"username = {username}\npassword = {password}\naccount = {account}\n")
    return cfg


@pytest.fixture(scope="session")
def lake(tmp_path_factory):
    lk = Lake(tmp_path_factory.mktemp("lake")).start()
    cfg = write_cfg(tmp_path_factory.mktemp("cfg"), lk.url)
    os.environ["RUCIO_CONFIG"] = str(cfg)
    lk.cfg = cfg
    yield lk
    lk.stop()


@pytest.fixture(scope="session")
def client(lake):
    from rucio.client import Client
    return Client()


@pytest.fixture(scope="session")
def jdoe(lake, client, tmp_path_factory):
    """An ordinary USER account with its own scope and a client logged in as it."""
    from rucio.client import Client
    client.add_account("jdoe", "USER", "jdoe@example.org")
    client.add_identity("jdoe", "jdoe", "USERPASS", "jdoe@example.org", default=True, password="jdoe-pw")
    client.add_scope("jdoe", "user.jdoe")
    # The client caches its configuration per process, so jdoe's settings are passed explicitly.
    return Client(rucio_host=lake.url, auth_host=lake.url, account="jdoe", auth_type="userpass",
                  creds={"username": "jdoe", "password": "jdoe-pw"})


def run_rucio(*args, cfg=None, cwd=None, check=True, env_extra=None):
    exe = pathlib.Path(sys.executable).parent / "rucio"
    env = dict(os.environ)
    env.update(env_extra or {})
    if cfg:
        env["RUCIO_CONFIG"] = str(cfg)
    p = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"rucio {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def make_file(tmp_path):
    def make(name, size=1024):
        p = tmp_path / name
        p.write_bytes(os.urandom(size))
        return p
    return make


def control(lake, method, path, **kw):
    """Calls Lakebed's control API (`/lakebed/...`) and returns the decoded JSON."""
    import requests
    r = requests.request(method, f"{lake.url}/lakebed/{path}", timeout=60, **kw)
    assert r.status_code == 200, f"{method} /lakebed/{path}: {r.status_code} {r.text}"
    return r.json()


def private_lake(tmp_path_factory, name, args):
    """Starts a lake of its own with `args`, with a rucio.cfg, a token cache and a root client of its own."""
    from rucio.client import Client
    lk = Lake(tmp_path_factory.mktemp(name), args=args).start()
    cfgdir = tmp_path_factory.mktemp(name + "-cfg")
    lk.cfg = write_cfg(cfgdir, lk.url)
    lk.env = {"TMPDIR": str(cfgdir)}
    lk.client = Client(rucio_host=lk.url, auth_host=lk.url, account="root", auth_type="userpass",
                       creds={"username": "ddmlab", "password": "secret"})
    return lk


@pytest.fixture(scope="module")
def manual_lake(tmp_path_factory):
    """A lake whose clock moves only when a test advances it (`POST /lakebed/clock/advance`)."""
    lk = private_lake(tmp_path_factory, "manual-lake", ["--time-scale", "0", "--seed", "11"])
    yield lk
    lk.stop()
