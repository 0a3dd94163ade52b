"""Tests of the lakebed package and its pytest plugin (they start real lakes: the wheel's, or $LAKEBED_BIN)."""
import os
import pathlib
import time

import pytest

pytest_plugins = ["pytester"]


def process_gone(pid: int) -> bool:
    """True when `pid` has exited (a zombie that init has not reaped yet counts as gone)."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")


def processes_mentioning(text: str) -> list:
    """Live processes whose command line contains `text`."""
    found = []
    for d in pathlib.Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmd and not process_gone(int(d.name)):
            found.append((int(d.name), cmd))
    return found


def wait_for(cond, timeout=30.0, what="condition"):
    """Polls a condition about *other processes* (not the lake's clock) for at most `timeout` wall seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


@pytest.fixture
def inner_env(monkeypatch, tmp_path):
    """Environment for inner pytest runs: a private TMPDIR, so their lake folders can be found and checked."""
    tmp = tmp_path / "inner-tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    return tmp
