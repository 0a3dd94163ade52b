"""The dashboard in a real headless Chromium, /metrics scraped, and the command line's help, env and banner."""
import json
import math
import os
import pathlib
import re
import subprocess
import time

import pytest
import requests

from browser import Browser, find_chromium
from conftest import BIN, ROOT, Lake, control, run_rucio, write_cfg

ARTIFACTS = pathlib.Path(os.environ.get("LAKEBED_ARTIFACTS", ROOT / "artifacts"))


@pytest.fixture(scope="module")
def dash_lake(tmp_path_factory):
    """A lake on a manual clock, for a dashboard whose updates the test causes."""
    lk = Lake(tmp_path_factory.mktemp("dash-lake"), args=["--time-scale", "0", "--seed", "7"]).start()
    cfgdir = tmp_path_factory.mktemp("dash-cfg")
    lk.cfg = write_cfg(cfgdir, lk.url)
    lk.env = {"TMPDIR": str(cfgdir)}
    yield lk
    lk.stop()


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if not binary:
        pytest.fail("no chromium: install Debian's chromium package (Scripts/test.sh does)")
    b = Browser(binary)
    yield b
    b.close()


def parse_time(t):
    """Seconds since the epoch of a Rucio or control-API time (`2026-…T…[.fff][Z]` or RFC 1123)."""
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime
    if "," in t:
        return parsedate_to_datetime(t).timestamp()
    return datetime.fromisoformat(t.replace("Z", "")).replace(tzinfo=timezone.utc).timestamp()


def token(lake):
    r = requests.get(lake.url + "/auth/userpass", headers={"X-Rucio-Account": "root", "X-Rucio-Username": "ddmlab",
                                                          "X-Rucio-Password": "secret"}, timeout=10)
    return r.headers["X-Rucio-Auth-Token"]


def cli(lake, *args):
    return run_rucio(*args, cfg=lake.cfg, env_extra=lake.env)


def rule_row(rule_id):
    return f"document.querySelector('#rules tr[data-rule=\"{rule_id}\"]')"


def available_per_rse(lake):
    """Files per RSE as `rucio replica list` sees them (the client's list_replicas: AVAILABLE replicas only)."""
    from rucio.client import Client
    rc = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                creds={"username": "ddmlab", "password": "secret"})
    counts = {}
    for scope in rc.list_scopes():
        dids = [{"scope": scope, "name": d} for d in rc.list_dids(scope, {"name": "*"}, did_type="file")]
        for rep in (rc.list_replicas(dids) if dids else []):
            for rse in rep["rses"]:
                counts[rse] = counts.get(rse, 0) + 1
    return counts


def dashboard_files(lake):
    state = requests.get(lake.url + "/dashboard/api/state", timeout=10).json()
    return {r["name"]: r for r in state["lake"]["rses"]}


