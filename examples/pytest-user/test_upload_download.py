"""Upload and download real bytes through the lake's storage, with the Python client and with the CLI."""
import os
import subprocess
import sys
import zlib
from pathlib import Path

from rucio.client.downloadclient import DownloadClient
from rucio.client.uploadclient import UploadClient


def adler32(data: bytes) -> str:
    return "%08x" % zlib.adler32(data)


def test_upload_then_download_gives_back_the_same_bytes(rucio_client, tmp_path):
    payload = os.urandom(300_000)
    src = tmp_path / "observation.fits"
    src.write_bytes(payload)

    UploadClient(_client=rucio_client, logger=None).upload(
        [{"path": str(src), "rse": "SITE-A", "did_scope": "user.root", "did_name": "observation.fits"}])

    did = rucio_client.get_did("user.root", "observation.fits")
    assert did["bytes"] == len(payload) and did["adler32"] == adler32(payload)
    [replica] = rucio_client.list_replicas([{"scope": "user.root", "name": "observation.fits"}])
    assert list(replica["rses"]) == ["SITE-A"]

    out = tmp_path / "downloads"
    [result] = DownloadClient(client=rucio_client, logger=None).download_dids(
        [{"did": "user.root:observation.fits", "base_dir": str(out)}])
    assert result["clientState"] == "DONE"
    assert (out / "user.root" / "observation.fits").read_bytes() == payload


def rucio_cli(*args: str) -> subprocess.CompletedProcess:
    # RUCIO_CONFIG points at the test's lake while it runs.
    exe = Path(sys.executable).parent / "rucio"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, check=True)


def test_the_rucio_cli_uploads_lists_and_downloads(lake, tmp_path):
    payload = os.urandom(50_000)
    src = tmp_path / "cli.dat"
    src.write_bytes(payload)

    rucio_cli("upload", "--rse", "SITE-B", "--scope", "user.root", str(src))
    listing = rucio_cli("replica", "list", "file", "user.root:cli.dat").stdout
    assert "SITE-B" in listing and adler32(payload) in listing

    rucio_cli("download", "user.root:cli.dat", "--dir", str(tmp_path / "dl"))
    assert (tmp_path / "dl" / "user.root" / "cli.dat").read_bytes() == payload
    # The bytes really sit on the RSE's storage, and the lake is consistent.
    assert lake.check()["consistent"]


def test_every_test_starts_from_the_seeded_lake(rucio_client):
    # Whatever other tests uploaded is gone; the seeded demo dataset is there.
    assert list(rucio_client.list_dids("user.root", {"name": "*"})) == []
    files = [f["name"] for f in rucio_client.list_files("demo", "lofar.L630262")]
    assert len(files) == 4
