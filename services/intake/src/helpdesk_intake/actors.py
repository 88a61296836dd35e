"""Who is acting: from the `X-Actor-Id` / `X-Actor-Role` headers until authentication arrives.

`acting_user` is the one place to replace with the bearer token's subject and role.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header
from pydantic import TypeAdapter, ValidationError

from helpdesk_events.tickets import Actor, ActorRole, Identifier, Requester
from helpdesk_runtime.problems import Problem, field_error

#: Acting user when a command comes without X-Actor-Id (the role then defaults to agent).
ANONYMOUS_ID = "anonymous"
_identifier = TypeAdapter(Identifier)

ActorIdHeader = Annotated[
    str | None,
    Header(alias="X-Actor-Id", description="Acting user id (until bearer auth arrives).",
           examples=["agent-7"]),
]
ActorRoleHeader = Annotated[
    str | None,
    Header(alias="X-Actor-Role", description=(
        "Role the user acts in: requester, agent, supervisor, admin or integrator. Default: "
        "requester when creating a ticket as its requester, agent otherwise."),
        examples=["agent"]),
]


def acting_user(
    actor_id: str | None, actor_role: str | None, *, requester: Requester | None = None
) -> Actor:
    """The actor of a request; on a create without headers, the ticket's requester."""
    if actor_id is None:
        actor_id = requester.id if requester is not None else ANONYMOUS_ID
    try:
        actor_id = _identifier.validate_python(actor_id)
    except ValidationError as error:
        raise _bad_header("X-Actor-Id", error.errors()[0]["msg"]) from None
    if actor_role is None:
        is_requester = requester is not None and actor_id == requester.id
        role = ActorRole.REQUESTER if is_requester else ActorRole.AGENT
    else:
        try:
            role = ActorRole(actor_role)
        except ValueError:
            role = ActorRole.SYSTEM  # refused just below, with the list of roles
        if role is ActorRole.SYSTEM:
            allowed = ", ".join(r.value for r in ActorRole if r is not ActorRole.SYSTEM)
            raise _bad_header("X-Actor-Role", f"must be one of {allowed}")
    return Actor(id=actor_id, role=role)


def _bad_header(name: str, message: str) -> Problem:
    return Problem(422, "Validation failed", f"header {name}: {message}",
                   errors=[field_error(f"header.{name}", message)])
