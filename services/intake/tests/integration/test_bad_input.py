"""Bad input of every kind gets a 4xx problem+json naming the field, never a 500."""

from __future__ import annotations

from typing import Any

from helpdesk.testing.auth import bearer

from .support import TICKET, Intake, problem_fields

UNKNOWN = "00000000-0000-4000-8000-000000000000"
JSON = {"content-type": "application/json"}


def _ticket(**fields: Any) -> dict[str, Any]:
    return {**TICKET, **fields}


def _without(name: str) -> dict[str, Any]:
    return {k: v for k, v in TICKET.items() if k != name}


#: (description, method, path (TID = an existing ticket), json or raw bytes, headers,
#:  expected status, expected field (or a prefix of its dotted path; "": none expected))
CASES: list[tuple[str, str, str, Any, dict[str, str], int, str]] = [
    ("missing subject", "POST", "/v1/tickets", _without("subject"), {}, 422, "subject"),
    ("subject of wrong type", "POST", "/v1/tickets", _ticket(subject=42), {}, 422, "subject"),
    ("blank subject", "POST", "/v1/tickets", _ticket(subject="   "), {}, 422, "subject"),
    ("oversize subject", "POST", "/v1/tickets", _ticket(subject="x" * 201), {}, 422, "subject"),
    ("oversize description", "POST", "/v1/tickets", _ticket(description="x" * 20_001), {}, 422,
     "description"),
    ("unknown channel", "POST", "/v1/tickets", _ticket(channel="fax"), {}, 422, "channel"),
    ("unknown type", "POST", "/v1/tickets", _ticket(type="bug"), {}, 422, "type"),
    ("unknown priority", "POST", "/v1/tickets", _ticket(priority="P9"), {}, 422, "priority"),
    ("bad requester email", "POST", "/v1/tickets",
     _ticket(requester={"id": "u", "email": "nope"}), {}, 422, "requester.email"),
    ("requester of wrong type", "POST", "/v1/tickets", _ticket(requester="u-1"), {}, 422,
     "requester"),
    ("too many tags", "POST", "/v1/tickets", _ticket(tags=[f"t{i}" for i in range(21)]), {},
     422, "tags"),
    ("oversize tag", "POST", "/v1/tickets", _ticket(tags=["x" * 51]), {}, 422, "tags.0"),
    ("too many custom fields", "POST", "/v1/tickets",
     _ticket(custom_fields={f"k{i}": i for i in range(51)}), {}, 422, "custom_fields"),
    ("oversize custom field", "POST", "/v1/tickets", _ticket(custom_fields={"k": "x" * 1001}),
     {}, 422, "custom_fields.k"),
    ("nested custom field", "POST", "/v1/tickets", _ticket(custom_fields={"k": {"a": 1}}), {},
     422, "custom_fields.k"),
    ("huge integer", "POST", "/v1/tickets", _ticket(custom_fields={"k": 10**30}), {}, 422,
     "custom_fields.k"),
    ("NUL character", "POST", "/v1/tickets", _ticket(description="a\x00b"), {}, 422,
     "description"),
    ("unknown field", "POST", "/v1/tickets", _ticket(colour="red"), {}, 422, "colour"),
    ("bad language tag", "POST", "/v1/tickets", _ticket(language="english please"), {}, 422,
     "language"),
    ("bad follow_up_of", "POST", "/v1/tickets", _ticket(follow_up_of="HD-1"), {}, 422,
     "follow_up_of"),
    ("malformed JSON", "POST", "/v1/tickets", b'{"subject": "x",', JSON, 400, "body"),
    ("JSON that is not an object", "POST", "/v1/tickets", [1, 2], {}, 422, "body"),
    ("NaN in JSON", "POST", "/v1/tickets",
     b'{"subject": "x", "requester": {"id": "u"}, "channel": "email", '
     b'"custom_fields": {"k": NaN}}', JSON, 422, "custom_fields.k"),
    ("oversize token subject", "POST", "/v1/tickets/TID/comments", {"body": "x"},
     bearer("agent", "a" * 101), 401, ""),
    ("malformed ticket id", "GET", "/v1/tickets/HD-1001", None, {}, 422, "path.ticket_id"),
    ("unknown ticket", "GET", f"/v1/tickets/{UNKNOWN}", None, {}, 404, ""),
    ("unknown ticket history", "GET", f"/v1/tickets/{UNKNOWN}/events", None, {}, 404, ""),
    ("command on unknown ticket", "POST", f"/v1/tickets/{UNKNOWN}/comments", {"body": "x"}, {},
     404, ""),
    ("patch of unknown ticket", "PATCH", f"/v1/tickets/{UNKNOWN}", {"subject": "x"}, {}, 404,
     ""),
    ("malformed If-Match", "PATCH", "/v1/tickets/TID", {"subject": "x"}, {"If-Match": "3"},
     422, "header.If-Match"),
    ("If-Match naming two versions", "POST", "/v1/tickets/TID/comments", {"body": "x"},
     {"If-Match": '"1", "2"'}, 422, "header.If-Match"),
    ("stale If-Match", "POST", "/v1/tickets/TID/comments", {"body": "x"}, {"If-Match": '"9"'},
     412, "header.If-Match"),
    ("empty comment", "POST", "/v1/tickets/TID/comments", {"body": ""}, {}, 422, "body"),
    ("public of wrong type", "POST", "/v1/tickets/TID/comments", {"body": "x", "public": "maybe"},
     {}, 422, "public"),
    ("unknown status", "POST", "/v1/tickets/TID/status", {"to_status": "done"}, {}, 422,
     "to_status"),
    ("tier out of range", "POST", "/v1/tickets/TID/escalate", {"to_tier": 4, "reason": "x"}, {},
     422, "to_tier"),
    ("negative work", "POST", "/v1/tickets/TID/worklogs", {"seconds": -5, "kind": "talk"}, {},
     422, "seconds"),
    ("unknown work kind", "POST", "/v1/tickets/TID/worklogs", {"seconds": 5, "kind": "nap"}, {},
     422, "kind"),
    ("bad resolution code", "POST", "/v1/tickets/TID/resolve", {"resolution_code": "Fixed!"},
     {}, 422, "resolution_code"),
    ("missing reason", "POST", "/v1/tickets/TID/reopen", {}, {}, 422, "reason"),
    ("merge into itself", "POST", "/v1/tickets/TID/merge", {"target_ticket_id": "TID"}, {}, 422,
     "target_ticket_id"),
    ("merge into unknown ticket", "POST", "/v1/tickets/TID/merge",
     {"target_ticket_id": UNKNOWN}, {}, 422, "target_ticket_id"),
    ("oversize patch subject", "PATCH", "/v1/tickets/TID", {"subject": "x" * 201}, {}, 422,
     "subject"),
    ("null in patch", "PATCH", "/v1/tickets/TID", {"channel": None}, {}, 422, "channel"),
    ("priority reason alone", "PATCH", "/v1/tickets/TID", {"priority_reason": "x"}, {}, 422,
     "priority"),
    ("bad cursor", "GET", "/v1/tickets?cursor=not-a-cursor", None, {}, 422, "query.cursor"),
    ("limit above 200", "GET", "/v1/tickets?limit=201", None, {}, 422, "query.limit"),
    ("unknown status filter", "GET", "/v1/tickets?status=done", None, {}, 422, "query.status"),
    ("bad date filter", "GET", "/v1/tickets?created_from=yesterday", None, {}, 422,
     "query.created_from"),
    ("NUL in query", "GET", "/v1/tickets?q=%00", None, {}, 422, "query.q"),
    ("time beyond year 9999 in UTC", "GET",
     "/v1/tickets?updated_to=9999-12-31T23:59:59-14:00", None, {}, 422, "query.updated_to"),
    ("unknown sort", "GET", "/v1/tickets?sort=subject", None, {}, 422, "query.sort"),
    ("negative replay position", "POST", "/v1/admin/replay?after_position=-1", None,
     bearer("admin"), 422, "query.after_position"),
]


async def test_bad_input_gets_a_problem_naming_the_field(intake: Intake) -> None:
    ticket = await intake.create()
    failures = []
    for name, method, path, body, headers, status, field in CASES:
        path = path.replace("TID", ticket["id"])
        if isinstance(body, dict) and body.get("target_ticket_id") == "TID":
            body = {"target_ticket_id": ticket["id"]}
        if isinstance(body, bytes):
            response = await intake.http.request(method, path, content=body, headers=headers)
        else:
            response = await intake.http.request(method, path, json=body, headers=headers)
        fields = problem_fields(response)
        named = any(f == field or f.startswith(field + ".") for f in fields)
        if response.status_code != status or (field and not named):
            failures.append((name, response.status_code, response.text[:300]))
    assert not failures, "\n".join(map(str, failures))
    # Nothing of it reached the ticket.
    assert (await intake.ticket(ticket["id"]))["version"] == 1


async def test_an_oversize_body_is_refused_before_it_is_read(intake: Intake) -> None:
    response = await intake.http.post("/v1/tickets", json=_ticket(description="x" * 2_000_000))
    assert response.status_code == 413
    problem_fields(response)
