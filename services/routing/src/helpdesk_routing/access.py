"""Who may do what in routing: every route takes `STAFF` (router) plus its own rule here.

| who | may |
|---|---|
| agent | read everything, preview, transfer tickets, set their own status |
| supervisor | also create/replace/delete teams, agents and rules of their teams (token `teams`), set the status of their teams' agents |
| integrator | read (GET) only |
| admin | everything, incl. `POST /v1/admin/republish` (from helpdesk_runtime: re-publish the published log) |
| requester | nothing |
"""

from __future__ import annotations

from collections.abc import Iterable

from helpdesk_runtime.auth import Principal, Role, allow, forbidden, require, require_teams

READERS = (Role.AGENT, Role.SUPERVISOR, Role.INTEGRATOR)

#: The router's rule: staff read and work, integrators read.
STAFF = allow(read=READERS, write=(Role.AGENT, Role.SUPERVISOR))
#: Changing teams, agents and rules (on top of STAFF).
MANAGE = require(Role.SUPERVISOR)


def check_teams(principal: Principal, teams: Iterable[str | None]) -> None:
    """A supervisor changes only objects of their own teams (admins: any)."""
    require_teams(principal, teams)


def check_status_change(principal: Principal, agent_id: str, agent_teams: Iterable[str]) -> None:
    """Agents set their own status; supervisors that of their teams' agents."""
    if Role.ADMIN in principal.roles or principal.subject == agent_id:
        return
    if Role.SUPERVISOR not in principal.roles:
        raise forbidden("Agents can only set their own status.")
    check_teams(principal, agent_teams)
