"""Random command sequences: state == fold(events), only legal moves, contiguous versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from helpdesk_events.tickets import (
    Actor,
    ActorRole,
    Channel,
    CloseReason,
    EscalationTrigger,
    Impact,
    Priority,
    Requester,
    Status,
    StatusChanged,
    TicketClosed,
    TicketEvent,
    TicketReopened,
    TicketType,
    Tier,
    Urgency,
    WorkKind,
)
from helpdesk_intake.domain import (
    TRANSITIONS,
    AddComment,
    AssignTicket,
    Categorize,
    ChangePriority,
    ChangeStatus,
    CloseTicket,
    Command,
    CreateTicket,
    DomainError,
    EscalateTicket,
    IllegalTransition,
    LogWork,
    MergeTicket,
    Policy,
    RecordChangeOutcome,
    ReopenTicket,
    ResolveTicket,
    TicketAlreadyClosed,
    TicketState,
    UpdateTicket,
    allowed_moves,
    auto_close_due,
    decide,
    evolve,
    fold,
    is_legal_move,
)

TICKET = UUID(int=1)
OTHER = UUID(int=2)
T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)
AGENT = Actor(id="a1", role=ActorRole.AGENT)
POLICY = Policy(reopen_window=timedelta(days=7), auto_close_delay=timedelta(days=3))

actors = st.sampled_from(
    [
        Actor(id="agent-1", role=ActorRole.AGENT),
        Actor(id="agent-2", role=ActorRole.AGENT),
        Actor(id="boss", role=ActorRole.SUPERVISOR),
        Actor(id="req-1", role=ActorRole.REQUESTER),
        Actor(id="router", role=ActorRole.INTEGRATOR),
        Actor(id="system", role=ActorRole.SYSTEM),
    ]
)
teams = st.sampled_from(["desk", "network", "apps"])
agents = st.none() | st.sampled_from(["a1", "a2", "a3"])
tiers = st.sampled_from(list(Tier))
short_text = st.text(alphabet="ab ÄZ-", max_size=8)


class TicketMachine(RuleBasedStateMachine):
    """Drives one ticket with random commands and checks every answer."""

    def __init__(self) -> None:
        super().__init__()
        self.state: TicketState | None = None
        self.events: list[TicketEvent] = []
        self.now = T0

    def execute(self, command: Command) -> list[TicketEvent] | None:
        """Decide and apply; check refusals and accepted events against the rules."""
        before = self.state
        try:
            events = decide(before, command, self.now, POLICY)
        except IllegalTransition as refused:
            assert before is not None and refused.current is before.status
            assert not is_legal_move(refused.current, refused.requested)
            assert refused.allowed == allowed_moves(refused.current)
            return None
        except TicketAlreadyClosed:
            assert before is not None and before.status is Status.CLOSED
            return None
        except DomainError:
            assert before is None or before.status is not Status.CLOSED
            return None
        assert before is None or before.status is not Status.CLOSED, "closed ticket changed"
        status = before.status if before else Status.NEW
        for event in events:
            assert event.ticket_id == TICKET and event.occurred_at == self.now
            if isinstance(event, StatusChanged):
                assert event.from_status is status
                merge = isinstance(command, MergeTicket)
                assert is_legal_move(status, event.to_status, merge=merge), event
                status = event.to_status
            if isinstance(event, TicketReopened):
                assert before is not None and before.resolved_at is not None
                assert self.now <= before.resolved_at + POLICY.reopen_window
            if isinstance(event, TicketClosed) and event.reason is CloseReason.AUTO_CLOSE:
                assert auto_close_due(before, self.now, POLICY.auto_close_delay)
            self.state = evolve(self.state, event)
            self.events.append(event)
            assert self.state.version == len(self.events)
        assert self.state is not None and self.state.status is status
        return events

    @initialize(
        channel=st.sampled_from(Channel),
        type_=st.sampled_from(TicketType),
        impact=st.none() | st.sampled_from(Impact),
        urgency=st.none() | st.sampled_from(Urgency),
        priority=st.none() | st.sampled_from(Priority),
        by=actors,
    )
    def create(self, channel, type_, impact, urgency, priority, by) -> None:
        events = self.execute(
            CreateTicket(
                ticket_id=TICKET,
                number="HD-1",
                subject="Printer on fire",
                requester=Requester(id="req-1"),
                channel=channel,
                type=type_,
                impact=impact,
                urgency=urgency,
                priority=priority,
                by=by,
            )
        )
        assert events is not None and len(events) == 1

    @rule(hours=st.integers(0, 5 * 24))
    def wait(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(to=st.sampled_from(Status), by=actors)
    def change_status(self, to: Status, by: Actor) -> None:
        before = self.state
        assert before is not None
        events = self.execute(ChangeStatus(ticket_id=TICKET, to_status=to, by=by))
        # ChangeStatus is exactly the table, restricted to the working statuses.
        if before.status is Status.CLOSED or to is before.status:
            assert events in (None, [])
        elif (
            to in TRANSITIONS[before.status]
            and before.status is not Status.RESOLVED
            and to in (Status.OPEN, Status.PENDING, Status.ON_HOLD)
        ):
            assert events is not None and len(events) == 1
        else:
            assert events is None

    @rule(author=actors, public=st.booleans())
    def comment(self, author: Actor, public: bool) -> None:
        self.execute(
            AddComment(ticket_id=TICKET, comment_id=uuid4(), author=author, body="x", public=public)
        )

    @rule(team=teams, agent=agents, tier=st.none() | tiers, by=actors)
    def assign(self, team, agent, tier, by) -> None:
        self.execute(
            AssignTicket(ticket_id=TICKET, team=team, agent=agent, tier=tier, by=by, reason="r")
        )

    @rule(
        to_tier=tiers,
        to_team=st.none() | teams,
        to_agent=agents,
        trigger=st.sampled_from(EscalationTrigger),
    )
    def escalate(self, to_tier, to_team, to_agent, trigger) -> None:
        before = self.state
        events = self.execute(
            EscalateTicket(
                ticket_id=TICKET,
                to_tier=to_tier,
                reason="r",
                by=Actor(id="router", role=ActorRole.INTEGRATOR),
                trigger=trigger,
                to_team=to_team,
                to_agent=to_agent,
            )
        )
        if events:
            assert before is not None and to_tier > (before.tier or Tier.T1)

    @rule(seconds=st.integers(-10, 30_000), kind=st.sampled_from(WorkKind))
    def log_work(self, seconds: int, kind: WorkKind) -> None:
        self.execute(
            LogWork(
                ticket_id=TICKET,
                agent="a1",
                seconds=seconds,
                kind=kind,
                by=AGENT,
            )
        )

    @rule(code=st.sampled_from(["fixed", "workaround", "Not A Code"]), by=actors)
    def resolve(self, code: str, by: Actor) -> None:
        self.execute(ResolveTicket(ticket_id=TICKET, resolution_code=code, by=by))

    @rule(by=actors)
    def reopen(self, by: Actor) -> None:
        self.execute(ReopenTicket(ticket_id=TICKET, reason="again", by=by))

    @rule(by=actors, reason=st.sampled_from(CloseReason))
    def close(self, by: Actor, reason: CloseReason) -> None:
        self.execute(CloseTicket(ticket_id=TICKET, by=by, reason=reason))

    @rule(into=st.sampled_from([OTHER, TICKET]), by=actors)
    def merge(self, into: UUID, by: Actor) -> None:
        self.execute(MergeTicket(ticket_id=TICKET, target_ticket_id=into, by=by))

    @rule(
        subject=st.none() | short_text,
        tags=st.none() | st.lists(short_text, max_size=22),
        custom=st.none()
        | st.dictionaries(
            st.sampled_from(["a", "b", "c d"]),
            st.none() | st.integers(-2, 2) | st.booleans() | short_text,
            max_size=3,
        ),
        channel=st.none() | st.sampled_from(Channel),
        service=st.none() | st.sampled_from(["", "vpn", "mail"]),
    )
    def update(self, subject, tags, custom, channel, service) -> None:
        changes = {
            name: value
            for name, value in dict(
                subject=subject, tags=tags, custom_fields=custom, channel=channel
            ).items()
            if value is not None
        }
        if service is not None:
            changes["affected_service"] = service or None
        self.execute(UpdateTicket(ticket_id=TICKET, by=AGENT, **changes))

    @rule(
        priority=st.none() | st.sampled_from(Priority),
        impact=st.none() | st.sampled_from(Impact),
        urgency=st.none() | st.sampled_from(Urgency),
    )
    def change_priority(self, priority, impact, urgency) -> None:
        self.execute(
            ChangePriority(
                ticket_id=TICKET,
                by=AGENT,
                priority=priority,
                impact=impact,
                urgency=urgency,
            )
        )

    @rule(category=st.sampled_from(["network", "network/vpn", " ", "hardware"]))
    def categorize(self, category: str) -> None:
        self.execute(Categorize(ticket_id=TICKET, category=category, by=AGENT))

    @rule(success=st.booleans())
    def change_outcome(self, success: bool) -> None:
        self.execute(RecordChangeOutcome(ticket_id=TICKET, success=success, by=AGENT))

    @invariant()
    def state_is_the_fold_of_the_events(self) -> None:
        if self.events:
            assert fold(self.events) == self.state

    @invariant()
    def versions_are_contiguous(self) -> None:
        versions = []
        state = None
        for event in self.events:
            state = evolve(state, event)
            versions.append(state.version)
        assert versions == list(range(1, len(self.events) + 1))

    @invariant()
    def counters_match_the_history(self) -> None:
        if self.state is None:
            return
        names = [type(e).__name__ for e in self.events]
        assert self.state.reopen_count == names.count("TicketReopened")
        assert self.state.resolution_count == names.count("TicketResolved")
        assert self.state.transfer_count == names.count("TicketTransferred")
        assert self.state.escalation_count == names.count("TicketEscalated")
        assert names.count("TicketClosed") == (1 if self.state.status is Status.CLOSED else 0)

    def teardown(self) -> None:
        # What the codec will do: every event survives JSON and folds to the same state.
        if self.events:
            decoded = [type(e).model_validate_json(e.model_dump_json()) for e in self.events]
            assert fold(decoded) == self.state


TicketMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestTicketCommandSequences = TicketMachine.TestCase
