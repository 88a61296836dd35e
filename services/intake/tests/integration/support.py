"""Helpers of the intake integration tests: a running app, a client, sample tickets."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from helpdesk_runtime.runtime import ServiceRuntime

#: Nothing listens here: tests without a broker must not publish to one a developer runs.
NO_BROKER = "127.0.0.1:1"

TICKET: dict[str, Any] = {
    "subject": "VPN drops every 10 minutes",
    "description": "Since this morning.",
    "requester": {"id": "u-1", "email": "ana@example.com", "name": "Ana", "org": "Finance"},
    "channel": "email",
    "type": "incident",
    "impact": "medium",
    "urgency": "high",
    "tags": ["VPN", "Remote"],
}


@dataclass
class Intake:
    """A running intake app and a client for it."""

    app: FastAPI
    http: httpx.AsyncClient

    @property
    def runtime(self) -> ServiceRuntime:
        """The app's runtime (engine, relay, ...)."""
        return self.app.state.runtime  # type: ignore[no-any-return]

    async def create(self, **fields: Any) -> dict[str, Any]:
        """Create a ticket (TICKET with `fields` on top); return its document."""
        response = await self.http.post("/v1/tickets", json={**TICKET, **fields})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def command(self, ticket_id: str, name: str, body: Any = None, *,
                      expect: int = 200, **headers: str) -> dict[str, Any]:
        """POST a command; assert the status; return the JSON body."""
        response = await self.http.post(f"/v1/tickets/{ticket_id}/{name}", json=body,
                                        headers=headers)
        assert response.status_code == expect, response.text
        return response.json()  # type: ignore[no-any-return]

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        """GET the ticket."""
        response = await self.http.get(f"/v1/tickets/{ticket_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def events(self, ticket_id: str) -> list[dict[str, Any]]:
        """GET the ticket's history."""
        response = await self.http.get(f"/v1/tickets/{ticket_id}/events")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]



MakeIntake = Callable[..., AbstractAsyncContextManager[Intake]]


def problem_fields(response: httpx.Response) -> list[str]:
    """The fields a problem+json response names (asserting it is one)."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body["status"] == response.status_code
    return [error["field"] for error in body.get("errors", [])]
