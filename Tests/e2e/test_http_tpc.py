"""HTTP third-party copy (WLCG HTTP-TPC, WebDAV COPY) between Lakebed's RSEs with the real clients: gfal-copy in pull
and push mode, davix-cp, the fts3 client with an https -> https job; the copy runs on the link between the two RSEs
(bandwidth, latency, faults) on the lake clock, and storage scopes are checked on both ends."""
import http.client
import os
import shutil
import subprocess
import time
import urllib.parse

import pytest

from conftest import BIN, control
from test_wlcg_clients import site, sums, tool  # noqa: F401  (the module's own lake with its CA folder and clients' environment)

pytestmark = pytest.mark.skipif(not (shutil.which("gfal-copy") and shutil.which("davix-cp")) and os.environ.get("CI") != "true",
                                reason="gfal2 and davix are not installed (Scripts/test.sh installs them)")


def on_the_lake_clock(lake, args, env=None, step=5, timeout=120):
    """Runs a client that waits for transfers, moving the lake's manual clock by `step` seconds only while a transfer
    is in flight (so the lake time spent is what the transfers take, give or take a step)."""
    p = subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + timeout
    while True:
        try:
            out, err = p.communicate(timeout=0.05)
            return subprocess.CompletedProcess(args, p.returncode, out, err)
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > deadline:
            p.kill()
            raise AssertionError(f"{args} did not finish")
        if control(lake, "GET", "transfers"):
            control(lake, "POST", "clock/advance", json={"seconds": step})


def put(site, rse, path, data, tmp_path):
    f = tmp_path / (path.replace("/", "_") + ".src")
    f.write_bytes(data)
    tool("gfal-copy", "-p", f"file://{f}", f"{site.davs}/{rse}/{path}", env=site.env)


def stored(site, rse, path):
    p = site.data_dir / "rses" / rse / path
    return p.read_bytes() if p.exists() else None


def partials(site, rse):
    return [p for p in (site.data_dir / "rses" / rse).rglob("*") if p.name.startswith(".lakebed-part")]


def token(site, scope):
    return subprocess.run([BIN, "token", "--data-dir", str(site.data_dir), "--scope", f"openid {scope}",
                           "--audience", "https://wlcg.cern.ch/jwt/v1/any"], capture_output=True, text=True, check=True).stdout.strip()


def finished_transfers(site, src, dst, after):
    return [e for e in control(site, "GET", f"events?after={after}") if e["kind"] == "transfer.finished"
            and e["src"] == src and e["dst"] == dst]


def last_seq(site):
    events = control(site, "GET", "events?after=0")
    return events[-1]["seq"] if events else 0


