"""Lakebed's load generator: concurrent Rucio clients doing a realistic mix against one lake, on loopback.

Shared by the bounded test (`test_load.py`) and the long run (`Scripts/load`). Usage as a script:

    python loadgen.py --bin .build/release/lakebed --clients 50 --duration 60

Every client has its own account (`loadNN`, userpass), its own scope (`user.loadNN`), its own keep-alive session
and token, and loops over a weighted mix of operations until the time is up:

  auth      GET /auth/userpass (a new token, used from then on), or now and then an IAM token (password grant
            at POST /iam/token), used from then on for the WebDAV uploads
  search    GET /dids/<scope>/dids/search with the client's filter syntax (name wildcards, metadata, comparisons)
  did       GET /dids/<scope>/<name>, its metadata, a dataset's content (one to three requests)
  replicas  POST /replicas/list (x-json-stream) for a dataset or a handful of files
  upload    the real rucio UploadClient: register the replica (COPYING) and its rule, write the bytes through the
            RSE's protocol (WebDAV over HTTPS, or the posix `file` protocol), stat, rename, mark the replica
            AVAILABLE; one operation, each of its HTTP requests recorded. Rucio's WebDAV client sends a bearer
            token only if it is a JWT, so WebDAV uploads run with the client's IAM token (which the Rucio API
            accepts too); posix ones with its userpass token
  rule      POST /rules/ on an uploaded file (or now and then a seeded dataset) towards another RSE, then
            GET /rules/<id>; the server's clock runs, so the transfers happen in the background meanwhile

Clients run as threads inside a few processes, so Python's GIL is not what is measured. Every HTTP request's
latency (from sending it to having read the response) and status is recorded, the real client's too (through a
hook on `requests.Session.send`). An error is an exception, a timeout or a status other than the one a successful
operation gets (the upload's existence checks expect their 404s). Every loop and every wait is bounded.
"""
import argparse
import hashlib
import json
import math
import multiprocessing
import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from urllib.parse import quote_plus, urlsplit
from lakepaths import hash_path

MIX = {"auth": 6, "search": 18, "did": 22, "replicas": 24, "upload": 14, "rule": 16}
RSES = ["SITE-A", "SITE-B", "SITE-C"]
N_DATASETS = 30          # seeded datasets data:run.000 … in scope `data`
FILES_PER_DATASET = 100  # seeded (virtual) files per dataset: 3,000 files, 3,030 DIDs with the datasets
PROJECTS = ["LOFAR", "Apertif", "MeerKAT"]
TIMEOUT = 30             # seconds; a request that takes longer is an error anyway


# --------------------------------------------------------------------------------------------- the lake

def scenario_yaml(clients, time_scale):
    """The seed: per-client accounts and scopes, and 30 datasets of 100 virtual files with metadata."""
    out = ["name: load", "description: Seed for Lakebed's load test.", "keep_default_lake: true", "start: now",
           f"time_scale: {time_scale}",
           "topology:", "  defaults: {bandwidth: 200MB/s, latency: 2s, concurrency: 50}",
           "accounts:"]
    for i in range(clients):
        out.append(f"  - {{name: load{i:02d}, type: USER, email: load{i:02d}@example.org, username: load{i:02d}, password: pw-load{i:02d}}}")
    out.append("iam_users:")
    for i in range(clients):
        out.append(f"  - {{username: load{i:02d}, password: pw-load{i:02d}, groups: [/escape], account: load{i:02d}}}")
    out.append("scopes:")
    out.append("  - {name: data, account: root}")
    for i in range(clients):
        out.append(f"  - {{name: user.load{i:02d}, account: load{i:02d}}}")
    out.append("datasets:")
    for d in range(N_DATASETS):
        out.append(f"  - did: data:run.{d:03d}")
        out.append(f"    metadata: {{project: {PROJECTS[d % 3]}, run_number: {d}, datatype: {'RAW' if d % 2 else 'CAL'}}}")
    out.append("files:")
    for d in range(N_DATASETS):
        out.append(f'  - {{scope: data, name: "run{d:03d}.obs.{{i}}.fits", count: {FILES_PER_DATASET}, size: 1MB, virtual: true, '
                   f'rse: {RSES[d % 3]}, dataset: "data:run.{d:03d}", metadata: {{project: {PROJECTS[d % 3]}, run_number: {d}}}}}')
    return "\n".join(out) + "\n"


