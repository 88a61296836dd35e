"""Events on `helpdesk.sla`, published by the sla service.

One clock runs per ticket and target; durations are whole business seconds on the
policy's calendar. Subject and key: the ticket id for clock events, the calendar id for
CalendarDefined and the policy id for PolicyDefined.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from helpdesk_events import topics
from helpdesk_events.envelope import Event


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


#: An instant, normalised to UTC (offsets are accepted, UTC is kept and sent).
Instant = Annotated[AwareDatetime, AfterValidator(_to_utc)]

Priority = Literal["P1", "P2", "P3", "P4"]
TicketType = Literal["incident", "service_request", "question", "problem", "change"]
Channel = Literal["email", "phone", "chat", "portal", "api", "walk_in", "social"]
TicketStatus = Literal["new", "open", "pending", "on_hold", "resolved", "closed"]

BusinessSeconds = Annotated[int, Field(ge=0)]
TargetSeconds = Annotated[int, Field(gt=0)]
#: "HH:MM" on a 24-hour clock; "24:00" ends a day.
ClockTime = Annotated[str, Field(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


class Target(StrEnum):
    """What a clock measures."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClockStarted(Event):
    """A ticket's clock for one target started (or restarted, e.g. next response)."""

    TYPE: ClassVar[str] = "helpdesk.sla.clock_started.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The ticket (also the subject and key).")
    target: Target = Field(description="What the clock measures.")
    policy: str = Field(min_length=1, description="Id of the SLA policy that set the target.")
    calendar: str = Field(min_length=1, description="Id of the business-hours calendar used.")
    started_at: Instant = Field(description="When the clock started.")
    due_at: Instant = Field(description="When the target is breached if not met.")
    warn_at: Instant | None = Field(
        default=None, description="When a warning is due; null when the policy has none."
    )


class ClockPaused(Event):
    """A clock stopped counting (the ticket waits on the requester or a third party)."""

    TYPE: ClassVar[str] = "helpdesk.sla.clock_paused.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The ticket (also the subject and key).")
    target: Target = Field(description="What the clock measures.")
    paused_at: Instant = Field(description="When the clock stopped counting.")
    remaining_business_seconds: int = Field(
        description="Business seconds left to the target when paused (negative once breached)."
    )
    status: TicketStatus | None = Field(
        default=None, description="The ticket status that paused the clock, when a status did."
    )


class ClockResumed(Event):
    """A paused clock counts again, with a new due time."""

    TYPE: ClassVar[str] = "helpdesk.sla.clock_resumed.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The ticket (also the subject and key).")
    target: Target = Field(description="What the clock measures.")
    resumed_at: Instant = Field(description="When the clock started counting again.")
    due_at: Instant = Field(description="The new due time.")


class SlaWarning(Event):
    """A running clock reached the policy's warn-at percent of its target."""

    TYPE: ClassVar[str] = "helpdesk.sla.warning.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The ticket (also the subject and key).")
    target: Target = Field(description="What the clock measures.")
    due_at: Instant = Field(description="When the target is breached if not met.")
    remaining_business_seconds: BusinessSeconds = Field(
        description="Business seconds left to the target."
    )


class SlaBreached(Event):
    """A clock passed its due time before the target was met."""

    TYPE: ClassVar[str] = "helpdesk.sla.breached.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The ticket (also the subject and key).")
    target: Target = Field(description="What the clock measures.")
    due_at: Instant = Field(description="When the target was due.")
    late_by_seconds: BusinessSeconds = Field(
        description="Business seconds past the due time when the breach was detected."
    )
    escalate: bool = Field(description="True when the policy asks routing to escalate the ticket.")
    priority: Priority | None = Field(
        default=None, description="The ticket priority at the breach (for slicing)."
    )
    team: str | None = Field(
        default=None, description="Id of the team owning the ticket at the breach (for slicing)."
    )


class SlaMet(Event):
    """A target was met in time."""

    TYPE: ClassVar[str] = "helpdesk.sla.met.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The ticket (also the subject and key).")
    target: Target = Field(description="What the clock measured.")
    due_at: Instant = Field(description="When the target was due.")
    met_at: Instant = Field(description="When the target was met.")
    elapsed_business_seconds: BusinessSeconds = Field(
        description="Business seconds the clock counted, pauses excluded."
    )


