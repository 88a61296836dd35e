"""The simulation plan is a pure function of its options: reproducible, ordered, plausible."""

from __future__ import annotations

from collections import Counter

import pytest

from helpdesk.simulate import Kind, Options, build_plan
from helpdesk.simulate.curve import HOUR

EIGHT_HOURS = Options(seed=7, duration=8 * HOUR, rate=30.0)


def stream(options: Options) -> list[tuple[object, ...]]:
    """What reproducibility promises: the tickets and every action, in order."""
    plan = build_plan(options)
    return [(a.at, a.kind, a.ticket, a.agent, repr(a.data)) for a in plan.actions]


def test_the_same_seed_gives_the_same_plan_twice() -> None:
    assert build_plan(EIGHT_HOURS) == build_plan(EIGHT_HOURS)
    assert stream(EIGHT_HOURS) == stream(EIGHT_HOURS)


def test_another_seed_gives_another_ticket_stream() -> None:
    first = [a.data["body"]["subject"] for a in build_plan(EIGHT_HOURS).tickets]
    other = [a.data["body"]["subject"] for a in build_plan(Options(seed=8, duration=8 * HOUR)).tickets]
    assert first != other


def test_actions_are_in_time_order_within_the_duration() -> None:
    actions = build_plan(EIGHT_HOURS).actions
    times = [a.at for a in actions]
    assert times == sorted(times)
    assert 0 <= times[0] and times[-1] < EIGHT_HOURS.duration


def test_every_ticket_starts_with_its_creation() -> None:
    seen: set[str] = set()
    for action in build_plan(EIGHT_HOURS).actions:
        if action.kind is Kind.CREATE:
            seen.add(action.ticket or "")
        elif action.ticket is not None:
            assert action.ticket in seen, action


def test_a_working_day_has_the_whole_lifecycle() -> None:
    kinds = Counter(a.kind for a in build_plan(EIGHT_HOURS).actions)
    for kind in Kind:
        if kind not in (Kind.REOPEN, Kind.HOLD, Kind.RESUME):
            assert kinds[kind] > 0, kind
    assert kinds[Kind.RESOLVE] > kinds[Kind.CREATE] / 3


def test_every_agent_gets_a_status_at_the_start() -> None:
    plan = build_plan(EIGHT_HOURS)
    first = [a for a in plan.actions if a.at == 0 and a.kind is Kind.AGENT_STATUS]
    assert {a.agent for a in first} == {agent.id for agent in plan.org.agents}


def test_a_namespace_prefixes_ids_categories_and_tags() -> None:
    plan = build_plan(Options(seed=1, duration=2 * HOUR, namespace="ns1"))
    for action in plan.tickets:
        body = action.data["body"]
        assert body["category"].startswith("ns1-")
        assert body["requester"]["id"].startswith("ns1-")
        assert "ns1" in body["tags"]
    assert all(agent.id.startswith("ns1-") for agent in plan.org.agents)


def test_rate_zero_plans_no_tickets() -> None:
    assert build_plan(Options(duration=HOUR, rate=0)).tickets == ()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_agent_action_names_an_agent_of_the_org(seed: int) -> None:
    plan = build_plan(Options(seed=seed, duration=6 * HOUR))
    agents = {a.id for a in plan.org.agents}
    for action in plan.actions:
        if action.agent is not None:
            assert action.agent in agents
