"""Child processes (broker, database) that never outlive the process that started them."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

_cleanups: list[Callable[[], None]] = []
_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    user: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, logging to `log_path`, as `user` if given (root only).

    On Linux with `setpriv` the child also gets SIGKILL when the spawning thread dies, so a
    killed test run or CLI leaves no broker or database behind; spawn from a long-lived thread.
    """
    prefix: list[str] = []
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    if setpriv:
        prefix = [setpriv]
        if user is not None:
            prefix += ["--reuid", user, "--regid", user, "--clear-groups"]
        prefix += ["--pdeathsig", "KILL"]
    elif user is not None:
        prefix = ["runuser", "-u", user, "--"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [*prefix, *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )


def run_as(
    argv: Sequence[str], *, user: str | None, log_path: Path, cwd: Path | None = None
) -> None:
    """Run `argv` to completion (as `user` when given); raise with the log tail on failure."""
    prefix = ["runuser", "-u", user, "--"] if user is not None else []
    with open(log_path, "ab") as log:
        code = subprocess.call([*prefix, *argv], stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    if code != 0:
        raise RuntimeError(f"{argv[0]} exited with {code}:\n{log_tail(log_path)}")


def terminate(
    proc: subprocess.Popen[bytes] | None, *, sig: int = signal.SIGTERM, timeout: float = 5.0
) -> None:
    """Signal the process group of `proc`, then SIGKILL it if it has not exited within `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        proc.wait(timeout)


def log_tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a log file ('' when missing)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def at_exit(cleanup: Callable[[], None]) -> None:
    """Run `cleanup` when the interpreter exits (idempotent cleanups only)."""
    with _lock:
        _cleanups.append(cleanup)


def forget(cleanup: Callable[[], None]) -> None:
    """Drop a cleanup registered with `at_exit` (after it ran normally)."""
    with _lock:
        if cleanup in _cleanups:
            _cleanups.remove(cleanup)


@atexit.register
def _run_cleanups() -> None:
    with _lock:
        pending = list(reversed(_cleanups))
        _cleanups.clear()
    for cleanup in pending:
        try:
            cleanup()
        except Exception as exc:  # best effort while the interpreter shuts down
            print(f"cleanup {cleanup!r} failed: {exc}", file=sys.stderr)
