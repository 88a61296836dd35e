"""Decisions: (state, ticket event or due timer) -> (new state, SLA events, timers).

Times come from the events (`occurred_at`) and, for timers, from the caller's `now`:
nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from helpdesk_businesstime import Calendar, business_seconds_between
from helpdesk_events.envelope import Event
from helpdesk_events.sla import (
    ClockCancelled,
    ClockPaused,
    ClockResumed,
    ClockStarted,
    SlaBreached,
    SlaMet,
    SlaWarning,
    Target,
)
from helpdesk_events.tickets import (
    ActorRole,
    CommentAdded,
    PriorityChanged,
    StatusChanged,
    TicketAssigned,
    TicketCategorized,
    TicketClosed,
    TicketCreated,
    TicketEscalated,
    TicketEvent,
    TicketMerged,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
    TicketUpdated,
)

from . import clocks as clk
from .clocks import Clock, ClockStatus
from .facts import TicketFacts
from .policies import Policy, SlaConfig
from .state import Decision, TicketSla, Timer, TimerKind, timers_for

AGENT_ROLES = frozenset({ActorRole.AGENT, ActorRole.SUPERVISOR, ActorRole.ADMIN})
CLOSED_STATUSES = frozenset({"resolved", "closed"})


class _Changes:
    """Accumulates a decision: the evolving state and the events it emits."""

    def __init__(self, state: TicketSla, config: SlaConfig, policy: Policy) -> None:
        self.state, self.config, self.policy = state, config, policy
        self.events: list[Event] = []

    def put(self, clock: Clock) -> None:
        self.state = self.state.with_clock(clock)

    def started(self, clock: Clock) -> None:
        self.put(clock)
        self.events.append(
            ClockStarted(
                ticket_id=self.state.ticket_id,
                target=clock.target,
                policy=clock.policy_id,
                calendar=clock.calendar_id,
                started_at=clock.running_since or clock.started_at,
                due_at=clock.due_at,
                warn_at=clock.warn_at,
            )
        )

    def pause(self, clock: Clock, at: datetime, status: str | None) -> None:
        cal = self.config.calendar(clock.calendar_id)
        paused = clk.pause(clock, cal, at)
        self.put(paused)
        self.events.append(
            ClockPaused(
                ticket_id=self.state.ticket_id,
                target=clock.target,
                paused_at=at,
                remaining_business_seconds=int(paused.target_seconds - paused.elapsed),
                status=status,  # type: ignore[arg-type]
            )
        )

    def resume(self, clock: Clock, at: datetime) -> None:
        resumed = clk.resume(clock, self.config.calendar(clock.calendar_id), at)
        self.put(resumed)
        self.events.append(
            ClockResumed(
                ticket_id=self.state.ticket_id,
                target=clock.target,
                resumed_at=at,
                due_at=resumed.due_at,
            )
        )

    def stop(self, clock: Clock, at: datetime) -> None:
        cal = self.config.calendar(clock.calendar_id)
        stopped = clk.stop(clock, cal, at)
        if stopped.outcome == "met":
            self.events.append(
                SlaMet(
                    ticket_id=self.state.ticket_id,
                    target=clock.target,
                    due_at=clock.due_at,
                    met_at=at,
                    elapsed_business_seconds=int(stopped.elapsed),
                )
            )
        elif not clock.breach_fired:
            # Late but the timer has not fired yet (e.g. the service was down): breach now, once.
            self.events.append(self.breach(clock, at))
            stopped = stopped.model_copy(update={"breach_fired": True})
        self.put(stopped)

    def cancel(self, clock: Clock, at: datetime, reason: str) -> None:
        self.put(clk.cancel(clock, self.config.calendar(clock.calendar_id), at))
        self.events.append(
            ClockCancelled(ticket_id=self.state.ticket_id, target=clock.target, reason=reason)
        )

    def breach(self, clock: Clock, at: datetime) -> SlaBreached:
        return _breach(self.state, clock, self.config.calendar(clock.calendar_id), at)

    def active(self, target: Target) -> Clock | None:
        clock = self.state.clocks.get(target)
        return clock if clock is not None and clock.active else None

    def decision(self) -> Decision:
        return Decision(self.state, self.events, timers_for(self.state))


def _breach(state: TicketSla, clock: Clock, cal: Calendar, at: datetime) -> SlaBreached:
    """The breach of `clock` detected at `at`."""
    late_by = (
        business_seconds_between(cal, clock.due_at, at)
        if clock.status is ClockStatus.RUNNING
        else (max(clock.elapsed - clock.target_seconds, 0.0))
    )
    return SlaBreached(
        ticket_id=state.ticket_id,
        target=clock.target,
        due_at=clock.due_at,
        late_by_seconds=int(late_by),
        escalate=clock.escalate,
        priority=state.facts.priority,  # type: ignore[arg-type]
        team=state.facts.team,
    )


def facts_of(event: TicketCreated) -> TicketFacts:
    """The matchable attributes of a new ticket."""
    return TicketFacts(
        created_at=event.occurred_at,
        priority=event.priority.value,
        type=event.type.value,
        channel=event.channel.value,
        category=event.category,
        affected_service=event.affected_service,
        org=event.requester.org,
    )


def apply_event(
    state: TicketSla | None,
    event: TicketEvent,
    config: SlaConfig,
    *,
    history: Sequence[TicketEvent] = (),
    policy: Policy | None = None,
) -> Decision:
    """Apply one ticket event. `history` (every event of the ticket so far, this one included) is
    replayed when a priority or category change moves the ticket to another policy; `policy`
    forces one policy regardless of conditions (used for simulation)."""
    at = event.occurred_at
    if isinstance(event, TicketCreated):
        if state is not None:
            return Decision(state, [], timers_for(state))
        facts = facts_of(event)
        chosen = policy or config.match(facts)
        changes = _Changes(
            TicketSla(ticket_id=event.ticket_id, facts=facts, policy_id=chosen.id), config, chosen
        )
        cal = config.calendar(chosen.calendar_id)
        for target in (Target.FIRST_RESPONSE, Target.RESOLUTION):
            clock = clk.start(target, chosen, cal, at)
            if clock is not None:
                changes.started(clock)
        return changes.decision()
    if state is None:
        # An event before the ticket's creation reached us: nothing to time yet.
        return Decision(None)
    current = policy or config.policy(state.policy_id) or config.match(state.facts)
    changes = _Changes(state, config, current)
    _apply(changes, event, at)
    if isinstance(event, (PriorityChanged, TicketCategorized)) and policy is None:
        chosen = config.match(changes.state.facts)
        if chosen.id != state.policy_id:
            _switch_policy(changes, chosen, history)
    return changes.decision()


def _apply(changes: _Changes, event: TicketEvent, at: datetime) -> None:
    facts = changes.state.facts
    policy = changes.policy
    if isinstance(event, CommentAdded):
        if not event.public:
            return
        if event.author.role in AGENT_ROLES:
            for target in (Target.FIRST_RESPONSE, Target.NEXT_RESPONSE):
                if (clock := changes.active(target)) is not None:
                    changes.stop(clock, at)
        elif event.author.role is ActorRole.REQUESTER:
            awaiting = changes.active(Target.FIRST_RESPONSE) or changes.active(Target.NEXT_RESPONSE)
            if awaiting is None and facts.status not in CLOSED_STATUSES:
                previous = changes.state.clocks.get(Target.NEXT_RESPONSE)
                generation = previous.generation + 1 if previous else 0
                clock = clk.start(
                    Target.NEXT_RESPONSE,
                    policy,
                    changes.config.calendar(policy.calendar_id),
                    at,
                    generation,
                )
                if clock is not None:
                    changes.started(clock)
                    if facts.status in policy.pause_statuses:
                        changes.pause(clock, at, facts.status)
    elif isinstance(event, StatusChanged):
        before, after = event.from_status.value, event.to_status.value
        changes.state = changes.state.model_copy(
            update={"facts": facts.model_copy(update={"status": after})}
        )
        pausing = policy.pause_statuses
        if after in pausing and before not in pausing:
            for clock in list(changes.state.clocks.values()):
                if clock.status is ClockStatus.RUNNING:
                    changes.pause(clock, at, after)
        elif before in pausing and after not in pausing and after not in CLOSED_STATUSES:
            for clock in list(changes.state.clocks.values()):
                if clock.status is ClockStatus.PAUSED:
                    changes.resume(clock, at)
    elif isinstance(event, TicketResolved):
        # A resolution answers the requester too, so open response clocks stop with it.
        for target in Target:
            if (clock := changes.active(target)) is not None:
                changes.stop(clock, at)
    elif isinstance(event, TicketReopened):
        clock = changes.state.clocks.get(Target.RESOLUTION)
        if clock is not None and clock.status is ClockStatus.STOPPED:
            changes.resume(clock, at)
    elif isinstance(event, (TicketClosed, TicketMerged)):
        if isinstance(event, TicketMerged) and event.source_ticket_id != event.ticket_id:
            return
        reason = "ticket merged" if isinstance(event, TicketMerged) else "ticket closed"
        for clock in list(changes.state.clocks.values()):
            if clock.active:
                changes.cancel(clock, at, reason)
    else:
        _update_facts(changes, event)


def _update_facts(changes: _Changes, event: TicketEvent) -> None:
    facts = changes.state.facts
    update: dict[str, object] = {}
    if isinstance(event, PriorityChanged):
        update["priority"] = event.to_priority.value
    elif isinstance(event, TicketCategorized):
        update["category"] = event.to_category
    elif isinstance(event, TicketAssigned):
        update.update(tier=int(event.tier), team=event.team)
    elif isinstance(event, (TicketEscalated, TicketTransferred)):
        update["tier"] = int(event.to_tier)
        if event.to_team is not None:
            update["team"] = event.to_team
    elif isinstance(event, TicketUpdated):
        for change in event.changes:
            if change.field in ("channel", "type"):
                update[change.field] = change.after.value  # type: ignore[union-attr]
            elif change.field == "requester":
                update["org"] = change.after.org  # type: ignore[union-attr]
            elif change.field == "affected_service":
                update["affected_service"] = change.after
    if update:
        changes.state = changes.state.model_copy(update={"facts": facts.model_copy(update=update)})


def _switch_policy(changes: _Changes, chosen: Policy, history: Sequence[TicketEvent]) -> None:
    """Recompute the clocks from the ticket's history as if `chosen` had applied from the start.

    Verdicts already given (met, breached, fired warnings) stand: events are facts.
    """
    replayed = fold(history, changes.config, policy=chosen)
    at = history[-1].occurred_at if history else changes.state.facts.created_at
    changes.policy = chosen
    changes.state = changes.state.model_copy(update={"policy_id": chosen.id})
    for target in Target:
        old = changes.state.clocks.get(target)
        new = replayed.clocks.get(target) if replayed is not None else None
        if old is not None and not old.active:
            continue
        if new is None or not new.active:
            if old is not None:
                changes.cancel(old, at, f"policy re-evaluated: now {chosen.id}")
            if new is not None and old is None:
                changes.put(new)
            continue
        generation = (old.generation if old is not None else new.generation) + 1
        merged = new.model_copy(
            update={
                "generation": generation,
                "warned": new.warned or (old.warned if old else False),
                "breach_fired": old.breach_fired if old else False,
            }
        )
        if merged.status is ClockStatus.RUNNING:
            changes.started(merged)
        else:
            changes.put(merged)


def fold(
    history: Sequence[TicketEvent], config: SlaConfig, *, policy: Policy | None = None
) -> TicketSla | None:
    """The state after `history` (timers not fired: verdicts come from due times)."""
    state: TicketSla | None = None
    for index, event in enumerate(history):
        state = apply_event(state, event, config, history=history[: index + 1], policy=policy).state
    return state


def fire_timer(state: TicketSla, timer: Timer, config: SlaConfig, now: datetime) -> Decision:
    """A due timer fires at `now`: warn or breach, once; a stale timer (old generation) does nothing."""
    clock = state.clocks.get(timer.target)
    if (
        clock is None
        or clock.generation != timer.generation
        or clock.status is not ClockStatus.RUNNING
        or clock.breach_fired
        or (timer.kind is TimerKind.WARNING and clock.warned)
    ):
        return Decision(state, [], timers_for(state))
    # Straight to the one clock's copy and the state's: this runs per fired timer, a burst
    # fires thousands a second, and a policy or an accumulating `_Changes` is not needed.
    cal = config.calendar(clock.calendar_id)
    event: Event
    if timer.kind is TimerKind.WARNING:
        event = SlaWarning(
            ticket_id=state.ticket_id,
            target=clock.target,
            due_at=clock.due_at,
            remaining_business_seconds=max(int(clock.remaining_at(cal, now)), 0),
        )
        fired = clock.model_copy(update={"warned": True})
    else:
        event = _breach(state, clock, cal, now)
        fired = clock.model_copy(update={"breach_fired": True, "warned": True})
    after = state.with_clock(fired)
    return Decision(after, [event], timers_for(after))
