"""The catalog half of Scripts/bench: each figure beside its limit or peer, measured in the same run, and the ratio.

Usage: python Scripts/bench_catalog.py BIN [N_FILES] [N_REQUESTS]   (Scripts/bench runs it with the release build)

  1. the default lake: idle RSS (limit 50 MB); throughput on simple reads against the real Rucio 41.5.1 server
     (gunicorn, 2 workers, SQLite; Tests/conformance/realrucio.py) with the same load generator (`hammer`);
  2. seeding N_FILES (default 1,000,000) virtual files in datasets of 100,000 from a scenario, against SQLite inserting
     the same rows into the same tables with the same indexes (no triggers) in one transaction; RSS afterwards
     (limit 300 MB);
  3. over that catalog: `GET /dids/<scope>/<dataset>/files` and `POST /replicas/list` of a 100,000-file dataset and
     `name=*` over every DID, each against the sqlite3 shell writing the same rows as JSON lines (`json_object` per
     row) from the same catalog file; the peak RSS each listing adds (flat: the same for 10,000 and 100,000 rows);
     a fixed-prefix name search and an indexed metadata filter (limit: milliseconds).

Loopback only; every loop is bounded by a count and a deadline. Read the ratios, not the seconds: the machine is shared.
"""
import http.client
import json
import multiprocessing
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "conformance"))

