"""Clocks per target: start, meet, breach, pause arithmetic, reopen, policy re-evaluation."""

from __future__ import annotations

from datetime import time

from helpdesk_businesstime import Calendar, Interval
from helpdesk_events.sla import (
    ClockCancelled,
    ClockPaused,
    ClockResumed,
    ClockStarted,
    PolicyConditions,
    PolicyTargets,
    SlaBreached,
    SlaMet,
    SlaWarning,
    Target,
)
from helpdesk_sla.domain.clocks import ClockStatus
from helpdesk_sla.domain.decide import apply_event, fire_timer, fold
from helpdesk_sla.domain.policies import Policy, SlaConfig
from helpdesk_sla.domain.state import TimerKind

from .builders import REQUESTER, Ticket, at

FAST = Policy(
    id="fast",
    order=0,
    conditions=PolicyConditions(categories=("fast",)),
    targets=PolicyTargets(first_response=100, next_response=50, resolution=1000),
    warn_at_percent=50,
    escalate_on_breach=True,
)
SLOW = Policy(
    id="slow",
    order=1,
    conditions=PolicyConditions(priorities=("P4",), categories=("fast",)),
    targets=PolicyTargets(first_response=400, resolution=4000),
)
CONFIG = SlaConfig(
    policies=(SLOW.model_copy(update={"order": 0}), FAST.model_copy(update={"order": 1}))
)


def run(events, config=CONFIG):  # type: ignore[no-untyped-def]
    state, emitted = None, []
    for index, event in enumerate(events):
        decision = apply_event(state, event, config, history=events[: index + 1])
        state = decision.state
        emitted.extend(decision.events)
    return state, emitted


def test_created_ticket_starts_first_response_and_resolution_clocks_of_the_first_matching_policy() -> (
    None
):
    ticket = Ticket(category="fast")
    state, events = run([ticket.created()])
    assert state.policy_id == "fast"
    started = {e.target: e for e in events if isinstance(e, ClockStarted)}
    assert set(started) == {Target.FIRST_RESPONSE, Target.RESOLUTION}
    assert started[Target.FIRST_RESPONSE].due_at == at(100)
    assert started[Target.FIRST_RESPONSE].warn_at == at(50)


def test_ticket_matching_no_configured_policy_gets_the_default_for_its_priority() -> None:
    state, _ = run([Ticket(priority="P1").created()], SlaConfig())
    assert state.policy_id == "default-p1"
    assert state.clocks[Target.FIRST_RESPONSE].due_at == at(15 * 60)


def test_first_public_agent_reply_meets_first_response_but_internal_note_does_not() -> None:
    ticket = Ticket(category="fast")
    state, events = run([ticket.created(), ticket.reply(10, public=False), ticket.reply(40)])
    met = [e for e in events if isinstance(e, SlaMet)]
    assert [(m.target, m.elapsed_business_seconds) for m in met] == [(Target.FIRST_RESPONSE, 40)]
    assert state.clocks[Target.FIRST_RESPONSE].outcome == "met"


def test_requester_reply_starts_next_response_which_the_agent_reply_stops() -> None:
    ticket = Ticket(category="fast")
    _, events = run(
        [
            ticket.created(),
            ticket.reply(10),
            ticket.reply(20, by=REQUESTER),
            ticket.reply(30, by=REQUESTER),
            ticket.reply(90),
        ]
    )
    started = [
        e for e in events if isinstance(e, ClockStarted) and e.target is Target.NEXT_RESPONSE
    ]
    assert [s.due_at for s in started] == [at(70)]
    breached = [e for e in events if isinstance(e, SlaBreached)]
    assert [(b.target, b.late_by_seconds) for b in breached] == [(Target.NEXT_RESPONSE, 20)]


def test_pending_pauses_the_clock_and_moves_the_due_time_by_the_paused_time() -> None:
    ticket = Ticket(category="fast")
    state, events = run(
        [
            ticket.created(),
            ticket.status(1, "new", "open"),
            ticket.status(30, "open", "pending"),
            ticket.status(230, "pending", "open"),
        ]
    )
    paused = [e for e in events if isinstance(e, ClockPaused) and e.target is Target.FIRST_RESPONSE]
    assert paused[0].remaining_business_seconds == 70
    resumed = [
        e for e in events if isinstance(e, ClockResumed) and e.target is Target.FIRST_RESPONSE
    ]
    assert resumed[0].due_at == at(300)
    clock = state.clocks[Target.FIRST_RESPONSE]
    assert clock.status is ClockStatus.RUNNING and clock.elapsed == 30


def test_paused_clock_has_no_timers_and_counts_business_time_only() -> None:
    ticket = Ticket(category="fast")
    state, _ = run([ticket.created(), ticket.status(30, "new", "pending")])
    assert apply_event(state, ticket.reply(40, public=False), CONFIG).timers == ()
    decision = apply_event(state, ticket.status(60, "pending", "open"), CONFIG)
    assert [t.due_at for t in decision.timers if t.target is Target.FIRST_RESPONSE] == [
        at(80),
        at(130),
    ]
    paused_only = apply_event(state, ticket.reply(500), CONFIG)
    assert [e.elapsed_business_seconds for e in paused_only.events if isinstance(e, SlaMet)] == [30]


