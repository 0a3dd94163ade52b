"""What a client can see of an answer, minus values that legitimately differ (ids, dates, hosts)."""
import json
import re
from urllib.parse import urlsplit


def _keys(doc, datakeys):
    """Key set of a JSON document: a dict's keys, the union over a list's dicts; `datakeys` (a dict whose keys are
    data, e.g. `{"<rse>": bytes}`) describes the union of its values' keys (or the values' type) instead."""
    if isinstance(doc, dict):
        if datakeys:
            return _keys(list(doc.values()), False) if doc else "empty"
        return sorted(doc)
    if isinstance(doc, list):
        if not doc:
            return "[]"
        if all(isinstance(x, dict) for x in doc):
            return sorted(set().union(*doc))
        return "list of " + "/".join(sorted({type(x).__name__ for x in doc}))
    return type(doc).__name__


def signature(r, world=None, datakeys=False):
    ct = r.headers.get("Content-Type")
    sig = {"status": r.status_code, "content_type": ct, "exception": r.headers.get("ExceptionClass")}
    body = r.content
    if sig["exception"] is None and body[:1] == b"{":
        try:
            doc = json.loads(body)
            if isinstance(doc, dict) and "ExceptionClass" in doc:
                sig["exception"] = "body:" + str(doc["ExceptionClass"])
        except ValueError:
            pass
    if 300 <= r.status_code < 400:
        loc = r.headers.get("Location")
        if loc:
            parts = urlsplit(loc)
            loc = parts.path + ("?" + parts.query if parts.query else "")
            for k, v in (world or {}).items():
                if isinstance(v, str) and len(v) >= 8:
                    loc = loc.replace(v, "{" + k + "}")
        sig["location"] = loc
    if ct == "application/json":
        try:
            sig["keys"] = _keys(json.loads(body), datakeys)
        except ValueError:
            sig["keys"] = "invalid JSON"
    elif ct == "application/x-json-stream":
        docs, bad = [], False
        for line in body.decode("utf-8", "replace").splitlines():
            if line.strip():
                try:
                    docs.append(json.loads(line))
                except ValueError:
                    bad = True
        sig["keys"] = "invalid JSON line" if bad else _keys(docs, datakeys)
    return sig


def describe(sig):
    parts = [str(sig["status"]), f"Content-Type {sig['content_type']}"]
    if sig.get("exception"):
        parts.append(f"ExceptionClass {sig['exception']}")
    if "location" in sig:
        parts.append(f"Location {sig['location']}")
    if "keys" in sig:
        parts.append(f"keys {sig['keys']}")
    return ", ".join(parts)
