"""Account limits and usage, and RSE protocols, through the real CLI and client (issue #2)."""
import json

import pytest
from rucio.common.exception import InsufficientAccountLimit

from conftest import run_rucio, write_cfg


def test_account_limits_and_usage(lake, client, jdoe, make_file, tmp_path):
    run_rucio("account", "limit", "set", "jdoe", "--rse", "SITE-B", "--bytes", "3000")
    assert client.get_local_account_limits("jdoe")["SITE-B"] == 3000
    _, out, _ = run_rucio("account", "limit", "list", "jdoe")
    assert "SITE-B" in out

    jcfg = write_cfg(tmp_path / "jdoe", lake.url, username="jdoe", password="jdoe-pw", account="jdoe")
    env = {"TMPDIR": str(tmp_path / "jdoe")}
    f = make_file("quota1.dat", 2000)
    run_rucio("upload", "--rse", "SITE-B", "--scope", "user.jdoe", str(f), cfg=jcfg, env_extra=env)
    [usage] = [u for u in client.get_local_account_usage("jdoe", "SITE-B")]
    assert (usage["rse"], usage["bytes"], usage["bytes_limit"], usage["bytes_remaining"]) == ("SITE-B", 2000, 3000, 1000)
    assert usage["files"] == 1

    # Another 2000 bytes locked on SITE-B would pass the limit.
    g = make_file("quota2.dat", 2000)
    run_rucio("upload", "--rse", "SITE-A", "--scope", "user.jdoe", str(g), cfg=jcfg, env_extra=env)
    with pytest.raises(InsufficientAccountLimit):
        jdoe.add_replication_rule([{"scope": "user.jdoe", "name": "quota2.dat"}], 1, "SITE-B")
    rc, out, err = run_rucio("rule", "add", "--copies", "1", "--rses", "SITE-B", "user.jdoe:quota2.dat", cfg=jcfg, env_extra=env, check=False)
    assert rc != 0 and "quota" in (out + err).lower()

    run_rucio("account", "limit", "unset", "jdoe", "--rse", "SITE-B")
    assert "SITE-B" not in client.get_local_account_limits("jdoe")
    [rid] = jdoe.add_replication_rule([{"scope": "user.jdoe", "name": "quota2.dat"}], 1, "SITE-B")
    assert jdoe.get_replication_rule(rid)["account"] == "jdoe"


def test_rse_protocols_with_the_cli(client):
    run_rucio("rse", "add", "PROTO-DISK")
    domains = {"wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1, "third_party_copy_write": 1},
               "lan": {"read": 1, "write": 1, "delete": 1}}
    run_rucio("rse", "protocol", "add", "PROTO-DISK", "--hostname", "storage.example.org", "--scheme", "root",
              "--prefix", "/data/rucio/", "--port", "1094", "--impl", "rucio.rse.protocols.xrootd.Default",
              "--domain-json", json.dumps(domains))
    protos = {p["scheme"]: p for p in client.get_protocols("PROTO-DISK")}
    assert protos["root"]["hostname"] == "storage.example.org" and protos["root"]["port"] == 1094
    assert protos["root"]["prefix"] == "/data/rucio/" and protos["root"]["impl"] == "rucio.rse.protocols.xrootd.Default"
    assert protos["root"]["domains"]["wan"]["read"] == 1
    _, out, _ = run_rucio("rse", "show", "PROTO-DISK")
    assert "root" in out and "storage.example.org" in out
    # The same scheme/host/port twice is a duplicate.
    rc, out, err = run_rucio("rse", "protocol", "add", "PROTO-DISK", "--hostname", "storage.example.org", "--scheme", "root",
                             "--prefix", "/x/", "--port", "1094", check=False)
    assert rc != 0 and "already registered" in (out + err)
    run_rucio("rse", "protocol", "remove", "PROTO-DISK", "--scheme", "root", "--hostname", "storage.example.org", "--port", "1094")
    assert "root" not in {p["scheme"] for p in client.get_rse("PROTO-DISK")["protocols"]}
