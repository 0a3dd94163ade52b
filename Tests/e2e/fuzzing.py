"""A seeded, deterministic property-based fuzzer for Lakebed's Rucio API (stdlib only).

It reads the OpenAPI description Lakebed serves (`GET /lakebed/openapi.json`, generated from the route table) and,
for every operation, generates hostile requests: broken and truncated JSON, wrong JSON types, depth bombs, unknown
enum values, huge bodies, odd encodings (invalid and overlong UTF-8, %00, double encoding, Unicode oddities), path
traversal in scopes, names, PFNs and RSE names, bad query strings, odd headers, with and without a valid token.
A share of the cases are malformed at the HTTP level (CR/LF in header values, oversize or too many headers,
duplicate Content-Length, bad Transfer-Encoding, random byte mutations of a request) and go over a raw socket.

Case `i` of seed `s` is always the same request (`Fuzzer.case(i)`), whatever the threads, so a failure reports
`seed` and `case` and can be replayed alone. Used by Tests/e2e/test_fuzz.py (bounded) and Scripts/fuzz (long).
"""
import collections
import http.client
import json
import random
import socket
import threading
import time
import urllib.parse

# Strings that try to leave a directory, break a parser or a header, or look alike after normalisation.
HOSTILE_STRINGS = [
    "../../etc/passwd", "..", ".", "../", "./../..", "/etc/passwd", "/", "//", "..\\..\\windows\\win.ini", "\\\\server\\share",
    "....//....//etc/passwd", "..;/..;/", "%2e%2e%2f%2e%2e%2f", "%252e%252e%252f", "..%00/", "a\x00b", "\x00",
    "line\r\nX-Injected: 1", "\r\n\r\nHTTP/1.1 200 OK", "\n", "\t", " ", "", "null", "None", "True", "undefined", "NaN",
    "'; DROP TABLE dids; --", "\" OR 1=1 --", "%s%s%n%x", "${jndi:ldap://127.0.0.1/a}", "{{7*7}}", "<script>alert(1)</script>",
    "*", "**", "?", "#", "&", "=", ":", "::", "a:b:c", "user.root:../x", "\u202egnp.exe", "\ufeffbom", "\u0000\u0001\u001f",
    "\u00e9", "e\u0301", "\ufb01le", "\uff0e\uff0e\uff0fetc", "\u2025/etc", "\u2028", "\U0001F4A5", "\u0130", "\u212a",
    "A" * 300, "x" * 5000, "-1", "0", "99999999999999999999999", "1e309", "-0",
]
# Byte sequences for URLs that no Python str can carry: invalid UTF-8, overlong encodings of '.', '/', NUL.
RAW_URL_PIECES = [
    "%ff%fe", "%c0%ae%c0%ae%c0%af", "%e0%80%ae%e0%80%ae/", "%c0%80", "%ed%a0%80", "%f4%90%80%80", "%80", "%00", "%2F..%2F..%2F",
    "%5c..%5c..%5c", "%25", "%", "%zz", "%%%", "%2", "..%2f..%2fetc%2fpasswd", "%252e%252e%252f", "%u002e%u002e", ";", ";a=b",
]
# Numbers at the edges: Int64's limits, past them, doubles that overflow a conversion, strings Python would float().
BOUNDARY_NUMBERS = [2 ** 63 - 1, -(2 ** 63), 2 ** 63, -(2 ** 63) - 1, 2 ** 53 + 1, 2 ** 31, -(2 ** 31) - 1, 10 ** 30, 1e300, -1e300,
                    5e-324, -1, 0, -0.0, 0.5, "inf", "-inf", "nan", "1e999", "-1", "9223372036854775808", "0x10", " 1 "]
WRONG_TYPES = [0, -1, 1, 2 ** 63, -(2 ** 63) - 1, 10 ** 30, 1e308, -1e308, 0.5, -0.0, True, False, None, [], {}, [None], {"": None},
               "", "string", ["a", 1, None], [[[[[]]]]], {"a": {"b": {"c": []}}}] + BOUNDARY_NUMBERS
HOSTILE_EXPRESSIONS = ["(" * 100 + "SITE-A" + ")" * 100, "(" * 5000 + "SITE-A" + ")" * 5000, "|".join(["SITE-A"] * 1400),
                       "|".join(["SITE-A"] * 5000), "\\".join(["tier=2"] * 400), "(SITE-A", "SITE-A)", "()", "", "*&*\\*",
                       "tier<1e999", "tier>nan", "tier=", "=2", "SITE-A|", "site-a", "SITE-A&(tier=2|(country=CH\\SITE-C))"]
UNKNOWN_ENUMS = ["BOGUS", "", " ", "dataset ", "Dataset", "DATASET\x00", "\uff24\uff21\uff34\uff21", "ALL;DROP", "null", "0", "*",
                 "x" * 1000, "..", "F", "A ", "ALLL"]
VALID = {
    "scope": ["demo", "demo", "test", "user.root"], "name": ["lofar.L630262", "lofar.L630262", "L630262_SB0_uv.MS.tar", "ds1", "fuzz.ds"],
    "account": ["jdoe", "fuzzer", "nobody"], "rse": ["SITE-A", "SITE-B", "SITE-C", "FUZZ-RSE"], "src": ["SITE-A", "SITE-B"],
    "dst": ["SITE-B", "SITE-C"], "key": ["k", "tier", "guid"], "scheme": ["file", "https", "root"], "hostname": ["localhost"],
    "port": ["0", "443"], "expr": ["tier=2", "SITE-A", "SITE-A|SITE-B"], "id": ["0" * 32, "deadbeef" * 4],
    "rse_expression": ["tier=2", "SITE-A", "SITE-B|SITE-C"], "identity": ["ddmlab", "jdoe"], "email": ["x@example.org"],
}
# Dot-segments as an attacker sends them (a client resolves literal ones before sending): every path parameter gets them.
DOT_SEGMENTS = ["%2e%2e", "%2E%2e", "%2e", "..%2F..%2Fx", "a%2Fb", "%2e%2e%2f%2e%2e", "..", ".", "%2e%2e%5c", "%252e%252e"]
# Lakebed's own routes whose parameters become paths (snapshots, RSE folders, links, FTS jobs).
DOT_SEGMENT_SERVICES = [("POST", "/lakebed/snapshots/{}"), ("POST", "/lakebed/snapshots/{}/restore"), ("PUT", "/lakebed/links/{}/{}"),
                        ("GET", "/storage/SITE-A/{}"), ("PROPFIND", "/storage/{}/{}"), ("DELETE", "/storage/SITE-A/{}/{}"),
                        ("GET", "/fts/jobs/{}"), ("DELETE", "/fts/jobs/{}"), ("GET", "/dashboard/api/rules/{}")]
