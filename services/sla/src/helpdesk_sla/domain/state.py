"""The SLA state of one ticket, the timers it implies and what a decision returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from helpdesk_events.envelope import Event
from helpdesk_events.sla import Target
from pydantic import BaseModel, ConfigDict

from .clocks import Clock, ClockStatus
from .facts import TicketFacts


class TicketSla(BaseModel):
    """A ticket's facts, its policy and its clocks by target."""

    model_config = ConfigDict(frozen=True)

    ticket_id: uuid.UUID
    facts: TicketFacts
    policy_id: str
    clocks: dict[Target, Clock] = {}

    def with_clock(self, clock: Clock) -> TicketSla:
        """The state with `clock` replacing the clock of its target."""
        return self.model_copy(update={"clocks": {**self.clocks, clock.target: clock}})


class TimerKind(StrEnum):
    """What a timer fires."""

    WARNING = "warning"
    BREACH = "breach"


@dataclass(frozen=True)
class Timer:
    """A durable instant at which a clock warns or breaches."""

    ticket_id: uuid.UUID
    target: Target
    kind: TimerKind
    generation: int
    due_at: datetime

    @cached_property
    def key(self) -> str:
        """The idempotency key: one firing per clock, kind and generation."""
        return f"{self.ticket_id}:{self.target.value}:{self.kind.value}:{self.generation}"


@dataclass(frozen=True)
class Decision:
    """A decision's outcome: the new state, the events to publish, the timers it needs now."""

    state: TicketSla | None
    events: list[Event] = field(default_factory=list)
    timers: tuple[Timer, ...] = ()


def timers_for(state: TicketSla | None) -> tuple[Timer, ...]:
    """Every timer the state needs: warnings and breaches of running clocks not yet fired."""
    if state is None:
        return ()
    timers: list[Timer] = []
    for clock in state.clocks.values():
        if clock.status is not ClockStatus.RUNNING or clock.breach_fired:
            continue
        if clock.warn_at is not None and not clock.warned and clock.warn_at < clock.due_at:
            timers.append(
                Timer(
                    state.ticket_id,
                    clock.target,
                    TimerKind.WARNING,
                    clock.generation,
                    clock.warn_at,
                )
            )
        timers.append(
            Timer(state.ticket_id, clock.target, TimerKind.BREACH, clock.generation, clock.due_at)
        )
    return tuple(timers)
