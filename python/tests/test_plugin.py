"""The pytest plugin, driven as a user's suite would be: inner pytest runs in subprocesses (pytester)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import process_gone, processes_mentioning, wait_for


def run(pytester, *args, timeout=600):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=timeout)


def test_each_test_starts_from_the_seeded_lake(pytester, inner_env):
    pytester.makepyfile(test_isolation="""
        import os
        from rucio.client.uploadclient import UploadClient

        def test_1_uploads(rucio_client, lake, tmp_path):
            f = tmp_path / "mine.dat"
            f.write_bytes(os.urandom(1000))
            UploadClient(_client=rucio_client, logger=None).upload(
                [{"path": str(f), "rse": "SITE-A", "did_scope": "user.root"}])
            rucio_client.add_scope("root", "made.by.test1")
            lake.rse_down("SITE-C")
            lake.set_link("SITE-A", "SITE-B", down=True)
            lake.set_clock(scale=5)
            assert rucio_client.get_did("user.root", "mine.dat")["bytes"] == 1000

        def test_2_sees_none_of_it(rucio_client, lake):
            assert list(rucio_client.list_dids("user.root", {"name": "*"})) == []
            assert "made.by.test1" not in rucio_client.list_scopes()
            assert rucio_client.get_rse("SITE-C")["availability_write"]
            assert not any(l["down"] for l in lake.links()["links"])
            assert lake.clock()["manual"]
            assert not list(lake.rse_dir("SITE-A").rglob("mine.dat"))
            assert [e["kind"] for e in lake.events()] == ["scenario.reset"]
    """)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2)


def test_one_lake_per_session_reset_between_tests(pytester, inner_env):
    pytester.makepyfile(test_same="""
        PIDS = []
        def test_a(lake):
            PIDS.append(lake.pid)
        def test_b(lake):
            PIDS.append(lake.pid)
        def test_c(lake):
            assert PIDS[0] == PIDS[1] == lake.pid
    """)
    run(pytester).assert_outcomes(passed=3)


def test_xdist_gives_each_worker_its_own_lake(pytester, inner_env):
    pytest.importorskip("xdist")
    out = pytester.path / "seen"
    out.mkdir()
    body = "\n".join(f"""
def test_{i}(lake, rucio_client):
    rucio_client.add_scope("root", "scope.{i}")
    scopes = [s for s in rucio_client.list_scopes() if s.startswith("scope.")]
    assert scopes == ["scope.{i}"]          # nothing from other tests, on this worker or the other
    (OUT / "{i}.json").write_text(json.dumps({{"worker": os.environ["PYTEST_XDIST_WORKER"], "url": lake.url, "pid": lake.pid}}))
