"""The KPI catalog (KPIS.md): every KPI's rule, unit, direction and default target, in one place.

Each KPI is a pure function `(Dataset, Window) -> KpiResult`. Conventions, once:
- A ticket is *created in the window* when `created_at` is in [start, stop).
- A ticket is *resolved in the window* when it is resolved or closed at the cutoff and its
  last resolution is in the window (a reopened ticket counts to its last resolution).
- Durations are seconds (calendar, or business seconds of the ticket's SLA calendar /
  the default calendar when `Dataset.business_hours`); mean, median and nearest-rank p90.
- Event counts (work logged, reopens, SLA outcomes, survey answers) use the event's time.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from helpdesk_businesstime import Calendar, business_seconds_between

from . import stats
from .dataset import AgentStatusRow, Dataset, Window
from .facts import DONE_STATUSES, TicketFact
from .forecast import Forecast, project

MONTH = timedelta(days=30)
DAY = timedelta(days=1)
REPEAT_WINDOW = timedelta(days=7)
AT_RISK_MARGIN = 0.10


@dataclass(frozen=True)
class KpiResult:
    """A KPI's value over one window, with what a client needs to check it."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    mean: float | None = None
    median: float | None = None
    p90: float | None = None
    count: int | None = None
    breakdown: dict[str, Any] | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class KpiDef:
    """A catalog entry: rule plus presentation (unit, direction, default target, perspective)."""

    number: int
    name: str
    unit: str
    direction: str | None  # "higher" | "lower" | None (informational)
    target: float | None
    perspectives: tuple[str, ...]
    compute: Callable[[Dataset, Window], KpiResult] = field(repr=False)
    description: str = ""


# --- selections and helpers -----------------------------------------------------------------


def _memo(ds: Dataset, key: tuple[object, ...], compute: Callable[[], Any]) -> Any:
    if key not in ds.memo:
        ds.memo[key] = compute()
    return ds.memo[key]


@dataclass(frozen=True)
class Selections:
    """The tickets several KPIs share, picked in one pass over the facts (in their order)."""

    #: Created in the window.
    created: tuple[TicketFact, ...]
    #: Resolved (or closed) at the cutoff with their last resolution in the window.
    resolved: tuple[TicketFact, ...]
    #: Created before the window's stop and not resolved at it.
    backlog: tuple[TicketFact, ...]
    #: Created, with their first agent reply in the window.
    replied: tuple[TicketFact, ...]
    #: With a change implemented in the window.
    changes: tuple[TicketFact, ...]


def selections(ds: Dataset, w: Window) -> Selections:
    """The shared selections of the window, computed once per dataset."""
    return _memo(ds, ("selections", w), lambda: _select(ds.facts, w))


def _select(facts: Iterable[TicketFact], w: Window) -> Selections:
    # One loop with the window's bounds inlined: the facts are ~100k per query.
    # The lists' `append`s are bound once (an attribute lookup per fact and list otherwise).
    start, stop, done = w.start, w.stop, DONE_STATUSES
    created, resolved, backlog, replied, changes = [], [], [], [], []
    add_created, add_resolved, add_backlog = created.append, resolved.append, backlog.append
    for f in facts:
        at = f.created_at
        if at is not None:
            if start <= at < stop:
                add_created(f)
            reply = f.first_reply_at
            if reply is not None and start <= reply < stop:
                replied.append(f)
        if f.status in done:
            last = f.last_resolved_at
            if last is not None and start <= last < stop:
                add_resolved(f)
        elif at is not None and at < stop:
            add_backlog(f)
        change = f.change_at
        if change is not None and start <= change < stop:
            changes.append(f)
    return Selections(tuple(created), tuple(resolved), tuple(backlog), tuple(replied),
                      tuple(changes))


def created(ds: Dataset, w: Window) -> tuple[TicketFact, ...]:
    """Tickets created in the window."""
    return selections(ds, w).created


def resolved(ds: Dataset, w: Window) -> tuple[TicketFact, ...]:
    """Tickets resolved (or closed) at the cutoff whose last resolution is in the window."""
    return selections(ds, w).resolved


def backlog(ds: Dataset, w: Window) -> tuple[TicketFact, ...]:
    """Tickets created before the window's stop and not resolved at it."""
    return selections(ds, w).backlog


def calendar_of(ds: Dataset, fact: TicketFact) -> Calendar:
    """The ticket's SLA calendar if known, else the default calendar."""
    return ds.calendars.get(fact.calendar_id or "", ds.default_calendar)


