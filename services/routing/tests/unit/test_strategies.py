"""Eligibility and the three strategies for choosing an agent within a team."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from helpdesk_events.routing import AgentStatus, Strategy
from helpdesk_routing.domain.model import Agent, TicketFacts, Workload, WorkingSpan
from helpdesk_routing.domain.strategies import choose_agent, eligible, least_loaded, round_robin, skills_match

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # a Wednesday


def agent(id: str, capacity: int = 5, status: AgentStatus = AgentStatus.ONLINE, **kw: object) -> Agent:
    return Agent(id=id, name=id, teams=("t",), tier=1, capacity=capacity, status=status, **kw)  # type: ignore[arg-type]


def facts(**kw: object) -> TicketFacts:
    base: dict[str, object] = dict(ticket_id=uuid.uuid4(), subject="s", channel="email", type="incident", priority="P3")
    return TicketFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_only_online_agents_below_capacity_within_hours_are_eligible() -> None:
    load = Workload(open_by_agent={"full": 2})
    assert eligible(agent("a"), load, NOW)
    assert not eligible(agent("away", status=AgentStatus.AWAY), load, NOW)
    assert not eligible(agent("off", status=AgentStatus.OFFLINE), load, NOW)
    assert not eligible(agent("full", capacity=2), load, NOW)
    assert not eligible(agent("zero", capacity=0), load, NOW)
    wednesday_morning = (WorkingSpan(weekday=2, start_minute=8 * 60, end_minute=12 * 60),)
    monday = (WorkingSpan(weekday=0, start_minute=0, end_minute=1440),)
    assert eligible(agent("day", schedule=wednesday_morning), load, NOW)
    assert not eligible(agent("mon", schedule=monday), load, NOW)


def test_round_robin_takes_the_next_agent_after_the_cursor_and_wraps() -> None:
    team = [agent("c"), agent("a"), agent("b")]
    assert round_robin(team, None).id == "a"  # type: ignore[union-attr]
    assert round_robin(team, "a").id == "b"  # type: ignore[union-attr]
    assert round_robin(team, "c").id == "a"  # type: ignore[union-attr]
    assert round_robin(team, "gone").id == "a"  # type: ignore[union-attr]
    assert round_robin([], "a") is None


@given(st.integers(min_value=1, max_value=7), st.integers(min_value=0, max_value=200))
def test_round_robin_spreads_tickets_within_one_of_each_other(agents: int, tickets: int) -> None:
    team = [agent(f"a{i}", capacity=1000) for i in range(agents)]
    cursor: str | None = None
    counts: Counter[str] = Counter()
    for _ in range(tickets):
        chosen = choose_agent(Strategy.ROUND_ROBIN, team, Workload(open_by_agent=dict(counts),
                              cursors={"t": cursor} if cursor else {}), facts(), team_id="t", now=NOW)
        assert chosen is not None
        counts[chosen.id] += 1
        cursor = chosen.id
    spread = [counts.get(a.id, 0) for a in team]
    assert max(spread) - min(spread) <= 1


def test_round_robin_skips_agents_at_capacity() -> None:
    team = [agent("a", capacity=1), agent("b", capacity=1), agent("c", capacity=1)]
    chosen = choose_agent(Strategy.ROUND_ROBIN, team, Workload(open_by_agent={"b": 1}, cursors={"t": "a"}),
                          facts(), team_id="t", now=NOW)
    assert chosen is not None and chosen.id == "c"


def test_least_loaded_compares_open_tickets_relative_to_capacity() -> None:
    team = [agent("big", capacity=10), agent("small", capacity=2)]
    load = Workload(open_by_agent={"big": 4, "small": 1})
    assert least_loaded(team, load).id == "big"  # type: ignore[union-attr]  # 40 % < 50 %
    assert least_loaded(team, Workload(open_by_agent={"big": 6, "small": 1})).id == "small"  # type: ignore[union-attr]


def test_skills_match_prefers_language_then_skills_then_load() -> None:
    team = [
        agent("en-net", languages=("en",), skills=("network/vpn",)),
        agent("de-any", languages=("de",), skills=()),
        agent("de-net", languages=("de",), skills=("network", "vpn")),
        agent("de-net-busy", languages=("de",), skills=("network", "vpn")),
    ]
    load = Workload(open_by_agent={"de-net-busy": 3})
    ticket = facts(language="de-CH", category="network/vpn")
    assert skills_match(team, load, ticket).id == "de-net"  # type: ignore[union-attr]
    assert skills_match(team, load, facts(language="en", category="network/vpn")).id == "en-net"  # type: ignore[union-attr]


def test_skills_match_counts_rule_skills_tags_and_service() -> None:
    team = [agent("a", skills=("sap",)), agent("b", skills=("printing",))]
    assert skills_match(team, Workload(), facts(), extra_skills=("printing",)).id == "b"  # type: ignore[union-attr]
    assert skills_match(team, Workload(), facts(affected_service="SAP")).id == "a"  # type: ignore[union-attr]
    assert skills_match(team, Workload(), facts(tags=("printing",))).id == "b"  # type: ignore[union-attr]


def test_nobody_eligible_means_no_agent() -> None:
    team = [agent("a", status=AgentStatus.AWAY), agent("b", capacity=0)]
    for strategy in Strategy:
        assert choose_agent(strategy, team, Workload(), facts(), team_id="t", now=NOW) is None


def test_agents_of_other_teams_are_not_candidates() -> None:
    other = Agent(id="x", name="x", teams=("other",), tier=1, capacity=5, status=AgentStatus.ONLINE)
    assert choose_agent(Strategy.LEAST_LOADED, [other], Workload(), facts(), team_id="t", now=NOW) is None
