"""Merging a duplicate: both streams change in one transaction, the source's history stays."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from helpdesk_events import eventstore

from .support import Intake, problem_fields


async def test_merge_closes_the_source_links_both_and_keeps_its_history(intake: Intake) -> None:
    duplicate = await intake.create(subject="VPN down (dup)")
    await intake.command(duplicate["id"], "comments", {"body": "Same as the other one?"})
    target = await intake.create(subject="VPN down")
    history_before = await intake.events(duplicate["id"])

    merged = await intake.command(duplicate["id"], "merge",
                                  {"target_ticket_id": target["id"]}, **{"If-Match": '"3"'})
    source_after, target_after = merged["ticket"], merged["target"]
    assert (source_after["status"], source_after["close_reason"]) == ("closed", "merged")
    assert source_after["merged_into"] == target["id"]
    assert target_after["merged_from"] == [duplicate["id"]]
    assert target_after["status"] == "new"
    assert [e["subject"] for e in merged["events"]] == [duplicate["id"]] * 3 + [target["id"]]

    history = await intake.events(duplicate["id"])
    assert history[: len(history_before)] == history_before
    assert [e["type"].split(".")[2] for e in history[len(history_before):]] == [
        "merged", "closed", "status_changed"]
    assert (await intake.ticket(target["id"]))["merged_from"] == [duplicate["id"]]
    assert (await intake.ticket(duplicate["id"]))["merged_into"] == target["id"]

    again = await intake.http.post(f"/v1/tickets/{duplicate['id']}/merge",
                                   json={"target_ticket_id": target["id"]})
    assert again.status_code == 409
    problem_fields(again)


async def test_merge_into_a_closed_ticket_changes_neither(intake: Intake) -> None:
    source = await intake.create()
    closed = await intake.create()
    await intake.command(closed["id"], "resolve", {"resolution_code": "fixed"})
    await intake.command(closed["id"], "close")
    refused = await intake.http.post(f"/v1/tickets/{source['id']}/merge",
                                     json={"target_ticket_id": closed["id"]})
    assert refused.status_code == 409
    assert refused.json()["follow_up_of"] == closed["id"]
    async with intake.runtime.reader.connect() as conn:
        assert len(await eventstore.read_stream(conn, UUID(source["id"]))) == 1
        total = await conn.scalar(sa.text("SELECT count(*) FROM events"))
    assert total == 1 + 5  # the source's creation; the closed ticket's five events


async def test_a_stale_if_match_on_the_source_stops_the_merge(intake: Intake) -> None:
    source = await intake.create()
    target = await intake.create()
    stale = await intake.http.post(f"/v1/tickets/{source['id']}/merge",
                                   json={"target_ticket_id": target["id"]},
                                   headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert (await intake.ticket(target["id"]))["version"] == 1
