"""Agents' working time in simulated time: shifts, lunch and short breaks (pure, seeded)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .catalog import Agent
from .curve import DAY, HOUR


@dataclass(frozen=True)
class StatusChange:
    """An agent goes online, away or offline at simulated time `at` (week seconds)."""

    at: float
    agent: str
    status: str


@dataclass(frozen=True)
class Roster:
    """Each agent's online intervals [from, to) in simulated week seconds, sorted."""

    online: dict[str, tuple[tuple[float, float], ...]]

    def is_online(self, agent: str, t: float) -> bool:
        """True when the agent is online at `t`."""
        return any(a <= t < b for a, b in self.online.get(agent, ()))

    def next_online(self, agent: str, t: float) -> float | None:
        """The earliest time >= t the agent is online (None: not within the roster)."""
        for a, b in self.online.get(agent, ()):
            if t < b:
                return max(a, t)
        return None


def _day_intervals(agent: Agent, day_start: float, rng: random.Random) -> list[tuple[float, float]]:
    begin = day_start + agent.shift[0] * HOUR + rng.uniform(-10, 15) * 60
    end = day_start + agent.shift[1] * HOUR + rng.uniform(-10, 20) * 60
    breaks: list[tuple[float, float]] = []
    if agent.shift[0] < 12 < agent.shift[1]:
        lunch = day_start + 12 * HOUR + rng.uniform(-30, 60) * 60
        breaks.append((lunch, lunch + rng.uniform(30, 50) * 60))
    if rng.random() < 0.5:
        coffee = rng.uniform(begin + HOUR, end - HOUR)
        breaks.append((coffee, coffee + rng.uniform(10, 20) * 60))
    intervals, cursor = [], begin
    for a, b in sorted(breaks):
        if a > cursor:
            intervals.append((cursor, a))
        cursor = max(cursor, b)
    if end > cursor:
        intervals.append((cursor, end))
    return intervals


def build_roster(agents: tuple[Agent, ...], start: float, end: float, seed: int) -> Roster:
    """Online intervals of every agent for the days overlapping [start, end)."""
    online: dict[str, tuple[tuple[float, float], ...]] = {}
    first_day, last_day = int(start // DAY) - 1, int(end // DAY) + 1
    for agent in agents:
        rng = random.Random(f"roster:{seed}:{agent.id}")
        intervals: list[tuple[float, float]] = []
        for day in range(first_day, last_day + 1):
            works = (day % 7) < 5 or agent.weekend
            day_intervals = _day_intervals(agent, day * DAY, rng)  # draw even when off: stable
            if works:
                intervals.extend(day_intervals)
        online[agent.id] = tuple((a, b) for a, b in intervals if b > start and a < end)
    return Roster(online)


def status_changes(roster: Roster, agents: tuple[Agent, ...], start: float,
                   end: float) -> list[StatusChange]:
    """Every agent's status at `start`, then each change within (start, end), in time order.

    Between two intervals of one day an agent is away (a break); outside them, offline.
    """
    changes: list[StatusChange] = []
    for agent in agents:
        intervals = roster.online[agent.id]
        state = "offline"
        if roster.is_online(agent.id, start):
            state = "online"
        elif any(b <= start < nxt < b + 2 * HOUR
                 for (_, b), (nxt, _) in zip(intervals, intervals[1:])):
            state = "away"
        changes.append(StatusChange(start, agent.id, state))
        for i, (a, b) in enumerate(intervals):
            if start < a < end:
                changes.append(StatusChange(a, agent.id, "online"))
            if start < b < end:
                nxt = intervals[i + 1][0] if i + 1 < len(intervals) else None
                gap_is_break = nxt is not None and nxt - b < 2 * HOUR
                changes.append(StatusChange(b, agent.id, "away" if gap_is_break else "offline"))
    return sorted(changes, key=lambda c: (c.at, c.agent))
