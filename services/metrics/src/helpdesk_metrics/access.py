"""Who may do what in metrics: `CONFIGURE` on the router, stricter rules on single routes.

| who | may |
|---|---|
| agent | read KPIs, series, breakdowns, scorecard, targets, forecast; of individual agents' numbers only their own |
| integrator | the same, plus per-agent performance (read only) |
| supervisor | also per-agent performance, set targets, cost model and scorecard baseline |
| admin | everything, incl. POST /v1/admin/rebuild |
| requester | nothing |

The dashboard page and its assets are public; its API calls carry the token.
"""

from __future__ import annotations

from typing import Any

from helpdesk_runtime.auth import Principal, Role, allow, require
from helpdesk_runtime.problems import Problem, field_error

from .candidates import Filters

READERS = (Role.AGENT, Role.SUPERVISOR, Role.INTEGRATOR)

#: Staff and integrators read; supervisors set targets, cost model and baseline.
CONFIGURE = allow(read=READERS, write=(Role.SUPERVISOR,))
#: Individual agents' numbers: their supervisors and reporting systems, not their peers.
PEOPLE_ROLES = (Role.SUPERVISOR, Role.INTEGRATOR)
PEOPLE = require(*PEOPLE_ROLES)
#: The KPIs that list individual agents, and where: a breakdown by agent, or rows with "agent".
PER_AGENT = {"agent_utilization": "breakdown", "agent_availability": "breakdown",
             "workload_balance": "breakdown", "agent_performance": "details",
             "competence_index": "details"}


def sees_people(caller: Principal) -> bool:
    """True when the caller may read every agent's numbers."""
    return caller.has_any(PEOPLE_ROLES)


def check_scope(caller: Principal, filters: Filters, by: str | None = None) -> None:
    """403 when a caller without people access asks for another agent's numbers: a filter on
    another agent, or a breakdown by agent."""
    if sees_people(caller):
        return
    if filters.agent is not None and filters.agent != caller.subject:
        raise _only_own("query.agent", "only your own agent id")
    if by == "agent":
        raise _only_own("query.by", "a breakdown by agent needs supervisor or integrator access")


def own_numbers(caller: Principal, name: str, result: dict[str, Any]) -> dict[str, Any]:
    """`result` (a KPI's value over one window) as the caller may see it: without people
    access, a per-agent KPI lists only the caller's own agent (its value, an aggregate, stays)."""
    where = PER_AGENT.get(name)
    if where is None or sees_people(caller):
        return result
    me = caller.subject
    if where == "breakdown":
        breakdown = result.get("breakdown") or {}
        return {**result, "breakdown": {a: v for a, v in breakdown.items() if a == me}}
    details = result.get("details") or {}
    return {**result, "details": {**details, "agents": [
        row for row in details.get("agents", ()) if row["agent"] == me]}}


def _only_own(field: str, message: str) -> Problem:
    return Problem(403, "Forbidden", "Individual agents' numbers need supervisor or integrator "
                   f"access: {message}.", errors=[field_error(field, message)])
ADMIN_ONLY = require(Role.ADMIN)
