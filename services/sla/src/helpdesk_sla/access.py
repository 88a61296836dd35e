"""Who may do what in sla (one rule per router; calendars and policies have no team).

| who | may |
|---|---|
| agent, integrator | read calendars, policies, a ticket's clocks and breaches |
| supervisor | also create/replace/delete calendars and policies, simulate a policy |
| admin | everything, incl. `POST /v1/admin/republish` (from helpdesk_runtime: re-publish the published log) |
| requester | nothing |
"""

from __future__ import annotations

from helpdesk_runtime.auth import Role, allow

READERS = (Role.AGENT, Role.SUPERVISOR, Role.INTEGRATOR)

#: Staff and integrators read; supervisors configure (POST /v1/policies/simulate included).
CONFIGURE = allow(read=READERS, write=(Role.SUPERVISOR,))
