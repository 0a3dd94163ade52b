"""The example on docs/python.md's front page, kept here so that it is run."""
from rucio.client.uploadclient import UploadClient


def test_outage_makes_rule_stuck_then_it_recovers(rucio_client, lake, tmp_path):
    (tmp_path / "f.dat").write_bytes(b"lakebed" * 1000)
    UploadClient(_client=rucio_client).upload([{"path": str(tmp_path / "f.dat"), "rse": "SITE-A", "did_scope": "user.root"}])
    lake.inject("site-c-unreachable")                        # links to SITE-C fail
    [rule] = rucio_client.add_replication_rule([{"scope": "user.root", "name": "f.dat"}], 2, "tier=2")
    lake.advance(3600)                                        # an hour of lake time, in milliseconds
    assert rucio_client.get_replication_rule(rule)["state"] == "STUCK"
    lake.inject("site-c-reachable")
    lake.advance(3600)
    assert rucio_client.get_replication_rule(rule)["state"] == "OK"