""" for i in range(8))
    pytester.makepyfile(test_workers=f"import json, os, pathlib\nOUT = pathlib.Path({str(out)!r})\n" + body)
    result = run(pytester, "-n", "2")
    result.assert_outcomes(passed=8)
    seen = [json.loads(p.read_text()) for p in out.iterdir()]
    by_worker = {}
    for s in seen:
        by_worker.setdefault(s["worker"], set()).add((s["url"], s["pid"]))
    assert len(by_worker) == 2, by_worker
    assert all(len(v) == 1 for v in by_worker.values()), by_worker         # one lake per worker
    assert len({next(iter(v)) for v in by_worker.values()}) == 2             # and not the same one
    for url, pid in set().union(*by_worker.values()):
        assert process_gone(pid)                                             # all stopped at the end


def test_marker_picks_a_scenario_and_factory_makes_more_lakes(pytester, inner_env):
    pytester.makepyfile(test_marks="""
        import pytest

        @pytest.mark.lakebed(scenario="site-outage")
        def test_scenario(lake, rucio_client):
            assert {r["rse"] for r in rucio_client.list_rses()} == {"CERN-DISK", "NIKHEF-DISK", "BNL-DISK"}
            assert not rucio_client.get_rse("NIKHEF-DISK")["availability_write"]   # the timeline's t=0 event

        @pytest.mark.lakebed(scenario="site-outage")
        def test_scenario_again(lake, rucio_client):
            rucio_client.add_scope("root", "again")

        def test_default(lake, rucio_client):
            assert "SITE-A" in {r["rse"] for r in rucio_client.list_rses()}

        def test_factory(lake_factory, lake):
            other = lake_factory("tape-staging", seed=5)
            assert other.url != lake.url
            assert other.client().whoami()["account"] == "root"
            assert "again" not in other.client().list_scopes()

        @pytest.mark.lakebed(colour="blue")
        def test_bad_marker(lake):
            pass
    """)
    result = run(pytester, "-v")
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*unknown argument 'colour'*"])


def test_keep_prints_where_a_failing_tests_lake_is(pytester, inner_env):
    pytester.makepyfile(test_fails="""
        import os
        from rucio.client.uploadclient import UploadClient

        def test_fails_after_upload(rucio_client, tmp_path):
            f = tmp_path / "evidence.dat"
            f.write_bytes(b"look at me" * 100)
            UploadClient(_client=rucio_client, logger=None).upload(
                [{"path": str(f), "rse": "SITE-B", "did_scope": "user.root"}])
            assert False, "on purpose"

        def test_passes_after(rucio_client):
            assert list(rucio_client.list_dids("user.root", {"name": "*"})) == []
    """)
    result = run(pytester, "--lakebed-keep")
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    line = next(l for l in text.splitlines() if "kept the data folder" in l)
    kept = __import__("pathlib").Path(line.rsplit(" at ", 1)[1].strip())
    assert (kept / "catalog.sqlite").exists()
    [f] = list((kept / "rses" / "SITE-B").rglob("evidence.dat"))
    assert f.read_bytes() == b"look at me" * 100
    assert "scenario.seeded" in (kept / "events.txt").read_text()
    import sqlite3
    with sqlite3.connect(str(kept / "catalog.sqlite")) as db:
        assert ("evidence.dat",) in db.execute("SELECT name FROM dids WHERE scope = 'user.root'").fetchall()

    # Without the option nothing is kept.
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    assert "kept the data folder" not in result.stdout.str()


def test_lakebed_bin_option_is_used(pytester, inner_env, tmp_path):
    fake = tmp_path / "not-lakebed"
    fake.write_text("#!/bin/sh\necho 'this is not lakebed' >&2\nexit 3\n")
    fake.chmod(0o755)
    pytester.makepyfile(test_bin="""
        def test_needs_a_lake(lake):
            pass
    """)
    result = run(pytester, "--lakebed-bin", str(fake))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*exited with status 3*not-lakebed serve*", "*this is not lakebed*"])


@pytest.mark.parametrize("workers", [None, "2"])
def test_kill_9_of_pytest_leaves_no_lakebed_behind(pytester, inner_env, workers):
    if workers:
        pytest.importorskip("xdist")
    marker = pytester.path / "started"
    marker.mkdir()
    pytester.makepyfile(test_hang=f"""
        import os, pathlib, threading

        def _hang(lake, i):
            done = pathlib.Path({str(marker)!r}) / f"{{os.getpid()}}-{{i}}"
            tmp = done.with_suffix(".tmp")
            tmp.write_text(str(lake.pid))
            os.replace(tmp, done)          # whole, or not there: the outer test reads it at once
            threading.Event().wait(120)     # until pytest is killed

        def test_a(lake):
            _hang(lake, "a")

        def test_b(lake):
            _hang(lake, "b")
    """)
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"] + (["-n", workers] if workers else [])
    p = subprocess.Popen(args, cwd=pytester.path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env={**os.environ, "TMPDIR": str(inner_env)})
    expected = 2 if workers else 1
    def started():
        return [f for f in marker.iterdir() if f.suffix != ".tmp"]
    wait_for(lambda: len(started()) >= expected, timeout=120, what="the inner tests to start")
    pids = [int(f.read_text()) for f in started()]
    assert all(not process_gone(pid) for pid in pids)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    wait_for(lambda: all(process_gone(pid) for pid in pids), timeout=30, what="every lakebed to exit")
    # Nor any other lakebed on the inner run's folders.
    assert [cmd for _, cmd in processes_mentioning(str(inner_env)) if "serve" in cmd] == []
