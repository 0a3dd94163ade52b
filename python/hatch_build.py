"""Hatchling build hook: puts the `lakebed` executable into the wheel and tags the wheel for this platform.

The executable is the release build (`swift build -c release --static-swift-stdlib`, see Scripts/wheel). Its path
is `LAKEBED_WHEEL_BINARY`, or by default `../.build/release/lakebed` beside this folder. It is installed as
`lakebed/_bin/lakebed` inside the package, so tools that rewrite its RPATH (auditwheel repair) can point it at
libraries vendored next to the package; the `lakebed` command on PATH is a console script that runs it.

An editable install (`pip install -e python/`) ships no executable: `lakebed.Lake` then finds one through
`binary=`, `LAKEBED_BIN` or PATH.
"""

from __future__ import annotations

import os
import stat
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def platform_tag() -> str:
    """The wheel platform tag of the machine building the wheel (e.g. `linux_x86_64`)."""
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


class LakebedBinaryHook(BuildHookInterface):
    """Adds the executable and marks the wheel as platform-specific (py3-none-<platform>)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        default = Path(self.root).parent / ".build" / "release" / "lakebed"
        binary = Path(os.environ.get("LAKEBED_WHEEL_BINARY", str(default))).resolve()
        if not binary.is_file():
            raise RuntimeError(
                f"no lakebed executable at {binary}: build it first "
                "(swift build -c release --static-swift-stdlib, or run Scripts/wheel), "
                "or point LAKEBED_WHEEL_BINARY at one")
        with binary.open("rb") as f:
            if f.read(4) != b"\x7fELF":
                raise RuntimeError(f"{binary} is not an ELF executable")
        mode = binary.stat().st_mode
        if not mode & stat.S_IXUSR:
            raise RuntimeError(f"{binary} is not executable")
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{platform_tag()}"
        build_data["force_include"][str(binary)] = "lakebed/_bin/lakebed"
        # The shipped scenarios, so that `Lake(scenario="site-outage")` works from an installed wheel.
        scenarios = Path(self.root).parent / "scenarios"
        for f in sorted(scenarios.glob("*.yaml")) + sorted(scenarios.glob("*.md")):
            build_data["force_include"][str(f)] = f"lakebed/scenarios/{f.name}"
