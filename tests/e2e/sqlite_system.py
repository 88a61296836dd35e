"""Some services as real processes on SQLite files, beside a private broker (the embedded mode)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpdesk.supervisor import spawn_service, stop_processes, wait_ready
from helpdesk.testing import TansuBroker
from helpdesk.testing.processes import free_port
from helpdesk_events import topics
from helpdesk_events.kafka import ensure_topics
from helpdesk_runtime.settings import KafkaSettings

from .conftest import System


@contextmanager
def sqlite_system(root: Path, names: tuple[str, ...]) -> Iterator[tuple[System, str]]:
    """Start `names` on SQLite files under `root` and their own Tansu; yields (system, bootstrap).

    The broker is private so that these services' consumer groups, and the events they
    publish, never meet the session's PostgreSQL-backed services.
    """
    broker = TansuBroker(log_path=root / "tansu.log")
    secret = secrets.token_urlsafe(48)
    envs: dict[str, dict[str, str]] = {}
    urls: dict[str, str] = {}
    for name in names:
        port, prefix = free_port(), name.upper()
        env = dict(os.environ)
        env.update({
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            f"{prefix}_PORT": str(port),
            f"{prefix}_DATABASE_URL": f"sqlite+aiosqlite:///{root / f'{name}.db'}",
            f"{prefix}_VAR_DIR": str(root),
            f"{prefix}_LOG_LEVEL": "INFO",
            "AUTH_ENABLED": "true",
            "AUTH_SECRET": secret,
        })
        envs[name], urls[name] = env, f"http://127.0.0.1:{port}"
    system = System(log_dir=root, envs=envs, urls=urls, secret=secret)
    broker.start()
    try:
        # Clients never auto-create topics: create them as `helpdesk topics` does.
        partitions = KafkaSettings().partitions
        asyncio.run(ensure_topics(broker.bootstrap, {t: partitions for t in topics.ALL}))
        for name in names:
            system.processes[name] = spawn_service(name, envs[name], root / f"{name}.log")
        failed = wait_ready(urls, system.processes, timeout=90)
        if failed:
            logs = "\n".join((root / f"{n}.log").read_text()[-3000:] for n in failed)
            raise RuntimeError(f"SQLite services not ready: {failed}\n{logs}")
        yield system, broker.bootstrap
    finally:
        stop_processes(system.processes)
        broker.stop()
