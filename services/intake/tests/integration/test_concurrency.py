"""Fifty concurrent PATCHes on one ticket: each succeeds or is refused, none is lost."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from .support import Intake

WRITERS = 50


def _check_history(history: list[dict[str, Any]], won: set[int]) -> None:
    """Versions 1..n without a gap; exactly the winners' fields were written, once each."""
    assert [event["sequence"] for event in history] == list(range(1, len(history) + 1))
    updates = [event for event in history if event["type"] == "helpdesk.ticket.updated.v1"]
    assert len(updates) == len(won)
    written = []
    for event in updates:
        [change] = event["data"]["changes"]
        added = set(change["after"]) - set(change["before"])
        assert len(added) == 1
        written.append(int(added.pop()[1:]))
    assert sorted(written) == sorted(won)


async def test_concurrent_patches_with_if_match_lose_no_update(intake: Intake) -> None:
    ticket = await intake.create(custom_fields={})
    url = f"/v1/tickets/{ticket['id']}"

    async def writer(i: int) -> httpx.Response:
        current = await intake.http.get(url)
        return await intake.http.patch(url, json={"custom_fields": {f"f{i}": i}},
                                       headers={"If-Match": current.headers["ETag"]})

    responses = await asyncio.gather(*(writer(i) for i in range(WRITERS)))
    assert {r.status_code for r in responses} <= {200, 409, 412}, [r.text for r in responses]
    won = {i for i, r in enumerate(responses) if r.status_code == 200}
    assert won
    final = await intake.ticket(ticket["id"])
    assert final["custom_fields"] == {f"f{i}": i for i in won}
    assert final["version"] == 1 + len(won)
    _check_history(await intake.events(ticket["id"]), won)


async def test_concurrent_patches_without_if_match_all_land_in_turn(intake: Intake) -> None:
    ticket = await intake.create(custom_fields={})
    url = f"/v1/tickets/{ticket['id']}"
    responses = await asyncio.gather(*(
        intake.http.patch(url, json={"custom_fields": {f"f{i}": i}}) for i in range(WRITERS)
    ))
    # Writers of one ticket take turns; without If-Match nobody's change is refused.
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
    won = set(range(WRITERS))
    final = await intake.ticket(ticket["id"])
    assert final["custom_fields"] == {f"f{i}": i for i in won}
    assert final["version"] == 1 + WRITERS
    _check_history(await intake.events(ticket["id"]), won)
