"""Ticket numbers: allocated in order, and the same in the response, read model, history and outbox."""

from __future__ import annotations

import orjson
import pytest
import sqlalchemy as sa

from helpdesk_intake import store
from helpdesk_intake.tables import outbox

from .support import Intake


async def _published_numbers(intake: Intake) -> dict[str, str]:
    async with intake.runtime.engine.connect() as conn:
        values = (await conn.execute(sa.select(outbox.c.value))).scalars().all()
    documents = [orjson.loads(value) for value in values]
    return {d["subject"]: d["data"]["number"] for d in documents if d["type"].endswith("created.v1")}


async def _check_number_everywhere(intake: Intake, ticket: dict[str, str]) -> None:
    assert (await intake.ticket(ticket["id"]))["number"] == ticket["number"]
    [created] = await intake.events(ticket["id"])
    assert created["data"]["number"] == ticket["number"]
    listed = (await intake.http.get("/v1/tickets", params={"q": ticket["subject"]})).json()
    assert [t["number"] for t in listed["items"]] == [ticket["number"]]
    assert (await _published_numbers(intake))[ticket["id"]] == ticket["number"]


async def test_numbers_count_up_and_every_copy_of_the_ticket_carries_its_number(
    intake: Intake,
) -> None:
    first = await intake.create(subject="First of two")
    second = await intake.create(subject="Second of two")
    assert first["number"].startswith("HD-")
    assert int(second["number"][3:]) == int(first["number"][3:]) + 1
    for ticket in (first, second):
        await _check_number_everywhere(intake, ticket)


async def test_a_request_containing_the_provisional_number_still_gets_a_real_one(
    intake: Intake, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store, "provisional_number", lambda: "HD-424242424242")
    ticket = await intake.create(subject="About HD-424242424242", description="HD-424242424242")
    assert ticket["number"] != "HD-424242424242"
    assert ticket["subject"] == "About HD-424242424242"
    assert ticket["description"] == "HD-424242424242"
    await _check_number_everywhere(intake, ticket)
    plain = await intake.create(subject="Right after it")
    assert int(plain["number"][3:]) == int(ticket["number"][3:]) + 1
    await _check_number_everywhere(intake, plain)
