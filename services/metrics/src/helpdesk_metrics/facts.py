"""Per-ticket facts: the pure fold of a ticket's events into what the KPIs read.

`evolve(fact, event_type, data)` is the only place a ticket event changes a fact. The
consumer applies it incrementally (the live row) and `fold` replays stored events up to an
instant (as_of): one rule, two uses, so live and as-of numbers cannot drift apart.
`data` is the event payload as JSON (what `ticket_events.data` stores).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

#: Statuses in which the requester waits on the help desk (requester_wait_time).
WAITING_STATUSES = frozenset({"new", "open"})
#: Statuses that count as "resolved" (not in the backlog).
DONE_STATUSES = frozenset({"resolved", "closed"})
#: Roles whose public comments are agent replies.
AGENT_ROLES = frozenset({"agent", "supervisor", "admin"})

_T = "helpdesk.ticket."


def parse_time(value: str | datetime) -> datetime:
    """An RFC 3339 string (or datetime) as an aware datetime."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class TicketFact:
    """What metrics knows about one ticket at some instant."""

    ticket_id: UUID
    created_at: datetime | None = None
    number: str | None = None
    requester_id: str | None = None
    channel: str | None = None
    type: str | None = None
    category: str | None = None
    priority: str | None = None
    affected_service: str | None = None
    tags: tuple[str, ...] = ()
    status: str | None = None
    team: str | None = None
    agent: str | None = None
    tier: int | None = None
    first_assigned_at: datetime | None = None
    first_reply_at: datetime | None = None
    first_resolved_at: datetime | None = None
    last_resolved_at: datetime | None = None
    resolved_tier: int | None = None
    resolved_by: str | None = None
    closed_at: datetime | None = None
    resolutions: int = 0
    reopens: int = 0
    contacts: int = 0
    transfers: int = 0
    escalations: int = 0
    talk_seconds: int = 0
    research_seconds: int = 0
    after_work_seconds: int = 0
    #: Periods spent in new/open: [start, end) with end None while still waiting.
    waiting_spans: tuple[tuple[datetime, datetime | None], ...] = ()
    change_at: datetime | None = None
    change_success: bool | None = None
    #: Time of the latest ticket event folded in: the fact as of any later instant is this one.
    last_event_at: datetime | None = None
    #: Business-hours calendar of the ticket's SLA clocks (set from the sla topic).
    calendar_id: str | None = field(default=None, compare=True)

    @property
    def handle_seconds(self) -> int:
        """Logged work of every kind."""
        return self.talk_seconds + self.research_seconds + self.after_work_seconds

    @property
    def is_resolved(self) -> bool:
        """True when the ticket is resolved or closed (out of the backlog)."""
        return self.status in DONE_STATUSES

    @property
    def resolved_first_contact(self) -> bool:
        """FCR rule: one contact, never reopened, transferred or escalated."""
        return (self.contacts == 1 and self.reopens == 0 and self.transfers == 0
                and self.escalations == 0)

    @property
    def resolved_at_tier1(self) -> bool:
        """Resolved at tier 1 without escalation (an unassigned ticket is first-line)."""
        return (self.resolved_tier or 1) == 1 and self.escalations == 0

    def dimension(self, name: str) -> str | None:
        """The value of a slicing dimension (team, agent, channel, category, priority, tier, type)."""
        value = getattr(self, name)
        return None if value is None else str(value)


def _open_span(spans: tuple, at: datetime) -> tuple:
    if spans and spans[-1][1] is None:
        return spans
    return spans + ((at, None),)


def _close_span(spans: tuple, at: datetime) -> tuple:
    if spans and spans[-1][1] is None:
        return spans[:-1] + ((spans[-1][0], at),)
    return spans


