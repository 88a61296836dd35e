"""Who may do what in surveys (one rule per router; survey policies have no team).

| who | may |
|---|---|
| anybody with a link | read and answer that survey (`/v1/surveys/{token}`, `/s/{token}`): the signed link is the credential |
| agent, integrator | list surveys and policies |
| supervisor | also create/replace/delete survey policies, open agent-satisfaction rounds |
| admin | everything, incl. `POST /v1/admin/republish` (from helpdesk_runtime: re-publish the published log) |
| requester | nothing else |
"""

from __future__ import annotations

from helpdesk_runtime.auth import Role, allow

READERS = (Role.AGENT, Role.SUPERVISOR, Role.INTEGRATOR)

#: Staff and integrators read; supervisors configure.
CONFIGURE = allow(read=READERS, write=(Role.SUPERVISOR,))
