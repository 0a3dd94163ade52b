"""`lakebed.Lake` on its own: start and stop, the control API, clients that stay with their lake."""
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import zlib

import pytest

import lakebed
from lakebed import ControlError, Lake, LakeError

from conftest import process_gone, processes_mentioning, wait_for


@pytest.fixture(scope="module")
def lk():
    with Lake(seed=3) as lake:
        yield lake


@pytest.fixture(autouse=True)
def _reset(request):
    if "lk" in request.fixturenames:
        request.getfixturevalue("lk").reset()


def test_starts_on_loopback_with_free_ports_and_stops_cleanly():
    lake = Lake(https=True)
    lake.start()
    try:
        assert lake.url.startswith("http://127.0.0.1:") and not lake.url.endswith(":0")
        assert lake.https_url and lake.https_url.startswith("https://localhost:")
        assert lake.rucio_cfg.read_text().count(lake.url) == 2  # rucio_host and auth_host
        root, pid = lake.root, lake.pid
        assert (root / "data" / "catalog.sqlite").exists()
    finally:
        lake.stop()
    assert process_gone(pid)
    assert not root.exists()
    assert not lake.running
    with pytest.raises(LakeError):
        lake.url


def test_two_lakes_at_once_each_client_talks_to_its_own():
    with Lake(https=False) as a, Lake(https=False) as b:
        assert a.url != b.url
        ca, cb = a.client(), b.client()
        ca.add_scope("root", "only.in.a")
        assert "only.in.a" in ca.list_scopes()
        assert "only.in.a" not in cb.list_scopes()
        # Each lake caches its own login token: a token of one lake is never sent to the other.
        ta = (a.root / "client").rglob("auth_token_for_account_root")
        tb = (b.root / "client").rglob("auth_token_for_account_root")
        [fa], [fb] = list(ta), list(tb)
        assert fa.read_text() != fb.read_text()


