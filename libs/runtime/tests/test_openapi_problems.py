"""Every route's OpenAPI declares the problem+json answers the runtime may give it."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from helpdesk_runtime.auth import CurrentPrincipal
from helpdesk_runtime.openapi import document_problems
from helpdesk_runtime.problems import PROBLEM_JSON


class Thing(BaseModel):
    name: str


def make_app() -> FastAPI:
    app = FastAPI()

    @app.put("/things/{thing_id}", responses={409: {"description": "Taken"}})
    async def put_thing(thing_id: str, thing: Thing, principal: CurrentPrincipal) -> Thing:
        return thing

    @app.get("/open")
    async def open_route() -> dict[str, str]:
        return {}

    document_problems(app)
    return app


def test_problems_are_declared_by_what_a_route_takes() -> None:
    schema = make_app().openapi()
    put = schema["paths"]["/things/{thing_id}"]["put"]["responses"]
    assert set(put) == {"200", "400", "401", "403", "404", "409", "413", "422"}
    for code in set(put) - {"200"}:
        content = put[code]["content"]
        assert list(content) == [PROBLEM_JSON], code
        assert content[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
        assert content[PROBLEM_JSON]["example"]["status"] == int(code)
    assert set(schema["paths"]["/open"]["get"]["responses"]) == {"200"}
    assert "ProblemDetails" in schema["components"]["schemas"]