def seconds(ds: Dataset, fact: TicketFact, a: datetime, b: datetime) -> float:
    """Duration a -> b in calendar or business seconds, per the dataset's hours mode."""
    if not ds.business_hours:
        return (b - a).total_seconds()
    return business_seconds_between(calendar_of(ds, fact), a, b)


def elapsed(ds: Dataset, facts: Sequence[TicketFact], since: str,
            until: str) -> list[float | None]:
    """`seconds(ds, f, f.<since>, f.<until>)` of each fact, in order; None where `since` is."""
    if ds.business_hours:
        return [None if (a := getattr(f, since)) is None else seconds(ds, f, a, getattr(f, until))
                for f in facts]
    # Calendar seconds need no calendar: the same subtraction without a call per fact.
    return [None if a is None else (b - a).total_seconds()
            for a, b in map(attrgetter(since, until), facts)]


def known(values: Iterable[float | None]) -> list[float]:
    """The values that are not None, in order."""
    return [v for v in values if v is not None]


def durations(values: list[float]) -> KpiResult:
    """A duration KPI: the value is the mean; median and p90 alongside."""
    m = stats.mean(values)
    ordered = sorted(values)  # once, for both the median and the p90
    return KpiResult(value=m, mean=m, median=stats.sorted_median(ordered),
                     p90=stats.sorted_percentile(ordered, 90), count=len(values))


def rate(numerator: float, denominator: float, **extra: Any) -> KpiResult:
    """A rate KPI with its numerator and denominator."""
    return KpiResult(value=stats.ratio(numerator, denominator), numerator=numerator,
                     denominator=denominator, **extra)


def counts(values: Iterable[str | None]) -> dict[str, int]:
    """Occurrences per value (None as "(none)"), sorted by key."""
    # Count the raw values first (Counter's loop is C), then label the few distinct ones: a
    # str() per value was most of the cost. Values with the same label add up.
    out: dict[str, int] = {}
    for value, n in Counter(values).items():
        label = "(none)" if value is None else str(value)
        out[label] = out.get(label, 0) + n
    return dict(sorted(out.items()))


_EVENT_KINDS = ("helpdesk.ticket.work_logged", "helpdesk.ticket.resolved",
                "helpdesk.ticket.reopened")


def _events(ds: Dataset, w: Window) -> dict[str, list]:
    """The window's event rows per kind (work logged, resolved, reopened), in one pass."""
    def split() -> dict[str, list]:
        out: dict[str, list] = {kind: [] for kind in _EVENT_KINDS}
        # The kinds an event type belongs to, found once per distinct type (a few), and the
        # window's bounds inlined: `w.holds` and a `startswith` per kind per row were the cost.
        lists_of: dict[str, tuple[list, ...]] = {}
        start, stop = w.start, w.stop
        for e in ds.events:
            at = e.at
            if at is not None and start <= at < stop:
                lists = lists_of.get(e.type)
                if lists is None:
                    lists = lists_of[e.type] = tuple(
                        out[kind] for kind in _EVENT_KINDS if e.type.startswith(kind))
                for found in lists:
                    found.append(e)
        return out
    return _memo(ds, ("events", w), split)


def _work_events(ds: Dataset, w: Window) -> list:
    return _events(ds, w)["helpdesk.ticket.work_logged"]


def _event_count(ds: Dataset, w: Window, prefix: str) -> int:
    return len(_events(ds, w)[prefix])


def _lived_stop(ds: Dataset, w: Window) -> datetime:
    """Where time spent stops counting: the window's stop, or the instant the rows were read
    if earlier (a window ending ahead of the clock has not lived its last part yet)."""
    return w.stop if ds.read_at is None else min(w.stop, ds.read_at)


def online_seconds(rows: Iterable[AgentStatusRow], w: Window,
                   stop: datetime | None = None) -> dict[str, float]:
    """Seconds each agent spent `online` inside [start, stop) (`stop`: the window's if
    None), from its status changes."""
    stop = w.stop if stop is None else stop
    by_agent: dict[str, list[AgentStatusRow]] = defaultdict(list)
    for row in rows:
        by_agent[row.agent_id].append(row)
    out: dict[str, float] = {}
    for agent, changes in by_agent.items():
        changes.sort(key=lambda r: r.at)
        total = 0.0
        for i, row in enumerate(changes):
            if row.status != "online":
                continue
            end = changes[i + 1].at if i + 1 < len(changes) else stop
            lo, hi = max(row.at, w.start), min(end, stop)
            if hi > lo:
                total += (hi - lo).total_seconds()
        out[agent] = total
    return out