def test_due_time_follows_business_hours_of_the_calendar() -> None:
    office = Calendar(
        time_zone="UTC", weekly_hours=tuple(Interval(d, time(9), time(17)) for d in range(5))
    )
    policy = FAST.model_copy(
        update={"calendar_id": "office", "targets": PolicyTargets(first_response=9 * 3600)}
    )
    config = SlaConfig(policies=(policy,), calendars={"office": office})
    state, _ = run([Ticket(category="fast").created(0)], config)
    # Monday 09:00 + 9 business hours = Tuesday 10:00.
    assert state.clocks[Target.FIRST_RESPONSE].due_at == at(25 * 3600)


def test_warning_then_breach_fire_once_each_with_late_by_from_the_due_time() -> None:
    ticket = Ticket(category="fast")
    state, _ = run([ticket.created()])
    warn, breach = sorted(
        (
            t
            for t in apply_event(state, ticket.reply(0, public=False), CONFIG).timers
            if t.target is Target.FIRST_RESPONSE
        ),
        key=lambda t: t.due_at,
    )
    assert (warn.kind, breach.kind) == (TimerKind.WARNING, TimerKind.BREACH)
    warned = fire_timer(state, warn, CONFIG, at(51))
    assert [type(e) for e in warned.events] == [SlaWarning]
    assert warned.events[0].remaining_business_seconds == 49
    again = fire_timer(warned.state, warn, CONFIG, at(52))
    assert again.events == []
    breached = fire_timer(warned.state, breach, CONFIG, at(160))
    assert [(e.late_by_seconds, e.escalate) for e in breached.events] == [(60, True)]
    assert fire_timer(breached.state, breach, CONFIG, at(170)).events == []
    late_reply = apply_event(breached.state, ticket.reply(200), CONFIG)
    assert not any(
        isinstance(e, (SlaMet, SlaBreached)) and e.target is Target.FIRST_RESPONSE
        for e in late_reply.events
    )
    assert late_reply.state.clocks[Target.FIRST_RESPONSE].outcome == "breached"


def test_stale_timer_of_a_paused_clock_does_not_fire() -> None:
    ticket = Ticket(category="fast")
    state, _ = run([ticket.created()])
    breach = next(
        t
        for t in apply_event(state, ticket.reply(0, public=False), CONFIG).timers
        if t.kind is TimerKind.BREACH and t.target is Target.FIRST_RESPONSE
    )
    paused = apply_event(state, ticket.status(10, "new", "pending"), CONFIG).state
    assert fire_timer(paused, breach, CONFIG, at(200)).events == []


def test_resolution_stops_and_reopen_resumes_the_resolution_clock() -> None:
    ticket = Ticket(category="fast")
    state, events = run(
        [ticket.created(), ticket.reply(5), ticket.resolved(300), ticket.reopened(1000)]
    )
    assert [
        e.elapsed_business_seconds
        for e in events
        if isinstance(e, SlaMet) and e.target is Target.RESOLUTION
    ] == [300]
    clock = state.clocks[Target.RESOLUTION]
    assert clock.status is ClockStatus.RUNNING and clock.due_at == at(1700)


def test_closing_cancels_open_clocks() -> None:
    ticket = Ticket(category="fast")
    _, events = run([ticket.created(), ticket.closed(5)])
    assert {e.target for e in events if isinstance(e, ClockCancelled)} == {
        Target.FIRST_RESPONSE,
        Target.RESOLUTION,
    }


def test_priority_change_moves_the_ticket_to_another_policy_recomputed_from_its_history() -> None:
    ticket = Ticket(category="fast", priority="P3")
    history = [
        ticket.created(),
        ticket.status(10, "new", "pending"),
        ticket.status(60, "pending", "open"),
        ticket.priority_changed(70, "P4"),
    ]
    state, events = run(history)
    assert state.policy_id == "slow"
    restarted = [e for e in events if isinstance(e, ClockStarted) and e.policy == "slow"]
    # 400 business seconds from creation, 50 of them paused.
    assert {e.target: e.due_at for e in restarted} == {
        Target.FIRST_RESPONSE: at(450),
        Target.RESOLUTION: at(4050),
    }
    assert state.clocks[Target.FIRST_RESPONSE].policy_id == "slow"


def test_fold_is_the_same_as_applying_events_one_by_one() -> None:
    ticket = Ticket(category="fast")
    history = [
        ticket.created(),
        ticket.reply(5),
        ticket.reply(20, by=REQUESTER),
        ticket.status(25, "open", "on_hold"),
    ]
    assert fold(history, CONFIG) == run(history)[0]
