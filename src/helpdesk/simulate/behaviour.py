"""How one ticket goes: what arrives, who works it, how the requester reacts (pure, seeded).

A story is a list of (simulated time, action kind, acting agent, request data), in time
order. Agents act only while they are online (their roster); requesters at any hour.
Survey scores follow how the ticket went: a fast resolution without reopen scores high
on CSAT and NPS, transfers, escalations, waiting rounds and reopens cost satisfaction and
raise the effort score (CES).
"""

from __future__ import annotations

import random
from typing import Any

from .catalog import Agent, Category, Org, Requester, Team
from .curve import HOUR
from .shifts import Roster

MINUTE = 60.0
Step = tuple[float, str, str | None, dict[str, Any]]

CHANNELS = {"email": 34, "portal": 24, "phone": 16, "chat": 15, "api": 4, "walk_in": 4,
            "social": 3}
LIVE_CHANNELS = frozenset({"phone", "chat", "walk_in"})
IMPACT = {"low": 50, "medium": 36, "high": 14}
URGENCY = {"low": 28, "medium": 52, "high": 20}
PRIORITY = {("high", "high"): "P1", ("high", "medium"): "P2", ("high", "low"): "P3",
            ("medium", "high"): "P2", ("medium", "medium"): "P3", ("medium", "low"): "P4",
            ("low", "high"): "P3", ("low", "medium"): "P4", ("low", "low"): "P4"}
#: Mean minutes until an online agent first answers, by priority.
FIRST_REPLY_MIN = {"P1": 4.0, "P2": 12.0, "P3": 35.0, "P4": 70.0}
#: Resolution-time scale by priority (urgent work gets done first).
SPEED = {"P1": 0.4, "P2": 0.7, "P3": 1.0, "P4": 1.4}
#: Hours a requester finds a normal resolution time, by priority.
EXPECTED_HOURS = {"P1": 2.0, "P2": 6.0, "P3": 16.0, "P4": 32.0}
RESOLUTION_CODES = {"fixed": 70, "workaround": 15, "user_training": 10, "no_fault_found": 5}

GREETINGS = ("Hello {name}, thanks for reaching out. I'm looking into it now.",
             "Hi {name}, I've picked this up and will get back to you shortly.",
             "Thanks {name}, I can see the problem and am checking our systems.")
QUESTIONS = ("Could you send a screenshot of the error?",
             "Which device and location are you on right now?",
             "Can you confirm when this started and whether colleagues see it too?")
ANSWERS = ("Screenshot attached, it happens every time.", "I'm on my laptop at the office, floor 3.",
           "It started this morning, two colleagues have it too.")
FOLLOW_UPS = ("Thanks, that helps. Working on a fix.", "Got it, I'm testing a change now.")
REOPEN_REASONS = ("The problem is back since this morning.", "The workaround stopped working.",
                  "Still not fixed, same error as before.")
PRAISE = ("Quick and friendly, thank you!", "Solved on the first call, great.")
COMPLAINTS = ("Took far too long and I had to explain it twice.",
              "I was passed around between teams.", "It broke again after it was closed.")


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    """A key drawn by weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def first_team(org: Org, category: Category, language: str) -> Team:
    """The team routing's rules send a new ticket to (mirrors the seeded rules)."""
    if category.name.startswith(org.ns("infra")):
        return org.team(org.ns("network"))
    if language in ("de", "fr"):
        return org.team(org.ns("service-desk-dach"))
    return org.team(org.ns("service-desk"))


def handler_at(rng: random.Random, org: Org, roster: Roster, team: Team, t: float,
               avoid: str | None = None) -> tuple[Agent, float] | None:
    """An agent of `team` online at `t` (random among them), else the first one back."""
    agents = [a for a in org.agents_of(team.id) if a.id != avoid] or list(org.agents_of(team.id))
    online = [a for a in agents if roster.is_online(a.id, t)]
    if online:
        return rng.choice(online), t
    soonest = [(nxt, a.id, a) for a in agents if (nxt := roster.next_online(a.id, t)) is not None]
    if not soonest:
        return None
    nxt, _, agent = min(soonest)
    return agent, nxt