def online_at(rows: Iterable[AgentStatusRow], at: datetime) -> set[str]:
    """Agents whose last status change before `at` was `online`."""
    last: dict[str, AgentStatusRow] = {}
    for row in sorted(rows, key=lambda r: r.at):
        if row.at < at:
            last[row.agent_id] = row
    return {a for a, r in last.items() if r.status == "online"}


def support_cost(ds: Dataset, w: Window) -> tuple[float, float, float]:
    """(labour cost of work logged in the window, overhead share, total)."""
    # fsum: exactly rounded, so the total does not depend on the order the rows come in
    # (a rebuild inserts them in another order than the live consumer did).
    labour = math.fsum(e.seconds / 3600 * ds.cost.hourly_cost(e.agent)
                       for e in _work_events(ds, w) if e.seconds)
    overhead = ds.cost.monthly_overhead * (w.length / MONTH)
    return labour, overhead, labour + overhead


def agent_of(fact: TicketFact) -> str | None:
    """The agent a resolved ticket is credited to: its resolver, else its assignee."""
    return fact.resolved_by or fact.agent


# --- the 35 KPIs ---------------------------------------------------------------------------


def ticket_volume(ds: Dataset, w: Window) -> KpiResult:
    """1. Tickets created in the window."""
    n = len(created(ds, w))
    return KpiResult(value=n, count=n)


def volume_by_channel(ds: Dataset, w: Window) -> KpiResult:
    """2. ticket_volume per channel."""
    tickets = created(ds, w)
    return KpiResult(value=len(tickets), breakdown=counts(f.channel for f in tickets))


def ticket_distribution(ds: Dataset, w: Window) -> KpiResult:
    """3. ticket_volume per category, type and tag (a ticket counts once per tag)."""
    tickets = created(ds, w)
    return KpiResult(value=len(tickets), breakdown={
        "category": counts(f.category for f in tickets),
        "type": counts(f.type for f in tickets),
        "tag": counts(t for f in tickets for t in f.tags),
    })


def opened_vs_resolved(ds: Dataset, w: Window) -> KpiResult:
    """4. resolution_rate = tickets resolved in the window / tickets created in it."""
    opened, closed = len(created(ds, w)), len(resolved(ds, w))
    return rate(closed, opened, details={"created": opened, "resolved": closed})


AGE_BUCKETS = ((timedelta(days=1), "<1d"), (timedelta(days=3), "1-3d"),
               (timedelta(days=7), "3-7d"), (timedelta(days=30), "7-30d"))


def _age_profile(tickets: list[TicketFact], at: datetime) -> dict[str, int]:
    # Compare creation times with each bucket's edge (`age < limit` is `created > at - limit`):
    # a series computes this for every bucket's whole backlog.
    edges = [at - limit for limit, _ in AGE_BUCKETS]
    labels = [label for _, label in AGE_BUCKETS] + [">=30d"]
    counts = [0] * len(labels)
    for f in tickets:
        created_at = f.created_at
        k = 0
        for edge in edges:
            if created_at > edge:  # type: ignore[operator]
                break
            k += 1
        counts[k] += 1
    return dict(zip(labels, counts))


def backlog_kpi(ds: Dataset, w: Window) -> KpiResult:
    """5. Tickets not resolved at the window's stop, with their age profile."""
    tickets = backlog(ds, w)
    return KpiResult(value=len(tickets), count=len(tickets),
                     breakdown=_age_profile(tickets, w.stop))


def high_priority_backlog(ds: Dataset, w: Window) -> KpiResult:
    """6. Backlog with priority P1 or P2."""
    tickets = [f for f in backlog(ds, w) if f.priority in ("P1", "P2")]
    return KpiResult(value=len(tickets), count=len(tickets), breakdown=counts(f.priority for f in tickets))


def forecast_backlog(ds: Dataset, w: Window, days: int) -> Forecast:
    """Forecast the backlog `days` past the stop from the window's daily net inflows."""
    whole = int((w.stop - w.start) / DAY)
    first = w.stop - whole * DAY
    # Day k is [first + k days, first + k + 1 days); the same tickets `created` / `resolved`
    # would select for that day's window.
    opened = _per_day((f.created_at for f in created(ds, w)), first, whole)  # type: ignore[misc]
    closed = _per_day((f.last_resolved_at for f in resolved(ds, w)),  # type: ignore[misc]
                      first, whole)
    net = [float(o - c) for o, c in zip(opened, closed)]
    return project(len(backlog(ds, w)), net, days, w.stop)