def file_name(d, i):
    """The seeded file `i` of dataset `d` (scenarios pad `{i}` to the width of the largest number)."""
    return f"run{d:03d}.obs.{str(i).zfill(len(str(FILES_PER_DATASET - 1)))}.fits"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `lakebed serve` process seeded for the load (HTTP and HTTPS ports on loopback)."""

    def __init__(self, binary, workdir, clients, time_scale=10):
        self.workdir = pathlib.Path(workdir)
        self.data_dir = self.workdir / "data"
        scen = self.workdir / "load.yaml"
        scen.write_text(scenario_yaml(clients, time_scale))
        self.port, self.https_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [binary, "serve", "--scenario", str(scen), "--data-dir", str(self.data_dir), "--port", str(self.port),
             "--https-port", str(self.https_port), "--host", "127.0.0.1", "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            self.output.append(line)
            if "Lakebed ready" in line:
                threading.Thread(target=lambda: [self.output.append(l) for l in self.proc.stdout], daemon=True).start()
                break
            if line == "" and self.proc.poll() is not None:
                raise RuntimeError("lakebed did not start:\n" + "".join(self.output))
        else:
            self.stop()
            raise RuntimeError("lakebed did not get ready in 120 s")
        self.ca = subprocess.run([binary, "cert", "--data-dir", str(self.data_dir)], capture_output=True, text=True,
                                 timeout=60).stdout.strip().splitlines()[-1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)


# --------------------------------------------------------------------------------------------- recording

def request_kind(method, url):
    """A bounded label for a request: method and path pattern."""
    path = urlsplit(url).path
    seg = [s for s in path.split("/") if s]
    if not seg:
        return f"{method} /"
    head = seg[0]
    if head == "storage":
        return f"{method} /storage/<RSE>/…"
    if head == "dids" and len(seg) >= 3 and seg[2] == "dids" and seg[-1] == "search":
        return f"{method} /dids/<scope>/dids/search"
    if head == "dids" and len(seg) >= 3:
        return f"{method} /dids/<scope>/<name>" + ("/" + seg[3] if len(seg) > 3 else "")
    if head == "rules" and len(seg) >= 2:
        return f"{method} /rules/<id>" + ("/" + seg[2] if len(seg) > 2 else "")
    if head == "rses" and len(seg) >= 2:
        return f"{method} /rses/<rse>" + ("/" + seg[2] if len(seg) > 2 else "")
    if head == "accounts" and len(seg) >= 2:
        return f"{method} /accounts/<account>" + ("/" + seg[2] if len(seg) > 2 else "")
    return f"{method} /" + "/".join(seg[:2])


class Recorder:
    """Latencies and errors of one process's requests and operations (threads share it under a lock)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}    # kind -> [seconds]
        self.req_errors = {}  # kind -> count
        self.ops = {}         # op -> [seconds]
        self.op_errors = {}   # op -> count
        self.samples = []     # first error messages
        self.uploads = []     # (scope, name, rse, bytes, adler32, scheme)
        self.rules = []       # (id, scope, name, rse_expression)
        self.first = None
        self.last = None

    def request(self, kind, seconds, error=None):
        with self.lock:
            self.requests.setdefault(kind, []).append(seconds)
            if error:
                self.req_errors[kind] = self.req_errors.get(kind, 0) + 1
                if len(self.samples) < 20:
                    self.samples.append(f"{kind}: {error}")

    def op(self, name, started, ended, error=None):
        with self.lock:
            self.ops.setdefault(name, []).append(ended - started)
            self.first = started if self.first is None else min(self.first, started)
            self.last = ended if self.last is None else max(self.last, ended)
            if error:
                self.op_errors[name] = self.op_errors.get(name, 0) + 1
                if len(self.samples) < 20:
                    self.samples.append(f"{name}: {error}")

    def result(self):
        return {k: getattr(self, k) for k in ("requests", "req_errors", "ops", "op_errors", "samples", "uploads", "rules", "first", "last")}


_tls = threading.local()


