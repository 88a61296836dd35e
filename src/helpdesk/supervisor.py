"""`helpdesk up`: the embedded broker plus the five services as child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .services import SERVICES
from .simulate.curve import HOUR, parse_clock
from .simulate.plan import Options

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Simulation:
    """The traffic `helpdesk up` plays once the services are ready."""

    options: Options
    speed: float


#: A busy simulated Monday morning (08:00-12:00, about 90 tickets) in about 30 real seconds.
DEMO_SIMULATION = Simulation(Options(seed=1, duration=4 * HOUR, rate=30.0,
                                     start=parse_clock("Mon 08:00")), speed=480.0)


def service_env(name: str, *, bootstrap: str, var_dir: Path, base: dict[str, str] | None = None,
                auth_secret: str | None = None) -> dict[str, str]:
    """Environment for one service process: shared broker, its own SQLite file unless configured."""
    env = dict(os.environ if base is None else base)
    env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    env.setdefault(f"{name.upper()}_VAR_DIR", str(var_dir))
    if auth_secret is not None:
        env["AUTH_SECRET"] = auth_secret
    return env


def auth_secret_for(var_dir: Path) -> str | None:
    """The secret the services verify tokens with: AUTH_SECRET, else one kept in var/.

    None when the operator switched authentication off (AUTH_ENABLED=false).
    """
    if os.environ.get("AUTH_ENABLED", "true").strip().lower() in ("0", "false", "no", "off"):
        return None
    from .devauth import embedded_secret

    return os.environ.get("AUTH_SECRET") or embedded_secret(var_dir)


def spawn_service(name: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `helpdesk serve NAME` as a child process logging to `log_path`."""
    log = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
    return subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli", "serve", name],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def wait_ready(urls: dict[str, str], processes: dict[str, subprocess.Popen[bytes]], timeout: float) -> list[str]:
    """Poll each /readyz until 200; return the names that never got ready."""
    pending = dict(urls)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                if processes[name].poll() is not None:
                    return [name]
                try:
                    if client.get(f"{url}/readyz").status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
    return list(pending)


def stop_processes(processes: dict[str, subprocess.Popen[bytes]], grace: float = 15.0) -> None:
    """SIGTERM each child, wait for a clean shutdown, SIGKILL what is left."""
    for proc in processes.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in processes.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_simulation(simulation: Simulation, urls: dict[str, str],
                     stop: threading.Event, secret: str | None = None) -> threading.Thread:
    """Run `simulation` in a background thread, printing where it is every few seconds."""
    import asyncio

    from .simulate.credentials import Credentials
    from .simulate.runner import simulate, summary_lines
    from .simulate.seeding import Urls
    from .simulate.ui import line_reporter

    def say(line: str) -> None:
        print(line, flush=True)

    def run() -> None:
        try:
            outcome = asyncio.run(simulate(
                simulation.options, Urls(**urls), speed=simulation.speed,
                on_progress=line_reporter(simulation.options, say), should_stop=stop.is_set,
                credentials=Credentials(secret=secret)))
        except Exception as error:  # noqa: BLE001 - the services keep running without traffic
            print(f"simulation failed: {error}", file=sys.stderr, flush=True)
            return
        for line in summary_lines(outcome):
            say(f"simulation: {line}")
        say(f"simulation done; dashboard {urls['metrics']}/dashboard (link above) "
            "(more traffic: `helpdesk simulate`)")

    thread = threading.Thread(target=run, name="simulation", daemon=True)
    thread.start()
    return thread


def _print_access(urls: dict[str, str], secret: str | None) -> None:
    """The admin token and the dashboard link that carries it."""
    if secret is None:
        print("auth     OFF (AUTH_ENABLED=false): every caller acts as admin", flush=True)
        print(f"dashboard {urls['metrics']}/dashboard", flush=True)
        return
    from .devauth import dev_token

    admin = dev_token(secret, "admin", "admin", ttl_seconds=7 * 24 * 3600)
    print(f"admin token (7 days): {admin}", flush=True)
    print("  more tokens: helpdesk token --role agent --subject agent-1", flush=True)
    print(f"dashboard {urls['metrics']}/dashboard#token={admin}", flush=True)


def run_system(*, broker_port: int, var_dir: Path, simulation: Simulation | None = None) -> int:
    """Start broker and services, print their URLs, run until Ctrl-C; returns an exit code.

    With `simulation`, traffic starts as soon as every service is ready.
    """
    from helpdesk.testing.broker import TansuBroker

    var_dir = var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    logs = var_dir / "logs"
    logs.mkdir(exist_ok=True)

    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = TansuBroker(port=broker_port, log_path=logs / "broker.log")
        broker.start()
        bootstrap = broker.bootstrap
        print(f"broker   {bootstrap} (embedded, memory-only)", flush=True)

    secret = auth_secret_for(var_dir)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False
    stop_simulation = threading.Event()
    simulation_thread: threading.Thread | None = None

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for name in SERVICES:
            processes[name] = spawn_service(
                name, service_env(name, bootstrap=bootstrap, var_dir=var_dir, auth_secret=secret),
                logs / f"{name}.log",
            )
        urls = {name: f"http://127.0.0.1:{spec.port}" for name, spec in SERVICES.items()}
        failed = wait_ready(urls, processes, READY_TIMEOUT_S)
        if failed:
            print(f"not ready: {', '.join(failed)}; see {logs}/<service>.log", file=sys.stderr, flush=True)
            return 1
        for name, url in urls.items():
            print(f"{name:<8} {url}  (docs {url}/docs)", flush=True)
        _print_access(urls, secret)
        print("all services ready; Ctrl-C stops everything", flush=True)
        if simulation is not None:
            print(f"simulation: seeding the organisation, then {simulation.options.duration / HOUR:g} "
                  f"simulated hours of traffic in about "
                  f"{simulation.options.duration / simulation.speed:.0f} s (--no-simulate skips it)",
                  flush=True)
            simulation_thread = start_simulation(simulation, urls, stop_simulation, secret)
        while not stopping:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping", file=sys.stderr, flush=True)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping...", flush=True)
        stop_simulation.set()
        if simulation_thread is not None:
            simulation_thread.join(timeout=10)
        stop_processes(processes)
        if broker is not None:
            broker.stop()
