"""The KPI helpers made cheap at scale give exactly what their plain definitions give."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import datetime, timedelta, timezone
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from helpdesk_metrics import kpis, stats
from helpdesk_metrics.dataset import Dataset, Window
from helpdesk_metrics.facts import TicketFact

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
floats = st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=40)
offsets = st.integers(min_value=-20 * 86_400_000_000, max_value=40 * 86_400_000_000)


def at(microseconds: int) -> datetime:
    return T0 + timedelta(microseconds=microseconds)


@given(floats)
def test_sorted_median_and_percentile_match_the_unsorted_definitions(values: list[float]) -> None:
    ordered = sorted(values)
    assert stats.sorted_median(ordered) == (float(statistics.median(values)) if values else None)
    expected = (float(ordered[max(1, math.ceil(0.9 * len(ordered))) - 1]) if values else None)
    assert stats.sorted_percentile(ordered, 90) == expected == stats.percentile(values, 90)


@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "1"]), st.integers(0, 2))))
def test_counts_labels_values_like_counting_their_labels(values: list[object]) -> None:
    labelled = Counter("(none)" if v is None else str(v) for v in values)
    assert kpis.counts(values) == dict(sorted(labelled.items()))  # type: ignore[arg-type]


@given(st.lists(offsets, max_size=30), st.integers(min_value=0, max_value=20))
def test_per_day_counts_what_floor_division_by_a_day_assigns(times: list[int], whole: int) -> None:
    first = T0
    expected = [0] * whole
    for k in ((at(t) - first) // timedelta(days=1) for t in times):
        if 0 <= k < whole:
            expected[k] += 1
    assert kpis._per_day([at(t) for t in times], first, whole) == expected


def test_elapsed_is_seconds_per_fact_and_none_without_a_start() -> None:
    facts = [TicketFact(ticket_id=UUID(int=1), created_at=T0, last_resolved_at=at(1_500_000)),
             TicketFact(ticket_id=UUID(int=2), last_resolved_at=at(3))]
    for hours in (False, True):
        ds = Dataset(facts=tuple(facts), business_hours=hours)
        assert kpis.elapsed(ds, facts, "created_at", "last_resolved_at") == [
            kpis.seconds(ds, facts[0], T0, at(1_500_000)), None]


ticket = st.tuples(st.sampled_from(["r1", "r2", None]), st.sampled_from(["net", "hw", None]),
                   offsets, st.one_of(st.none(), offsets))


@given(st.lists(ticket, max_size=25))
def test_repeat_incidents_counts_a_same_requester_category_resolution_in_the_7_days_before(
        rows: list[tuple[str | None, str | None, int, int | None]]) -> None:
    facts = tuple(TicketFact(ticket_id=UUID(int=i), requester_id=r, category=c, created_at=at(t),
                             first_resolved_at=None if f is None else at(f))
                  for i, (r, c, t, f) in enumerate(rows))
    w = Window(at(0), at(10 * 86_400_000_000), at(10 * 86_400_000_000))
    created = [f for f in facts if w.holds(f.created_at)]
    repeats = sum(
        any(o.first_resolved_at is not None and o.requester_id == f.requester_id
            and o.category == f.category
            and o.first_resolved_at <= f.created_at < o.first_resolved_at + kpis.REPEAT_WINDOW
            for o in facts)
        for f in created if f.requester_id and f.category)
    result = kpis.repeat_incidents(Dataset(facts=facts), w)
    assert (result.numerator, result.denominator) == (repeats, len(created))
