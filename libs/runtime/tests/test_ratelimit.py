"""Per-client budgets: 429 problem+json with Retry-After, other clients unaffected, windows end."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import Depends, FastAPI, Request

from helpdesk_runtime.auth import ANONYMOUS_ADMIN, Principal, Role
from helpdesk_runtime.problems import install_problem_handlers
from helpdesk_runtime.ratelimit import RateLimit, install_rate_limits, rate_limited


async def as_caller(request: Request) -> None:
    """Stands in for authentication: the `X-Sub` header names the caller."""
    subject = request.headers.get("x-sub")
    request.state.principal = (
        Principal(subject=subject, roles=frozenset({Role.REQUESTER})) if subject else ANONYMOUS_ADMIN
    )


def make_app(amount: int, window_seconds: int = 60) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_rate_limits(app, RateLimit("things", amount, window_seconds=window_seconds))

    @app.post("/things", dependencies=[Depends(as_caller), rate_limited("things")])
    async def create() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/free")
    async def free() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def client(app: FastAPI, address: str = "10.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app, client=(address, 5000)),
                             base_url="http://t")


async def test_a_burst_over_the_limit_gets_429_problem_with_retry_after() -> None:
    async with client(make_app(3)) as http:
        statuses = [(await http.post("/things")).status_code for _ in range(3)]
        refused = await http.post("/things")
        assert statuses == [200, 200, 200]
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["title"] == "Too many requests"
        assert (await http.get("/free")).status_code == 200


async def test_other_clients_keep_their_own_budget() -> None:
    app = make_app(1)
    async with client(app, "10.0.0.1") as first, client(app, "10.0.0.2") as second:
        assert (await first.post("/things")).status_code == 200
        assert (await first.post("/things")).status_code == 429
        assert (await second.post("/things")).status_code == 200
        # Authenticated callers are counted by subject, whatever their address.
        assert (await first.post("/things", headers={"x-sub": "ana"})).status_code == 200
        assert (await second.post("/things", headers={"x-sub": "ana"})).status_code == 429
        assert (await second.post("/things", headers={"x-sub": "bob"})).status_code == 200


async def test_requests_pass_again_after_the_window() -> None:
    async with client(make_app(1, window_seconds=1)) as http:
        assert (await http.post("/things")).status_code == 200
        refused = await http.post("/things")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        await asyncio.sleep(1.1)
        assert (await http.post("/things")).status_code == 200


async def test_zero_switches_the_limit_off() -> None:
    async with client(make_app(0)) as http:
        assert {(await http.post("/things")).status_code for _ in range(20)} == {200}
