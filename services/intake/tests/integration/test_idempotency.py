"""Idempotency-Key: one effect per key, the first response replayed, another body refused."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from helpdesk_intake.tables import tickets

from .support import TICKET, Intake, problem_fields


async def _ticket_count(intake: Intake) -> int:
    async with intake.runtime.reader.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(tickets)) or 0)


async def test_the_same_post_twice_with_one_key_creates_one_ticket(intake: Intake) -> None:
    headers = {"Idempotency-Key": "create-vpn-1"}
    first = await intake.http.post("/v1/tickets", json=TICKET, headers=headers)
    again = await intake.http.post("/v1/tickets", json=TICKET, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _ticket_count(intake) == 1


async def test_the_same_key_with_another_body_is_refused(intake: Intake) -> None:
    headers = {"Idempotency-Key": "create-vpn-2"}
    first = await intake.http.post("/v1/tickets", json=TICKET, headers=headers)
    other = await intake.http.post("/v1/tickets", json={**TICKET, "subject": "Other"},
                                   headers=headers)
    assert first.status_code == 201
    assert other.status_code == 422
    assert problem_fields(other) == ["header.Idempotency-Key"]
    assert await _ticket_count(intake) == 1


async def test_concurrent_posts_with_one_key_create_one_ticket(intake: Intake) -> None:
    headers = {"Idempotency-Key": "create-vpn-3"}
    responses = await asyncio.gather(*(
        intake.http.post("/v1/tickets", json=TICKET, headers=headers) for _ in range(10)
    ))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await _ticket_count(intake) == 1


async def test_a_command_retried_with_its_key_takes_effect_once(intake: Intake) -> None:
    ticket = await intake.create()
    url = f"/v1/tickets/{ticket['id']}/comments"
    headers = {"Idempotency-Key": "comment-1"}
    responses = await asyncio.gather(*(
        intake.http.post(url, json={"body": "On it."}, headers=headers) for _ in range(5)
    ))
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["events"][0]["id"] for r in responses}) == 1
    assert (await intake.ticket(ticket["id"]))["comment_count"] == 1
    elsewhere = await intake.http.post(f"/v1/tickets/{ticket['id']}/worklogs",
                                       json={"seconds": 60, "kind": "talk"}, headers=headers)
    assert elsewhere.status_code == 422


async def test_an_oversized_key_is_refused(intake: Intake) -> None:
    response = await intake.http.post("/v1/tickets", json=TICKET,
                                      headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 422
    assert problem_fields(response) == ["header.Idempotency-Key"]
