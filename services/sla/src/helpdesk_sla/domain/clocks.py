"""One clock per ticket and target: counting, pausing, stopping, in business seconds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from helpdesk_businesstime import Calendar, add_business_seconds, business_seconds_between
from helpdesk_events.sla import Target
from pydantic import BaseModel, ConfigDict

from .policies import Policy


class ClockStatus(StrEnum):
    """Where a clock is in its life."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    CANCELLED = "cancelled"


Outcome = Literal["met", "breached"]


class Clock(BaseModel):
    """A target's clock. `elapsed` counts business seconds before `running_since`."""

    model_config = ConfigDict(frozen=True)

    target: Target
    policy_id: str
    calendar_id: str
    target_seconds: int
    warn_seconds: int | None = None
    escalate: bool = False
    started_at: datetime
    status: ClockStatus = ClockStatus.RUNNING
    elapsed: float = 0.0
    running_since: datetime | None = None
    due_at: datetime
    warn_at: datetime | None = None
    #: Bumped whenever due or warn times change: part of every timer's idempotency key.
    generation: int = 0
    warned: bool = False
    breach_fired: bool = False
    outcome: Outcome | None = None
    stopped_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Running or paused: the target is still open."""
        return self.status in (ClockStatus.RUNNING, ClockStatus.PAUSED)

    def elapsed_at(self, calendar: Calendar, at: datetime) -> float:
        """Business seconds counted up to `at`, pauses excluded."""
        if self.status is ClockStatus.RUNNING and self.running_since is not None:
            return self.elapsed + business_seconds_between(calendar, self.running_since, at)
        return self.elapsed

    def remaining_at(self, calendar: Calendar, at: datetime) -> float:
        """Business seconds left to the target at `at` (negative once past)."""
        return self.target_seconds - self.elapsed_at(calendar, at)


def _project(clock: Clock, calendar: Calendar, since: datetime) -> Clock:
    """Due and warn instants of a clock that (re)starts counting at `since`."""
    left = max(clock.target_seconds - clock.elapsed, 0.0)
    due_at = add_business_seconds(calendar, since, left)
    warn_at = None
    if clock.warn_seconds is not None and not clock.warned and clock.warn_seconds > clock.elapsed:
        warn_at = add_business_seconds(calendar, since, clock.warn_seconds - clock.elapsed)
    return clock.model_copy(
        update={
            "status": ClockStatus.RUNNING,
            "running_since": since,
            "due_at": due_at,
            "warn_at": warn_at,
            "generation": clock.generation + 1,
        }
    )


def start(
    target: Target, policy: Policy, calendar: Calendar, at: datetime, generation: int = 0
) -> Clock | None:
    """A running clock for `target` under `policy`, None when the policy has no such target."""
    seconds = policy.target_seconds(target)
    if seconds is None:
        return None
    blank = Clock(
        target=target,
        policy_id=policy.id,
        calendar_id=policy.calendar_id,
        target_seconds=seconds,
        warn_seconds=policy.warn_seconds(target),
        escalate=policy.escalate_on_breach,
        started_at=at,
        due_at=at,
        generation=generation,
    )
    return _project(blank, calendar, at)


def pause(clock: Clock, calendar: Calendar, at: datetime) -> Clock:
    """Stop counting at `at`; timers are dropped (a new generation)."""
    return clock.model_copy(
        update={
            "status": ClockStatus.PAUSED,
            "elapsed": clock.elapsed_at(calendar, at),
            "running_since": None,
            "warn_at": None,
            "generation": clock.generation + 1,
        }
    )


def resume(clock: Clock, calendar: Calendar, at: datetime) -> Clock:
    """Count again from `at`: the due time moves by the paused business time."""
    return _project(clock.model_copy(update={"outcome": None, "stopped_at": None}), calendar, at)


def is_late(clock: Clock, calendar: Calendar, at: datetime) -> bool:
    """Whether the target is missed at `at` (a fired breach stays a breach)."""
    if clock.breach_fired:
        return True
    if clock.status is ClockStatus.RUNNING:
        return at > clock.due_at
    return clock.elapsed > clock.target_seconds


def stop(clock: Clock, calendar: Calendar, at: datetime) -> Clock:
    """The target is reached at `at`: met or breached."""
    outcome: Outcome = "breached" if is_late(clock, calendar, at) else "met"
    return clock.model_copy(
        update={
            "status": ClockStatus.STOPPED,
            "elapsed": clock.elapsed_at(calendar, at),
            "running_since": None,
            "warn_at": None,
            "outcome": outcome,
            "stopped_at": at,
            "generation": clock.generation + 1,
        }
    )


def cancel(clock: Clock, calendar: Calendar, at: datetime) -> Clock:
    """The target no longer applies."""
    return clock.model_copy(
        update={
            "status": ClockStatus.CANCELLED,
            "elapsed": clock.elapsed_at(calendar, at),
            "running_since": None,
            "warn_at": None,
            "stopped_at": at,
            "generation": clock.generation + 1,
        }
    )
