"""`Lake`: a private Lakebed process on free loopback ports, driven through its command line and control API."""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, Iterator, List, Optional, Sequence, Type, TypeVar, Union

from . import _process
from ._binary import find_binary, find_scenario

if TYPE_CHECKING:  # pragma: no cover
    from rucio.client import Client

T = TypeVar("T")
PathLike = Union[str, "os.PathLike[str]"]

#: The login every lake has: Rucio account ``root`` with the userpass identity ``ddmlab`` / ``secret``.
ROOT_USERNAME = "ddmlab"
ROOT_PASSWORD = "secret"

_READY = re.compile(r"Lakebed ready at (http://\S+)")
_HTTPS = re.compile(r"^\s*HTTPS\s*:\s*(https://\S+)")


class LakeError(RuntimeError):
    """The lake did not start, or answered a control call with an error."""


class ControlError(LakeError):
    """A call to the control API (``/lakebed/...``) answered with an HTTP error."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} /lakebed/{path}: HTTP {status}: {body.strip()}")
        self.status = status
        self.body = body


class Lake:
    """A private Lakebed lake: one ``lakebed serve`` process on free loopback ports and its own folder.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with Lake() as lake:                    # manual clock: time moves only with lake.advance()
            client = lake.client()              # a rucio.client.Client logged in to this lake as root
            client.add_rule([{"scope": "demo", "name": "lofar.L630262"}], 1, "SITE-B", None, None)
            lake.advance(600)
            assert client.list_replication_rules({"rse_expression": "SITE-B"}).__next__()["state"] == "OK"

    Args:
        scenario: a scenario YAML file, or the name of one shipped with the package (``"site-outage"``);
            ``None`` seeds the default lake (SITE-A, SITE-B, SITE-C and a demo dataset).
        data_dir: where the catalog and the RSE bytes live; default a new temporary folder, deleted by
            :meth:`stop`. A folder you give is kept (restarting on it keeps the lake).
        time_scale: clock speed; ``0`` (default) is the manual clock, moved only by :meth:`advance`;
            ``None`` keeps the scenario's own ``time_scale``.
        seed: seed for everything random (identifiers, transfer failures): same seed, same events.
        https: also start the HTTPS listener (WebDAV storage, the API over TLS); see :attr:`https_url`.
        binary: the ``lakebed`` executable; default ``LAKEBED_BIN``, then the one shipped in the wheel, then PATH.
        startup_timeout: seconds to wait for the lake to be ready.
        keep: keep the temporary folder after :meth:`stop` (it is printed by the pytest plugin).
        args: more ``lakebed serve`` arguments.

    The child process never outlives the Python process, even if that is killed with SIGKILL (Linux).
    """

    def __init__(
        self,
        scenario: Optional[PathLike] = None,
        data_dir: Optional[PathLike] = None,
        time_scale: Optional[float] = 0,
        seed: Optional[int] = None,
        https: bool = True,
        binary: Optional[PathLike] = None,
        *,
        startup_timeout: float = 120.0,
        keep: bool = False,
        args: Sequence[str] = (),
    ) -> None:
        self.scenario: Optional[Path] = find_scenario(scenario) if scenario is not None else None
        self.time_scale = time_scale
        self.seed = seed
        self.https = https
        self.binary: Path = find_binary(binary)
        self.startup_timeout = startup_timeout
        self.keep = keep
        self.extra_args = list(args)
        self._own_root = data_dir is None
        self._given_data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._root: Optional[Path] = None
        #: The lake's data folder (catalog.sqlite, rses/<RSE>/, rucio.cfg, tls/, iam/); set by start() if not given.
        self.data_dir: Path = self._given_data_dir or Path()
        self._proc: Optional["subprocess.Popen[bytes]"] = None
        self._output: Deque[str] = collections.deque(maxlen=400)
        self._url: Optional[str] = None
        self._https_url: Optional[str] = None
        self._conn: Optional[http.client.HTTPConnection] = None
        self._conn_lock = threading.Lock()
        self._client_classes: Dict[str, type] = {}
        self._env: Optional[Dict[str, str]] = None
        self._clock_changed = False

    # ----------------------------------------------------------------------------------------------- lifecycle

    def start(self) -> "Lake":
        """Starts the lake and returns once it answers; raises :class:`LakeError` (with its output) if it cannot."""
        if self.running:
            return self
        _process.sweep_stale_roots()
        self._root = _process.make_root()
        data_dir = self._given_data_dir or (self._root / "data")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        (self._root / "client").mkdir(exist_ok=True)
        cmd = [str(self.binary), "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", "0"]
        if self.scenario is not None:
            cmd += ["--scenario", str(self.scenario)]
        if self.time_scale is not None:
            cmd += ["--time-scale", _num(self.time_scale)]
        if self.seed is not None:
            cmd += ["--seed", str(int(self.seed))]
        if not self.https:
            cmd.append("--no-https")
        cmd += self.extra_args
        self._output.clear()
        self._env = None
        self._url = self._https_url = None
        log = open(self._root / "lakebed.log", "ab")
        try:
            self._proc = _process.spawn(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                        cwd=str(self._root))
        finally:
            log.close()
        ready = threading.Event()
        threading.Thread(target=self._read_output, args=(ready,), name="lakebed-output", daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while not ready.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                ready.wait(0.2)  # let the reader collect the last lines
                reason = f"exited with status {self._proc.returncode}" if self._proc.poll() is not None else \
                    f"was not ready within {self.startup_timeout:.0f} s"
                out = self.output()
                self._kill()
                raise LakeError(f"lakebed {reason}: {' '.join(cmd)}\n{out}")
        if self._url is None:  # the process printed something else, and closed its output or exited
            try:
                status = self._proc.wait(timeout=2)
                reason = f"exited with status {status} before it was ready"
            except subprocess.TimeoutExpired:
                reason = "closed its output before it was ready"
            out = self.output()
            self._kill()
            raise LakeError(f"lakebed {reason}: {' '.join(cmd)}\n{out}")
        _process.at_exit(self._atexit)
        return self

    def _read_output(self, ready: threading.Event) -> None:
        assert self._proc is not None and self._proc.stdout is not None and self._root is not None
        with open(self._root / "lakebed.log", "a", encoding="utf-8") as log:
            for raw in self._proc.stdout:
                line = raw.decode("utf-8", "replace")
                self._output.append(line)
                log.write(line)
                log.flush()
                if self._url is None:
                    m = _READY.search(line)
                    if m:
                        self._url = m.group(1)
                        if not self.https:
                            ready.set()
                elif self._https_url is None and not ready.is_set():
                    m = _HTTPS.search(line)
                    if m:
                        self._https_url = m.group(1)
                if self._url is not None and not ready.is_set() and (line.startswith("rucio.cfg") or "control API" in line):
                    ready.set()
        ready.set()

    def stop(self) -> None:
        """Stops the lake (SIGTERM, then SIGKILL after 10 s) and deletes its temporary folder unless kept."""
        self._close_conn()
        proc, self._proc = self._proc, None
        if proc is not None:
            _process.terminate(proc)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._root is not None and not self.keep:
            # With a data_dir of yours the folder holds only the log and the token cache: your data stays.
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        elif self._root is not None:
            (self._root / _process.OWNER_MARKER).unlink(missing_ok=True)  # kept: no sweeping it later

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _process.terminate(proc, timeout=2)
        if self._root is not None and not self.keep:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def _atexit(self) -> None:
        if self._proc is not None:
            self.stop()

    def __enter__(self) -> "Lake":
        return self.start()

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self._url if self.running else "stopped"
        name = self.scenario.name if self.scenario else "default lake"
        return f"<Lake {name} {state}>"

    @property
    def running(self) -> bool:
        """True while the lakebed process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> Optional[int]:
        """The process id of the running ``lakebed serve``."""
        return self._proc.pid if self._proc is not None else None

    def output(self) -> str:
        """What the lake printed last (its banner and log lines), for diagnostics."""
        text = "".join(self._output)
        if self._root is not None and (self._root / "lakebed.log").exists():
            try:
                text = (self._root / "lakebed.log").read_text(encoding="utf-8", errors="replace")[-20000:]
            except OSError:
                pass
        return text

    # ----------------------------------------------------------------------------------------------- where

    def _need(self) -> None:
        if not self.running or self._url is None:
            raise LakeError("the lake is not running (call start() or use `with Lake() as lake:`)")

    @property
    def url(self) -> str:
        """The Rucio API (and auth, FTS at ``/fts``, IAM at ``/iam/``, control API at ``/lakebed``), over HTTP."""
        self._need()
        assert self._url is not None
        return self._url

    @property
    def https_url(self) -> Optional[str]:
        """The HTTPS listener (``https://localhost:<port>``; WebDAV at ``/storage/<RSE>/``), or None without https."""
        self._need()
        return self._https_url

    @property
    def root(self) -> Path:
        """This lake's private folder: ``data/`` (unless ``data_dir`` was given), ``lakebed.log``, ``client/``."""
        self._need()
        assert self._root is not None
        return self._root

    @property
    def rucio_cfg(self) -> Path:
        """The ``rucio.cfg`` the lake wrote (userpass login of account root); point ``RUCIO_CONFIG`` at it."""
        return self.data_dir / "rucio.cfg"

    @property
    def ca_cert(self) -> Path:
        """The CA certificate that signs the HTTPS listener's certificate (for ``ca_cert`` / ``--cacert``)."""
        return self.data_dir / "tls" / "ca.pem"

    @property
    def iam_issuer(self) -> str:
        """The emulated INDIGO IAM's issuer URL (OIDC discovery below it)."""
        return self.url + "/iam/"

    @property
    def fts(self) -> str:
        """The emulated FTS3 REST endpoint."""
        return self.url + "/fts"

    def rse_dir(self, rse: str) -> Path:
        """The directory holding an RSE's bytes (the default layout ``<data-dir>/rses/<RSE>``)."""
        return self.data_dir / "rses" / rse

    def env(self) -> Dict[str, str]:
        """Environment variables that point the ``rucio`` CLI and scripts at this lake.

        ``RUCIO_CONFIG``, ``LAKEBED_URL``, ``LAKEBED_DASHBOARD``,
        ``LAKEBED_FTS``, ``LAKEBED_IAM_ISSUER``, ``LAKEBED_METRICS``, ``LAKEBED_DATA_DIR`` (what ``lakebed env``
        prints), plus ``TMPDIR``: a folder of this lake's, so the CLI caches its login tokens per lake.
        """
        self._need()
        if self._env is not None:
            return dict(self._env)
        out = subprocess.run([str(self.binary), "env", "--data-dir", str(self.data_dir)], check=True,
                             capture_output=True, text=True, timeout=60).stdout
        env: Dict[str, str] = {}
        for line in out.splitlines():
            key, sep, value = line.partition("=")
            if sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
                env[key] = value.strip().strip("'\"")
        if self._https_url:
            env["LAKEBED_HTTPS_URL"] = self._https_url
            env["LAKEBED_CA_CERT"] = str(self.ca_cert)
        env["TMPDIR"] = str(self.root / "client")
        self._env = env
        return dict(env)

    @contextlib.contextmanager
    def as_default(self) -> Iterator["Lake"]:
        """Points this process at the lake while the ``with`` block runs: sets :meth:`env` in ``os.environ``
        (so ``Client()``, ``UploadClient`` and ``DownloadClient``, which ask the ``RUCIO_CONFIG`` server for RSE
        settings, and ``rucio`` subprocesses reach this lake) and empties rucio's caches; restores both after.

        The pytest plugin does this for the ``lake`` fixture during every test.
        """
        env = self.env()
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        forget_rucio_caches()
        try:
            yield self
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            forget_rucio_caches()

    # ----------------------------------------------------------------------------------------------- clients

    def client(self, account: str = "root", *, username: Optional[str] = None, password: Optional[str] = None,
               token: Optional[str] = None, **kwargs: Any) -> "Client":
        """A ``rucio.client.Client`` that talks to this lake (needs ``pip install "lakebed[rucio]"``).

        Account ``root`` logs in with ``ddmlab`` / ``secret``; other accounts with ``username``/``password``
        (userpass) or with an IAM ``token`` (OIDC, e.g. from :meth:`token`). Each lake keeps its clients'
        cached login tokens in its own folder, so clients of different lakes never mix them up.
        Other keyword arguments go to ``Client`` (e.g. ``timeout``).
        """
        self._need()
        from rucio.client import Client as RucioClient

        if token is not None:
            auth_type, creds = "oidc", None
        else:
            if username is None and account == "root":
                username, password = ROOT_USERNAME, ROOT_PASSWORD
            if username is None or password is None:
                raise ValueError(f"give username and password (or token) to log in as account {account!r}")
            auth_type, creds = "userpass", {"username": username, "password": password}
        token_dir = self.root / "client" / (f"tokens-{auth_type}-{username}" if token is None else "tokens-oidc")
        cls = self._client_class(RucioClient, token_dir)
        if token is not None:
            token_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            (token_dir / f"auth_token_for_account_{account}").write_text(token)
        kwargs.setdefault("ca_cert", str(self.ca_cert) if self.ca_cert.exists() else None)
        return cls(rucio_host=self.url, auth_host=self.url, account=account, auth_type=auth_type, creds=creds,
                   **kwargs)

    def _client_class(self, base: type, token_dir: Path) -> type:
        key = f"{base.__module__}.{base.__qualname__}:{token_dir}"
        cls = self._client_classes.get(key)
        if cls is None:
            directory = str(token_dir)

            def _get_auth_tokens(client: Any) -> Any:
                # rucio keeps tokens under one folder per user and account for every server: keep this lake's apart.
                suffix = "for_default_account" if client.account is None else "for_account_" + client.account
                return (None, os.path.join(directory, "auth_token_exp_" + suffix),
                        os.path.join(directory, "auth_token_" + suffix), directory)

            cls = type(base.__name__, (base,), {
                "_get_auth_tokens": _get_auth_tokens,
                "__doc__": f"{base.__doc__ or ''}\n\n(Logged in to the lake at {self._url}.)",
                "__module__": base.__module__,
            })
            self._client_classes[key] = cls
        return cls

    def token(self, user: Optional[str] = None, *, client: Optional[str] = None, scope: str = "openid profile",
              audience: str = "rucio", lifetime: int = 3600) -> str:
        """An IAM access token (a signed JWT) from the lake's issuer, valid on the lake's clock.

        ``user`` defaults to ``jdoe`` (mapped to account root); ``client`` alone gives a client-credentials token.
        Storage scopes such as ``"openid profile storage.read:/ storage.modify:/"`` work for WebDAV and FTS.
        A negative ``lifetime`` gives an already expired token.
        """
        self._need()
        cmd = [str(self.binary), "token", "--data-dir", str(self.data_dir), "--scope", scope,
               "--audience", audience, "--lifetime", str(int(lifetime))]
        if user is not None:
            cmd += ["--user", user]
        if client is not None:
            cmd += ["--client", client]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise LakeError(f"lakebed token failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
        return p.stdout.strip()

    # ----------------------------------------------------------------------------------------------- control API

    def control(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        """Calls the control API (``/lakebed/<path>``) and returns the decoded JSON answer."""
        self._need()
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        with self._conn_lock:
            for attempt in (1, 2):
                if self._conn is None:
                    parts = urllib.parse.urlsplit(self.url)
                    self._conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
                try:
                    self._conn.request(method, "/lakebed/" + path, body=data, headers=headers)
                    resp = self._conn.getresponse()
                    text = resp.read().decode("utf-8", "replace")
                    break
                except (http.client.HTTPException, ConnectionError, OSError):
                    self._close_conn_locked()
                    if attempt == 2 or not self.running:
                        raise
            if resp.getheader("Connection", "").lower() == "close":
                self._close_conn_locked()
        if resp.status >= 300:
            raise ControlError(method, path, resp.status, text)
        ctype = resp.getheader("Content-Type", "")
        return json.loads(text) if "json" in ctype and text else text

    def _close_conn(self) -> None:
        with self._conn_lock:
            self._close_conn_locked()

    def _close_conn_locked(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def clock(self) -> Dict[str, Any]:
        """The lake clock: ``now`` (ISO 8601), ``epoch`` (seconds), ``scale``, ``paused``, ``manual``."""
        return dict(self.control("GET", "clock"))

    def now(self) -> float:
        """The lake's time, in seconds since the epoch."""
        return float(self.clock()["epoch"])

    def set_clock(self, scale: Optional[float] = None, paused: Optional[bool] = None) -> Dict[str, Any]:
        """Changes the clock's speed (0 = manual) or pauses it."""
        body: Dict[str, Any] = {}
        if scale is not None:
            body["scale"] = scale
        if paused is not None:
            body["paused"] = paused
        self._clock_changed = True
        return dict(self.control("PUT", "clock", body))

    def advance(self, seconds: float) -> Dict[str, Any]:
        """Moves the lake clock forward by `seconds`, running every transfer, retry and daemon due on the way.

        Returns the clock afterwards, with ``stops``: how many events the lake stopped at.
        """
        return dict(self.control("POST", "clock/advance", {"seconds": seconds}))

    def advance_until(self, predicate: Callable[[], T], timeout: float = 3600, step: float = 60) -> T:
        """Advances the clock `step` lake seconds at a time until ``predicate()`` is truthy, and returns its value.

        Raises ``TimeoutError`` after `timeout` lake seconds. The predicate is checked before the first step, so
        a condition that already holds costs no lake time. Nothing sleeps: the clock is moved, not waited for.
        """
        if step <= 0:
            raise ValueError("step must be > 0")
        moved = 0.0
        value = predicate()
        while not value:
            if moved >= timeout:
                raise TimeoutError(f"condition still false after {timeout:g} s of lake time (last value {value!r})")
            seconds = min(step, timeout - moved)
            self.advance(seconds)
            moved += seconds
            value = predicate()
        return value

    def inject(self, fault: Union[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Injects a fault now: the id of one in the scenario's fault menu (``"site-c-unreachable"``), or a
        timeline event as in a scenario file (``{"event": "link", "from": "SITE-A", "to": "SITE-B", "down": True}``).
        Returns the latest events."""
        body = {"fault": fault} if isinstance(fault, str) else dict(fault)
        try:
            return list(self.control("POST", "inject", body)["events"])
        finally:
            forget_rucio_caches()

    def faults(self) -> List[Dict[str, str]]:
        """The scenario's fault menu: ``[{"id": ..., "label": ...}, ...]``."""
        return list(self.control("GET", "scenario")["faults"])

    def scenario_info(self) -> Dict[str, Any]:
        """The loaded scenario: name, seed, start, faults, timeline, rule labels and expectation results."""
        return dict(self.control("GET", "scenario"))

    def rule_id(self, label: str) -> str:
        """The Rucio rule id of a rule the scenario created (its ``id:`` label)."""
        return str(self.scenario_info()["rules"][label])

    def rse_down(self, rse: str, operations: Sequence[str] = ("read", "write", "delete")) -> List[Dict[str, Any]]:
        """Takes an RSE down now (by default for reading, writing and deleting)."""
        return self.inject({"event": "rse_down", "rse": rse, "operations": list(operations)})

    def rse_up(self, rse: str, operations: Sequence[str] = ("read", "write", "delete")) -> List[Dict[str, Any]]:
        """Brings an RSE back up now."""
        return self.inject({"event": "rse_up", "rse": rse, "operations": list(operations)})

    def set_link(self, src: str, dst: str, **settings: Any) -> Dict[str, Any]:
        """Changes a link (``*`` for any RSE): ``bandwidth`` (bytes/s), ``latency`` (s), ``concurrency``,
        ``failure_rate`` (0..1), ``down`` (bool), ``failure_reason``. Returns the link's settings."""
        unknown = set(settings) - {"bandwidth", "latency", "concurrency", "failure_rate", "down", "failure_reason"}
        if unknown:
            raise TypeError(f"unknown link settings: {', '.join(sorted(unknown))}")
        return dict(self.control("PUT", f"links/{_seg(src)}/{_seg(dst)}", settings))

    def links(self) -> Dict[str, Any]:
        """Link defaults, the links set so far and per-link transfer statistics."""
        return dict(self.control("GET", "links"))

    def transfers(self) -> List[Dict[str, Any]]:
        """The transfers in flight, with their progress."""
        return list(self.control("GET", "transfers"))

    def snapshot(self, name: str) -> None:
        """Saves the whole lake (catalog, bytes, clock, timeline position) under `name`."""
        self.control("POST", f"snapshots/{_seg(name)}")

    def restore(self, name: str) -> None:
        """Puts the lake back as it was at :meth:`snapshot` (logins are kept)."""
        self.control("POST", f"snapshots/{_seg(name)}/restore")
        forget_rucio_caches()

    def reset(self) -> None:
        """Back to the scenario's seed state: catalog, bytes, faults, links, timeline (logins are kept)."""
        self.control("POST", "reset")
        forget_rucio_caches()

    def events(self, after: int = 0, kind: Optional[str] = None, limit: int = 100000) -> List[Dict[str, Any]]:
        """The event log after sequence number `after` (``seq``, ``time``, ``kind`` and the event's fields),
        optionally only events whose kind is `kind` or starts with ``kind + "."`` (``"transfer"``)."""
        evs = list(self.control("GET", f"events?after={int(after)}&limit={int(limit)}"))
        if kind is not None:
            evs = [e for e in evs if e.get("kind") == kind or str(e.get("kind", "")).startswith(kind + ".")]
        return evs

    def check(self, checksums: bool = True) -> Dict[str, Any]:
        """Checks the lake's catalog against itself and the bytes on disk (``lakebed check``).

        Returns the report: ``consistent`` (bool), ``problems``, ``notes`` and counts."""
        return dict(self.control("GET", "check" + ("" if checksums else "?checksums=false")))


def _seg(s: str) -> str:
    return urllib.parse.quote(s, safe="*")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def forget_rucio_caches() -> None:
    """Empties the rucio client's in-process caches of server answers.

    ``rucio.rse.rsemanager`` keeps each RSE's settings (protocols, paths, availability) for 15 minutes, keyed by
    the RSE's name alone, and fetches them from the server ``RUCIO_CONFIG`` names: after a reset, an RSE going down
    or up, or a switch to another lake, stale settings would send bytes to the wrong place. Cheap when rucio is not
    imported. Called by :meth:`Lake.reset`, :meth:`Lake.restore`, :meth:`Lake.inject` and the pytest plugin.
    """
    import sys

    rsemanager = sys.modules.get("rucio.rse.rsemanager")
    region = getattr(rsemanager, "RSE_REGION", None)
    if region is not None:
        try:
            region.invalidate(hard=True)
        except Exception:  # pragma: no cover - another cache backend
            pass
    config = sys.modules.get("rucio.common.config")
    if config is not None and hasattr(config, "clean_cached_config"):
        config.clean_cached_config()
