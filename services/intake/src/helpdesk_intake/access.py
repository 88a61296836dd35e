"""Who may do what in intake: the role rules of every endpoint, and requester scoping.

| who | may |
|---|---|
| requester | create tickets for themselves; read, comment on (public only), reopen and close their own |
| agent, supervisor | everything on every ticket except the admin endpoints |
| integrator | read (GET) only |
| admin | everything, incl. /v1/admin/replay |

A requester asking for somebody else's ticket gets 404 (existence is not revealed), and
never sees internal notes, not even in the history.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from fastapi import Request

from helpdesk_events.envelope import Envelope
from helpdesk_events.tickets import CommentAdded, Requester
from helpdesk_runtime.auth import Principal, Role, allow, authenticated, forbidden, require
from helpdesk_runtime.problems import Problem

from .tables import tickets

READERS = (Role.REQUESTER, Role.AGENT, Role.SUPERVISOR, Role.INTEGRATOR)
STAFF = (Role.AGENT, Role.SUPERVISOR)

#: Create, comment, reopen, close, and every GET.
PARTIES = allow(read=READERS, write=(Role.REQUESTER, *STAFF))
#: Working a ticket (patch, status, assign, escalate, resolve, work logs, merge, change outcome).
STAFF_ONLY = allow(read=READERS, write=STAFF)
ADMIN_ONLY = require(Role.ADMIN)


def requester_scope(principal: Principal) -> str | None:
    """The requester id a caller is limited to, or None for staff and integrators."""
    if principal.has_any((*STAFF, Role.INTEGRATOR)):
        return None
    return principal.subject


def check_create(principal: Principal, requester: Requester) -> None:
    """A requester logs tickets only in their own name."""
    scope = requester_scope(principal)
    if scope is not None and requester.id != scope:
        raise forbidden("Requesters can only create tickets for themselves.")


def not_found(ticket_id: Any) -> Problem:
    """The 404 a missing ticket, or one the caller may not see, gets."""
    return Problem(404, "Not found", f"ticket {ticket_id} not found", ticket_id=str(ticket_id))


async def own_ticket(request: Request) -> None:
    """Dependency: a requester reaches `/v1/tickets/{ticket_id}...` only for their own tickets."""
    raw = request.path_params.get("ticket_id")
    if raw is None:
        return
    scope = requester_scope(await authenticated(request))
    if scope is None:
        return
    try:
        ticket_id = UUID(str(raw))
    except ValueError:
        return  # the route's own validation answers 422
    async with request.app.state.runtime.reader.connect() as conn:
        owner = (await conn.execute(
            sa.select(tickets.c.requester_id).where(tickets.c.id == ticket_id)
        )).scalar_one_or_none()
    if owner is not None and owner != scope:
        raise not_found(ticket_id)


def visible_events(principal: Principal, envelopes: list[Envelope]) -> list[Envelope]:
    """The history a caller may read: requesters never see internal notes."""
    if requester_scope(principal) is None:
        return envelopes
    return [e for e in envelopes if not (isinstance(e.data, CommentAdded) and not e.data.public)]

