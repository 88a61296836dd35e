"""A builder of event histories for tests and demos: real contract events in envelopes.

`History` appends envelopes the way the producers would (ticket events carry their stream
sequence), so the same history can go straight into the handlers or through a broker.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from helpdesk_events.envelope import Envelope, Event, new_envelope
from helpdesk_events.routing import AgentStatus, AgentStatusChanged
from helpdesk_events.sla import CalendarDefined, ClockStarted, SlaBreached, SlaMet, Target, WorkingHours
from helpdesk_events.surveys import SurveyAnswer, SurveyKind, SurveyResponded, SurveySent
from helpdesk_events.tickets import (
    Actor,
    ActorRole,
    ChangeImplemented,
    CommentAdded,
    Requester,
    StatusChanged,
    TicketAssigned,
    TicketClosed,
    TicketCreated,
    TicketEscalated,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
    WorkLogged,
)

H = timedelta(hours=1)
D = timedelta(days=1)
SCALES = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10), "agent_satisfaction": (1, 5)}


def agent(agent_id: str) -> Actor:
    """An agent actor."""
    return Actor(id=agent_id, role=ActorRole.AGENT)


@dataclass
class History:
    """An event history under construction; each method appends one fact's envelopes."""

    envelopes: list[Envelope] = field(default_factory=list)
    sequence: dict[UUID, int] = field(default_factory=lambda: defaultdict(int))
    status: dict[UUID, str] = field(default_factory=dict)
    tier: dict[UUID, int] = field(default_factory=dict)
    team: dict[UUID, str] = field(default_factory=dict)
    number: int = 0

    def _ticket(self, event: Event, ticket: UUID, at: datetime) -> None:
        self.sequence[ticket] += 1
        self.envelopes.append(new_envelope(event, source="intake", subject=str(ticket), time=at,
                                           sequence=self.sequence[ticket]))

    def _other(self, event: Event, source: str, subject: str, at: datetime) -> None:
        self.envelopes.append(new_envelope(event, source=source, subject=subject, time=at))

    def ticket(self, at: datetime, *, channel: str = "email", type: str = "incident",
               category: str | None = "network", priority: str = "P3", requester: str = "r1",
               service: str | None = None, tags: tuple[str, ...] = ()) -> UUID:
        tid = uuid4()
        self.number += 1
        self._ticket(TicketCreated(
            ticket_id=tid, occurred_at=at, number=f"HD-{self.number}", subject="Something broke",
            requester=Requester(id=requester), channel=channel, type=type, category=category,
            priority=priority, affected_service=service, tags=tags,
            by=Actor(id=requester, role=ActorRole.REQUESTER)), tid, at)
        self.status[tid] = "new"
        return tid

    def set_status(self, tid: UUID, at: datetime, to: str) -> None:
        self._ticket(StatusChanged(ticket_id=tid, occurred_at=at, from_status=self.status[tid],
                                   to_status=to, by=agent("a0")), tid, at)
        self.status[tid] = to

    def assign(self, tid: UUID, at: datetime, *, tier: int = 1, team: str = "desk",
               agent_id: str | None = "a1") -> None:
        self._ticket(TicketAssigned(ticket_id=tid, occurred_at=at, tier=tier, team=team,
                                    agent=agent_id, by=Actor(id="routing", role=ActorRole.SYSTEM),
                                    reason="rule"), tid, at)
        self.tier[tid], self.team[tid] = tier, team

    def reply(self, tid: UUID, at: datetime, agent_id: str = "a1", public: bool = True) -> None:
        self._ticket(CommentAdded(ticket_id=tid, occurred_at=at, comment_id=uuid4(),
                                  author=agent(agent_id), public=public, body="On it"), tid, at)

    def work(self, tid: UUID, at: datetime, seconds: int, kind: str = "talk",
             agent_id: str = "a1") -> None:
        self._ticket(WorkLogged(ticket_id=tid, occurred_at=at, agent=agent_id, seconds=seconds,
                                kind=kind, by=agent(agent_id)), tid, at)

    def escalate(self, tid: UUID, at: datetime, to_tier: int, to_team: str, to_agent: str) -> None:
        self._ticket(TicketEscalated(ticket_id=tid, occurred_at=at, from_tier=self.tier.get(tid, 1),
                                     to_tier=to_tier, reason="needs expert", by=agent("a0"),
                                     trigger="manual", from_team=self.team.get(tid),
                                     to_team=to_team, to_agent=to_agent), tid, at)
        self.tier[tid], self.team[tid] = to_tier, to_team

    def transfer(self, tid: UUID, at: datetime, to_team: str, to_agent: str) -> None:
        self._ticket(TicketTransferred(ticket_id=tid, occurred_at=at, from_team=self.team[tid],
                                       to_team=to_team, to_agent=to_agent,
                                       from_tier=self.tier[tid], to_tier=self.tier[tid],
                                       reason="wrong queue", by=agent("a0")), tid, at)
        self.team[tid] = to_team

    def resolve(self, tid: UUID, at: datetime, agent_id: str = "a1") -> None:
        self._ticket(TicketResolved(ticket_id=tid, occurred_at=at, resolution_code="fixed",
                                    by=agent(agent_id)), tid, at)
        self.set_status(tid, at, "resolved")

    def reopen(self, tid: UUID, at: datetime) -> None:
        self._ticket(TicketReopened(ticket_id=tid, occurred_at=at, reason="still broken",
                                    by=Actor(id="r", role=ActorRole.REQUESTER)), tid, at)
        self.set_status(tid, at, "open")

    def close(self, tid: UUID, at: datetime) -> None:
        self._ticket(TicketClosed(ticket_id=tid, occurred_at=at, by=agent("a0"), reason="manual"),
                     tid, at)
        self.set_status(tid, at, "closed")

    def change(self, tid: UUID, at: datetime, success: bool) -> None:
        self._ticket(ChangeImplemented(ticket_id=tid, occurred_at=at, success=success,
                                       by=agent("a1")), tid, at)

    def clock(self, tid: UUID, at: datetime, calendar: str, target: str = "resolution") -> None:
        self._other(ClockStarted(ticket_id=tid, target=Target(target), policy="p", calendar=calendar,
                                 started_at=at, due_at=at + D), "sla", str(tid), at)

    def sla_met(self, tid: UUID, target: str, at: datetime) -> None:
        self._other(SlaMet(ticket_id=tid, target=Target(target), due_at=at + H, met_at=at,
                           elapsed_business_seconds=60), "sla", str(tid), at)

    def sla_breached(self, tid: UUID, target: str, due: datetime) -> None:
        self._other(SlaBreached(ticket_id=tid, target=Target(target), due_at=due, late_by_seconds=5,
                                escalate=False), "sla", str(tid), due + 5 * timedelta(seconds=1))

    def calendar(self, calendar_id: str, at: datetime, hours: list[tuple[int, str, str]],
                 time_zone: str = "UTC") -> None:
        self._other(CalendarDefined(calendar_id=calendar_id, name=calendar_id, time_zone=time_zone,
                                    weekly_hours=tuple(WorkingHours(weekday=d, start=s, end=e)
                                                       for d, s, e in hours)),
                    "sla", calendar_id, at)

    def survey(self, tid: UUID | None, sent: datetime, answers: dict[str, int] | None = None,
               answered: datetime | None = None, agent_id: str | None = None,
               kinds: tuple[str, ...] = ("csat",)) -> UUID:
        sid = uuid4()
        self._other(SurveySent(survey_id=sid, ticket_id=tid, kinds=tuple(SurveyKind(k) for k in kinds),
                               requester_id="r", agent_id=agent_id, link="https://s/x",
                               expires_at=sent + 7 * D), "surveys", str(sid), sent)
        if answers:
            self._other(SurveyResponded(
                survey_id=sid, ticket_id=tid, requester_id="r", agent_id=agent_id,
                answers=tuple(SurveyAnswer(kind=SurveyKind(k), score=v, scale_min=SCALES[k][0],
                                           scale_max=SCALES[k][1]) for k, v in answers.items())),
                "surveys", str(sid), answered or sent)
        return sid

    def agent_status(self, agent_id: str, at: datetime, status: str,
                     cost: float | None = None, teams: tuple[str, ...] = ("desk",)) -> None:
        self._other(AgentStatusChanged(agent_id=agent_id, status=AgentStatus(status), teams=teams,
                                       hourly_cost=cost), "routing", agent_id, at)
