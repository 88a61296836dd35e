"""Every KPI of the catalog on the reference scenario, against values computed by hand.

Window [T0, T0 + 7 d). Tickets (see conftest.build_reference):
- E: created T0 - 2 d, never touched (backlog, age 9 d).
- A: email/incident/network/P2/vpn, r1; assigned +10 min (a1, tier 1); public reply +30 min;
  research 600 s; resolved +2 h by a1.  One contact -> FCR.
- B: phone/service_request/hardware/P3, r2; assigned +1 h (a2); talk 300 s at +1 h; reply +3 h;
  pending +3 h .. +5 h; escalated to tier 2 (l2/a3) +6 h; resolved +9 h by a3.
- C: chat/incident/network/P1/vpn, r1 (a repeat of A: created at A's resolution);
  reply +2 h 30; transferred to net/a4 +3 h; still open.
- D: portal/change, P4, r3; assigned and created T0 + 1 d; reply +1 h; resolved +2 h;
  reopened +3 h; change failed +4 h; resolved again +5 h.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from helpdesk_businesstime import Calendar
from helpdesk_metrics import kpis
from helpdesk_metrics.dataset import (
    AgentStatusRow,
    AnswerRow,
    CostModel,
    Dataset,
    SlaOutcome,
    SurveySentRow,
    TicketEventRow,
    Window,
)
from helpdesk_metrics.facts import fold
from helpdesk_events.routing import AgentStatusChanged
from helpdesk_events.sla import SlaBreached, SlaMet
from helpdesk_events.surveys import SurveyResponded, SurveySent
from helpdesk_events.tickets import TicketEvent

from ..conftest import D, H, M, T0, Scenario, build_reference

WEEK = 7 * D
COST = CostModel(default_hourly_cost=50.0, monthly_overhead=3000.0, monthly_budget=6000.0,
                 value_per_resolved_ticket=100.0)


def in_memory(scenario: Scenario, cost: CostModel = COST, business: bool = False,
              calendars: dict[str, Calendar] | None = None) -> Dataset:
    """The Dataset the store would load, built straight from the envelopes (no database)."""
    streams: dict = {}
    events, sla, sent, answers, statuses = [], [], [], [], []
    answered: dict = {}
    for env in scenario.history.envelopes:
        e = env.data
        if isinstance(e, TicketEvent):
            streams.setdefault(e.ticket_id, []).append((env.type, e.model_dump(mode="json")))
            if env.type.split(".")[2] in ("work_logged", "resolved", "reopened"):
                events.append(TicketEventRow(e.ticket_id, env.type, e.occurred_at,
                                             getattr(e, "agent", None), getattr(e, "seconds", None)))
        elif isinstance(e, SlaMet):
            sla.append(SlaOutcome(e.ticket_id, e.target.value, "met", e.met_at))
        elif isinstance(e, SlaBreached):
            sla.append(SlaOutcome(e.ticket_id, e.target.value, "breached", e.due_at))
        elif isinstance(e, SurveySent):
            sent.append((e, env.time))
        elif isinstance(e, SurveyResponded):
            answered[e.survey_id] = env.time
            answers += [AnswerRow(e.survey_id, a.kind.value, a.score, a.scale_min, a.scale_max,
                                  env.time, e.ticket_id, e.agent_id) for a in e.answers]
        elif isinstance(e, AgentStatusChanged):
            statuses.append(AgentStatusRow(e.agent_id, e.status.value, env.time, e.teams, e.hourly_cost))
    agent_costs = {s.agent_id: s.hourly_cost for s in statuses if s.hourly_cost is not None}
    return Dataset(
        facts=tuple(fold(tid, stream) for tid, stream in streams.items()),
        events=tuple(events), sla=tuple(sla),
        sent=tuple(SurveySentRow(s.survey_id, at, s.ticket_id, s.agent_id, s.team,
                                 answered.get(s.survey_id)) for s, at in sent),
        answers=tuple(answers), agent_statuses=tuple(statuses),
        cost=CostModel(**{**COST.__dict__, "agent_costs": agent_costs}) if cost is COST else cost,
        business_hours=business, calendars=calendars or {},
    )


@pytest.fixture
def data() -> Dataset:
    return in_memory(build_reference())


WINDOW = Window(T0, T0 + WEEK, T0 + WEEK)


def kpi(data: Dataset, name: str, window: Window = WINDOW) -> kpis.KpiResult:
    return kpis.BY_NAME[name].compute(data, window)


def test_catalog_has_the_35_kpis_in_order() -> None:
    assert [k.number for k in kpis.CATALOG] == list(range(1, 36))
    assert len(kpis.BY_NAME) == 35


def test_volume_counts_tickets_created_in_the_window(data: Dataset) -> None:
    assert kpi(data, "ticket_volume").value == 4  # A B C D; E is older


def test_volume_by_channel_and_distribution(data: Dataset) -> None:
    assert kpi(data, "volume_by_channel").breakdown == {"chat": 1, "email": 1, "phone": 1, "portal": 1}
    dist = kpi(data, "ticket_distribution").breakdown
    assert dist["category"] == {"(none)": 1, "hardware": 1, "network": 2}
    assert dist["type"] == {"change": 1, "incident": 2, "service_request": 1}
    assert dist["tag"] == {"laptop": 1, "remote": 1, "vpn": 1}


def test_opened_vs_resolved_rate(data: Dataset) -> None:
    r = kpi(data, "opened_vs_resolved")
    assert (r.numerator, r.denominator, r.value) == (3, 4, 3 / 4)  # A B D resolved


def test_backlog_and_its_age_profile(data: Dataset) -> None:
    r = kpi(data, "backlog")
    assert r.value == 2  # C and E
    assert r.breakdown == {"<1d": 0, "1-3d": 0, "3-7d": 1, "7-30d": 1, ">=30d": 0}
    assert kpi(data, "high_priority_backlog").value == 1  # C is P1


def test_first_response_time(data: Dataset) -> None:
    r = kpi(data, "first_response_time")
    # A 30 min, B 2 h, C 30 min, D 1 h
    assert r.count == 4
    assert r.mean == (1800 + 7200 + 1800 + 3600) / 4
    assert r.median == (1800 + 3600) / 2
    assert r.p90 == 7200  # nearest rank ceil(0.9 * 4) = 4th


def test_requester_wait_time_excludes_pending(data: Dataset) -> None:
    r = kpi(data, "requester_wait_time")
    # A 2 h; B 2 h new + 4 h open (pending 2 h excluded); D 2 h + 2 h after the reopen
    assert (r.mean, r.median, r.p90) == ((7200 + 21600 + 14400) / 3, 14400, 21600)


def test_resolution_time_counts_to_the_last_resolution(data: Dataset) -> None:
    r = kpi(data, "resolution_time")
    assert (r.mean, r.median, r.p90) == ((7200 + 28800 + 18000) / 3, 18000, 28800)


def test_turnaround_time_starts_at_first_assignment(data: Dataset) -> None:
    r = kpi(data, "turnaround_time")
    assert (r.mean, r.median) == ((6600 + 28800 + 18000) / 3, 18000)


def test_average_handle_time(data: Dataset) -> None:
    r = kpi(data, "average_handle_time")
    assert (r.numerator, r.denominator, r.value) == (900, 3, 300)
    assert r.breakdown == {"talk": 300, "research": 600, "after_work": 0}


def test_first_contact_and_tier1_resolution(data: Dataset) -> None:
    fcr = kpi(data, "first_contact_resolution")
    assert (fcr.numerator, fcr.denominator) == (1, 3)  # only A; B escalated, D reopened
    t1 = kpi(data, "tier1_resolution_rate")
    assert (t1.numerator, t1.denominator) == (2, 3)  # A and D


def test_escalation_transfer_reopen_and_repeat_rates(data: Dataset) -> None:
    assert (kpi(data, "escalation_rate").numerator, kpi(data, "escalation_rate").denominator) == (1, 4)
    assert kpi(data, "transfer_rate").value == 1 / 4
    reopen = kpi(data, "reopen_rate")
    assert (reopen.numerator, reopen.denominator) == (1, 4)  # resolutions: A, B, D twice
    repeat = kpi(data, "repeat_incidents")
    assert repeat.value == 1 / 4
    assert repeat.details == {"next_issue_avoidance": 3 / 4}


def test_sla_compliance_and_breaches(data: Dataset) -> None:
    r = kpi(data, "sla_compliance")
    assert (r.numerator, r.denominator, r.value) == (4, 5, 0.8)
    assert r.breakdown["first_response"] == {"met": 2, "breached": 1, "compliance": 2 / 3}
    assert kpi(data, "sla_breaches").value == 1


def test_survey_kpis(data: Dataset) -> None:
    c = kpi(data, "csat")
    assert (c.numerator, c.denominator, c.mean) == (1, 2, 4.0)
    n = kpi(data, "nps")
    assert n.value == 100 * (1 - 1) / 2
    assert n.details == {"promoters": 1, "passives": 0, "detractors": 1}
    assert kpi(data, "ces").value == 5
    rr = kpi(data, "survey_response_rate")
    assert (rr.numerator, rr.denominator) == (3, 4)
    assert kpi(data, "agent_satisfaction").value == 4


ONLINE = 8 * 3600 + 4 * 3600 + 5 * 3600 + (WEEK - 3 * H).total_seconds()  # a1 a2 a3 a4


def test_agent_utilization_and_availability(data: Dataset) -> None:
    u = kpi(data, "agent_utilization")
    assert (u.numerator, u.denominator) == (900, ONLINE)
    a = kpi(data, "agent_availability")
    assert (a.numerator, a.denominator) == (ONLINE, 4 * WEEK.total_seconds())


def test_time_online_stops_at_the_clock_in_a_window_ending_ahead_of_it(data: Dataset) -> None:
    # Read at T0 + 5 d: a4, online since T0 + 3 h, has not been online the window's last 2 d.
    read = replace(data, read_at=T0 + 5 * D, memo={})
    u = kpi(read, "agent_utilization")
    assert u.denominator == ONLINE - (2 * D).total_seconds()
    a = kpi(read, "agent_availability")
    assert (a.numerator, a.denominator) == (ONLINE - (2 * D).total_seconds(),
                                            4 * (5 * D).total_seconds())
    rows = {r["agent"]: r for r in kpi(read, "agent_performance").details["agents"]}
    assert rows["a4"]["utilization"] == 0.0  # logged no work
    # Read after the window's end: the window's own stop.
    assert kpi(replace(data, read_at=T0 + 9 * D, memo={}), "agent_utilization") == kpi(
        data, "agent_utilization")


def test_workload_balance_over_online_agents(data: Dataset) -> None:
    r = kpi(data, "workload_balance")
    assert r.breakdown == {"a4": 1}  # only a4 is online at the end; C is on a4
    assert r.value == 0.0


def test_agent_performance_and_competence(data: Dataset) -> None:
    rows = {r["agent"]: r for r in kpi(data, "agent_performance").details["agents"]}
    assert set(rows) == {"a1", "a2", "a3", "a4"}
    assert rows["a1"]["resolved"] == 2 and rows["a1"]["fcr"] == 1 / 2
    assert rows["a1"]["reopen_rate"] == 1 / 2
    assert rows["a3"]["csat"] == 0.0 and rows["a1"]["csat"] == 1.0
    index = {r["agent"]: r["competence_index"] for r in kpi(data, "competence_index").details["agents"]}
    # medians: fcr of (a1 .5, a3 0) = .25; reopen of (a1 .5, a3 0) = .25; csat (a1 1, a3 0) = .5
    assert index["a1"] == pytest.approx((0.5 - 0.25) - (0.5 - 0.25) + (1 - 0.5))
    assert index["a3"] == pytest.approx((0 - 0.25) - (0 - 0.25) + (0 - 0.5))


LABOUR = 600 / 3600 * 60 + 300 / 3600 * 50  # a1 at 60/h (routing), a2 at the default 50/h
OVERHEAD = 3000 * 7 / 30


def test_cost_budget_and_roi(data: Dataset) -> None:
    c = kpi(data, "cost_per_ticket")
    assert c.numerator == pytest.approx(LABOUR + OVERHEAD) and c.denominator == 3
    assert kpi(data, "budget_adherence").value == pytest.approx((LABOUR + OVERHEAD) / (6000 * 7 / 30))
    assert kpi(data, "roi").value == pytest.approx((300 - LABOUR - OVERHEAD) / (LABOUR + OVERHEAD))


def test_change_success_and_incidents_by_service(data: Dataset) -> None:
    ch = kpi(data, "change_success_rate")
    assert (ch.numerator, ch.denominator) == (0, 1)
    inc = kpi(data, "incidents_by_service")
    assert inc.value == 2
    assert inc.breakdown == {"vpn": {"incidents": 2, "mtbi_seconds": WEEK.total_seconds() / 2}}


def test_projected_backlog_is_a_drift_with_an_interval(data: Dataset) -> None:
    r = kpi(data, "projected_backlog")
    # Daily nets (created - resolved): day 0: A B C - A B = +1; day 1: D - D = 0; then 0.
    nets = [1, 0, 0, 0, 0, 0, 0]
    mean = sum(nets) / 7
    sd = (sum((n - mean) ** 2 for n in nets) / 6) ** 0.5
    assert r.value == pytest.approx(2 + 14 * mean)  # backlog C, E = 2
    half = 1.96 * sd * (14 + 14 * 14 / 7) ** 0.5
    assert r.details["lower"] == pytest.approx(max(0.0, 2 + 14 * mean - half))
    assert r.details["upper"] == pytest.approx(2 + 14 * mean + half)


def test_projected_backlog_details_carry_every_day_of_the_forecast(data: Dataset) -> None:
    r = kpi(data, "projected_backlog")
    fc = kpis.forecast_backlog(data, WINDOW, days=14)
    assert r.details["backlog"] == fc.backlog == 2
    assert r.details["points"] == [
        {"day": p.day, "at": p.at.isoformat(), "expected": p.expected, "lower": p.lower,
         "upper": p.upper} for p in fc.points]
    assert [p["day"] for p in r.details["points"]] == list(range(1, 15))
    last = r.details["points"][-1]
    assert (last["expected"], last["lower"], last["upper"]) == (r.value, r.details["lower"],
                                                                r.details["upper"])


def test_as_of_cuts_knowledge_at_the_instant() -> None:
    scenario = build_reference()
    cutoff = T0 + 2 * H + 30 * M
    data = in_memory(scenario)
    # Fold only what happened by the cutoff, as the store does for as_of.
    past = Dataset(facts=tuple(
        fold(f.ticket_id, [(env.type, env.data.model_dump(mode="json"))
                           for env in scenario.history.envelopes
                           if isinstance(env.data, TicketEvent) and env.data.ticket_id == f.ticket_id
                           and env.data.occurred_at < cutoff]) for f in data.facts),
        events=data.events, sla=data.sla)
    w = Window(T0, T0 + WEEK, cutoff)
    assert kpis.ticket_volume(past, w).value == 3  # A B C
    assert kpis.backlog_kpi(past, w).value == 3  # B C E (A resolved at +2 h)
    assert kpis.resolution_time(past, w).mean == 7200
    assert kpis.sla_compliance(past, w).numerator == 2  # A first response, A resolution
    assert kpis.sla_compliance(past, w).denominator == 3  # plus B's breach at +2 h


def test_business_hours_measure_only_open_hours() -> None:
    scenario = build_reference()
    nine_to_five = Calendar.build(time_zone="UTC", weekly_hours=[
        {"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)])
    data = in_memory(scenario, business=True)
    data = Dataset(**{**data.__dict__, "default_calendar": nine_to_five})
    # B: created 10:00, resolved 18:00 -> 7 business hours; A 2 h; D (Tue 09:00 -> 14:00) 5 h
    r = kpis.resolution_time(data, WINDOW)
    assert r.mean == (7200 + 7 * 3600 + 5 * 3600) / 3


def test_status_and_trend_follow_the_direction() -> None:
    assert kpis.status(0.9, 0.85, "higher") == "met"
    assert kpis.status(0.8, 0.85, "higher") == "at_risk"
    assert kpis.status(0.5, 0.85, "higher") == "missed"
    assert kpis.status(3700, 3600, "lower") == "at_risk"
    assert kpis.status(5000, 3600, "lower") == "missed"
    assert kpis.status(1, None, "lower") is None
    assert kpis.trend(5, 3, "lower") == {"previous": 3, "delta": 2, "change": "up", "better": False}
    assert kpis.trend(None, 3, "lower")["delta"] is None
