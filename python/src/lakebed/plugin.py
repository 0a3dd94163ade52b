"""The pytest plugin (entry point ``pytest11``, loaded whenever the package is installed).

Fixtures:

* ``lake`` — a :class:`lakebed.Lake` shared by the session (with pytest-xdist: one per worker), reset to its
  seeded state before each test that uses it. ``@pytest.mark.lakebed(scenario=..., seed=..., time_scale=...,
  https=...)`` on a test, class or module picks another lake (also shared, also reset before each test).
  While a test runs, ``RUCIO_CONFIG``, ``TMPDIR`` and the ``LAKEBED_*`` variables point at its lake
  (:meth:`lakebed.Lake.as_default`), so ``Client()``, ``UploadClient`` and the ``rucio`` CLI reach it with no
  arguments, and rucio's in-process RSE cache is emptied.
* ``rucio_client`` — a ``rucio.client.Client`` logged in to ``lake`` as ``root``.
* ``lake_factory`` — ``lake_factory(scenario=None, **Lake_arguments)`` starts more lakes (stopped after the test).
  Their ``client()`` talks to them; for rucio's Upload/DownloadClient wrap the calls in ``with other.as_default():``.

Options: ``--lakebed-bin PATH`` (the executable; default the wheel's), ``--lakebed-keep`` (keep the data folder
of each failing test and say where, in the test's report).
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Generator, Iterator, List, Optional, Tuple

import pytest

from .lake import Lake, LakeError

MARKER = "lakebed"
_SPEC_KEYS = ("scenario", "seed", "time_scale", "https")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lakebed", "Lakebed (an emulated Rucio data lake)")
    group.addoption("--lakebed-bin", dest="lakebed_bin", default=None, metavar="PATH",
                    help="the lakebed executable (default: $LAKEBED_BIN, then the one installed with the package)")
    group.addoption("--lakebed-keep", dest="lakebed_keep", action="store_true", default=False,
                    help="keep the data folder of every failing test's lake and print where")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lakebed(scenario=None, seed=None, time_scale=0, https=True): run the test on a lake started with these "
        "settings (a scenario file or the name of a shipped one), shared with the tests that ask for the same")


_failed_key = pytest.StashKey[bool]()
_lakes_key = pytest.StashKey[List[Tuple[str, Lake]]]()
_manager_key = pytest.StashKey["LakeManager"]()


class LakeManager:
    """The lakes of one session (one per distinct marker), started on first use and stopped at the end."""

    def __init__(self, config: pytest.Config, keep_root: Path) -> None:
        self.config = config
        self.binary: Optional[str] = config.getoption("lakebed_bin")
        self.keep = bool(config.getoption("lakebed_keep"))
        self.keep_root = keep_root
        self.lakes: Dict[Tuple[Any, ...], Lake] = {}
        self.fresh: Dict[int, bool] = {}
        self.kept: List[Tuple[str, Path]] = []

    def get(self, spec: Dict[str, Any], base: Optional[Path]) -> Lake:
        scenario = spec.get("scenario")
        if scenario is not None:
            from ._binary import find_scenario

            scenario = find_scenario(scenario, base=base)
        key = (str(scenario), spec.get("seed"), spec.get("time_scale", 0), spec.get("https", True))
        lk = self.lakes.get(key)
        if lk is None or not lk.running:
            lk = Lake(scenario=scenario, seed=spec.get("seed"), time_scale=spec.get("time_scale", 0),
                      https=spec.get("https", True), binary=self.binary)
            lk.start()
            self.lakes[key] = lk
            self.fresh[id(lk)] = True
        return lk

    def prepare(self, lk: Lake) -> None:
        """Before a test: the lake back to its seeded state (unless nothing has used it since it started)."""
        if self.fresh.pop(id(lk), False):
            return
        if lk._clock_changed:  # the clock's speed is not part of the seed state: put it back
            lk.set_clock(scale=lk.time_scale if lk.time_scale is not None else 0, paused=False)
            lk._clock_changed = False
        lk.reset()

    def keep_failed(self, lk: Lake, nodeid: str) -> Path:
        """Copies a shared lake's state (a consistent snapshot) and event log out of its data folder."""
        name = "failed-" + re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid)[-50:]
        dest = self.keep_root / name
        n = 1
        while dest.exists():
            n += 1
            dest = self.keep_root / f"{name}-{n}"
        lk.snapshot(name)
        self.keep_root.mkdir(parents=True, exist_ok=True)
        shutil.move(str(lk.data_dir / "snapshots" / name), str(dest))
        _name_rse_dirs(dest)
        (dest / "events.txt").write_text(lk.control("GET", "events?format=text"))
        for f in (lk.root / "lakebed.log", lk.rucio_cfg):
            if f.exists():
                shutil.copy(f, dest / f.name)
        self.kept.append((nodeid, dest))
        return dest

    def close(self) -> None:
        for lk in self.lakes.values():
            lk.stop()
        self.lakes.clear()


