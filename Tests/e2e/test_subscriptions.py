"""Subscriptions and the transmogrifier with the real client: a new dataset matching a subscription gets its rules."""
import json

import pytest
import requests
from rucio.common.exception import AccessDenied, InvalidObject, SubscriptionDuplicate, SubscriptionNotFound

from conftest import control, run_rucio
from lakepaths import hash_path


def cli(lake, *args, check=True):
    return run_rucio(*args, cfg=lake.cfg, env_extra=lake.env, check=check)


RULES = [{"copies": 1, "rse_expression": "SITE-B", "activity": "User Subscriptions"}]


def test_subscription_turns_a_new_dataset_into_a_rule_that_reaches_ok(manual_lake, make_file):
    lake, c = manual_lake, manual_lake.client
    assert list(c.list_subscriptions(name="to-b")) == []  # the client turns Rucio's 404 into an empty list
    r = requests.get(f"{lake.url}/subscriptions/name/to-b", headers={"X-Rucio-Auth-Token": c.auth_token})
    assert (r.status_code, r.headers["ExceptionClass"]) == (404, "SubscriptionNotFound")
    sid = c.add_subscription("to-b", "root", {"scope": ["user.root"], "pattern": "sub-data.*", "did_type": ["DATASET"]},
                             RULES, "copy new sub-data datasets to SITE-B", None, False, False)
    assert len(sid) == 32
    with pytest.raises(SubscriptionDuplicate):
        c.add_subscription("to-b", "root", {"scope": ["user.root"]}, RULES, "again", None, False, False)
    sub = next(iter(c.list_subscriptions(name="to-b", account="root")))
    assert sub["id"] == sid and sub["state"] == "ACTIVE" and sub["policyid"] == 3
    r = requests.get(f"{lake.url}/subscriptions/id/{sid}", headers={"X-Rucio-Auth-Token": c.auth_token})
    assert r.headers["Content-Type"] == "application/json" and r.json()["name"] == "to-b"

    f = make_file("sub-file.dat", 50_000)
    cli(lake, "upload", "--rse", "SITE-A", "--scope", "user.root", str(f))
    c.add_dataset("user.root", "sub-data.2026")
    c.attach_dids("user.root", "sub-data.2026", [{"scope": "user.root", "name": "sub-file.dat"}])
    c.add_dataset("user.root", "other-data.2026")  # the pattern does not match it
    # is_new is true until the transmogrifier has seen the dataset (the lake's daemons run a few times a second).
    assert c.get_metadata("user.root", "sub-data.2026")["is_new"] in (True, None)

    control(lake, "POST", "clock/advance", json={"seconds": 60})
    rules = list(c.list_subscription_rules("root", "to-b"))
    assert [(r["scope"], r["name"], r["rse_expression"], r["subscription_id"]) for r in rules] == \
        [("user.root", "sub-data.2026", "SITE-B", sid)]
    assert rules[0]["comments"] == "copy new sub-data datasets to SITE-B"
    assert not [r for r in c.list_did_rules("user.root", "other-data.2026")]
    assert c.get_metadata("user.root", "sub-data.2026")["is_new"] is None
    assert c.get_replication_rule(rules[0]["id"])["state"] == "OK"
    assert (lake.rse_dir("SITE-B") / hash_path("user.root", "sub-file.dat")).read_bytes() == f.read_bytes()
    states = list(c.list_subscription_rule_states("root", "to-b"))
    assert [tuple(s) for s in states] == [("root", "to-b", "OK", 1)]

    # A deactivated subscription makes no more rules.
    c.deactivate_subscription("to-b", account="root")
    assert next(iter(c.list_subscriptions(name="to-b")))["state"] == "INACTIVE"
    c.add_dataset("user.root", "sub-data.2027")
    control(lake, "POST", "clock/advance", json={"seconds": 60})
    assert len(list(c.list_subscription_rules("root", "to-b"))) == 1


