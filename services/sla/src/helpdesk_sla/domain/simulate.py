"""Policy simulation: replay tickets' histories under a candidate policy and count verdicts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from helpdesk_events.sla import Target
from helpdesk_events.tickets import TicketCreated, TicketEvent

from . import clocks as clk
from .clocks import ClockStatus
from .decide import facts_of, fold
from .policies import Policy, SlaConfig


@dataclass
class TargetCounts:
    """Verdicts of one target over the simulated tickets."""

    met: int = 0
    breached: int = 0
    open: int = 0


@dataclass
class SimulationResult:
    """How many tickets the policy applied to and the verdicts per target."""

    tickets: int = 0
    targets: dict[Target, TargetCounts] = field(default_factory=dict)

    @property
    def met(self) -> int:
        """Targets met, all kinds together."""
        return sum(c.met for c in self.targets.values())

    @property
    def breached(self) -> int:
        """Targets breached, all kinds together."""
        return sum(c.breached for c in self.targets.values())


def simulate(
    histories: Iterable[Sequence[TicketEvent]],
    policy: Policy,
    config: SlaConfig,
    as_of: datetime,
    *,
    match_conditions: bool = True,
) -> SimulationResult:
    """Replay each history under `policy`; clocks still open at `as_of` count as breached when past due."""
    result = SimulationResult(
        targets={t: TargetCounts() for t in Target if policy.target_seconds(t)}
    )
    for history in histories:
        if not history or not isinstance(history[0], TicketCreated):
            continue
        if match_conditions and not policy.matches(facts_of(history[0])):
            continue
        state = fold([e for e in history if e.occurred_at <= as_of], config, policy=policy)
        if state is None:
            continue
        result.tickets += 1
        for target, clock in state.clocks.items():
            counts = result.targets.setdefault(target, TargetCounts())
            if clock.status is ClockStatus.STOPPED:
                if clock.outcome == "met":
                    counts.met += 1
                else:
                    counts.breached += 1
            elif clock.active:
                if clk.is_late(clock, config.calendar(clock.calendar_id), as_of):
                    counts.breached += 1
                else:
                    counts.open += 1
    return result
