"""Crash rounds: a stream of uploads, rule additions and transfers against a real lakebed, a `kill -9` at a random
moment, then the checks a user would make after restarting it. Used by test_crash.py (a few rounds) and
Scripts/crash-stress (many rounds). Same seed, same sizes, names and kill times."""
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import requests

from conftest import BIN, Lake, write_cfg
from lakepaths import hash_path

SCOPE = "user.root"
CREDS = {"username": "ddmlab", "password": "secret"}


def adler32_file(path):
    v = 1
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            v = zlib.adler32(chunk, v)
    return f"{v & 0xffffffff:08x}"


def client(lake):
    from rucio.client import Client
    return Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass", creds=CREDS)


class Acked:
    """What the lake said yes to before it died: it must all be there after the restart."""

    def __init__(self):
        self.lock = threading.Lock()
        self.files = {}      # name -> (rse, bytes, adler32)
        self.rules = {}      # rule id -> did
        self.datasets = {}   # name -> [file names]

        self.changed = threading.Condition(self.lock)
        self.failed = False

    def fail(self):
        with self.changed:
            self.failed = True
            self.changed.notify_all()

    def count(self):
        with self.lock:
            return len(self.files) + len(self.rules)

    def wait_for(self, n, timeout):
        with self.changed:
            return self.changed.wait_for(lambda: len(self.files) + len(self.rules) >= n or self.failed, timeout)

    def add_file(self, name, rse, size, adler):
        with self.changed:
            self.files[name] = (rse, size, adler)
            self.changed.notify_all()

    def add_rule(self, rid, did):
        with self.changed:
            self.rules[rid] = did
            self.changed.notify_all()

    def pick_files(self, rng, n):
        with self.lock:
            names = sorted(self.files)
        return rng.sample(names, min(n, len(names)))


def worker(lake, workdir, rng, tag, acked, killed, errors):
    """Uploads (the real client over the file protocol, or bytes over WebDAV then registration), datasets and rules."""
    from rucio.client.uploadclient import UploadClient
    try:
        c = client(lake)
        up = UploadClient(_client=c, logger=None)
    except Exception as e:
        if not killed.is_set():
            errors.append(f"{tag}: login: {e!r}")
        return
    http = requests.Session()
    for i in range(10_000):
        if killed.is_set():
            return
        name = f"crash-{tag}-{i:04d}.dat"
        roll = rng.random()
        try:
            if roll < 0.4:
                size = rng.choice([1_000, 20_000, 300_000, 1_500_000])
                path = pathlib.Path(workdir) / name
                path.write_bytes(rng.randbytes(size))
                rse = rng.choice(["SITE-A", "SITE-B"])
                up.upload([{"path": str(path), "rse": rse, "did_scope": SCOPE, "did_name": name}])
                acked.add_file(name, rse, size, adler32_file(path))
                path.unlink()
            elif roll < 0.6:
                # A storage-level write through Lakebed's WebDAV, then registration, as FTS-less tools do it.
                size = rng.choice([5_000, 800_000])
                data = rng.randbytes(size)
                rel = hash_path(SCOPE, name)
                r = http.put(f"{lake.url}/storage/SITE-B/{rel}", data=data, timeout=30)
                if r.status_code not in (200, 201, 204):
                    errors.append(f"{tag}: PUT {rel}: {r.status_code} {r.text[:200]}")
                    return
                adler = f"{zlib.adler32(data) & 0xffffffff:08x}"
                c.add_replicas("SITE-B", [{"scope": SCOPE, "name": name, "bytes": size, "adler32": adler}])
                acked.add_file(name, "SITE-B", size, adler)
            elif roll < 0.7:
                files = acked.pick_files(rng, 3)
                if files:
                    c.add_dataset(SCOPE, name)
                    c.attach_dids(SCOPE, name, [{"scope": SCOPE, "name": f} for f in files])
                    with acked.lock:
                        acked.datasets[name] = files
                    [rid] = c.add_replication_rule([{"scope": SCOPE, "name": name}], 1, "SITE-C")
                    acked.add_rule(rid, f"{SCOPE}:{name}")
            else:
                files = acked.pick_files(rng, 1)
                if files:
                    expr, copies = rng.choice([("SITE-C", 1), ("SITE-B|SITE-C", 2), ("SITE-A|SITE-B|SITE-C", 3)])
                    try:
                        [rid] = c.add_replication_rule([{"scope": SCOPE, "name": files[0]}], copies, expr)
                        acked.add_rule(rid, f"{SCOPE}:{files[0]}")
                    except Exception as e:
                        if type(e).__name__ != "DuplicateRule":
                            raise
        except Exception as e:
            # After the kill every call fails, however the client words it; before it, any failure is a real one.
            if not killed.is_set():
                errors.append(f"{tag}: {name}: {type(e).__name__}: {e}")
                acked.fail()
            return


