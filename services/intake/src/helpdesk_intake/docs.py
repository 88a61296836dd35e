"""OpenAPI documentation helpers: problem+json responses with examples, success examples."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from helpdesk_runtime.problems import PROBLEM_JSON

from .examples import TICKET_ID
from .schemas import FieldError, ProblemDetails

_BASE = "https://helpdesk.dev/problems/"
_PATH = f"/v1/tickets/{TICKET_ID}"

PROBLEMS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("The body is not valid JSON.", {
        "type": _BASE + "malformed-json", "title": "Malformed JSON", "status": 400,
        "detail": "The request body is not valid JSON.", "instance": "/v1/tickets",
        "errors": [{"field": "body", "message": "JSON decode error", "code": "json_invalid"}],
    }),
    401: ("No valid bearer token (the answer carries `WWW-Authenticate: Bearer`).", {
        "type": _BASE + "unauthorized", "title": "Unauthorized", "status": 401,
        "detail": "A bearer token is required.", "instance": "/v1/tickets",
    }),
    403: ("The token's role may not do this (e.g. a requester creating for somebody else).", {
        "type": _BASE + "forbidden", "title": "Forbidden", "status": 403,
        "detail": "Requesters can only create tickets for themselves.", "instance": "/v1/tickets",
    }),
    404: ("No such ticket.", {
        "type": _BASE + "not-found", "title": "Not found", "status": 404,
        "detail": f"ticket {TICKET_ID} not found", "instance": _PATH,
    }),
    409: ("The ticket's status forbids the command, or it is closed (create a follow-up).", {
        "type": _BASE + "illegal-transition", "title": "Illegal transition", "status": 409,
        "detail": "cannot move from new to closed; allowed: open, pending, on_hold, resolved",
        "instance": _PATH + "/close", "current": "new", "requested": "closed",
        "allowed": ["open", "pending", "on_hold", "resolved"],
        "errors": [{"field": "status", "message": "cannot move from new to closed",
                    "code": "illegal_transition"}],
    }),
    412: ("If-Match names a version that is no longer current.", {
        "type": _BASE + "precondition-failed", "title": "Precondition failed", "status": 412,
        "detail": "ticket is at version 4, not 3", "instance": _PATH, "current_version": 4,
        "errors": [{"field": "header.If-Match", "message": "ticket is at version 4, not 3",
                    "code": "stale_version"}],
    }),
    413: ("The body is over the size limit.", {
        "type": _BASE + "payload-too-large", "title": "Payload too large", "status": 413,
        "detail": "Request bodies are limited to 1048576 bytes.",
    }),
    422: ("A field is invalid (each one named in `errors`).", {
        "type": _BASE + "validation-failed", "title": "Validation failed", "status": 422,
        "detail": "subject: String should have at most 200 characters", "instance": "/v1/tickets",
        "errors": [{"field": "subject", "message": "String should have at most 200 characters",
                    "code": "string_too_long"}],
    }),
}
PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given problem status codes (problem+json with an example)."""
    return {
        code: {
            "description": PROBLEMS[code][0],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF, "example": PROBLEMS[code][1]}},
        }
        for code in codes
    }


def success(code: int, description: str, example: Any, **headers: str) -> dict[int | str, Any]:
    """A `responses=` entry documenting a success with its example and headers."""
    entry: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"example": example}},
    }
    if headers:
        entry["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
        }
    return {code: entry}


def install(app: FastAPI) -> None:
    """Add the ProblemDetails schema the problem responses refer to."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        ref = "#/components/schemas/{model}"
        components["FieldError"] = FieldError.model_json_schema(ref_template=ref)
        problem = ProblemDetails.model_json_schema(ref_template=ref)
        problem.pop("$defs", None)
        components["ProblemDetails"] = problem
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