# Web pages of other sites: a loopback lake answers them 403 whatever they ask.
FOREIGN_ORIGINS = ["https://evil.example", "null", "http://127.0.0.1.evil.example", "http://localhost.evil.example:80"]
FOREIGN_HOSTS = ["attacker.example", "attacker.example:80", "127.0.0.1.nip.io", "evil.example:8080"]
MAX_BODY = 32 << 20
# The methods llhttp (NIO's HTTP/1 parser) knows; any other is refused at the protocol level.
KNOWN_METHODS = set("DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH SEARCH UNLOCK BIND "
                    "REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE PATCH PURGE "
                    "MKCALENDAR LINK UNLINK SOURCE QUERY".split())


def did():
    return {"scope": "demo", "name": "lofar.L630262"}


class Operation:
    """One method on one path of the description."""

    def __init__(self, template, method, op):
        self.template, self.method = template, method.upper()
        self.pattern = op.get("x-lakebed-pattern", template)
        params = op.get("parameters", [])
        self.path_params = [p["name"] for p in params if p["in"] == "path"]
        self.query = [(p["name"], p.get("schema", {})) for p in params if p["in"] == "query"]
        self.headers = [(p["name"], p.get("schema", {})) for p in params if p["in"] == "header"]
        self.auth = bool(op.get("security"))
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        self.body_is_list = bool(schema and schema.get("type") == "array")
        obj = (schema.get("items") if self.body_is_list else schema) if schema else None
        self.body_fields = list((obj or {}).get("properties", {}).items())
        self.required = set((obj or {}).get("required", []))

    def __repr__(self):
        return f"{self.method} {self.pattern}"


def operations(spec):
    return [Operation(t, m, op) for t, item in spec["paths"].items() for m, op in item.items()]


class Case:
    """One generated request: `raw` bytes for the socket when it is malformed at the HTTP level."""

    def __init__(self, index, kind, op, method="GET", target="/", headers=(), body=None, raw=None, timeout=10.0):
        self.index, self.kind, self.op = index, kind, op
        self.method, self.target, self.headers, self.body, self.raw, self.timeout = method, target, list(headers), body, raw, timeout
        # Control characters in a header value, or a method NIO's parser does not know, are malformed HTTP too:
        # the answer may be a bare 400 from the HTTP layer instead of a Rucio error.
        self.malformed = method not in KNOWN_METHODS or any(
            any(ord(ch) < 32 and ch != "\t" or ord(ch) == 127 for ch in v) for _, v in self.headers)

    def describe(self):
        body = "" if self.body is None else f" body[{len(self.body)}]={self.body[:80]!r}"
        if self.raw is not None:
            return f"case {self.index} ({self.kind}) raw[{len(self.raw)}]={self.raw[:160]!r}"
        return f"case {self.index} ({self.kind}, {self.op}) {self.method} {self.target[:160]}{body}"


