"""Decide functions (state + command or event + now -> decisions) and evolve (view + decision -> view)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from helpdesk_events.envelope import Event
from helpdesk_events.routing import EscalationDecided, EscalationTrigger, RoutingDecided, Strategy

from .conditions import first_match
from .model import ASSIGNED, DONE, QUEUED, Agent, Rule, Team, TicketFacts, TicketView, Workload
from .strategies import choose_agent

MAX_TIER = 3


@dataclass(frozen=True)
class RoutingState:
    """Everything a decision looks at: the registry, the rules and the current workload."""

    teams: Mapping[str, Team]
    agents: Mapping[str, Agent]
    rules: Sequence[Rule]
    workload: Workload

    def team_agents(self, team_id: str) -> list[Agent]:
        """Agents working for the team."""
        return [a for a in self.agents.values() if team_id in a.teams]


@dataclass(frozen=True)
class Preview:
    """What routing would decide for a ticket, without side effects."""

    rule: Rule | None
    team: Team | None
    decision: RoutingDecided | None


def default_team(teams: Mapping[str, Team]) -> Team | None:
    """The team of the default route: the first tier-1 team by id (else the lowest tier)."""
    return min(teams.values(), key=lambda t: (t.tier != 1, t.tier, t.id), default=None)


def team_for_tier(teams: Mapping[str, Team], tier: int, facts: TicketFacts) -> Team | None:
    """The team of `tier` best suited to the ticket: its category, then its language, then by id."""
    candidates = [t for t in teams.values() if t.tier == tier]

    def score(team: Team) -> tuple[int, int, str]:
        category = (facts.category or "").casefold()
        by_category = any(
            category == c.casefold() or category.startswith(c.casefold() + "/") for c in team.categories
        )
        by_language = bool(facts.language) and (facts.language or "").casefold().split("-")[0] in {
            lang.casefold().split("-")[0] for lang in team.languages
        }
        return (-int(by_category), -int(by_language), team.id)

    return min(candidates, key=score, default=None)


def _assign(
    state: RoutingState,
    facts: TicketFacts,
    team: Team,
    *,
    tier: int,
    strategy: Strategy,
    rule: str | None,
    why: str,
    now: datetime,
    skills: Sequence[str] = (),
) -> RoutingDecided:
    agent = choose_agent(
        strategy, state.team_agents(team.id), state.workload, facts,
        team_id=team.id, now=now, extra_skills=skills,
    )
    if agent is None:
        return RoutingDecided(
            ticket_id=facts.ticket_id, tier=tier, team=team.id, agent=None, rule=rule,
            strategy=strategy, queued=True,
            reason=f"{why}; no online agent of {team.id} below capacity: queued",
        )
    return RoutingDecided(
        ticket_id=facts.ticket_id, tier=tier, team=team.id, agent=agent.id, rule=rule,
        strategy=strategy, reason=f"{why}; {strategy.value} chose {agent.id}",
    )


def preview(state: RoutingState, facts: TicketFacts, now: datetime) -> Preview:
    """The rule, team and decision a new ticket would get (a dry run of `decide_route`)."""
    rules = [r for r in state.rules if r.team in state.teams]
    rule = first_match(rules, facts)
    team = state.teams[rule.team] if rule is not None else default_team(state.teams)
    if team is None:
        return Preview(rule=None, team=None, decision=None)
    why = f"rule {rule.id} matched" if rule is not None else "no rule matched: default route"
    decision = _assign(
        state, facts, team,
        tier=(rule.tier if rule is not None and rule.tier else team.tier),
        strategy=(rule.strategy if rule is not None and rule.strategy else team.strategy),
        rule=rule.id if rule is not None else None, why=why, now=now,
        skills=rule.skills if rule is not None else (),
    )
    return Preview(rule=rule, team=team, decision=decision)


def decide_route(state: RoutingState, ticket: TicketView, now: datetime) -> list[Event]:
    """Route a new ticket: first matching rule (or the default route), then the team's strategy."""
    return [d] if (d := preview(state, ticket.facts, now).decision) is not None else []


def decide_drain(
    state: RoutingState, team_id: str, queue: Sequence[TicketView], now: datetime
) -> list[RoutingDecided]:
    """Assign the team's queue oldest first while someone can take the head; stop at the first that can't."""
    team = state.teams.get(team_id)
    if team is None:
        return []
    decisions: list[RoutingDecided] = []
    workload = state.workload
    for ticket in sorted(queue, key=lambda t: (t.queued_at or now, str(t.facts.ticket_id))):
        current = dataclasses.replace(state, workload=workload)
        decision = _assign(
            current, ticket.facts, team, tier=ticket.tier or team.tier,
            strategy=ticket.strategy or team.strategy, rule=ticket.rule,
            why=f"taken from the {team.id} queue", now=now, skills=ticket.skills,
        )
        if decision.queued:
            break
        decisions.append(decision)
        workload = evolve_workload(workload, ticket, evolve(ticket, decision, now))
    return decisions


