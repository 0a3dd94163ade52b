"""Experiment policies with the real client: a lake's `--policy` (or scenario `policy:`) decides the names it takes,
who may register replicas, and where its RSEs' lfn2pfn algorithms put files. Uploads land where the client (for
hash and identity) or Lakebed's `lfns2pfns` (for the experiments' algorithms) says, and download gives the bytes back."""
import json
import pathlib
import subprocess

import pytest
from conftest import BIN, ROOT, Lake, private_lake, run_rucio
from lakepaths import hash_path

EXAMPLES = ROOT / "examples" / "experiment-lakes"
POSIX = "rucio.rse.protocols.posix.Default"
ALL = {"lan": {"read": 1, "write": 1, "delete": 1},
       "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1, "third_party_copy_write": 1}}
CMS_LFN = "/store/mc/Run3Summer26/ZMM_TuneCP5_13p6TeV/AODSIM/v1/0000/3F2A9C1E-5B7D-4E8F-A1C2-D3E4F5A6B7C8.root"


def lakebed(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300)


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in pathlib.Path(folder).rglob("*") if p.is_file())


# policy, RSE, its lfn2pfn_algorithm (None: the policy's default), scope, name, where the bytes go under the prefix
CASES = [
    ("cms", "T1_US_FNAL_Disk", "cmstfc", "cms", CMS_LFN, CMS_LFN[1:]),
    ("cms", "T2_CH_CERN_Temp", "hash", "cms", CMS_LFN, hash_path("cms", CMS_LFN).replace("//", "/")),
    ("cms", "T2_US_Caltech", "identity", "cms", CMS_LFN, "cms" + CMS_LFN),
    ("belleii", "DESY-DE", None, "mc", "/belle/MC/release-08/DB00003000/MC16/prod0001/s00/e1003/mdst/sub00/mdst_000001.root",
     "belle/MC/release-08/DB00003000/MC16/prod0001/s00/e1003/mdst/sub00/mdst_000001.root"),
    ("escape", "LSST-DISK", "lsst", "lsst", "raw__2026-06-01__visit_0042.fits", "raw/2026-06-01/visit_0042.fits"),
    ("atlas", "FZK-LCG2_DATADISK", None, "data18_13TeV", "DAOD_PHYS.31576004._000001.pool.root.1",
     hash_path("data18_13TeV", "DAOD_PHYS.31576004._000001.pool.root.1")),
    ("generic", "SITE-X", "identity", "user.root", "plain.dat", "user/root/plain.dat"),
]


