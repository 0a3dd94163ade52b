"""What a newcomer meets first: the page at `/`, and control-API answers that say exactly what they did."""
import pathlib

import requests

from conftest import control


def test_root_is_a_page_for_browsers_and_rucio_s_404_for_clients(manual_lake):
    lake = manual_lake
    page = requests.get(lake.url + "/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    for link in ('href="/dashboard/"', 'href="/lakebed/openapi.json"', 'href="/ping"', 'href="/iam/.well-known/openid-configuration"'):
        assert link in page.text, link
    # Every link on the page answers.
    assert requests.get(lake.url + "/lakebed/openapi.json", timeout=10).status_code == 200
    # An API client (requests sends Accept: */*, the rucio client too) gets Rucio's error format, as for any unknown path.
    api = requests.get(lake.url + "/", timeout=10)
    assert api.status_code == 404 and api.headers["ExceptionClass"] == "NotFound"


def test_inject_answers_with_what_the_injection_caused(manual_lake):
    lake = manual_lake
    # Some history first, so an answer that replays old events would show.
    for fault in ("site-b-down", "site-b-up", "slow-a-to-b"):
        control(lake, "POST", "inject", json={"fault": fault})
    before = control(lake, "GET", "events?after=0")[-1]["seq"]
    answer = control(lake, "POST", "inject", json={"fault": "site-b-down"})
    assert answer["injected"] is True
    events = answer["events"]
    assert events and all(e["seq"] > before for e in events), events
    assert events[0]["kind"] == "scenario.fault" and events[0]["id"] == "site-b-down", events
    assert not any(e.get("id") in ("site-b-up", "slow-a-to-b") for e in events), events
    control(lake, "POST", "inject", json={"fault": "site-b-up"})


def test_reset_puts_the_default_lake_s_clock_back(tmp_path_factory):
    from conftest import private_lake
    lake = private_lake(tmp_path_factory, "reset-lake", ["--time-scale", "0"])
    try:
        start = control(lake, "GET", "clock")["now"]
        control(lake, "POST", "clock/advance", json={"seconds": 3600})
        assert control(lake, "GET", "clock")["now"] != start
        answer = control(lake, "POST", "reset")
        # The README's table: back to the seed state, clock included — also on the default lake (`start: now`).
        assert answer["now"] == start, (answer, start)
        assert control(lake, "GET", "clock")["now"] == start
    finally:
        lake.stop()


def serve_in(cwd, *args):
    """`lakebed serve` started in `cwd` with no --data-dir; returns (process, url) once it is ready, or the finished process."""
    import subprocess
    import time
    from conftest import BIN, free_port
    port = free_port()
    p = subprocess.Popen([BIN, "serve", "--port", str(port), "--no-https", "--time-scale", "0", *args], cwd=cwd,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        lines.append(line)
        if "Lakebed ready at" in line:
            import threading
            threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
            return p, f"http://127.0.0.1:{port}", "".join(lines)
        if line == "" and p.poll() is not None:
            break
    p.wait(timeout=10)
    return p, None, "".join(lines)


def stop(p):
    if p.poll() is None:
        p.terminate()
        p.wait(timeout=10)


def test_serve_scenario_keeps_its_lake_in_one_folder_that_env_finds(tmp_path):
    import subprocess
    from conftest import BIN, ROOT
    scenario = str(ROOT / "scenarios" / "site-outage.yaml")
    p, url, out = serve_in(tmp_path, "--scenario", scenario)
    assert url, out
    try:
        folder = tmp_path / "lakebed-data" / "scenarios" / "site-outage"
        assert (folder / "catalog.sqlite").exists() and (folder / "rucio.cfg").exists()
        # `lakebed env` in the same folder, with no --data-dir, finds the running scenario's lake.
        env = subprocess.run([BIN, "env"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert env.returncode == 0, env.stderr
        assert f"LAKEBED_URL={url}\n" in env.stdout and str(folder.resolve()) in env.stdout
        assert requests.get(url + "/ping", timeout=10).status_code == 200
    finally:
        stop(p)
    # The next run finds the earlier one's lake: it starts over only when asked.
    p, url, out = serve_in(tmp_path, "--scenario", scenario)
    try:
        assert url is None and p.returncode != 0 and "--fresh" in out, out
    finally:
        stop(p)
    p, url, out = serve_in(tmp_path, "--scenario", scenario, "--fresh")
    try:
        assert url, out
    finally:
        stop(p)
    # Nothing was left in the temporary folder.
    import tempfile
    assert not list(pathlib.Path(tempfile.gettempdir()).glob("lakebed-site-outage-*"))
