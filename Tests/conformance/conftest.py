"""Differential suite: the real Rucio 41.5.1 server and a Lakebed, side by side.

Both get the same world, built through the real client (`world.py`), then `test_routes.py` sends every case of
`cases.py` to both and compares what a client can see (`signature.py`).
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
# A private temp dir keeps the client's token cache (<tmp>/<user>/.rucio_<user>/) away from other runs.
os.environ["TMPDIR"] = tempfile.mkdtemp(prefix="lakebed-conformance-")
tempfile.tempdir = None

from realrucio import RealRucio, free_port  # noqa: E402

BIN = os.environ.get("LAKEBED_BIN", str(ROOT / ".build" / "debug" / "lakebed"))
RESULTS = pathlib.Path(os.environ.get("CONFORMANCE_RESULTS", ROOT / "artifacts" / "conformance-results.json"))


class LakebedProcess:
    """A fresh, empty Lakebed (`serve --empty`: only root, as the real server's bootstrap) on a new data folder.
    The real server runs none of Rucio's daemons; Lakebed's transmogrifier, which would clear the DIDs' `is_new`
    flag within a tick, is stopped to match (the conveyor and the other daemons run: no case depends on them)."""

    def __init__(self, data_dir):
        self.data_dir = pathlib.Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        args = [BIN, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port), "--host", "127.0.0.1",
                "--no-https", "--empty", "--stop-daemon", "transmogrifier"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "Lakebed ready at" in line:
                self.output = []
                threading.Thread(target=lambda: [self.output.append(x) for x in self.proc.stdout], daemon=True).start()
                return self
            if line == "" and self.proc.poll() is not None:
                break
        raise RuntimeError("lakebed did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Side:
    """One server as the suite talks to it: raw requests with its own token, and a real Client."""

    def __init__(self, name, url, workdir):
        import requests
        self.name = name
        self.url = url
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.http = requests.Session()
        self.world = {}
        self.token = self.login("ddmlab", "secret", "root")

    def login(self, username, password, account):
        import requests
        r = requests.get(self.url + "/auth/userpass", timeout=30,
                         headers={"X-Rucio-Username": username, "X-Rucio-Password": password,
                                  "X-Rucio-Account": account})
        assert r.status_code == 200, f"{self.name}: login {username}: {r.status_code} {r.text}"
        return r.headers["X-Rucio-Auth-Token"]

    def client(self, account="root", username="ddmlab", password="secret"):
        from rucio.client import Client
        return Client(rucio_host=self.url, auth_host=self.url, account=account, auth_type="userpass",
                      creds={"username": username, "password": password})

    def request(self, method, path, token=True, headers=None, **kw):
        h = {"X-Rucio-VO": "def", "User-Agent": "rucio-clients/41.5.1"}
        if token is True:
            h["X-Rucio-Auth-Token"] = self.token
        elif isinstance(token, str):
            h["X-Rucio-Auth-Token"] = token
        h.update(headers or {})
        return self.http.request(method, self.url + path, headers=h, allow_redirects=False, timeout=60, **kw)


@pytest.fixture(scope="session")
def sides(tmp_path_factory):
    """(real Rucio, Lakebed), both up, each with the suite's world built through the real client."""
    import world
    t0 = time.monotonic()
    real = RealRucio(tmp_path_factory.mktemp("real-rucio")).start()
    lake = LakebedProcess(tmp_path_factory.mktemp("lakebed")).start()
    started = time.monotonic() - t0
    # The client reads a configuration file even when hosts are passed; each Client gets its hosts explicitly.
    cfg = tmp_path_factory.mktemp("cfg") / "rucio.cfg"
    cfg.write_text(f"[client]\nrucio_host = {lake.url}\nauth_host = {lake.url}\nauth_type = userpass\n"
                   "username = ddmlab\npassword = secret\naccount = root\n")
    os.environ["RUCIO_CONFIG"] = str(cfg)
    os.environ["RUCIO_CLIENT_MODE"] = "1"
    a = Side("rucio", real.url, tmp_path_factory.mktemp("side-rucio"))
    b = Side("lakebed", lake.url, tmp_path_factory.mktemp("side-lakebed"))
    # Both are bootstrapped alike, the Rucio way: a posix directory of the client's per RSE (Lakebed keeps bytes there).
    a.storage = real.dir / "storage"
    b.storage = b.dir / "storage"
    try:
        for side in (a, b):
            side.cfg = side.dir / "rucio.cfg"
            side.cfg.write_text(f"[client]\nrucio_host = {side.url}\nauth_host = {side.url}\nauth_type = userpass\n"
                                "username = ddmlab\npassword = secret\naccount = root\n")
            world.build_in_subprocess(side, side.cfg)
    except BaseException:
        # A world that cannot be built ends the session; the servers must not outlive it.
        real.stop()
        lake.stop()
        raise
    print(f"\nconformance: servers up in {started:.1f}s, worlds built in {time.monotonic() - t0 - started:.1f}s")
    yield a, b
    real.stop()
    lake.stop()


_results = []


@pytest.fixture(scope="session")
def record():
    return _results.append


def pytest_sessionfinish(session, exitstatus):
    if _results:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(_results, indent=1, sort_keys=True))
