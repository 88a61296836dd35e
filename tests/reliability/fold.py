"""The truth: intake's event store folded per ticket into the facts every projection must show."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from helpdesk_events.tickets import (
    TicketAssigned,
    TicketClosed,
    TicketCreated,
    TicketEscalated,
    TicketResolved,
    TicketTransferred,
    StatusChanged,
)

#: Statuses that are out of everyone's workload (routing's "done", metrics' resolved).
DONE_STATUSES = frozenset({"resolved", "closed"})


@dataclass(frozen=True)
class TicketTruth:
    """One ticket as intake's store tells it: where it stands and how often things happened."""

    ticket_id: str
    subject: str
    status: str = "new"
    team: str | None = None
    agent: str | None = None
    #: TicketAssigned events (routing assigns once: two is a double assignment).
    assignments: int = 0
    #: TicketResolved events.
    resolutions: int = 0
    event_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def done(self) -> bool:
        """Resolved or closed: no clock runs, no agent carries it."""
        return self.status in DONE_STATUSES


def _apply(truth: TicketTruth, type_: str, data: Mapping[str, Any]) -> TicketTruth:
    change: dict[str, Any] = {}
    if type_ == TicketAssigned.TYPE:
        change = {"team": data["team"], "agent": data.get("agent"),
                  "assignments": truth.assignments + 1}
    elif type_ == TicketTransferred.TYPE:
        change = {"team": data["to_team"], "agent": data.get("to_agent")}
    elif type_ == TicketEscalated.TYPE:
        if data.get("to_team") is not None:
            change = {"team": data["to_team"], "agent": data.get("to_agent")}
        elif data.get("to_agent") is not None:
            change = {"agent": data["to_agent"]}
    elif type_ == StatusChanged.TYPE:
        change = {"status": data["to_status"]}
    elif type_ == TicketResolved.TYPE:
        change = {"resolutions": truth.resolutions + 1}
    elif type_ == TicketClosed.TYPE:
        change = {"status": "closed"}
    return dataclasses.replace(truth, **change) if change else truth


def fold(rows: Iterable[Mapping[str, Any]]) -> dict[str, TicketTruth]:
    """Every ticket of the store (rows of `events` in position order) as a TicketTruth."""
    truths: dict[str, TicketTruth] = {}
    for row in rows:
        ticket_id = str(row["stream_id"])
        envelope = json.loads(row["envelope"])
        data = envelope["data"]
        if row["type"] == TicketCreated.TYPE:
            truth = TicketTruth(ticket_id=ticket_id, subject=data["subject"])
        elif ticket_id in truths:
            truth = _apply(truths[ticket_id], row["type"], data)
        else:
            continue
        truths[ticket_id] = dataclasses.replace(
            truth, event_ids=truth.event_ids | {row["event_id"]}
        )
    return truths
