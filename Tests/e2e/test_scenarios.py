"""Scenarios: every shipped scenario through `lakebed simulate`, determinism, validation errors, and a live
failure timeline with the real rucio client."""
import json
import pathlib
import re
import subprocess

import pytest

from conftest import BIN, ROOT, control, private_lake, run_rucio

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def lakebed(*args, timeout=900):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_meets_its_expectations(path):
    p = lakebed("simulate", "--json", str(path))
    assert p.returncode == 0, p.stdout + p.stderr
    report = json.loads(p.stdout)
    assert report["passed"] is True
    assert report["expectations"], "a shipped scenario checks something"
    assert all(e["passed"] for e in report["expectations"])
    assert report["rules"], "a shipped scenario replicates something"


def test_at_least_six_scenarios_including_a_large_one():
    names = {p.stem for p in SCENARIOS}
    assert {"workshop-demo", "site-outage", "flaky-transatlantic", "tape-staging", "token-expiry", "large-simulation"} <= names
    text = (ROOT / "scenarios" / "large-simulation.yaml").read_text()
    assert sum(int(c) for c in re.findall(r"count: (\d+)", text)) >= 100_000
    assert len(re.findall(r"- name: [A-Z0-9-]+", text)) >= 10


def test_same_seed_same_event_log_byte_for_byte(tmp_path):
    scenario = str(ROOT / "scenarios" / "flaky-transatlantic.yaml")
    logs = []
    for i in range(2):
        out = tmp_path / f"events{i}.log"
        p = lakebed("simulate", "--quiet", "--events", str(out), scenario)
        assert p.returncode == 0, p.stdout + p.stderr
        logs.append(out.read_bytes())
    assert logs[0] == logs[1]
    assert b"transfer.failed" in logs[0] and b"rule.ok" in logs[0]
    other = tmp_path / "other.log"
    p = lakebed("simulate", "--quiet", "--seed", "999", "--events", str(other), scenario)
    assert other.read_bytes() != logs[0], "another seed gives other failures"


def test_failed_expectation_exits_1_and_says_which(tmp_path):
    bad = tmp_path / "impossible.yaml"
    bad.write_text((ROOT / "scenarios" / "site-outage.yaml").read_text().replace(
        "{at: 30m, rule: to-bnl, state: OK}", "{at: 30m, rule: to-bnl, state: STUCK}"))
    p = lakebed("simulate", str(bad))
    assert p.returncode == 1
    assert re.search(r"FAIL\s+rule to-bnl is STUCK at t=30m — OK", p.stdout)


@pytest.mark.parametrize("mistake,expected", [
    ("name: x\nrses:\n  - name: SITE-X\n    atributes: {tier: 1}\n", r"4:5: rses\[0\]: unknown key `atributes` \(did you mean `attributes`\?\)"),
    ("name: x\ntimeline:\n  - at: ten minutes\n    event: rse_down\n    rse: A\n", r"3:9: timeline\[0\]\.at: `ten minutes` is not a duration"),
    ("name: x\ntimeline:\n  - at: 5m\n    event: rse_dwn\n", r"4:12: timeline\[0\]\.event: unknown event `rse_dwn` \(did you mean `rse_down`\?\)"),
    ("name: x\nscopes:\n  - {name: s, account: root}\nfiles:\n  - {scope: s, name: f, rse: NOWHERE}\n", r"5:\d+: files: unknown RSE `NOWHERE`"),
    ("name: x\nexpectations:\n  - {at: 1h, rule: ghost, state: OK}\n", r"3:\d+: expectations: no rule has the id `ghost`"),
    ("name: x\nrses: [\n", r":\d+:\d+: YAML syntax"),
    ("name: x\ntopology:\n  links:\n    - {from: A, to: B, failure_rate: 2}\n", r"failure_rate: must be between 0 and 1"),
    ("name: x\nfiles:\n  - {scope: s, name: f, count: 3, rse: A}\n", r"needs `\{i\}`"),
])
def test_bad_scenarios_are_rejected_with_the_line(tmp_path, mistake, expected):
    f = tmp_path / "bad.yaml"
    f.write_text(mistake)
    p = lakebed("scenario", "validate", str(f))
    assert p.returncode == 1
    pattern = (re.escape(str(f)) + ":" + expected) if expected[0].isdigit() else expected
    assert re.search(pattern, p.stdout), p.stdout
    p = lakebed("simulate", str(f))
    assert p.returncode == 2 and "has mistakes" in p.stderr


def test_shipped_scenarios_validate():
    p = lakebed("scenario", "validate", *map(str, SCENARIOS))
    assert p.returncode == 0, p.stdout
    assert p.stdout.count(": OK") == len(SCENARIOS)


@pytest.fixture(scope="module")
def outage_lake(tmp_path_factory):
    """The site-outage scenario, live on a manual clock."""
    lk = private_lake(tmp_path_factory, "outage", ["--scenario", str(ROOT / "scenarios" / "site-outage.yaml"), "--time-scale", "0"])
    yield lk
    lk.stop()


