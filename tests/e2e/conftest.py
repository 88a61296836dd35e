"""The five services as real processes on the session's broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
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

from helpdesk.services import SERVICES
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
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

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
        })
        envs[name] = env
        urls[name] = f"http://127.0.0.1:{port}"
    sys_ = System(log_dir=log_dir, envs=envs, urls=urls)
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


@pytest.fixture
async def http() -> httpx.AsyncClient:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client
