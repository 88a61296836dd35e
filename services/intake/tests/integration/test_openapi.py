"""The OpenAPI document: every endpoint with a summary, examples and problem+json errors."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from uuid import uuid4

from helpdesk_events.tickets import Actor, ActorRole, Channel, Requester, TicketType
from helpdesk.testing.auth import enabled_auth
from helpdesk_intake.app import create_app
from helpdesk_intake.config import IntakeSettings
from helpdesk_intake.domain import CreateTicket, decide, fold
from helpdesk_intake.docs import PROBLEMS
from helpdesk_intake.schemas import (
    Assignment,
    ChangeOutcome,
    CommandResult,
    CommentCreate,
    Escalation,
    EventView,
    MergeRequest,
    MergeResult,
    ProblemDetails,
    Reopen,
    ReplayResult,
    Resolution,
    StatusChange,
    TicketCreate,
    TicketPage,
    TicketPatch,
    TicketView,
    WorkLogCreate,
)
from helpdesk_intake.store import state_document

PROBLEM = "application/problem+json"


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in schema["paths"].items()
            if path.startswith("/v1/") for method, operation in item.items()]


def test_every_endpoint_is_documented_with_examples_and_problems() -> None:
    schema = create_app(IntakeSettings(database_url="sqlite+aiosqlite:///unused.db",
                                    auth=enabled_auth())).openapi()
    operations = _operations(schema)
    paths = {(method.upper(), path) for path, method, _ in operations}
    assert paths >= {
        ("POST", "/v1/tickets"), ("GET", "/v1/tickets"), ("GET", "/v1/tickets/{ticket_id}"),
        ("PATCH", "/v1/tickets/{ticket_id}"), ("GET", "/v1/tickets/{ticket_id}/events"),
        ("POST", "/v1/admin/replay"),
        *{("POST", f"/v1/tickets/{{ticket_id}}/{name}") for name in (
            "comments", "status", "assign", "escalate", "resolve", "reopen", "close",
            "worklogs", "merge", "change-outcome")},
    }
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        responses = operation["responses"]
        successes = [code for code in responses if code.startswith("2")]
        assert successes, where
        for code in successes:
            assert "example" in responses[code]["content"]["application/json"], (where, code)
        errors = [code for code in responses if code.startswith("4")]
        assert "422" in errors, where
        for code in errors:
            content = responses[code]["content"]
            assert list(content) == [PROBLEM], (where, code)
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
            assert content[PROBLEM]["example"]["status"] == int(code), (where, code)
        body = operation.get("requestBody")
        if body is not None:
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            assert schema["components"]["schemas"][ref].get("examples"), (where, ref)
    assert "ProblemDetails" in schema["components"]["schemas"]
    headers = {p["name"] for _, _, op in operations for p in op.get("parameters", [])
               if p["in"] == "header"}
    assert headers >= {"If-Match", "Idempotency-Key"}
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_the_documented_ticket_view_is_the_stored_document() -> None:
    ticket_id = uuid4()
    state = fold(decide(None, CreateTicket(
        ticket_id=ticket_id, number="HD-1001", subject="x", requester=Requester(id="u"),
        channel=Channel.EMAIL, type=TicketType.INCIDENT, by=Actor(id="u", role=ActorRole.AGENT),
    ), datetime.now(timezone.utc)))
    assert state is not None
    document = state_document(state)
    assert TicketView.model_validate(document).model_dump(mode="json").keys() == document.keys()


def test_every_documented_example_is_valid_for_its_schema() -> None:
    models = [TicketCreate, TicketPatch, CommentCreate, StatusChange, Assignment, Escalation,
              WorkLogCreate, Resolution, Reopen, MergeRequest, ChangeOutcome, TicketView,
              TicketPage, EventView, CommandResult, MergeResult, ReplayResult]
    for model in models:
        for example in model.model_config["json_schema_extra"]["examples"]:  # type: ignore[index]
            model.model_validate(example)
    for _, (_, example) in PROBLEMS.items():
        ProblemDetails.model_validate(example)
