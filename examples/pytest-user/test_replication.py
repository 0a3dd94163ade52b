"""A rule that replicates: the transfers run on the lake's manual clock, moved by the test."""
import os
from pathlib import Path
from urllib.parse import urlsplit

from rucio.client.uploadclient import UploadClient


def upload(client, tmp_path, name, size, rse="SITE-A"):
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    UploadClient(_client=client, logger=None).upload(
        [{"path": str(path), "rse": rse, "did_scope": "user.root", "did_name": name}])
    return path.read_bytes()


def test_a_rule_replicates_when_the_clock_moves(rucio_client, lake, tmp_path):
    payload = upload(rucio_client, tmp_path, "run42.raw", 1_000_000)
    [rule_id] = rucio_client.add_replication_rule([{"scope": "user.root", "name": "run42.raw"}], 2, "tier=2")

    # Nothing moves until the clock does.
    assert rucio_client.get_replication_rule(rule_id)["state"] == "REPLICATING"
    lake.advance(1)
    assert rucio_client.get_replication_rule(rule_id)["state"] == "REPLICATING"

    rule = lake.advance_until(lambda: rucio_client.get_replication_rule(rule_id)["state"] == "OK", timeout=600, step=10)
    assert rule
    [replica] = rucio_client.list_replicas([{"scope": "user.root", "name": "run42.raw"}])
    assert set(replica["rses"]) == {"SITE-A", "SITE-B", "SITE-C"}
    # The copies are real bytes on the destination storage.
    [pfn] = replica["rses"]["SITE-C"]
    url = urlsplit(pfn)
    assert url.scheme == "file"
    assert Path(url.path).read_bytes() == payload
    kinds = [e["kind"] for e in lake.events(kind="transfer")]
    assert kinds.count("transfer.finished") == 2


def test_a_slow_link_takes_lake_time_not_wall_time(rucio_client, lake, tmp_path):
    upload(rucio_client, tmp_path, "big.dat", 2_000_000)
    lake.set_link("SITE-A", "SITE-B", bandwidth=10_000)        # 10 kB/s: 200 s of lake time for 2 MB
    [rule_id] = rucio_client.add_replication_rule([{"scope": "user.root", "name": "big.dat"}], 1, "SITE-B")

    lake.advance(100)
    assert rucio_client.get_replication_rule(rule_id)["state"] == "REPLICATING"
    [transfer] = lake.transfers()
    assert 0 < transfer["transferred"] < transfer["bytes"]
    lake.advance(200)
    assert rucio_client.get_replication_rule(rule_id)["state"] == "OK"
