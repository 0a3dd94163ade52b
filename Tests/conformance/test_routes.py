"""Every case of cases.py sent to the real Rucio 41.5.1 server and to Lakebed; what a client sees must agree,
unless differences.py lists the case (deliberate: both answers as recorded; Lakebed bug: strict xfail)."""
import copy
import json

import pytest

from cases import CASES
from differences import DIFFERENCES, LakebedDiffers
from signature import describe, signature


def _fill(value, world):
    if isinstance(value, str):
        try:
            return value.format(**world)
        except (KeyError, IndexError, ValueError):
            return value
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def send(side, case):
    token = {True: True, None: None, "user": side.world["user_token"],
             "bad": "root-ddmlab-unknown-00000000000000000000000000000000"}[case.token]
    kw = {}
    if case.json is not None:
        kw["data"] = json.dumps(_fill(copy.deepcopy(case.json), side.world))   # the client sends JSON as data=
    elif case.data is not None:
        kw["data"] = case.data
    if case.params:
        kw["params"] = _fill(case.params, side.world)
    r = side.request(case.method, _fill(case.path, side.world), token=token, headers=case.headers, **kw)
    side.last_message = r.headers.get("ExceptionMessage")   # kept in the results for the work queue, not compared
    return signature(r, side.world, case.datakeys)


def _param(case):
    d = DIFFERENCES.get(case.id)
    if d is not None and d.kind == "bug":
        return pytest.param(case, id=case.id, marks=pytest.mark.xfail(
            strict=True, raises=LakebedDiffers, reason=f"Lakebed bug; Rucio answers {describe(d.rucio)}"))
    return pytest.param(case, id=case.id)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_same_answer(sides, record, case):
    real, lake = sides
    a, b = send(real, case), send(lake, case)
    d = DIFFERENCES.get(case.id)
    record({"id": case.id, "method": case.method, "path": case.path, "rucio": a, "lakebed": b,
            "rucio_message": real.last_message, "lakebed_message": lake.last_message,
            "listed": d.kind if d else None, "note": d.note if d else None})
    if d is None:
        assert b == a, f"Rucio: {describe(a)}\nLakebed: {describe(b)}"
    elif d.kind == "deliberate":
        assert a == d.rucio, f"Rucio no longer answers as recorded: {describe(a)}"
        assert b == d.lakebed, f"Lakebed no longer answers as recorded: {describe(b)}"
    else:
        # The real behaviour is checked outside the expected failure: a wrong record fails for real.
        assert a == d.rucio, f"Rucio no longer answers as recorded: {describe(a)}"
        if b != a:
            raise LakebedDiffers(f"Rucio: {describe(a)}\nLakebed: {describe(b)}")


def test_every_difference_names_a_case():
    ids = {c.id for c in CASES}
    ids |= {"client:" + n for n in __import__("test_client").NAMES}
    assert not set(DIFFERENCES) - ids