def test_live_outage_upload_fails_then_rule_recovers(outage_lake, make_file):
    lake, c = outage_lake, outage_lake.client
    info = control(lake, "GET", "scenario")
    assert info["name"] == "site-outage" and {f["id"] for f in info["faults"]} == {"bnl-down", "bnl-up"}
    rules = info["rules"]
    # t=0: NIKHEF-DISK refuses writes, as the timeline says. The real CLI's upload fails with Rucio's error.
    control(lake, "POST", "clock/advance", json={"seconds": 1})
    assert c.get_rse("NIKHEF-DISK")["availability_write"] is False
    f = make_file("blocked.dat", 2048)
    rc, out, err = run_rucio("upload", "--rse", "NIKHEF-DISK", "--scope", "data26", str(f), cfg=lake.cfg, env_extra=lake.env, check=False)
    # rucio-clients 41.5.1 prints RSEWriteBlocked's message and still exits 0: the message is what a user sees.
    assert "RSE excluded; not available for writing" in (out + err)
    from rucio.common.exception import DataIdentifierNotFound
    with pytest.raises(DataIdentifierNotFound):
        c.get_did("data26", "blocked.dat")
    # The scenario's rule towards the down site waits; the other one completes.
    control(lake, "POST", "clock/advance", json={"seconds": 1800})
    assert c.get_replication_rule(rules["to-nikhef"])["state"] == "REPLICATING"
    assert c.get_replication_rule(rules["to-bnl"])["state"] == "OK"
    # The site comes back at 1h; the rule completes.
    control(lake, "POST", "clock/advance", json={"seconds": 3600})
    assert c.get_rse("NIKHEF-DISK")["availability_write"] is True
    assert c.get_replication_rule(rules["to-nikhef"])["state"] == "OK"
    run_rucio("upload", "--rse", "NIKHEF-DISK", "--scope", "data26", str(f), cfg=lake.cfg, env_extra=lake.env)
    events = control(lake, "GET", "events")
    kinds = [e["kind"] for e in events]
    assert "scenario.rse_down" in kinds and "scenario.rse_up" in kinds and "rule.ok" in kinds


def test_live_injected_link_failure_sticks_then_recovers(outage_lake, make_file):
    lake, c = outage_lake, outage_lake.client
    f = make_file("injected.dat", 4096)
    run_rucio("upload", "--rse", "CERN-DISK", "--scope", "data26", str(f), cfg=lake.cfg, env_extra=lake.env)
    control(lake, "POST", "inject", json={"event": "link", "from": "CERN-DISK", "to": "BNL-DISK", "down": True,
                                          "failure_reason": "TRANSFER [113] No route to host"})
    [rid] = c.add_replication_rule([{"scope": "data26", "name": "injected.dat"}], 1, "BNL-DISK")
    control(lake, "POST", "clock/advance", json={"seconds": 1200})
    rule = c.get_replication_rule(rid)
    assert rule["state"] == "STUCK" and "No route to host" in rule["error"]
    _, out, _ = run_rucio("rule", "show", rid, cfg=lake.cfg, env_extra=lake.env)
    assert re.search(r"State:\s+STUCK", out)
    control(lake, "POST", "inject", json={"event": "link", "from": "CERN-DISK", "to": "BNL-DISK", "down": False})
    control(lake, "POST", "clock/advance", json={"seconds": 1800})
    assert c.get_replication_rule(rid)["state"] == "OK"
    # A fault from the scenario's menu.
    control(lake, "POST", "inject", json={"fault": "bnl-down"})
    assert c.get_rse("BNL-DISK")["availability_read"] is False
    control(lake, "POST", "inject", json={"fault": "bnl-up"})
    assert c.get_rse("BNL-DISK")["availability_read"] is True


def test_api_fault_and_reset(outage_lake):
    import requests
    lake, c = outage_lake, outage_lake.client
    control(lake, "POST", "inject", json={"event": "api_fault", "path": "/rses", "status": 503, "duration": "10m"})
    r = requests.get(f"{lake.url}/rses/", headers={"X-Rucio-Auth-Token": "whatever"})
    assert r.status_code == 503 and r.headers["ExceptionClass"] == "ResourceTemporaryUnavailable"
    control(lake, "POST", "clock/advance", json={"seconds": 601})
    assert requests.get(f"{lake.url}/rses/", headers={"X-Rucio-Auth-Token": "whatever"}).status_code == 401
    # Snapshot, change, restore; then reset to the seed state.
    control(lake, "POST", "snapshots/before-delete")
    before = {r["id"] for r in c.list_replication_rules()}
    c.add_dataset("data26", "scratch.ds")
    control(lake, "POST", "snapshots/before-delete/restore")
    from rucio.common.exception import DataIdentifierNotFound
    with pytest.raises(DataIdentifierNotFound):
        c.get_did("data26", "scratch.ds")
    assert {r["id"] for r in c.list_replication_rules()} == before
    clock = control(lake, "POST", "reset")
    assert clock["now"].startswith("2026-03-02T08:00:00")
    rules = control(lake, "GET", "scenario")["rules"]
    assert c.get_replication_rule(rules["to-nikhef"])["state"] == "REPLICATING"
    with pytest.raises(DataIdentifierNotFound):
        c.get_did("data26", "injected.dat")
    assert len(list(c.list_files("data26", "run001.raw"))) == 40


