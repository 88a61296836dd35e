"""The inputs of the KPI computations: facts and event rows already selected by the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from helpdesk_businesstime import Calendar

from .facts import TicketFact


@dataclass(frozen=True)
class Window:
    """The window [start, end) and the instant the facts are known as of (`cutoff` <= end)."""

    start: datetime
    end: datetime
    cutoff: datetime

    @property
    def length(self) -> timedelta:
        """end - start."""
        return self.end - self.start

    @property
    def stop(self) -> datetime:
        """Where events stop counting: the window end, or the as-of instant if earlier."""
        return min(self.end, self.cutoff)

    def holds(self, at: datetime | None) -> bool:
        """True when `at` falls in [start, stop)."""
        return at is not None and self.start <= at < self.stop

    def previous(self) -> Window:
        """The window of equal length just before this one (trend)."""
        return Window(self.start - self.length, self.start, self.start)


@dataclass(frozen=True)
class TicketEventRow:
    """One ticket event kept for event-level counts (work logs, resolutions, reopens)."""

    ticket_id: UUID
    type: str
    at: datetime
    agent: str | None = None
    seconds: int | None = None
    kind: str | None = None


@dataclass(frozen=True)
class SlaOutcome:
    """An SLA target that ended: met or breached, at `at`."""

    ticket_id: UUID
    target: str
    outcome: str  # "met" | "breached"
    at: datetime


@dataclass(frozen=True)
class SurveySentRow:
    """A survey sent (reminders are not kept)."""

    survey_id: UUID
    at: datetime
    ticket_id: UUID | None = None
    agent: str | None = None
    team: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class AnswerRow:
    """One answered survey question."""

    survey_id: UUID
    kind: str
    score: int
    scale_min: int
    scale_max: int
    at: datetime
    ticket_id: UUID | None = None
    agent: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class AgentStatusRow:
    """An agent's status change."""

    agent_id: str
    status: str
    at: datetime
    teams: tuple[str, ...] = ()
    hourly_cost: float | None = None


@dataclass(frozen=True)
class CostModel:
    """Money: default and per-agent hourly cost, monthly overhead and budget, value per resolution."""

    default_hourly_cost: float = 50.0
    monthly_overhead: float = 0.0
    monthly_budget: float | None = None
    value_per_resolved_ticket: float = 0.0
    agent_costs: dict[str, float] = field(default_factory=dict)

    def hourly_cost(self, agent: str | None) -> float:
        """Cost of one hour of `agent`'s time."""
        return self.agent_costs.get(agent or "", self.default_hourly_cost)


@dataclass(frozen=True)
class Dataset:
    """Everything one KPI computation reads, already filtered by dimension."""

    facts: tuple[TicketFact, ...]
    events: tuple[TicketEventRow, ...] = ()
    sla: tuple[SlaOutcome, ...] = ()
    sent: tuple[SurveySentRow, ...] = ()
    answers: tuple[AnswerRow, ...] = ()
    agent_statuses: tuple[AgentStatusRow, ...] = ()
    calendars: dict[str, Calendar] = field(default_factory=dict)
    default_calendar: Calendar = field(default_factory=Calendar.always_open)
    cost: CostModel = field(default_factory=CostModel)
    business_hours: bool = False
    #: When the rows were read (None: not said): time online after it has not happened, so a
    #: window ending ahead of the clock counts agents' time only up to it.
    read_at: datetime | None = None
    #: Selections several KPIs share (tickets created / resolved in a window), computed once.
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)
