"""What the benchmarks run on: a spawned Tansu, a throw-away PostgreSQL, services as processes."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from helpdesk.services import SERVICES
from helpdesk.supervisor import spawn_service, stop_processes, wait_ready
from helpdesk.testing.broker import TansuBroker
from helpdesk.testing.postgres import DURABLE, PostgresCluster
from helpdesk.testing.processes import free_port
from helpdesk_runtime.auth import AuthSettings, mint_token


def plain_dsn(url: str) -> str:
    """A SQLAlchemy asyncpg URL as a plain postgresql:// DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def memory_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MiB, from /proc (VmRSS, VmHWM)."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (PostgreSQL's backends, from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


@dataclass
class Stack:
    """Broker, database server and the processes a run started (stopped by `close`)."""

    work_dir: Path
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    broker: TansuBroker | None = None
    cluster: PostgresCluster | None = None
    #: Run PostgreSQL with fsync, synchronous_commit and full_page_writes on (production's).
    durable: bool = False
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)

    def start(self) -> Stack:
        """Spawn the broker and the database server."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.broker = TansuBroker(log_path=self.work_dir / "tansu.log").start()
        self.cluster = PostgresCluster(log_path=self.work_dir / "postgres.log",
                                       settings=DURABLE if self.durable else None).start()
        return self

    @property
    def bootstrap(self) -> str:
        assert self.broker is not None
        return self.broker.bootstrap

    def token(self) -> str:
        """A bearer token the services accept (admin role)."""
        return mint_token(AuthSettings(secret=SecretStr(self.secret)), "bench", ["admin"],
                          ttl_seconds=24 * 3600)

    def create_database(self, name: str) -> str:
        """A new database on the cluster; its SQLAlchemy URL."""
        assert self.cluster is not None
        url = self.cluster.create_database(name)
        self.databases[name] = url
        return url

    def service_env(self, name: str, database_url: str, port: int,
                    extra: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for one service process."""
        prefix = name.upper()
        env = dict(os.environ)
        env.update({
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "AUTH_SECRET": self.secret,
            f"{prefix}_PORT": str(port),
            f"{prefix}_DATABASE_URL": database_url,
            f"{prefix}_LOG_LEVEL": "WARNING",
            # The load is one caller by design: the per-caller create limit would cap it.
            "INTAKE_CREATE_RATE_PER_MINUTE": "0",
        })
        env.update(extra or {})
        return env

    def start_services(self, names: list[str], *, label: str = "",
                       extra: dict[str, dict[str, str]] | None = None,
                       databases: dict[str, str] | None = None, timeout: float = 120) -> None:
        """Start services as `helpdesk serve` processes, each on a new database; wait for /readyz."""
        started: dict[str, str] = {}
        for name in names:
            key = f"{label}{name}"
            url = (databases or {}).get(name) or self.create_database(f"bench_{key}")
            port = free_port()
            env = self.service_env(name, url, port, (extra or {}).get(name))
            self.processes[key] = spawn_service(name, env, self.work_dir / f"{key}.log")
            self.urls[key] = started[key] = f"http://127.0.0.1:{port}"
        failed = wait_ready(started, self.processes, timeout=timeout)
        if failed:
            tails = "\n".join((self.work_dir / f"{k}.log").read_text()[-2000:] for k in failed)
            raise RuntimeError(f"not ready: {failed}\n{tails}")

    def start_process(self, key: str, argv: list[str], url: str, timeout: float = 60) -> None:
        """Start another process (the baseline app) and wait for its /readyz."""
        log = open(self.work_dir / f"{key}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[key] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True)
        self.urls[key] = url
        if wait_ready({key: url}, self.processes, timeout=timeout):
            raise RuntimeError(f"{key} not ready; see {self.work_dir / (key + '.log')}")

    def stop(self, keys: list[str]) -> None:
        """Stop some processes (SIGTERM, then SIGKILL)."""
        stop_processes({k: self.processes.pop(k) for k in keys if k in self.processes})

    def memory(self, key: str) -> tuple[float, float]:
        """(current, peak) RSS in MiB of a started process."""
        return memory_mb(self.processes[key].pid)

    def component_cpu(self) -> dict[str, float]:
        """CPU seconds so far per service process, the broker and the database server.

        PostgreSQL's figure is the postmaster and its live backends: a backend that exited
        took its CPU time with it, so read it while the services hold their pools.
        """
        out = {name: cpu_seconds(self.processes[name].pid) for name in all_services()
               if name in self.processes}
        if self.broker is not None and self.broker.pid is not None:
            out["Tansu"] = cpu_seconds(self.broker.pid)
        postmaster = self.cluster.postmaster_pid if self.cluster is not None else None
        if postmaster is not None:
            # A backend that exited meanwhile reads as NaN: its time is gone either way.
            out["PostgreSQL"] = sum(t for t in map(cpu_seconds, [postmaster, *children_of(postmaster)])
                                    if t == t)
        return out

    def close(self) -> None:
        """Stop everything this run started."""
        stop_processes(self.processes)
        self.processes.clear()
        if self.cluster is not None:
            self.cluster.stop()
        if self.broker is not None:
            self.broker.stop()


def python_module(module: str, *args: str) -> list[str]:
    """argv running `python -m module args` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def all_services() -> list[str]:
    """The five service names in start order."""
    return list(SERVICES)