def test_dashboard_live_in_chromium(dash_lake, browser, tmp_path):
    lake, b = dash_lake, browser
    b.navigate(lake.url + "/dashboard/")
    b.wait_for("document.body.dataset.ready === 'true' && document.body.dataset.stream === 'open'",
               message="dashboard did not load its state and open its event stream")

    # The seeded RSEs, up, with their usage.
    rses = b.eval("[...document.querySelectorAll('#rses .rse')].map(e => [e.dataset.rse, e.dataset.up])")
    assert rses == [["SITE-A", "true"], ["SITE-B", "true"], ["SITE-C", "true"]]
    assert "manual clock" in b.eval("document.getElementById('clock-mode').textContent")
    # The default lake is the embedded default scenario: its fault menu is offered to the presenter.
    assert not b.eval("document.getElementById('faults').classList.contains('hidden')")
    labels = b.eval("[...document.querySelectorAll('#fault-menu option')].map(o => o.value)")
    assert "site-b-down" in labels and "site-b-up" in labels
    # Injecting from the menu takes SITE-B down; the RSE card says so; injecting "comes back" heals it.
    b.eval("document.getElementById('fault-menu').value = 'site-b-down'")
    b.click("#inject")
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-B\"]').dataset.up === 'false'",
               message="SITE-B did not show as down after injecting the fault")
    b.eval("document.getElementById('fault-menu').value = 'site-b-up'")
    b.click("#inject")
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-B\"]').dataset.up === 'true'",
               message="SITE-B did not come back after injecting the fault")

    assert "4 files" in b.eval("document.querySelector('#rses .rse[data-rse=\"SITE-A\"] .meta').textContent")
    # An upload through the real CLI shows up as a file on SITE-A.
    f = tmp_path / "shown.dat"
    f.write_bytes(os.urandom(200_000))
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    # (The default lake's demo dataset already has 4 files on SITE-A.)
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-A\"] .meta').textContent.includes('5 files')")

    # A slow link, so the transfer can be watched moving: 200 kB at 1 kB/s takes 200 lake seconds.
    control(lake, "PUT", "links/SITE-A/SITE-B", json={"bandwidth": 1000, "latency": 0})
    _, out, _ = cli(lake, "rule", "add", "--copies", "1", "--rses", "SITE-B", "user.root:shown.dat")
    rule_id = re.search(r"[0-9a-f]{32}", out).group(0)
    b.wait_for(f"{rule_row(rule_id)} && {rule_row(rule_id)}.dataset.state === 'REPLICATING'",
               message="the rule added with the rucio CLI did not appear as REPLICATING")
    b.wait_for("[...document.querySelectorAll('#events li .k')].some(e => e.textContent === 'rule.added')")
    # The conveyor has handed the file to FTS before the clock moves (the daemons tick on real time).
    b.wait_for("[...document.querySelectorAll('#events li .k')].some(e => e.textContent === 'transfer.started')")

    control(lake, "POST", "clock/advance", json={"seconds": 100})
    # Half way: one file on the SITE-A -> SITE-B link, its dot and its progress bar near 50%.
    width = b.wait_for("(() => { const s = document.querySelector('#transfers tbody tr[data-file] .progress span');"
                       " return s && parseFloat(s.style.width) > 0 ? s.style.width : null })()")
    assert 40 <= float(width.rstrip("%")) <= 60, width
    assert b.eval("document.querySelectorAll('#network .dot').length") == 1
    # The file is on its way, not on SITE-B: the dashboard counts what `rucio replica list` lists, apart from it.
    shown = dashboard_files(lake)
    listed = available_per_rse(lake)
    assert {k: v["files"] for k, v in shown.items()} == {k: listed.get(k, 0) for k in shown}, (shown, listed)
    assert shown["SITE-B"]["incoming_files"] == 1
    _, out, _ = cli(lake, "replica", "list", "file", "user.root:shown.dat")
    assert "SITE-B" not in out and "SITE-A" in out
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-B\"] .meta .incoming') !== null")
    assert "1 arriving" in b.eval("document.querySelector('#rses .rse[data-rse=\"SITE-B\"] .meta').textContent")
    # A REPLICATING rule's lock bar is empty: nothing has arrived yet (no blue, no green).
    bar = b.eval(f"(() => {{ const r = {rule_row(rule_id)}; const st = (c) => getComputedStyle(r.querySelector('.bar .' + c));"
                 " return [parseFloat(r.querySelector('.bar .ok').style.width), st('rep').backgroundColor] })()")
    assert bar[0] == 0 and bar[1] in ("rgba(0, 0, 0, 0)", "transparent"), bar
    assert b.eval("document.querySelector('#network line[data-link=\"SITE-A>SITE-B\"]').classList.contains('busy')")
    b.screenshot(ARTIFACTS / "dashboard-transfer.png")

    control(lake, "POST", "clock/advance", json={"seconds": 200})
    b.wait_for(f"{rule_row(rule_id)}.dataset.state === 'OK'", message="the rule did not turn OK on the dashboard")
    b.wait_for("document.querySelectorAll('#network .dot').length === 0")
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-B\"] .meta .incoming') === null")
    assert {k: v["files"] for k, v in dashboard_files(lake).items()} == {k: available_per_rse(lake).get(k, 0) for k in ("SITE-A", "SITE-B", "SITE-C")}

    # Clicking the rule shows its locks and its transfer history.
    b.eval(f"{rule_row(rule_id)}.click()")
    b.wait_for(f"document.getElementById('panel').classList.contains('open') && document.getElementById('panel').dataset.rule === '{rule_id}'")
    b.wait_for("document.getElementById('panel-events') && document.getElementById('panel-events').textContent.includes('transfer.finished')")
    panel = b.eval("document.getElementById('panel-body').innerText")
    assert "SITE-B" in panel and "user.root:shown.dat" in panel and "DONE" in panel
    # No literal "null" where a rule has no error; a person counts tries from 1.
    assert "null" not in panel, panel
    tries = b.eval("[...document.querySelectorAll('#panel-body table')[1].querySelectorAll('tbody tr')].map(tr => tr.children[3].textContent)")
    assert tries == ["1"], tries
    b.click("#panel-close")

    # Presenter controls: speed, pause/resume, back to the manual clock.
    b.eval("(() => { const s = document.getElementById('scale'); s.value = '60'; s.dispatchEvent(new Event('change')); })()")
    b.wait_for("document.getElementById('clock-mode').textContent.includes('60')")
    assert control(lake, "GET", "clock")["scale"] == 60
    b.click("#pause")
    b.wait_for("document.getElementById('clock-mode').textContent.includes('paused')")
    assert control(lake, "GET", "clock")["paused"] is True
    b.click("#pause")
    b.wait_for("!document.getElementById('clock-mode').textContent.includes('paused')")
    assert control(lake, "GET", "clock")["paused"] is False
    b.eval("(() => { const s = document.getElementById('scale'); s.value = '0'; s.dispatchEvent(new Event('change')); })()")
    b.wait_for("document.getElementById('clock-mode').textContent.includes('manual')")
    assert control(lake, "GET", "clock")["manual"] is True

    # Breaking a site from the dashboard takes its links down; restoring brings them back.
    b.click('#rses .rse[data-rse="SITE-C"] button')
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-C\"] .badge').textContent === 'CUT OFF'")
    links = {(l["source"], l["destination"]): l for l in control(lake, "GET", "links")["links"]}
    assert links[("SITE-A", "SITE-C")]["down"] and links[("SITE-C", "SITE-B")]["down"]
    b.wait_for("[...document.querySelectorAll('#events li .k')].some(e => e.textContent === 'dashboard.site_cut_off')",
               message="the event log does not say what the card says (CUT OFF)")
    b.click('#rses .rse[data-rse="SITE-C"] button')
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-C\"] .badge').textContent === 'UP'")
    assert not any(l["down"] for l in control(lake, "GET", "links")["links"])
    assert b.eval("[...document.querySelectorAll('#events li .k')].some(e => e.textContent === 'dashboard.site_reconnected')")

    # Rucio's own availability flags show as DOWN.
    from rucio.client import Client
    rc = Client(rucio_host=lake.url, auth_host=lake.url, account="root", auth_type="userpass",
                creds={"username": "ddmlab", "password": "secret"})
    rc.update_rse("SITE-B", {"availability_write": False})
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-B\"]').dataset.up === 'false'")
    assert "no write" in b.eval("document.querySelector('#rses .rse[data-rse=\"SITE-B\"]').textContent")
    rc.update_rse("SITE-B", {"availability_write": True})
    b.wait_for("document.querySelector('#rses .rse[data-rse=\"SITE-B\"]').dataset.up === 'true'")

    shot = b.screenshot(ARTIFACTS / "dashboard.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert b.console_errors() == []


def test_rule_panel_shows_stuck_rule(dash_lake, browser, tmp_path):
    lake, b = dash_lake, browser
    f = tmp_path / "far.dat"
    f.write_bytes(os.urandom(4096))
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    control(lake, "PUT", "links/SITE-A/SITE-C", json={"down": True, "failure_reason": "TRANSFER [110] Connection timed out"})
    _, out, _ = cli(lake, "rule", "add", "--copies", "1", "--rses", "SITE-C", "user.root:far.dat")
    rule_id = re.search(r"[0-9a-f]{32}", out).group(0)
    control(lake, "POST", "clock/advance", json={"seconds": 400})
    b.wait_for(f"{rule_row(rule_id)} && {rule_row(rule_id)}.dataset.state === 'STUCK'")
    assert "Connection timed out" in b.eval(f"{rule_row(rule_id)}.textContent")
    assert b.eval(f"parseFloat({rule_row(rule_id)}.querySelector('.bar .stuck').style.width)") == 100
    # A stuck lock is not a file on SITE-C: the dashboard agrees with `rucio replica list`, and says it is stuck.
    shown = dashboard_files(lake)
    assert shown["SITE-C"]["files"] == available_per_rse(lake).get("SITE-C", 0) and shown["SITE-C"]["stuck_files"] == 1
    assert shown["SITE-C"]["incoming_files"] == 0, shown["SITE-C"]  # waiting for the repairer, not on its way
    _, out, _ = cli(lake, "replica", "list", "file", "user.root:far.dat")
    assert "SITE-C" not in out

    # The judge-repairer's next try, on the lake clock, in `rucio rule show` and on the dashboard; each attempt
    # that fails makes the next wait longer (10 lake minutes, then 20, …) instead of flipping every 10 minutes.
    def expected_retry(attempt, wait):
        rule = requests.get(f"{lake.url}/rules/{rule_id}", headers={"X-Rucio-Auth-Token": token(lake)}, timeout=10).json()
        now = control(lake, "GET", "clock")["now"]
        left = parse_time(rule["stuck_at"]) + wait - parse_time(now)
        return f"retry {attempt} in {math.ceil(left / 60)} min"
    first = expected_retry(1, 600)
    _, out, _ = cli(lake, "rule", "show", rule_id)
    assert re.search(r"State:\s+STUCK", out) and first in out and "Connection timed out" in out, out
    b.wait_for(f"{rule_row(rule_id)}.querySelector('td.state').textContent === 'STUCK · {first}'",
               message=f"the dashboard does not say 'STUCK · {first}'")
    control(lake, "POST", "clock/advance", json={"seconds": 700})
    b.wait_for(f"{rule_row(rule_id)}.querySelector('td.state').textContent.startsWith('STUCK · retry 2 in ')",
               message="the rule did not go STUCK again after the repairer's first try")
    second = expected_retry(2, 1200)
    assert int(re.search(r"in (\d+) min", second).group(1)) > 10, second
    b.wait_for(f"{rule_row(rule_id)}.querySelector('td.state').textContent === 'STUCK · {second}'")
    b.screenshot(ARTIFACTS / "dashboard-stuck.png")
    _, out, _ = cli(lake, "rule", "show", rule_id)
    assert second in out, out
    b.eval(f"{rule_row(rule_id)}.click()")
    b.wait_for("document.getElementById('panel-events') && document.getElementById('panel-events').textContent.includes('transfer.failed')")
    assert "FAILED" in b.eval("document.getElementById('panel-body').innerText")

    # The link comes back; the repairer retries and the dashboard sees the rule recover.
    control(lake, "PUT", "links/SITE-A/SITE-C", json={"down": False})
    control(lake, "POST", "clock/advance", json={"seconds": 1500})
    b.wait_for(f"{rule_row(rule_id)}.dataset.state === 'OK'", message="the stuck rule did not recover on the dashboard")
    b.click("#panel-close")
    assert b.console_errors() == []


# Pairs of boxes (from getBoundingClientRect) that overlap, and boxes that stick out of their container.
LAYOUT_PROBLEMS = """(() => {
  const box = (e) => e.getBoundingClientRect();
  const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const out = [];
  for (const card of document.querySelectorAll('#rses .rse')) {
    const name = card.querySelector('.rse-name'), badge = card.querySelector('.name .badge');
    if (meet(box(name), box(badge))) out.push('card ' + card.dataset.rse + ': name under its badge');
    if (box(badge).right > box(card).right + 0.5) out.push('card ' + card.dataset.rse + ': badge outside the card');
  }
  const svgBox = box(document.getElementById('network'));
  const labels = [...document.querySelectorAll('#network .node text.label')];
  labels.forEach((a, i) => {
    const ba = box(a);
    if (ba.left < svgBox.left - 0.5 || ba.right > svgBox.right + 0.5 || ba.top < svgBox.top - 0.5 || ba.bottom > svgBox.bottom + 0.5)
      out.push('label ' + a.textContent + ' outside the network');
    labels.slice(i + 1).forEach((b) => { if (meet(ba, box(b))) out.push('labels ' + a.textContent + ' and ' + b.textContent + ' overlap'); });
  });
  return out;
})()"""


def test_dashboard_layout_on_a_fresh_workshop_lake(browser, tmp_path):
    """workshop-demo (six RSEs, NOTEBOOK-DISK the longest name) at 1024 and 1400 px: links drawn before any transfer,
    no label over another, a one-line header at 1400 px, dates in the event log; screenshots in artifacts/."""
    lk = Lake(tmp_path / "data", args=["--scenario", str(ROOT / "scenarios" / "workshop-demo.yaml"), "--time-scale", "0"]).start()
    b = browser
    try:
        b.navigate(lk.url + "/dashboard/")
        b.wait_for("document.body.dataset.ready === 'true' && document.body.dataset.stream === 'open'")
        state = requests.get(lk.url + "/dashboard/api/state", timeout=10).json()["lake"]
        pairs = {(l["source"], l["destination"]) for l in state["links"] if "distance" in l}
        assert len(pairs) >= len(state["rses"]) - 1, state["links"]
        drawn = set(tuple(x.split(">")) for x in b.eval("[...document.querySelectorAll('#network line.link')].map(l => l.dataset.link)"))
        assert pairs <= drawn, (pairs, drawn)
        for width in (1024, 1400):
            b.resize(width)
            b.wait_for(f"window.innerWidth === {width}")
            time.sleep(0.3)  # a layout pass after the resize (real time only; the lake's clock is manual)
            assert b.eval(LAYOUT_PROBLEMS) == [], width
            b.screenshot(ARTIFACTS / f"dashboard-workshop-{width}.png")
            if width == 1400:
                height = b.eval("document.querySelector('header').getBoundingClientRect().height")
                assert height < 60, f"the header wraps at 1400 px ({height}px high)"
        # Event log times carry the date (a clock at 3600x crosses midnight every 24 s).
        times = b.eval("[...document.querySelectorAll('#events li .t')].map(e => e.textContent.trim())")
        assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in times), times[:5]
        assert b.console_errors() == []
    finally:
        b.resize(1400)
        lk.stop()