def test_env_points_the_cli_at_the_lake(lk):
    env = lk.env()
    assert env["LAKEBED_URL"] == lk.url and env["RUCIO_CONFIG"] == str(lk.rucio_cfg)
    # Only where the lake is: the account and auth type come from rucio.cfg, so another config can take over.
    assert "RUCIO_ACCOUNT" not in env and "RUCIO_AUTH_TYPE" not in env
    rucio = pathlib.Path(sys.executable).parent / "rucio"
    out = subprocess.run([str(rucio), "whoami"], env={**os.environ, **env}, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "root" in out
    with lk.as_default():
        assert os.environ["RUCIO_CONFIG"] == str(lk.rucio_cfg)
    assert os.environ.get("RUCIO_CONFIG") != str(lk.rucio_cfg)


def test_reset_forgets_what_was_done(lk):
    c = lk.client()
    c.add_dataset("user.root", "scratch")
    lk.rse_down("SITE-B")
    assert not c.get_rse("SITE-B")["availability_write"]
    lk.reset()
    with pytest.raises(Exception, match="DataIdentifierNotFound|not found|Data identifier"):
        c.get_did("user.root", "scratch")
    assert c.get_rse("SITE-B")["availability_write"]
    assert [e["kind"] for e in lk.events()] == ["scenario.reset"]


def test_snapshot_and_restore(lk):
    c = lk.client()
    c.add_dataset("user.root", "kept")
    lk.snapshot("one")
    c.add_dataset("user.root", "dropped")
    lk.restore("one")
    names = {d for d in c.list_dids("user.root", {"name": "*"}, did_type="all")}
    assert names == {"kept"}


def test_advance_runs_transfers_on_the_lake_clock(lk):
    c = lk.client()
    before = lk.now()
    [rule] = c.add_replication_rule([{"scope": "demo", "name": "lofar.L630262"}], 1, "SITE-C")
    assert c.get_replication_rule(rule)["state"] == "REPLICATING"
    lk.advance_until(lambda: c.get_replication_rule(rule)["state"] == "OK", timeout=3600, step=30)
    assert lk.now() > before
    done = lk.events(kind="transfer.finished")
    assert len(done) == 4 and {(e["src"], e["dst"]) for e in done} == {("SITE-A", "SITE-C")}
    assert lk.check()["consistent"]


def test_advance_until_gives_up_after_its_timeout_in_lake_time(lk):
    start = lk.now()
    with pytest.raises(TimeoutError):
        lk.advance_until(lambda: False, timeout=300, step=100)
    assert lk.now() - start == pytest.approx(300, abs=1)


def test_links_faults_and_errors(lk):
    link = lk.set_link("SITE-A", "SITE-B", bandwidth=1234, failure_rate=0.5)
    assert link["bandwidth"] == 1234 and link["failure_rate"] == 0.5
    assert any(l["source"] == "SITE-A" and l["bandwidth"] == 1234 for l in lk.links()["links"])
    with pytest.raises(TypeError):
        lk.set_link("SITE-A", "SITE-B", speed=3)
    with pytest.raises(ControlError) as e:
        lk.set_link("SITE-A", "SITE-B", failure_rate=7)
    assert e.value.status == 400
    assert {f["id"] for f in lk.faults()} >= {"site-c-unreachable", "site-b-down"}
    with pytest.raises(ControlError):
        lk.inject("no-such-fault")
    events = lk.inject("site-b-down")
    assert any(e["kind"] == "scenario.fault" for e in events)


def test_check_finds_bytes_that_changed_on_disk(lk):
    c = lk.client()
    [replica] = [r for r in c.list_replicas([{"scope": "demo", "name": "lofar.L630262"}])][:1]
    path = next((lk.rse_dir("SITE-A")).rglob(replica["name"]))
    path.write_bytes(b"not the bytes the catalog knows")
    report = lk.check()
    assert not report["consistent"] and report["problems"]
    assert lk.check(checksums=False)["problems"]  # the size differs too


def test_tokens(lk):
    token = lk.token(scope="openid profile storage.read:/")
    assert token.count(".") == 2
    assert lk.client(token=token).whoami()["account"] == "root"
    with pytest.raises(LakeError):
        lk.token(user="nobody-here")


def test_a_broken_start_says_why(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nrses: [{name: lower-case-is-invalid}]\n")
    with pytest.raises(LakeError, match="bad.yaml|invalid|exited"):
        Lake(scenario=bad).start()
    with pytest.raises(FileNotFoundError):
        Lake(binary=tmp_path / "no-such-lakebed")


def test_shipped_scenarios_by_name():
    assert "site-outage" in lakebed.shipped_scenarios()
    with Lake(scenario="site-outage", https=False) as lake:
        info = lake.scenario_info()
        assert info["name"] == "site-outage"
        assert {r["rse"] for r in lake.client().list_rses()} == {"CERN-DISK", "NIKHEF-DISK", "BNL-DISK"}
        assert lake.clock()["manual"]


def test_a_lake_started_from_a_thread_outlives_the_thread():
    box = {}

    def start():
        box["lake"] = Lake(https=False).start()

    t = threading.Thread(target=start)
    t.start()
    t.join()
    lake = box["lake"]
    try:
        # PR_SET_PDEATHSIG fires when the *thread* that forked ends: the spawner thread forks, not this one.
        assert lake.running
        assert lake.clock()["manual"]
    finally:
        lake.stop()


def test_the_lake_dies_with_a_python_killed_by_sigkill(tmp_path):
    script = textwrap.dedent("""
        import sys, threading
        from lakebed import Lake
        lake = Lake(https=False).start()
        print(lake.pid, lake.root, flush=True)
        threading.Event().wait(120)
    """)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    pid, root = p.stdout.readline().split()
    pid = int(pid)
    assert not process_gone(pid)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    wait_for(lambda: process_gone(pid), timeout=10, what="lakebed exiting after its parent's SIGKILL")
    assert processes_mentioning(root) == []
    # The next lake started in that folder sweeps the dead one's leftovers.
    assert pathlib.Path(root).exists()
    from lakebed import _process
    assert pathlib.Path(root) in _process.sweep_stale_roots(str(tmp_path))
    assert not pathlib.Path(root).exists()


def test_checksums_of_seeded_bytes_are_the_catalogs(lk):
    c = lk.client()
    for f in c.list_files("demo", "lofar.L630262"):
        path = next(lk.rse_dir("SITE-A").rglob(f["name"]))
        data = path.read_bytes()
        assert len(data) == f["bytes"] and "%08x" % zlib.adler32(data) == f["adler32"]
