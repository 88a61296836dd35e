"""Routing's view of a ticket, evolved from the ticket events intake publishes."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from helpdesk_events.envelope import Event
from helpdesk_events.tickets import (
    AffectedServiceChange,
    ChannelChange,
    LanguageChange,
    PriorityChanged,
    RequesterChange,
    SubjectChange,
    TagsChange,
    TicketAssigned,
    TicketCategorized,
    TicketClosed,
    TicketCreated,
    TicketEscalated,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
    TicketUpdated,
    TypeChange,
)

from .model import ASSIGNED, DONE, QUEUED, TicketFacts, TicketView


def facts_of(event: TicketCreated) -> TicketFacts:
    """The routable attributes of a new ticket."""
    return TicketFacts(
        ticket_id=event.ticket_id, subject=event.subject, channel=event.channel.value,
        type=event.type.value, priority=event.priority.value, category=event.category,
        language=event.language, affected_service=event.affected_service,
        requester_org=event.requester.org, tags=tuple(event.tags),
    )


def _facts_after_update(facts: TicketFacts, event: TicketUpdated) -> TicketFacts:
    changes: dict[str, object] = {}
    for change in event.changes:
        if isinstance(change, SubjectChange):
            changes["subject"] = change.after
        elif isinstance(change, ChannelChange):
            changes["channel"] = change.after.value
        elif isinstance(change, TypeChange):
            changes["type"] = change.after.value
        elif isinstance(change, AffectedServiceChange):
            changes["affected_service"] = change.after
        elif isinstance(change, LanguageChange):
            changes["language"] = change.after
        elif isinstance(change, TagsChange):
            changes["tags"] = tuple(change.after)
        elif isinstance(change, RequesterChange):
            changes["requester_org"] = change.after.org
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def _placed(view: TicketView, *, tier: int, team: str | None, agent: str | None, now: datetime) -> TicketView:
    if view.state == DONE:
        return dataclasses.replace(view, tier=tier, team=team, agent=agent)
    if agent is not None:
        return dataclasses.replace(view, tier=tier, team=team, agent=agent, state=ASSIGNED, queued_at=None)
    requeued = view.state != QUEUED or view.team != team
    return dataclasses.replace(
        view, tier=tier, team=team, agent=None, state=QUEUED if team is not None else view.state,
        queued_at=now if requeued else view.queued_at,
    )


#: Events that always reach the view: facts and resolution come from intake alone.
_FOLLOWED = (TicketUpdated, PriorityChanged, TicketCategorized, TicketResolved, TicketClosed, TicketReopened)
#: Moves the view follows when a person made them (no `routing_decision_id`).
_MOVES = (TicketAssigned, TicketTransferred, TicketEscalated)


def may_change(event: Event) -> bool:
    """False when `observe` returns every view unchanged for this event (echoes, comments, ...)."""
    return isinstance(event, _FOLLOWED) or (
        isinstance(event, _MOVES) and getattr(event, "routing_decision_id", None) is None
    )


def observe(view: TicketView, event: Event, now: datetime) -> TicketView:
    """The view after a ticket event.

    Assignments, transfers and escalations that carry a `routing_decision_id` are intake
    applying routing's own decisions, already in the view: they are skipped, so a late echo
    of an old decision never overwrites a newer one. The others are people's actions.
    """
    if isinstance(event, TicketUpdated):
        return dataclasses.replace(view, facts=_facts_after_update(view.facts, event))
    if isinstance(event, PriorityChanged):
        return dataclasses.replace(view, facts=dataclasses.replace(view.facts, priority=event.to_priority.value))
    if isinstance(event, TicketCategorized):
        return dataclasses.replace(view, facts=dataclasses.replace(view.facts, category=event.to_category))
    if isinstance(event, (TicketResolved, TicketClosed)):
        return dataclasses.replace(view, state=DONE)
    if isinstance(event, TicketReopened):
        if view.state != DONE:
            return view
        if view.agent is not None:
            return dataclasses.replace(view, state=ASSIGNED)
        return dataclasses.replace(view, state=QUEUED if view.team else view.state, queued_at=now)
    if not may_change(event):
        return view
    if isinstance(event, TicketAssigned):
        return _placed(view, tier=int(event.tier), team=event.team, agent=event.agent, now=now)
    if isinstance(event, TicketTransferred):
        return _placed(view, tier=int(event.to_tier), team=event.to_team, agent=event.to_agent, now=now)
    if isinstance(event, TicketEscalated):
        team, agent = view.team, view.agent
        if event.to_team is not None:
            team, agent = event.to_team, event.to_agent
        elif event.to_agent is not None:
            agent = event.to_agent
        return _placed(view, tier=int(event.to_tier), team=team, agent=agent, now=now)
    return view