def test_dashboard_api_documents(dash_lake):
    # The seeding event counts the RSEs the lake has (the default lake's three come from keep_default_lake).
    seeded = [e for e in control(dash_lake, "GET", "events?after=0") if e["kind"] == "scenario.seeded"]
    assert seeded and seeded[0]["rses"] == "3", seeded
    r = requests.get(dash_lake.url + "/dashboard/api/state", timeout=10)
    assert r.status_code == 200
    state = r.json()
    assert [x["name"] for x in state["lake"]["rses"]] == ["SITE-A", "SITE-B", "SITE-C"]
    assert set(state["rules"]["counts"]) >= {"OK", "REPLICATING", "STUCK"}
    scenario = requests.get(dash_lake.url + "/dashboard/api/scenario", timeout=10).json()["scenario"]
    assert scenario["name"] == "default" and "site-c-unreachable" in {f["id"] for f in scenario["faults"]}
    r = requests.get(dash_lake.url + "/dashboard/api/rules/" + "0" * 32, timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "RuleNotFound"
    # The event stream starts with the lake and the rules.
    with requests.get(dash_lake.url + "/dashboard/api/stream", stream=True, timeout=10) as s:
        assert s.headers["Content-Type"].startswith("text/event-stream")
        seen = set()
        for line in s.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                seen.add(line[7:])
            if {"lake", "rules"} <= seen:
                break
    page = requests.get(dash_lake.url + "/dashboard", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    # Self-contained: no script, style or font from anywhere else.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset(labels)): value}, checking every line is well formed."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)', line)
        assert m, f"bad sample line: {line!r}"
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples, types


def test_metrics_scrape(dash_lake):
    lake = dash_lake
    requests.get(lake.url + "/ping", timeout=10)
    requests.get(lake.url + "/dids/user.root/nothing-here", timeout=10)
    r = requests.get(lake.url + "/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples, types = parse_metrics(r.text)
    get = lambda name, **labels: samples.get((name, frozenset(labels.items())))

    assert types["lakebed_http_requests_total"] == "counter"
    assert types["lakebed_http_request_duration_seconds"] == "histogram"
    assert get("lakebed_http_requests_total", endpoint="/ping", method="GET", status="200") >= 1
    # Label by route pattern, not raw path: cardinality stays bounded.
    assert any(n == "lakebed_http_requests_total" and ("endpoint", "/dids/:scope/:name") in labels for n, labels in samples)
    assert not any("nothing-here" in v for (_, labels) in samples for _, v in labels)
    inf = get("lakebed_http_request_duration_seconds_bucket", endpoint="/ping", method="GET", le="+Inf")
    assert inf == get("lakebed_http_request_duration_seconds_count", endpoint="/ping", method="GET") >= 1
    assert get("lakebed_http_request_duration_seconds_bucket", endpoint="/ping", method="GET", le="10") == inf

    # The earlier tests moved a file A -> B and failed three times A -> C.
    assert get("lakebed_transfers_total", source="SITE-A", destination="SITE-B", state="finished") >= 1
    assert get("lakebed_transfer_bytes_total", source="SITE-A", destination="SITE-B") >= 200_000
    assert get("lakebed_transfers_total", source="SITE-A", destination="SITE-C", state="failed") >= 3
    assert get("lakebed_transfers", source="SITE-A", destination="SITE-B", state="active") == 0
    assert get("lakebed_rules", state="OK") >= 2
    assert get("lakebed_rules", state="STUCK") == 0
    assert get("lakebed_rse_files", rse="SITE-A") >= 2
    assert get("lakebed_rse_available", rse="SITE-A", operation="write") == 1
    assert get("lakebed_clock_scale") == 0
    assert types["lakebed_transfers_total"] == "counter" and types["lakebed_rules"] == "gauge"
    # The scrape itself is counted on the next one.
    samples, _ = parse_metrics(requests.get(lake.url + "/metrics", timeout=10).text)
    assert samples[("lakebed_http_requests_total", frozenset({"endpoint": "/metrics", "method": "GET", "status": "200"}.items()))] >= 1


def lakebed(*args, timeout=60):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


def test_help_is_complete_for_every_command():
    top = lakebed("--help")
    assert top.returncode == 0
    commands = re.findall(r"^  ([a-z][a-z-]+)\s", top.stdout.split("SUBCOMMANDS:")[1], re.M)
    assert {"serve", "simulate", "scenario", "env", "token", "rotate-keys", "cert", "check"} <= set(commands)
    for sub in ("validate", "list"):
        p = lakebed("scenario", sub, "--help")
        assert p.returncode == 0 and re.search(r"^OVERVIEW: \S", p.stdout, re.M), f"scenario {sub} has no abstract"
    for cmd in commands:
        p = lakebed(cmd, "--help")
        assert p.returncode == 0, p.stderr
        assert re.search(r"^OVERVIEW: \S", p.stdout, re.M), f"{cmd} has no abstract"
        # Every option line has a description (an option alone on its line is followed by an indented one).
        lines = p.stdout.split("OPTIONS:")[1].splitlines() if "OPTIONS:" in p.stdout else []
        for i, line in enumerate(lines):
            m = re.match(r"^  (-\S.*?)(\s{2,}(.*))?$", line)
            if not m:
                continue
            described = m.group(3) or (i + 1 < len(lines) and re.match(r"^\s{8,}\S", lines[i + 1]))
            assert described, f"lakebed {cmd}: option without help: {line.strip()}"
    serve = lakebed("serve", "--help").stdout
    for opt in ("--data-dir", "--port", "--host", "--time-scale", "--seed", "--log-level", "--log-format"):
        assert opt in serve
    bad = lakebed("serve", "--log-level", "chatty")
    assert bad.returncode != 0 and "trace" in bad.stderr and "critical" in bad.stderr


def wait_output(lake, needle, timeout=20):
    """What the server printed, once it contains `needle` (read by conftest's reader thread)."""
    deadline = time.monotonic() + timeout
    while needle not in "".join(lake.output):
        assert time.monotonic() < deadline, f"server never printed {needle!r}"
        time.sleep(0.05)
    return "".join(lake.output)


def test_serve_banner_env_and_structured_logs(tmp_path):
    lk = Lake(tmp_path / "data", args=["--log-level", "debug", "--log-format", "logfmt"]).start()
    try:
        requests.get(lk.url + "/ping", timeout=10)
        banner = wait_output(lk, "export LAKEBED_DATA_DIR=")
        for what in ("Rucio API", "auth", "IAM issuer", "FTS3 REST", "storage", "dashboard", "metrics", "password secret"):
            assert what in banner, what
        assert f"{lk.url}/dashboard/" in banner and f"{lk.url}/iam/" in banner and f"{lk.url}/fts" in banner
        assert f"rucio_host = {lk.url}" in banner and "export RUCIO_CONFIG=" in banner

        env = lakebed("env", "--shell", "--data-dir", str(lk.data_dir))
        assert env.returncode == 0, env.stderr
        exports = dict(re.findall(r"^export (\w+)='([^']*)'$", env.stdout, re.M))
        assert exports["LAKEBED_URL"] == lk.url and exports["LAKEBED_DASHBOARD"] == lk.url + "/dashboard/"
        cfg = pathlib.Path(exports["RUCIO_CONFIG"])
        assert f"rucio_host = {lk.url}" in cfg.read_text()
        # The printed environment is enough for the real CLI.
        code, out, err = run_rucio("whoami", env_extra={**exports, "TMPDIR": str(tmp_path)}, cfg=exports["RUCIO_CONFIG"])
        assert "root" in out
        # Only where the lake is: the client ranks RUCIO_ACCOUNT / RUCIO_AUTH_TYPE above any rucio.cfg, so exporting
        # them would break the README's OIDC recipe in this shell ("Option 'username' cannot be found").
        assert "RUCIO_ACCOUNT" not in exports and "RUCIO_AUTH_TYPE" not in exports
        token = tmp_path / "token"
        assert lakebed("token", "--data-dir", str(lk.data_dir), "--output", str(token)).returncode == 0
        oidc = tmp_path / "oidc.cfg"
        oidc.write_text(f"[client]\nrucio_host = {lk.url}\nauth_host = {lk.url}\nauth_type = oidc\naccount = root\n")
        code, out, err = run_rucio("whoami", cfg=oidc, env_extra={**exports, "TMPDIR": str(tmp_path / "oidc-cache"),
                                                                   "BEARER_TOKEN_FILE": str(token)})
        assert "root" in out
        plain = lakebed("env", "--data-dir", str(lk.data_dir)).stdout
        assert f"LAKEBED_URL={lk.url}\n" in plain
        missing = lakebed("env", "--data-dir", str(tmp_path / "nowhere"))
        assert missing.returncode != 0 and "lakebed serve" in missing.stderr
        wait_output(lk, "endpoint=/ping")
    finally:
        lk.stop()
    logs = [l for l in lk.output if l.startswith("ts=")]
    request_lines = [l for l in logs if 'msg=request' in l and "endpoint=/ping" in l]
    assert request_lines, "".join(lk.output)[-2000:]
    assert re.search(r"level=debug logger=lakebed msg=request .*method=GET .*status=200", request_lines[0])
