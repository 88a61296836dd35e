"""Simulation: histories replayed under a candidate policy give hand-computed verdicts."""

from __future__ import annotations

from helpdesk_events.sla import PolicyConditions, PolicyTargets, Target
from helpdesk_sla.domain.policies import Policy, SlaConfig
from helpdesk_sla.domain.simulate import simulate

from .builders import Ticket, at

HOUR = 3600
CANDIDATE = Policy(
    id="candidate",
    conditions=PolicyConditions(categories=("sim",)),
    targets=PolicyTargets(first_response=HOUR, resolution=4 * HOUR),
)


def scenario() -> list[list]:  # type: ignore[type-arg]
    a, b, c, d = (Ticket(category="sim") for _ in range(4))
    other = Ticket(category="other")
    return [
        # A: answered after 30 min, resolved after 2 h: both met.
        [a.created(), a.reply(30 * 60), a.resolved(2 * HOUR)],
        # B: answered after 90 min, resolved after 5 h: both breached.
        [b.created(), b.reply(90 * 60), b.resolved(5 * HOUR)],
        # C: pending from 10 to 100 min, answered at 110 min (20 min counted), resolved at 4.5 h (3 h counted).
        [
            c.created(),
            c.status(10 * 60, "new", "pending"),
            c.status(100 * 60, "pending", "open"),
            c.reply(110 * 60),
            c.resolved(4.5 * HOUR),
        ],
        # D: never answered, resolved after 3 h: the resolution answers, 2 h late for first response.
        [d.created(), d.resolved(3 * HOUR)],
        # Not matching the candidate's conditions: ignored.
        [other.created(), other.resolved(9 * HOUR)],
    ]


def test_simulation_counts_match_the_hand_computed_verdicts() -> None:
    result = simulate(scenario(), CANDIDATE, SlaConfig(), at(10 * HOUR))
    assert result.tickets == 4
    assert (
        result.targets[Target.FIRST_RESPONSE].met,
        result.targets[Target.FIRST_RESPONSE].breached,
    ) == (2, 2)
    assert (result.targets[Target.RESOLUTION].met, result.targets[Target.RESOLUTION].breached) == (
        3,
        1,
    )
    assert (result.met, result.breached) == (5, 3)


def test_open_clocks_count_as_breached_only_once_past_due_at_the_evaluation_time() -> None:
    ticket = Ticket(category="sim")
    history = [[ticket.created()]]
    early = simulate(history, CANDIDATE, SlaConfig(), at(30 * 60))
    assert early.targets[Target.FIRST_RESPONSE].open == 1 and early.breached == 0
    late = simulate(history, CANDIDATE, SlaConfig(), at(2 * HOUR))
    assert (
        late.targets[Target.FIRST_RESPONSE].breached == 1
        and late.targets[Target.RESOLUTION].open == 1
    )
