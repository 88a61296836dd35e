"""The five services as real processes on the session's broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from helpdesk.devauth import dev_token
from helpdesk.services import SERVICES
from helpdesk.simulate.credentials import Credentials
from helpdesk.supervisor import spawn_service, stop_processes, wait_ready


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class System:
    """Handles on the running services: URLs, environments, and kill/restart for fault tests."""

    log_dir: Path
    envs: dict[str, dict[str, str]]
    urls: dict[str, str]
    #: The AUTH_SECRET every service verifies tokens with.
    secret: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def token(self, role: str = "admin", subject: str | None = None, teams: tuple[str, ...] = ()) -> str:
        """A bearer token the services accept."""
        return dev_token(self.secret, role, subject or f"e2e-{role}", teams=teams)

    def auth(self, role: str = "admin", subject: str | None = None,
             teams: tuple[str, ...] = ()) -> dict[str, str]:
        """An Authorization header for `role` (and `subject`)."""
        return {"Authorization": f"Bearer {self.token(role, subject, teams)}"}

    @property
    def headers(self) -> dict[str, str]:
        """An admin's Authorization header: pass it to plain httpx calls."""
        return self.auth("admin")

    @property
    def credentials(self) -> Credentials:
        """For the simulator: per-person tokens minted from the secret."""
        return Credentials(secret=self.secret)

    def client(self, role: str = "admin", subject: str | None = None, **kwargs: object) -> httpx.AsyncClient:
        """An httpx client whose every request carries a `role` token."""
        return httpx.AsyncClient(headers=self.auth(role, subject), **kwargs)  # type: ignore[arg-type]

    def start(self, name: str) -> None:
        """Start one service and wait until it is ready."""
        self.processes[name] = spawn_service(name, self.envs[name], self.log_dir / f"{name}.log")
        failed = wait_ready({name: self.urls[name]}, self.processes, timeout=60)
        if failed:
            raise RuntimeError(f"{name} did not get ready; see {self.log_dir / (name + '.log')}")

    def kill(self, name: str) -> None:
        """SIGKILL a service: no shutdown hooks run, as in a crash."""
        proc = self.processes[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def _create_databases(server_url: str, names: list[str]) -> None:
    conn = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for name in names:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def system(kafka_bootstrap: str, pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """Start intake, routing, sla, metrics and surveys once for all end-to-end tests."""
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    run = uuid.uuid4().hex[:8]
    databases = {name: f"e2e_{name}_{run}" for name in SERVICES}
    secret = secrets.token_urlsafe(48)
    asyncio.run(_create_databases(pg_server_url, list(databases.values())))
    envs: dict[str, dict[str, str]] = {}
    urls: dict[str, str] = {}
    for name in SERVICES:
        port = _free_port()
        prefix = name.upper()
        env = dict(os.environ)
        env.update({
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            f"{prefix}_PORT": str(port),
            f"{prefix}_DATABASE_URL": make_url(pg_server_url).set(database=databases[name]).render_as_string(hide_password=False),
            f"{prefix}_LOG_LEVEL": "INFO",
            "AUTH_ENABLED": "true",
            "AUTH_SECRET": secret,
        })
        envs[name] = env
        urls[name] = f"http://127.0.0.1:{port}"
    sys_ = System(log_dir=log_dir, envs=envs, urls=urls, secret=secret)
    # This process is a client of the system too (the simulator mints from AUTH_SECRET).
    previous = os.environ.get("AUTH_SECRET")
    os.environ["AUTH_SECRET"] = secret
    for name in SERVICES:
        sys_.processes[name] = spawn_service(name, envs[name], log_dir / f"{name}.log")
    try:
        failed = wait_ready(urls, sys_.processes, timeout=90)
        if failed:
            logs = "\n".join((log_dir / f"{n}.log").read_text()[-3000:] for n in failed)
            raise RuntimeError(f"services not ready: {failed}\n{logs}")
        yield sys_
    finally:
        stop_processes(sys_.processes)
        if previous is None:
            os.environ.pop("AUTH_SECRET", None)
        else:
            os.environ["AUTH_SECRET"] = previous


@pytest.fixture
async def http(system: System) -> httpx.AsyncClient:
    """A client carrying an admin token (override `Authorization` per request for other roles)."""
    async with system.client(timeout=10.0) as client:
        yield client