def ticket_body(rng: random.Random, org: Org, key: str) -> tuple[dict[str, Any], Category,
                                                                  Requester, str]:
    """The POST /v1/tickets body of a new ticket, its category, requester and priority."""
    category = rng.choices(org.categories, weights=[c.weight for c in org.categories])[0]
    requester = rng.choice(org.requesters)
    channel = pick(rng, CHANNELS)
    impact = "high" if category.difficulty >= 1.0 and rng.random() < 0.7 else pick(rng, IMPACT)
    urgency = pick(rng, URGENCY)
    subject = rng.choice(category.subjects)
    body = {
        "subject": subject,
        "description": f"{subject}. Reported via {channel} by {requester.name} ({requester.org}).",
        "requester": {"id": requester.id, "email": requester.email, "name": requester.name,
                      "org": requester.org},
        "channel": channel,
        "type": category.type,
        "category": category.name,
        "impact": impact,
        "urgency": urgency,
        "affected_service": category.service,
        "language": requester.language,
        "tags": ["simulated", *([org.namespace] if org.namespace else [])],
    }
    return body, category, requester, PRIORITY[(impact, urgency)]


def survey_scores(rng: random.Random, *, hours: float, priority: str, reopened: bool,
                  transfers: int, escalations: int, waits: int, channel: str) -> dict[str, Any]:
    """CSAT (1-5), NPS (0-10) and CES (1-7) answers that follow how the ticket went."""
    slow = max(0.0, hours / EXPECTED_HOURS[priority] - 1.0)
    mood = (0.9 - 0.3 * reopened - 0.08 * transfers - 0.05 * escalations - 0.04 * waits
            - 0.12 * min(slow, 2.0) + rng.gauss(0, 0.1))
    mood = min(1.0, max(0.0, mood))
    effort = (0.08 + 0.18 * transfers + 0.1 * escalations + 0.12 * waits + 0.25 * reopened
              + (0.08 if channel in ("email", "portal", "social") else 0.0) + rng.gauss(0, 0.08))
    effort = min(1.0, max(0.0, effort))
    csat = min(5, max(1, round(1 + 4 * mood)))
    scores: dict[str, Any] = {
        "csat": csat,
        "nps": min(10, max(0, round(10 * mood + rng.gauss(0, 0.8)))),
        "ces": min(7, max(1, round(1 + 6 * effort))),
    }
    if csat <= 2:
        scores["comment"] = rng.choice(COMPLAINTS)
    elif csat == 5 and rng.random() < 0.3:
        scores["comment"] = rng.choice(PRAISE)
    return scores


class _Story:
    """Collects a ticket's steps, keeping time monotonic and agents within their shifts."""

    def __init__(self, roster: Roster, created: float) -> None:
        self.roster, self.t, self.alive = roster, created, True
        self.steps: list[Step] = []

    def requester(self, delay: float, what: str, /, **data: Any) -> None:
        """The requester acts `delay` later (any hour)."""
        if self.alive:
            self.t += delay
            self.steps.append((self.t, what, None, data))

    def agent(self, agent: Agent, delay: float, what: str, /, **data: Any) -> None:
        """The agent acts `delay` later, or when next online; the story stops if never."""
        if not self.alive:
            return
        when = self.roster.next_online(agent.id, self.t + delay)
        if when is None:
            self.alive = False
            return
        self.t = when
        self.steps.append((self.t, what, agent.id, data))


