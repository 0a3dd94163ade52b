"""Hostile input: the seeded fuzzer (fuzzing.py) against a lake of its own, driven by /lakebed/openapi.json.

Every answer to a well-formed HTTP request is below 500 and, when 4xx, in Rucio's error format; malformed HTTP gets
400/413/431 or a closed connection; nothing hangs; the server answers /ping afterwards; its RSS stays bounded; and
no byte is written outside the data folder. The long variant is Scripts/fuzz.
"""
import os
import socket
import time

import pytest
import requests

import fuzzing
from conftest import Lake

N = int(os.environ.get("LAKEBED_FUZZ_N", "12000"))
SEED = int(os.environ.get("LAKEBED_FUZZ_SEED", "2026"))
RSS_GROWTH_MB = 150  # bound on the server's RSS growth over the run (debug build, bodies up to 33 MB included)


def files_under(root, skip):
    """Every file and directory under `root`, except the `skip` subtree."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) != str(skip)]
        out |= {os.path.join(dirpath, f) for f in filenames} | {os.path.join(dirpath, d) + "/" for d in dirnames}
    return out


@pytest.fixture(scope="module")
def fuzz_lake(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    sentinel = base / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("untouched\n")
    lk = Lake(base / "data", args=["--no-https"]).start()
    lk.base, lk.sentinel = base, sentinel
    yield lk
    lk.stop()


def rucio_error(r):
    assert r.headers.get("ExceptionClass") and r.headers.get("ExceptionMessage") is not None, r.headers
    body = r.json()
    assert set(body) >= {"ExceptionClass", "ExceptionMessage"}
    return body["ExceptionClass"]


def test_openapi_describes_the_rucio_api(fuzz_lake):
    spec = requests.get(fuzz_lake.url + "/lakebed/openapi.json", timeout=10).json()
    ops = fuzzing.operations(spec)
    assert len(ops) >= 100
    assert spec["components"]["securitySchemes"]["RucioToken"]["name"] == "X-Rucio-Auth-Token"
    by = {(o.method, o.pattern): o for o in ops}
    assert not by[("GET", "/ping")].auth and by[("GET", "/dids/:scope/:name")].auth
    assert by[("POST", "/rules")].required >= {"dids", "copies", "rse_expression"}
    assert by[("GET", "/dids/:scope/:name")].path_params == ["scope", "name"]


def test_traversal_and_limits_are_refused_in_rucio_format(fuzz_lake):
    url = fuzz_lake.url
    h = {"X-Rucio-Auth-Token": fuzzing.login(url)}
    for method, path, body in [
        ("POST", "/rses/..%2F..%2Fsentinel", {}), ("POST", "/rses/..", {}), ("POST", "/rses/%2Fetc", {}),
        ("POST", "/dids/test/..%2F..%2Fsentinel%2Fx", {"type": "DATASET"}),
        ("POST", "/dids/test/..", {"type": "DATASET"}),
        ("POST", "/replicas", {"rse": "SITE-A", "files": [{"scope": "test", "name": "../../../sentinel/keep.txt", "bytes": 10, "adler32": "00000001"}]}),
        ("POST", "/replicas", {"rse": "SITE-A", "files": [{"scope": "..", "name": "x", "bytes": 10, "adler32": "00000001"}]}),
        ("POST", "/replicas", {"rse": "SITE-A", "files": [{"scope": "test", "name": "p1", "bytes": 10, "adler32": "00000001",
                                                          "pfn": "file://" + str(fuzz_lake.sentinel / "keep.txt")}]}),
        ("GET", "/rses/SITE-A/lfns2pfns?lfn=test%3A..%2F..%2F..%2Fsentinel%2Fkeep.txt", None),
        ("GET", "/rses/SITE-A/lfns2pfns?lfn=..%3Ax", None),
    ]:
        r = requests.request(method, url + path, headers=h, json=body, timeout=30)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
        rucio_error(r)
    # A body over the limit: 413 RequestEntityTooLarge, whether announced or chunked.
    big = b"A" * (fuzzing.MAX_BODY + 1)
    r = requests.post(url + "/rules", headers=h, data=big, timeout=60)
    assert r.status_code == 413 and rucio_error(r) == "RequestEntityTooLarge"
    r = requests.post(url + "/rules", headers=h, data=iter([big[i:i + (1 << 20)] for i in range(0, len(big), 1 << 20)]), timeout=60)
    assert r.status_code == 413 and rucio_error(r) == "RequestEntityTooLarge"
    # Headers over the limit: 431 in Rucio's format, then the connection closes.
    r = requests.get(url + "/ping", headers={"X-Big": "a" * 70000}, timeout=10)
    assert r.status_code == 431 and rucio_error(r) == "RequestHeaderFieldsTooLarge"
    r = requests.get(url + "/ping", headers={f"X-{i}": "a" for i in range(300)}, timeout=10)
    assert r.status_code == 431
    # A protocol update colliding with another protocol is a 409 Duplicate (it was a 500: the fuzzer's first find).
    for port in (1, 2):
        r = requests.post(url + "/rses/SITE-A/protocols/root", headers=h, json={"hostname": "xrd.example.org", "port": port, "prefix": "//x",
                                                                             "impl": "rucio.rse.protocols.xrootd.Default"}, timeout=10)
        assert r.status_code == 201, r.text
    r = requests.put(url + "/rses/SITE-A/protocols/root/xrd.example.org/1", headers=h, json={"port": 2}, timeout=10)
    assert r.status_code == 409 and rucio_error(r) == "Duplicate"
    requests.delete(url + "/rses/SITE-A/protocols/root", headers=h, timeout=10)
    # A posix prefix outside Lakebed's storage roots is refused, never written to.
    r = requests.post(url + "/rses/SITE-A/protocols/file", headers=h, json={"hostname": "elsewhere", "port": 3, "prefix": "/x",
                                                                          "impl": "rucio.rse.protocols.posix.Default"}, timeout=10)
    assert rucio_error(r) == "AccessDenied" and "storage roots" in r.text, r.text
    # Deep or long RSE expressions and huge lifetimes are refused, not recursed into or overflowed (both crashed the server).
    rule = {"dids": [{"scope": "demo", "name": "lofar.L630262"}], "copies": 1, "rse_expression": "(" * 20000 + "SITE-B" + ")" * 20000,
            "account": "root"}
    r = requests.post(url + "/rules", headers=h, json=rule, timeout=30)
    assert r.status_code == 409 and rucio_error(r) == "InvalidRSEExpression"
    r = requests.post(url + "/rules", headers=h, json=dict(rule, rse_expression="SITE-B", lifetime=1e300), timeout=30)
    assert r.status_code == 409 and rucio_error(r) == "InvalidReplicationRule"
    r = requests.put(url + "/rses/SITE-A/usage", headers=h, json={"source": "x", "used": 2 ** 63 - 1, "free": 2 ** 63 - 1}, timeout=10)
    assert r.status_code == 400 and requests.get(url + "/rses/SITE-A/usage", headers=h, timeout=10).status_code == 200
    r = requests.post(url + "/dids/demo/L630262_SB0_uv.MS.tar/meta", headers=h, json={"meta": {"bytes": 2 ** 63 - 1}}, timeout=10)
    assert r.status_code == 400 and requests.get(url + "/replicas/demo/lofar.L630262/datasets", headers=h, timeout=10).status_code == 200
    # A request asking for an upgrade is answered and its connection closed (NIO parses nothing after it: a
    # keep-alive client used to wait forever for its next answer).
    with socket.create_connection(("127.0.0.1", fuzz_lake.port), timeout=5) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
    assert got.startswith(b"HTTP/1.1 200") and b"connection: close" in got.lower()
    # CR/LF from a path never reaches an error header.
    r = requests.get(url + "/dids/test/a%0d%0aX-Injected:%201/meta", headers=h, timeout=10)
    assert "X-Injected" not in r.headers and "\n" not in r.headers["ExceptionMessage"]
    assert sorted(os.listdir(fuzz_lake.sentinel)) == ["keep.txt"]


def test_fuzzing_never_breaks_the_server(fuzz_lake):
    outside_before = files_under(fuzz_lake.base, skip=fuzz_lake.data_dir)
    started = time.monotonic()
    summary = fuzzing.run(fuzz_lake.url, N, SEED, threads=4, pid=fuzz_lake.proc.pid)
    print("\n" + fuzzing.format_summary(summary))
    assert summary["failures"] == [], fuzzing.format_summary(summary)
    assert summary["alive"] and summary["token_valid"] and fuzz_lake.proc.poll() is None
    assert summary["requests"] == N >= 10_000 and time.monotonic() - started < 240
    growth_mb = (summary["rss_after_kb"] - summary["rss_before_kb"]) / 1024
    assert growth_mb < RSS_GROWTH_MB, f"RSS grew by {growth_mb:.0f} MB"
    # Nothing was written outside the data folder (the sentinel beside it is untouched)...
    assert files_under(fuzz_lake.base, skip=fuzz_lake.data_dir) == outside_before
    assert (fuzz_lake.sentinel / "keep.txt").read_text() == "untouched\n"
    # ...and inside it the catalog and the seed snapshot are still there (dot-segment names removed nothing)...
    assert (fuzz_lake.data_dir / "catalog.sqlite").is_file() and (fuzz_lake.data_dir / "snapshots" / "seed").is_dir()
    # ...and every RSE directory stays under rses/.
    for entry in os.listdir(fuzz_lake.data_dir / "rses"):
        p = os.path.realpath(fuzz_lake.data_dir / "rses" / entry)
        assert p.startswith(os.path.realpath(fuzz_lake.data_dir / "rses") + os.sep), p
    # The lake still works for a real client afterwards.
    r = requests.get(fuzz_lake.url + "/rses/", headers={"X-Rucio-Auth-Token": fuzzing.login(fuzz_lake.url)}, timeout=10)
    assert r.status_code == 200