class ClockCancelled(Event):
    """A clock stopped for good without a verdict: its target no longer applies."""

    TYPE: ClassVar[str] = "helpdesk.sla.clock_cancelled.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The ticket (also the subject and key).")
    target: Target = Field(description="What the clock measured.")
    reason: str = Field(
        description="Why, e.g. policy re-evaluated after a priority change, ticket merged."
    )


class WorkingHours(_Part):
    """One span of business hours on one weekday, in the calendar's time zone."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday.")
    start: ClockTime = Field(description='Start, "HH:MM".')
    end: ClockTime = Field(
        description='End, "HH:MM", after start ("24:00": midnight); split overnight shifts in two.'
    )

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} is not before end {self.end}")
        return self


class CalendarDefined(Event):
    """A business-hours calendar was created or replaced (the whole calendar)."""

    TYPE: ClassVar[str] = "helpdesk.sla.calendar_defined.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "calendar_id"

    calendar_id: str = Field(min_length=1, description="The calendar (also the subject and key).")
    name: str = Field(description="Display name.")
    time_zone: str = Field(min_length=1, description="IANA time zone, e.g. Europe/Paris.")
    weekly_hours: tuple[WorkingHours, ...] = Field(
        description="Business hours of a normal week; a weekday absent here is closed."
    )
    holidays: tuple[date, ...] = Field(
        default=(),
        description="Closed days: the explicit dates plus the country's public holidays, resolved.",
    )
    country: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 country whose public holidays are included.",
    )
    subdivision: str | None = Field(
        default=None, description="ISO 3166-2 subdivision code for regional public holidays."
    )


class PolicyConditions(_Part):
    """Which tickets a policy applies to; an empty list matches anything."""

    priorities: tuple[Priority, ...] = Field(default=(), description="Ticket priorities.")
    types: tuple[TicketType, ...] = Field(default=(), description="Ticket types.")
    channels: tuple[Channel, ...] = Field(default=(), description="Intake channels.")
    categories: tuple[str, ...] = Field(default=(), description="Ticket categories.")
    affected_services: tuple[str, ...] = Field(default=(), description="Affected services.")
    orgs: tuple[str, ...] = Field(default=(), description="Requester organisations.")
    tiers: tuple[Literal[1, 2, 3], ...] | None = Field(
        default=None, description="Support tiers (null or empty: any tier)."
    )


class PolicyTargets(_Part):
    """Target durations in business seconds; null means no target of that kind."""

    first_response: TargetSeconds | None = Field(
        default=None, description="Time to first response."
    )
    next_response: TargetSeconds | None = Field(
        default=None, description="Time to answer each later requester reply."
    )
    resolution: TargetSeconds | None = Field(default=None, description="Time to resolution.")


class PolicyDefined(Event):
    """An SLA policy was created or replaced (the whole policy)."""

    TYPE: ClassVar[str] = "helpdesk.sla.policy_defined.v1"
    TOPIC: ClassVar[str] = topics.SLA
    SUBJECT: ClassVar[str] = "policy_id"

    policy_id: str = Field(min_length=1, description="The policy (also the subject and key).")
    name: str = Field(description="Display name.")
    order: int = Field(ge=0, description="Evaluation order: the first matching policy applies.")
    conditions: PolicyConditions = Field(description="Which tickets the policy applies to.")
    targets: PolicyTargets = Field(description="Target durations in business seconds.")
    calendar_id: str = Field(min_length=1, description="Id of the business-hours calendar.")
    warn_at_percent: int | None = Field(
        default=None, gt=0, lt=100, description="Warn when this percent of a target is used."
    )
    pause_statuses: tuple[TicketStatus, ...] = Field(
        default=("pending", "on_hold"), description="Ticket statuses that pause the clocks."
    )
    escalate_on_breach: bool = Field(
        default=False, description="Ask routing to escalate when a target is breached."
    )
    active: bool = Field(default=True, description="False retires the policy.")
