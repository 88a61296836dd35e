"""Request bodies over the limit are refused with 413 problem+json, with or without Content-Length."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request
from pydantic import BaseModel

from helpdesk_runtime.app import BodySizeLimit
from helpdesk_runtime.problems import install_problem_handlers


class Thing(BaseModel):
    name: str


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app.add_middleware(BodySizeLimit, max_bytes=1000)
    return app


async def chunks(count: int, size: int = 300) -> AsyncIterator[bytes]:
    """A chunked body: httpx sends it without Content-Length."""
    yield b'{"name": "'
    for _ in range(count):
        yield b"x" * size
    yield b'"}'


async def test_chunked_bodies_over_the_limit_are_413_problems() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(make_app()), base_url="http://t") as http:
        for path in ("/things", "/raw"):
            response = await http.post(path, content=chunks(5),
                                       headers={"content-type": "application/json"})
            assert response.status_code == 413, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["title"] == "Payload too large"


async def test_chunked_bodies_under_the_limit_pass() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(make_app()), base_url="http://t") as http:
        response = await http.post("/things", content=chunks(2),
                                   headers={"content-type": "application/json"})
        assert response.status_code == 200 and len(response.json()["name"]) == 600
