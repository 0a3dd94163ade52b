"""Lakebed from Python: an emulated Rucio data lake in one process, for tests and notebooks.

    from lakebed import Lake

    with Lake() as lake:                  # a private lake on free loopback ports, manual clock
        client = lake.client()            # the real rucio.client.Client, logged in as root
        print(client.whoami())
        lake.advance(3600)                # an hour of lake time: transfers, retries, daemons

With pytest, the plugin (installed with the package) gives every test the fixtures ``lake`` (reset to its seeded
state before each test), ``rucio_client`` and ``lake_factory``, and the marker ``@pytest.mark.lakebed(...)``.
"""

from ._binary import find_binary, find_scenario, shipped_scenarios
from ._version import __version__
from .lake import ControlError, Lake, LakeError, ROOT_PASSWORD, ROOT_USERNAME

__all__ = [
    "Lake",
    "LakeError",
    "ControlError",
    "ROOT_USERNAME",
    "ROOT_PASSWORD",
    "find_binary",
    "find_scenario",
    "shipped_scenarios",
    "__version__",
]
