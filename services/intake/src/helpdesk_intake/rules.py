"""The ticket's business rules as data: status moves, priority matrix, roles, policy defaults.

Status machine (rows: from, columns: to; "x" = legal move, the command that makes it in brackets)::

    from \\ to   new  open  pending  on_hold  resolved  closed
    new          .    x     x        x        x         (merge)
    open         .    .     x        x        x         (merge)
    pending      .    x     .        x        x         (merge)
    on_hold      .    x     x        .        x         (merge)
    resolved     .    x[r]  .        .        .         x[c] (merge)
    closed       .    .     .        .        .         .

    ChangeStatus to the current status is a no-op (no event), never an error.
    [r] = ReopenTicket only, within the reopen window after the resolution.
    [c] = CloseTicket only (manual, or auto_close by the system once the delay passed).
    (merge) = MergeTicket closes a duplicate from any status but closed.
    resolved is reached with ResolveTicket only (a resolution code is required).

Why: `new` means nobody has taken the ticket, so nothing moves back to it. Work statuses
(open, pending, on_hold) move freely among themselves and to resolved (a phone call can be
solved while logging it: new -> resolved keeps first contact resolution possible). Closing
needs a resolution first, except for a merged duplicate. `closed` is terminal: a problem
after closing is a new follow-up ticket (`follow_up_of`).

Automatic moves:
- a `new` ticket that gets an agent (assignment, agent pick, transfer or escalation to an
  agent) moves to open; assigning only a team keeps it in the team queue (`new`);
- a public reply by staff (agent, supervisor, admin) on a `new` ticket moves it to open;
- a public reply by the requester on a `pending` ticket moves it back to open
  (`on_hold` waits on a third party, so a requester reply does not release it).

Priority from ITIL impact x urgency when no explicit priority is given (missing = medium)::

    impact \\ urgency   high  medium  low
    high                P1    P2      P3
    medium              P2    P3      P4
    low                 P3    P4      P4
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from helpdesk_events.tickets import ActorRole, Impact, Priority, Status, Urgency

S = Status

#: Legal status moves: from -> the statuses it may move to (see the table above).
TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.RESOLVED}),
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.RESOLVED}),
    S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.RESOLVED}),
    S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.RESOLVED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}

#: Statuses in which the ticket is being worked (not resolved, not closed).
WORKING: frozenset[Status] = frozenset({S.NEW, S.OPEN, S.PENDING, S.ON_HOLD})

#: Roles whose public comment is an "agent reply" (first response, contacts).
STAFF_ROLES: frozenset[ActorRole] = frozenset(
    {ActorRole.AGENT, ActorRole.SUPERVISOR, ActorRole.ADMIN}
)

PRIORITY_MATRIX: Mapping[tuple[Impact, Urgency], Priority] = {
    (Impact.HIGH, Urgency.HIGH): Priority.P1,
    (Impact.HIGH, Urgency.MEDIUM): Priority.P2,
    (Impact.HIGH, Urgency.LOW): Priority.P3,
    (Impact.MEDIUM, Urgency.HIGH): Priority.P2,
    (Impact.MEDIUM, Urgency.MEDIUM): Priority.P3,
    (Impact.MEDIUM, Urgency.LOW): Priority.P4,
    (Impact.LOW, Urgency.HIGH): Priority.P3,
    (Impact.LOW, Urgency.MEDIUM): Priority.P4,
    (Impact.LOW, Urgency.LOW): Priority.P4,
}

DEFAULT_REOPEN_WINDOW = timedelta(days=7)
DEFAULT_AUTO_CLOSE_DELAY = timedelta(days=3)


@dataclass(frozen=True, kw_only=True)
class Policy:
    """Configurable time rules (from the service settings)."""

    reopen_window: timedelta = DEFAULT_REOPEN_WINDOW
    auto_close_delay: timedelta = DEFAULT_AUTO_CLOSE_DELAY


def allowed_moves(status: Status) -> list[Status]:
    """Statuses `status` may legally move to, in lifecycle order."""
    return [s for s in Status if s in TRANSITIONS[status]]


def is_legal_move(current: Status, requested: Status, *, merge: bool = False) -> bool:
    """True if the table allows current -> requested (a merge may close any open ticket)."""
    if merge and requested is Status.CLOSED:
        return current is not Status.CLOSED
    return requested in TRANSITIONS[current]


def priority_for(impact: Impact | None, urgency: Urgency | None) -> Priority:
    """Priority from the impact x urgency matrix; a missing value counts as medium."""
    return PRIORITY_MATRIX[(impact or Impact.MEDIUM, urgency or Urgency.MEDIUM)]


def normalise_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags trimmed, lower-cased and de-duplicated, first occurrence wins."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = tag.strip().lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)
