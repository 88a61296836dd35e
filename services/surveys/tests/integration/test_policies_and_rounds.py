"""Policy CRUD with validation, agent-satisfaction rounds and the HTML form."""

from __future__ import annotations

import re


async def test_policy_crud_round_trip(surveys) -> None:
    created = await surveys.policy(
        name="csat",
        questions=[{"kind": "csat", "comment_required_at_or_below": 2}],
        sample_rate=0.5,
        throttle_days=14,
        remind_before_seconds=86400,
        conditions={"channels": ["email"], "teams": ["network"]},
    )
    url = f"/v1/survey-policies/{created['id']}"
    assert (await surveys.http.get(url)).json() == created
    body = {k: v for k, v in created.items() if k not in ("id", "created_at", "updated_at")}
    replaced = await surveys.http.put(url, json={**body, "enabled": False, "delay_seconds": 60})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["enabled"], replaced.json()["delay_seconds"]) == (False, 60)
    assert [p["name"] for p in (await surveys.http.get("/v1/survey-policies")).json()] == ["csat"]
    assert (await surveys.http.post("/v1/survey-policies", json={**body})).status_code == 409
    assert (await surveys.http.delete(url)).status_code == 204
    assert (await surveys.http.get(url)).status_code == 404
    assert (await surveys.http.delete(url)).status_code == 404


async def test_invalid_policies_are_refused_naming_the_field(surveys) -> None:
    base = {"name": "x", "trigger": "resolved", "questions": [{"kind": "csat"}]}
    cases = [
        ({"trigger": "created"}, "trigger"),
        ({"questions": []}, "questions"),
        ({"questions": [{"kind": "csat", "comment_required_at_or_below": 9}]}, "questions.0"),
        ({"questions": [{"kind": "csat"}, {"kind": "csat"}]}, ""),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"throttle_days": -1}, "throttle_days"),
        ({"delay_seconds": -5}, "delay_seconds"),
        ({"expires_after_seconds": 60, "remind_before_seconds": 60}, ""),
        ({"questions": [{"kind": "agent_satisfaction"}]}, ""),
        ({"unknown": 1}, "unknown"),
    ]
    for change, field in cases:
        response = await surveys.http.post("/v1/survey-policies", json={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert any(e["field"].startswith(field) for e in response.json()["errors"]), (
            change,
            response.json(),
        )


async def test_agent_round_gives_each_agent_a_link_and_publishes_answers(surveys) -> None:
    response = await surveys.http.post(
        "/v1/agent-surveys",
        json={
            "agents": [
                {"id": "agent-1", "team": "network"},
                {"id": "agent-2", "email": "a2@example.com"},
            ]
        },
    )
    assert response.status_code == 201, response.text
    round_ = response.json()
    assert [s["agent_id"] for s in round_["surveys"]] == ["agent-1", "agent-2"]
    sent = await surveys.published("survey.sent.v1")
    assert {e.data.agent_id for e in sent} == {"agent-1", "agent-2"}
    assert all(
        e.data.ticket_id is None and e.data.kinds[0].value == "agent_satisfaction" for e in sent
    )
    token = round_["surveys"][0]["link"].rsplit("/", 1)[1]
    answered = await surveys.http.post(
        f"/v1/surveys/{token}/responses",
        json={"answers": [{"kind": "agent_satisfaction", "score": 4}]},
    )
    assert answered.status_code == 201, answered.text
    [responded] = await surveys.published("survey.responded.v1")
    assert (responded.data.agent_id, responded.data.team, responded.data.ticket_id) == (
        "agent-1",
        "network",
        None,
    )
    listed = await surveys.surveys(round_id=round_["round_id"], status="answered")
    assert [s["agent_id"] for s in listed] == ["agent-1"]
    duplicate = await surveys.http.post(
        "/v1/agent-surveys", json={"agents": [{"id": "a"}, {"id": "a"}]}
    )
    assert duplicate.status_code == 422


async def test_html_form_is_labelled_and_posts_without_javascript(surveys) -> None:
    await surveys.policy(
        delay_seconds=0, questions=[{"kind": "csat", "comment_required_at_or_below": 2}]
    )
    t = surveys.ticket()
    await surveys.feed(t.created(), t.resolved())
    await surveys.tick()
    link = (await surveys.published("survey.sent.v1"))[0].data.link
    path = "/s/" + link.rsplit("/", 1)[1]
    page = await surveys.http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script" not in html and 'name="viewport"' in html
    assert f'action="{path}"' in html and 'method="post"' in html
    for score in range(1, 6):
        assert f'<label for="score_csat_{score}">' in html and f'id="score_csat_{score}"' in html
    assert '<label for="comment">' in html and "<legend>" in html

    form = {"content-type": "application/x-www-form-urlencoded"}
    low = await surveys.http.post(path, content=b"score_csat=1&comment=", headers=form)
    assert low.status_code == 422 and "comment is required" in low.text and "checked" in low.text
    off = await surveys.http.post(path, content=b"score_csat=9", headers=form)
    assert off.status_code == 422 and "off the csat scale" in off.text
    missing = await surveys.http.post(path, content=b"", headers=form)
    assert missing.status_code == 422 and "choose" in missing.text
    done = await surveys.http.post(
        path, content=b"score_csat=1&comment=too+slow+%26+rude", headers=form
    )
    assert done.status_code == 200 and "Thank you" in done.text
    [responded] = await surveys.published("survey.responded.v1")
    assert responded.data.comment == "too slow & rude"
    again = await surveys.http.post(path, content=b"score_csat=5", headers=form)
    assert again.status_code == 409 and "<script" not in again.text
    assert (await surveys.http.get("/s/forged.token")).status_code == 404
    assert re.search(r"answered already", (await surveys.http.get(path)).text)