class Copy:
    """A raw COPY on Lakebed's plain-HTTP listener, its body read line by line as it streams."""

    def __init__(self, site, path, headers):
        u = urllib.parse.urlsplit(site.url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        self.conn.request("COPY", f"/storage/{path}", headers=headers)
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.lines = []

    def line(self):
        text = self.response.readline().decode()
        assert text, f"the body ended after {self.lines}"
        self.lines.append(text.rstrip("\n"))
        return self.lines[-1]

    def marker(self):
        """The next performance marker, as a dict of its fields."""
        assert self.line() == "Perf Marker", self.lines
        fields = {}
        while (text := self.line()) != "End":
            key, _, value = text.strip().partition(": ")
            fields[key] = value
        return fields

    def rest(self):
        body = self.response.read().decode()
        self.conn.close()
        self.lines += body.splitlines()
        return self.lines


@pytest.mark.parametrize("mode", ["pull", "push"])
def test_gfal_copy_between_two_rses_runs_on_the_link(site, tmp_path, mode):
    data = os.urandom(200_000)
    put(site, "SITE-A", f"tpc/{mode}.bin", data, tmp_path)
    before = last_seq(site)
    # --copy-mode turns off gfal2's fallback to a streamed copy, so only a third-party copy can succeed.
    p = on_the_lake_clock(site, ["gfal-copy", "--copy-mode", mode, "-K", "ADLER32", f"{site.davs}/SITE-A/tpc/{mode}.bin",
                                 f"{site.davs}/SITE-B/tpc/{mode}.bin"], env=site.env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert stored(site, "SITE-B", f"tpc/{mode}.bin") == data
    assert tool("gfal-sum", f"{site.davs}/SITE-B/tpc/{mode}.bin", "ADLER32", env=site.env).stdout.split()[-1] == sums(data)[0]
    # The lake's transfer engine moved it, on the SITE-A -> SITE-B link.
    [moved] = finished_transfers(site, "SITE-A", "SITE-B", before)
    assert moved["bytes"] == str(len(data))


def test_davix_cp_third_party_copy_push_and_pull(site, tmp_path):
    data = os.urandom(50_000)
    put(site, "SITE-A", "tpc/davix.bin", data, tmp_path)
    for mode in ["push", "pull"]:
        p = on_the_lake_clock(site, ["davix-cp", "--capath", site.certs, "--copy-mode", mode, f"{site.https}/SITE-A/tpc/davix.bin",
                                     f"{site.https}/SITE-C/tpc/davix-{mode}.bin"])
        assert p.returncode == 0, p.stdout + p.stderr
        assert stored(site, "SITE-C", f"tpc/davix-{mode}.bin") == data


def test_fts3_client_runs_an_https_job_as_third_party_copy(site, tmp_path):
    import sys
    import pathlib
    import json
    import requests
    data = os.urandom(80_000)
    put(site, "SITE-A", "tpc/fts.bin", data, tmp_path)
    adler = sums(data)[0]
    rucio_token = requests.get(f"{site.url}/auth/userpass",
                               headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret"}).headers["X-Rucio-Auth-Token"]
    bindir = pathlib.Path(sys.executable).parent
    p = on_the_lake_clock(site, [str(bindir / "fts-rest-transfer-submit"), "-s", f"{site.url}/fts", "--access-token", rucio_token,
                                 "--blocking", "-i", "1", "-C", "both", f"{site.https}/SITE-A/tpc/fts.bin",
                                 f"{site.https}/SITE-C/tpc/fts.bin", f"ADLER32:{adler}"])
    assert p.returncode == 0, p.stdout + p.stderr
    job = next(w for w in (p.stdout + p.stderr).split() if len(w) == 36 and w.count("-") == 4)
    status = json.loads(tool(str(bindir / "fts-rest-transfer-status"), "-s", f"{site.url}/fts", "--access-token", rucio_token,
                             "-j", job).stdout)
    assert status["job_state"] == "FINISHED"
    assert stored(site, "SITE-C", "tpc/fts.bin") == data
    files = requests.get(f"{site.url}/fts/jobs/{job}/files", headers={"Authorization": f"Bearer {rucio_token}"}).json()
    assert files[0]["checksum"] == f"ADLER32:{adler}" and files[0]["source_se"] == "SITE-A" and files[0]["dest_se"] == "SITE-C"
    # A checksum the bytes do not have fails the job, and nothing is left at the destination.
    p = on_the_lake_clock(site, [str(bindir / "fts-rest-transfer-submit"), "-s", f"{site.url}/fts", "--access-token", rucio_token,
                                 "--blocking", "-i", "1", "-C", "both", f"{site.https}/SITE-A/tpc/fts.bin",
                                 f"{site.https}/SITE-C/tpc/fts-bad.bin", "ADLER32:00000001"])
    # The blocking submit returns the job id whatever the job's end (fts3 3.14's CLI); its log names the state and reason.
    assert "Job finished with state FAILED" in p.stdout + p.stderr and "CHECKSUM MISMATCH" in p.stdout + p.stderr, p.stdout + p.stderr
    assert stored(site, "SITE-C", "tpc/fts-bad.bin") is None and not partials(site, "SITE-C")


def test_copy_time_follows_the_link_bandwidth_on_the_lake_clock(site, tmp_path):
    data = os.urandom(100_000)
    put(site, "SITE-A", "tpc/slow.bin", data, tmp_path)
    control(site, "PUT", "links/SITE-A/SITE-B", json={"bandwidth": 2000, "latency": 1})
    try:
        copy = Copy(site, "SITE-B/tpc/slow.bin", {"Source": f"{site.https}/SITE-A/tpc/slow.bin", "Credential": "none"})
        assert copy.status == 202 and copy.response.getheader("Content-Type") == "text/perf-marker-stream"
        first = copy.marker()
        assert first["Stripe Bytes Transferred"] == "0" and first["Total Stripe Count"] == "1" and first["Stripe Index"] == "0"
        # 25 s of lake time: 1 s of latency, then 24 s at 2000 bytes/s.
        control(site, "POST", "clock/advance", json={"seconds": 25})
        while (marker := copy.marker())["Stripe Bytes Transferred"] == "0":
            pass
        assert marker["Stripe Bytes Transferred"] == "48000"
        assert stored(site, "SITE-B", "tpc/slow.bin") is None
        control(site, "POST", "clock/advance", json={"seconds": 30})
        lines = copy.rest()
        assert lines[-1] == "success: Created"
        last = len(lines) - 1 - lines[::-1].index("Perf Marker")
        fields = dict(l.strip().split(": ", 1) for l in lines[last + 1:lines.index("End", last)])
        assert fields["Stripe Bytes Transferred"] == "100000"
        # 1 s of latency and 100,000 bytes at 2000 bytes/s: 51 s of lake time from acceptance to the last byte.
        assert int(fields["Timestamp"]) - int(first["Timestamp"]) == 51
        assert stored(site, "SITE-B", "tpc/slow.bin") == data
    finally:
        control(site, "PUT", "links/SITE-A/SITE-B", json={"bandwidth": 100_000_000, "latency": 1})


def test_a_link_fault_fails_the_copy_with_a_failure_line_and_leaves_nothing(site, tmp_path):
    data = os.urandom(30_000)
    put(site, "SITE-A", "tpc/fault.bin", data, tmp_path)
    control(site, "POST", "inject", json={"fault": "site-c-unreachable"})
    try:
        p = on_the_lake_clock(site, ["gfal-copy", "--copy-mode", "pull", f"{site.davs}/SITE-A/tpc/fault.bin",
                                     f"{site.davs}/SITE-C/tpc/fault.bin"], env=site.env)
        assert p.returncode != 0 and "No route to host (SITE-C unreachable)" in p.stderr, p.stderr
        assert stored(site, "SITE-C", "tpc/fault.bin") is None and not partials(site, "SITE-C")
        copy = Copy(site, "SITE-C/tpc/fault.bin", {"Source": f"{site.https}/SITE-A/tpc/fault.bin"})
        assert copy.status == 202
        copy.marker()
        control(site, "POST", "clock/advance", json={"seconds": 5})
        assert copy.rest()[-1] == "failure: TRANSFER [113] No route to host (SITE-C unreachable)"
        assert stored(site, "SITE-C", "tpc/fault.bin") is None and not partials(site, "SITE-C")
    finally:
        control(site, "POST", "inject", json={"fault": "site-c-reachable"})


def test_storage_scopes_are_checked_on_both_ends(site, tmp_path):
    from rucio.client import Client
    c = Client(rucio_host=site.url, auth_host=site.url, account="root", auth_type="userpass",
               creds={"username": "ddmlab", "password": "secret"})
    data = os.urandom(20_000)
    put(site, "SITE-A", "tpc/scoped.bin", data, tmp_path)
    put(site, "SITE-B", "tpc-src/scoped.bin", data, tmp_path)
    c.add_rse_attribute("SITE-B", "oidc_support", True)
    try:
        read_only = token(site, "storage.read:/")
        writer = token(site, "storage.read:/ storage.create:/")
        # Pull onto SITE-B: SITE-B takes the COPY and checks the client's token; without storage.create it refuses.
        copy = Copy(site, "SITE-B/tpc/scoped.bin", {"Source": f"{site.https}/SITE-A/tpc/scoped.bin", "Authorization": f"Bearer {read_only}"})
        assert copy.status == 403 and "insufficient_scope" in copy.response.getheader("WWW-Authenticate")
        copy.rest()
        p = on_the_lake_clock(site, ["gfal-copy", "--copy-mode", "pull", f"{site.davs}/SITE-A/tpc/scoped.bin",
                                     f"{site.davs}/SITE-B/tpc/scoped.bin"], env=dict(site.env, BEARER_TOKEN=read_only))
        assert p.returncode != 0 and stored(site, "SITE-B", "tpc/scoped.bin") is None
        # With storage.create it pulls; gfal2 hands the same token to the source in TransferHeaderAuthorization.
        p = on_the_lake_clock(site, ["gfal-copy", "--copy-mode", "pull", f"{site.davs}/SITE-A/tpc/scoped.bin",
                                     f"{site.davs}/SITE-B/tpc/scoped.bin"], env=dict(site.env, BEARER_TOKEN=writer))
        assert p.returncode == 0, p.stderr
        assert stored(site, "SITE-B", "tpc/scoped.bin") == data
        # Push onto SITE-B: SITE-A takes the COPY; SITE-B is the passive end and checks the token passed on to it.
        copy = Copy(site, "SITE-A/tpc/scoped.bin", {"Destination": f"{site.https}/SITE-B/tpc/pushed.bin", "Credential": "none",
                                                    "TransferHeaderAuthorization": f"Bearer {read_only}"})
        assert copy.status == 202
        assert copy.rest()[-1].startswith("failure: rejected PUT: 403 Forbidden")
        p = on_the_lake_clock(site, ["gfal-copy", "--copy-mode", "push", f"{site.davs}/SITE-A/tpc/scoped.bin",
                                     f"{site.davs}/SITE-B/tpc/pushed.bin"], env=dict(site.env, BEARER_TOKEN=writer))
        assert p.returncode == 0, p.stderr
        assert stored(site, "SITE-B", "tpc/pushed.bin") == data
        # Pull from SITE-B: the source needs storage.read in the token passed on; none at all gets a 401 with a hint.
        copy = Copy(site, "SITE-C/tpc/from-b.bin", {"Source": f"{site.https}/SITE-B/tpc-src/scoped.bin", "Credential": "gridsite"})
        assert copy.status == 202
        assert copy.rest()[-1].startswith("failure: rejected GET: 401 Unauthorized") and "TransferHeaderAuthorization" in copy.lines[-1]
        create_only = token(site, "storage.create:/")
        copy = Copy(site, "SITE-C/tpc/from-b.bin", {"Source": f"{site.https}/SITE-B/tpc-src/scoped.bin",
                                                    "TransferHeaderAuthorization": f"Bearer {create_only}"})
        assert copy.rest()[-1].startswith("failure: rejected GET: 403 Forbidden")
        assert stored(site, "SITE-C", "tpc/from-b.bin") is None
    finally:
        c.delete_rse_attribute("SITE-B", "oidc_support")


def test_endpoints_outside_the_lake_and_paths_outside_an_rse_fail(site, tmp_path):
    canary = site.data_dir / "canary.txt"
    canary.write_text("not storage")
    copy = Copy(site, "SITE-B/tpc/outside.bin", {"Source": "https://data.example.org:2880/store/f.root"})
    assert copy.status == 202
    line = copy.rest()[-1]
    assert line.startswith("failure: cannot connect to the source https://data.example.org:2880") and "no connections outside" in line
    copy = Copy(site, "SITE-B/tpc/outside.bin", {"Source": f"{site.https}/NO-SUCH-RSE/f"})
    assert copy.rest()[-1].startswith("failure: rejected GET: 404 Not Found")
    # A traversal in the Source or Destination header reaches nothing outside the RSE's folder.
    for source in [f"{site.https}/SITE-A/../../canary.txt", f"{site.https}/SITE-A/%2e%2e/%2e%2e/canary.txt"]:
        copy = Copy(site, "SITE-B/tpc/canary.bin", {"Source": source})
        assert copy.status in (202, 403, 404) and "success" not in copy.rest()[-1]
    put(site, "SITE-A", "tpc/out.bin", b"bytes", tmp_path)
    copy = Copy(site, "SITE-A/tpc/out.bin", {"Destination": f"{site.https}/SITE-B/%2e%2e/%2e%2e/canary-written.txt"})
    assert "success" not in copy.rest()[-1]
    assert not (site.data_dir / "canary-written.txt").exists() and stored(site, "SITE-B", "tpc/canary.bin") is None
    assert canary.read_text() == "not storage"
    # Bad headers are the request's fault.
    for headers in [{}, {"Source": f"{site.https}/SITE-A/tpc/out.bin", "Destination": f"{site.https}/SITE-C/x"},
                    {"Source": f"{site.https}/SITE-A/tpc/out.bin", "Overwrite": "maybe"},
                    {"Source": f"{site.https}/SITE-A/tpc/out.bin", "RequireChecksumVerification": "yes"},
                    {"Source": "root://xrd.example.org//f"}]:
        copy = Copy(site, "SITE-C/tpc/bad.bin", headers)
        assert copy.status == 400, headers
        copy.rest()
    # Overwrite: F keeps what is there.
    put(site, "SITE-C", "tpc/kept.bin", b"old", tmp_path)
    copy = Copy(site, "SITE-C/tpc/kept.bin", {"Source": f"{site.https}/SITE-A/tpc/out.bin", "Overwrite": "F"})
    assert copy.status == 412
    copy.rest()
    assert stored(site, "SITE-C", "tpc/kept.bin") == b"old"