BIN = sys.argv[1]
NFILES = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
NREQ = int(sys.argv[3]) if len(sys.argv) > 3 else 4000
PER_DATASET = min(100_000, NFILES)
NDATASETS = max(1, NFILES // PER_DATASET)
ROWS = []  # (figure, value, limit or peer, ratio text, verdict)


def row(figure, value, peer, ratio, ok):
    ROWS.append((figure, value, peer, ratio, "ok" if ok else "OVER"))
    print(f"  {figure}: {value} | {peer} | {ratio} | {'ok' if ok else 'OVER'}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lake:
    """A `lakebed serve` on loopback (plain HTTP), started and stopped by the bench."""

    def __init__(self, *args):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="lakebed-bench-")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([BIN, "serve", "--data-dir", self.dir, "--port", str(self.port), "--no-https", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "Lakebed ready" in line:
                break
            if line == "" and self.proc.poll() is not None:
                raise SystemExit("lakebed did not start")
        self.ready_seconds = time.perf_counter() - t0
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        self.catalog = os.path.join(self.dir, "catalog.sqlite")

    def rss_mb(self, key="VmRSS"):
        for line in pathlib.Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def reset_peak(self):
        pathlib.Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def token(url):
    c = http.client.HTTPConnection(url.split("//")[1], timeout=60)
    c.request("GET", "/auth/userpass", headers={"X-Rucio-Account": "root", "X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret"})
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
    return r.getheader("X-Rucio-Auth-Token")


def call(url, method, path, headers, body=None):
    c = http.client.HTTPConnection(url.split("//")[1], timeout=600)
    c.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = c.getresponse()
    data = r.read()
    return r.status, data


def fetch_lines(url, method, path, headers, body=None):
    """Wall seconds to the last byte, bytes and lines of a streamed listing."""
    t = time.perf_counter()
    c = http.client.HTTPConnection(url.split("//")[1], timeout=600)
    c.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = c.getresponse()
    assert r.status == 200, (r.status, r.read()[:300])
    size = lines = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        size += len(chunk)
        lines += chunk.count(b"\n")
    return time.perf_counter() - t, size, lines


def sqlite_lines(db, sql):
    """Wall seconds for the sqlite3 shell to write the rows of `sql` (one JSON document each), and bytes and lines."""
    t = time.perf_counter()
    out = subprocess.run(["sqlite3", "-readonly", db, sql], capture_output=True, timeout=3600)
    assert out.returncode == 0, out.stderr
    return time.perf_counter() - t, len(out.stdout), out.stdout.count(b"\n")


# ------------------------------------------------------------------------------------------------- the load generator

def _hammer_thread(host, path, headers, count, deadline, out):
    c = http.client.HTTPConnection(host, timeout=30)
    done = errors = 0
    while done < count and time.monotonic() < deadline:
        try:
            c.request("GET", path, headers=headers)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                errors += 1
        except Exception:
            errors += 1
            c.close()
            c = http.client.HTTPConnection(host, timeout=30)
        done += 1
    out.append((done, errors))


def _hammer_process(args):
    host, path, headers, threads, count, seconds = args
    out, deadline = [], time.monotonic() + seconds
    ts = [threading.Thread(target=_hammer_thread, args=(host, path, headers, count, deadline, out)) for _ in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    return sum(d for d, _ in out), sum(e for _, e in out)


def hammer(url, path, headers, total, processes=2, threads=4, seconds=60):
    """Requests per second for `total` GETs of `path` from processes x threads keep-alive clients (bounded by `seconds`)."""
    per = max(1, total // (processes * threads))
    with multiprocessing.Pool(processes) as pool:
        t = time.perf_counter()
        res = pool.map(_hammer_process, [(url.split("//")[1], path, headers, threads, per, seconds)] * processes)
        wall = time.perf_counter() - t
    done, errors = sum(d for d, _ in res), sum(e for _, e in res)
    assert errors == 0, f"{errors} errors out of {done} requests to {url}{path}"
    return done / wall


def wrk(url, path, headers, seconds=8, threads=2, connections=16):
    """Requests per second from wrk (Debian's `wrk`: C, keep-alive, bounded by `seconds`), so the generator is not
    what is measured; None when wrk is not installed."""
    import shutil
    if not shutil.which("wrk"):
        return None
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args + [url + path], capture_output=True, text=True, timeout=seconds + 60).stdout
    errors = [l for l in out.splitlines() if "Non-2xx" in l or "Socket errors" in l]
    assert not errors, out
    return float(next(l for l in out.splitlines() if l.startswith("Requests/sec:")).split()[1])


READS = ["/ping", "/accounts/root", "/rses/BENCH-DISK", "/dids/bench/ds1"]


def throughput():
    """Simple reads on both servers with the same generator: `/ping`, an account, an RSE (with its protocols and
    attributes), a DID. BENCH_PEER=none measures Lakebed alone (for quick loops while profiling)."""
    alone = os.environ.get("BENCH_PEER") == "none"
    print("== simple reads: Lakebed" + ("" if alone else " against the real Rucio 41.5.1 server (gunicorn, 2 workers, SQLite), same load generator"))
    rucio = None
    if not alone:
        from realrucio import RealRucio
        rucio = RealRucio(tempfile.mkdtemp(prefix="bench-rucio-")).start(workers=2)
    lake = Lake("--empty")
    try:
        results = {}
        servers = [("Lakebed", lake.url)] + ([] if alone else [("Rucio", rucio.url)])
        for label, url in servers:
            h = {"X-Rucio-Auth-Token": token(url), "Content-Type": "application/json"}
            call(url, "POST", "/scopes/root/bench", h)
            st, data = call(url, "POST", "/dids/bench/ds1", h, {"type": "DATASET"})
            assert st == 201, (label, st, data)
            st, data = call(url, "POST", "/rses/BENCH-DISK", h, {})
            assert st == 201, (label, st, data)
            for path in READS:
                hh = {} if path == "/ping" else {"X-Rucio-Auth-Token": h["X-Rucio-Auth-Token"]}
                st, _ = call(url, "GET", path, hh)
                assert st == 200, (label, path, st)
                hammer(url, path, hh, 200)  # warm up
                rate = wrk(url, path, hh)
                if rate is None:  # no wrk: the Python generator (it saturates before Lakebed does)
                    rate = hammer(url, path, hh, NREQ if label == "Lakebed" else max(200, NREQ // 20))
                results[(label, path)] = rate
        gen = "wrk, 2 threads x 16 keep-alive connections, 8 s" if __import__("shutil").which("wrk") else "Python, 2 processes x 4 keep-alive clients"
        for path in READS:
            lb = results[("Lakebed", path)]
            if alone:
                row(f"GET {path} throughput ({gen})", f"{lb:.0f} req/s", "no peer (BENCH_PEER=none)", "-", True)
                continue
            ru = results[("Rucio", path)]
            row(f"GET {path} throughput ({gen})", f"{lb:.0f} req/s", f"real Rucio {ru:.0f} req/s",
                f"{lb / ru:.1f}x (goal >= 20x)", lb / ru >= 20)
    finally:
        lake.stop()
        if rucio:
            rucio.stop()


def idle():
    print("== the default lake")
    lake = Lake()
    try:
        h = {"X-Rucio-Auth-Token": token(lake.url)}
        for _ in range(50):
            call(lake.url, "GET", "/accounts/whoami", h)
        time.sleep(2)  # idle: the housekeeping tick has run
        rss = lake.rss_mb()
        row("idle RSS of the default lake (`lakebed serve`)", f"{rss:.0f} MB", "limit 50 MB", f"{rss / 50:.2f} of the limit", rss < 50)
    finally:
        lake.stop()


# ------------------------------------------------------------------------------------------------- the big catalog

def scenario():
    path = pathlib.Path(tempfile.mkdtemp(prefix="bench-scen-"), "million.yaml")
    lines = ["name: million", "keep_default_lake: true", "scopes:", "  - {name: big, account: root}", "datasets:"]
    lines += [f"  - {{did: \"big:ds.{k}\", metadata: {{run_number: {k}}}}}" for k in range(NDATASETS)]
    lines.append("files:")
    lines += [f'  - {{scope: big, name: "f{k}.{{i}}", count: {PER_DATASET}, size: 1MB, virtual: true, rse: SITE-B, dataset: "big:ds.{k}"}}'
              for k in range(NDATASETS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def seeding_peer(catalog):
    """SQLite alone: the seeded rows into a new file with the same tables and indexes, in one transaction."""
    schema = subprocess.run(["sqlite3", "-readonly", catalog, ".schema dids", ".schema replicas", ".schema contents"],
                            capture_output=True, text=True, check=True).stdout
    stmts = [s.strip() for s in schema.split(";\n") if s.strip() and not s.strip().upper().startswith("CREATE TRIGGER")]
    peer = os.path.join(tempfile.mkdtemp(prefix="bench-peer-"), "peer.sqlite")
    # Only the rows the scenario seeded (scope big); `WHERE` keeps SQLite from copying pages whole (the transfer
    # optimisation), so every row is inserted and indexed as an INSERT does it.
    script = "PRAGMA journal_mode = WAL;\nPRAGMA synchronous = NORMAL;\n" + ";\n".join(stmts) + ";\n" + f"""
ATTACH '{catalog}' AS src;
BEGIN;
INSERT INTO dids SELECT * FROM src.dids WHERE scope = 'big' AND did_type = 'FILE';
INSERT INTO replicas SELECT * FROM src.replicas WHERE scope = 'big';
INSERT INTO contents SELECT * FROM src.contents WHERE scope = 'big';
COMMIT;
"""
    t = time.perf_counter()
    subprocess.run(["sqlite3", peer], input=script, text=True, check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - t


FILES_SQL = """SELECT json_object('scope', d.scope, 'name', d.name, 'bytes', d.bytes, 'adler32', d.adler32, 'guid', d.guid, 'events', d.events)
FROM contents c JOIN dids d ON d.scope = c.child_scope AND d.name = c.child_name
WHERE c.scope = 'big' AND c.name = '{ds}' AND c.child_type = 'FILE' ORDER BY c.child_scope, c.child_name"""

# The same documents as `list_replicas` (one per file: pfns, rses, states), from the replicas and the RSEs' protocols.
REPLICAS_SQL = """SELECT json_object('scope', d.scope, 'name', d.name, 'bytes', d.bytes, 'md5', d.md5, 'adler32', d.adler32,
  'pfns', json_group_object(p.scheme || '://' || p.hostname || ':' || p.port || p.prefix || r.path,
     json_object('rse_id', s.id, 'rse', s.rse, 'type', s.rse_type, 'volatile', json(CASE s.volatile WHEN 1 THEN 'true' ELSE 'false' END),
                 'domain', 'wan', 'priority', 1, 'client_extract', json('false'))),
  'rses', json_object(s.rse, json_group_array(p.scheme || '://' || p.hostname || ':' || p.port || p.prefix || r.path)),
  'states', json_object(s.rse, 'AVAILABLE'))
FROM contents c JOIN dids d ON d.scope = c.child_scope AND d.name = c.child_name
JOIN replicas r ON r.scope = d.scope AND r.name = d.name JOIN rses s ON s.id = r.rse_id JOIN rse_protocols p ON p.rse_id = s.id
WHERE c.scope = 'big' AND c.name = '{ds}' AND c.child_type = 'FILE' GROUP BY c.child_scope, c.child_name ORDER BY c.child_scope, c.child_name"""

ALL_SQL = "SELECT json_quote(name) FROM dids WHERE scope = 'big' AND hidden = 0 ORDER BY name"


def catalog():
    print(f"== a catalog of {NFILES:,} files ({NDATASETS} datasets of {PER_DATASET:,})")
    lake = Lake("--scenario", str(scenario()), "--time-scale", "0")
    try:
        base = Lake()
        base_ready = base.ready_seconds
        base.stop()
        seed = lake.ready_seconds - base_ready
        peer = seeding_peer(lake.catalog)
        row(f"seeding {NFILES:,} files (scenario, to ready, less the default lake's start)", f"{seed:.1f} s",
            f"SQLite inserting the same rows and indexes in one transaction: {peer:.1f} s", f"{seed / peer:.1f}x (goal <= 3x)", seed <= 3 * peer)
        rss = lake.rss_mb()
        row(f"RSS with the {NFILES:,}-file catalog", f"{rss:.0f} MB", "limit 300 MB", f"{rss / 300:.2f} of the limit", rss < 300)
        print(f"  catalog size on disk: {os.path.getsize(lake.catalog) / 1e6:.0f} MB", flush=True)

        h = {"X-Rucio-Auth-Token": token(lake.url), "Content-Type": "application/json"}
        ds = f"ds.{NDATASETS // 2}"
        checks = [
            (f"GET /dids/big/{ds}/files ({PER_DATASET:,} files)", "GET", f"/dids/big/{ds}/files", None, FILES_SQL.format(ds=ds)),
            (f"POST /replicas/list of big:{ds}", "POST", "/replicas/list", {"dids": [{"scope": "big", "name": ds}]}, REPLICAS_SQL.format(ds=ds)),
            (f"name=* over all {NFILES + NDATASETS:,} DIDs of the scope (type=all)", "GET", "/dids/big/dids/search?type=all&name=*", None, ALL_SQL),
        ]
        for label, method, path, body, sql in checks:
            fetch_lines(lake.url, method, path, h, body)  # warm: the catalog's pages in the OS cache for both
            sqlite_lines(lake.catalog, sql)
            lake.reset_peak()
            before = lake.rss_mb()
            wall, size, lines = fetch_lines(lake.url, method, path, h, body)
            grew = lake.rss_mb("VmHWM") - before
            swall, ssize, slines = sqlite_lines(lake.catalog, sql)
            assert lines == slines, (label, lines, slines)
            row(label, f"{wall:.2f} s ({lines:,} lines, {size / 1e6:.1f} MB; peak RSS +{grew:.0f} MB)",
                f"sqlite3 shell, json_object per row: {swall:.2f} s ({ssize / 1e6:.1f} MB)", f"{wall / swall:.1f}x (goal <= 3x)", wall <= 3 * swall)

        # Memory flat in the listing's size: a tenth of the rows (a limit on the search) should cost the same peak.
        lake.reset_peak()
        before = lake.rss_mb()
        fetch_lines(lake.url, "GET", f"/dids/big/dids/search?type=all&name=*&limit={(NFILES + NDATASETS) // 10}", h)
        small = lake.rss_mb("VmHWM") - before
        lake.reset_peak()
        before = lake.rss_mb()
        fetch_lines(lake.url, "GET", "/dids/big/dids/search?type=all&name=*", h)
        large = lake.rss_mb("VmHWM") - before
        row("peak RSS a listing adds: all DIDs vs a tenth of them", f"+{large:.0f} MB vs +{small:.0f} MB", "flat: within 20 MB",
            f"{large - small:+.0f} MB", large - small < 20)

        # Rucio indexes `expired_at` (DIDS_EXPIRED_AT_IDX): one dataset gets a lifetime, and a filter on it is a seek.
        st, data = call(lake.url, "POST", f"/dids/big/ds.{NDATASETS - 1}/meta/lifetime", h, {"value": 86400})
        assert st in (200, 201), (st, data)
        for label, path, sql in [
            (f"name prefix search f{NDATASETS // 2}.0999* (10 hits)", f"/dids/big/dids/search?type=all&name=f{NDATASETS // 2}.0999*",
             f"SELECT json_quote(name) FROM dids WHERE scope = 'big' AND name >= 'f{NDATASETS // 2}.0999' AND name < 'f{NDATASETS // 2}.099:' ORDER BY name"),
            ("metadata filter expired_at.lte (indexed as in Rucio; 1 hit)", "/dids/big/dids/search?type=all&name=*&expired_at.lte=2100-01-01T00:00:00",
             "SELECT json_quote(name) FROM dids INDEXED BY dids_expired_at WHERE scope = 'big' AND expired_at <= 4102444800 ORDER BY name"),
        ]:
            times = []
            for _ in range(20):
                wall, size, lines = fetch_lines(lake.url, "GET", path, h)
                times.append(wall)
            times.sort()
            swall, _, slines = sqlite_lines(lake.catalog, sql)
            assert lines == slines, (label, lines, slines)
            row(label, f"median {times[10] * 1e3:.1f} ms over 20 ({lines} lines)", f"limit 10 ms; sqlite3 shell (process start included) {swall * 1e3:.0f} ms",
                f"{times[10] * 1e3 / 10:.2f} of the limit", times[10] < 0.010)
    finally:
        lake.stop()


if __name__ == "__main__":
    which = os.environ.get("BENCH_CATALOG_PARTS", "idle,throughput,catalog").split(",")
    print(f"bench_catalog {time.strftime('%Y-%m-%d')} {BIN}")
    for part in which:
        {"idle": idle, "throughput": throughput, "catalog": catalog}[part]()
    print("\n| figure | Lakebed | limit / peer (same run) | ratio | |")
    print("| --- | --- | --- | --- | --- |")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")
