"""GET /v1/tickets: every filter, sorts both ways, keyset pagination without gaps or repeats."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from .support import Intake, problem_fields


async def _ids(intake: Intake, **params: Any) -> set[str]:
    response = await intake.http.get("/v1/tickets", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return {ticket["id"] for ticket in response.json()["items"]}


async def _walk(intake: Intake, limit: int, **params: Any) -> list[str]:
    """Every page's ids in order, following next_cursor."""
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = await intake.http.get("/v1/tickets", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        seen += [ticket["id"] for ticket in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_each_filter_selects_the_matching_tickets(intake: Intake) -> None:
    vpn = await intake.create(subject="VPN drops", category="network/vpn", tags=["vpn"])
    laptop = await intake.create(subject="New laptop", channel="phone", type="service_request",
                                 priority="P4", tags=["Laptop"],
                                 requester={"id": "u-2", "org": "Sales"})
    slow = await intake.create(subject="Wi-Fi 100% slow_down", channel="chat", type="question",
                               priority="P1", tags=["vpn", "wifi"])
    assigned = await intake.create(subject="Printer", channel="portal", tags=[])
    await intake.command(assigned["id"], "assign", {"team": "facilities", "agent": "a-1",
                                                    "tier": 2, "reason": "printers"})
    solved = await intake.create(subject="Password reset", channel="portal", tags=[])
    await intake.command(solved["id"], "resolve", {"resolution_code": "fixed"})
    everyone = {t["id"] for t in (vpn, laptop, slow, assigned, solved)}

    assert await _ids(intake) == everyone
    assert await _ids(intake, status="new") == {vpn["id"], laptop["id"], slow["id"]}
    assert await _ids(intake, status=["open", "resolved"]) == {assigned["id"], solved["id"]}
    assert await _ids(intake, priority=["P1", "P4"]) == {laptop["id"], slow["id"]}
    assert await _ids(intake, channel="portal") == {assigned["id"], solved["id"]}
    assert await _ids(intake, type="question") == {slow["id"]}
    assert await _ids(intake, category="network/vpn") == {vpn["id"]}
    assert await _ids(intake, team="facilities") == {assigned["id"]}
    assert await _ids(intake, agent="a-1") == {assigned["id"]}
    assert await _ids(intake, tier=2) == {assigned["id"]}
    assert await _ids(intake, requester="u-2") == {laptop["id"]}
    assert await _ids(intake, tag="VPN") == {vpn["id"], slow["id"]}
    assert await _ids(intake, tag="laptop") == {laptop["id"]}
    assert await _ids(intake, q="vpn") == {vpn["id"]}
    assert await _ids(intake, q="100%") == {slow["id"]}
    assert await _ids(intake, q="0%_s") == set()  # % and _ are literal, not wildcards
    assert await _ids(intake, q="slow_down") == {slow["id"]}
    assert await _ids(intake, status="new", tag="vpn", channel="chat") == {slow["id"]}

    tickets = {t["id"]: await intake.ticket(t["id"]) for t in (laptop, slow, assigned)}
    since = tickets[slow["id"]]["created_at"]
    assert await _ids(intake, created_from=since) == {slow["id"], assigned["id"], solved["id"]}
    assert await _ids(intake, created_to=since) == {vpn["id"], laptop["id"]}
    assert await _ids(intake, created_from=since, created_to=assigned["created_at"]) == {
        slow["id"]}
    changed = tickets[assigned["id"]]["updated_at"]
    assert await _ids(intake, updated_from=changed) == {assigned["id"], solved["id"]}
    assert await _ids(intake, updated_to=changed) == {vpn["id"], laptop["id"], slow["id"]}
    # An offset is honoured: the same instant written in another zone.
    assert await _ids(intake, created_from=since.replace("Z", "+00:00")) == await _ids(
        intake, created_from=since)


async def test_pages_walk_every_ticket_once_in_each_sort_order(intake: Intake) -> None:
    for i, priority in enumerate(["P3", "P1", "P3", "P2", "P4", "P1", "P3"]):
        ticket = await intake.create(subject=f"Ticket {i}", priority=priority)
        if i % 2:
            await intake.command(ticket["id"], "comments", {"body": "bump"})
    tickets = (await intake.http.get("/v1/tickets", params={"limit": 200})).json()["items"]
    keys = {
        "created_at": lambda t: (t["created_at"], UUID(t["id"])),
        "updated_at": lambda t: (t["updated_at"], UUID(t["id"])),
        "priority": lambda t: (t["priority"], t["created_at"], UUID(t["id"])),
    }
    for sort, key in keys.items():
        for order in ("asc", "desc"):
            expected = [t["id"] for t in sorted(tickets, key=key, reverse=order == "desc")]
            assert await _walk(intake, 3, sort=sort, order=order) == expected, (sort, order)
    newest_first = await _walk(intake, 2)
    assert newest_first == [t["id"] for t in tickets]  # default: created_at desc

    page = (await intake.http.get("/v1/tickets", params={"limit": 2})).json()
    other_sort = await intake.http.get("/v1/tickets", params={
        "limit": 2, "sort": "priority", "cursor": page["next_cursor"]})
    assert other_sort.status_code == 422
    assert problem_fields(other_sort) == ["query.cursor"]


async def test_a_ticket_written_between_pages_is_neither_skipped_nor_repeated(
    intake: Intake,
) -> None:
    for i in range(4):
        await intake.create(subject=f"Old {i}")
    first = (await intake.http.get("/v1/tickets", params={"limit": 2, "order": "asc"})).json()
    await intake.create(subject="New")
    rest = await _walk(intake, 2, order="asc", cursor=first["next_cursor"])
    ids = [t["id"] for t in first["items"]] + rest
    assert len(ids) == len(set(ids)) == 5
