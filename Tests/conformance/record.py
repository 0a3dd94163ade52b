"""Adds the differences of a suite run that differences.py does not list yet, as entries to curate by hand.

    python Tests/conformance/record.py artifacts/conformance-results.json   # appends to differences.py

An entry is proposed as a Lakebed bug unless the real server answers 500 to a request Lakebed routes (Lakebed
answers client mistakes with a 4xx in Rucio's error format on purpose). Existing entries are never changed.
"""
import json
import pathlib
import pprint
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from differences import DIFFERENCES  # noqa: E402

MISSING = {"NotFound", "MethodNotAllowed"}


def proposal(x):
    a, b = x["rucio"], x["lakebed"]
    if x["method"] == "CLIENT":
        if b.get("raises") == "RucioException" and "raises" not in a:
            return "bug", "the client raises a bare RucioException: Lakebed lacks the route"
        return "bug", "the client sees another result"
    if b.get("exception") in MISSING and a.get("exception") not in MISSING:
        return "bug", "missing route in Lakebed" + (" (Rucio itself answers 500 here)" if a["status"] == 500 else "")
    if a["status"] == 500:
        return "deliberate", "Rucio answers 500 (an unhandled error) to a client mistake; Lakebed answers 4xx in Rucio's error format"
    diffs = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return "bug", "differs in " + ", ".join(diffs)


def main(path):
    results = json.loads(pathlib.Path(path).read_text())
    new = []
    for x in results:
        if x["rucio"] != x["lakebed"] and x["id"] not in DIFFERENCES:
            kind, note = proposal(x)
            if x.get("rucio_message"):
                note += f"; Rucio says: {x['rucio_message']}"
            if x.get("lakebed_message"):
                note += f"; Lakebed says: {x['lakebed_message']}"
            new.append(f"    {x['id']!r}: D({kind!r},\n"
                       f"      rucio={pprint.pformat(x['rucio'], width=200, sort_dicts=True)},\n"
                       f"      lakebed={pprint.pformat(x['lakebed'], width=200, sort_dicts=True)},\n"
                       f"      note={note!r}),\n")
    target = HERE / "differences.py"
    text = target.read_text()
    end = text.rindex("}")
    target.write_text(text[:end] + "".join(new) + text[end:])
    print(f"{len(new)} new entries")


if __name__ == "__main__":
    main(sys.argv[1])
