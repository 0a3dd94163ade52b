"""Finding the `lakebed` executable and the scenario files shipped with the package."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

PACKAGE_DIR = Path(__file__).resolve().parent
#: Where the wheel puts the release executable.
BUNDLED_BINARY = PACKAGE_DIR / "_bin" / "lakebed"
#: Where the wheel puts the repository's scenarios/ (for `Lake(scenario="site-outage")`).
BUNDLED_SCENARIOS = PACKAGE_DIR / "scenarios"
#: In a source checkout (editable install), the repository's own scenarios/ folder.
_CHECKOUT_SCENARIOS = PACKAGE_DIR.parents[2] / "scenarios" if len(PACKAGE_DIR.parents) > 2 else None


def find_binary(binary: Optional[PathLike] = None, search_path: bool = True) -> Path:
    """The `lakebed` executable to run: `binary`, else ``$LAKEBED_BIN``, else the one in the wheel, else PATH."""
    candidates = []
    if binary is not None:
        candidates.append(("binary=", Path(binary)))
    elif os.environ.get("LAKEBED_BIN"):
        candidates.append(("LAKEBED_BIN", Path(os.environ["LAKEBED_BIN"])))
    else:
        candidates.append(("the wheel", BUNDLED_BINARY))
        found = shutil.which("lakebed") if search_path else None
        if found:
            candidates.append(("PATH", Path(found)))
    for _, path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path.resolve()
    where = ", ".join(f"{src}: {p}" for src, p in candidates)
    raise FileNotFoundError(
        f"no lakebed executable found ({where}). Install the wheel (pip install lakebed), "
        "or pass binary= / --lakebed-bin / LAKEBED_BIN")


def scenario_dirs() -> list[Path]:
    """Folders searched for scenario names: the wheel's copy, then a source checkout's scenarios/."""
    dirs = [BUNDLED_SCENARIOS]
    if _CHECKOUT_SCENARIOS is not None:
        dirs.append(_CHECKOUT_SCENARIOS)
    return [d for d in dirs if d.is_dir()]


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with Lakebed (``site-outage``, ``workshop-demo``, ...)."""
    names = {p.stem for d in scenario_dirs() for p in d.glob("*.yaml")}
    return sorted(names)


def find_scenario(scenario: PathLike, base: Optional[Path] = None) -> Path:
    """A scenario file: an existing path (relative to `base`, then the working folder), or the name of a
    shipped scenario with or without ``.yaml``."""
    p = Path(scenario)
    tries = []
    if base is not None and not p.is_absolute():
        tries.append(base / p)
    tries.append(p)
    for d in scenario_dirs():
        tries.append(d / p.name)
        tries.append(d / (p.name + ".yaml"))
    for t in tries:
        if t.is_file():
            return t.resolve()
    raise FileNotFoundError(f"no scenario {str(scenario)!r} (shipped: {', '.join(shipped_scenarios()) or 'none'})")
