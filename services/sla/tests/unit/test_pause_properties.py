"""Pause arithmetic, for any schedule of pauses: counted time is running business time only."""

from __future__ import annotations

from datetime import time

from helpdesk_businesstime import Calendar, Interval, business_seconds_between
from helpdesk_events.sla import PolicyTargets, Target
from helpdesk_sla.domain.decide import fold
from helpdesk_sla.domain.policies import Policy, SlaConfig
from hypothesis import given, settings
from hypothesis import strategies as st

from .builders import Ticket, at

OFFICE = Calendar(
    time_zone="Europe/Berlin", weekly_hours=tuple(Interval(d, time(9), time(17)) for d in range(5))
)
POLICY = Policy(id="p", targets=PolicyTargets(first_response=10**7), calendar_id="office")
CONFIG = SlaConfig(policies=(POLICY,), calendars={"office": OFFICE})

# Strictly increasing instants (seconds after T0, a Monday 09:00 UTC) spanning several days.
instants = st.lists(
    st.integers(min_value=1, max_value=6 * 86_400), min_size=1, max_size=9, unique=True
).map(sorted)


@given(instants)
@settings(max_examples=60, deadline=None)
def test_elapsed_business_time_excludes_every_pause_and_every_closed_hour(
    points: list[int],
) -> None:
    ticket = Ticket()
    *toggles, reply_at = points
    history = [ticket.created(0)]
    running, last, counted = True, 0, 0.0
    for point in toggles:
        if running:
            counted += business_seconds_between(OFFICE, at(last), at(point))
            history.append(ticket.status(point, "open", "pending"))
        else:
            history.append(ticket.status(point, "pending", "open"))
        running, last = not running, point
    if running:
        counted += business_seconds_between(OFFICE, at(last), at(reply_at))
    history.append(ticket.reply(reply_at))
    state = fold(history, CONFIG)
    clock = state.clocks[Target.FIRST_RESPONSE]
    assert clock.outcome == "met"
    assert abs(clock.elapsed - counted) < 1e-6


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=0, max_value=5000))
@settings(max_examples=60, deadline=None)
def test_a_pause_moves_the_due_time_by_exactly_its_length_on_a_24x7_calendar(
    before: int, paused: int
) -> None:
    policy = Policy(id="q", targets=PolicyTargets(first_response=10_000))
    ticket = Ticket()
    history = [
        ticket.created(0),
        ticket.status(before, "open", "pending"),
        ticket.status(before + paused, "pending", "open"),
    ]
    state = fold(history, SlaConfig(policies=(policy,)))
    assert state.clocks[Target.FIRST_RESPONSE].due_at == at(10_000 + paused)
    met = fold([*history, ticket.reply(before + paused + 1)], SlaConfig(policies=(policy,)))
    assert met.clocks[Target.FIRST_RESPONSE].elapsed == before + 1
