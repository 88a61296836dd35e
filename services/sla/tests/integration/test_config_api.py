"""Calendars and policies over REST: validation as problem+json, events published, order kept."""

from __future__ import annotations

from helpdesk_events.sla import CalendarDefined, PolicyDefined

from .conftest import Sla

OFFICE = {
    "id": "office",
    "name": "Office",
    "time_zone": "Europe/Berlin",
    "weekly_hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    + [{"weekday": 4, "start": "22:00", "end": "02:00", "overnight": True}],
    "holidays": ["2026-12-24"],
    "country": "DE",
}


def _fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in response.json()["errors"]]


async def test_calendar_is_stored_and_published_whole_with_public_holidays(sla: Sla) -> None:
    created = await sla.http.post("/v1/calendars", json=OFFICE)
    assert created.status_code == 201, created.text
    assert (await sla.http.get("/v1/calendars/office")).json()["time_zone"] == "Europe/Berlin"
    assert [c["id"] for c in (await sla.http.get("/v1/calendars")).json()] == ["24x7", "office"]
    event = next(e.data for e in await sla.published() if isinstance(e.data, CalendarDefined))
    assert event.calendar_id == "office"
    assert any(h.isoformat().endswith("-10-03") for h in event.holidays)  # German Unity Day
    assert {(h.weekday, h.start, h.end) for h in event.weekly_hours} >= {
        (4, "22:00", "24:00"),
        (5, "00:00", "02:00"),
    }


async def test_invalid_calendars_are_refused_naming_the_field(sla: Sla) -> None:
    bad_zone = await sla.http.post("/v1/calendars", json={**OFFICE, "time_zone": "Mars/Olympus"})
    assert _fields(bad_zone) == ["time_zone"]
    inverted = await sla.http.post(
        "/v1/calendars",
        json={**OFFICE, "weekly_hours": [{"weekday": 0, "start": "17:00", "end": "09:00"}]},
    )
    assert _fields(inverted) == ["weekly_hours[0].end"]
    overlapping = await sla.http.post(
        "/v1/calendars",
        json={
            **OFFICE,
            "weekly_hours": [
                {"weekday": 0, "start": "09:00", "end": "13:00"},
                {"weekday": 0, "start": "12:00", "end": "17:00"},
            ],
        },
    )
    assert _fields(overlapping)[0].startswith("weekly_hours")
    assert (await sla.http.get("/v1/calendars/office")).status_code == 404


async def test_invalid_policies_are_refused_naming_the_field(sla: Sla) -> None:
    no_targets = await sla.http.post("/v1/policies", json={"id": "p", "targets": {}})
    assert _fields(no_targets) == ["targets"]
    unknown = await sla.http.post(
        "/v1/policies", json={"targets": {"first_response": 60}, "calendar_id": "nope"}
    )
    assert _fields(unknown) == ["calendar_id"]
    negative = await sla.http.post("/v1/policies", json={"targets": {"first_response": -5}})
    assert _fields(negative) == ["targets.first_response"]


async def test_policies_are_listed_in_order_before_the_defaults_and_published(sla: Sla) -> None:
    assert (await sla.http.post("/v1/calendars", json=OFFICE)).status_code == 201
    for policy_id, order in (("late", 5), ("early", 1)):
        response = await sla.http.post(
            "/v1/policies",
            json={
                "id": policy_id,
                "order": order,
                "conditions": {"priorities": ["P1"]},
                "targets": {"first_response": 60},
                "calendar_id": "office",
            },
        )
        assert response.status_code == 201, response.text
    listed = [p["id"] for p in (await sla.http.get("/v1/policies")).json()]
    assert listed[:2] == ["early", "late"] and listed[2:] == [
        "default-p1",
        "default-p2",
        "default-p3",
        "default-p4",
    ]
    assert (await sla.http.delete("/v1/calendars/office")).status_code == 409
    assert (await sla.http.delete("/v1/policies/late")).status_code == 204
    published = [e.data for e in await sla.published() if isinstance(e.data, PolicyDefined)]
    assert [(p.policy_id, p.active) for p in published] == [
        ("late", True),
        ("early", True),
        ("late", False),
    ]
