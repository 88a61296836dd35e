"""Choosing an agent within a team: eligibility and the three strategies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from helpdesk_events.routing import AgentStatus, Strategy

from .model import Agent, TicketFacts, Workload


def within_schedule(agent: Agent, now: datetime) -> bool:
    """True when the agent has no schedule or `now` (UTC) falls in one of its spans."""
    if not agent.schedule:
        return True
    minute = now.hour * 60 + now.minute
    return any(
        s.weekday == now.weekday() and s.start_minute <= minute < s.end_minute for s in agent.schedule
    )


def eligible(agent: Agent, workload: Workload, now: datetime) -> bool:
    """Only online agents, within their hours, below capacity take new tickets."""
    return (
        agent.status == AgentStatus.ONLINE
        and within_schedule(agent, now)
        and workload.load(agent.id) < agent.capacity
    )


def _utilisation(agent: Agent, workload: Workload) -> float:
    return workload.load(agent.id) / agent.capacity if agent.capacity > 0 else float("inf")


def round_robin(candidates: Sequence[Agent], cursor: str | None) -> Agent | None:
    """The first candidate after `cursor` (the last agent served) in id order, wrapping around."""
    ordered = sorted(candidates, key=lambda a: a.id)
    if not ordered:
        return None
    if cursor is not None:
        for agent in ordered:
            if agent.id > cursor:
                return agent
    return ordered[0]


def least_loaded(candidates: Sequence[Agent], workload: Workload) -> Agent | None:
    """The candidate with the lowest open tickets / capacity (then fewest open, then id)."""
    return min(
        candidates,
        key=lambda a: (_utilisation(a, workload), workload.load(a.id), a.id),
        default=None,
    )


def _language_match(agent: Agent, language: str | None) -> int:
    if not language:
        return 0
    spoken = {lang.casefold() for lang in agent.languages}
    wanted = language.casefold()
    if wanted in spoken:
        return 2
    return 1 if wanted.split("-")[0] in {s.split("-")[0] for s in spoken} else 0


def wanted_skills(facts: TicketFacts, extra: Sequence[str] = ()) -> frozenset[str]:
    """Skills a ticket asks for: the rule's skills, its category (and parents), service, tags."""
    skills = {s.casefold() for s in extra}
    if facts.category:
        parts = facts.category.casefold().split("/")
        skills.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    if facts.affected_service:
        skills.add(facts.affected_service.casefold())
    skills.update(t.casefold() for t in facts.tags)
    return frozenset(skills)


def skills_match(
    candidates: Sequence[Agent], workload: Workload, facts: TicketFacts, extra_skills: Sequence[str] = ()
) -> Agent | None:
    """The candidate speaking the language and holding the most wanted skills, then least loaded."""
    wanted = wanted_skills(facts, extra_skills)

    def score(agent: Agent) -> tuple[int, int, float, int, str]:
        overlap = len(wanted.intersection(s.casefold() for s in agent.skills))
        return (
            -_language_match(agent, facts.language), -overlap,
            _utilisation(agent, workload), workload.load(agent.id), agent.id,
        )

    return min(candidates, key=score, default=None)


def choose_agent(
    strategy: Strategy,
    team_agents: Sequence[Agent],
    workload: Workload,
    facts: TicketFacts,
    *,
    team_id: str,
    now: datetime,
    extra_skills: Sequence[str] = (),
) -> Agent | None:
    """The agent the strategy picks among the team's eligible agents; None when nobody can."""
    candidates = [a for a in team_agents if team_id in a.teams and eligible(a, workload, now)]
    if strategy == Strategy.LEAST_LOADED:
        return least_loaded(candidates, workload)
    if strategy == Strategy.SKILLS_MATCH:
        return skills_match(candidates, workload, facts, extra_skills)
    return round_robin(candidates, workload.cursors.get(team_id))
