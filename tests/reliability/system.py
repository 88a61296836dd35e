"""The five services as processes on a broker and a PostgreSQL cluster of their own, to break.

Unlike tests/e2e (which shares the session's broker and database), this system owns its
broker and cluster, so a test may restart them without disturbing anyone else.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from helpdesk.devauth import dev_token
from helpdesk.services import SERVICES
from helpdesk.supervisor import spawn_service, stop_processes
from helpdesk.testing.broker import TansuBroker
from helpdesk.testing.postgres import PostgresCluster
from helpdesk.testing.processes import free_port

T = TypeVar("T")

#: Every service but intake consumes helpdesk.tickets: their inboxes must hold every ticket event.
TICKET_CONSUMERS = ("routing", "sla", "surveys", "metrics")


def plain_dsn(url: str) -> str:
    """An asyncpg DSN from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class FaultSystem:
    """Handles on the broker, the cluster and the five service processes, with fault switches."""

    log_dir: Path
    broker: TansuBroker
    postgres: PostgresCluster
    database_urls: dict[str, str] = field(default_factory=dict)
    envs: dict[str, dict[str, str]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: The AUTH_SECRET the services verify tokens with.
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def headers(self) -> dict[str, str]:
        """An admin's Authorization header, for every call these tests make."""
        return {"Authorization": f"Bearer {dev_token(self.secret, 'admin', 'reliability')}"}

    @classmethod
    def create(cls, log_dir: Path) -> FaultSystem:
        """Start the broker and the cluster, create one database per service, configure them."""
        broker = TansuBroker(log_path=log_dir / "tansu.log").start()
        postgres = PostgresCluster(log_path=log_dir / "postgres.log").start()
        system = cls(log_dir=log_dir, broker=broker, postgres=postgres)
        for name in SERVICES:
            system.database_urls[name] = postgres.create_database(f"rel_{name}")
            port = free_port()
            prefix = name.upper()
            env = dict(os.environ)
            env.update({
                "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
                f"{prefix}_PORT": str(port),
                f"{prefix}_DATABASE_URL": system.database_urls[name],
                f"{prefix}_LOG_LEVEL": "INFO",
                "AUTH_ENABLED": "true",
                "AUTH_SECRET": system.secret,
            })
            system.envs[name] = env
            system.urls[name] = f"http://127.0.0.1:{port}"
        return system

    def start_all(self, timeout: float = 120.0) -> None:
        """Spawn every service and wait until each answers /readyz with 200."""
        for name in SERVICES:
            self.spawn(name)
        self.wait_ready(list(SERVICES), timeout)

    def spawn(self, name: str) -> None:
        """Start one service process (not waiting for it)."""
        self.processes[name] = spawn_service(name, self.envs[name], self.log_dir / f"{name}.log")

    def kill(self, name: str) -> None:
        """SIGKILL a service: no shutdown hooks run, as in a crash."""
        proc = self.processes[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def wait_ready(self, names: list[str], timeout: float = 90.0) -> float:
        """Block until every named service answers /readyz 200; returns the seconds it took."""
        started = time.monotonic()
        pending = set(names)
        with httpx.Client(timeout=3.0) as client:
            while pending:
                for name in sorted(pending):
                    proc = self.processes.get(name)
                    if proc is not None and proc.poll() is not None:
                        raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
                    try:
                        if client.get(f"{self.urls[name]}/readyz").status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError:
                        pass
                if not pending:
                    break
                if time.monotonic() - started > timeout:
                    tails = "\n".join(f"--- {n}\n{self.log_tail(n)}" for n in sorted(pending))
                    raise TimeoutError(f"not ready after {timeout}s: {sorted(pending)}\n{tails}")
                time.sleep(0.25)
        return time.monotonic() - started

    def stop_broker(self) -> None:
        """Stop the memory-only broker: its topics and committed offsets vanish."""
        self.broker.stop()

    def start_broker(self) -> None:
        """Start an empty broker on the same port (from the main thread: see `spawn`'s pdeathsig)."""
        self.broker.start()

    def stop_postgres(self) -> None:
        """Fast shutdown (SIGINT, as `pg_ctl stop -m fast`), keeping the data directory."""
        self.postgres.stop(remove=False)

    def start_postgres(self) -> None:
        """Start the cluster again on the same port and data directory."""
        self.postgres.start()

    def log_tail(self, name: str, chars: int = 3000) -> str:
        """The end of a service's log."""
        try:
            return (self.log_dir / f"{name}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def close(self) -> None:
        """Stop services, broker and cluster."""
        try:
            stop_processes(self.processes)
        finally:
            self.broker.stop()
            self.postgres.stop()


async def fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    """Run one query on a service database (test-side inspection, read only)."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def wait_until(predicate: Callable[[], Awaitable[T]], timeout: float, interval: float = 0.5) -> T:
    """Await `predicate()` until truthy or `timeout` seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)
