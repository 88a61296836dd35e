"""The authorization matrix: every endpoint of every service x every role (and no token).

The expected answers below are the README's table. Routes are enumerated from each app, so
an endpoint without an entry here fails the test (and so does an entry without a route).
Apps run in-process on SQLite with no reachable broker: this is about who may call what,
not about what the calls do. Allowed callers only have to get past authentication and the
role check (any answer but 401/403); placeholder ids and empty bodies keep calls harmless.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, Route

from helpdesk.testing.auth import bearer, enabled_auth
from helpdesk_runtime.settings import KafkaSettings

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: Nothing listens here (the tests never need the broker).
NO_BROKER = "127.0.0.1:1"
#: Every path parameter takes this value; the supervisor's token lists it as a team.
PLACEHOLDER = "00000000-0000-4000-8000-00000000a11d"

ROLES = ("requester", "agent", "supervisor", "admin", "integrator")
PUBLIC = frozenset({"anonymous", *ROLES})
EVERYONE = frozenset(ROLES)
READ = frozenset({"agent", "supervisor", "admin", "integrator"})
PARTIES = frozenset({"requester", "agent", "supervisor", "admin"})
STAFF = frozenset({"agent", "supervisor", "admin"})
SUPERVISE = frozenset({"supervisor", "admin"})
SCRAPE = frozenset({"supervisor", "admin", "integrator"})
ADMIN = frozenset({"admin"})

Matrix = dict[tuple[str, str], frozenset[str]]

COMMON: Matrix = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): SCRAPE,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
}

MATRIX: dict[str, Matrix] = {
    "intake": {
        ("POST", "/v1/tickets"): PARTIES,
        ("GET", "/v1/tickets"): EVERYONE,
        ("GET", "/v1/tickets/{ticket_id}"): EVERYONE,
        ("PATCH", "/v1/tickets/{ticket_id}"): STAFF,
        ("GET", "/v1/tickets/{ticket_id}/events"): EVERYONE,
        ("POST", "/v1/tickets/{ticket_id}/comments"): PARTIES,
        ("POST", "/v1/tickets/{ticket_id}/reopen"): PARTIES,
        ("POST", "/v1/tickets/{ticket_id}/close"): PARTIES,
        ("POST", "/v1/tickets/{ticket_id}/status"): STAFF,
        ("POST", "/v1/tickets/{ticket_id}/assign"): STAFF,
        ("POST", "/v1/tickets/{ticket_id}/escalate"): STAFF,
        ("POST", "/v1/tickets/{ticket_id}/resolve"): STAFF,
        ("POST", "/v1/tickets/{ticket_id}/worklogs"): STAFF,
        ("POST", "/v1/tickets/{ticket_id}/change-outcome"): STAFF,
        ("POST", "/v1/tickets/{ticket_id}/merge"): STAFF,
        ("POST", "/v1/admin/replay"): ADMIN,
        # Every publisher has it (helpdesk_runtime.republish); intake answers 409: it replays.
        ("POST", "/v1/admin/republish"): ADMIN,
    },
    "routing": {
        ("GET", "/v1/teams"): READ,
        ("POST", "/v1/teams"): SUPERVISE,
        ("GET", "/v1/teams/{team_id}"): READ,
        ("PUT", "/v1/teams/{team_id}"): SUPERVISE,
        ("DELETE", "/v1/teams/{team_id}"): SUPERVISE,
        ("GET", "/v1/agents"): READ,
        ("POST", "/v1/agents"): SUPERVISE,
        ("GET", "/v1/agents/{agent_id}"): READ,
        ("PUT", "/v1/agents/{agent_id}"): SUPERVISE,
        ("DELETE", "/v1/agents/{agent_id}"): SUPERVISE,
        ("PUT", "/v1/agents/{agent_id}/status"): STAFF,
        ("GET", "/v1/rules"): READ,
        ("POST", "/v1/rules"): SUPERVISE,
        ("GET", "/v1/rules/{rule_id}"): READ,
        ("PUT", "/v1/rules/{rule_id}"): SUPERVISE,
        ("DELETE", "/v1/rules/{rule_id}"): SUPERVISE,
        ("POST", "/v1/route/preview"): STAFF,
        ("GET", "/v1/tickets/{ticket_id}/routing"): READ,
        ("POST", "/v1/tickets/{ticket_id}/transfer"): STAFF,
        ("POST", "/v1/admin/republish"): ADMIN,
    },
    "sla": {
        ("GET", "/v1/calendars"): READ,
        ("POST", "/v1/calendars"): SUPERVISE,
        ("GET", "/v1/calendars/{calendar_id}"): READ,
        ("PUT", "/v1/calendars/{calendar_id}"): SUPERVISE,
        ("DELETE", "/v1/calendars/{calendar_id}"): SUPERVISE,
        ("GET", "/v1/policies"): READ,
        ("POST", "/v1/policies"): SUPERVISE,
        ("GET", "/v1/policies/{policy_id}"): READ,
        ("PUT", "/v1/policies/{policy_id}"): SUPERVISE,
        ("DELETE", "/v1/policies/{policy_id}"): SUPERVISE,
        ("POST", "/v1/policies/simulate"): SUPERVISE,
        ("GET", "/v1/tickets/{ticket_id}/sla"): READ,
        ("GET", "/v1/breaches"): READ,
        ("POST", "/v1/admin/republish"): ADMIN,
    },
    "surveys": {
        ("GET", "/v1/survey-policies"): READ,
        ("POST", "/v1/survey-policies"): SUPERVISE,
        ("GET", "/v1/survey-policies/{policy_id}"): READ,
        ("PUT", "/v1/survey-policies/{policy_id}"): SUPERVISE,
        ("DELETE", "/v1/survey-policies/{policy_id}"): SUPERVISE,
        ("GET", "/v1/surveys"): READ,
        ("POST", "/v1/agent-surveys"): SUPERVISE,
        ("GET", "/v1/surveys/{token}"): PUBLIC,
        ("POST", "/v1/surveys/{token}/responses"): PUBLIC,
        ("GET", "/s/{token}"): PUBLIC,
        ("POST", "/s/{token}"): PUBLIC,
        ("POST", "/v1/admin/republish"): ADMIN,
    },
    "metrics": {
        ("GET", "/v1/kpis"): READ,
        ("GET", "/v1/kpis/series"): READ,
        ("GET", "/v1/kpis/{name}"): READ,
        ("GET", "/v1/kpis/{name}/breakdown"): READ,
        ("GET", "/v1/agents/performance"): SCRAPE,
        ("GET", "/v1/targets"): READ,
        ("PUT", "/v1/targets/{name}"): SUPERVISE,
        ("PUT", "/v1/cost-model"): SUPERVISE,
        ("PUT", "/v1/scorecard/baseline"): SUPERVISE,
        ("GET", "/v1/scorecard"): READ,
        ("GET", "/v1/scorecard/baseline"): READ,
        ("POST", "/v1/admin/rebuild"): ADMIN,
        ("GET", "/v1/backlog/forecast"): READ,
    },
}

#: The ops dashboard (page and assets) is public; its API calls carry the token.
PUBLIC_PREFIXES: dict[str, tuple[str, ...]] = {"metrics": ("/dashboard",)}


def _factories() -> dict[str, Callable[[dict[str, Any]], FastAPI]]:
    from helpdesk_intake.app import create_app as intake
    from helpdesk_intake.config import IntakeSettings
    from helpdesk_metrics.app import create_app as metrics
    from helpdesk_metrics.config import MetricsSettings
    from helpdesk_routing.app import create_app as routing
    from helpdesk_routing.config import RoutingSettings
    from helpdesk_sla.app import create_app as sla
    from helpdesk_sla.config import SlaSettings
    from helpdesk_surveys.app import create_app as surveys
    from helpdesk_surveys.config import SurveysSettings

    return {
        "intake": lambda s: intake(IntakeSettings(**s)),
        "routing": lambda s: routing(RoutingSettings(**s)),
        "sla": lambda s: sla(SlaSettings(**s)),
        "surveys": lambda s: surveys(SurveysSettings(**s), run_jobs=False),
        "metrics": lambda s: metrics(MetricsSettings(**s, gauge_refresh_seconds=0)),
    }


@dataclass
class Running:
    app: FastAPI
    http: httpx.AsyncClient


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Running]]:
    """The five apps, auth on with the test secret, one each for the whole module."""
    folder: Path = tmp_path_factory.mktemp("matrix")
    running: dict[str, Running] = {}
    managers = []
    try:
        for name, factory in _factories().items():
            app = factory({
                "database_url": f"sqlite+aiosqlite:///{folder / name}.db", "log_json": False,
                "log_level": "WARNING", "kafka": KafkaSettings(bootstrap_servers=NO_BROKER),
                "auth": enabled_auth(),
            })
            manager = LifespanManager(app, startup_timeout=60)
            await manager.__aenter__()
            managers.append(manager)
            transport = httpx.ASGITransport(app, raise_app_exceptions=False)
            running[name] = Running(app, httpx.AsyncClient(transport=transport, base_url="http://t"))
        yield running
    finally:
        for service in running.values():
            await service.http.aclose()
        for manager in reversed(managers):
            await manager.__aexit__(None, None, None)


def _routes(app: FastAPI) -> tuple[set[tuple[str, str]], list[str]]:
    """(method, path template) of every endpoint, and the paths of mounted sub-apps."""
    endpoints, mounts = set(), []
    for context in iter_route_contexts(app.routes):  # flattens included routers
        if isinstance(context.original_route, Route):
            endpoints |= {(m, context.path) for m in context.methods or () if m != "HEAD"}
        elif isinstance(context.original_route, Mount):
            mounts.append(context.path)
    return endpoints, mounts


def _expected(service: str, method: str, path: str) -> frozenset[str] | None:
    if path.startswith(PUBLIC_PREFIXES.get(service, ("\0",))):
        return PUBLIC
    return {**COMMON, **MATRIX[service]}.get((method, path))


def _headers(caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    return bearer(caller, f"matrix-{caller}", teams=[PLACEHOLDER] if caller == "supervisor" else ())


@pytest.mark.parametrize("service", list(MATRIX))
async def test_every_endpoint_has_a_matrix_entry_and_every_entry_an_endpoint(
    services: dict[str, Running], service: str,
) -> None:
    endpoints, mounts = _routes(services[service].app)
    unlisted = sorted(e for e in endpoints if _expected(service, *e) is None)
    assert not unlisted, f"add these {service} endpoints to the matrix (and the README): {unlisted}"
    stale = sorted(set(MATRIX[service]) - endpoints)
    assert not stale, f"matrix entries without an endpoint in {service}: {stale}"
    for mount in mounts:
        assert _expected(service, "GET", mount) is PUBLIC, f"mounted {mount} is not in the matrix"


@pytest.mark.parametrize("service", list(MATRIX))
async def test_every_endpoint_answers_every_role_as_the_matrix_says(
    services: dict[str, Running], service: str,
) -> None:
    running = services[service]
    endpoints, mounts = _routes(running.app)
    calls = sorted(endpoints) + [("GET", f"{m}/matrix-probe") for m in mounts]
    wrong = []
    lock = getattr(running.app.state, "rebuild_lock", None)
    if lock is not None:
        await lock.acquire()  # an admin's rebuild then answers 409 instead of replaying topics
    try:
        for method, template in calls:
            allowed = _expected(service, method, template) or PUBLIC
            path = template
            while "{" in path:
                start = path.index("{")
                path = path[:start] + PLACEHOLDER + path[path.index("}", start) + 1:]
            for caller in ("anonymous", *ROLES):
                body = {} if method in ("POST", "PUT", "PATCH") else None
                response = await running.http.request(method, path, json=body, headers=_headers(caller))
                got = response.status_code
                if caller not in allowed:
                    want = 401 if caller == "anonymous" else 403
                    if got != want or not _is_problem(response, want):
                        wrong.append(f"{caller:<10} {method} {template}: {got}, expected {want}")
                elif got in (401, 403):
                    wrong.append(f"{caller:<10} {method} {template}: {got}, expected access")
    finally:
        if lock is not None:
            lock.release()
    assert not wrong, "\n".join(wrong)


def _is_problem(response: httpx.Response, status: int) -> bool:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    if status == 401 and not response.headers.get("www-authenticate", "").startswith("Bearer"):
        return False
    return bool(response.json().get("status") == status)