def _updated(fact: TicketFact, changes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for change in changes:
        name, after = change["field"], change.get("after")
        if name in ("channel", "type", "affected_service"):
            out[name] = after
        elif name == "tags":
            out["tags"] = tuple(after or ())
        elif name == "requester":
            out["requester_id"] = (after or {}).get("id")
    return out


def evolve(fact: TicketFact, event_type: str, data: Mapping[str, Any]) -> TicketFact:
    """The fact after one ticket event (events of other topics: unchanged)."""
    if not event_type.startswith(_T):
        return fact
    at = parse_time(data["occurred_at"])
    after = _apply(fact, event_type[len(_T):].rsplit(".v", 1)[0], at, data)
    if fact.last_event_at is not None and fact.last_event_at >= at:
        return after
    return replace(after, last_event_at=at)


def _apply(fact: TicketFact, name: str, at: datetime, data: Mapping[str, Any]) -> TicketFact:
    by = data.get("by") or {}
    if name == "created":
        return replace(
            fact, created_at=at, number=data.get("number"),
            requester_id=(data.get("requester") or {}).get("id"), channel=data.get("channel"),
            type=data.get("type"), category=data.get("category"), priority=data.get("priority"),
            affected_service=data.get("affected_service"), tags=tuple(data.get("tags") or ()),
            status="new", waiting_spans=_open_span(fact.waiting_spans, at),
        )
    if name == "updated":
        return replace(fact, **_updated(fact, data.get("changes") or ()))
    if name == "priority_changed":
        return replace(fact, priority=data["to_priority"])
    if name == "categorized":
        return replace(fact, category=data["to_category"])
    if name == "assigned":
        return replace(fact, tier=int(data["tier"]), team=data["team"], agent=data.get("agent"),
                       first_assigned_at=fact.first_assigned_at or at)
    if name == "escalated":
        return replace(fact, escalations=fact.escalations + 1, tier=int(data["to_tier"]),
                       team=data.get("to_team") or fact.team,
                       agent=data.get("to_agent") if data.get("to_team") or data.get("to_agent")
                       else fact.agent)
    if name == "transferred":
        return replace(fact, transfers=fact.transfers + 1, team=data["to_team"],
                       agent=data.get("to_agent"), tier=int(data["to_tier"]))
    if name == "commented":
        author = data.get("author") or {}
        if data.get("public") and author.get("role") in AGENT_ROLES:
            return replace(fact, contacts=fact.contacts + 1,
                           first_reply_at=fact.first_reply_at or at)
        return fact
    if name == "work_logged":
        kind, seconds = data["kind"], int(data["seconds"])
        bumped = {f"{kind}_seconds": getattr(fact, f"{kind}_seconds") + seconds}
        if kind == "talk":  # a logged call is a contact
            bumped["contacts"] = fact.contacts + 1
        return replace(fact, **bumped)
    if name == "status_changed":
        to = data["to_status"]
        spans = (_open_span(fact.waiting_spans, at) if to in WAITING_STATUSES
                 else _close_span(fact.waiting_spans, at))
        return replace(fact, status=to, waiting_spans=spans)
    if name == "resolved":
        resolver = by.get("id") if by.get("role") in AGENT_ROLES else fact.agent
        return replace(fact, resolutions=fact.resolutions + 1, last_resolved_at=at,
                       first_resolved_at=fact.first_resolved_at or at,
                       resolved_tier=fact.tier, resolved_by=resolver)
    if name == "reopened":
        return replace(fact, reopens=fact.reopens + 1)
    if name == "closed":
        return replace(fact, closed_at=at)
    if name == "change_implemented":
        return replace(fact, change_at=at, change_success=bool(data["success"]))
    return fact


def fold(ticket_id: UUID, events: Iterable[tuple[str, Mapping[str, Any]]],
         calendar_id: str | None = None) -> TicketFact:
    """Replay `(event_type, data)` pairs, already in stream order, into a fact."""
    fact = TicketFact(ticket_id=ticket_id, calendar_id=calendar_id)
    for event_type, data in events:
        fact = evolve(fact, event_type, data)
    return fact
