"""Who may do what in metrics: `CONFIGURE` on the router, stricter rules on single routes.

| who | may |
|---|---|
| agent | read KPIs, series, breakdowns, scorecard, targets, forecast |
| integrator | the same, plus per-agent performance (read only) |
| supervisor | also per-agent performance, set targets, cost model and scorecard baseline |
| admin | everything, incl. POST /v1/admin/rebuild |
| requester | nothing |

The dashboard page and its assets are public; its API calls carry the token.
"""

from __future__ import annotations

from helpdesk_runtime.auth import Role, allow, require

READERS = (Role.AGENT, Role.SUPERVISOR, Role.INTEGRATOR)

#: Staff and integrators read; supervisors set targets, cost model and baseline.
CONFIGURE = allow(read=READERS, write=(Role.SUPERVISOR,))
#: Individual agents' numbers: their supervisors and reporting systems, not their peers.
PEOPLE = require(Role.SUPERVISOR, Role.INTEGRATOR)
ADMIN_ONLY = require(Role.ADMIN)