def decide_escalation(
    state: RoutingState, ticket: TicketView, *, trigger: EscalationTrigger, reason: str, now: datetime
) -> list[Event]:
    """Move the ticket one tier up, to the best team of that tier, and pick an agent there."""
    from_tier = ticket.tier or 1
    if ticket.state == DONE or from_tier >= MAX_TIER:
        return []
    to_tier = from_tier + 1
    team = team_for_tier(state.teams, to_tier, ticket.facts)
    escalation = EscalationDecided(
        ticket_id=ticket.facts.ticket_id, from_tier=from_tier, to_tier=to_tier, trigger=trigger,
        to_team=team.id if team is not None else None,
        reason=reason if team is not None else f"{reason}; no team at tier {to_tier}: tier raised only",
    )
    if team is None:
        return [escalation]
    escalated = evolve(ticket, escalation, now)
    freed = dataclasses.replace(state, workload=evolve_workload(state.workload, ticket, escalated))
    decision = _assign(
        freed, ticket.facts, team, tier=to_tier, strategy=team.strategy, rule=None,
        why=f"escalated to tier {to_tier} ({trigger})", now=now,
    )
    return [escalation, decision]


def decide_after_manual_escalation(state: RoutingState, ticket: TicketView, now: datetime) -> list[Event]:
    """After a person raised the tier: give the ticket a team of its new tier and an agent there.

    A ticket already with a team of its tier and an agent is left alone; one with a team of its
    tier but no agent gets one by the team's strategy; otherwise routing moves it to the best
    team of the tier (intake records that move as a transfer at the new tier).
    """
    tier = ticket.tier or 1
    if ticket.state == DONE:
        return []
    current = state.teams.get(ticket.team) if ticket.team else None
    if current is not None and current.tier == tier:
        if ticket.agent is not None:
            return []
        team = current
    else:
        found = team_for_tier(state.teams, tier, ticket.facts)
        if found is None:
            return []
        team = found
    moved = dataclasses.replace(ticket, team=team.id, agent=None, state=QUEUED)
    freed = dataclasses.replace(state, workload=evolve_workload(state.workload, ticket, moved))
    return [_assign(freed, ticket.facts, team, tier=tier, strategy=team.strategy, rule=None,
                    why=f"manual escalation to tier {tier}", now=now)]


class TransferRefused(ValueError):
    """A transfer that cannot be decided; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def decide_transfer(
    state: RoutingState, ticket: TicketView, *, to_team: str, to_agent: str | None, reason: str, now: datetime
) -> list[Event]:
    """Move a ticket to another team (and optionally a named agent); a higher tier is an escalation."""
    team = state.teams.get(to_team)
    if team is None:
        raise TransferRefused("to_team", f"unknown team {to_team!r}")
    if ticket.state == DONE:
        raise TransferRefused("ticket", "the ticket is resolved or closed")
    agent = state.agents.get(to_agent) if to_agent is not None else None
    if to_agent is not None and (agent is None or to_team not in agent.teams):
        raise TransferRefused("to_agent", f"{to_agent!r} is not an agent of {to_team}")
    from_tier = ticket.tier or 1
    events: list[Event] = []
    if team.tier > from_tier:
        events.append(EscalationDecided(
            ticket_id=ticket.facts.ticket_id, from_tier=from_tier, to_tier=team.tier,
            trigger="manual", to_team=team.id, reason=reason,
        ))
    if agent is not None:
        events.append(RoutingDecided(
            ticket_id=ticket.facts.ticket_id, tier=team.tier, team=team.id, agent=agent.id,
            strategy=Strategy.MANUAL, reason=f"transfer: {reason}",
        ))
        return events
    moved = dataclasses.replace(ticket, team=team.id, agent=None, state=QUEUED)
    freed = dataclasses.replace(state, workload=evolve_workload(state.workload, ticket, moved))
    events.append(_assign(freed, ticket.facts, team, tier=team.tier, strategy=team.strategy, rule=None,
                          why=f"transfer: {reason}", now=now))
    return events


def evolve(ticket: TicketView, decision: Event, now: datetime) -> TicketView:
    """The ticket view after one of routing's own decisions."""
    if isinstance(decision, RoutingDecided):
        requeued = decision.queued and (ticket.state != QUEUED or ticket.team != decision.team)
        return dataclasses.replace(
            ticket, state=QUEUED if decision.queued else ASSIGNED, tier=decision.tier,
            team=decision.team, agent=decision.agent, strategy=decision.strategy,
            rule=decision.rule if decision.rule is not None else ticket.rule,
            queued_at=now if requeued else (ticket.queued_at if decision.queued else None),
        )
    if isinstance(decision, EscalationDecided):
        if decision.to_team is None:
            return dataclasses.replace(ticket, tier=decision.to_tier)
        return dataclasses.replace(
            ticket, tier=decision.to_tier, team=decision.to_team, agent=None, state=QUEUED, queued_at=now,
        )
    return ticket


def evolve_workload(workload: Workload, before: TicketView, after: TicketView) -> Workload:
    """Open-ticket counts and round-robin cursors after a ticket moved from `before` to `after`."""
    counts = dict(workload.open_by_agent)
    if before.state == ASSIGNED and before.agent is not None:
        counts[before.agent] = max(0, counts.get(before.agent, 0) - 1)
    if after.state == ASSIGNED and after.agent is not None:
        counts[after.agent] = counts.get(after.agent, 0) + 1
    cursors = dict(workload.cursors)
    if (
        after.state == ASSIGNED and after.agent is not None and after.team is not None
        and after.strategy == Strategy.ROUND_ROBIN and (before.agent, before.state) != (after.agent, ASSIGNED)
    ):
        cursors[after.team] = after.agent
    return Workload(open_by_agent=counts, cursors=cursors)