class Fuzzer:
    """Generates case `i` of a seed deterministically; `kinds` weights decide what each case attacks."""

    KINDS = [("path", 18), ("query", 11), ("body_types", 15), ("boundary", 10), ("body_broken", 12), ("body_encoding", 7),
             ("enum", 9), ("headers", 7), ("method", 3), ("unknown_path", 2), ("protocol", 4), ("services", 6),
             ("dot_segments", 6), ("many_params", 3), ("cross_site", 3), ("heavy_listing", 2)]
    # Bodies over the limit are expensive to send: one case in this many.
    HUGE_EVERY = 2500

    def __init__(self, spec, seed, token, schema_resolver=None):
        self.ops = operations(spec)
        self.seed, self.token = seed, token
        self.components = spec.get("components", {}).get("schemas", {})
        self.kinds = [k for k, w in self.KINDS for _ in range(w)]

    # ---- values -------------------------------------------------------------------------------------------------
    def resolve(self, schema):
        ref = schema.get("$ref")
        return self.components.get(ref.rsplit("/", 1)[1], {}) if ref else schema

    def valid(self, rng, name, schema, depth=0):
        schema = self.resolve(schema)
        if "enum" in schema:
            return rng.choice(schema["enum"])
        t = schema.get("type")
        if schema.get("properties", {}).keys() >= {"scope", "name"} and rng.random() < 0.7:
            return {"scope": "demo", "name": rng.choice(["lofar.L630262", "L630262_SB0_uv.MS.tar"])} if "bytes" not in schema["properties"] else \
                {"scope": "demo", "name": "fz" + str(rng.randrange(50)), "bytes": rng.choice([0, 10, 1000]), "adler32": "00000001"}
        if t == "string" or t is None and name in VALID:
            return rng.choice(VALID.get(name, ["fuzz", "f1", "x"]))
        if t == "integer":
            return rng.choice([0, 1, 2, 1024])
        if t == "number":
            return rng.choice([0, 1.5, 3600])
        if t == "boolean":
            return rng.choice([True, False])
        if t == "array":
            items = schema.get("items", {})
            return [self.valid(rng, name, items, depth + 1) for _ in range(rng.randint(0, 3))] if depth < 3 else []
        if t == "object" and "properties" in schema and depth < 3:
            return {k: self.valid(rng, k, s, depth + 1) for k, s in schema["properties"].items()
                    if k in schema.get("required", []) or rng.random() < 0.5}
        if t == "object":
            return rng.choice([{}, {"guid": "abc"}, {"k": "v"}])
        return rng.choice(["x", 1, True, None, {"k": "v"}])

    def hostile_string(self, rng):
        s = rng.choice(HOSTILE_STRINGS)
        if rng.random() < 0.2:
            s = rng.choice(VALID["scope"]) + rng.choice(["/", ":", "\\", "/../"]) + s
        return s

    def valid_body(self, rng, op):
        def one():
            return {k: self.valid(rng, k, s) for k, s in op.body_fields if k in op.required or rng.random() < 0.6}
        return [one() for _ in range(rng.randint(1, 3))] if op.body_is_list else one()

    # ---- URLs ---------------------------------------------------------------------------------------------------
    @staticmethod
    def quote(s):
        return urllib.parse.quote(s, safe="")

    def path_value(self, rng, name, hostile):
        if not hostile:
            return self.quote(rng.choice(VALID.get(name, ["fuzz"])))
        r = rng.random()
        if r < 0.45:
            return self.quote(self.hostile_string(rng))
        if r < 0.7:
            return rng.choice(RAW_URL_PIECES) + rng.choice(["", "etc%2fpasswd", "x"])
        if r < 0.8:  # literal dot segments and slashes in the raw path
            return rng.choice(["..", ".", "../..", "a/../..", "..%2F..", "%2e%2e/%2e%2e"])
        if r < 0.9:
            return self.quote(self.quote(self.hostile_string(rng)))  # double encoding
        return self.quote("\u00e9" * rng.randint(1, 3000))

    def path(self, rng, op, hostile_params=()):
        out = op.template
        for p in op.path_params:
            out = out.replace("{" + p + "}", self.path_value(rng, p, p in hostile_params), 1)
        if rng.random() < 0.2:
            out += "/"
        return out

    def query_string(self, rng, op, hostile):
        pairs = []
        for name, schema in op.query:
            if rng.random() < 0.6:
                pairs.append((name, self.valid(rng, name, schema) if not hostile else rng.choice(
                    [self.hostile_string(rng), rng.choice(UNKNOWN_ENUMS), str(rng.choice(WRONG_TYPES)), "[{'name': ", "[" * 500,
                     "{'a': " * 40, "-1", "99999999999999999999", "1e400", "nan"])))
        if not hostile:
            return "&".join(f"{self.quote(k)}={self.quote(str(v))}" for k, v in pairs)
        parts = [f"{self.quote(k)}={self.quote(str(v))}" for k, v in pairs]
        for _ in range(rng.randint(0, 4)):
            parts.append(rng.choice([
                "=", "&&&", "a", "a=", "=b", "%", "%zz=%zz", "a=%ff%fe", "a=%c0%ae", "filters=%5B%7B%27name%27%3A+%27x%2A%27%7D%5D",
                "limit=-1", "limit=99999999999999999999", "long=yes", "recursive=maybe", "type=BOGUS", "did_type=%00",
                "key=" + "k" * 2000, "a=1&a=2&a=3", "+++=+++", "name=..%2F..%2Fetc", "lfn=test%3A..%2F..%2Fetc%2Fpasswd",
                "expression=" + self.quote(rng.choice(["(", "tier=", "A|", "\\", "*" * 100, "SITE-A&" * 50])),
                "request_states=" + self.quote("['Q', 'BOGUS', None]"), "plugin=" + self.quote(rng.choice(UNKNOWN_ENUMS)),
            ]))
        rng.shuffle(parts)
        return "&".join(parts)

    # ---- headers ------------------------------------------------------------------------------------------------
    def auth_headers(self, rng, op, hostile=False):
        h = []
        r = rng.random()
        if not hostile:
            if op.auth or r < 0.5:
                h.append(("X-Rucio-Auth-Token", self.token))
            return h
        h.append(("X-Rucio-Auth-Token", rng.choice([
            "", "bogus", self.token + "x", self.token[:-3], "root-" + "A" * 4000, "a.b.c", "..", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.",
            "eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLy4uL2V0Yy9wYXNzd2QifQ.e30.AAAA", "x.y.z.w", "%00", "\u00e9\u00e9".encode().decode("latin-1"),
            self.token + " " + self.token])))
        return h

    def odd_headers(self, rng, op):
        h = self.auth_headers(rng, op, hostile=rng.random() < 0.6)
        for _ in range(rng.randint(1, 4)):
            h.append(rng.choice([
                ("X-Rucio-Account", rng.choice(["root", "../root", "nobody", "", "a" * 500])), ("X-Rucio-VO", rng.choice(["def", "xyz", ""])),
                ("X-Rucio-Username", self.hostile_string(rng).encode("utf-8", "replace").decode("latin-1").replace("\r", "").replace("\n", "")),
                ("X-Rucio-Password", "secret"), ("X-Rucio-AppID", "fuzz" * 50), ("Accept", rng.choice(["application/metalink4+xml", "*/*", "text/html", "application/x-json-stream", "\u00e9".encode().decode("latin-1")])),
                ("Content-Type", rng.choice(["application/json", "text/plain", "multipart/form-data; boundary=x", "application/json; charset=utf-16", ""])),
                ("Accept-Encoding", "gzip, deflate, br"), ("Range", "bytes=0-1"), ("If-None-Match", "*"), ("Origin", "http://evil.example"),
                ("X-Forwarded-For", "127.0.0.1, ::1"), ("Cookie", "a=" + "b" * 1000), ("Authorization", "Bearer a.b.c"),
                ("Connection", rng.choice(["keep-alive", "Upgrade", "TE"])), ("Upgrade", "websocket"),
            ]))
        return h

    # ---- bodies -------------------------------------------------------------------------------------------------
    def wrong_types_body(self, rng, op):
        body = self.valid_body(rng, op)
        target = body[0] if isinstance(body, list) and body else body
        fields = [k for k, _ in op.body_fields] or ["dids", "rse", "copies", "scope", "name"]
        for _ in range(rng.randint(1, 3)):
            k = rng.choice(fields)
            r = rng.random()
            if isinstance(target, dict):
                if r < 0.5:
                    target[k] = rng.choice(WRONG_TYPES)
                elif r < 0.75:
                    target[k] = self.hostile_string(rng)
                elif r < 0.85:
                    target.pop(k, None)
                elif r < 0.92:
                    target[k] = [{"scope": self.hostile_string(rng), "name": self.hostile_string(rng), "bytes": rng.choice(WRONG_TYPES),
                                  "adler32": rng.choice(["zzzzzzzz", "", "0" * 100]), "pfn": rng.choice(["file:///etc/passwd", "file://../../x", "/etc/passwd", "http://evil/x"]),
                                  "state": rng.choice(UNKNOWN_ENUMS), "meta": rng.choice(WRONG_TYPES)}]
                else:
                    target["unknown_" + str(rng.randint(0, 9))] = rng.choice(WRONG_TYPES)
        if rng.random() < 0.15:
            body = rng.choice(WRONG_TYPES + [[body], {"dids": body}])  # the whole document of the wrong kind
        return json.dumps(body).encode()

    def boundary_body(self, rng, op):
        """A valid body but for one number (or expression) at an edge: Int64's limits, 1e300, "inf", deep parentheses."""
        body = self.valid_body(rng, op)
        target = body[0] if isinstance(body, list) and body else body
        numeric = [k for k, sch in op.body_fields if self.resolve(sch).get("type") in ("integer", "number")]
        if isinstance(target, dict):
            if "rse_expression" in dict(op.body_fields) and rng.random() < 0.4:
                target["rse_expression"] = rng.choice(HOSTILE_EXPRESSIONS)
            else:
                for k in rng.sample(numeric, min(len(numeric), rng.randint(1, 2))) or [rng.choice(["lifetime", "bytes", "copies", "value"])]:
                    target[k] = rng.choice(BOUNDARY_NUMBERS)
            if "meta" in target and rng.random() < 0.5:
                target["meta"] = {rng.choice(["lifetime", "events", "bytes", "length", "guid", "k"]): rng.choice(BOUNDARY_NUMBERS)}
            if "options" in target:
                target["options"] = {rng.choice(["lifetime", "locked", "priority", "comment", "state", "activity"]): rng.choice(BOUNDARY_NUMBERS)}
        return json.dumps(body).encode()

    def enum_body(self, rng, op):
        body = self.valid_body(rng, op)
        target = body[0] if isinstance(body, list) and body else body
        enums = [k for k, s in op.body_fields if "enum" in self.resolve(s)]
        for k in enums or [rng.choice(["type", "grouping", "state", "notify", "authtype", "activity", "did_type", "rse_type", "plugin"])]:
            if isinstance(target, dict):
                target[k] = rng.choice(UNKNOWN_ENUMS)
        return json.dumps(body).encode()

    def broken_body(self, rng, op):
        good = json.dumps(self.valid_body(rng, op)).encode()
        r = rng.randrange(14)
        if r == 0:
            return good[: rng.randrange(max(1, len(good)))]  # truncated
        if r == 1:
            return good + rng.choice([b"}", b"]", b",", b"garbage", b"\x00", b"{}"])
        if r == 2:
            return good.replace(b'"', b"'")
        if r == 3:
            n = rng.choice([100, 1000, 10000, 100000])
            return b"[" * n + (b"]" * n if rng.random() < 0.5 else b"")  # depth bomb
        if r == 4:
            n = rng.choice([100, 1000, 10000, 50000])
            return b'{"a":' * n + b"1" + (b"}" * n if rng.random() < 0.5 else b"")
        if r == 5:
            return rng.choice([b"NaN", b"Infinity", b"-Infinity", b'{"copies": NaN}', b'{"copies": 1e99999}', b'{"copies": -0}',
                               b'{"bytes": 123456789012345678901234567890}', b'{"copies": 1.0e-400}', b"1" * 5000])
        if r == 6:
            return b'{"a": 1, "a": 2, "a": ' + good + b"}"  # duplicate keys
        if r == 7:
            return b"\xef\xbb\xbf" + good  # BOM
        if r == 8:
            return b"/* comment */ " + good + b" // trailing"
        if r == 9:
            return rng.choice([b"", b" ", b"\n", b"null", b"true", b"0", b'""', b"[]", b"{}", b"[{}]", b"[null]", b'{"": ""}'])
        if r == 10:
            return bytes(rng.randrange(256) for _ in range(rng.randint(1, 512)))  # binary noise
        if r == 11:
            return b"{" + b",".join(b'"k%d": %d' % (i, i) for i in range(rng.choice([1000, 20000]))) + b"}"  # many keys
        if r == 12:
            return json.dumps({"dids": [did() for _ in range(rng.choice([500, 2000]))], "copies": 1, "rse_expression": "SITE-A",
                               "rse": "SITE-A", "files": [], "attachments": []}).encode()
        return json.dumps({k: "x" * (1 << 20) for k, _ in (op.body_fields[:2] or [("dids", None)])}).encode()  # 1 MB strings

    def encoding_body(self, rng, op):
        body = json.dumps(self.valid_body(rng, op)).encode()
        r = rng.randrange(7)
        key = (rng.choice([k for k, _ in op.body_fields] or ["scope"])).encode()
        if r == 0:
            return b'{"' + key + b'": "\xff\xfe\xfd"}'  # invalid UTF-8
        if r == 1:
            return b'{"' + key + b'": "\xc0\xae\xc0\xae\xc0\xaf"}'  # overlong '../'
        if r == 2:
            return b'{"' + key + b'": "\\ud800\\udc00\\ud800"}'  # lone surrogates in escapes
        if r == 3:
            return b'{"' + key + b'": "\\u0000\\u002e\\u002e\\u002f"}'
        if r == 4:
            return body.decode().encode("utf-16")
        if r == 5:
            return b'{"' + key + b'": "\xed\xa0\x80"}'  # surrogate encoded in UTF-8
        return b'{"\xff": 1, "' + key + b'": "\\x41\\q"}'  # bad escapes

    # ---- protocol-level (raw socket) ----------------------------------------------------------------------------
    def raw_request(self, rng, op):
        tok = self.token.encode()
        base = (f"{op.method} {self.path(rng, op)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Rucio-Auth-Token: ".encode() + tok
                + b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        r = rng.randrange(24)
        if r < 6:  # random byte mutations of a well-formed request
            b = bytearray(base)
            for _ in range(rng.randint(1, 6)):
                i = rng.randrange(len(b))
                m = rng.randrange(3)
                if m == 0:
                    b[i] = rng.randrange(256)
                elif m == 1:
                    b[i:i] = bytes([rng.choice([0, 10, 13, 32, 58, 0x7f, 0xff, rng.randrange(256)])])
                else:
                    del b[i]
            return bytes(b)
        return rng.choice([
            b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rb\r\n\r\n",
            b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Rucio-Auth-Token: " + tok + b"\r\nX-Injected: 1\nSet-Cookie: a=b\r\n\r\n",
            b"GET /scopes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Rucio-Auth-Token: a\x00b\r\n\r\n",
            b"GET /ping HTTP/1.1\nHost: 127.0.0.1\n\n",
            b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * rng.choice([70000, 200000, 1 << 20]) + b"\r\n\r\n",
            b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(rng.choice([300, 2000, 20000]))) + b"\r\n",
            b"GET /" + b"a" * rng.choice([70000, 300000]) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            b"POST /dids HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
            b"POST /dids HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2, 2\r\n\r\n{}",
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n{}",
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n{}",
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n0\r\n\r\n",
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked, identity\r\n\r\n0\r\n\r\n",
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}",  # never finished
            b"POST /rules HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{}",  # shorter than announced
            b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n folded: continuation\r\n\r\n",
            b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: v\r\n\r\n",
            b"GET /ping HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", b"GET /ping\r\n\r\n", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64), b"\x00" * 100, b"\r\n" * 1000,
            b"GET /dids/test/\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"GET /dids/te st/a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            b"GET http://evil.example/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            b"F" * 5000 + b" /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"get /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGARBAGE\r\n\r\n",
            b"POST /dids HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: 50000000\r\n\r\n",
        ])

    # ---- cases --------------------------------------------------------------------------------------------------
    def case(self, i):
        rng = random.Random(f"{self.seed}:{i}")
        op = rng.choice(self.ops)
        if self.HUGE_EVERY and i % self.HUGE_EVERY == self.HUGE_EVERY - 1:
            return self.huge_case(i, rng, op)
        kind = rng.choice(self.kinds)
        if kind == "protocol":
            return Case(i, kind, op, raw=self.raw_request(rng, op))
        if kind == "services":
            return self.service_case(i, rng, op)
        if kind == "dot_segments" and (not op.path_params or rng.random() < 0.3):
            return self.dot_segment_service_case(i, rng, op)
        if kind == "cross_site":
            return self.cross_site_case(i, rng, op)
        if kind == "heavy_listing":
            return self.heavy_listing_case(i, rng, op)
        method, headers, body = op.method, None, None
        hostile_params = ()
        query = self.query_string(rng, op, hostile=False)
        if kind == "path":
            hostile_params = set(p for p in op.path_params if rng.random() < 0.7) or set(op.path_params)
        elif kind == "many_params":
            # SQLite's expression depth once turned ~1,000 unknown parameters of a DID search into a 500.
            query = "&".join(f"k{j}={self.quote(rng.choice(['x', '*', '1', '']))}" for j in range(rng.choice([120, 600, 1500])))
        elif kind == "query":
            query = self.query_string(rng, op, hostile=True)
        elif kind == "boundary":
            body = self.boundary_body(rng, op) if op.body_fields else None
            if op.query:
                query = "&".join(f"{self.quote(n)}={self.quote(str(rng.choice(BOUNDARY_NUMBERS + HOSTILE_EXPRESSIONS[:4])))}" for n, _ in op.query)
        elif kind == "body_types":
            body = self.wrong_types_body(rng, op)
        elif kind == "body_broken":
            body = self.broken_body(rng, op)
        elif kind == "body_encoding":
            body = self.encoding_body(rng, op)
        elif kind == "enum":
            body = self.enum_body(rng, op) if op.body_fields or rng.random() < 0.3 else None
            query = "&".join(f"{self.quote(n)}={self.quote(rng.choice(UNKNOWN_ENUMS))}" for n, _ in op.query) or query
        elif kind == "headers":
            headers = self.odd_headers(rng, op)
        elif kind == "method":
            method = rng.choice(["PATCH", "OPTIONS", "TRACE", "PROPFIND", "FOO", "M-SEARCH", "DELETE", "PUT", "HEAD"])
        if body is None and op.body_fields and kind not in ("method",) and rng.random() < 0.7:
            body = json.dumps(self.valid_body(rng, op)).encode()
        target = self.path(rng, op, hostile_params)
        if kind == "dot_segments":
            target = op.template
            for p in op.path_params:
                target = target.replace("{" + p + "}", rng.choice(DOT_SEGMENTS), 1)
        if kind == "unknown_path":
            target = rng.choice(["/nowhere", "/dids", "/rses/SITE-A/nothing/here", "/" + self.quote(self.hostile_string(rng)),
                                 "/..", "/%2e%2e/%2e%2e/etc/passwd", "/dids/" + "a/" * 500, "/accounts/root/limits/local/a/b/c"])
        if query:
            target += "?" + query
        if headers is None:
            headers = self.auth_headers(rng, op, hostile=rng.random() < 0.15)
        if body is not None and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return Case(i, kind, op, method, target, headers, body)

    def service_case(self, i, rng, op):
        """Lakebed's other services (WebDAV storage, control API, FTS, IAM, ESAP): their own error formats, but never
        a 5xx, a hang, or a byte outside an RSE's directory (traversal in storage paths and MOVE destinations)."""
        rse = rng.choice(["SITE-A", "SITE-B", "NOPE", self.quote(self.hostile_string(rng))])
        rel = "/".join(self.path_value(rng, "name", rng.random() < 0.8) for _ in range(rng.randint(1, 3)))
        r = rng.randrange(10)
        headers = []
        body = None
        if r < 5:
            method = rng.choice(["GET", "HEAD", "PUT", "PUT", "MKCOL", "DELETE", "PROPFIND", "MOVE", "OPTIONS", "COPY"])
            target = f"/storage/{rse}/{rel}"
            if method == "PUT":
                body = b"fuzz bytes\n"
            if method == "MOVE":
                headers.append(("Destination", rng.choice([
                    f"http://127.0.0.1/storage/{rse}/../../sentinel/moved", f"/storage/{rse}/%2e%2e/%2e%2e/sentinel/x", "/etc/passwd",
                    f"/storage/SITE-B/{rel}", f"/storage/{rse}/" + self.path_value(rng, "name", True), "", "::::", "http://[::1"])))
            if method == "PROPFIND":
                headers.append(("Depth", rng.choice(["0", "1", "infinity", "-1", "99999999999999999999", "x"])))
            if rng.random() < 0.3:
                headers.append(("Range", rng.choice(["bytes=0-1", "bytes=-1", "bytes=5-1", "bytes=0-99999999999999999999", "bytes=a-b", "bytes=,"])))
        elif r < 7:
            method, target = rng.choice([("GET", "/lakebed/events?after=%s&limit=%s&format=%s" % (
                self.quote(str(rng.choice(BOUNDARY_NUMBERS))), self.quote(str(rng.choice(BOUNDARY_NUMBERS))), rng.choice(["text", "json", "x"]))),
                ("GET", "/lakebed/clock"), ("GET", "/lakebed/links"), ("GET", "/lakebed/transfers"), ("GET", "/lakebed/scenario"),
                ("GET", "/metrics"), ("GET", "/dashboard/"), ("PUT", f"/lakebed/links/{rse}/SITE-B")])
            if method == "PUT":
                body = self.broken_body(rng, op) if rng.random() < 0.5 else json.dumps(
                    {rng.choice(["bandwidth", "latency", "concurrency", "failure_rate", "down", "failure_reason"]): rng.choice(WRONG_TYPES)}).encode()
        else:
            method, target = rng.choice([("GET", "/fts/jobs"), ("POST", "/fts/jobs"), ("GET", "/fts/jobs/" + self.path_value(rng, "id", True)),
                                         ("DELETE", "/fts/jobs/" + self.path_value(rng, "id", True)), ("GET", "/fts/whoami"),
                                         ("POST", "/iam/token"), ("GET", "/iam/userinfo"), ("POST", "/iam/introspect"), ("GET", "/iam/jwk"),
                                         ("GET", "/esap-api/accounts/user-profiles/" + self.path_value(rng, "name", True) + "/"),
                                         ("POST", "/esap-api/accounts/shopping-items/")])
            headers.append(("Authorization", rng.choice(["Bearer a.b.c", "Bearer " + self.token, "Basic " + "x" * 100, "Basic cnVjaW86", "Bearer"])))
            if method == "POST":
                body = rng.choice([self.broken_body(rng, op), b"grant_type=" + rng.choice([b"password", b"client_credentials", b"x", b"%ff"]) + b"&username=jdoe&password=%00",
                                   json.dumps({"files": [{"sources": [rng.choice(["file:///etc/passwd", "https://localhost/storage/SITE-A/../../x", "x"])],
                                                         "destinations": ["file:///tmp/x"]}]}).encode()])
                headers.append(("Content-Type", rng.choice(["application/json", "application/x-www-form-urlencoded"])))
        case = Case(i, "services", op, method, target, headers, body)
        case.rucio = False
        return case

    def dot_segment_service_case(self, i, rng, op):
        """Dot-segments in the parameters of Lakebed's own routes that become paths: never a 2xx for a snapshot name."""
        method, template = rng.choice(DOT_SEGMENT_SERVICES)
        target = template.replace("{}", rng.choice(DOT_SEGMENTS), 1).replace("{}", rng.choice(DOT_SEGMENTS + ["x"]), 1)
        headers = [("Content-Type", "application/json")] if method in ("POST", "PUT") else []
        case = Case(i, "dot_segments", op, method, target, headers, b"{}" if method in ("POST", "PUT") else None)
        case.rucio = False
        return case

    def cross_site_case(self, i, rng, op):
        """A request a web page of another site makes (a foreign Origin, or a foreign Host after DNS rebinding): 403."""
        headers = self.auth_headers(rng, op)
        if rng.random() < 0.6:
            headers.append(("Origin", rng.choice(FOREIGN_ORIGINS)))
        else:
            headers.append(("Host", rng.choice(FOREIGN_HOSTS)))
        method, target, body = op.method, self.path(rng, op), None
        if rng.random() < 0.4:  # the control API, as a cross-site form would post to it
            method, target = rng.choice([("POST", "/lakebed/reset"), ("POST", "/lakebed/inject"), ("PUT", "/lakebed/clock"),
                                         ("POST", "/lakebed/rotate-keys"), ("GET", "/auth/userpass")])
            headers.append(("Content-Type", rng.choice(["text/plain", "application/x-www-form-urlencoded", "application/json"])))
            body = b"fault=site-c-unreachable"
        elif op.body_fields:
            body = json.dumps(self.valid_body(rng, op)).encode()
            headers.append(("Content-Type", "application/json"))
        case = Case(i, "cross_site", op, method, target, headers, body)
        case.expect_status = 403
        return case

    def heavy_listing_case(self, i, rng, op):
        """A big listing (many DIDs, or every DID of a scope), while the other threads go on: answered, never a 5xx."""
        headers = [("X-Rucio-Auth-Token", self.token)]
        r = rng.random()
        if r < 0.5:
            dids = [{"scope": "demo", "name": "lofar.L630262"}] * rng.choice([50, 500, 3000])
            body = json.dumps({"dids": dids, "all_states": rng.random() < 0.5}).encode()
            headers.append(("Content-Type", "application/json"))
            return Case(i, "heavy_listing", op, "POST", "/replicas/list" + rng.choice(["", "?limit=100000", "?limit=-1"]), headers, body)
        if r < 0.8:
            return Case(i, "heavy_listing", op, "GET", "/dids/demo/dids/search?type=all&name=*&long=" + rng.choice(["1", "0"]), headers)
        return Case(i, "heavy_listing", op, "GET", "/dids/demo/lofar.L630262/files" + rng.choice(["", "?long=1"]), headers)

    def huge_case(self, i, rng, op):
        """A body over the limit, announced (413 at once) or sent chunked without a length (413 once read)."""
        headers = [("X-Rucio-Auth-Token", self.token), ("Content-Type", "application/json")]
        path = self.path(rng, op) if op.method != "GET" else "/rules"
        size = MAX_BODY + rng.randint(1, 1 << 20)
        case = Case(i, "huge_body", op, "POST" if op.method == "GET" else op.method, path, headers,
                    b'{"dids": "' + b"A" * (size - 12) + b'"}', timeout=60)
        case.chunked = rng.random() < 0.5
        return case


