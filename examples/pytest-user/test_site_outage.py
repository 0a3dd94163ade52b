"""A site outage makes a rule STUCK; when the site is reachable again the judge-repairer brings it to OK."""
import os

import pytest
from rucio.client.uploadclient import UploadClient


def test_unreachable_site_makes_the_rule_stuck_then_it_recovers(rucio_client, lake, tmp_path):
    path = tmp_path / "calibration.h5"
    path.write_bytes(os.urandom(200_000))
    UploadClient(_client=rucio_client, logger=None).upload(
        [{"path": str(path), "rse": "SITE-A", "did_scope": "user.root", "did_name": "calibration.h5"}])

    lake.inject("site-c-unreachable")                  # from the default lake's fault menu
    [rule_id] = rucio_client.add_replication_rule([{"scope": "user.root", "name": "calibration.h5"}], 2, "tier=2")

    def state():
        return rucio_client.get_replication_rule(rule_id)["state"]

    lake.advance_until(lambda: state() == "STUCK", timeout=3600)
    rule = rucio_client.get_replication_rule(rule_id)
    assert (rule["locks_ok_cnt"], rule["locks_stuck_cnt"]) == (1, 1)   # SITE-B has it, SITE-C does not
    assert "SITE-C unreachable" in rule["error"]
    failed = [e for e in lake.events(kind="transfer.failed")]
    assert len(failed) == 3                             # three attempts before giving up

    lake.inject("site-c-reachable")
    lake.advance_until(lambda: state() == "OK", timeout=3600)
    [replica] = rucio_client.list_replicas([{"scope": "user.root", "name": "calibration.h5"}])
    assert set(replica["rses"]) == {"SITE-A", "SITE-B", "SITE-C"}
    assert lake.check()["consistent"]


def test_writes_to_a_site_that_is_down_are_refused(rucio_client, lake, tmp_path):
    from rucio.common.exception import RSEWriteBlocked

    lake.rse_down("SITE-B")
    path = tmp_path / "refused.dat"
    path.write_bytes(b"x" * 1000)
    with pytest.raises(RSEWriteBlocked):
        UploadClient(_client=rucio_client, logger=None).upload(
            [{"path": str(path), "rse": "SITE-B", "did_scope": "user.root"}])
    lake.rse_up("SITE-B")
    UploadClient(_client=rucio_client, logger=None).upload(
        [{"path": str(path), "rse": "SITE-B", "did_scope": "user.root"}])
    [replica] = rucio_client.list_replicas([{"scope": "user.root", "name": "refused.dat"}])
    assert list(replica["rses"]) == ["SITE-B"]


@pytest.mark.lakebed(scenario="site-outage")
def test_the_shipped_site_outage_scenario(rucio_client, lake):
    # NIKHEF-DISK stops accepting writes at t=0 and comes back at t=1h (the scenario's timeline).
    to_nikhef, to_bnl = lake.rule_id("to-nikhef"), lake.rule_id("to-bnl")
    lake.advance(1800)
    assert rucio_client.get_replication_rule(to_bnl)["state"] == "OK"
    assert rucio_client.get_replication_rule(to_nikhef)["state"] == "REPLICATING"
    lake.advance(5400)
    assert rucio_client.get_replication_rule(to_nikhef)["state"] == "OK"
    assert len(list(rucio_client.list_replicas([{"scope": "data26", "name": "run001.raw"}]))) == 40
