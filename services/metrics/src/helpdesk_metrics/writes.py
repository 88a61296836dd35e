"""What each event writes into metrics' tables, as plain data (pure: no I/O).

`writes_for_document(document)` is the one place that maps an event of any topic to table
rows; it reads the structured-mode CloudEvent as JSON (what the record value holds), so a
rebuild maps replayed records without building pydantic models. Two appliers carry the
writes out with the same meaning: `handlers` (live, one decoded event at a time in SQL,
through `writes_for(envelope)`) and `rebuild` (every record of the topics in memory, then
bulk inserts). Every write
is keyed by the event or by its natural id, so events of different topics may arrive in any
order; a ticket event also changes the ticket's fact (`facts.evolve`, in stream order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from helpdesk_events.codec import envelope_to_dict
from helpdesk_events.envelope import EVENT_TYPES, Envelope
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
        values = self.values
        return tuple([values[k] for k in self.keys])


@dataclass(frozen=True)
class TicketChange:
    """A ticket event for the ticket's fact: folded with `facts.evolve` in stream order."""

    ticket_id: UUID
    sequence: int | None
    at: Any
    type: str
    data: dict[str, Any]


Document = Mapping[str, Any]
Writes = tuple[list[Write], TicketChange | None]


def writes_for(envelope: Envelope) -> Writes:
    """The rows a decoded event writes, and the change to its ticket's fact if it has one."""
    return writes_for_document(envelope_to_dict(envelope))


def writes_for_document(document: Document) -> Writes:
    """The same for an event as JSON (a structured-mode CloudEvent, `data` included).

    Reads only the attributes and payload fields metrics stores, each converted to its type;
    a document missing one or holding one of the wrong type raises (KeyError, TypeError,
    ValueError). It does not check the rest of the payload against the event class: the
    codec did, when the producer encoded the record (and the live consumer, when it decoded it).
    """
    mapper = _MAPPERS.get(document["type"])
    if mapper is None:
        if _is_ticket_event(document["type"]):
            return _ticket_event(document)
        return [], None
    return mapper(document)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


#: A ticket's id comes with each of its events: parse it once (UUID() is slow for a rebuild).
_ticket_uuid = lru_cache(maxsize=1 << 16)(_uuid)


def _optional_ticket_uuid(value: Any) -> UUID | None:
    return None if value is None else _ticket_uuid(value)


