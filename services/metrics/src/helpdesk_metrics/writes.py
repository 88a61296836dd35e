"""What each event writes into metrics' tables, as plain data (pure: no I/O).

`writes_for(envelope)` is the one place that maps an event of any topic to table rows. Two
appliers carry the writes out with the same meaning: `handlers` (live, one event at a time
in SQL) and `rebuild` (every event of the topics in memory, then bulk inserts). Every write
is keyed by the event or by its natural id, so events of different topics may arrive in any
order; a ticket event also changes the ticket's fact (`facts.evolve`, in stream order).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from helpdesk_events.envelope import Envelope
from helpdesk_events.routing import AgentStatusChanged
from helpdesk_events.sla import CalendarDefined, ClockStarted, SlaBreached, SlaMet
from helpdesk_events.surveys import SurveyResponded, SurveySent
from helpdesk_events.tickets import TicketEvent, WorkLogged

from .rows import utc
from .tables import (
    agent_statuses,
    calendars,
    sla_outcomes,
    survey_answers,
    surveys,
    ticket_events,
    ticket_facts,
)


class Mode(Enum):
    """How a write meets a row with the same key."""

    #: The first row stays (event-keyed rows: a replay changes nothing).
    IGNORE = "ignore"
    #: The given columns are set, the others kept (facts of one thing from several events).
    MERGE = "merge"
    #: The row is replaced only by a write at least as new (`NEWER_BY` column).
    NEWER = "newer"


NEWER_BY = "defined_at"


@dataclass(frozen=True)
class Write:
    """One row of `table`, identified by `keys`, applied per `mode`."""

    table: sa.Table
    keys: tuple[str, ...]
    values: dict[str, Any]
    mode: Mode = Mode.IGNORE

    @property
    def key(self) -> tuple[Any, ...]:
        """The row's identity."""
        return tuple(self.values[k] for k in self.keys)


@dataclass(frozen=True)
class TicketChange:
    """A ticket event for the ticket's fact: folded with `facts.evolve` in stream order."""

    ticket_id: UUID
    sequence: int | None
    at: Any
    type: str
    data: dict[str, Any]


def writes_for(envelope: Envelope) -> tuple[list[Write], TicketChange | None]:
    """The rows an event writes, and the change to its ticket's fact if it is a ticket event."""
    event = envelope.data
    if isinstance(event, TicketEvent):
        data = event.model_dump(mode="json")
        work = isinstance(event, WorkLogged)
        row = {"event_id": envelope.id, "ticket_id": event.ticket_id, "sequence": envelope.sequence,
               "at": utc(event.occurred_at), "type": envelope.type,
               "agent": event.agent if work else None,  # type: ignore[attr-defined]
               "seconds": event.seconds if work else None,  # type: ignore[attr-defined]
               "kind": event.kind.value if work else None,  # type: ignore[attr-defined]
               "data": data}
        change = TicketChange(event.ticket_id, envelope.sequence, row["at"], envelope.type, data)
        return [Write(ticket_events, ("event_id",), row)], change
    if isinstance(event, ClockStarted):
        return [Write(ticket_facts, ("ticket_id",),
                      {"ticket_id": event.ticket_id, "calendar_id": event.calendar}, Mode.MERGE)], None
    if isinstance(event, SlaMet):
        return [_outcome(envelope.id, event.ticket_id, event.target.value, "met", event.met_at)], None
    if isinstance(event, SlaBreached):
        # The breach happened at the due time (detection may lag): stable across replays.
        return [_outcome(envelope.id, event.ticket_id, event.target.value, "breached",
                         event.due_at)], None
    if isinstance(event, CalendarDefined):
        definition = event.model_dump(mode="json", include={
            "name", "time_zone", "weekly_hours", "holidays", "country", "subdivision"})
        return [Write(calendars, ("calendar_id",), {
            "calendar_id": event.calendar_id, "definition": definition,
            NEWER_BY: utc(envelope.time)}, Mode.NEWER)], None
    if isinstance(event, SurveySent):
        if event.reminder:
            return [], None
        return [_survey(event.survey_id, event.ticket_id, event.agent_id, event.team,
                        sent_at=utc(envelope.time))], None
    if isinstance(event, SurveyResponded):
        at = utc(envelope.time)
        rows = [_survey(event.survey_id, event.ticket_id, event.agent_id, event.team, answered_at=at)]
        rows += [Write(survey_answers, ("survey_id", "kind"), {
            "survey_id": event.survey_id, "kind": answer.kind.value, "score": answer.score,
            "scale_min": answer.scale_min, "scale_max": answer.scale_max, "at": at,
            "ticket_id": event.ticket_id, "agent": event.agent_id, "team": event.team})
            for answer in event.answers]
        return rows, None
    if isinstance(event, AgentStatusChanged):
        return [Write(agent_statuses, ("event_id",), {
            "event_id": envelope.id, "agent_id": event.agent_id, "status": event.status.value,
            "at": utc(envelope.time), "teams": list(event.teams),
            "hourly_cost": event.hourly_cost})], None
    return [], None


def _outcome(event_id: UUID, ticket_id: UUID, target: str, outcome: str, at: Any) -> Write:
    return Write(sla_outcomes, ("event_id",), {"event_id": event_id, "ticket_id": ticket_id,
                                               "target": target, "outcome": outcome, "at": utc(at)})


def _survey(survey_id: UUID, ticket_id: UUID | None, agent: str | None, team: str | None,
            **times: Any) -> Write:
    # Sent and answered arrive as separate events in any order: each sets what it knows.
    values = {"survey_id": survey_id, "ticket_id": ticket_id, "agent": agent, "team": team, **times}
    return Write(surveys, ("survey_id",), {k: v for k, v in values.items() if v is not None},
                 Mode.MERGE)
