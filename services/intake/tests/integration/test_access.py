"""Requester scoping with real tokens: own tickets only, never internal notes."""

from __future__ import annotations

from helpdesk.testing.auth import bearer

from .support import TICKET, Intake

ANA = bearer("requester", "u-1")
BOB = bearer("requester", "u-2")
INTEGRATOR = bearer("integrator", "crm")


async def test_a_requester_sees_only_their_own_tickets_and_no_internal_notes(intake: Intake) -> None:
    mine = await intake.create()  # requester u-1, logged by the default agent
    theirs = await intake.create(requester={"id": "u-2"})
    await intake.command(mine["id"], "comments", {"body": "Checked the logs.", "public": False})
    await intake.command(mine["id"], "comments", {"body": "We are on it."})

    page = (await intake.http.get("/v1/tickets", headers=ANA)).json()
    assert [t["id"] for t in page["items"]] == [mine["id"]]
    asked_for_bob = (await intake.http.get("/v1/tickets?requester=u-2", headers=ANA)).json()
    assert [t["id"] for t in asked_for_bob["items"]] == [mine["id"]]
    assert (await intake.http.get(f"/v1/tickets/{mine['id']}", headers=ANA)).status_code == 200
    for path in ("", "/events"):
        hidden = await intake.http.get(f"/v1/tickets/{theirs['id']}{path}", headers=ANA)
        assert hidden.status_code == 404, path

    history = (await intake.http.get(f"/v1/tickets/{mine['id']}/events", headers=ANA)).json()
    comments = [e["data"] for e in history if e["type"] == "helpdesk.ticket.commented.v1"]
    assert [c["body"] for c in comments] == ["We are on it."]
    staff_view = await intake.events(mine["id"])
    assert sum(e["type"] == "helpdesk.ticket.commented.v1" for e in staff_view) == 2


async def test_a_requester_acts_only_on_their_own_tickets_in_their_own_name(intake: Intake) -> None:
    mine = await intake.create()
    theirs = await intake.create(requester={"id": "u-2"})
    replied = await intake.http.post(f"/v1/tickets/{mine['id']}/comments",
                                     json={"body": "Still broken."}, headers=ANA)
    assert replied.status_code == 200, replied.text
    assert replied.json()["events"][0]["data"]["author"] == {"id": "u-1", "role": "requester"}
    note = await intake.http.post(f"/v1/tickets/{mine['id']}/comments",
                                  json={"body": "psst", "public": False}, headers=ANA)
    assert note.status_code == 422
    other = await intake.http.post(f"/v1/tickets/{theirs['id']}/comments",
                                   json={"body": "Hi"}, headers=ANA)
    assert other.status_code == 404
    resolve = await intake.http.post(f"/v1/tickets/{mine['id']}/resolve",
                                     json={"resolution_code": "fixed"}, headers=ANA)
    assert resolve.status_code == 403
    assert resolve.headers["content-type"].startswith("application/problem+json")

    for_bob = await intake.http.post("/v1/tickets", json={**TICKET, "requester": {"id": "u-2"}},
                                     headers=ANA)
    assert for_bob.status_code == 403
    own = await intake.http.post("/v1/tickets", json=TICKET, headers=ANA)
    assert own.status_code == 201 and own.json()["created_by"] == {"id": "u-1", "role": "requester"}


async def test_integrators_read_everything_and_change_nothing(intake: Intake) -> None:
    ticket = await intake.create(requester={"id": "u-2"})
    assert (await intake.http.get(f"/v1/tickets/{ticket['id']}", headers=INTEGRATOR)).status_code == 200
    refused = await intake.http.post("/v1/tickets", json=TICKET, headers=INTEGRATOR)
    assert refused.status_code == 403


async def test_calls_without_a_valid_token_get_401_with_a_bearer_challenge(intake: Intake) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer nonsense"},
                    {"Authorization": "Basic dTpw"}):
        response = await intake.http.get("/v1/tickets", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await intake.http.get("/healthz", headers={"Authorization": ""})).status_code == 200
