"""Bad replicas and the necromancer, rule history, associated rules and dataset replicas, with the real client on a
manual clock (`POST /lakebed/clock/advance`)."""
import re

import requests

from conftest import control, run_rucio
from lakepaths import hash_path


def cli(lake, *args, check=True):
    return run_rucio(*args, cfg=lake.cfg, env_extra=lake.env, check=check)


def raw(lake, path, **params):
    """A GET the client has no function for, with the client's own token."""
    c = lake.client
    r = requests.get(f"{lake.url}{path}", params=params, headers={"X-Rucio-Auth-Token": c.auth_token}, timeout=30)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.headers.get('ExceptionMessage')}"
    return [__import__("json").loads(line) for line in r.text.splitlines() if line]


def replicated(lake, make_file, name, dataset):
    """A file uploaded to SITE-A, in a dataset with a rule that copied it to SITE-B."""
    c = lake.client
    f = make_file(name, 50_000)
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    c.add_dataset("user.root", dataset)
    c.attach_dids("user.root", dataset, [{"scope": "user.root", "name": name}])
    [rule_id] = c.add_replication_rule([{"scope": "user.root", "name": dataset}], 1, "SITE-B")
    control(lake, "POST", "clock/advance", json={"seconds": 60})
    assert c.get_replication_rule(rule_id)["state"] == "OK"
    return f, rule_id


def test_bad_replica_is_recovered_from_another_rse(manual_lake, make_file):
    lake, c = manual_lake, manual_lake.client
    f, rule_id = replicated(lake, make_file, "badcopy.dat", "badds")
    copy = lake.rse_dir("SITE-B") / hash_path("user.root", "badcopy.dat")
    copy.write_bytes(b"rotten bytes")  # what a storage incident leaves behind

    refused = c.declare_bad_file_replicas([{"scope": "user.root", "name": "badcopy.dat", "rse": "SITE-B"}], "checksum mismatch")
    assert refused == {}
    [rep] = c.list_replicas([{"scope": "user.root", "name": "badcopy.dat"}], all_states=True)
    assert rep["states"]["SITE-B"] == "BAD"
    assert [(b["name"], b["rse"], b["state"]) for b in raw(lake, "/replicas/bad/states", rse="SITE-B")] == [("badcopy.dat", "SITE-B", "BAD")]
    # Declared twice without force: refused, as Rucio does.
    again = c.declare_bad_file_replicas([{"scope": "user.root", "name": "badcopy.dat", "rse": "SITE-B"}], "again")
    assert list(again) == ["SITE-B"] and "Already declared" in again["SITE-B"][0]

    # The necromancer gives the lock a new transfer from SITE-A; FTS copies the good bytes back.
    control(lake, "POST", "clock/advance", json={"seconds": 120})
    assert copy.read_bytes() == f.read_bytes()
    [rep] = c.list_replicas([{"scope": "user.root", "name": "badcopy.dat"}])
    assert set(rep["rses"]) == {"SITE-A", "SITE-B"} and rep["states"]["SITE-B"] == "AVAILABLE"
    rule = c.get_replication_rule(rule_id)
    assert rule["state"] == "OK" and rule["locks_ok_cnt"] == 1
    req = c.list_request_by_did("badcopy.dat", "SITE-B", scope="user.root")
    assert req["state"] == "DONE" and req["source_rse"] == "SITE-A"
    assert [b["state"] for b in raw(lake, "/replicas/bad/states", rse="SITE-B")] == ["RECOVERED"]
    summary = raw(lake, "/replicas/bad/summary")
    assert any(s["rse"] == "SITE-B" and s["reason"] == "checksum mismatch" and s.get("RECOVERED") == 1 for s in summary)
    kinds = {e["kind"] for e in control(lake, "GET", "events") if e.get("did") == "user.root:badcopy.dat"}
    assert {"replica.declared", "necromancer.recovering"} <= kinds


def test_last_copy_declared_bad_is_lost(manual_lake, make_file):
    lake, c = manual_lake, manual_lake.client
    f = make_file("onlycopy.dat", 2048)
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    [rep] = c.list_replicas([{"scope": "user.root", "name": "onlycopy.dat"}])
    pfn = rep["rses"]["SITE-A"][0]
    # By PFN, as `rucio replica declare-bad` sends it.
    assert c.declare_bad_file_replicas([pfn], "disk died") == {}
    control(lake, "POST", "clock/advance", json={"seconds": 60})
    assert [b["state"] for b in raw(lake, "/replicas/bad/states", rse="SITE-A") if b["name"] == "onlycopy.dat"] == ["LOST"]
    assert list(c.list_replicas([{"scope": "user.root", "name": "onlycopy.dat"}], all_states=True))[0]["rses"] == {}
    assert not (lake.rse_dir("SITE-A") / hash_path("user.root", "onlycopy.dat")).exists()