def test_subscription_input_is_checked_as_rucio_checks_it(manual_lake, jdoe):
    c = manual_lake.client
    with pytest.raises(InvalidObject, match="You must specify a rule"):
        c.add_subscription("no-rules", "root", {"scope": ["user.root"]}, [], "c", None, False, False)
    with pytest.raises(InvalidObject, match="not of type 'array'"):
        c.add_subscription("bad-filter", "root", {"scope": "user.root"}, RULES, "c", None, False, False)
    with pytest.raises(InvalidObject, match="Problem validating activity"):
        c.add_subscription("bad-activity", "root", {"scope": ["user.root"]}, [{"copies": 1, "rse_expression": "SITE-B"}], "c", None, False, False)
    with pytest.raises(SubscriptionNotFound):
        c.update_subscription("nosuch", account="root", comments="x")
    c.add_subscription("valid", "root", {"scope": ["user.root"]}, RULES, "c", None, False, False)
    c.update_subscription("valid", account="root", comments="changed", priority=2)
    sub = next(iter(c.list_subscriptions(name="valid")))
    assert (sub["comments"], sub["policyid"], sub["state"]) == ("changed", 2, "UPDATED")
    r = requests.put(f"{manual_lake.url}/subscriptions/root/valid", json={"options": {"state": "BOGUS"}},
                     headers={"X-Rucio-Auth-Token": c.auth_token})
    assert (r.status_code, r.headers["ExceptionClass"]) == (400, "InvalidObject")
    # Rucio's generic policy: only root and admins add subscriptions.
    with pytest.raises(AccessDenied):
        jdoe.add_subscription("mine", "jdoe", {"scope": ["user.jdoe"]}, RULES, "c", None, False, False)


def test_a_stopped_transmogrifier_leaves_dids_new_until_run_once(manual_lake):
    """As in Rucio's dev environment, where a daemon runs only when started: `/lakebed/daemons` stops one, runs it once."""
    lake, c = manual_lake, manual_lake.client
    names = {d["name"]: d["running"] for d in control(lake, "GET", "daemons")}
    assert names == {"judge-cleaner": True, "reaper": True, "judge-repairer": True, "transmogrifier": True, "necromancer": True}
    try:
        assert control(lake, "PUT", "daemons/transmogrifier", json={"running": False})["running"] is False
        c.add_subscription("held", "root", {"scope": ["user.root"], "pattern": "held-data.*", "did_type": ["DATASET"]},
                           RULES, "held until the transmogrifier runs", None, False, False)
        c.add_dataset("user.root", "held-data.1")
        control(lake, "POST", "clock/advance", json={"seconds": 600})
        def new_dids(**params):  # GET /dids/new, which the 41.5.1 client has no call for (Rucio's daemons read it)
            r = requests.get(f"{lake.url}/dids/new", params=params, headers={"X-Rucio-Auth-Token": c.auth_token})
            assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-json-stream"
            return [json.loads(line) for line in r.text.splitlines() if line]
        new = [(d["scope"], d["name"], d["did_type"]) for d in new_dids(type="dataset")]
        assert ("user.root", "held-data.1", "DATASET") in new
        assert list(c.list_did_rules("user.root", "held-data.1")) == []
        assert c.get_metadata("user.root", "held-data.1")["is_new"] is True

        ran = control(lake, "POST", "daemons/transmogrifier/run")
        assert ran["running"] is False
        assert [r["rse_expression"] for r in c.list_did_rules("user.root", "held-data.1")] == ["SITE-B"]
        assert ("user.root", "held-data.1") not in [(d["scope"], d["name"]) for d in new_dids()]
    finally:
        control(lake, "PUT", "daemons/transmogrifier", json={"running": True})
        c.deactivate_subscription("held", account="root")
    r = requests.put(f"{lake.url}/lakebed/daemons/nosuch", json={"running": False})
    assert r.status_code == 404 and "transmogrifier" in r.json()["message"]