def ticket_story(rng: random.Random, org: Org, roster: Roster, created: float,
                 key: str) -> list[Step]:
    """Everything that happens to one ticket, from its creation on."""
    body, category, requester, priority = ticket_body(rng, org, key)
    story = _Story(roster, created)
    story.steps.append((created, "create", None, {"body": body, "priority": priority}))
    channel, difficulty = body["channel"], category.difficulty
    team = first_team(org, category, body["language"])
    found = handler_at(rng, org, roster, team, created)
    if found is None:
        return story.steps
    handler, available = found
    live = channel in LIVE_CHANNELS
    wait = rng.uniform(0.5, 3) * MINUTE if live else rng.expovariate(
        1 / (FIRST_REPLY_MIN[priority] * MINUTE))
    story.agent(handler, available - created + wait, "reply",
                body=rng.choice(GREETINGS).format(name=requester.name.split()[0]))
    story.agent(handler, 1, "work", seconds=int(rng.uniform(2, 12) * MINUTE),
                kind="talk" if live else "research")
    transfers = escalations = waits = 0
    tier = team.tier
    first_contact = live and rng.random() < 0.6 - difficulty
    if not first_contact:
        if rng.random() < 0.3:
            waits += 1
            story.agent(handler, rng.uniform(2, 20) * MINUTE, "pending", body=rng.choice(QUESTIONS))
            story.requester(rng.expovariate(1 / (40 * MINUTE)) + MINUTE, "requester_reply",
                            body=rng.choice(ANSWERS))
            story.agent(handler, rng.uniform(3, 30) * MINUTE, "reply", body=rng.choice(FOLLOW_UPS))
        if tier == 1 and rng.random() < 0.1:
            other = [t for t in org.teams_of_tier(1) if t.id != team.id]
            if other and (moved := handler_at(rng, org, roster, other[0], story.t)) is not None:
                transfers += 1
                story.agent(handler, rng.uniform(5, 20) * MINUTE, "transfer", team=other[0].id,
                            to_agent=moved[0].id, reason="Requester prefers another language desk")
                team, handler = other[0], moved[0]
        elif rng.random() < 0.08:
            moved = handler_at(rng, org, roster, team, story.t, avoid=handler.id)
            if moved is not None and moved[0].id != handler.id:
                transfers += 1
                story.agent(handler, rng.uniform(5, 30) * MINUTE, "transfer", team=team.id,
                            to_agent=moved[0].id,
                            reason="Handing over to a colleague with the right skills")
                handler = moved[0]
        if tier == 1 and rng.random() < 0.08 + 0.45 * difficulty:
            up = org.team(category.tier2)
            if (moved := handler_at(rng, org, roster, up, story.t)) is not None:
                escalations += 1
                story.agent(handler, rng.uniform(10, 40) * MINUTE, "escalate", to_tier=2,
                            team=up.id, to_agent=moved[0].id, reason=f"Needs {up.name}")
                team, handler, tier = up, moved[0], 2
                story.agent(handler, rng.uniform(5, 30) * MINUTE, "work", kind="research",
                            seconds=int(rng.uniform(10, 45) * MINUTE))
        if tier == 2 and rng.random() < 0.3 * difficulty:
            up = org.teams_of_tier(3)[0]
            if (moved := handler_at(rng, org, roster, up, story.t)) is not None:
                escalations += 1
                story.agent(handler, rng.uniform(15, 60) * MINUTE, "escalate", to_tier=3,
                            team=up.id, to_agent=moved[0].id,
                            reason="Infrastructure fault suspected")
                team, handler, tier = up, moved[0], 3
        if tier >= 2 and rng.random() < 0.1:
            story.agent(handler, rng.uniform(5, 20) * MINUTE, "hold",
                        reason="Waiting for the vendor")
            story.agent(handler, rng.uniform(0.5, 3) * HOUR, "resume", reason="Vendor answered")
        handle = rng.lognormvariate(0, 0.6) * (15 * MINUTE + difficulty * 2 * HOUR)
        story.agent(handler, handle * SPEED[priority], "work", kind="research",
                    seconds=int(min(4 * HOUR, rng.uniform(0.2, 0.6) * handle)))
    code = "user_training" if category.type == "question" else pick(rng, RESOLUTION_CODES)
    story.agent(handler, rng.uniform(1, 5) * MINUTE, "resolve", resolution_code=code)
    story.agent(handler, 1, "work", kind="after_work", seconds=int(rng.uniform(2, 8) * MINUTE))
    reopened = False
    if rng.random() < 0.05 + 0.15 * (code == "workaround") + 0.06 * difficulty:
        reopened = True
        story.requester(rng.expovariate(1 / (2 * HOUR)) + 10 * MINUTE, "reopen",
                        reason=rng.choice(REOPEN_REASONS))
        story.agent(handler, rng.uniform(5, 40) * MINUTE, "reply", body=rng.choice(FOLLOW_UPS))
        story.agent(handler, rng.uniform(20, 90) * MINUTE, "resolve", resolution_code="fixed")
    resolved_at = story.t
    if rng.random() < 0.5:
        scores = survey_scores(rng, hours=(resolved_at - created) / HOUR, priority=priority,
                               reopened=reopened, transfers=transfers, escalations=escalations,
                               waits=waits, channel=channel)
        story.requester(rng.expovariate(1 / (30 * MINUTE)) + 2 * MINUTE, "survey", **scores)
    if rng.random() < 0.35:
        story.requester(rng.uniform(0.5, 4) * HOUR, "close")
    return story.steps
