"""Who is acting: the verified bearer token's subject, in the role the token grants."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from helpdesk_events.tickets import Actor, ActorRole, Identifier
from helpdesk_runtime.auth import Principal, Role, unauthorized

_identifier = TypeAdapter(Identifier)

#: A token with several roles acts in the strongest one.
_PRECEDENCE = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.REQUESTER, Role.INTEGRATOR)


def acting_role(principal: Principal) -> ActorRole:
    """The role recorded on the events the caller causes."""
    for role in _PRECEDENCE:
        if role in principal.roles:
            return ActorRole(role.value)
    return ActorRole.REQUESTER


def acting_user(principal: Principal) -> Actor:
    """The actor of a request: the token's subject and its strongest role."""
    try:
        actor_id = _identifier.validate_python(principal.subject)
    except ValidationError as error:
        raise unauthorized(f"Invalid token subject: {error.errors()[0]['msg']}") from None
    return Actor(id=actor_id, role=acting_role(principal))
