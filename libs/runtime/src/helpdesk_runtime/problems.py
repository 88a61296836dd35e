"""RFC 9457 problem details: every error a service returns has this shape."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://helpdesk.dev/problems/"

log = logging.getLogger("helpdesk.problems")


class Problem(Exception):
    """An error to return as problem+json; raise it from routes or domain adapters."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type or PROBLEM_BASE + title.lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The JSON document of RFC 9457 with our `errors` extension."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


def field_error(field: str, message: str, code: str = "invalid") -> dict[str, str]:
    """One entry of a problem's `errors` list: which field, what is wrong."""
    return {"field": field, "message": message, "code": code}


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    """Render a Problem as a response with the problem+json media type."""
    instance = request.url.path if request is not None else None
    return JSONResponse(
        problem.body(instance), status_code=problem.status, media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes the location with where it came from (body, query, path, header).
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1:
        return f"{parts[0]}.{'.'.join(parts[1:])}" if parts[0] != "body" else ".".join(parts[1:])
    return ".".join(parts)


def validation_problem(exc: RequestValidationError) -> Problem:
    """Turn FastAPI's validation errors into a 400/422 problem naming each field."""
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return Problem(
            400, "Malformed JSON", "The request body is not valid JSON.",
            errors=[field_error("body", str(e.get("msg")), "json_invalid") for e in errors],
        )
    return Problem(
        422,
        "Validation failed",
        "; ".join(f"{_field_path(tuple(e['loc']))}: {e['msg']}" for e in errors[:5]),
        errors=[field_error(_field_path(tuple(e["loc"])), e["msg"], e["type"]) for e in errors],
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error, including unexpected ones, a problem+json response."""

    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc), request)

    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        # FastAPI answers 400 itself for a body it cannot parse: name the body as the culprit.
        errors = [field_error("body", detail or title, "unparseable")] if exc.status_code == 400 else None
        return problem_response(
            Problem(exc.status_code, title, detail, errors=errors, headers=getattr(exc, "headers", None)),
            request,
        )

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and not isinstance(exc, OperationalError) and not exc.connection_invalidated:
            return await on_unexpected(request, exc)
        log.warning("database unavailable: %s", exc)
        return problem_response(
            Problem(503, "Service unavailable", "The database is unreachable; retry shortly.",
                    headers={"Retry-After": "2"}),
            request,
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            Problem(500, "Internal server error", "An unexpected error occurred; it has been logged."),
            request,
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_database_down)
    app.add_exception_handler(ConnectionError, on_database_down)
    app.add_exception_handler(Exception, on_unexpected)
