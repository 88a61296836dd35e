"""One decision function per command: the rules of `domain.py`'s docstring, in code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from helpdesk_events.tickets import (
    ActorRole,
    AffectedServiceChange,
    Category,
    ChangeImplemented,
    ChannelChange,
    CloseReason,
    CommentAdded,
    CustomFieldsChange,
    DescriptionChange,
    Identifier,
    LanguageChange,
    PriorityChanged,
    RequesterChange,
    Status,
    SubjectChange,
    TagsChange,
    TicketAssigned,
    TicketCategorized,
    TicketClosed,
    TicketCreated,
    TicketEscalated,
    TicketEvent,
    TicketMerged,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
    TicketType,
    TicketUpdated,
    Tier,
    TypeChange,
    WorkLogged,
)

from helpdesk_intake.commands import (
    AddComment,
    AssignTicket,
    Categorize,
    ChangePriority,
    ChangeStatus,
    CloseTicket,
    CreateTicket,
    EscalateTicket,
    LogWork,
    MergeTicket,
    RecordChangeOutcome,
    ReopenTicket,
    ResolveTicket,
    Unset,
    UpdateTicket,
)
from helpdesk_intake.errors import (
    IllegalTransition,
    InvalidCommand,
    NotAllowedInStatus,
    ReopenWindowExpired,
)
from helpdesk_intake.guards import (
    Events,
    auto_close_due,
    check,
    opened_by_agent,
    require_working,
    same,
    status_change,
    strip,
)
from helpdesk_intake.rules import (
    STAFF_ROLES,
    TRANSITIONS,
    WORKING,
    Policy,
    allowed_moves,
    normalise_tags,
    priority_for,
)
from helpdesk_intake.state import TicketState


def _create(state: TicketState | None, cmd: CreateTicket, now: datetime, _: Policy) -> Events:
    if state is not None:
        raise InvalidCommand("ticket_id", f"ticket {state.id} already exists")
    if cmd.follow_up_of == cmd.ticket_id:
        raise InvalidCommand("follow_up_of", "a ticket cannot follow up itself")
    return [
        TicketCreated(
            ticket_id=cmd.ticket_id,
            occurred_at=now,
            number=cmd.number,
            subject=cmd.subject,
            description=cmd.description,
            requester=cmd.requester,
            channel=cmd.channel,
            type=cmd.type,
            category=cmd.category,
            priority=cmd.priority or priority_for(cmd.impact, cmd.urgency),
            impact=cmd.impact,
            urgency=cmd.urgency,
            affected_service=cmd.affected_service,
            language=cmd.language,
            tags=normalise_tags(cmd.tags),
            custom_fields=dict(cmd.custom_fields),
            by=cmd.by,
            follow_up_of=cmd.follow_up_of,
        )
    ]


def _update(state: TicketState, cmd: UpdateTicket, now: datetime, _: Policy) -> Events:
    changes: list[Any] = []

    def offer(kind: type, field: str, new: Any) -> None:
        if isinstance(new, Unset):
            return
        old = getattr(state, field)
        if not same(old, new):
            try:
                changes.append(kind(before=old, after=new))
            except ValidationError as error:
                raise InvalidCommand(field, error.errors()[0]["msg"]) from error

    offer(SubjectChange, "subject", strip(cmd.subject))
    offer(DescriptionChange, "description", cmd.description)
    offer(RequesterChange, "requester", cmd.requester)
    offer(ChannelChange, "channel", cmd.channel)
    offer(TypeChange, "type", cmd.type)
    offer(AffectedServiceChange, "affected_service", strip(cmd.affected_service))
    offer(LanguageChange, "language", cmd.language)
    if not isinstance(cmd.tags, Unset):
        offer(TagsChange, "tags", normalise_tags(cmd.tags))
    if not isinstance(cmd.custom_fields, Unset):
        merged = dict(state.custom_fields)
        for key, value in cmd.custom_fields.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        offer(CustomFieldsChange, "custom_fields", merged)
    if not changes:
        return []
    return [TicketUpdated(ticket_id=state.id, occurred_at=now, changes=changes, by=cmd.by)]


def _change_priority(
    state: TicketState, cmd: ChangePriority, now: datetime, _: Policy
) -> Events:
    if cmd.priority is None and cmd.impact is None and cmd.urgency is None:
        raise InvalidCommand("priority", "give a priority, an impact or an urgency")
    impact = cmd.impact or state.impact
    urgency = cmd.urgency or state.urgency
    priority = cmd.priority or priority_for(impact, urgency)
    if (priority, impact, urgency) == (state.priority, state.impact, state.urgency):
        return []
    return [
        PriorityChanged(
            ticket_id=state.id,
            occurred_at=now,
            from_priority=state.priority,
            to_priority=priority,
            impact=impact,
            urgency=urgency,
            reason=cmd.reason,
            by=cmd.by,
        )
    ]


def _categorize(state: TicketState, cmd: Categorize, now: datetime, _: Policy) -> Events:
    category = check("category", Category, cmd.category)
    if category == state.category:
        return []
    return [
        TicketCategorized(
            ticket_id=state.id,
            occurred_at=now,
            from_category=state.category,
            to_category=category,
            by=cmd.by,
        )
    ]


def _comment(state: TicketState, cmd: AddComment, now: datetime, _: Policy) -> Events:
    role = cmd.author.role
    if role is ActorRole.REQUESTER and not cmd.public:
        raise InvalidCommand("public", "requesters cannot write internal notes")
    events: Events = [
        CommentAdded(
            ticket_id=state.id,
            occurred_at=now,
            comment_id=cmd.comment_id,
            author=cmd.author,
            public=cmd.public,
            body=cmd.body,
        )
    ]
    if cmd.public and role in STAFF_ROLES and state.status is Status.NEW:
        events.append(status_change(state, Status.OPEN, cmd.author, now, "agent replied"))
    elif cmd.public and role is ActorRole.REQUESTER and state.status is Status.PENDING:
        events.append(status_change(state, Status.OPEN, cmd.author, now, "requester replied"))
    return events


def _change_status(state: TicketState, cmd: ChangeStatus, now: datetime, _: Policy) -> Events:
    to = check("to_status", Status, cmd.to_status)
    if to is state.status:
        return []
    if to not in TRANSITIONS[state.status]:
        raise IllegalTransition(state.status, to, allowed_moves(state.status))
    if to is Status.RESOLVED:
        raise InvalidCommand("to_status", "resolve with a resolution code (ResolveTicket)")
    if to is Status.CLOSED:
        raise InvalidCommand("to_status", "close with CloseTicket")
    if state.status is Status.RESOLVED:
        raise InvalidCommand("to_status", "reopen with a reason (ReopenTicket)")
    return [status_change(state, to, cmd.by, now, cmd.reason)]


def _assign(state: TicketState, cmd: AssignTicket, now: datetime, _: Policy) -> Events:
    require_working(state, "assigned")
    team = check("team", Identifier, cmd.team)
    agent = check("agent", Identifier | None, cmd.agent)
    tier = check("tier", Tier | None, cmd.tier) or state.tier or Tier.T1
    if state.tier is not None and tier > state.tier:
        raise InvalidCommand("tier", f"raising the tier above {state.tier} is an escalation")
    common = dict(
        ticket_id=state.id,
        occurred_at=now,
        by=cmd.by,
        reason=cmd.reason,
        routing_decision_id=cmd.routing_decision_id,
    )
    if (team, agent, tier) == (state.team, state.agent, state.tier):
        return []
    picks_from_queue = team == state.team and state.agent is None and tier == state.tier
    if state.team is None or picks_from_queue:
        event: TicketEvent = TicketAssigned(tier=tier, team=team, agent=agent, **common)
    else:
        event = TicketTransferred(
            from_team=state.team,
            to_team=team,
            from_agent=state.agent,
            to_agent=agent,
            from_tier=state.tier or Tier.T1,
            to_tier=tier,
            **common,
        )
    return [event, *opened_by_agent(state, agent, cmd.by, now)]


def _escalate(state: TicketState, cmd: EscalateTicket, now: datetime, _: Policy) -> Events:
    require_working(state, "escalated")
    from_tier = state.tier or Tier.T1
    to_tier = check("to_tier", Tier, cmd.to_tier)
    if to_tier <= from_tier:
        raise InvalidCommand("to_tier", f"must be above the current tier {from_tier}")
    to_team = check("to_team", Identifier | None, cmd.to_team)
    to_agent = check("to_agent", Identifier | None, cmd.to_agent)
    common = dict(
        ticket_id=state.id,
        occurred_at=now,
        by=cmd.by,
        reason=cmd.reason,
        routing_decision_id=cmd.routing_decision_id,
    )
    escalated = dict(from_tier=from_tier, to_tier=to_tier, trigger=cmd.trigger, **common)
    if state.team is None:
        # The first team an escalation names is the ticket's first assignment.
        if to_team is None and to_agent is not None:
            raise InvalidCommand("to_team", "an unassigned ticket needs a team for the agent")
        events: Events = [TicketEscalated(**escalated)]
        if to_team is not None:
            events.append(TicketAssigned(tier=to_tier, team=to_team, agent=to_agent, **common))
        return [*events, *opened_by_agent(state, to_agent, cmd.by, now)]
    new_team, new_agent = state.team, state.agent
    if to_team is not None:
        new_team, new_agent = to_team, to_agent
    elif to_agent is not None:
        new_agent = to_agent
    event = TicketEscalated(
        from_team=state.team,
        to_team=new_team,
        from_agent=state.agent,
        to_agent=new_agent,
        **escalated,
    )
    return [event, *opened_by_agent(state, new_agent, cmd.by, now)]


def _log_work(state: TicketState, cmd: LogWork, now: datetime, _: Policy) -> Events:
    return [
        WorkLogged(
            ticket_id=state.id,
            occurred_at=now,
            agent=cmd.agent,
            seconds=cmd.seconds,
            kind=cmd.kind,
            by=cmd.by,
            note=cmd.note,
        )
    ]


def _resolve(state: TicketState, cmd: ResolveTicket, now: datetime, _: Policy) -> Events:
    if state.status not in WORKING:
        raise IllegalTransition(state.status, Status.RESOLVED, allowed_moves(state.status))
    resolved = TicketResolved(
        ticket_id=state.id,
        occurred_at=now,
        resolution_code=cmd.resolution_code,
        by=cmd.by,
        summary=cmd.summary,
    )
    return [resolved, status_change(state, Status.RESOLVED, cmd.by, now)]


def _reopen(state: TicketState, cmd: ReopenTicket, now: datetime, policy: Policy) -> Events:
    if state.status is not Status.RESOLVED or state.resolved_at is None:
        raise NotAllowedInStatus(state.status, "reopened")
    if now > state.resolved_at + policy.reopen_window:
        raise ReopenWindowExpired(state.id, state.resolved_at, policy.reopen_window)
    reopened = TicketReopened(ticket_id=state.id, occurred_at=now, reason=cmd.reason, by=cmd.by)
    return [reopened, status_change(state, Status.OPEN, cmd.by, now, cmd.reason)]


def _close(state: TicketState, cmd: CloseTicket, now: datetime, policy: Policy) -> Events:
    reason = check("reason", CloseReason, cmd.reason)
    if reason is CloseReason.MERGED:
        raise InvalidCommand("reason", "merging closes a ticket: use MergeTicket")
    if state.status is not Status.RESOLVED:
        raise IllegalTransition(state.status, Status.CLOSED, allowed_moves(state.status))
    if reason is CloseReason.AUTO_CLOSE:
        if cmd.by.role is not ActorRole.SYSTEM:
            raise InvalidCommand("by", "only the system actor auto-closes")
        if not auto_close_due(state, now, policy.auto_close_delay):
            due = state.resolved_at + policy.auto_close_delay  # type: ignore[operator]
            raise InvalidCommand("reason", f"auto-close is not due before {due.isoformat()}")
    closed = TicketClosed(ticket_id=state.id, occurred_at=now, by=cmd.by, reason=reason)
    return [closed, status_change(state, Status.CLOSED, cmd.by, now, reason.value)]


def _merge(state: TicketState, cmd: MergeTicket, now: datetime, _: Policy) -> Events:
    if cmd.ticket_id == cmd.target_ticket_id:
        raise InvalidCommand("target_ticket_id", "a ticket cannot be merged into itself")
    merged = TicketMerged(
        ticket_id=state.id,
        occurred_at=now,
        source_ticket_id=cmd.ticket_id,
        target_ticket_id=cmd.target_ticket_id,
        by=cmd.by,
    )
    if state.id == cmd.target_ticket_id:
        return [] if cmd.ticket_id in state.merged_from else [merged]
    closed = TicketClosed(
        ticket_id=state.id, occurred_at=now, by=cmd.by, reason=CloseReason.MERGED
    )
    note = f"merged into {cmd.target_ticket_id}"
    return [merged, closed, status_change(state, Status.CLOSED, cmd.by, now, note)]


def _change_outcome(
    state: TicketState, cmd: RecordChangeOutcome, now: datetime, _: Policy
) -> Events:
    if state.type is not TicketType.CHANGE:
        raise InvalidCommand("type", f"only change tickets record an outcome, not {state.type}")
    outcome = ChangeImplemented(
        ticket_id=state.id, occurred_at=now, success=cmd.success, by=cmd.by, notes=cmd.notes
    )
    return [outcome]


HANDLERS: dict[type, Callable[[Any, Any, datetime, Policy], Events]] = {
    CreateTicket: _create,
    UpdateTicket: _update,
    ChangePriority: _change_priority,
    Categorize: _categorize,
    AddComment: _comment,
    ChangeStatus: _change_status,
    AssignTicket: _assign,
    EscalateTicket: _escalate,
    LogWork: _log_work,
    ResolveTicket: _resolve,
    ReopenTicket: _reopen,
    CloseTicket: _close,
    MergeTicket: _merge,
    RecordChangeOutcome: _change_outcome,
}