def test_suspicious_replicas_are_listed(manual_lake, make_file):
    lake, c = manual_lake, manual_lake.client
    f = make_file("flaky.dat", 1024)
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    [rep] = c.list_replicas([{"scope": "user.root", "name": "flaky.dat"}])
    pfn = rep["rses"]["SITE-A"][0]
    for _ in range(3):
        assert c.declare_suspicious_file_replicas([pfn], "read error") == {}
    # One JSON document (a list), which the client yields as one item, as with Rucio.
    [rows] = list(c.list_suspicious_replicas(rse_expression="SITE-A", nattempts=2))
    assert [(r["name"], r["rse"], r["cnt"]) for r in rows] == [("flaky.dat", "SITE-A", 3)]
    assert list(c.list_suspicious_replicas(rse_expression="SITE-A", nattempts=3)) == [[]]
    # Suspicious is only recorded: the replica stays AVAILABLE.
    [rep] = c.list_replicas([{"scope": "user.root", "name": "flaky.dat"}])
    assert rep["states"]["SITE-A"] == "AVAILABLE"


def test_rule_history_associated_rules_and_dataset_replicas(manual_lake, make_file):
    lake, c = manual_lake, manual_lake.client
    f, rule_id = replicated(lake, make_file, "histfile.dat", "histds")
    [other] = c.add_replication_rule([{"scope": "user.root", "name": "histds"}], 1, "SITE-C")
    c.delete_replication_rule(other)

    history = list(c.list_replication_rule_full_history("user.root", "histds"))
    assert [h["rule_id"] for h in history] == [rule_id, other, other]
    assert set(history[0]) == {"rule_id", "created_at", "updated_at", "rse_expression", "state", "account", "locks_ok_cnt",
                               "locks_stuck_cnt", "locks_replicating_cnt"}
    assert history[0]["state"] == "REPLICATING" and history[0]["rse_expression"] == "SITE-B"

    associated = list(c.list_associated_rules_for_file("user.root", "histfile.dat"))
    assert rule_id in [r["id"] for r in associated]
    assert all(r["bytes"] == 50_000 for r in associated if r["id"] == rule_id)

    [ds] = [d for d in c.list_dataset_replicas_bulk([{"scope": "user.root", "name": "histds"}]) if d["rse"] == "SITE-B"]
    assert (ds["length"], ds["available_length"], ds["state"]) == (1, 1, "AVAILABLE")
    assert {"SITE-A", "SITE-B"} <= {d["rse"] for d in c.list_dataset_replicas("user.root", "histds") if d["state"] == "AVAILABLE"}
    [lock] = [l for l in c.get_dataset_locks("user.root", "histds") if l["rule_id"] == rule_id]
    assert (lock["rse"], lock["state"], lock["length"]) == ("SITE-B", "OK", 1)


def test_redirect_goes_to_an_http_replica(manual_lake, make_file):
    lake, c = manual_lake, manual_lake.client
    f = make_file("redirected.dat", 4096)
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    r = requests.get(f"{lake.url}/redirect/user.root/redirected.dat", allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].split("://")[0] in ("davs", "https")
    assert r.headers["Location"].endswith(hash_path("user.root", "redirected.dat"))
    m = requests.get(f"{lake.url}/redirect/user.root/redirected.dat/metalink", timeout=30)
    assert m.status_code == 200 and m.headers["Content-Type"] == "application/metalink4+xml"
    assert "<identity>user.root:redirected.dat</identity>" in m.text
    assert requests.get(f"{lake.url}/redirect/user.root/nosuch.dat", allow_redirects=False, timeout=30).status_code == 404


def test_nrandom_lists_that_many_files(manual_lake):
    c = manual_lake.client
    every = list(c.list_replicas([{"scope": "demo", "name": "lofar.L630262"}]))
    two = list(c.list_replicas([{"scope": "demo", "name": "lofar.L630262"}], nrandom=2))
    assert len(every) == 4 and len(two) == 2 and {f["name"] for f in two} <= {f["name"] for f in every}
    assert [f["name"] for f in c.list_replicas([{"scope": "demo", "name": "lofar.L630262"}], nrandom=2)] == [f["name"] for f in two]
