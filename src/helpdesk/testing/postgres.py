"""A throw-away PostgreSQL cluster from the installed binaries, and database create/drop helpers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url

from helpdesk.testing.processes import (
    at_exit,
    forget,
    free_port,
    log_tail,
    run_as,
    spawn,
    terminate,
)

T = TypeVar("T")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: A throw-away cluster needs no crash safety: commits cost no disk flush.
_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
}
#: What a production server runs with (every commit flushed to disk): `settings=DURABLE`.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def postgres_bin_dir() -> Path:
    """Where initdb and postgres are: `PG_BIN`, `pg_config --bindir`, /usr/lib/postgresql/*/bin."""
    override = os.environ.get("PG_BIN")
    if override:
        return Path(override)
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = Path(subprocess.check_output([pg_config, "--bindir"], text=True).strip())
        if (bindir / "initdb").exists():
            return bindir
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name.split(".")[0])
    )
    if candidates:
        return Path(candidates[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise FileNotFoundError(
        "no PostgreSQL binaries: install PostgreSQL or set PG_BIN or TEST_DATABASE_URL"
    )


def create_database(server_url: str, name: str) -> str:
    """Create database `name` on the server of `server_url`; return the new database's URL."""
    _check_name(name)
    _run_async(lambda: _admin(server_url, f'CREATE DATABASE "{name}"'))
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database `name` (its connections are terminated first)."""
    _check_name(name)
    _run_async(lambda: _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def database_url(server_url: str, name: str) -> str:
    """`server_url` pointed at database `name`, with the asyncpg driver."""
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


class PostgresCluster:
    """initdb + postgres on 127.0.0.1:`port` in a temp dir, as user `postgres` when root."""

    def __init__(
        self,
        port: int = 0,
        *,
        base_dir: Path | None = None,
        bin_dir: Path | None = None,
        log_path: Path | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        #: Server settings over the throw-away defaults (e.g. `DURABLE`).
        self.settings = {**_SETTINGS, **(settings or {})}
        # Not under pytest's tmp dirs: those are private to root, the server runs as postgres.
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="helpdesk-pg-"))
        self.data_dir = self.base_dir / "data"
        # Written through an inherited descriptor: it may live anywhere and outlive stop().
        self.log_path = log_path or self.base_dir / "postgres.log"
        self._bin_dir = bin_dir
        self._user = "postgres" if os.geteuid() == 0 else None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the server (database `postgres`, user `postgres`, no password)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def postmaster_pid(self) -> int | None:
        """The postmaster's process id while it runs (its first line of postmaster.pid)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0]) if self.running else None
        except (OSError, ValueError, IndexError):
            return None

    @property
    def running(self) -> bool:
        """True while the postmaster is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> PostgresCluster:
        """initdb (first time) and start the server; returns when it accepts connections."""
        if self.running:
            return self
        bin_dir = self._bin_dir or postgres_bin_dir()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.base_dir, entry.pw_uid, entry.pw_gid)
            os.chmod(self.base_dir, 0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            run_as(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                user=self._user,
                log_path=self.log_path,
                cwd=self.base_dir,
            )
        settings = {
            **self.settings,
            "port": str(self.port),
            "unix_socket_directories": str(self.base_dir),
        }
        argv = [str(bin_dir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        self._proc = spawn(argv, log_path=self.log_path, user=self._user, cwd=self.base_dir)
        at_exit(self.stop)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until postmaster.pid says `ready`, or raise with the log tail."""
        pid_file = self.data_dir / "postmaster.pid"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise RuntimeError(f"postgres exited with {code}:\n{log_tail(self.log_path)}")
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
            time.sleep(0.05)
        raise TimeoutError(f"postgres not ready after {timeout}s:\n{log_tail(self.log_path)}")

    def create_database(self, name: str) -> str:
        """Create database `name`; return its URL."""
        return create_database(self.url, name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`."""
        drop_database(self.url, name)

    def stop(self, *, remove: bool = True) -> None:
        """Stop the server (fast shutdown, SIGKILL if stuck) and delete its directory by default."""
        proc, self._proc = self._proc, None
        # SIGINT is PostgreSQL's "fast" shutdown: no waiting for clients.
        terminate(proc, sig=2, timeout=10.0)
        forget(self.stop)
        if remove:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"database name {name!r} must match {_NAME.pattern}")


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg

    url = make_url(server_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from sync code on a private loop in a worker thread (safe in a loop)."""

    async def main() -> T:
        return await factory()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()