def _per_day(times: Iterable[datetime], first: datetime, whole: int) -> list[int]:
    """How many of `times` fall in each day [first + k days, first + k + 1 days), k < whole."""
    # A timedelta's `.days` is its floor division by one day, `(at - first) // DAY`, without
    # the division's arithmetic on microseconds; counted in C.
    per = Counter([(at - first).days for at in times])
    return [per[k] for k in range(whole)]


def projected_backlog(ds: Dataset, w: Window) -> KpiResult:
    """7. Backlog forecast 14 days past the stop (see forecast.py for the method)."""
    fc = forecast_backlog(ds, w, days=14)
    last = fc.points[-1]
    # `points` and `backlog` as GET /v1/backlog/forecast?days=14 returns them: the dashboard
    # draws the forecast from the report alone.
    return KpiResult(value=last.expected, details={
        "days": 14, "lower": last.lower, "upper": last.upper, "method": fc.method,
        "daily_net_mean": fc.daily_net_mean, "daily_net_sd": fc.daily_net_sd,
        "backlog": fc.backlog, "points": fc.point_dicts()})


def first_response_time(ds: Dataset, w: Window) -> KpiResult:
    """8. created -> first agent reply, for tickets whose first reply is in the window."""
    return durations(known(_response_seconds(ds, w)))


def _response_seconds(ds: Dataset, w: Window) -> list[float | None]:
    """KPI 8's duration of each `replied` ticket, in that order (KPI 28 shares it)."""
    return _memo(ds, ("response_seconds", w), lambda: elapsed(
        ds, selections(ds, w).replied, "created_at", "first_reply_at"))


def _waiting(ds: Dataset, f: TicketFact) -> float:
    end = f.last_resolved_at
    total = 0.0
    for a, b in f.waiting_spans:
        b = end if b is None or b > end else b  # type: ignore[operator]
        if b > a:  # type: ignore[operator]
            total += seconds(ds, f, a, b)  # type: ignore[arg-type]
    return total


def requester_wait_time(ds: Dataset, w: Window) -> KpiResult:
    """9. Time in new/open (not pending, on_hold) before the last resolution, resolved tickets."""
    # A ticket that never waited adds 0.0 without a call.
    return durations([_waiting(ds, f) if f.waiting_spans else 0.0 for f in resolved(ds, w)])


def resolution_time(ds: Dataset, w: Window) -> KpiResult:
    """10. MTTR: created -> last resolution, tickets resolved in the window."""
    return durations(known(_resolution_seconds(ds, w)))


def _resolution_seconds(ds: Dataset, w: Window) -> list[float | None]:
    """KPI 10's duration of each `resolved` ticket, in that order, None without a creation
    time (KPI 28 shares it: business seconds are costly)."""
    return _memo(ds, ("resolution_seconds", w), lambda: elapsed(
        ds, resolved(ds, w), "created_at", "last_resolved_at"))


def turnaround_time(ds: Dataset, w: Window) -> KpiResult:
    """11. first assignment -> last resolution, resolved tickets that were assigned."""
    return durations(known(elapsed(ds, resolved(ds, w), "first_assigned_at", "last_resolved_at")))


def average_handle_time(ds: Dataset, w: Window) -> KpiResult:
    """12. Logged work (talk + research + after-work) per ticket resolved in the window."""
    tickets = resolved(ds, w)
    values = [float(f.handle_seconds) for f in tickets]
    return replace(durations(values), numerator=sum(values), denominator=len(tickets),
                   breakdown={"talk": sum(f.talk_seconds for f in tickets),
                              "research": sum(f.research_seconds for f in tickets),
                              "after_work": sum(f.after_work_seconds for f in tickets)})


def first_contact_resolution(ds: Dataset, w: Window) -> KpiResult:
    """13. Resolved with exactly one contact, no reopen, transfer or escalation / resolved."""
    tickets = resolved(ds, w)
    return rate(sum(f.resolved_first_contact for f in tickets), len(tickets))


def tier1_resolution_rate(ds: Dataset, w: Window) -> KpiResult:
    """14. Resolved at tier 1 without escalation / resolved."""
    tickets = resolved(ds, w)
    return rate(sum(f.resolved_at_tier1 for f in tickets), len(tickets))


