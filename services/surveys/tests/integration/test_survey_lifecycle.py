"""From a resolved ticket to a published response, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from helpdesk_surveys.tokens import make_token


def token_of(envelope: Any) -> str:
    return envelope.data.link.rsplit("/", 1)[1]


async def test_resolved_ticket_gets_a_survey_after_the_delay_and_the_answer_is_published(
    surveys,
) -> None:
    await surveys.policy(questions=[{"kind": "csat"}, {"kind": "nps"}], delay_seconds=3600)
    t = surveys.ticket()
    await surveys.feed(t.created(), t.assigned(agent="agent-9", team="network"), t.resolved())
    [scheduled] = await surveys.surveys(ticket_id=str(t.ticket_id))
    assert scheduled["status"] == "scheduled"

    surveys.clock.advance(minutes=59)
    assert (await surveys.tick()).sent == 0
    surveys.clock.advance(minutes=1)
    assert (await surveys.tick()).sent == 1

    [sent] = await surveys.published("survey.sent.v1")
    assert sent.data.ticket_id == t.ticket_id
    assert (sent.data.agent_id, sent.data.team, sent.data.requester_email) == (
        "agent-9",
        "network",
        "req-1@example.com",
    )
    assert sent.data.link.startswith("https://desk.example/s/")
    assert [k.value for k in sent.data.kinds] == ["csat", "nps"]

    token = token_of(sent)
    form = await surveys.http.get(f"/v1/surveys/{token}")
    assert form.status_code == 200
    assert [(q["kind"], q["scale_min"], q["scale_max"]) for q in form.json()["questions"]] == [
        ("csat", 1, 5),
        ("nps", 0, 10),
    ]

    answered = await surveys.http.post(
        f"/v1/surveys/{token}/responses",
        json={
            "answers": [{"kind": "csat", "score": 5}, {"kind": "nps", "score": 9}],
            "comment": "quick fix",
        },
    )
    assert answered.status_code == 201, answered.text

    [responded] = await surveys.published("survey.responded.v1")
    data = responded.data
    assert (data.ticket_id, data.agent_id, data.team, data.channel, data.category) == (
        t.ticket_id,
        "agent-9",
        "network",
        "email",
        "network/vpn",
    )
    assert [(a.kind.value, a.score, a.scale_max) for a in data.answers] == [
        ("csat", 5, 5),
        ("nps", 9, 10),
    ]
    assert data.comment == "quick fix"
    assert responded.subject == str(sent.data.survey_id)

    again = await surveys.http.post(
        f"/v1/surveys/{token}/responses",
        json={"answers": [{"kind": "csat", "score": 1}, {"kind": "nps", "score": 0}]},
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert (await surveys.http.get(f"/v1/surveys/{token}")).status_code == 409
    assert len(await surveys.published("survey.responded.v1")) == 1


async def test_second_ticket_of_a_requester_within_the_throttle_window_gets_no_survey(
    surveys,
) -> None:
    await surveys.policy(throttle_days=30, delay_seconds=0)
    first, second = surveys.ticket(requester="req-t"), surveys.ticket(requester="req-t")
    other = surveys.ticket(requester="someone-else")
    await surveys.feed(first.created(), second.created(), other.created(), first.resolved())
    surveys.clock.advance(days=3)
    await surveys.feed(second.resolved(), other.resolved())
    assert len(await surveys.surveys(requester_id="req-t")) == 1
    assert len(await surveys.surveys(requester_id="someone-else")) == 1
    surveys.clock.advance(days=30)
    await surveys.feed(second.reopened(), second.resolved())
    assert len(await surveys.surveys(requester_id="req-t")) == 2


async def test_reopen_before_the_answer_cancels_the_survey(surveys) -> None:
    await surveys.policy(delay_seconds=0)
    scheduled, sent = surveys.ticket(), surveys.ticket()
    await surveys.feed(sent.created(), sent.resolved())
    await surveys.tick()
    [sent_event] = await surveys.published("survey.sent.v1")
    await surveys.feed(
        scheduled.created(), scheduled.resolved(), scheduled.reopened(), sent.reopened()
    )

    assert [s["status"] for s in await surveys.surveys(ticket_id=str(scheduled.ticket_id))] == [
        "cancelled"
    ]
    assert [s["status"] for s in await surveys.surveys(ticket_id=str(sent.ticket_id))] == [
        "cancelled"
    ]
    # Only the survey whose link was out is withdrawn on the topic.
    [withdrawn] = await surveys.published("survey.expired.v1")
    assert (withdrawn.data.ticket_id, withdrawn.data.reason.value) == (sent.ticket_id, "cancelled")
    assert (await surveys.tick()).sent == 0
    late = await surveys.http.post(
        f"/v1/surveys/{token_of(sent_event)}/responses",
        json={"answers": [{"kind": "csat", "score": 4}]},
    )
    assert late.status_code == 410


async def test_expiry_fires_once_after_one_reminder(surveys) -> None:
    await surveys.policy(
        delay_seconds=0, expires_after_seconds=3 * 86400, remind_before_seconds=86400
    )
    t = surveys.ticket()
    await surveys.feed(t.created(), t.resolved())
    await surveys.tick()
    surveys.clock.advance(days=2)
    assert (await surveys.tick()).reminded == 1
    assert (await surveys.tick()).reminded == 0
    reminders = [e for e in await surveys.published("survey.sent.v1") if e.data.reminder]
    assert len(reminders) == 1
    surveys.clock.advance(days=1)
    assert (await surveys.tick()).expired == 1
    assert (await surveys.tick()).expired == 0
    [expired] = await surveys.published("survey.expired.v1")
    assert (expired.data.ticket_id, expired.data.reason.value) == (t.ticket_id, "expired")
    token = token_of((await surveys.published("survey.sent.v1"))[0])
    response = await surveys.http.post(
        f"/v1/surveys/{token}/responses", json={"answers": [{"kind": "csat", "score": 4}]}
    )
    assert response.status_code == 410


async def test_redelivered_resolve_event_schedules_one_survey(surveys) -> None:
    from helpdesk_events.envelope import new_envelope

    await surveys.policy()
    t = surveys.ticket()
    await surveys.feed(t.created())
    envelope = new_envelope(
        t.resolved(), source="intake", subject=str(t.ticket_id), time=surveys.clock.now
    )
    await surveys.feed_envelope(envelope)
    await surveys.feed_envelope(envelope)
    await surveys.feed(t.closed())
    assert len(await surveys.surveys(ticket_id=str(t.ticket_id))) == 1


async def test_conditions_and_triggers_choose_the_policy(surveys) -> None:
    await surveys.policy(name="chat-only", conditions={"channels": ["chat"]})
    await surveys.policy(name="on-close", trigger="closed", questions=[{"kind": "ces"}])
    t = surveys.ticket()
    await surveys.feed(t.created(), t.resolved())
    assert await surveys.surveys(ticket_id=str(t.ticket_id)) == []
    await surveys.feed(t.closed())
    [survey] = await surveys.surveys(ticket_id=str(t.ticket_id))
    assert survey["kinds"] == ["ces"]
    assert [s["id"] for s in await surveys.surveys(kind="ces")] == [survey["id"]]
    assert await surveys.surveys(kind="nps") == []


async def test_bad_links_and_bad_answers_get_the_documented_4xx(surveys) -> None:
    await surveys.policy(
        delay_seconds=0, questions=[{"kind": "ces", "comment_required_at_or_below": 5}]
    )
    t = surveys.ticket()
    await surveys.feed(t.created(), t.resolved())
    await surveys.tick()
    token = token_of((await surveys.published("survey.sent.v1"))[0])
    url = f"/v1/surveys/{token}/responses"

    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in [
        tampered,
        "nonsense",
        "a.b",
        make_token("another-secret-0123456789", t.ticket_id),
        "x" * 300,
    ]:
        for response in (
            await surveys.http.get(f"/v1/surveys/{bad}"),
            await surveys.http.post(
                f"/v1/surveys/{bad}/responses", json={"answers": [{"kind": "ces", "score": 1}]}
            ),
        ):
            assert response.status_code == 404, (bad, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")

    cases = [
        ({"answers": [{"kind": "ces", "score": 8}]}, "answers.0.score"),
        ({"answers": [{"kind": "ces", "score": 0}]}, "answers.0.score"),
        ({"answers": [{"kind": "nps", "score": 5}]}, "answers.0.kind"),
        ({"answers": [{"kind": "ces", "score": 2}]}, "comment"),
        ({"answers": [{"kind": "ces", "score": "lots"}]}, "answers.0.score"),
        ({"answers": []}, "answers"),
        ({"answers": [{"kind": "bogus", "score": 2}]}, "answers.0.kind"),
    ]
    for body, field in cases:
        response = await surveys.http.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    assert (
        await surveys.http.post(
            url, content=b"{not json", headers={"content-type": "application/json"}
        )
    ).status_code == 400
    ok = await surveys.http.post(
        url, json={"answers": [{"kind": "ces", "score": 2}], "comment": "took three calls"}
    )
    assert ok.status_code == 201, ok.text


async def test_survey_list_pages_with_a_cursor_and_filters(surveys) -> None:
    await surveys.policy(delay_seconds=0)
    for i in range(5):
        t = surveys.ticket(requester=f"page-{i}")
        surveys.clock.advance(minutes=1)
        await surveys.feed(t.created(), t.resolved())
    first = (await surveys.http.get("/v1/surveys", params={"limit": 2})).json()
    second = (
        await surveys.http.get("/v1/surveys", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    third = (
        await surveys.http.get("/v1/surveys", params={"limit": 2, "cursor": second["next_cursor"]})
    ).json()
    requesters = [s["requester_id"] for page in (first, second, third) for s in page["items"]]
    assert requesters == [f"page-{i}" for i in reversed(range(5))]
    assert third["next_cursor"] is None
    assert len(await surveys.surveys(status="scheduled", kind="csat", channel="email")) == 5
    assert await surveys.surveys(status="sent") == []
    bad = await surveys.http.get("/v1/surveys", params={"cursor": "!!"})
    assert bad.status_code == 422
    assert (await surveys.http.get("/v1/surveys", params={"status": "lost"})).status_code == 422
