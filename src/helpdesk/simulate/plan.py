"""The simulation plan: a pure function of (seed, options) to an ordered list of actions.

Nothing here does I/O or reads the clock: the same options give the same plan, so
reproducibility is testable without services. Times are simulated seconds after the
start; the driver turns them into real time with the speed factor.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from . import behaviour, curve
from .catalog import Org, build_org
from .shifts import build_roster, status_changes


class Kind(StrEnum):
    """What an action does (and which REST call the driver makes for it)."""

    AGENT_STATUS = "agent_status"        # routing PUT /v1/agents/{id}/status
    CREATE = "create"                    # intake POST /v1/tickets
    REPLY = "reply"                      # intake POST .../comments (agent, public)
    WORK = "work"                        # intake POST .../worklogs
    PENDING = "pending"                  # intake POST .../status pending (after asking)
    REQUESTER_REPLY = "requester_reply"  # intake POST .../comments (requester)
    HOLD = "hold"                        # intake POST .../status on_hold
    RESUME = "resume"                    # intake POST .../status open
    TRANSFER = "transfer"                # intake POST .../assign (another team or agent)
    ESCALATE = "escalate"                # intake POST .../escalate
    RESOLVE = "resolve"                  # intake POST .../resolve
    REOPEN = "reopen"                    # intake POST .../reopen (requester)
    CLOSE = "close"                      # intake POST .../close (requester confirms)
    SURVEY = "survey"                    # surveys POST /v1/surveys/{token}/responses


@dataclass(frozen=True)
class Options:
    """What to simulate: seed, simulated span, peak rate, simulated start, namespace."""

    seed: int = 1
    duration: float = 8 * curve.HOUR
    rate: float = 30.0
    start: float = 8 * curve.HOUR  # Monday 08:00
    namespace: str = ""


@dataclass(frozen=True)
class Action:
    """One step: at simulated second `at` after the start, `kind` on plan-local `ticket`.

    `agent` is the acting agent the plan expects (the driver uses the ticket's real agent
    when routing chose another); `data` holds the request's content.
    """

    at: float
    kind: Kind
    ticket: str | None = None
    agent: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """The ordered actions, the organisation they act in, and the options that made them."""

    options: Options
    org: Org
    actions: tuple[Action, ...]

    @property
    def tickets(self) -> tuple[Action, ...]:
        """The create actions, in order."""
        return tuple(a for a in self.actions if a.kind is Kind.CREATE)


def arrivals(options: Options) -> list[float]:
    """Arrival times (simulated week seconds) by thinning a Poisson process at the peak rate."""
    rng = random.Random(f"arrivals:{options.seed}")
    times: list[float] = []
    t, end = options.start, options.start + options.duration
    if options.rate <= 0:
        return times
    while True:
        t += rng.expovariate(options.rate / curve.HOUR)
        if t >= end:
            return times
        if rng.random() < curve.factor(t):
            times.append(t)


def build_plan(options: Options) -> Plan:
    """Every action of the simulation, ordered by time (ties keep generation order)."""
    org = build_org(options.namespace)
    start, end = options.start, options.start + options.duration
    roster = build_roster(org.agents, start, end, options.seed)
    steps: list[tuple[float, int, Action]] = []

    def add(at: float, action_kind: Kind, ticket: str | None = None, agent: str | None = None,
            /, **data: Any) -> None:
        if start <= at < end:
            steps.append((at, len(steps), Action(round(at - start, 3), action_kind, ticket, agent,
                                                 data)))

    for change in status_changes(roster, org.agents, start, end):
        add(change.at, Kind.AGENT_STATUS, None, change.agent, status=change.status)
    for number, created in enumerate(arrivals(options), start=1):
        key = f"T{number:05d}"
        rng = random.Random(f"ticket:{options.seed}:{key}")
        for at, kind, agent, data in behaviour.ticket_story(rng, org, roster, created, key):
            add(at, Kind(kind), key, agent, **data)
    steps.sort(key=lambda s: (s[0], s[1]))
    return Plan(options, org, tuple(action for _, _, action in steps))
