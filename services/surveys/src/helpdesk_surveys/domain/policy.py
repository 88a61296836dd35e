"""Survey policies: who gets which survey, when, and how often."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpdesk_events.surveys import SurveyKind

from .scales import scale_of

Channel = str


class Trigger(StrEnum):
    """The ticket event that starts a survey."""

    RESOLVED = "resolved"
    CLOSED = "closed"


class Question(BaseModel):
    """One scored question of a survey, with its comment rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SurveyKind
    #: A comment is required when the score is at or below this value (None: never).
    comment_required_at_or_below: int | None = None

    @model_validator(mode="after")
    def _threshold_on_scale(self) -> Question:
        if self.comment_required_at_or_below is not None:
            low, high = scale_of(self.kind)
            if not low <= self.comment_required_at_or_below <= high:
                raise ValueError(
                    f"comment_required_at_or_below must lie on the {self.kind.value} scale "
                    f"[{low}, {high}]"
                )
        return self


class Conditions(BaseModel):
    """Which tickets a policy applies to; an empty list matches everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: tuple[str, ...] = ()
    #: A category matches itself and its sub-categories (`network` matches `network/vpn`).
    categories: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()


class Policy(BaseModel):
    """A survey policy as the domain sees it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    name: str
    enabled: bool = True
    #: Lower positions are tried first; the first matching policy decides.
    position: int = 0
    trigger: Trigger
    questions: tuple[Question, ...] = Field(min_length=1)
    delay: timedelta = timedelta(0)
    sample_rate: float = Field(1.0, ge=0.0, le=1.0)
    #: At most one survey per requester within this many days (0: no throttle).
    throttle_days: int = Field(0, ge=0)
    expires_after: timedelta
    #: Send one reminder this long before expiry (None: no reminder).
    remind_before: timedelta | None = None
    conditions: Conditions = Conditions()


class TicketFacts(BaseModel):
    """What surveys knows of a ticket, kept from ticket events."""

    model_config = ConfigDict(frozen=True)

    ticket_id: uuid.UUID
    requester_id: str
    requester_email: str | None = None
    channel: str | None = None
    category: str | None = None
    type: str | None = None
    team: str | None = None
    agent: str | None = None


class Schedule(BaseModel):
    """The decision to survey a ticket: which policy, and when things happen."""

    model_config = ConfigDict(frozen=True)

    policy_id: uuid.UUID
    questions: tuple[Question, ...]
    due_at: datetime
    expires_at: datetime
    remind_at: datetime | None


class Skip(StrEnum):
    """Why no survey is scheduled."""

    NO_POLICY = "no_policy"
    NOT_SAMPLED = "not_sampled"
    THROTTLED = "throttled"
    STALE = "stale"


def _category_matches(wanted: tuple[str, ...], category: str | None) -> bool:
    if not wanted:
        return True
    if category is None:
        return False
    return any(category == c or category.startswith(c.rstrip("/") + "/") for c in wanted)


def matches(policy: Policy, trigger: Trigger, ticket: TicketFacts) -> bool:
    """True when `policy` is enabled, fires on `trigger` and its conditions hold for `ticket`."""
    c = policy.conditions
    return (
        policy.enabled
        and policy.trigger == trigger
        and (not c.channels or ticket.channel in c.channels)
        and _category_matches(c.categories, ticket.category)
        and (not c.types or ticket.type in c.types)
        and (not c.teams or ticket.team in c.teams)
    )


def sample_point(ticket_id: uuid.UUID) -> float:
    """A number in [0, 1) fixed by the ticket id, so a replay samples the same tickets."""
    digest = hashlib.sha256(b"helpdesk-survey-sample:" + ticket_id.bytes).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sampled(ticket_id: uuid.UUID, rate: float) -> bool:
    """True when the ticket falls into a sample of `rate` (0..1)."""
    return sample_point(ticket_id) < rate


def throttled(last_surveyed_at: datetime | None, at: datetime, throttle_days: int) -> bool:
    """True when the requester was surveyed less than `throttle_days` before `at`."""
    if throttle_days <= 0 or last_surveyed_at is None:
        return False
    return at - last_surveyed_at < timedelta(days=throttle_days)


def choose_policy(policies: list[Policy], trigger: Trigger, ticket: TicketFacts) -> Policy | None:
    """The first policy (by position, then name) that applies to `ticket` on `trigger`."""
    for policy in sorted(policies, key=lambda p: (p.position, p.name, str(p.id))):
        if matches(policy, trigger, ticket):
            return policy
    return None


def decide_schedule(
    policies: list[Policy],
    trigger: Trigger,
    ticket: TicketFacts,
    *,
    occurred_at: datetime,
    last_surveyed_at: datetime | None,
    now: datetime,
) -> Schedule | Skip:
    """Decide whether (and when) the ticket that just resolved or closed gets a survey.

    Times derive from the event's `occurred_at`, so a replay decides the same; a survey
    whose link would already have expired by `now` is not scheduled at all.
    """
    policy = choose_policy(policies, trigger, ticket)
    if policy is None:
        return Skip.NO_POLICY
    if not sampled(ticket.ticket_id, policy.sample_rate):
        return Skip.NOT_SAMPLED
    if throttled(last_surveyed_at, occurred_at, policy.throttle_days):
        return Skip.THROTTLED
    due_at = occurred_at + policy.delay
    expires_at = due_at + policy.expires_after
    if expires_at <= now:
        return Skip.STALE
    remind_at = None
    if policy.remind_before is not None and policy.remind_before < policy.expires_after:
        remind_at = expires_at - policy.remind_before
    return Schedule(
        policy_id=policy.id,
        questions=policy.questions,
        due_at=due_at,
        expires_at=expires_at,
        remind_at=remind_at,
    )