def _install_hook(recorder):
    """Times every request any `requests.Session` sends in this process (ours and the real client's)."""
    import requests
    orig = requests.Session.send

    def send(self, request, **kw):
        kind = request_kind(request.method, request.url)
        kw.setdefault("timeout", TIMEOUT)
        t0 = time.perf_counter()
        try:
            r = orig(self, request, **kw)
        except Exception as e:
            recorder.request(kind, time.perf_counter() - t0, f"{type(e).__name__}: {e}")
            raise
        if not kw.get("stream"):
            _ = r.content  # the whole response, as the caller will read it
        dt = time.perf_counter() - t0
        allowed = getattr(_tls, "allowed", ())
        ok = 200 <= r.status_code < 300 or (request.method, r.status_code) in allowed
        recorder.request(kind, dt, None if ok else f"HTTP {r.status_code} {r.headers.get('ExceptionClass', '')} {r.text[:200]!r} ({request.url})")
        return r

    requests.Session.send = send


# --------------------------------------------------------------------------------------------- one client

class OpFailed(Exception):
    pass


class LoadClient:
    def __init__(self, index, url, https_url, ca, data_dir, workdir, rng):
        import requests
        from rucio.client import Client
        self.i, self.url, self.https_url, self.ca, self.data_dir = index, url, https_url, ca, pathlib.Path(data_dir)
        self.account, self.password, self.scope = f"load{index:02d}", f"pw-load{index:02d}", f"user.load{index:02d}"
        self.rng = rng
        self.work = pathlib.Path(workdir) / self.account
        self.work.mkdir(parents=True, exist_ok=True)
        self.s = requests.Session()
        self.s.trust_env = False  # loopback only: no proxy lookups from the environment on every request
        self.token = self.jwt = None
        self.auth()
        self.iam_token()
        # The real client, for uploads (its own session and token; its token cache is per account).
        self.rucio = Client(rucio_host=url, auth_host=url, account=self.account, auth_type="userpass",
                            creds={"username": self.account, "password": self.password}, timeout=TIMEOUT)
        self.rucio.auth_token = self.token
        self.uploaded = []  # (name, rse)
        self.ruled = set()
        self.n = 0

    def call(self, method, path, expect=(200,), **kw):
        r = self.s.request(method, self.url + path, headers={"X-Rucio-Auth-Token": self.token, **kw.pop("headers", {})}, timeout=TIMEOUT, **kw)
        if r.status_code not in expect:
            raise OpFailed(f"{method} {path}: HTTP {r.status_code} {r.headers.get('ExceptionClass', '')} {r.text[:200]!r}")
        return r

    # -- operations

    def auth(self):
        if self.token and self.rng.random() < 0.2:
            return self.iam_token()
        r = self.s.get(self.url + "/auth/userpass", timeout=TIMEOUT,
                       headers={"X-Rucio-Username": self.account, "X-Rucio-Password": self.password, "X-Rucio-Account": self.account})
        if r.status_code != 200 or not r.headers.get("X-Rucio-Auth-Token"):
            raise OpFailed(f"auth: HTTP {r.status_code} {r.text[:200]!r}")
        self.token = r.headers["X-Rucio-Auth-Token"]

    def iam_token(self):
        r = self.s.post(self.url + "/iam/token", timeout=TIMEOUT, auth=("rucio", "rucio-secret"),
                        data={"grant_type": "password", "username": self.account, "password": self.password,
                              "scope": "openid profile", "audience": "rucio"})
        if r.status_code != 200:
            raise OpFailed(f"iam token: HTTP {r.status_code} {r.text[:200]!r}")
        self.jwt = r.json()["access_token"]

    def search(self):
        from rucio.common.utils import build_url
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0:
            filters, kind, scope = [{"name": f"run.0{rng.randrange(3)}*"}], "dataset", "data"
        elif choice == 1:
            filters, kind, scope = [{"project": rng.choice(PROJECTS), "run_number.gt": rng.randrange(N_DATASETS)}], "dataset", "data"
        elif choice == 2:
            filters, kind, scope = [{"name": f"run{rng.randrange(N_DATASETS):03d}.obs.{rng.randrange(10)}*"}], "file", "data"
        else:
            filters, kind, scope = [{"name": "*"}], "all", self.scope
        url = build_url("", path=f"dids/{quote_plus(scope)}/dids/search",
                        params={"type": kind, "filters": filters, "long": False, "recursive": False})
        r = self.call("GET", url)
        _ = [json.loads(line) for line in r.text.splitlines() if line.strip()]

    def did(self):
        rng = self.rng
        d = rng.randrange(N_DATASETS)
        if rng.random() < 0.4:
            self.call("GET", f"/dids/data/run.{d:03d}")
            self.call("GET", f"/dids/data/run.{d:03d}/dids")
        else:
            name = file_name(d, rng.randrange(FILES_PER_DATASET))
            self.call("GET", f"/dids/data/{quote_plus(name)}")
            self.call("GET", f"/dids/data/{quote_plus(name)}/meta")
        if self.uploaded and rng.random() < 0.3:
            name, _ = rng.choice(self.uploaded)
            self.call("GET", f"/dids/{self.scope}/{quote_plus(name)}/meta")

    def replicas(self):
        rng = self.rng
        d = rng.randrange(N_DATASETS)
        if rng.random() < 0.3:
            dids = [{"scope": "data", "name": f"run.{d:03d}"}]
        else:
            dids = [{"scope": "data", "name": file_name(d, rng.randrange(FILES_PER_DATASET))} for _ in range(rng.randint(1, 10))]
            if self.uploaded and rng.random() < 0.5:
                dids.append({"scope": self.scope, "name": rng.choice(self.uploaded)[0]})
        body = {"dids": dids, "schemes": None, "all_states": False, "unavailable": False, "resolve_archives": True}
        r = self.call("POST", "/replicas/list", data=json.dumps(body), headers={"Accept": "application/x-json-stream"})
        rows = [json.loads(line) for line in r.text.splitlines() if line.strip()]
        if not rows:
            raise OpFailed(f"replicas/list returned nothing for {dids[:2]}")

    def upload(self):
        from rucio.client.uploadclient import UploadClient
        rng = self.rng
        self.n += 1
        name = f"f{self.i:02d}-{self.n:05d}-{rng.randrange(16**6):06x}.dat"
        path = self.work / name
        data = rng.randbytes(rng.randint(512, 64 * 1024))
        path.write_bytes(data)
        rse = rng.choice(RSES)
        scheme = "https" if rng.random() < 0.5 else "file"
        # The upload's existence checks expect 404s; everything else must succeed.
        _tls.allowed = {("HEAD", 404), ("GET", 404)}
        self.rucio.auth_token = self.jwt if scheme == "https" else self.token
        try:
            up = UploadClient(_client=self.rucio, logger=_quiet_logger())
            up.upload([{"path": str(path), "rse": rse, "did_scope": self.scope, "did_name": name, "force_scheme": scheme}])
        finally:
            _tls.allowed = ()
            path.unlink()
        self.uploaded.append((name, rse))
        self.results.uploads.append((self.scope, name, rse, len(data), "%08x" % (zlib.adler32(data) & 0xffffffff), scheme))

    def rule(self):
        rng = self.rng
        if self.uploaded and rng.random() < 0.85:
            name, at = rng.choice(self.uploaded)
            scope, expr = self.scope, rng.choice([r for r in RSES if r != at])
        else:
            d = rng.randrange(N_DATASETS)
            scope, name, expr = "data", f"run.{d:03d}", rng.choice([r for r in RSES if r != RSES[d % 3]])
        if (scope, name, expr) in self.ruled:
            expr = "|".join(r for r in RSES if r != expr)  # another expression: not a duplicate rule
            if (scope, name, expr) in self.ruled:
                return self.did()
        body = {"dids": [{"scope": scope, "name": name}], "copies": 1, "rse_expression": expr, "weight": None,
                "lifetime": None, "grouping": "DATASET", "account": self.account, "locked": False,
                "source_replica_expression": None, "activity": None, "notify": "N", "purge_replicas": False,
                "ignore_availability": False, "comment": None, "ask_approval": False, "asynchronous": False,
                "delay_injection": None, "priority": 3, "split_container": False, "meta": None}
        r = self.call("POST", "/rules/", expect=(201,), data=json.dumps(body))
        rid = r.json()[0]
        self.ruled.add((scope, name, expr))
        self.results.rules.append((rid, scope, name, expr))
        self.call("GET", f"/rules/{rid}")

    def run(self, deadline, results, think=0.0):
        self.results = results
        ops, weights = list(MIX), list(MIX.values())
        while time.monotonic() < deadline:
            if think > 0:  # a user's pause between operations (exponential, mean `think` seconds, bounded)
                time.sleep(min(self.rng.expovariate(1 / think), 5 * think, max(0.0, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    break
            op = self.rng.choices(ops, weights)[0]
            t0 = time.perf_counter()
            err = None
            try:
                getattr(self, op)()
            except Exception as e:  # recorded, and the client carries on
                err = f"{type(e).__name__}: {e}"
            results.op(op, t0, time.perf_counter(), err)


def _quiet_logger():
    import logging
    lg = logging.getLogger("loadgen.quiet")
    lg.disabled = True
    return lg


def _process_main(pid, clients, url, https_url, ca, data_dir, workdir, duration, seed, think, barrier, queue):
    """One process: its clients as threads; the result goes back through `queue`."""
    # The real client reads its configuration (and caches tokens) per process.
    # The clients yield the CPU to the server: on a small machine the load generator would otherwise take most of it
    # (each upload alone is several TLS handshakes in Python) and the server's share, not its work, would be measured.
    try:
        os.nice(10)
    except OSError:
        pass
    pdir = pathlib.Path(workdir) / f"proc{pid}"
    pdir.mkdir(parents=True, exist_ok=True)
    (pdir / "rucio.cfg").write_text(f"[client]\nrucio_host = {url}\nauth_host = {url}\nauth_type = userpass\naccount = root\n"
                                    f"username = ddmlab\npassword = secret\n")
    os.environ["RUCIO_CONFIG"] = str(pdir / "rucio.cfg")
    os.environ["TMPDIR"] = str(pdir)
    # Trust the lake's CA, and only it: Rucio's WebDAV client loads the default verify paths for every connection,
    # which with the system's bundle costs ~25 ms of client CPU each time.
    os.environ["SSL_CERT_FILE"] = ca
    os.environ["SSL_CERT_DIR"] = str(pdir)
    tempfile.tempdir = None
    import urllib3
    urllib3.disable_warnings()
    results = Recorder()
    error = None
    try:
        _install_hook(results)
        lcs = [LoadClient(i, url, https_url, ca, data_dir, pdir, random.Random(seed * 1000 + i)) for i in clients]
    except Exception as e:
        error = f"setup of process {pid} failed: {type(e).__name__}: {e}"
        lcs = []
    try:
        barrier.wait(timeout=300)
    except Exception:
        error = error or f"process {pid}: start barrier broken"
    # Only what happens after the start counts.
    fresh = Recorder()
    results.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "lock"})
    deadline = time.monotonic() + duration
    threads = [threading.Thread(target=c.run, args=(deadline, results, think), daemon=True) for c in lcs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 2 * TIMEOUT + 60)
    if any(t.is_alive() for t in threads):
        error = error or f"process {pid}: a client did not finish in time"
    res = results.result()
    res["error"] = error
    queue.put(res)


# --------------------------------------------------------------------------------------------- the run

def run_load(server, clients=50, duration=60, processes=None, seed=1, think=0.0):
    """Runs `clients` clients for `duration` seconds against `server`; returns the merged results. With `think` > 0
    each client pauses between operations (exponentially, that many seconds on average); with 0 it does not."""
    processes = processes or min(clients, max(2, (os.cpu_count() or 2) * 2))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    queue = ctx.Queue()
    workdir = tempfile.mkdtemp(prefix="lakebed-load-")
    https_url = f"https://localhost:{server.https_port}"
    groups = [list(range(clients))[p::processes] for p in range(processes)]
    before = scrape(server.url)
    procs = [ctx.Process(target=_process_main, args=(p, groups[p], server.url, https_url, server.ca, str(server.data_dir),
                                                      workdir, duration, seed, think, barrier, queue), daemon=True)
             for p in range(processes)]
    for p in procs:
        p.start()
    idle = ping_latencies(server.url, count=20)
    probe = PingProbe(server.url)
    barrier.wait(timeout=300)
    started = time.time()
    probe.start()
    parts = []
    try:
        for _ in procs:
            parts.append(queue.get(timeout=duration + 3 * TIMEOUT + 120))
    finally:
        probe.stop()
    for p in procs:
        p.join(timeout=30)
    after = scrape(server.url)
    merged = Recorder()
    errors = []
    for part in parts:
        if part["error"]:
            errors.append(part["error"])
        for k, v in part["requests"].items():
            merged.requests.setdefault(k, []).extend(v)
        for k, v in part["ops"].items():
            merged.ops.setdefault(k, []).extend(v)
        for k, v in part["req_errors"].items():
            merged.req_errors[k] = merged.req_errors.get(k, 0) + v
        for k, v in part["op_errors"].items():
            merged.op_errors[k] = merged.op_errors.get(k, 0) + v
        merged.samples += part["samples"]
        merged.uploads += part["uploads"]
        merged.rules += part["rules"]
    res = merged.result()
    res["setup_errors"] = errors
    res["clients"], res["processes"], res["duration"], res["think"] = clients, processes, duration, think
    firsts = [p["first"] for p in parts if p["first"] is not None]
    lasts = [p["last"] for p in parts if p["last"] is not None]
    # perf_counter is system-wide on Linux (CLOCK_MONOTONIC), so processes' times compare.
    res["wall"] = (max(lasts) - min(firsts)) if firsts else float(duration)
    res["server"] = server_side(before, after)
    res["ping_idle"], res["ping_load"], res["ping_errors"] = idle, probe.latencies, probe.errors
    shutil.rmtree(workdir, ignore_errors=True)
    return res


def ping_latencies(url, count):
    """`count` sequential GET /ping round trips (seconds), on a session of their own."""
    import requests
    s = requests.Session()
    s.trust_env = False
    out = []
    for _ in range(count):
        t = time.perf_counter()
        s.get(url + "/ping", timeout=TIMEOUT).raise_for_status()
        out.append(time.perf_counter() - t)
    return out


class PingProbe:
    """GET /ping one after another while the load runs: what any other client of the lake would feel."""

    def __init__(self, url):
        import threading
        self.url, self.latencies, self.errors = url, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import requests
        s = requests.Session()
        s.trust_env = False
        while not self._stop.is_set():
            t = time.perf_counter()
            try:
                s.get(self.url + "/ping", timeout=TIMEOUT).raise_for_status()
                self.latencies.append(time.perf_counter() - t)
            except Exception:
                self.errors += 1
            self._stop.wait(0.05)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=TIMEOUT + 5)


