"""The README's "Five minutes with Lakebed", run as a script: its own commands, in order, twice in a row in one
folder (the second time over the first one's lake and the client's cached token), on a manual clock that the test
moves where the README says to wait."""
import os
import pathlib
import re
import shlex
import subprocess
import sys
import textwrap
import threading
import time

import requests

from conftest import BIN, ROOT, free_port

README = ROOT / "README.md"


def walkthrough():
    """{step number: [bash blocks]} of the README's walkthrough."""
    section = README.read_text().split("## Five minutes with Lakebed", 1)[1]
    section = re.split(r"^#{2,3} ", section, maxsplit=1, flags=re.M)[0]
    steps = {}
    for m in re.finditer(r"^(\d+)\. \*\*.*?(?=^\d+\. \*\*|\Z)", section, re.M | re.S):
        blocks = re.findall(r"^( *)```bash\n(.*?)^\1```", m.group(0), re.M | re.S)
        steps[int(m.group(1))] = [textwrap.dedent(b) for _, b in blocks]
    return steps


def serve(cwd, env, command):
    """The README's `lakebed serve …` line, on a free port and a manual clock; returns (process, url)."""
    args = shlex.split(command)
    assert args[:2] == ["lakebed", "serve"], command
    args = [BIN, "serve", *args[2:]]
    i = args.index("--time-scale")
    args[i + 1] = "0"
    port = free_port()
    p = subprocess.Popen(args + ["--port", str(port)], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    out = []
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        out.append(line)
        if "Lakebed ready at" in line:
            threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
            return p, f"http://127.0.0.1:{port}"
        if line == "" and p.poll() is not None:
            break
    raise AssertionError("lakebed serve did not start:\n" + "".join(out))


def run(cwd, env, block):
    """One of the README's blocks in bash, in the shell the walkthrough sets up (step 2's `eval`)."""
    script = 'set -euo pipefail\neval "$(lakebed env --shell)"\n' + block
    p = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"{block}\nfailed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return p.stdout + p.stderr


def advance(url, seconds):
    r = requests.post(url + "/lakebed/clock/advance", json={"seconds": seconds}, timeout=120)
    assert r.status_code == 200, r.text


def rules_of(client, name):
    return {r["copies"]: r for r in client.list_did_rules("user.root", name)}


def test_the_readme_walkthrough_twice_in_a_row(tmp_path):
    from rucio.client import Client
    steps = walkthrough()
    assert sorted(steps) == [1, 2, 3, 4, 5, 6, 7], steps
    assert steps[1] == ["lakebed serve --fresh --time-scale 60\n"], steps[1]
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PATH": f"{pathlib.Path(BIN).parent}{os.pathsep}{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "TMPDIR": str(tmp_path / "client-tmp")}
    (tmp_path / "client-tmp").mkdir()
    for env_key in ("RUCIO_CONFIG", "RUCIO_ACCOUNT", "RUCIO_AUTH_TYPE"):
        env.pop(env_key, None)
    for round_ in (1, 2):
        p, url = serve(work, env, steps[1][0])
        try:
            out = run(work, env, steps[2][0])
            assert "root" in out, out
            assert (work / "lakebed-data" / "rucio.cfg").exists()
            client = Client(rucio_host=url, auth_host=url, account="root", auth_type="userpass",
                            creds={"username": "ddmlab", "password": "secret"})
            for block in steps[4]:
                run(work, env, block)
            for block in steps[5]:
                run(work, env, block)
            # "As each copy lands, the bar turns green and the rule turns OK (about four lake minutes)."
            advance(url, 300)
            hello = rules_of(client, "hello.dat")
            assert hello[2]["state"] == "OK", (round_, hello)
            for block in steps[6]:
                out = run(work, env, block)
            rule_id = re.findall(r"\b[0-9a-f]{32}\b", out)[-1]
            # "After three attempts the rule turns STUCK … STUCK · retry 1 in 10 min"
            advance(url, 300)
            second = client.get_replication_rule(rule_id)
            assert second["state"] == "STUCK" and second["locks_ok_cnt"] == 1, (round_, second)
            shown = run(work, env, f"rucio rule show {rule_id}")
            assert "No route to host (SITE-C unreachable)" in shown and re.search(r"retry 1 in \d+ min", shown), shown
            for block in steps[7]:
                run(work, env, block)
            # "Nothing happens until the retry the dashboard counts down; then … the rule turns OK."
            advance(url, 1200)
            assert client.get_replication_rule(rule_id)["state"] == "OK", (round_, client.get_replication_rule(rule_id))
        finally:
            p.terminate()
            p.wait(timeout=20)
