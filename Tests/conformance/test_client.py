"""The real Client as the natural caller: the same client functions against both servers; what the function returns
(the key set of its documents) or raises (the exception class) must agree. Listed differences as in test_routes."""
import pytest

from differences import DIFFERENCES, LakebedDiffers
from signature import _keys


def calls(w):
    s, ds, f1 = w["scope"], "ds1", "file1.dat"
    return {
        "whoami": lambda c: c.whoami(),
        "ping": lambda c: c.ping(),
        "list_rses": lambda c: list(c.list_rses()),
        "list_rses_expression": lambda c: list(c.list_rses("tier=2")),
        "get_rse": lambda c: c.get_rse(w["rse1"]),
        "list_rse_attributes": lambda c: c.list_rse_attributes(w["rse1"]),
        "get_protocols": lambda c: c.get_protocols(w["rse1"], protocol_domain="ALL", operation="read", scheme="root"),
        "get_distance": lambda c: c.get_distance(w["rse1"], w["rse2"]),
        "list_scopes": lambda c: c.list_scopes(),
        "list_scopes_for_account": lambda c: c.list_scopes_for_account(w["user"]),
        "list_accounts": lambda c: list(c.list_accounts()),
        "get_account": lambda c: c.get_account(w["user"]),
        "get_account_missing": lambda c: c.get_account("nosuchacct"),
        "list_account_attributes": lambda c: list(c.list_account_attributes(w["user"])),
        "get_local_account_limits": lambda c: c.get_local_account_limits(w["user"]),
        "get_global_account_limits": lambda c: c.get_global_account_limits(w["user"]),
        "get_local_account_usage": lambda c: list(c.get_local_account_usage("root")),
        "get_global_account_usage": lambda c: list(c.get_global_account_usage(w["user"])),
        "list_identities": lambda c: list(c.list_identities(w["user"])),
        "list_dids": lambda c: list(c.list_dids(s, {"name": "*"}, did_type="all", long=True)),
        "list_dids_created_after": lambda c: list(c.list_dids(s, {"created_after": "2000-01-01T00:00:00.000Z"}, did_type="all")),
        "get_did": lambda c: c.get_did(s, ds),
        "get_did_dynamic_depth": lambda c: c.get_did(s, "cont1", dynamic_depth="DATASET"),
        "get_did_missing_scope": lambda c: c.get_did("nosuchscope", "x"),
        "list_content": lambda c: list(c.list_content(s, ds)),
        "list_files": lambda c: list(c.list_files(s, "cont1")),
        "list_parent_dids": lambda c: list(c.list_parent_dids(s, f1)),
        "get_metadata": lambda c: c.get_metadata(s, f1),
        "list_replicas": lambda c: list(c.list_replicas([{"scope": s, "name": ds}])),
        "list_replicas_missing": lambda c: list(c.list_replicas([{"scope": s, "name": "nosuch"}])),
        "list_dataset_replicas": lambda c: list(c.list_dataset_replicas(s, ds)),
        "list_dataset_replicas_bulk": lambda c: list(c.list_dataset_replicas_bulk([{"scope": s, "name": ds}])),
        "get_replication_rule": lambda c: c.get_replication_rule(w["rule_ds1"]),
        "list_replication_rules": lambda c: list(c.list_replication_rules({"scope": s})),
        "list_did_rules": lambda c: list(c.list_did_rules(s, ds)),
        "list_replica_locks": lambda c: list(c.list_replica_locks(w["rule_ds1"])),
        "get_dataset_locks": lambda c: list(c.get_dataset_locks(s, ds)),
        "examine_replication_rule": lambda c: c.examine_replication_rule(w["rule_ds1"]),
        "list_replication_rule_full_history": lambda c: list(c.list_replication_rule_full_history(s, ds)),
        "list_associated_rules_for_file": lambda c: list(c.list_associated_rules_for_file(s, f1)),
        "list_subscriptions": lambda c: list(c.list_subscriptions()),
        "get_config": lambda c: c.get_config(),
        "list_lifetime_exceptions": lambda c: list(c.list_exceptions()),
    }


NAMES = list(calls({k: "" for k in ("scope", "rse1", "rse2", "user", "rule_ds1")}))


def outcome(client, fn):
    try:
        return {"returns": _keys(fn(client), False)}
    except Exception as e:   # what the caller sees: the exception class the client raised
        return {"raises": type(e).__name__}


def _param(name):
    cid = "client:" + name
    d = DIFFERENCES.get(cid)
    if d is not None and d.kind == "bug":
        return pytest.param(name, id=name, marks=pytest.mark.xfail(
            strict=True, raises=LakebedDiffers, reason=f"Lakebed bug; with Rucio the client {d.rucio}"))
    return pytest.param(name, id=name)


@pytest.fixture(scope="module")
def clients(sides):
    return [(s, s.client()) for s in sides]


@pytest.mark.parametrize("name", [_param(n) for n in NAMES])
def test_client_function(clients, record, name):
    (real, rc), (lake, lc) = clients
    a, b = outcome(rc, calls(real.world)[name]), outcome(lc, calls(lake.world)[name])
    cid = "client:" + name
    d = DIFFERENCES.get(cid)
    record({"id": cid, "method": "CLIENT", "path": name, "rucio": a, "lakebed": b,
            "listed": d.kind if d else None, "note": d.note if d else None})
    if d is None:
        assert b == a, f"Rucio: {a}\nLakebed: {b}"
    elif d.kind == "deliberate":
        assert (a, b) == (d.rucio, d.lakebed), f"no longer as recorded: Rucio {a}, Lakebed {b}"
    else:
        assert a == d.rucio, f"Rucio no longer answers as recorded: {a}"
        if b != a:
            raise LakebedDiffers(f"Rucio: {a}\nLakebed: {b}")