def escalation_rate(ds: Dataset, w: Window) -> KpiResult:
    """15. Tickets created in the window that were escalated (by the cutoff) / created."""
    tickets = created(ds, w)
    return rate(sum(f.escalations > 0 for f in tickets), len(tickets))


def transfer_rate(ds: Dataset, w: Window) -> KpiResult:
    """16. Tickets created in the window that were transferred (by the cutoff) / created."""
    tickets = created(ds, w)
    return rate(sum(f.transfers > 0 for f in tickets), len(tickets))


def reopen_rate(ds: Dataset, w: Window) -> KpiResult:
    """17. Reopen events in the window / resolution events in the window."""
    return rate(_event_count(ds, w, "helpdesk.ticket.reopened"),
                _event_count(ds, w, "helpdesk.ticket.resolved"))


def repeat_incidents(ds: Dataset, w: Window) -> KpiResult:
    """18. Created tickets whose requester had a ticket of the same category first resolved
    in the 7 days before / created; next_issue_avoidance = 1 - rate."""
    tickets = created(ds, w)
    start, stop = w.start, w.stop
    # Only a first resolution in (start - 7 days, stop) can be at most 7 days before a ticket
    # created in the window.
    after = start - REPEAT_WINDOW
    # One pass over the facts, one (requester, category) key per fact that matters: the
    # first resolutions per key and, per ticket created in the window (as `created` selects),
    # its key's list and its creation time. A key of fresh strings costs cache misses to
    # build, hash and compare: the old three passes did that three times per ticket.
    resolutions: dict[tuple[str, str], list[datetime]] = {}
    times_of: list[list[datetime]] = []
    created_at: list[datetime] = []
    for f in ds.facts:
        at, first = f.created_at, f.first_resolved_at
        counted = at is not None and start <= at < stop
        matters = first is not None and after < first < stop
        if (counted or matters) and f.requester_id and f.category:
            key = (f.requester_id, f.category)
            times = resolutions.setdefault(key, [])  # type: ignore[arg-type]
            if matters:
                times.append(first)  # type: ignore[arg-type]
            if counted:
                times_of.append(times)
                created_at.append(at)  # type: ignore[arg-type]
    for times in resolutions.values():
        if len(times) > 1:
            times.sort()
    repeats = 0
    for times, at in zip(times_of, created_at):
        if times:
            # A resolution r with r <= created < r + 7 days: the latest one at or before created.
            i = bisect.bisect_right(times, at)
            repeats += i > 0 and at < times[i - 1] + REPEAT_WINDOW
    result = rate(repeats, len(tickets))
    avoid = None if result.value is None else 1 - result.value
    return replace(result, details={"next_issue_avoidance": avoid})


def _sla(ds: Dataset, w: Window) -> dict[str, Counter]:
    per: dict[str, Counter] = defaultdict(Counter)
    for o in ds.sla:
        if w.holds(o.at):
            per[o.target][o.outcome] += 1
    return per


def sla_compliance(ds: Dataset, w: Window) -> KpiResult:
    """19. SLA targets met / targets that ended (met or breached) in the window; per target."""
    per = _sla(ds, w)
    met = sum(c["met"] for c in per.values())
    ended = sum(c["met"] + c["breached"] for c in per.values())
    return rate(met, ended, breakdown={
        t: {"met": c["met"], "breached": c["breached"],
            "compliance": stats.ratio(c["met"], c["met"] + c["breached"])}
        for t, c in sorted(per.items())})


def sla_breaches(ds: Dataset, w: Window) -> KpiResult:
    """20. SLA breaches in the window; per target."""
    per = _sla(ds, w)
    n = sum(c["breached"] for c in per.values())
    return KpiResult(value=n, count=n, breakdown={t: c["breached"] for t, c in sorted(per.items())})


def _answers(ds: Dataset, w: Window, kind: str) -> list:
    return [a for a in ds.answers if a.kind == kind and w.holds(a.at)]


def _normalised(a: Any) -> float:
    return (a.score - a.scale_min) / (a.scale_max - a.scale_min)


def csat(ds: Dataset, w: Window) -> KpiResult:
    """21. Satisfied CSAT answers (4-5 on 1-5, i.e. the top quarter of the scale) / answers."""
    answers = _answers(ds, w, "csat")
    satisfied = sum(_normalised(a) >= 0.75 for a in answers)
    return rate(satisfied, len(answers), mean=stats.mean([a.score for a in answers]),
                count=len(answers))


