"""Installs (once) and starts the real Rucio 41.5.1 server: PyPI `rucio` + gunicorn in a venv of its own,
a SQLite catalog built by Rucio's own code, gunicorn on 127.0.0.1.

The server venv is separate from the client venv (`.venv`, rucio-clients 41.5.1): both distributions install the
`rucio` package and would overwrite each other's modules.

Run alone for debugging:  python Tests/conformance/realrucio.py  (prints the URL, Ctrl-C stops it)
"""
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUCIO_VERSION = "41.5.1"
VENV = pathlib.Path(os.environ.get("RUCIO_SERVER_VENV", ROOT / ".venv-rucio"))
PY = VENV / "bin" / "python"

# Every blueprint of 41.5.1's DEFAULT_ENDPOINTS; `traces` is a separate app and stays out.
ENDPOINTS = ["accounts", "auth", "config", "credentials", "dids", "dirac", "export", "heartbeats", "identities",
             "import", "lifetime_exceptions", "locks", "meta_conventions", "ping", "redirect", "replicas",
             "requests", "rses", "rules", "scopes", "subscriptions", "opendata", "opendata_public"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_venv():
    """Creates the server venv if it does not hold rucio==41.5.1 and gunicorn yet (cached between runs)."""
    marker = VENV / f".rucio-{RUCIO_VERSION}-ok"
    if marker.exists():
        return
    if not PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"rucio=={RUCIO_VERSION}", "gunicorn"], check=True)
    marker.write_text("ok\n")


def site_packages():
    out = subprocess.run([str(PY), "-c", "import rucio, os; print(os.path.dirname(rucio.__file__))"],
                         check=True, capture_output=True, text=True)
    return pathlib.Path(out.stdout.strip())


BOOTSTRAP = textwrap.dedent("""
    from rucio.db.sqla import models
    from rucio.db.sqla.session import get_engine
    from rucio.db.sqla.util import create_base_vo, create_root_account
    from alembic.config import Config
    from alembic import command
    from rucio.common.config import config_get
    engine = get_engine()
    models.register_models(engine)
    command.stamp(Config(config_get('alembic', 'cfg')), 'head')
    create_base_vo()
    create_root_account()
    print('bootstrapped')
""")


class RealRucio:
    def __init__(self, workdir):
        self.dir = pathlib.Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def configure(self):
        pkg = site_packages()
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "traces").mkdir(exist_ok=True)
        alembic_ini = self.dir / "alembic.ini"
        # Rucio's migration environment configures logging from this file, so it needs the logging sections.
        alembic_ini.write_text(textwrap.dedent(f"""\
            [alembic]
            script_location = {pkg / 'db' / 'sqla' / 'migrate_repo'}
            sqlalchemy.url = sqlite:///{self.dir / 'rucio.db'}
            [loggers]
            keys = root
            [handlers]
            keys = console
            [formatters]
            keys = generic
            [logger_root]
            level = WARN
            handlers = console
            [handler_console]
            class = StreamHandler
            args = (sys.stderr,)
            formatter = generic
            [formatter_generic]
            format = %%(levelname)s %%(message)s
            """))
        self.cfg = self.dir / "rucio.cfg"
        self.cfg.write_text(textwrap.dedent(f"""\
            [common]
            loglevel = WARNING
            [database]
            default = sqlite:///{self.dir / 'rucio.db'}
            [bootstrap]
            userpass_identity = ddmlab
            userpass_pwd = secret
            [alembic]
            cfg = {alembic_ini}
            [trace]
            tracedir = {self.dir / 'traces'}
            [api]
            endpoints = {', '.join(ENDPOINTS)}
            [policy]
            permission = generic
            schema = generic
            lfn2pfn_algorithm_default = hash
            [monitor]
            enable_metrics = False
            [lifetime_model]
            cutoff_date = 2100-01-01
            max_extension = 30
            """))
        self.env = dict(os.environ, RUCIO_CONFIG=str(self.cfg), RUCIO_HOME=str(self.dir))
        self.env.pop("RUCIO_CLIENT_MODE", None)
        p = subprocess.run([str(PY), "-c", BOOTSTRAP], env=self.env, cwd=self.dir,
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("bootstrapping the real Rucio catalog failed:\n" + p.stdout + p.stderr[-4000:])

    def start(self, timeout=60, workers=1):
        ensure_venv()
        self.configure()
        self.log = open(self.dir / "gunicorn.log", "w")
        self.proc = subprocess.Popen(
            [str(VENV / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--threads", "4", "--timeout", "120", "rucio.web.rest.flaskapi.v1.main:application"],
            env=self.env, cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)
        import urllib.request
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=2) as r:
                    if r.status == 200:
                        return self
            except Exception:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the real Rucio server did not start:\n" + (self.dir / "gunicorn.log").read_text()[-4000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


if __name__ == "__main__":
    t0 = time.monotonic()
    srv = RealRucio(tempfile.mkdtemp(prefix="real-rucio-")).start()
    print(f"real Rucio at {srv.url} in {time.monotonic() - t0:.1f}s (dir {srv.dir})", flush=True)
    try:
        srv.proc.wait()
    except KeyboardInterrupt:
        srv.stop()