def test_live_tokens_expire_and_iam_outage(outage_lake):
    import requests
    lake, c = outage_lake, outage_lake.client
    old = requests.get(f"{lake.url}/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret"}).headers["X-Rucio-Auth-Token"]
    assert requests.get(f"{lake.url}/accounts/whoami", headers={"X-Rucio-Auth-Token": old}).status_code in (200, 303)
    control(lake, "POST", "inject", json={"event": "tokens_expire"})
    r = requests.get(f"{lake.url}/rses/", headers={"X-Rucio-Auth-Token": old})
    assert r.status_code == 401 and r.headers["ExceptionClass"] == "CannotAuthenticate"
    # The real CLI logs in again by itself and carries on.
    _, out, _ = run_rucio("whoami", cfg=lake.cfg, env_extra=lake.env)
    assert "root" in out
    # The IAM becomes unreachable for ten lake minutes, then answers again.
    control(lake, "POST", "inject", json={"event": "iam_down", "duration": "10m"})
    assert requests.get(f"{lake.url}/iam/.well-known/openid-configuration").status_code == 503
    control(lake, "POST", "clock/advance", json={"seconds": 601})
    r = requests.get(f"{lake.url}/iam/.well-known/openid-configuration")
    assert r.status_code == 200 and r.json()["issuer"].endswith("/iam/")


def test_the_documented_example_is_a_valid_scenario(tmp_path):
    """scenarios/README.md's reference example parses, and runs with the outcome its comments describe."""
    text = (ROOT / "scenarios" / "README.md").read_text()
    example = tmp_path / "example.yaml"
    example.write_text(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    p = lakebed("scenario", "validate", str(example))
    assert p.returncode == 0, p.stdout
    p = lakebed("simulate", "--json", str(example))
    report = json.loads(p.stdout)
    failed = [e["expectation"] for e in report["expectations"] if not e["passed"]]
    assert failed == ["no replica lost at end"] and p.returncode == 1


def test_lakebed_token_follows_the_lake_clock(outage_lake):
    """A scenario's clock is far from the wall clock: `lakebed token` mints on the lake's time, so Rucio accepts it."""
    import requests
    p = lakebed("token", "--data-dir", str(outage_lake.data_dir))
    assert p.returncode == 0, p.stderr
    token = p.stdout.strip()
    r = requests.get(f"{outage_lake.url}/accounts/whoami", headers={"X-Rucio-Auth-Token": token}, allow_redirects=False)
    assert r.status_code in (200, 303), r.text
    r = requests.get(f"{outage_lake.url}/auth/validate", headers={"X-Rucio-Auth-Token": token})
    assert r.status_code == 200 and "'account': 'root'" in r.text


def test_simulate_lists_the_rules_and_plots_them(tmp_path):
    """`simulate` names every rule of the scenario (by its label); `--plot DIR` draws the run as SVG charts and an
    HTML report that shows them, the same bytes for the same scenario and seed."""
    import xml.etree.ElementTree as ET
    path = str(ROOT / "scenarios" / "flaky-transatlantic.yaml")
    runs = []
    for i in (1, 2):
        p = lakebed("simulate", path, "--quiet", "--plot", str(tmp_path / f"plot{i}"))
        assert p.returncode == 0, p.stdout + p.stderr
        runs.append(p.stdout)
    rules = runs[0].split("\nRules\n")[1].split("\n\n")[0]
    assert "(none)" not in rules and "to-fnal (" in rules and "stuck 2x" in rules, rules
    charts = ["transfers-in-flight", "throughput", "rules", "failures"]
    for name in charts + ["report"]:
        ext = "html" if name == "report" else "svg"
        a, b = (tmp_path / f"plot{i}" / f"{name}.{ext}" for i in (1, 2))
        assert a.read_bytes() == b.read_bytes(), f"{name}.{ext} differs between two runs"
    for name in charts:
        svg = ET.parse(tmp_path / "plot1" / f"{name}.svg").getroot()
        assert svg.tag.endswith("svg") and svg.findall(".//{http://www.w3.org/2000/svg}path"), name
    # The link and the rule are named on their charts.
    assert "CERN-DISK -&gt; FNAL-DISK" in (tmp_path / "plot1" / "transfers-in-flight.svg").read_text()
    assert ">to-fnal</text>" in (tmp_path / "plot1" / "rules.svg").read_text()
    html = (tmp_path / "plot1" / "report.html").read_text()
    assert html.count("<svg ") == 4 and "to-fnal" in html and "Expectations" in html