def unfair(res):
    """What says one client starved the others, judged within the same run rather than against the clock of some
    machine: /ping failing, or its median under load more than 25 times its idle median (with 0.25 s of slack for
    a busy runner), or any /ping waiting longer than a third of the run."""
    out = []
    idle, load = sorted(res["ping_idle"]), sorted(res["ping_load"])
    if res["ping_errors"]:
        out.append(f"{res['ping_errors']} /ping requests failed during the load")
    if not load:
        return out + ["no /ping answered during the load"]
    idle_p50, load_p50 = idle[len(idle) // 2], load[len(load) // 2]
    if load_p50 > 25 * idle_p50 + 0.25:
        out.append(f"/ping median {load_p50 * 1000:.0f} ms under load, {idle_p50 * 1000:.1f} ms idle")
    if load[-1] > res["duration"] / 3:
        out.append(f"a /ping waited {load[-1]:.1f} s during a {res['duration']:.0f} s load")
    return out


def scrape(url):
    """Lakebed's request histogram from /metrics: {(endpoint, method): (buckets {le: count}, sum, count)}."""
    import requests
    text = requests.get(url + "/metrics", timeout=TIMEOUT).text
    out = {}
    pat = re.compile(r'^lakebed_http_request_duration_seconds_(bucket|sum|count)\{(.*)\} (\S+)$')
    for line in text.splitlines():
        m = pat.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        key = (labels["endpoint"], labels["method"])
        e = out.setdefault(key, [{}, 0.0, 0.0])
        if m.group(1) == "bucket":
            e[0][labels["le"]] = float(m.group(3))
        elif m.group(1) == "sum":
            e[1] = float(m.group(3))
        else:
            e[2] = float(m.group(3))
    return out


def server_side(before, after):
    """Requests the server answered during the run, their mean time and how many took over 1 s (its own clock)."""
    count = total = over1 = 0.0
    per = {}
    for key, (buckets, s, c) in after.items():
        b0, s0, c0 = before.get(key, [{}, 0.0, 0.0])
        n = c - c0
        if n <= 0 or key[0] == "/metrics":
            continue
        count += n
        total += s - s0
        slow = n - (buckets.get("1", 0) - b0.get("1", 0))
        over1 += slow
        per[f"{key[1]} {key[0]}"] = {"count": int(n), "mean_ms": (s - s0) / n * 1000, "over_1s": int(slow)}
    return {"count": int(count), "mean_ms": total / count * 1000 if count else 0.0, "over_1s": int(over1), "endpoints": per}


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def summary_rows(groups, errors):
    rows = []
    every = []
    for kind in sorted(groups, key=lambda k: -len(groups[k])):
        v = sorted(groups[kind])
        every += v
        rows.append((kind, len(v), errors.get(kind, 0), *(pct(v, p) * 1000 for p in (50, 90, 99, 99.9)), v[-1] * 1000))
    every.sort()
    total = ("all", len(every), sum(errors.values()), *(pct(every, p) * 1000 for p in (50, 90, 99, 99.9)), (every[-1] if every else 0) * 1000)
    return rows, total


def report(res):
    """The results as a Markdown table (requests per kind, then operations)."""
    lines = []
    n_req = sum(len(v) for v in res["requests"].values())
    n_ops = sum(len(v) for v in res["ops"].values())
    errs = sum(res["req_errors"].values()) + sum(res["op_errors"].values()) + len(res["setup_errors"])
    slowest = max((max(v) for v in res["requests"].values() if v), default=0)
    pause = f", pausing {res['think']:g} s on average between operations" if res.get("think") else ", no pauses"
    lines.append(f"{res['clients']} clients in {res['processes']} processes for {res['duration']:g} s{pause} "
                 f"(measured {res['wall']:.1f} s): {n_ops:,} operations, {n_req:,} requests, "
                 f"{n_req / res['wall']:,.0f} req/s, {n_ops / res['wall']:,.0f} ops/s; errors: {errs}; "
                 f"slowest request {slowest * 1000:.0f} ms; {len(res['uploads'])} uploads, {len(res['rules'])} rules")
    lines.append("")
    head = "| {:<34} | {:>7} | {:>6} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} |"
    lines.append(head.format("request (round trip, ms)", "count", "errors", "p50", "p90", "p99", "p99.9", "max"))
    lines.append("|" + "|".join("-" * w for w in (36, 9, 8, 10, 10, 10, 10, 10)) + "|")
    row = "| {:<34} | {:>7,} | {:>6} | {:>8.1f} | {:>8.1f} | {:>8.1f} | {:>8.1f} | {:>8.1f} |"
    rows, total = summary_rows(res["requests"], res["req_errors"])
    for r in rows:
        lines.append(row.format(*r))
    lines.append(row.format(*total))
    lines.append("")
    lines.append(head.format("operation (ms)", "count", "errors", "p50", "p90", "p99", "p99.9", "max"))
    lines.append("|" + "|".join("-" * w for w in (36, 9, 8, 10, 10, 10, 10, 10)) + "|")
    rows, total = summary_rows(res["ops"], res["op_errors"])
    for r in rows:
        lines.append(row.format(*r))
    srv = res["server"]
    lines.append("")
    lines.append(f"server-side (lakebed's /metrics): {srv['count']:,} requests, mean {srv['mean_ms']:.2f} ms, "
                 f"{srv['over_1s']} over 1 s; the endpoints taking most of the server's time:")
    top = sorted(srv["endpoints"].items(), key=lambda kv: -kv[1]["count"] * kv[1]["mean_ms"])[:8]
    lines.append("  " + ", ".join(f"{k} {v['count']:,} × {v['mean_ms']:.2f} ms" for k, v in top))
    for e in res["setup_errors"] + res["samples"][:10]:
        lines.append("ERROR " + e)
    return "\n".join(lines)


def failures(res, limit=1.0):
    """What breaks the load's promise: errors of any kind and, unless `limit` is None, requests over `limit` seconds
    (an absolute bound, for `Scripts/load` on a quiet machine; the suite judges fairness with `unfair`)."""
    out = list(res["setup_errors"])
    n_err = sum(res["req_errors"].values()) + sum(res["op_errors"].values())
    if n_err:
        out.append(f"{n_err} errors: " + "; ".join(res["samples"][:5]))
    if limit is None:
        return out
    for kind, v in res["requests"].items():
        slow = [x for x in v if x > limit]
        if slow:
            out.append(f"{len(slow)} {kind} requests over {limit} s (max {max(slow):.2f} s)")
    if res["server"]["over_1s"]:
        out.append(f"{res['server']['over_1s']} requests over 1 s server-side")
    return out


def verify(server, res):
    """What a user would check afterwards: every upload's bytes on its RSE with the registered size and adler32,
    its replica AVAILABLE there, and every rule added known to the server. Returns the problems found."""
    import requests
    problems = []
    s = requests.Session()
    tok = s.get(server.url + "/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret",
                                                        "X-Rucio-Account": "root"}, timeout=TIMEOUT).headers["X-Rucio-Auth-Token"]
    h = {"X-Rucio-Auth-Token": tok}
    for scope, name, rse, size, adler, scheme in res["uploads"]:
        p = server.data_dir / "rses" / rse / hash_path(scope, name)
        if not p.is_file():
            problems.append(f"{scope}:{name} ({scheme}) not on disk at {p}")
            continue
        data = p.read_bytes()
        did = s.get(f"{server.url}/dids/{scope}/{quote_plus(name)}/meta", headers=h, timeout=TIMEOUT)
        if did.status_code != 200:
            problems.append(f"{scope}:{name}: metadata HTTP {did.status_code}")
            continue
        meta = did.json()
        on_disk = "%08x" % (zlib.adler32(data) & 0xffffffff)
        if len(data) != size or meta["bytes"] != size or meta["adler32"] != adler or on_disk != adler:
            problems.append(f"{scope}:{name}: size/adler32 differ (local {size}/{adler}, catalog {meta['bytes']}/{meta['adler32']}, disk {len(data)}/{on_disk})")
    # Replica states, in batches.
    ups = res["uploads"]
    for i in range(0, len(ups), 200):
        batch = ups[i:i + 200]
        r = s.post(server.url + "/replicas/list", headers=h, timeout=TIMEOUT,
                   data=json.dumps({"dids": [{"scope": u[0], "name": u[1]} for u in batch], "all_states": True}))
        states = {}
        for line in r.text.splitlines():
            if line.strip():
                rep = json.loads(line)
                states[(rep["scope"], rep["name"])] = rep.get("states", {})
        for scope, name, rse, *_ in batch:
            if states.get((scope, name), {}).get(rse) != "AVAILABLE":
                problems.append(f"{scope}:{name}: replica at {rse} is {states.get((scope, name), {}).get(rse)}")
    for rid, scope, name, expr in res["rules"]:
        r = s.get(f"{server.url}/rules/{rid}", headers=h, timeout=TIMEOUT)
        if r.status_code != 200:
            problems.append(f"rule {rid} on {scope}:{name}: HTTP {r.status_code}")
            continue
        doc = r.json()
        if (doc["scope"], doc["name"], doc["rse_expression"]) != (scope, name, expr):
            problems.append(f"rule {rid}: server has {doc['scope']}:{doc['name']} -> {doc['rse_expression']}")
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description="Lakebed's load test: concurrent Rucio clients doing a realistic mix on loopback.")
    ap.add_argument("--bin", required=True, help="the lakebed binary")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60, help="seconds")
    ap.add_argument("--processes", type=int, default=None, help="client processes (default: 2 per core)")
    ap.add_argument("--time-scale", type=float, default=10, help="the lake's clock speed while the load runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--think", type=float, default=0.0, help="mean pause between a client's operations (s); 0: none")
    ap.add_argument("--limit", type=float, default=1.0, help="no request may take longer (seconds)")
    ap.add_argument("--json", help="also write the results (without raw latencies) to this file")
    a = ap.parse_args(argv)
    if not (1 <= a.clients <= 500 and 0 < a.duration <= 3600):
        ap.error("clients must be 1..500 and duration 0..3600 s")
    workdir = tempfile.mkdtemp(prefix="lakebed-load-server-")
    server = Server(a.bin, workdir, a.clients, a.time_scale)
    try:
        t = time.perf_counter()
        print(f"lake seeded and ready ({N_DATASETS * (FILES_PER_DATASET + 1):,} DIDs, {a.clients} accounts); "
              f"running {a.clients} clients for {a.duration:.0f} s …", flush=True)
        res = run_load(server, a.clients, a.duration, a.processes, a.seed, a.think)
        print(report(res))
        problems = failures(res, a.limit) + unfair(res) + verify(server, res)
        if a.json:
            pathlib.Path(a.json).write_text(json.dumps({k: v for k, v in res.items() if k not in ("requests", "ops")}, indent=1))
    finally:
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems[:30]))
        return 1
    print("\nOK: no errors, no request over %.1f s, every upload on disk with its adler32, every rule known" % a.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