def _instant(value: Any) -> datetime:
    """An RFC 3339 instant from JSON as an aware UTC datetime (as the contract's fields are)."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"instant without a UTC offset: {value!r}")
    return utc(parsed)  # type: ignore[return-value]


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


_TICKET_TYPES: dict[str, bool] = {}


def _is_ticket_event(event_type: str) -> bool:
    known = _TICKET_TYPES.get(event_type)
    if known is None:
        event_class = EVENT_TYPES.get(event_type)
        known = _TICKET_TYPES[event_type] = (event_class is not None
                                             and issubclass(event_class, TicketEvent))
    return known


def _ticket_event(document: Document) -> Writes:
    data = document["data"]
    ticket_id = _ticket_uuid(data["ticket_id"])
    sequence = document.get("sequence")
    if sequence is not None:
        sequence = _int(sequence)
    event_type = document["type"]
    at = _instant(data["occurred_at"])
    if event_type == WorkLogged.TYPE:
        agent, seconds, kind = _str(data["agent"]), _int(data["seconds"]), _str(data["kind"])
    else:
        agent = seconds = kind = None
    row = {"event_id": _uuid(document["id"]), "ticket_id": ticket_id, "sequence": sequence,
           "at": at, "type": event_type, "agent": agent, "seconds": seconds, "kind": kind,
           "data": data}
    change = TicketChange(ticket_id, sequence, at, event_type, data)
    return [Write(ticket_events, ("event_id",), row)], change


def _clock_started(document: Document) -> Writes:
    data = document["data"]
    values = {"ticket_id": _ticket_uuid(data["ticket_id"]), "calendar_id": _str(data["calendar"])}
    return [Write(ticket_facts, ("ticket_id",), values, Mode.MERGE)], None


def _sla_met(document: Document) -> Writes:
    data = document["data"]
    return [_outcome(document, "met", data["met_at"])], None


def _sla_breached(document: Document) -> Writes:
    # The breach happened at the due time (detection may lag): stable across replays.
    return [_outcome(document, "breached", document["data"]["due_at"])], None


#: The optional fields of the calendar definition metrics keeps, with the contract's defaults.
_CALENDAR_OPTIONAL = {"holidays": [], "country": None, "subdivision": None}


def _calendar_defined(document: Document) -> Writes:
    data = document["data"]
    definition = {"name": data["name"], "time_zone": _str(data["time_zone"]),
                  "weekly_hours": data["weekly_hours"],
                  **{name: data.get(name, default) for name, default in _CALENDAR_OPTIONAL.items()}}
    return [Write(calendars, ("calendar_id",), {
        "calendar_id": _str(data["calendar_id"]), "definition": definition,
        NEWER_BY: _instant(document["time"])}, Mode.NEWER)], None


def _survey_sent(document: Document) -> Writes:
    data = document["data"]
    if data.get("reminder"):
        return [], None
    return [_survey(data, sent_at=_instant(document["time"]))], None


def _survey_responded(document: Document) -> Writes:
    data = document["data"]
    at = _instant(document["time"])
    survey = _survey(data, answered_at=at)
    rows = [survey]
    ticket_id, agent, team = (survey.values.get("ticket_id"), survey.values.get("agent"),
                              survey.values.get("team"))
    rows += [Write(survey_answers, ("survey_id", "kind"), {
        "survey_id": survey.values["survey_id"], "kind": _str(answer["kind"]),
        "score": _int(answer["score"]), "scale_min": _int(answer["scale_min"]),
        "scale_max": _int(answer["scale_max"]), "at": at,
        "ticket_id": ticket_id, "agent": agent, "team": team})
        for answer in data["answers"]]
    return rows, None


def _agent_status_changed(document: Document) -> Writes:
    data = document["data"]
    cost = data.get("hourly_cost")
    return [Write(agent_statuses, ("event_id",), {
        "event_id": _uuid(document["id"]), "agent_id": _str(data["agent_id"]),
        "status": _str(data["status"]), "at": _instant(document["time"]),
        "teams": [_str(t) for t in data.get("teams", ())],
        "hourly_cost": None if cost is None else float(cost)})], None


_MAPPERS: dict[str, Callable[[Document], Writes]] = {
    ClockStarted.TYPE: _clock_started,
    SlaMet.TYPE: _sla_met,
    SlaBreached.TYPE: _sla_breached,
    CalendarDefined.TYPE: _calendar_defined,
    SurveySent.TYPE: _survey_sent,
    SurveyResponded.TYPE: _survey_responded,
    AgentStatusChanged.TYPE: _agent_status_changed,
}


def _outcome(document: Document, outcome: str, at: Any) -> Write:
    data = document["data"]
    return Write(sla_outcomes, ("event_id",), {
        "event_id": _uuid(document["id"]), "ticket_id": _ticket_uuid(data["ticket_id"]),
        "target": _str(data["target"]), "outcome": outcome, "at": _instant(at)})


def _survey(data: Mapping[str, Any], **times: Any) -> Write:
    # Sent and answered arrive as separate events in any order: each sets what it knows.
    values = {"survey_id": _uuid(data["survey_id"]),
              "ticket_id": _optional_ticket_uuid(data.get("ticket_id")),
              "agent": _optional_str(data.get("agent_id")), "team": _optional_str(data.get("team")),
              **times}
    return Write(surveys, ("survey_id",), {k: v for k, v in values.items() if v is not None},
                 Mode.MERGE)