# ---- sending and checking ---------------------------------------------------------------------------------------
class Result:
    def __init__(self, case, status=None, headers=None, body=b"", error=None, seconds=0.0):
        self.case, self.status, self.headers, self.body, self.error, self.seconds = case, status, headers or {}, body, error, seconds


def send_http(conn_holder, host, port, case):
    """Sends one well-formed HTTP request on a keep-alive connection (reopened when the server closes it)."""
    for attempt in range(2):
        conn = conn_holder.get("c")
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=case.timeout)
            conn_holder["c"] = conn
        conn.timeout = case.timeout
        if conn.sock is not None:
            conn.sock.settimeout(case.timeout)
        t = time.perf_counter()
        try:
            conn.putrequest(case.method, case.target, skip_host=any(k.lower() == "host" for k, _ in case.headers), skip_accept_encoding=True)
            for k, v in case.headers:
                conn.putheader(k, v.encode("latin-1") if isinstance(v, str) else v)
            body = case.body
            if body is not None and getattr(case, "chunked", False):
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders(iter([body[k:k + (1 << 20)] for k in range(0, len(body), 1 << 20)]), encode_chunked=True)
            else:
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            r = Result(case, resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, seconds=time.perf_counter() - t)
            if resp.will_close:
                conn.close()
                conn_holder["c"] = None
            return r
        except (socket.timeout, TimeoutError) as e:
            conn.close()
            conn_holder["c"] = None
            return Result(case, error=f"timeout after {case.timeout}s: {e}", seconds=time.perf_counter() - t)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest,
                http.client.ResponseNotReady) as e:
            conn.close()
            conn_holder["c"] = None
            if attempt == 0:
                continue  # the server closed a kept-alive connection (idle, or after an error): retry once on a new one
            return Result(case, error=f"connection lost: {e!r}", seconds=time.perf_counter() - t)
    return Result(case, error="unreachable")


