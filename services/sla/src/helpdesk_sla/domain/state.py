"""The SLA state of one ticket, the timers it implies and what a decision returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

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

    @property
    def key(self) -> str:
        """The idempotency key: one firing per clock, kind and generation."""
        # Cached by hand: functools.cached_property takes a lock per first read (Python 3.11),
        # a cost paid per fired timer.
        found = self.__dict__.get("_key")
        if found is None:
            found = self.__dict__["_key"] = (
                f"{self.ticket_id}:{self.target.value}:{self.kind.value}:{self.generation}"
            )
        return found

    @classmethod
    def stored(
        cls, key: str, ticket_id: uuid.UUID, target: Target, kind: TimerKind, generation: int,
        due_at: datetime,
    ) -> Timer:
        """A timer read back with its stored `key` (which is `key` of these fields)."""
        timer = cls(ticket_id, target, kind, generation, due_at)
        timer.__dict__["_key"] = key
        return timer


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