def nps(ds: Dataset, w: Window) -> KpiResult:
    """22. % promoters (9-10) - % detractors (0-6), answers in the window."""
    answers = _answers(ds, w, "nps")
    promoters = sum(a.score >= 9 for a in answers)
    detractors = sum(a.score <= 6 for a in answers)
    value = 100 * (promoters - detractors) / len(answers) if answers else None
    return KpiResult(value=value, count=len(answers), details={
        "promoters": promoters, "passives": len(answers) - promoters - detractors,
        "detractors": detractors})


def ces(ds: Dataset, w: Window) -> KpiResult:
    """23. Mean customer effort score (1 very easy .. 7 very difficult)."""
    scores = [a.score for a in _answers(ds, w, "ces")]
    return KpiResult(value=stats.mean(scores), mean=stats.mean(scores),
                     median=stats.median(scores), count=len(scores))


def survey_response_rate(ds: Dataset, w: Window) -> KpiResult:
    """24. Surveys sent in the window answered by the cutoff / surveys sent in the window."""
    sent = [s for s in ds.sent if w.holds(s.at)]
    answered = sum(1 for s in sent if s.answered_at is not None and s.answered_at <= w.cutoff)
    return rate(answered, len(sent))


def agent_satisfaction(ds: Dataset, w: Window) -> KpiResult:
    """25. Mean score of the internal agent satisfaction survey."""
    scores = [a.score for a in _answers(ds, w, "agent_satisfaction")]
    return KpiResult(value=stats.mean(scores), mean=stats.mean(scores),
                     median=stats.median(scores), count=len(scores))


def _work_by_agent(ds: Dataset, w: Window) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for e in _work_events(ds, w):
        out[e.agent or "(none)"] += e.seconds or 0
    return out


def agent_utilization(ds: Dataset, w: Window) -> KpiResult:
    """26. Work logged in the window / time agents were online in it."""
    online = online_seconds(ds.agent_statuses, w, _lived_stop(ds, w))
    work = _work_by_agent(ds, w)
    return rate(math.fsum(work.values()), math.fsum(online.values()), breakdown={
        a: stats.ratio(work.get(a, 0.0), online.get(a, 0.0)) for a in sorted(set(online) | set(work))})


def agent_availability(ds: Dataset, w: Window) -> KpiResult:
    """27. Time online / scheduled time (default calendar's business seconds per known agent)."""
    lived = _lived_stop(ds, w)
    online = online_seconds(ds.agent_statuses, w, lived)
    scheduled = business_seconds_between(ds.default_calendar, w.start, lived) if lived > w.start else 0.0
    return rate(math.fsum(online.values()), scheduled * len(online), breakdown={
        a: stats.ratio(s, scheduled) for a, s in sorted(online.items())})


def agent_rows(ds: Dataset, w: Window) -> list[dict[str, Any]]:
    """KPI 28's table: per agent resolved, FRT, resolution time, FCR, CSAT, reopen rate, utilization."""
    return _memo(ds, ("agent_rows", w), lambda: _agent_rows(ds, w))


def _agent_rows(ds: Dataset, w: Window) -> list[dict[str, Any]]:
    online = online_seconds(ds.agent_statuses, w, _lived_stop(ds, w))
    work = _work_by_agent(ds, w)
    # The durations are KPI 8's and KPI 10's, computed once per window.
    done_by: dict[str | None, list[TicketFact]] = defaultdict(list)
    resolution_by: dict[str | None, list[float]] = defaultdict(list)
    for f, took in zip(resolved(ds, w), _resolution_seconds(ds, w)):
        agent = agent_of(f)
        done_by[agent].append(f)
        if took is not None:
            resolution_by[agent].append(took)
    response_by: dict[str | None, list[float]] = defaultdict(list)
    for f, took in zip(selections(ds, w).replied, _response_seconds(ds, w)):
        if took is not None:
            response_by[f.agent].append(took)
    answers_by: dict[str | None, list[Any]] = defaultdict(list)
    for a in _answers(ds, w, "csat"):
        answers_by[a.agent].append(a)
    agents = sorted({a for a in done_by if a} | set(online)
                    | {a.agent for a in ds.answers if a.agent})
    rows = []
    for agent in agents:
        mine, answers = done_by[agent], answers_by[agent]
        rows.append({
            "agent": agent,
            "resolved": len(mine),
            "first_response_time": stats.mean(response_by[agent]),
            "resolution_time": stats.mean(resolution_by[agent]),
            "fcr": stats.ratio(sum(f.resolved_first_contact for f in mine), len(mine)),
            "csat": stats.ratio(sum(_normalised(a) >= 0.75 for a in answers), len(answers)),
            "reopen_rate": stats.ratio(sum(f.reopens > 0 for f in mine), len(mine)),
            "utilization": stats.ratio(work.get(agent, 0.0), online.get(agent, 0.0)),
        })
    return rows


