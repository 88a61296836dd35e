"""Command handling: load -> decide -> save inside the caller's transaction.

The HTTP routes (one transaction per request) and the Kafka consumers (inside the inbox
transaction) both run commands through these functions, so the rules of persisting a
decision live in one place. The relay is woken after the transaction by `relay.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope, new_envelope
from helpdesk_events.eventstore import ConcurrencyConflict
from helpdesk_events.tickets import TicketEvent

from . import store
from .commands import Command, CreateTicket, MergeTicket
from .domain import DEFAULT_POLICY, Policy, decide, decide_merge
from .errors import InvalidCommand, NeedsTransaction, TicketNotFound
from .state import TicketState, evolve

SOURCE = "intake"
#: Attempts of load -> decide -> append when another writer appended first (no If-Match given).
MAX_ATTEMPTS = 5
#: Provisional numbers tried before allocating the number in a statement of its own (each
#: is random: only a request quoting it makes it unusable).
PROVISIONAL_ATTEMPTS = 3


class VersionMismatch(Exception):
    """The client's If-Match version is not the ticket's current version (412)."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"ticket is at version {actual}, not {expected}")


@dataclass(frozen=True)
class Outcome:
    """A ticket's state after a command and the envelopes the command appended (maybe none)."""

    state: TicketState
    envelopes: list[Envelope]


@dataclass(frozen=True)
class Trace:
    """CloudEvents correlation of the events a command writes."""

    correlation_id: str | None = None
    causation_id: str | None = None


async def create(
    conn: store.Connection,
    ticket_id: UUID,
    build: Callable[[str], CreateTicket],
    *,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    trace: Trace = Trace(),
) -> Outcome:
    """Allocate a number, build the CreateTicket command with it, and persist the new ticket.

    On PostgreSQL the number is allocated by the statement that saves the ticket (one round
    trip less): the ticket is decided with a provisional number, which the save replaces.
    """
    if store.numbers_on_save(conn):
        command = build(store.provisional_number())
        await _check_follow_up(conn, command)
        for _ in range(PROVISIONAL_ATTEMPTS):
            outcome = _decide(None, [command], now, policy, trace)
            state = await store.create_numbered(conn, outcome.state, outcome.envelopes[0])
            if state is not None:
                return Outcome(state, [_renumbered(e, state.number) for e in outcome.envelopes])
            command = build(store.provisional_number())
        if store.in_autocommit(conn):
            raise NeedsTransaction  # the fallback below takes two statements
    command = build(await store.next_number(conn, ticket_id))
    await _check_follow_up(conn, command)
    return await _decide_and_save(conn, None, [command], now, policy, trace)


async def _check_follow_up(conn: store.Connection, command: CreateTicket) -> None:
    if command.follow_up_of is not None and not await store.exists(conn, command.follow_up_of):
        raise InvalidCommand("follow_up_of", f"no ticket {command.follow_up_of}")


def _renumbered(envelope: Envelope, number: str) -> Envelope:
    """The TicketCreated envelope with the ticket's real number."""
    return envelope.model_copy(update={"data": envelope.data.model_copy(update={"number": number})})


#: Commands to run, or a function choosing them from the ticket's current state.
Plan = Sequence[Command] | Callable[[TicketState], Sequence[Command]]