def send_raw(host, port, case, timeout=10.0):
    """Sends bytes, half-closes, reads until the server closes: the answer's status (None if it closed silently)."""
    t = time.perf_counter()
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        return Result(case, error=f"cannot connect: {e!r}")
    out = b""
    try:
        try:
            s.sendall(case.raw)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server refused early and closed (reset, broken pipe, not connected)
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
                break
            if not chunk:
                break
            out += chunk
            if len(out) > (4 << 20):
                break
    except (socket.timeout, TimeoutError):
        return Result(case, error=f"no answer and no close within {timeout}s (hang)", body=out, seconds=time.perf_counter() - t)
    finally:
        s.close()
    status = None
    statuses = []
    for line in out.split(b"\r\n"):
        if line.startswith(b"HTTP/1.1 ") and line[9:12].isdigit():
            statuses.append(int(line[9:12]))
    status = max(statuses) if statuses else None  # a pipelined case answers several times; the worst counts
    return Result(case, status, body=out, seconds=time.perf_counter() - t)


def check(result):
    """What is wrong with an answer, or None."""
    c = result.case
    if result.error:
        return result.error
    if c.raw is not None:
        if result.status is not None and result.status >= 500:
            return f"status {result.status} to malformed HTTP"
        return None
    if getattr(c, "expect_status", None) is not None and result.status != c.expect_status:
        return f"status {result.status}, expected {c.expect_status} (a request from another site)"
    if c.kind == "dot_segments" and "/snapshots/" in c.target and result.status < 300:
        return f"status {result.status}: a dot-segment snapshot name was accepted"
    if not getattr(c, "rucio", True):
        if result.status == 502 and c.method in ("MOVE", "COPY"):
            return None  # WebDAV's answer to a Destination on another server (RFC 4918, 9.9.4)
        return f"status {result.status} from a service: {result.body[:200]!r}" if result.status >= 500 else None
    if result.status == 503 and result.headers.get("exceptionclass") == "ResourceTemporaryUnavailable":
        return None  # Rucio's own answer when an RSE (set so by an earlier case) refuses writes
    if result.status == 500 and result.headers.get("exceptionclass") == "ErrorLoadingCredentials":
        return None  # Rucio's own answer for a signed URL when the server has no signing credentials configured
    if result.status >= 500:
        return f"status {result.status}: {result.body[:200]!r}"
    if 400 <= result.status < 500 and not c.malformed:
        h = result.headers
        if "exceptionclass" not in h or "exceptionmessage" not in h:
            return f"{result.status} without ExceptionClass/ExceptionMessage headers: {h}"
        if any(ch in h["exceptionmessage"] + h["exceptionclass"] for ch in "\r\n\x00"):
            return "control characters in an error header"
        browser_page = c.target.split("?")[0].rstrip("/") in ("/auth/oidc_code", "/auth/oidc_redirect")
        if browser_page and result.headers.get("content-type", "").startswith("text/html"):
            return None  # Rucio renders its auth_crash page for the browser legs of the OIDC login, not JSON
        if c.method != "HEAD":
            try:
                doc = json.loads(result.body)
                assert isinstance(doc, dict) and "ExceptionClass" in doc and "ExceptionMessage" in doc
            except Exception:
                return f"{result.status} body is not Rucio's JSON error: {result.body[:200]!r}"
    return None


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def login(url):
    import requests
    r = requests.get(url + "/auth/userpass", headers={"X-Rucio-Username": "ddmlab", "X-Rucio-Password": "secret", "X-Rucio-Account": "root"}, timeout=30)
    return r.headers["X-Rucio-Auth-Token"]