def check_offline(data_dir):
    """`lakebed check` on the stopped lake's folder: the state the kill left, before any recovery."""
    p = subprocess.run([BIN, "check", "--data-dir", str(data_dir), "--json"], capture_output=True, text=True, timeout=300)
    report = json.loads(p.stdout)
    return p.returncode, report


def run_round(seed, round_no, base_dir, workers=3):
    """One round on a fresh data folder. Returns a dict of what happened; raises AssertionError on a broken promise."""
    rng = random.Random(seed * 100_003 + round_no)
    data = pathlib.Path(base_dir) / f"round-{round_no:03d}"
    work = pathlib.Path(base_dir) / f"work-{round_no:03d}"
    work.mkdir(parents=True, exist_ok=True)
    # The kill comes after a random number of acknowledged operations plus a random jitter, so it lands anywhere:
    # mid-upload, mid-registration, mid-rule, mid-transfer.
    kill_after_ops, jitter = rng.randint(1, 30), rng.uniform(0, 0.4)
    lake = Lake(data, args=["--time-scale", "20", "--no-https", "--seed", str(seed)]).start()
    # Slow links (lake time), so transfers are in flight when the kill comes.
    # The upload client reads a rucio.cfg even when given a client; each round's lake has its own.
    os.environ["RUCIO_CONFIG"] = str(write_cfg(work / "cfg", lake.url))
    requests.put(f"{lake.url}/lakebed/links/*/*", json={"bandwidth": 100_000, "latency": 1}, timeout=10).raise_for_status()
    acked, killed, errors = Acked(), threading.Event(), []
    threads = [threading.Thread(target=worker, args=(lake, work, random.Random(rng.random()), f"r{round_no}w{k}", acked, killed, errors), daemon=True)
               for k in range(workers)]
    for t in threads:
        t.start()
    acked.wait_for(kill_after_ops, timeout=60) or errors
    killed.wait(jitter)  # a wall-clock jitter is the point here: the moment of the kill is what varies
    in_flight = requests.get(f"{lake.url}/lakebed/transfers", timeout=10).json()
    killed.set()
    lake.proc.send_signal(signal.SIGKILL)
    lake.proc.wait(timeout=10)
    for t in threads:
        t.join(timeout=60)
    assert not errors, f"round {round_no}: requests failed before the kill: {errors}"

    code, report = check_offline(data)
    assert code == 0 and not report["problems"], f"round {round_no}: after kill -9 the catalog is inconsistent: {json.dumps(report['problems'], indent=1)}"

    # Restart on the same folder, manual clock: queued transfers resume, every acknowledged thing is there.
    lake2 = Lake(data, args=["--time-scale", "0", "--no-https", "--seed", str(seed)]).start()
    try:
        c = client(lake2)
        for name, (rse, size, adler) in sorted(acked.files.items()):
            [rep] = list(c.list_replicas([{"scope": SCOPE, "name": name}], all_states=True))
            assert rep["states"].get(rse) == "AVAILABLE", f"round {round_no}: acknowledged upload {name} is {rep['states']} after restart"
            assert (rep["bytes"], rep["adler32"]) == (size, adler), f"round {round_no}: {name} metadata changed"
            on_disk = lake2.rse_dir(rse) / hash_path(SCOPE, name)
            assert on_disk.stat().st_size == size and adler32_file(on_disk) == adler, f"round {round_no}: bytes of {name} at {rse} are wrong"
        known = {r["id"] for r in c.list_replication_rules({"account": "root"})}
        missing = set(acked.rules) - known
        assert not missing, f"round {round_no}: acknowledged rules lost: {missing}"
        states = {}
        for step in range(40):
            states = {rid: c.get_replication_rule(rid)["state"] for rid in acked.rules}
            if all(s == "OK" for s in states.values()):
                break
            requests.post(f"{lake2.url}/lakebed/clock/advance", json={"seconds": 300}, timeout=300).raise_for_status()
        assert all(s == "OK" for s in states.values()), f"round {round_no}: rules did not finish after restart: {states}"
        online = requests.get(f"{lake2.url}/lakebed/check", timeout=300).json()
        assert online["consistent"], f"round {round_no}: inconsistent after recovery: {online['problems']}"
        # Replicas the rules made are whole too.
        for rid, did in acked.rules.items():
            for lock in c.list_replica_locks(rid):
                assert lock["state"] == "OK"
    finally:
        lake2.stop()
    return {"round": round_no, "kill_after_ops": kill_after_ops, "acked_files": len(acked.files), "acked_rules": len(acked.rules),
            "in_flight_at_kill": len(in_flight), "partial_files_left": sum(1 for n in report["notes"] if n["kind"] == "partial-file"),
            "orphan_files_left": sum(1 for n in report["notes"] if n["kind"] == "orphan-file"),
            "replicas": report["replicas"], "locks": report["locks"], "live_requests_at_kill": report["liveRequests"]}


