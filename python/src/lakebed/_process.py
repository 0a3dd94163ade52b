"""Starting `lakebed` child processes that never outlive the Python process that started them.

Three layers, so that a lake is not left behind however Python ends:

* On Linux the child asks the kernel for SIGKILL when its parent goes away (``prctl(PR_SET_PDEATHSIG)``, set
  between ``fork`` and ``exec``), and exits at once if the parent is already gone by then. That covers ``kill -9``
  of Python, a crash, and an out-of-memory kill, where no Python code runs.
* The kernel counts the *thread* that forked as the parent, so every child is forked by one long-lived daemon
  thread ("lakebed-spawner"), never by a worker thread that might end before the lake does.
* ``atexit`` stops every lake still running when the interpreter exits normally (and deletes its folder).

Folders of lakes whose Python process was killed cannot be deleted by it; :func:`sweep_stale_roots` deletes them
the next time a lake starts (only folders carrying an owner marker of a process that no longer exists).
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import weakref
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

PR_SET_PDEATHSIG = 1
OWNER_MARKER = ".lakebed-owner"
ROOT_PREFIX = "lakebed-"

_libc: Optional[Any] = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:  # pragma: no cover - no libc to load: only atexit protects the children
        _libc = None


def _child_setup(parent_pid: int) -> Callable[[], None]:
    """The function the child runs between fork and exec (async-signal-safe calls only)."""

    def setup() -> None:
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died before prctl took effect: then nobody would ever signal us.
        if os.getppid() != parent_pid:
            os._exit(1)

    return setup


class _Spawner:
    """One daemon thread that forks every child, so that the parent thread lives as long as the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._thread: Optional[threading.Thread] = None

    def _run(self) -> None:
        while True:
            fn, fut = self._queue.get()
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as e:  # handed to the caller
                    fut.set_exception(e)

    def call(self, fn: Callable[[], Any]) -> Any:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lakebed-spawner", daemon=True)
                self._thread.start()
        fut: Future[Any] = Future()
        self._queue.put((fn, fut))
        return fut.result()


_spawner = _Spawner()
_children: "weakref.WeakSet[subprocess.Popen[bytes]]" = weakref.WeakSet()
_cleanups: list[Callable[[], None]] = []


def spawn(args: Sequence[str], **popen_kwargs: Any) -> "subprocess.Popen[bytes]":
    """Starts `args` as a child that dies with this process (see the module's docstring)."""
    parent = os.getpid()

    def start() -> "subprocess.Popen[bytes]":
        return subprocess.Popen(list(args), preexec_fn=_child_setup(parent), close_fds=True, **popen_kwargs)

    proc: "subprocess.Popen[bytes]" = _spawner.call(start)
    _children.add(proc)
    return proc


def terminate(proc: "subprocess.Popen[Any]", timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the child has not exited within `timeout` seconds; always reaps it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def at_exit(fn: Callable[[], None]) -> None:
    """Registers a clean-up run when the interpreter exits (before the children are killed)."""
    _cleanups.append(fn)


@atexit.register
def _stop_all() -> None:
    for fn in list(_cleanups):
        try:
            fn()
        except Exception:
            pass
    for proc in list(_children):
        try:
            terminate(proc, timeout=5)
        except Exception:
            pass


def _pid_namespace() -> str:
    """Identifies this process's pid namespace: a pid means something only within its own (containers share /tmp)."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "-"


def make_root(parent: Optional[str] = None) -> Path:
    """A new private folder for one lake, marked with this process's id so a later run can sweep it."""
    root = Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-", dir=parent))
    (root / OWNER_MARKER).write_text(f"{os.getpid()} {_pid_namespace()}\n")
    return root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_roots(parent: Optional[str] = None) -> list[Path]:
    """Deletes lake folders left by processes that were killed (their owner marker names a pid of this pid
    namespace that no longer exists)."""
    base = Path(parent or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = list(base.glob(f"{ROOT_PREFIX}*/{OWNER_MARKER}"))
    except OSError:
        return removed
    for marker in candidates:
        try:
            fields = marker.read_text().split()
            pid, namespace = int(fields[0]), fields[1]
        except (OSError, ValueError, IndexError):
            continue
        if namespace != _pid_namespace() or pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(marker.parent, ignore_errors=True)
        removed.append(marker.parent)
    return removed
