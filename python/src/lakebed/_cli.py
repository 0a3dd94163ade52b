"""The `lakebed` command installed by the wheel: runs the bundled executable with the same arguments."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from ._binary import find_binary


def main() -> NoReturn:
    """Replaces this process with the bundled ``lakebed`` (every subcommand: serve, simulate, token, ...)."""
    try:
        # Not PATH: the `lakebed` found there is this very script.
        binary = find_binary(os.environ.get("LAKEBED_BIN") or None, search_path=False)
    except FileNotFoundError as e:
        print(f"lakebed: {e}", file=sys.stderr)
        raise SystemExit(127)
    os.execv(str(binary), ["lakebed", *sys.argv[1:]])


if __name__ == "__main__":  # pragma: no cover
    main()