def agent_performance(ds: Dataset, w: Window) -> KpiResult:
    """28. Per-agent table; the value is the number of agents listed."""
    rows = agent_rows(ds, w)
    return KpiResult(value=len(rows), count=len(rows), details={"agents": rows})


def competence_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """KPI 29: (FCR - median FCR) - (reopen rate - median) + (CSAT - median CSAT) per agent.

    Each term is a rate in [0, 1] against the median of the agents that have it; a missing
    term counts 0. 0 is the median agent; positive is better.
    """
    def med(key: str) -> float | None:
        return stats.median([r[key] for r in rows if r[key] is not None])

    medians = {k: med(k) for k in ("fcr", "reopen_rate", "csat")}

    def term(row: dict[str, Any], key: str) -> float:
        return 0.0 if row[key] is None or medians[key] is None else row[key] - medians[key]

    return [{"agent": r["agent"], "competence_index":
             term(r, "fcr") - term(r, "reopen_rate") + term(r, "csat")} for r in rows]


def competence_index(ds: Dataset, w: Window) -> KpiResult:
    """29. Per-agent composite of FCR, reopen rate and CSAT against the median; value = the
    spread (best - worst), per-agent indexes in details."""
    rows = competence_rows(agent_rows(ds, w))
    values = [r["competence_index"] for r in rows]
    return KpiResult(value=(max(values) - min(values)) if values else None, count=len(rows),
                     details={"agents": rows})


def workload_balance(ds: Dataset, w: Window) -> KpiResult:
    """30. Coefficient of variation of open tickets per agent online at the stop."""
    online = online_at(ds.agent_statuses, w.stop)
    open_by_agent = Counter(f.agent for f in backlog(ds, w))
    loads = {a: open_by_agent.get(a, 0) for a in sorted(online)}
    return KpiResult(value=stats.coefficient_of_variation(list(loads.values())),
                     count=len(loads), breakdown=loads)


def cost_per_ticket(ds: Dataset, w: Window) -> KpiResult:
    """31. (logged hours x hourly cost + overhead share) / tickets resolved in the window."""
    labour, overhead, total = support_cost(ds, w)
    return rate(total, len(resolved(ds, w)), details={"labour": labour, "overhead": overhead})


def budget_adherence(ds: Dataset, w: Window) -> KpiResult:
    """32. Actual support cost / budget pro-rated to the window (30-day months)."""
    _, _, total = support_cost(ds, w)
    budget = None if ds.cost.monthly_budget is None else ds.cost.monthly_budget * (w.length / MONTH)
    return rate(total, budget or 0.0)


def roi(ds: Dataset, w: Window) -> KpiResult:
    """33. (value per resolved ticket x resolved - cost) / cost."""
    _, _, cost = support_cost(ds, w)
    value = ds.cost.value_per_resolved_ticket * len(resolved(ds, w))
    return rate(value - cost, cost)


def change_success_rate(ds: Dataset, w: Window) -> KpiResult:
    """34. Successful changes / changes implemented in the window."""
    changes = selections(ds, w).changes
    return rate(sum(bool(f.change_success) for f in changes), len(changes))


def incidents_by_service(ds: Dataset, w: Window) -> KpiResult:
    """35. Incidents created per affected service, with mean time between incidents (s)."""
    per = counts(f.affected_service for f in created(ds, w) if f.type == "incident")
    span = (w.stop - w.start).total_seconds()
    return KpiResult(value=sum(per.values()), breakdown={
        s: {"incidents": n, "mtbi_seconds": span / n} for s, n in per.items()})


F, C, I, L = "financial", "customer", "internal_process", "learning_growth"
H, LO = "higher", "lower"
HOUR = 3600.0

