"""HTTP schemas of the sla service (separate from events and tables)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from helpdesk_events.sla import PolicyConditions, PolicyTargets, Target, TicketStatus
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Slug = str
_ID = Field(
    default=None,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
    description="Id; generated when absent.",
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: A year: longer targets are typing mistakes (and would not fit the event encoding's 64 bits).
MAX_TARGET_SECONDS = 366 * 24 * 3600
#: Policies are few; the order is stored as a 32-bit integer.
MAX_ORDER = 1_000_000
TargetIn = Annotated[int, Field(gt=0, le=MAX_TARGET_SECONDS)]


class TargetsIn(PolicyTargets):
    """Targets as a request sends them: business seconds, at most a year each."""

    first_response: TargetIn | None = Field(default=None, description="Time to first response.")
    next_response: TargetIn | None = Field(
        default=None, description="Time to answer each later requester reply."
    )
    resolution: TargetIn | None = Field(default=None, description="Time to resolution.")


class HoursIn(_In):
    """Business hours on one weekday, local time; `overnight` for hours past midnight."""

    weekday: int = Field(description="0 = Monday ... 6 = Sunday.")
    start: str = Field(pattern=r"^\d{2}:\d{2}$", examples=["09:00"])
    end: str = Field(
        pattern=r"^\d{2}:\d{2}$", examples=["17:00"], description='"24:00" is midnight.'
    )
    overnight: bool = False


class CalendarIn(_In):
    """A business-hours calendar."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "berlin-office",
                    "name": "Berlin office",
                    "time_zone": "Europe/Berlin",
                    "weekly_hours": [
                        {"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)
                    ],
                    "holidays": ["2026-12-24"],
                    "country": "DE",
                    "subdivision": "BE",
                }
            ]
        },
    )

    id: Slug | None = _ID
    name: str = Field(default="", max_length=200)
    time_zone: str = Field(description="IANA time zone, e.g. Europe/Berlin.")
    weekly_hours: list[HoursIn] = Field(description="Business hours of a normal week.")
    holidays: list[date] = Field(default_factory=list, description="Explicit closed dates.")
    country: str | None = Field(
        default=None, description="ISO country whose public holidays close."
    )
    subdivision: str | None = Field(
        default=None, description="ISO 3166-2 subdivision of `country`."
    )


class CalendarOut(BaseModel):
    """A stored calendar; `builtin` ones cannot be changed."""

    id: str
    name: str
    time_zone: str
    weekly_hours: list[HoursIn]
    holidays: list[date]
    country: str | None
    subdivision: str | None
    builtin: bool = False


class PolicyIn(_In):
    """An SLA policy; `order` places it (lower first; absent: after the others)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "vip-p1",
                    "name": "VIP P1",
                    "order": 0,
                    "conditions": {"priorities": ["P1"], "orgs": ["Board"]},
                    "targets": {"first_response": 900, "next_response": 1800, "resolution": 14400},
                    "calendar_id": "24x7",
                    "warn_at_percent": 75,
                    "escalate_on_breach": True,
                }
            ]
        },
    )

    id: Slug | None = _ID
    name: str = Field(default="", max_length=200)
    order: int | None = Field(default=None, ge=0, le=MAX_ORDER)
    conditions: PolicyConditions = PolicyConditions()
    targets: TargetsIn = Field(description="Business seconds per target; at least one.")
    calendar_id: str = Field(default="24x7", min_length=1)
    warn_at_percent: int | None = Field(default=None, gt=0, lt=100)
    pause_statuses: tuple[TicketStatus, ...] = ("pending", "on_hold")
    escalate_on_breach: bool = False
    active: bool = True


class PolicyOut(BaseModel):
    """A policy as evaluated; `builtin` for the per-priority defaults that follow the configured ones."""

    id: str
    name: str
    order: int
    conditions: PolicyConditions
    targets: PolicyTargets
    calendar_id: str
    warn_at_percent: int | None
    pause_statuses: tuple[TicketStatus, ...]
    escalate_on_breach: bool
    active: bool
    builtin: bool = False


class ClockView(BaseModel):
    """One clock of a ticket."""

    target: Target
    state: str = Field(description="running, paused, stopped or cancelled.")
    outcome: str | None = Field(description="met or breached once stopped.")
    policy_id: str
    calendar_id: str
    started_at: datetime
    due_at: datetime | None = Field(description="Null while paused (it moves by the pause).")
    warn_at: datetime | None
    remaining_business_seconds: int = Field(description="Negative once past due.")
    elapsed_business_seconds: int
    paused: bool
    warned: bool
    breached: bool


class TicketSlaView(BaseModel):
    """A ticket's SLA: its policy and clocks."""

    ticket_id: uuid.UUID
    policy_id: str
    status: str
    clocks: list[ClockView]


class BreachView(BaseModel):
    """One breached target."""

    ticket_id: uuid.UUID
    target: Target
    policy_id: str
    due_at: datetime
    breached_at: datetime
    late_by_seconds: int
    priority: str | None
    team: str | None
    escalate: bool


class SimulationIn(_In):
    """Replay tickets created in [from, to) under a candidate policy."""

    policy: PolicyIn
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    match_conditions: bool = Field(
        default=True, description="Only tickets matching the policy's conditions (false: all)."
    )


class TargetCountsOut(BaseModel):
    """Verdicts of one target."""

    met: int
    breached: int
    open: int


class SimulationOut(BaseModel):
    """How the candidate policy would have done."""

    tickets: int
    met: int
    breached: int
    as_of: datetime
    targets: dict[Target, TargetCountsOut]
