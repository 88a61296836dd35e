"""Document in every service's OpenAPI the problem+json answers the runtime gives on any route."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from .problems import PROBLEM_BASE, PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}

#: RFC 9457 problem details with our `errors` extension (what `Problem.body()` returns).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ProblemDetails",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"},
                               "code": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

#: Why the runtime may answer each status on a route (by what the route takes): title, detail.
_GENERIC = {
    400: ("Malformed JSON", "The body is not valid JSON."),
    401: ("Unauthorized", "No valid bearer token (the answer carries `WWW-Authenticate: Bearer`)."),
    403: ("Forbidden", "The token's roles may not do this."),
    404: ("Not found", "Nothing found under this path."),
    413: ("Payload too large", "The body is over the size limit."),
    422: ("Validation failed", "A field is invalid (each one named in `errors`)."),
}
_METHODS = ("get", "put", "post", "delete", "patch")


def problem_content(status: int, title: str, detail: str) -> dict[str, Any]:
    """The `content` of a documented problem response, with an example."""
    example = {"type": PROBLEM_BASE + title.lower().replace(" ", "-"), "title": title,
               "status": status, "detail": detail}
    return {PROBLEM_JSON: {"schema": PROBLEM_REF, "example": example}}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _generic_codes(operation: dict[str, Any]) -> list[int]:
    parameters = operation.get("parameters", [])
    codes = []
    if operation.get("security"):
        codes += [401, 403]
    if any(p.get("in") == "path" for p in parameters):
        codes.append(404)
    if "requestBody" in operation:
        codes += [400, 413, 422]
    elif parameters:
        codes.append(422)
    return codes


def _document(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for code in _generic_codes(operation):
        responses.setdefault(str(code), {"description": _GENERIC[code][1]})
    for code, response in responses.items():
        if not code.isdigit() or code[0] not in "45":
            continue
        content = response.get("content")
        # FastAPI's default 422 says application/json HTTPValidationError; ours is problem+json.
        if not content or set(content) == {"application/json"}:
            status = int(code)
            title = _GENERIC[status][0] if status in _GENERIC else _phrase(status)
            response["content"] = problem_content(status, title, response.get("description", ""))


def with_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every route's possible problem responses declared, as problem+json."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ProblemDetails", PROBLEM_SCHEMA)
    for path_item in schema.get("paths", {}).values():
        for method in _METHODS:
            if method in path_item:
                _document(path_item[method])
    return schema


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` declare the problem+json answers (install after other openapi hooks)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
