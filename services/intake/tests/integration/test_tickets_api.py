"""The ticket resource and its commands over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from helpdesk.testing.auth import bearer

from .support import TICKET, Intake, MakeIntake, problem_fields

AGENT = bearer("agent", "agent-7")
REQUESTER = bearer("requester", "u-1")


async def test_created_ticket_is_served_with_location_etag_and_history(intake: Intake) -> None:
    response = await intake.http.post("/v1/tickets", json={
        "subject": "  Printer jams  ", "requester": {"id": "u-9"}, "channel": "phone",
        "impact": "high", "urgency": "high", "tags": ["Paper", "paper", "Floor-3"],
        "custom_fields": {"asset": "PR-3", "floor": 3, "color": True},
    }, headers=AGENT)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert response.headers["Location"] == f"/v1/tickets/{ticket['id']}"
    assert response.headers["ETag"] == '"1"'
    assert ticket["number"].startswith("HD-")
    assert (ticket["subject"], ticket["priority"], ticket["status"]) == ("Printer jams", "P1", "new")
    assert ticket["tags"] == ["paper", "floor-3"]
    assert ticket["created_by"] == {"id": "agent-7", "role": "agent"}

    fetched = await intake.http.get(response.headers["Location"])
    assert fetched.json() == ticket
    assert fetched.headers["ETag"] == '"1"'
    unchanged = await intake.http.get(response.headers["Location"],
                                      headers={"If-None-Match": '"1"'})
    assert unchanged.status_code == 304

    [created] = await intake.events(ticket["id"])
    assert created["type"] == "helpdesk.ticket.created.v1"
    assert created["subject"] == ticket["id"] and created["sequence"] == 1
    assert created["data"]["by"] == {"id": "agent-7", "role": "agent"}


async def test_a_ticket_a_requester_creates_is_logged_by_them(intake: Intake) -> None:
    response = await intake.http.post("/v1/tickets", json=TICKET, headers=REQUESTER)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["created_by"] == {"id": "u-1", "role": "requester"}
    assert ticket["priority"] == "P2"  # medium impact x high urgency


async def test_patch_changes_fields_priority_and_category_atomically(intake: Intake) -> None:
    ticket = await intake.create(custom_fields={"asset": "LT-1", "floor": 2})
    url = f"/v1/tickets/{ticket['id']}"
    response = await intake.http.patch(url, headers={"If-Match": '"1"'}, json={
        "subject": "VPN drops on Wi-Fi", "tags": ["wifi"], "language": "de-CH",
        "custom_fields": {"floor": None, "desk": "4.12"}, "impact": "high",
        "priority_reason": "whole floor", "category": "network/wifi",
    })
    assert response.status_code == 200, response.text
    patched = response.json()
    assert response.headers["ETag"] == '"4"'
    assert patched["subject"] == "VPN drops on Wi-Fi"
    assert patched["custom_fields"] == {"asset": "LT-1", "desk": "4.12"}
    assert (patched["priority"], patched["impact"], patched["category"]) == ("P1", "high",
                                                                             "network/wifi")
    types = [event["type"].split(".")[2] for event in await intake.events(ticket["id"])]
    assert types == ["created", "updated", "priority_changed", "categorized"]

    stale = await intake.http.patch(url, headers={"If-Match": '"1"'}, json={"subject": "x"})
    assert stale.status_code == 412
    assert problem_fields(stale) == ["header.If-Match"]
    assert stale.json()["current_version"] == 4 and stale.headers["ETag"] == '"4"'

    cleared = await intake.http.patch(url, headers={"If-Match": "*"}, json={"language": None})
    assert cleared.status_code == 200 and cleared.json()["language"] is None
    not_nullable = await intake.http.patch(url, json={"subject": None})
    assert not_nullable.status_code == 422 and problem_fields(not_nullable) == ["subject"]
    nothing = await intake.http.patch(url, json={})
    assert nothing.status_code == 200 and nothing.headers["ETag"] == '"5"'


async def test_a_ticket_goes_through_its_lifecycle_by_commands(intake: Intake) -> None:
    ticket = await intake.create()
    tid = ticket["id"]
    replied = await intake.command(tid, "comments", {"body": "Looking into it."}, **AGENT)
    assert replied["ticket"]["status"] == "open"
    assert [e["type"] for e in replied["events"]] == ["helpdesk.ticket.commented.v1",
                                                      "helpdesk.ticket.status_changed.v1"]
    await intake.command(tid, "status", {"to_status": "pending", "reason": "need logs"}, **AGENT)
    answered = await intake.command(tid, "comments", {"body": "Logs attached."}, **REQUESTER)
    assert answered["ticket"]["status"] == "open"
    note = await intake.command(tid, "comments", {"body": "secret", "public": False},
                                expect=422, **REQUESTER)
    assert note["errors"][0]["field"] == "public"

    await intake.command(tid, "assign", {"team": "network", "agent": "agent-7",
                                         "reason": "VPN queue"}, **AGENT)
    escalated = await intake.command(tid, "escalate", {"to_tier": 2, "reason": "firewall",
                                                       "to_team": "network-l2"}, **AGENT)
    assert (escalated["ticket"]["tier"], escalated["ticket"]["team"]) == (2, "network-l2")
    logged = await intake.command(tid, "worklogs", {"seconds": 600, "kind": "talk"}, **AGENT)
    assert logged["events"][0]["data"]["agent"] == "agent-7"
    assert logged["ticket"]["work_seconds"]["talk"] == 600

    resolved = await intake.command(tid, "resolve", {"resolution_code": "fixed"}, **AGENT)
    assert resolved["ticket"]["status"] == "resolved"
    refused = await intake.command(tid, "assign", {"team": "x", "reason": "y"}, expect=409)
    assert refused["current"] == "resolved"
    reopened = await intake.command(tid, "reopen", {"reason": "again"}, **REQUESTER)
    assert reopened["ticket"]["status"] == "open"
    await intake.command(tid, "resolve", {"resolution_code": "workaround"}, **AGENT)
    closed = await intake.command(tid, "close", **AGENT)
    assert closed["ticket"]["status"] == "closed"

    history = await intake.events(tid)
    assert [event["sequence"] for event in history] == list(range(1, len(history) + 1))
    assert closed["ticket"]["version"] == len(history)


async def test_an_illegal_move_answers_409_with_the_allowed_moves(intake: Intake) -> None:
    ticket = await intake.create()
    response = await intake.http.post(f"/v1/tickets/{ticket['id']}/close")
    assert response.status_code == 409
    assert problem_fields(response) == ["status"]
    assert response.json()["allowed"] == ["open", "pending", "on_hold", "resolved"]
    resolve_by_status = await intake.http.post(f"/v1/tickets/{ticket['id']}/status",
                                               json={"to_status": "resolved"})
    assert resolve_by_status.status_code == 422
    assert problem_fields(resolve_by_status) == ["to_status"]


async def test_reopening_a_closed_ticket_points_to_a_linked_follow_up(intake: Intake) -> None:
    ticket = await intake.create()
    await intake.command(ticket["id"], "resolve", {"resolution_code": "fixed"})
    await intake.command(ticket["id"], "close")
    refused = await intake.http.post(f"/v1/tickets/{ticket['id']}/reopen",
                                     json={"reason": "broken again"})
    assert refused.status_code == 409
    problem_fields(refused)
    assert refused.json()["follow_up_of"] == ticket["id"]
    assert "follow-up" in refused.json()["detail"]

    follow_up = await intake.create(subject="VPN broken again", follow_up_of=ticket["id"])
    assert follow_up["follow_up_of"] == ticket["id"]
    created = (await intake.events(follow_up["id"]))[0]
    assert created["data"]["follow_up_of"] == ticket["id"]
    unknown = await intake.http.post("/v1/tickets", json={
        "subject": "x", "requester": {"id": "u"}, "channel": "email",
        "follow_up_of": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 422 and problem_fields(unknown) == ["follow_up_of"]


async def test_reopening_after_the_window_answers_409_with_a_deadline(
    make_intake: MakeIntake,
) -> None:
    async with make_intake(reopen_window_seconds=0) as intake:
        ticket = await intake.create()
        await intake.command(ticket["id"], "resolve", {"resolution_code": "fixed"})
        late = await intake.command(ticket["id"], "reopen", {"reason": "again"}, expect=409)
        assert late["title"] == "Reopen window expired"
        assert late["follow_up_of"] == ticket["id"] and "deadline" in late


async def test_change_outcome_is_recorded_on_change_tickets_only(intake: Intake) -> None:
    change = await intake.create(type="change", subject="Upgrade the VPN gateways")
    done = await intake.command(change["id"], "change-outcome",
                                {"success": False, "notes": "rolled back"})
    assert (done["ticket"]["change_success"], done["ticket"]["change_attempts"]) == (False, 1)
    incident = await intake.create()
    refused = await intake.command(incident["id"], "change-outcome", {"success": True},
                                   expect=422)
    assert refused["errors"][0]["field"] == "type"


async def test_a_command_with_a_stale_if_match_changes_nothing(intake: Intake) -> None:
    ticket = await intake.create()
    await intake.command(ticket["id"], "comments", {"body": "first"}, **{"If-Match": '"1"'})
    stale = await intake.http.post(f"/v1/tickets/{ticket['id']}/comments",
                                   json={"body": "second"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and problem_fields(stale) == ["header.If-Match"]
    weak = await intake.http.post(f"/v1/tickets/{ticket['id']}/comments",
                                  json={"body": "third"}, headers={"If-Match": 'W/"3"'})
    assert weak.status_code == 412
    assert len(await intake.events(ticket["id"])) == 3  # created, commented, status_changed
