"""Load, bounded: 50 concurrent clients doing a realistic Rucio mix for a few seconds on the debug build.

The long variant (release build, 60 s) is `Scripts/load`; both use `loadgen.py`, and only it holds requests to an
absolute time (on a shared 2-core CI runner such a bound fails for reasons that are not the code's). Here: zero
errors, no starvation (a /ping probe during the load, compared with /ping on the idle lake in the same run), and
afterwards what a user would check: every uploaded file's bytes on its RSE with the registered size and
adler32, its replica AVAILABLE, and every rule that was added known to the server.
"""
import os

import loadgen
from conftest import BIN

CLIENTS = int(os.environ.get("LAKEBED_LOAD_CLIENTS", "50"))
DURATION = float(os.environ.get("LAKEBED_LOAD_SECONDS", "12"))
# The debug build is several times slower than the release one that Scripts/load measures flat out; here each
# client pauses between operations (1 s on average, as a user would), which keeps the debug server well below
# saturation, so the fairness check tests the server and not a queue of 50 clients in front of a debug build.
THINK = float(os.environ.get("LAKEBED_LOAD_THINK", "1.0"))


def test_fifty_clients_realistic_mix(tmp_path):
    server = loadgen.Server(BIN, tmp_path, CLIENTS, time_scale=10)
    try:
        res = loadgen.run_load(server, clients=CLIENTS, duration=DURATION, seed=7, think=THINK)
        print("\n" + loadgen.report(res))
        problems = loadgen.failures(res, limit=None) + loadgen.unfair(res)
        assert not problems, "\n".join(problems)
        # The mix really ran: every kind of operation, uploads over both protocols, rules.
        assert set(res["ops"]) == set(loadgen.MIX), res["ops"].keys()
        assert {u[5] for u in res["uploads"]} == {"https", "file"}
        assert res["rules"], "no rule was added"
        assert any(k.startswith("PUT /storage") for k in res["requests"]), "no WebDAV upload"
        problems = loadgen.verify(server, res)
        assert not problems, "\n".join(problems[:20])
    finally:
        server.stop()
