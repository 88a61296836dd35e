"""Surveys across real processes: intake resolves a ticket, surveys sends and takes the answer.

Every test makes its own policy with a category of its own, so other tests' tickets (the
topics and the surveys service are shared by the session) are never surveyed by it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from helpdesk_events import topics
from helpdesk_events.codec import decode
from helpdesk_events.envelope import Envelope
from helpdesk_events.kafka import read_topic_from_start

from .conftest import System


async def eventually(probe: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    """Poll `probe` until it returns something truthy (or the timeout; then its last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.3)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def make_policy(
    http: httpx.AsyncClient, system: System, category: str, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": unique("e2e"),
        "trigger": "resolved",
        "questions": [{"kind": "csat"}],
        "delay_seconds": 0,
        "conditions": {"categories": [category]},
    }
    body.update(overrides)
    response = await http.post(f"{system.urls['surveys']}/v1/survey-policies", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def resolved_ticket(
    http: httpx.AsyncClient, system: System, category: str, requester: str, agent: str = "agent-e2e"
) -> str:
    """Create, assign and resolve a ticket through intake's API; returns its id."""
    intake = system.urls["intake"]
    created = await http.post(
        f"{intake}/v1/tickets",
        json={
            "subject": "Laptop will not boot",
            "requester": {"id": requester, "email": f"{requester}@example.com"},
            "channel": "chat",
            "type": "incident",
            "category": category,
        },
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    assigned = await http.post(
        f"{intake}/v1/tickets/{ticket_id}/assign",
        headers=system.auth("agent", "agent-e2e"),
        json={"team": "desk", "agent": agent, "reason": "e2e"},
    )
    assert assigned.status_code == 200, assigned.text
    resolved = await http.post(
        f"{intake}/v1/tickets/{ticket_id}/resolve", headers=system.auth("agent", "agent-e2e"),
        json={"resolution_code": "fixed"},
    )
    assert resolved.status_code == 200, resolved.text
    return ticket_id


async def surveys_of(
    http: httpx.AsyncClient, system: System, **params: str
) -> list[dict[str, Any]]:
    response = await http.get(f"{system.urls['surveys']}/v1/surveys", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def survey_events(system: System, kafka: str, survey_id: str, type_: str) -> list[Envelope]:
    records = await read_topic_from_start(kafka, topics.SURVEYS)
    found = (decode(r.value) for r in records)
    return [e for e in found if e.subject == survey_id and e.type == type_]


async def test_resolved_ticket_is_surveyed_and_the_answer_is_published(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    category = unique("e2e-flow")
    await make_policy(
        http, system, category, questions=[{"kind": "csat"}, {"kind": "nps"}], delay_seconds=2
    )
    ticket_id = await resolved_ticket(http, system, category, unique("req"))
    ticket = (await http.get(f"{system.urls['intake']}/v1/tickets/{ticket_id}")).json()

    async def sent() -> dict[str, Any] | None:
        items = await surveys_of(http, system, ticket_id=ticket_id, status="sent")
        return items[0] if items else None

    survey = await eventually(sent)
    assert survey, await surveys_of(http, system, ticket_id=ticket_id)
    assert survey["sent_at"] >= survey["due_at"]
    [sent_event] = await eventually(
        lambda: survey_events(system, kafka_bootstrap, survey["id"], "helpdesk.survey.sent.v1")
    )
    link = sent_event.data.link
    assert link.startswith(system.urls["surveys"] + "/s/")
    page = await http.get(link)
    assert page.status_code == 200 and "<form" in page.text

    token = link.rsplit("/", 1)[1]
    answered = await http.post(
        f"{system.urls['surveys']}/v1/surveys/{token}/responses",
        json={"answers": [{"kind": "csat", "score": 5}, {"kind": "nps", "score": 10}]},
    )
    assert answered.status_code == 201, answered.text
    [responded] = await eventually(
        lambda: survey_events(system, kafka_bootstrap, survey["id"], "helpdesk.survey.responded.v1")
    )
    data = responded.data
    assert str(data.ticket_id) == ticket_id
    assert (data.agent_id, data.team, data.channel, data.category) == (
        ticket["agent"],
        ticket["team"],
        "chat",
        category,
    )
    assert [(a.kind.value, a.score) for a in data.answers] == [("csat", 5), ("nps", 10)]

    reuse = await http.post(
        f"{system.urls['surveys']}/v1/surveys/{token}/responses",
        json={"answers": [{"kind": "csat", "score": 1}, {"kind": "nps", "score": 1}]},
    )
    assert reuse.status_code == 409


async def test_requester_with_two_tickets_in_the_throttle_window_gets_one_survey(
    system: System, http: httpx.AsyncClient
) -> None:
    category, requester = unique("e2e-throttle"), unique("req")
    await make_policy(http, system, category, throttle_days=30)
    first = await resolved_ticket(http, system, category, requester)
    assert await eventually(lambda: surveys_of(http, system, ticket_id=first))
    second = await resolved_ticket(http, system, category, requester)
    other = await resolved_ticket(http, system, category, unique("req"))
    # Another requester's later ticket is surveyed; give the throttled one's partition a moment.
    assert await eventually(lambda: surveys_of(http, system, ticket_id=other))
    await asyncio.sleep(1.0)
    assert await surveys_of(http, system, ticket_id=second) == []
    assert len(await surveys_of(http, system, requester_id=requester)) == 1


async def test_reopen_before_the_answer_cancels_the_survey(
    system: System, http: httpx.AsyncClient
) -> None:
    category = unique("e2e-reopen")
    await make_policy(http, system, category, delay_seconds=0)
    ticket_id = await resolved_ticket(http, system, category, unique("req"))
    survey = await eventually(lambda: surveys_of(http, system, ticket_id=ticket_id, status="sent"))
    assert survey
    reopened = await http.post(
        f"{system.urls['intake']}/v1/tickets/{ticket_id}/reopen",
        headers=system.auth("agent", "agent-e2e"),
        json={"reason": "still broken"},
    )
    assert reopened.status_code == 200, reopened.text
    assert await eventually(
        lambda: surveys_of(http, system, ticket_id=ticket_id, status="cancelled")
    )


async def test_expiry_fires_once_and_the_expired_link_answers_410(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    category = unique("e2e-expiry")
    await make_policy(http, system, category, expires_after_seconds=2)
    ticket_id = await resolved_ticket(http, system, category, unique("req"))
    [survey] = await eventually(
        lambda: surveys_of(http, system, ticket_id=ticket_id, status="expired")
    )
    [expired] = await eventually(
        lambda: survey_events(system, kafka_bootstrap, survey["id"], "helpdesk.survey.expired.v1")
    )
    assert expired.data.reason.value == "expired"
    [sent] = await survey_events(system, kafka_bootstrap, survey["id"], "helpdesk.survey.sent.v1")
    token = sent.data.link.rsplit("/", 1)[1]
    late = await http.post(
        f"{system.urls['surveys']}/v1/surveys/{token}/responses",
        json={"answers": [{"kind": "csat", "score": 3}]},
    )
    assert late.status_code == 410
    await asyncio.sleep(2.0)
    assert (
        len(
            await survey_events(system, kafka_bootstrap, survey["id"], "helpdesk.survey.expired.v1")
        )
        == 1
    )


async def test_agent_round_links_and_bad_requests_get_documented_4xx(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    base = system.urls["surveys"]
    opened = await http.post(
        f"{base}/v1/agent-surveys", json={"agents": [{"id": unique("agent"), "team": "desk"}]}
    )
    assert opened.status_code == 201, opened.text
    [entry] = opened.json()["surveys"]
    token = entry["link"].rsplit("/", 1)[1]
    url = f"{base}/v1/surveys/{token}/responses"
    tampered = ("B" if token[0] != "B" else "C") + token[1:]
    for response in [
        await http.post(
            f"{base}/v1/surveys/{tampered}/responses",
            json={"answers": [{"kind": "agent_satisfaction", "score": 3}]},
        ),
        await http.get(f"{base}/v1/surveys/{tampered}"),
        await http.get(f"{base}/s/{tampered}"),
    ]:
        assert response.status_code == 404
    for body in [
        {"answers": [{"kind": "agent_satisfaction", "score": 6}]},
        {"answers": [{"kind": "agent_satisfaction", "score": -1}]},
        {"answers": [{"kind": "csat", "score": 3}]},
        {"nonsense": True},
    ]:
        assert (await http.post(url, json=body)).status_code == 422, body
    assert (
        await http.post(url, json={"answers": [{"kind": "agent_satisfaction", "score": 4}]})
    ).status_code == 201
    assert (
        await http.post(url, json={"answers": [{"kind": "agent_satisfaction", "score": 4}]})
    ).status_code == 409
    [responded] = await eventually(
        lambda: survey_events(
            system, kafka_bootstrap, entry["survey_id"], "helpdesk.survey.responded.v1"
        )
    )
    assert responded.data.agent_id == entry["agent_id"] and responded.data.team == "desk"