async def execute(
    conn: AsyncConnection,
    ticket_id: UUID,
    plan: Plan,
    *,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    if_match: int | None = None,
    trace: Trace = Trace(),
) -> Outcome:
    """Run the planned commands in order against an existing ticket; persist their events together.

    Writers of one ticket take turns (`store.lock`). Should a race still be lost at the
    event store, it is decided again on the fresh state when the caller sent no `if_match`
    (it did not condition on a version), else it is a 412 like any other stale version.
    Retrying inside the transaction works because PostgreSQL runs READ COMMITTED (each
    read sees the winner's commit) and the event store appends in a savepoint.
    """
    await store.lock(conn, ticket_id)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        state = await store.load(conn, ticket_id)
        if state is None:
            raise TicketNotFound(ticket_id)
        _check_version(if_match, state)
        commands = plan(state) if callable(plan) else plan
        try:
            return await _decide_and_save(conn, state, commands, now, policy, trace)
        except ConcurrencyConflict as conflict:
            if if_match is not None:
                raise VersionMismatch(if_match, conflict.actual) from None
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def merge(
    conn: AsyncConnection,
    command: MergeTicket,
    *,
    now: datetime,
    if_match: int | None = None,
    trace: Trace = Trace(),
) -> tuple[Outcome, Outcome]:
    """Merge the source into the target: both streams change in the caller's transaction."""
    await store.lock(conn, command.ticket_id, command.target_ticket_id)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        source = await store.load(conn, command.ticket_id)
        if source is None:
            raise TicketNotFound(command.ticket_id)
        _check_version(if_match, source)
        target = await store.load(conn, command.target_ticket_id)
        if target is None:
            raise InvalidCommand("target_ticket_id", f"no ticket {command.target_ticket_id}")
        source_events, target_events = decide_merge(source, target, command, now)
        outcomes = {
            source.id: _outcome(source, source_events, trace),
            target.id: _outcome(target, target_events, trace),
        }
        try:
            # A fixed order (by id) keeps two opposite merges from deadlocking on PostgreSQL.
            for ticket_id in sorted(outcomes):
                before = source if ticket_id == source.id else target
                outcome = outcomes[ticket_id]
                if outcome.envelopes:
                    await store.save(conn, outcome.state, before.version, outcome.envelopes)
        except ConcurrencyConflict as conflict:
            if if_match is not None and conflict.stream_id == source.id:
                raise VersionMismatch(if_match, conflict.actual) from None
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        return outcomes[source.id], outcomes[target.id]
    raise AssertionError("unreachable")


def _check_version(if_match: int | None, state: TicketState) -> None:
    if if_match is not None and state.version != if_match:
        raise VersionMismatch(if_match, state.version)


async def _decide_and_save(
    conn: AsyncConnection,
    state: TicketState | None,
    commands: Sequence[Command],
    now: datetime,
    policy: Policy,
    trace: Trace,
) -> Outcome:
    outcome = _decide(state, commands, now, policy, trace)
    if outcome.envelopes:
        await store.save(conn, outcome.state, state.version if state else 0, outcome.envelopes)
    return outcome


def _decide(
    state: TicketState | None,
    commands: Sequence[Command],
    now: datetime,
    policy: Policy,
    trace: Trace,
) -> Outcome:
    """The commands decided in order, each on the state the previous ones left (no I/O)."""
    events: list[TicketEvent] = []
    current = state
    for command in commands:
        decided = decide(current, command, now, policy)
        for event in decided:
            current = evolve(current, event)
        events.extend(decided)
    if current is None:
        raise TicketNotFound(getattr(commands[0], "ticket_id"))
    return Outcome(current, _envelopes(state, events, trace))


def _outcome(state: TicketState | None, events: Sequence[TicketEvent], trace: Trace) -> Outcome:
    """`state` evolved by `events`, with the events wrapped in envelopes numbered after it."""
    current = state
    for event in events:
        current = evolve(current, event)
    if current is None:
        raise ValueError("no state and no events")
    return Outcome(current, _envelopes(state, events, trace))


def _envelopes(
    state: TicketState | None, events: Sequence[TicketEvent], trace: Trace
) -> list[Envelope]:
    """The events wrapped in envelopes numbered after `state`'s version."""
    version = state.version if state is not None else 0
    return [
        new_envelope(
            event, source=SOURCE, subject=str(event.ticket_id), time=event.occurred_at,
            sequence=version + offset, correlationid=trace.correlation_id,
            causationid=trace.causation_id,
        )
        for offset, event in enumerate(events, start=1)
    ]