def _name_rse_dirs(kept: Path) -> None:
    """A snapshot names RSE folders by RSE id; a person looks for SITE-A: rename them after the catalog's names."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(str(kept / "catalog.sqlite"))) as db:
            names = dict(db.execute("SELECT id, rse FROM rses"))
    except sqlite3.Error:
        return
    for rse_id, rse in names.items():
        src, dst = kept / "rses" / rse_id, kept / "rses" / rse
        if src.is_dir() and not dst.exists() and re.fullmatch(r"[A-Za-z0-9_-]+", rse):
            src.rename(dst)


@pytest.fixture(scope="session")
def _lakebed_manager(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LakeManager]:
    manager = LakeManager(request.config, tmp_path_factory.getbasetemp() / "lakebed-kept")
    request.config.stash[_manager_key] = manager
    try:
        yield manager
    finally:
        manager.close()


def _spec(node: pytest.Item) -> Dict[str, Any]:
    spec: Dict[str, Any] = {}
    # Closest first: a test's marker wins over its class's and its module's.
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            spec["scenario"] = mark.args[0]
        for k, v in mark.kwargs.items():
            if k not in _SPEC_KEYS:
                raise pytest.UsageError(f"@pytest.mark.lakebed: unknown argument {k!r} (use {', '.join(_SPEC_KEYS)})")
            spec[k] = v
    return spec


@pytest.fixture
def lake(request: pytest.FixtureRequest, _lakebed_manager: LakeManager) -> Iterator[Lake]:
    """The test's lake, in its seeded state (see the module's docstring)."""
    lk = _lakebed_manager.get(_spec(request.node), base=Path(str(request.node.path)).parent)
    _lakebed_manager.prepare(lk)
    request.node.stash.setdefault(_lakes_key, []).append(("shared", lk))
    with lk.as_default():
        yield lk


@pytest.fixture
def rucio_client(lake: Lake) -> Any:
    """A ``rucio.client.Client`` logged in to ``lake`` as ``root`` (needs ``pip install "lakebed[rucio]"``)."""
    return lake.client()


@pytest.fixture
def lake_factory(request: pytest.FixtureRequest, _lakebed_manager: LakeManager) -> Iterator[Callable[..., Lake]]:
    """Starts lakes of the test's own: ``lake_factory(scenario=None, **Lake_arguments)``; all stop after the test."""
    started: List[Lake] = []

    def make(scenario: Any = None, **kwargs: Any) -> Lake:
        kwargs.setdefault("binary", _lakebed_manager.binary)
        if scenario is not None:
            from ._binary import find_scenario

            scenario = find_scenario(scenario, base=Path(str(request.node.path)).parent)
        lk = Lake(scenario=scenario, **kwargs)
        lk.start()
        started.append(lk)
        request.node.stash.setdefault(_lakes_key, []).append(("own", lk))
        return lk

    try:
        yield make
    finally:
        for lk in started:
            lk.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if call.when == "call" and report.failed and item.config.getoption("lakebed_keep"):
        manager = item.config.stash.get(_manager_key, None)
        lines = []
        for kind, lk in item.stash.get(_lakes_key, []):
            try:
                if kind == "own":
                    lk.keep = True
                    where = lk.root
                    if manager is not None:
                        manager.kept.append((item.nodeid, where))
                elif manager is not None and lk.running:
                    where = manager.keep_failed(lk, item.nodeid)
                else:
                    continue
                lines.append(f"lakebed: kept the data folder of {lk!r} at {where}")
            except (LakeError, OSError) as e:
                lines.append(f"lakebed: could not keep the data folder of {lk!r}: {e}")
        if lines:
            report.sections.append(("lakebed", "\n".join(lines)))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    manager = config.stash.get(_manager_key, None)
    if manager is not None and manager.kept:
        terminalreporter.section("lakebed")
        for nodeid, where in manager.kept:
            terminalreporter.write_line(f"{nodeid}: data folder kept at {where}")