def run(url, n, seed, threads=4, pid=None, progress=None):
    """Runs cases 0..n-1 against `url`; returns a summary dict with the failures (each with its case's description)."""
    import requests
    spec = requests.get(url + "/lakebed/openapi.json", timeout=30).json()
    fz = Fuzzer(spec, seed, login(url))
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    statuses = collections.Counter()
    kinds = collections.Counter()
    failures = []
    worst = [0.0, ""]
    lock = threading.Lock()
    done = [0]
    rss_before = rss_kb(pid) if pid else None
    rss_peak = [rss_before or 0]
    started = time.perf_counter()

    def worker(k):
        holder = {}
        for i in range(k, n, threads):
            case = fz.case(i)
            try:
                res = send_raw(host, port, case) if case.raw is not None else send_http(holder, host, port, case)
                problem = check(res)
            except Exception as e:  # a bug of the fuzzer itself still counts, and never stops the run
                res, problem = Result(case, error=repr(e)), f"fuzzer error {e!r}"
            with lock:
                statuses["raw " + str(res.status or "closed") if case.raw is not None else str(res.status or "error")] += 1
                kinds[case.kind] += 1
                if res.seconds > worst[0]:
                    worst[0], worst[1] = res.seconds, case.describe()
                if problem:
                    failures.append(f"seed {seed} {case.describe()}: {problem}")
                done[0] += 1
                if pid and done[0] % 500 == 0:
                    try:
                        rss_peak[0] = max(rss_peak[0], rss_kb(pid))
                    except OSError:
                        pass
                if progress and done[0] % progress == 0:
                    print(f"  {done[0]}/{n} requests, {time.perf_counter() - started:.0f}s, {len(failures)} failures", flush=True)
        if holder.get("c"):
            holder["c"].close()

    ts = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - started
    try:
        alive = requests.get(url + "/ping", timeout=10).status_code == 200
        # The run's own token still works: no case locked the fuzzer out (which would turn the rest into 401s).
        token_valid = requests.get(url + "/auth/validate", headers={"X-Rucio-Auth-Token": fz.token}, timeout=10).status_code == 200
    except requests.RequestException:
        alive = token_valid = False
    try:
        rss_after = rss_kb(pid) if pid else None
    except OSError:  # the process is gone
        rss_after = 0
    return {"requests": done[0], "seconds": elapsed, "statuses": dict(sorted(statuses.items())), "kinds": dict(sorted(kinds.items())),
            "worst_seconds": worst[0], "worst_case": worst[1], "failures": failures, "alive": alive, "token_valid": token_valid,
            "rss_before_kb": rss_before, "rss_after_kb": rss_after, "rss_peak_kb": max(rss_peak[0], rss_after or 0),
            "operations": len(fz.ops)}


def format_summary(s):
    lines = [f"{s['requests']} requests over {s['operations']} operations in {s['seconds']:.1f} s "
             f"({s['requests'] / s['seconds']:.0f} req/s); server alive afterwards: {s['alive']}, token still valid: {s['token_valid']}",
             "status histogram: " + ", ".join(f"{k}: {v}" for k, v in s["statuses"].items()),
             "cases by kind: " + ", ".join(f"{k}: {v}" for k, v in s["kinds"].items()),
             f"worst latency: {s['worst_seconds'] * 1000:.0f} ms ({s['worst_case'][:120]})"]
    if s["rss_before_kb"] is not None:
        lines.append(f"server RSS: {s['rss_before_kb'] / 1024:.0f} MB before, {s['rss_after_kb'] / 1024:.0f} MB after "
                     f"(growth {(s['rss_after_kb'] - s['rss_before_kb']) / 1024:+.0f} MB, peak {s['rss_peak_kb'] / 1024:.0f} MB)")
    lines.append(f"failures: {len(s['failures'])}")
    lines += ["  " + f for f in s["failures"][:30]]
    return "\n".join(lines)
