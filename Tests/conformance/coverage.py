"""Writes docs/api-coverage.md: every route of Rucio 41.5.1's REST layer (the Flask app's url_map) and every
`_send_request` path of the rucio-clients 41.5.1 `rucio/client/*.py`, with the client functions that call each
route and Lakebed's status, taken from a differential run (artifacts/conformance-results.json) and, for routes no
case covers, from probing a fresh Lakebed.

    .venv-rucio/bin/python Tests/conformance/coverage.py CLIENT_PKG_DIR RESULTS_JSON LAKEBED_BIN OUT_MD

Runs with the server venv's Python (it imports Rucio's Flask app); the client package is only parsed.
"""
import ast
import json
import os
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def client_calls(pkg):
    """[(module.Class.function, METHOD, path template with 'x' for variable segments)]"""
    out = []
    for f in sorted(pathlib.Path(pkg, "client").glob("*.py")):
        tree = ast.parse(f.read_text())
        for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
            consts = {t.id: n.value.value for n in cls.body if isinstance(n, ast.Assign)
                      for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
            for fn in [n for n in cls.body if isinstance(n, ast.FunctionDef)]:
                sends = [c for c in ast.walk(fn) if isinstance(c, ast.Call) and getattr(c.func, "attr", "") == "_send_request"]
                if not sends:
                    continue
                paths, first = {}, {}
                for n in ast.walk(fn):
                    if isinstance(n, ast.Assign):
                        for t in n.targets:
                            if isinstance(t, ast.Name):
                                paths.setdefault(t.id, []).append(n.value)
                                first.setdefault(t.id, n.value)
                consts = dict(consts, __locals__=first)
                templates = []
                for n in ast.walk(fn):
                    if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == "build_url":
                        for kw in n.keywords:
                            if kw.arg == "path":
                                exprs = paths.get(kw.value.id, [])[-1:] if isinstance(kw.value, ast.Name) else [kw.value]
                                templates += [render(e, consts) for e in exprs]
                for s in sends:
                    method = "GET"
                    for kw in s.keywords:
                        if kw.arg in ("type_", "method"):
                            if isinstance(kw.value, ast.Constant):
                                method = kw.value.value
                            elif isinstance(kw.value, ast.Attribute):   # HTTPMethod.POST
                                method = kw.value.attr
                    for t in templates or ["?"]:
                        out.append((f"{f.stem}.{fn.name}", method, t))
    return sorted(set(out))


def render(e, consts, depth=0):
    if isinstance(e, ast.Name) and depth < 5 and e.id in consts.get("__locals__", {}):
        return render(consts["__locals__"][e.id], consts, depth + 1)
    if isinstance(e, ast.Constant):
        return str(e.value)
    if isinstance(e, ast.Attribute) and e.attr in consts:
        return consts[e.attr]
    if isinstance(e, ast.Call) and getattr(e.func, "attr", "") == "join" and isinstance(e.func.value, ast.Constant):
        if e.args and isinstance(e.args[0], (ast.List, ast.Tuple)):
            return e.func.value.value.join(render(x, consts, depth) for x in e.args[0].elts)
        if e.args and isinstance(e.args[0], ast.Name):
            inner = consts.get("__locals__", {}).get(e.args[0].id)
            if isinstance(inner, (ast.List, ast.Tuple)):
                return e.func.value.value.join(render(x, consts, depth + 1) for x in inner.elts)
        return "x"
    if isinstance(e, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else render(v.value, consts, depth) for v in e.values)
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
        return render(e.left, consts, depth) + render(e.right, consts, depth)
    return "x"


def concrete(template):
    n = [0]

    def seg(s):
        if s == "x" or s.startswith("<"):
            n[0] += 1
            return f"x{n[0]}"
        return s
    return "/" + "/".join(seg(s) for s in template.strip("/").split("/"))


def main(client_pkg, results_path, lakebed_bin, out):
    if "RUCIO_CONFIG" not in os.environ:   # importing Rucio's app reads its configuration: a throwaway server setup
        from realrucio import RealRucio
        srv = RealRucio(tempfile.mkdtemp(prefix="rucio-coverage-"))
        srv.configure()
        os.environ["RUCIO_CONFIG"] = str(srv.cfg)
    from werkzeug.exceptions import MethodNotAllowed, NotFound
    from werkzeug.routing import RequestRedirect
    from rucio.web.rest.flaskapi.v1.main import application
    adapter = application.url_map.bind("localhost")
    rules = {}
    for r in application.url_map.iter_rules():
        if r.endpoint == "static":
            continue
        for m in sorted(r.methods - {"HEAD", "OPTIONS"}):
            rules[(r.rule, m)] = {"callers": set(), "cases": []}

    def match(path, method):
        try:
            rule, _ = adapter.match(path.split("?")[0], method, return_rule=True)
            return rule.rule
        except RequestRedirect as e:
            return "redirect:" + e.new_url.replace("http://localhost", "")
        except (NotFound, MethodNotAllowed):
            return None

    unmatched = []
    for fn, method, tpl in client_calls(client_pkg):
        rule = match(concrete(tpl), method)
        if rule and rule.startswith("redirect:"):
            rule = match(rule[len("redirect:"):], method)
        if rule and (rule, method) in rules:
            rules[(rule, method)]["callers"].add(fn)
        else:
            unmatched.append((fn, method, tpl))

    results = json.loads(pathlib.Path(results_path).read_text())
    for x in results:
        path = x["path"]
        for k in ("scope", "uscope", "user", "rse1", "rse2", "rse3", "rule_ds1", "rule_file3", "rule_upload"):
            path = path.replace("{" + k + "}", "x" + k)
        rule = match(path, x["method"])
        if rule and not rule.startswith("redirect:") and (rule, x["method"]) in rules:
            rules[(rule, x["method"])]["cases"].append(x)

    # A rule Rucio's own url_map never reaches: its paths (trailing slash kept) match an earlier rule.
    shadowed = {}
    for (rule, method), v in rules.items():
        if not v["cases"]:
            path = concrete(rule) + ("/" if rule.endswith("/") else "")
            other = match(path, method)
            if other and not other.startswith("redirect:") and other != rule:
                shadowed[(rule, method)] = other
    probes = probe_lakebed(lakebed_bin, [k for k, v in rules.items() if not v["cases"] and k not in shadowed], concrete)
    counts = {"same": 0, "differs": 0, "missing": 0, "not compared": 0, "shadowed": 0}
    rows = []
    for (rule, method), v in sorted(rules.items()):
        cases = v["cases"]
        if cases:
            miss = [c for c in cases if c["lakebed"].get("exception") in ("NotFound", "MethodNotAllowed")
                    and c["rucio"].get("exception") not in ("NotFound", "MethodNotAllowed")]
            diff = [c for c in cases if c["rucio"] != c["lakebed"]]
            if miss and len(miss) == len(cases):
                status = "missing"
                why = "Lakebed answers " + f"{miss[0]['lakebed']['status']} {miss[0]['lakebed']['exception']}"
            elif diff:
                status = "differs"
                why = "; ".join(f"`{c['id']}`: {c['note'] or 'unlisted'}" for c in diff)
            else:
                status, why = "same", ""
            why = (why + " — cases: " if why else "cases: ") + ", ".join(f"`{c['id']}`" for c in cases)
        elif (rule, method) in shadowed:
            status = "shadowed"
            why = f"Rucio never routes here: its url_map sends every such path to `{shadowed[(rule, method)]}` first"
        else:
            p = probes.get((rule, method))
            if p in ("NotFound", "MethodNotAllowed"):
                status, why = "missing", f"no case; Lakebed answers {p} to a probe"
            else:
                status, why = "not compared", f"no case yet; Lakebed routes it (probe: {p})"
        counts[status] += 1
        callers = ", ".join(f"`{c}`" for c in sorted(v["callers"])) or "—"
        rows.append(f"| `{rule}` | {method} | {callers} | **{status}** | {why} |")
    called = sum(1 for v in rules.values() if v["callers"])
    called_missing = sum(1 for (k, v), row in zip(sorted(rules.items()), rows) if v["callers"] and "**missing**" in row)
    text = [
        "# Rucio REST API coverage",
        "",
        "Generated by `Tests/conformance/coverage.py` from a run of the differential suite (`Tests/conformance/`,",
        "see [conformance.md](conformance.md)) against the real Rucio 41.5.1 server; do not edit by hand.",
        "One row per route and method of Rucio 41.5.1's REST layer (the Flask app's url_map, static files left out);",
        "**callers** are the rucio-clients 41.5.1 functions whose `_send_request` reaches it (trailing-slash",
        "redirects followed). Status: **same** — every case on the route answered as Rucio does; **differs** — some",
        "case differs (the note comes from `Tests/conformance/differences.py`); **missing** — Lakebed answers 404",
        "NotFound / 405 MethodNotAllowed where Rucio routes the request; **not compared** — no case yet, Lakebed",
        "routes it; **shadowed** — a rule of Rucio's map that its own matching never reaches (an earlier rule takes",
        "every path it would match).",
        "",
        f"Routes × methods: {len(rules)} — same {counts['same']}, differs {counts['differs']}, missing "
        f"{counts['missing']}, not compared {counts['not compared']}, shadowed {counts['shadowed']}. Called by the 41.5.1 client: {called} "
        f"(of which missing in Lakebed: {called_missing}).",
        "",
        "| route | method | client callers | Lakebed | why / cases |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "## Client calls that match no server route",
        "",
        "Paths the 41.5.1 client builds that Rucio 41.5.1's REST layer does not route (or that the parser could not",
        "render; `x` is a variable segment):",
        "",
        *[f"- `{fn}`: {m} `{t}`" for fn, m, t in unmatched],
        "",
    ]
    pathlib.Path(out).write_text("\n".join(text))
    print(json.dumps(counts), f"client-called routes: {called}, missing among them: {called_missing}")


def probe_lakebed(binary, keys, concrete):
    """Starts a fresh Lakebed and sends each route a request with dummy values and root's token; answers the
    ExceptionClass (or status) it gets."""
    import subprocess
    import requests
    from realrucio import free_port
    if not keys:
        return {}
    port = free_port()
    d = tempfile.mkdtemp(prefix="lakebed-probe-")
    proc = subprocess.Popen([binary, "serve", "--data-dir", d, "--port", str(port), "--no-https"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if "Lakebed ready at" in line:
                break
        url = f"http://127.0.0.1:{port}"
        tok = requests.get(url + "/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret"},
                           timeout=30).headers["X-Rucio-Auth-Token"]
        out = {}
        for rule, method in keys:
            r = requests.request(method, url + concrete(rule), headers={"X-Rucio-Auth-Token": tok}, data="{}",
                                 allow_redirects=False, timeout=30)
            out[(rule, method)] = r.headers.get("ExceptionClass") or str(r.status_code)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main(*sys.argv[1:5])
