"""Fixtures of the fault suite: a private system to break, and the table of faults survived."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from .seed import seed
from .stream import TicketStream
from .system import FaultSystem

#: Every ticket of the suite has a subject starting with this (the loss checker's filter).
SUBJECT_PREFIX = "rel "


@dataclass
class Ledger:
    """Every ticket the clients got a 201 for, and every one they resolved, across the scenarios."""

    since: datetime
    created: dict[str, str] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)

    def record(self, stream: TicketStream) -> None:
        """Add what a finished stream created and resolved."""
        self.created.update(stream.created)
        self.resolved |= stream.resolved


_TABLE: list[tuple[str, ...]] = []
HEADER = ("fault", "tickets", "resolved", "recovery", "lost", "doubled",
          "lost/doubled per projection", "result")


@pytest.fixture(scope="session")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultSystem]:
    """The five services on a broker and a PostgreSQL cluster of their own (never the shared ones),
    with a routing team of agents online and a survey policy (tests/reliability/seed.py)."""
    system = FaultSystem.create(tmp_path_factory.mktemp("reliability"))
    try:
        system.start_all()
        seed(system)
        yield system
    finally:
        system.close()


@pytest.fixture(scope="session")
def ledger(faults: FaultSystem) -> Ledger:
    """The suite's record of created tickets (the KPI window starts before the first one)."""
    return Ledger(since=datetime.now(timezone.utc) - timedelta(seconds=5))


@pytest.fixture(scope="session")
def table() -> list[tuple[str, ...]]:
    """Rows of the faults-survived table, printed at the end of the run."""
    return _TABLE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the table of faults survived."""
    if not _TABLE:
        return
    widths = [max(len(str(row[i])) for row in [HEADER, *_TABLE]) for i in range(len(HEADER))]
    terminalreporter.section("faults survived")
    for row in [HEADER, *_TABLE]:
        terminalreporter.write_line(" | ".join(str(c).ljust(w) for c, w in zip(row, widths)))
