"""SLA policies, their matching, the built-in defaults and the configuration a decision reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from helpdesk_businesstime import Calendar
from helpdesk_events.sla import PolicyConditions, PolicyTargets, Target, TicketStatus
from pydantic import BaseModel, ConfigDict, Field

from .facts import TicketFacts

#: Id of the built-in 24x7 calendar (always present, used by the default policies).
DEFAULT_CALENDAR_ID = "24x7"
DEFAULT_PAUSE_STATUSES: tuple[TicketStatus, ...] = ("pending", "on_hold")

_HOUR = 3600


class Policy(BaseModel):
    """An SLA policy: which tickets, which targets, on which calendar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    name: str = ""
    order: int = 0
    conditions: PolicyConditions = PolicyConditions()
    targets: PolicyTargets
    calendar_id: str = DEFAULT_CALENDAR_ID
    warn_at_percent: int | None = None
    pause_statuses: tuple[TicketStatus, ...] = DEFAULT_PAUSE_STATUSES
    escalate_on_breach: bool = False
    active: bool = True

    def target_seconds(self, target: Target) -> int | None:
        """The policy's target for `target` in business seconds, None when it has none."""
        return getattr(self.targets, target.value)

    def warn_seconds(self, target: Target) -> int | None:
        """Business seconds after which a warning is due, None without warnings."""
        seconds = self.target_seconds(target)
        if seconds is None or self.warn_at_percent is None:
            return None
        return seconds * self.warn_at_percent // 100

    def matches(self, facts: TicketFacts) -> bool:
        """Whether every non-empty condition holds for the ticket."""
        c = self.conditions
        checks = (
            (c.priorities, facts.priority),
            (c.types, facts.type),
            (c.channels, facts.channel),
            (c.categories, facts.category),
            (c.affected_services, facts.affected_service),
            (c.orgs, facts.org),
            (c.tiers or (), facts.tier),
        )
        return all(not allowed or value in allowed for allowed, value in checks)


def _default(priority: str, first: int, nxt: int, resolution: int, escalate: bool) -> Policy:
    return Policy(
        id=f"default-{priority.lower()}",
        name=f"Default {priority}",
        order=1_000_000 + int(priority[1]),
        conditions=PolicyConditions(priorities=(priority,)),  # type: ignore[arg-type]
        targets=PolicyTargets(first_response=first, next_response=nxt, resolution=resolution),
        calendar_id=DEFAULT_CALENDAR_ID,
        warn_at_percent=75,
        escalate_on_breach=escalate,
    )


#: Used after the configured policies, so every ticket has an SLA (targets in 24x7 seconds).
DEFAULT_POLICIES: tuple[Policy, ...] = (
    _default("P1", 15 * 60, 30 * 60, 4 * _HOUR, True),
    _default("P2", 1 * _HOUR, 2 * _HOUR, 8 * _HOUR, True),
    _default("P3", 4 * _HOUR, 8 * _HOUR, 72 * _HOUR, False),
    _default("P4", 8 * _HOUR, 24 * _HOUR, 120 * _HOUR, False),
)


#: Built once: constructing a Calendar validates its intervals (frozen, so shareable).
_DEFAULT_CALENDAR = Calendar.always_open(name="24x7")


def default_calendar() -> Calendar:
    """The built-in 24x7 calendar in UTC."""
    return _DEFAULT_CALENDAR


@dataclass(frozen=True)
class SlaConfig:
    """What decisions read: the ordered policies and the calendars by id."""

    policies: tuple[Policy, ...] = ()
    calendars: Mapping[str, Calendar] = field(default_factory=dict)

    @cached_property
    def _ordered(self) -> tuple[Policy, ...]:
        # Computed once per config: a decision asks for them per event and per fired timer.
        configured = sorted((p for p in self.policies if p.active), key=lambda p: (p.order, p.id))
        return (*configured, *DEFAULT_POLICIES)

    @cached_property
    def _by_id(self) -> dict[str, Policy]:
        found: dict[str, Policy] = {}
        for policy in (*self.policies, *DEFAULT_POLICIES):
            found.setdefault(policy.id, policy)  # the first of an id wins, as in a scan
        return found

    def all_policies(self) -> tuple[Policy, ...]:
        """Active configured policies in order, then the defaults."""
        return self._ordered

    def match(self, facts: TicketFacts) -> Policy:
        """The first policy whose conditions hold (a default policy always does)."""
        for policy in self.all_policies():
            if policy.matches(facts):
                return policy
        return DEFAULT_POLICIES[-1]

    def policy(self, policy_id: str) -> Policy | None:
        """A policy by id (configured or default)."""
        return self._by_id.get(policy_id)

    def calendar(self, calendar_id: str) -> Calendar:
        """A calendar by id; an unknown id (deleted since) falls back to 24x7."""
        found = self.calendars.get(calendar_id)
        return found if found is not None else default_calendar()