CATALOG: tuple[KpiDef, ...] = (
    KpiDef(1, "ticket_volume", "tickets", None, None, (I,), ticket_volume),
    KpiDef(2, "volume_by_channel", "tickets", None, None, (I,), volume_by_channel),
    KpiDef(3, "ticket_distribution", "tickets", None, None, (I,), ticket_distribution),
    KpiDef(4, "opened_vs_resolved", "ratio", H, 1.0, (I,), opened_vs_resolved),
    KpiDef(5, "backlog", "tickets", LO, None, (I,), backlog_kpi),
    KpiDef(6, "high_priority_backlog", "tickets", LO, 0.0, (I,), high_priority_backlog),
    KpiDef(7, "projected_backlog", "tickets", LO, None, (I,), projected_backlog),
    KpiDef(8, "first_response_time", "seconds", LO, 4 * HOUR, (C, I), first_response_time),
    KpiDef(9, "requester_wait_time", "seconds", LO, 8 * HOUR, (I,), requester_wait_time),
    KpiDef(10, "resolution_time", "seconds", LO, 24 * HOUR, (C, I), resolution_time),
    KpiDef(11, "turnaround_time", "seconds", LO, 24 * HOUR, (I,), turnaround_time),
    KpiDef(12, "average_handle_time", "seconds", LO, 0.5 * HOUR, (I,), average_handle_time),
    KpiDef(13, "first_contact_resolution", "ratio", H, 0.70, (I,), first_contact_resolution),
    KpiDef(14, "tier1_resolution_rate", "ratio", H, 0.65, (I,), tier1_resolution_rate),
    KpiDef(15, "escalation_rate", "ratio", LO, 0.20, (I,), escalation_rate),
    KpiDef(16, "transfer_rate", "ratio", LO, 0.10, (I,), transfer_rate),
    KpiDef(17, "reopen_rate", "ratio", LO, 0.05, (I,), reopen_rate),
    KpiDef(18, "repeat_incidents", "ratio", LO, 0.10, (I,), repeat_incidents),
    KpiDef(19, "sla_compliance", "ratio", H, 0.95, (I,), sla_compliance),
    KpiDef(20, "sla_breaches", "breaches", LO, 0.0, (I,), sla_breaches),
    KpiDef(21, "csat", "ratio", H, 0.85, (C,), csat),
    KpiDef(22, "nps", "score", H, 30.0, (C,), nps),
    KpiDef(23, "ces", "score", LO, 3.0, (C,), ces),
    KpiDef(24, "survey_response_rate", "ratio", H, 0.25, (C,), survey_response_rate),
    KpiDef(25, "agent_satisfaction", "score", H, 4.0, (C, L), agent_satisfaction),
    KpiDef(26, "agent_utilization", "ratio", H, 0.75, (L,), agent_utilization),
    KpiDef(27, "agent_availability", "ratio", H, 0.85, (L,), agent_availability),
    KpiDef(28, "agent_performance", "agents", None, None, (L,), agent_performance),
    KpiDef(29, "competence_index", "index", None, None, (L,), competence_index),
    KpiDef(30, "workload_balance", "ratio", LO, 0.25, (L,), workload_balance),
    KpiDef(31, "cost_per_ticket", "currency", LO, None, (F,), cost_per_ticket),
    KpiDef(32, "budget_adherence", "ratio", LO, 1.0, (F,), budget_adherence),
    KpiDef(33, "roi", "ratio", H, 0.0, (F,), roi),
    KpiDef(34, "change_success_rate", "ratio", H, 0.95, (I,), change_success_rate),
    KpiDef(35, "incidents_by_service", "incidents", LO, None, (I,), incidents_by_service),
)
BY_NAME: dict[str, KpiDef] = {k.name: k for k in CATALOG}


def status(value: float | None, target: float | None, direction: str | None) -> str | None:
    """met / at_risk (within 10 % of the target on the wrong side) / missed; None without a target."""
    if value is None or target is None or direction is None:
        return None
    band = abs(target) * AT_RISK_MARGIN or AT_RISK_MARGIN
    if direction == H:
        return "met" if value >= target else "at_risk" if value >= target - band else "missed"
    return "met" if value <= target else "at_risk" if value <= target + band else "missed"


def trend(value: float | None, previous: float | None, direction: str | None) -> dict[str, Any]:
    """Change against the previous window: delta, up/down/flat and whether that is better."""
    if value is None or previous is None:
        return {"previous": previous, "delta": None, "change": None, "better": None}
    delta = value - previous
    change = "flat" if delta == 0 else "up" if delta > 0 else "down"
    better = None if direction is None or delta == 0 else (delta > 0) == (direction == H)
    return {"previous": previous, "delta": delta, "change": change, "better": better}
