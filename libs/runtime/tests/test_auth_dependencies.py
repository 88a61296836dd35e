"""The auth dependencies on a FastAPI app: who gets through, and what the OpenAPI shows."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends, FastAPI
from pydantic import SecretStr

from helpdesk_runtime.auth import (
    AuthSettings, Caller, Role, TokenVerifier, allow, authenticate, mint_token,
)
from helpdesk_runtime.problems import install_problem_handlers

SETTINGS = AuthSettings(secret=SecretStr("x" * 40))


def bearer(role: Role, subject: str = "u-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SETTINGS, subject, [role])}"}


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(SETTINGS)
    install_problem_handlers(app)
    guarded = APIRouter(dependencies=[allow(read=(Role.REQUESTER,), write=(Role.AGENT,))])

    @guarded.get("/things")
    async def read_things(caller: Caller) -> dict[str, str]:
        return {"subject": caller.subject}

    @guarded.post("/things")
    async def add_thing(caller: Caller) -> dict[str, str]:
        return {"subject": caller.subject}

    app.include_router(guarded, prefix="/authenticated", dependencies=[Depends(authenticate)])
    app.include_router(guarded, prefix="/bare")
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t")


async def test_allow_and_caller_answer_401_403_or_the_caller_on_an_authenticated_router() -> None:
    async with client(make_app()) as http:
        missing = await http.post("/authenticated/things")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert missing.headers["content-type"] == "application/problem+json"
        refused = await http.post("/authenticated/things", headers=bearer(Role.REQUESTER))
        assert refused.status_code == 403
        assert "agent" in refused.json()["detail"]
        read = await http.get("/authenticated/things", headers=bearer(Role.REQUESTER, "r-1"))
        assert read.json() == {"subject": "r-1"}
        written = await http.post("/authenticated/things", headers=bearer(Role.AGENT, "a-1"))
        assert written.json() == {"subject": "a-1"}


async def test_allow_and_caller_authenticate_themselves_where_the_router_does_not() -> None:
    async with client(make_app()) as http:
        assert (await http.get("/bare/things")).status_code == 401
        assert (await http.get("/bare/things", headers={"Authorization": "Bearer nonsense"})
                ).status_code == 401
        assert (await http.post("/bare/things", headers=bearer(Role.REQUESTER))).status_code == 403
        read = await http.get("/bare/things", headers=bearer(Role.REQUESTER, "r-1"))
        assert read.json() == {"subject": "r-1"}


async def test_a_token_is_verified_once_per_request_however_many_dependencies_ask() -> None:
    app = make_app()
    verifier: TokenVerifier = app.state.token_verifier
    calls: list[str] = []
    verify = verifier.verify

    def counting(token: str):  # type: ignore[no-untyped-def]
        calls.append(token)
        return verify(token)

    verifier.verify = counting  # type: ignore[method-assign]
    async with client(app) as http:
        await http.post("/authenticated/things", headers=bearer(Role.AGENT))
        await http.post("/bare/things", headers=bearer(Role.AGENT))
    assert len(calls) == 2


def test_routes_of_an_authenticated_router_show_the_bearer_scheme() -> None:
    schema = make_app().openapi()
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    for method in ("get", "post"):
        assert schema["paths"]["/authenticated/things"][method]["security"] == [{"HTTPBearer": []}]
