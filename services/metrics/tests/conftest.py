"""The reference scenario: small enough that every KPI can be computed by hand.

The unit tests fold it in memory, the integration tests feed the same envelopes to the
handlers (and through a real broker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from helpdesk_metrics.testing import D, H, History

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
M = timedelta(minutes=1)
__all__ = ["D", "H", "M", "T0", "History", "Scenario", "build_reference"]


@dataclass
class Scenario:
    """The reference history and its tickets by letter."""

    history: History
    tickets: dict[str, UUID]
    start: datetime = T0
    end: datetime = T0 + 7 * D


def build_reference(t0: datetime = T0) -> Scenario:
    """Tickets A-E, SLA outcomes, surveys and agent shifts (see test_kpis.py for the arithmetic).

    `t0` shifts the whole history (a Monday 09:00 UTC keeps the business-hours arithmetic).
    """
    T0 = t0  # noqa: N806 - the scenario reads like the tables in the tests
    h = History()
    E = h.ticket(T0 - 2 * D, channel="email", priority="P3", requester="r4", category="printing")
    A = h.ticket(T0, channel="email", category="network", priority="P2", requester="r1", service="vpn",
                 tags=("vpn", "remote"))
    h.assign(A, T0 + 10 * M, agent_id="a1")
    h.reply(A, T0 + 30 * M, "a1")
    h.reply(A, T0 + 40 * M, "a1", public=False)  # an internal note is no contact
    h.work(A, T0 + 1 * H, 600, kind="research", agent_id="a1")
    h.resolve(A, T0 + 2 * H, "a1")
    B = h.ticket(T0 + 1 * H, channel="phone", type="service_request", category="hardware",
                 priority="P3", requester="r2", tags=("laptop",))
    h.assign(B, T0 + 1 * H, agent_id="a2")
    h.work(B, T0 + 1 * H, 300, kind="talk", agent_id="a2")
    h.reply(B, T0 + 3 * H, "a2")
    h.set_status(B, T0 + 3 * H, "pending")
    h.set_status(B, T0 + 5 * H, "open")
    h.escalate(B, T0 + 6 * H, to_tier=2, to_team="l2", to_agent="a3")
    h.resolve(B, T0 + 9 * H, "a3")
    C = h.ticket(T0 + 2 * H, channel="chat", category="network", priority="P1", requester="r1",
                 service="vpn")
    h.assign(C, T0 + 2 * H, agent_id="a1")
    h.reply(C, T0 + 2 * H + 30 * M, "a1")
    h.transfer(C, T0 + 3 * H, to_team="net", to_agent="a4")
    Dt = h.ticket(T0 + D, channel="portal", type="change", category=None, priority="P4", requester="r3")
    h.assign(Dt, T0 + D, agent_id="a1")
    h.reply(Dt, T0 + D + H, "a1")
    h.resolve(Dt, T0 + D + 2 * H, "a1")
    h.reopen(Dt, T0 + D + 3 * H)
    h.change(Dt, T0 + D + 4 * H, success=False)
    h.resolve(Dt, T0 + D + 5 * H, "a1")

    h.sla_met(A, "first_response", T0 + 30 * M)
    h.sla_met(A, "resolution", T0 + 2 * H)
    h.sla_breached(B, "first_response", T0 + 2 * H)
    h.sla_met(B, "resolution", T0 + 9 * H)
    h.sla_met(C, "first_response", T0 + 2 * H + 30 * M)

    h.survey(A, T0 + 2 * H, {"csat": 5, "nps": 10}, T0 + 3 * H, agent_id="a1", kinds=("csat", "nps"))
    h.survey(B, T0 + 9 * H, {"csat": 3, "ces": 5, "nps": 6}, T0 + 10 * H, agent_id="a3",
             kinds=("csat", "ces", "nps"))
    h.survey(Dt, T0 + D + 5 * H, agent_id="a1")
    h.survey(None, T0 + H, {"agent_satisfaction": 4}, T0 + 2 * H, agent_id="a1",
             kinds=("agent_satisfaction",))

    h.agent_status("a1", T0, "online", cost=60.0)
    h.agent_status("a1", T0 + 8 * H, "offline")
    h.agent_status("a2", T0 - D, "online")
    h.agent_status("a2", T0 + 4 * H, "offline")
    h.agent_status("a3", T0 + 5 * H, "online", teams=("l2",))
    h.agent_status("a3", T0 + 10 * H, "away", teams=("l2",))
    h.agent_status("a4", T0 + 3 * H, "online", teams=("net",))
    return Scenario(h, {"A": A, "B": B, "C": C, "D": Dt, "E": E}, T0, T0 + 7 * D)


@pytest.fixture
def reference() -> Scenario:
    """A fresh copy of the reference scenario."""
    return build_reference()
