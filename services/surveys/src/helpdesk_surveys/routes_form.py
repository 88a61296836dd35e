"""`/s/{token}`: the HTML survey form for requesters (form posts, no JavaScript)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from helpdesk_runtime.problems import Problem
from helpdesk_runtime.ratelimit import TOO_MANY_REQUESTS, rate_limited

from . import answering
from .domain.lifecycle import Given
from .forms import form_page, message_page, parse_scores
from .store import questions_of

router = APIRouter(tags=["survey form"], include_in_schema=True,
                   dependencies=[rate_limited("survey_link")], responses=TOO_MANY_REQUESTS)

_TITLES = {
    404: "Survey not found",
    409: "Thanks, we have your answer",
    410: "This survey has closed",
}
_TEXTS = {
    404: "This survey link is not valid. Please use the link from your message exactly as sent.",
    409: "This survey was answered already. Each link can be used once.",
    410: "This survey is no longer open for answers.",
}
_HTML = {"text/html": {"schema": {"type": "string"}}}
#: These answers are pages for people, not problem+json.
_PAGES: dict[int | str, dict[str, Any]] = {
    status: {"description": title, "content": _HTML} for status, title in _TITLES.items()
}


def _problem_page(problem: Problem) -> HTMLResponse:
    status = problem.status
    return HTMLResponse(
        message_page(
            _TITLES.get(status, "Something went wrong"),
            _TEXTS.get(status, problem.detail or problem.title),
        ),
        status_code=status,
    )


@router.get("/s/{token}", response_class=HTMLResponse, summary="The survey form (HTML)",
            responses=_PAGES)
async def show_form(token: str, request: Request) -> HTMLResponse:
    settings, now = request.app.state.settings, request.app.state.clock()
    try:
        async with request.app.state.runtime.reader.connect() as conn:
            row = await answering.open_survey(conn, settings, token, now)
    except Problem as problem:
        return _problem_page(problem)
    return HTMLResponse(form_page(f"/s/{token}", questions_of(row)))


@router.post(
    "/s/{token}", response_class=HTMLResponse, summary="Submit the survey form (HTML)",
    responses={**_PAGES, 422: {"description": "The form again, errors marked", "content": _HTML}},
)
async def submit_form(token: str, request: Request) -> HTMLResponse:
    settings, now = request.app.state.settings, request.app.state.clock()
    raw = (await request.body()).decode("utf-8", errors="replace")
    form = {k: v[0] for k, v in parse_qs(raw, max_num_fields=20).items()}
    comment = form.get("comment")
    try:
        async with request.app.state.runtime.engine.begin() as conn:
            row = await answering.open_survey(conn, settings, token, now)
            questions = questions_of(row)
            scores, errors = parse_scores(form, questions)
            if errors:
                return HTMLResponse(
                    form_page(f"/s/{token}", questions, form, errors), status_code=422
                )
            given = [Given(kind=k, score=s) for k, s in scores]
            try:
                await answering.answer(conn, settings, token, given, comment, now)
            except Problem as problem:
                if problem.status != 422:
                    raise
                errors = {e["field"]: e["message"] for e in problem.errors or []}
                return HTMLResponse(
                    form_page(f"/s/{token}", questions, form, errors), status_code=422
                )
    except Problem as problem:
        return _problem_page(problem)
    request.app.state.runtime.wake_relay()
    return HTMLResponse(message_page("Thank you!", "Your answer has been recorded."))