def run_rounds(rounds, seed, base_dir, out=print):
    """Runs rounds one after another, each in a fresh Python process (the rucio client caches RSE settings and its
    configuration per process, and each round's lake is new). Returns the per-round results; raises on the first failure."""
    results = []
    for r in range(rounds):
        p = subprocess.run([sys.executable, __file__, "--round", str(seed), str(r), str(base_dir)], capture_output=True, text=True,
                           timeout=900, env={**os.environ, "LAKEBED_BIN": BIN}, cwd=os.path.dirname(os.path.abspath(__file__)))
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        if p.returncode != 0 or not lines:
            tail = "\n".join((p.stdout + p.stderr).splitlines()[-25:])
            raise AssertionError(f"crash round {r} (seed {seed}) failed:\n{tail}")
        results.append(json.loads(lines[-1]))
        out(lines[-1])
    return results


def summary(results, seed, seconds):
    t = {k: sum(r[k] for r in results) for k in ("acked_files", "acked_rules", "in_flight_at_kill", "partial_files_left", "orphan_files_left")}
    return (f"{len(results)} rounds (seed {seed}) in {seconds:.0f} s: every kill -9 left a consistent catalog; "
            f"{t['acked_files']} acknowledged uploads and {t['acked_rules']} acknowledged rules all survived with their bytes; "
            f"{t['in_flight_at_kill']} transfers were in flight at the kills, and every rule reached OK after the restart; "
            f"{t['partial_files_left']} hidden partial writes and {t['orphan_files_left']} orphan files were left behind (harmless).")


def main(argv):
    if len(argv) > 1 and argv[1] == "--round":
        # Logging from the rucio client about the refused connections after the kill is expected noise.
        import logging
        logging.disable(logging.CRITICAL)
        print(json.dumps(run_round(int(argv[2]), int(argv[3]), argv[4])), flush=True)
        return
    rounds = int(argv[1]) if len(argv) > 1 else 30
    seed = int(argv[2]) if len(argv) > 2 else 1
    base = tempfile.mkdtemp(prefix="lakebed-crash-")
    started = time.monotonic()
    results = run_rounds(rounds, seed, base)
    print("\n" + summary(results, seed, time.monotonic() - started))


if __name__ == "__main__":
    main(sys.argv)