@pytest.mark.parametrize("policy,rse,algorithm,scope,name,expected", CASES, ids=[f"{c[0]}-{c[2] or 'default'}" for c in CASES])
def test_upload_lands_where_the_lfn2pfn_algorithm_says_and_downloads(tmp_path_factory, tmp_path, policy, rse, algorithm, scope, name,
                                                                      expected):
    lk = private_lake(tmp_path_factory, f"pol-{policy}", ["--empty", "--policy", policy, "--time-scale", "0"])
    try:
        c = lk.client
        prefix = tmp_path / "site" / "rucio"
        c.add_rse(rse)
        c.add_protocol(rse, {"scheme": "file", "hostname": "localhost", "port": 0, "impl": POSIX, "prefix": f"{prefix}/", "domains": ALL})
        if algorithm:
            c.add_rse_attribute(rse, "lfn2pfn_algorithm", algorithm)
        # The settings document names the algorithm the client then uses (or leaves to Lakebed's lfns2pfns).
        default = {"belleii": "belleii"}.get(policy, "hash")
        assert c.get_rse(rse)["lfn2pfn_algorithm"] == (algorithm or default)
        if scope not in c.list_scopes():
            c.add_scope("root", scope)
        src = tmp_path / "payload.bin"
        payload = bytes(range(256)) * 97
        src.write_bytes(payload)
        run_rucio("upload", "--rse", rse, "--scope", scope, "--lfn", name, str(src), cfg=lk.cfg, env_extra=lk.env)
        # The bytes are exactly where the algorithm puts them under the protocol's prefix, and nowhere else.
        assert files_under(prefix) == [expected]
        assert (prefix / expected).read_bytes() == payload
        pfns = c.lfns2pfns(rse, [f"{scope}:{name}"], operation="read")
        assert pfns[f"{scope}:{name}"].replace("//", "/").endswith(expected)
        replicas = list(c.list_replicas([{"scope": scope, "name": name}]))
        assert replicas[0]["rses"] and rse in replicas[0]["rses"]
        down = tmp_path / "down"
        # The client writes a hierarchical name (`/store/...`) under --dir but makes only --dir itself: the folders
        # the name holds must exist (so against any Rucio).
        (down / name.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        run_rucio("download", "--dir", str(down), "--no-subdir", f"{scope}:{name}", cfg=lk.cfg, env_extra=lk.env)
        got = [p for p in down.rglob("*") if p.is_file()]
        assert len(got) == 1 and got[0].read_bytes() == payload
    finally:
        lk.stop()


@pytest.fixture(scope="module")
def cms_lake(tmp_path_factory):
    lk = private_lake(tmp_path_factory, "cms-example", ["--scenario", str(EXAMPLES / "cms-lake.yaml"), "--time-scale", "0"])
    yield lk
    lk.stop()


def test_the_cms_lake_takes_cms_blocks_lfns_and_sites(cms_lake, tmp_path):
    from rucio.common.exception import AccessDenied, InvalidObject
    c = cms_lake.client
    assert {"T0_CH_CERN_Disk", "T1_US_FNAL_Disk", "T2_CH_CERN_Temp"} <= {r["rse"] for r in c.list_rses()}
    # The scenario's blocks and /store files, seeded where cmstfc puts them.
    block = "/ZMM/Run2026A-v1/RAW#5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e70"
    files = [f["name"] for f in c.list_files("cms", block)]
    assert len(files) == 12 and all(f.startswith("/store/data/Run2026A/ZMM/RAW/") for f in files)
    cern = cms_lake.rse_dir("T0_CH_CERN_Disk")
    assert (cern / files[0][1:]).is_file()
    # The real client makes a CMS container with a block of its own, and uploads a /store file into it.
    c.add_container("cms", "/ZMM/Run2026B-v1/AODSIM")
    c.add_dataset("cms", "/ZMM/Run2026B-v1/AODSIM#0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a")
    c.attach_dids("cms", "/ZMM/Run2026B-v1/AODSIM", [{"scope": "cms", "name": "/ZMM/Run2026B-v1/AODSIM#0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"}])
    src = tmp_path / "f.root"
    src.write_bytes(b"cms" * 5000)
    lfn = "/store/mc/Run2026B/ZMM/AODSIM/v1/0000/f.root"
    run_rucio("upload", "--rse", "T1_US_FNAL_Disk", "--scope", "cms", "--lfn", lfn, str(src), cfg=cms_lake.cfg, env_extra=cms_lake.env)
    assert (cms_lake.rse_dir("T1_US_FNAL_Disk") / lfn[1:]).read_bytes() == b"cms" * 5000
    c.attach_dids("cms", "/ZMM/Run2026B-v1/AODSIM#0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a", [{"scope": "cms", "name": lfn}])
    assert [d["name"] for d in c.list_content("cms", "/ZMM/Run2026B-v1/AODSIM")] == ["/ZMM/Run2026B-v1/AODSIM#0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"]
    # What CMS's schema refuses: a block named as a container, a non-/store LFN, a generic RSE name.
    with pytest.raises(InvalidObject):
        c.add_dataset("cms", "/ZMM/Run2026B-v1/AODSIM")
    with pytest.raises(InvalidObject):
        c.add_rse("SITE-A")
    with pytest.raises(InvalidObject):
        c.add_replica("T1_US_FNAL_Disk", "cms", "hello.dat", 3, "0a1b2c3d")
    # CMS's permission: outside the cms scope only /USER collections, for root too.
    with pytest.raises(AccessDenied):
        c.add_container("user.jdoe", "/ZMM/Run2026B-v1/AODSIM")
    c.add_container("user.jdoe", "/ZMM/jdoe-skim-v1/USER")


def test_the_generic_lake_refuses_cms_names(lake, client):
    from rucio.common.exception import InvalidObject
    with pytest.raises(InvalidObject):
        client.add_rse("T1_US_FNAL_Disk")
    with pytest.raises(InvalidObject):
        client.add_dataset("test", "/ZMM/Run2026A-v1/RAW#5f0c2a4e-8d1b-4c7a-9e3f-2b6d8a1c4e70")
    with pytest.raises(InvalidObject):
        client.add_container("test", "/ZMM/Run2026A-v1/RAW")
    with pytest.raises(InvalidObject):
        client.add_replica("SITE-A", "test", CMS_LFN, 3, "0a1b2c3d")


def test_the_atlas_lake_takes_atlas_names_activities_and_scratchdisk_uploads(tmp_path_factory, tmp_path):
    from rucio.client import Client
    from rucio.common.exception import AccessDenied, InvalidObject
    lk = private_lake(tmp_path_factory, "atlas-example", ["--scenario", str(EXAMPLES / "atlas-lake.yaml"), "--time-scale", "0"])
    try:
        c = lk.client
        ds = "data18_13TeV.00348885.physics_Main.deriv.DAOD_PHYS.f937_m1972_p5855_tid31576004_00"
        files = [f["name"] for f in c.list_files("data18_13TeV", ds)]
        assert len(files) == 8
        assert (lk.rse_dir("CERN-PROD_DATADISK") / hash_path("data18_13TeV", files[0])).is_file()
        # ATLAS's own activity is an activity here (the generic lake refuses it, below).
        rid = c.add_replication_rule([{"scope": "data18_13TeV", "name": ds}], 1, "BNL-OSG2_DATADISK", activity="Functional Test XrootD")[0]
        assert c.get_replication_rule(rid)["activity"] == "Functional Test XrootD"
        # ATLAS lets any account register replicas on a SCRATCHDISK, and only admins on a DATADISK.
        jdoe = Client(rucio_host=lk.url, auth_host=lk.url, account="jdoe", auth_type="userpass",
                      creds={"username": "jdoe", "password": "jdoe-secret"})
        jdoe.add_replica("FZK-LCG2_SCRATCHDISK", "user.jdoe", "user.jdoe.test.0001.log", 3, "0a1b2c3d")
        with pytest.raises(AccessDenied):
            jdoe.add_replica("FZK-LCG2_DATADISK", "user.jdoe", "user.jdoe.test.0002.log", 3, "0a1b2c3d")
        with pytest.raises(InvalidObject):
            c.add_dataset("data18_13TeV", "/ZMM/Run2026A-v1/RAW#x")
        src = tmp_path / "evnt.bin"  # a local `*.pool.root*` file makes the client read its GUID with ATLAS's POOL tools
        src.write_bytes(b"atlas" * 3000)
        run_rucio("upload", "--rse", "BNL-OSG2_DATADISK", "--scope", "mc16_13TeV", "--lfn", "EVNT.12345678._000001.pool.root.1", str(src),
                  cfg=lk.cfg, env_extra=lk.env)
        assert (lk.rse_dir("BNL-OSG2_DATADISK") / hash_path("mc16_13TeV", "EVNT.12345678._000001.pool.root.1")).read_bytes() == src.read_bytes()
    finally:
        lk.stop()


def test_the_generic_lake_refuses_atlas_activities_and_lets_owners_register(lake, client, jdoe):
    from rucio.common.exception import InvalidObject
    with pytest.raises(InvalidObject):
        client.add_replication_rule([{"scope": "test", "name": "nosuch"}], 1, "SITE-A", activity="Functional Test XrootD")
    # Generic: an account registers replicas in its own scope on any RSE.
    jdoe.add_replica("SITE-A", "user.jdoe", "user.jdoe.test.0002.log", 3, "0a1b2c3d")


@pytest.mark.parametrize("example", ["cms-lake.yaml", "atlas-lake.yaml"])
def test_the_examples_simulate_and_meet_their_expectations(example, tmp_path):
    p = lakebed("simulate", "--quiet", "--json", str(EXAMPLES / example))
    assert p.returncode == 0, p.stdout + p.stderr
    report = json.loads(p.stdout)
    assert report["expectations"] and all(e["passed"] for e in report["expectations"])


def test_validate_checks_names_against_the_scenarios_policy(tmp_path):
    good = lakebed("scenario", "validate", str(EXAMPLES / "cms-lake.yaml"), str(EXAMPLES / "atlas-lake.yaml"))
    assert good.returncode == 0, good.stdout + good.stderr
    text = (EXAMPLES / "cms-lake.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("raw-{i}.root", "raw;{i}.root").replace("name: T2_IT_Pisa", "name: T2-IT-PISA"))
    p = lakebed("scenario", "validate", str(bad))
    assert p.returncode != 0
    lines = (p.stdout + p.stderr).splitlines()
    lfn_line = next(i for i, l in enumerate(text.splitlines(), 1) if "raw-{i}.root" in l)
    rse_line = next(i for i, l in enumerate(text.splitlines(), 1) if "name: T2_IT_Pisa" in l)
    assert any(f"bad.yaml:{lfn_line}:" in l and "files[0].name" in l and "cms policy" in l for l in lines), lines
    assert any(f"bad.yaml:{rse_line}:" in l and "rses[3].name" in l for l in lines), lines
    # The same CMS names in a scenario without `policy: cms` are generic, and refused with their place.
    generic = tmp_path / "generic.yaml"
    generic.write_text(text.replace("policy: cms\n", ""))
    p = lakebed("scenario", "validate", str(generic))
    assert p.returncode != 0 and "T1_US_FNAL_Disk" in p.stdout + p.stderr and "generic.yaml:" in p.stdout + p.stderr


def test_a_lake_keeps_its_policy_and_says_so(tmp_path):
    data = tmp_path / "lake"
    lk = Lake(data, args=["--empty", "--policy", "cms", "--time-scale", "0"]).start()
    lk.stop()
    other = subprocess.run([BIN, "serve", "--data-dir", str(data), "--port", "0", "--policy", "atlas"], capture_output=True, text=True,
                           timeout=60)
    assert other.returncode == 2 and "cms policy" in other.stderr and "--fresh" in other.stderr
    default = subprocess.run([BIN, "serve", "--data-dir", str(tmp_path / "new"), "--port", "0", "--policy", "cms"], capture_output=True,
                             text=True, timeout=60)
    assert default.returncode == 2 and "--empty" in default.stderr
    # Reopened without --policy it is still a CMS lake.
    again = Lake(data, args=["--time-scale", "0"]).start()
    try:
        from rucio.client import Client
        c = Client(rucio_host=again.url, auth_host=again.url, account="root", auth_type="userpass",
                   creds={"username": "ddmlab", "password": "secret"})
        c.add_rse("T1_US_FNAL_Disk")
        assert "T1_US_FNAL_Disk" in {r["rse"] for r in c.list_rses()}
    finally:
        again.stop()
