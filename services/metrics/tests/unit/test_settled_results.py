"""The kept results' bookkeeping (settled.py): pure, no database."""

from __future__ import annotations

from datetime import datetime, timezone

from helpdesk_metrics.kpis import KpiResult
from helpdesk_metrics.settled import Marks, SettledResults

ROW = {"agent": "a1", "resolved": 3, "fcr": 0.5}


def test_marks_sum_the_hours_up_to_a_cutoff_including_its_own() -> None:
    h = [datetime(2026, 1, 5, k, tzinfo=timezone.utc) for k in (9, 10, 12)]
    marks = Marks(tuple(h), (2, 3, 7))
    assert marks.up_to(h[0].replace(hour=8)) == 0
    assert marks.up_to(h[0]) == 2  # an event at 09:00 is in the 09:00 hour
    assert marks.up_to(h[1].replace(minute=59)) == 3
    assert marks.up_to(h[2].replace(hour=23)) == 7


def test_a_result_is_reused_only_at_the_stamp_it_was_kept_with() -> None:
    kept = SettledResults()
    kept.put("w", 5, {"csat": KpiResult(value=0.9)})
    kept.put("w", 5, {"nps": KpiResult(value=10.0)})  # same stamp: merged
    assert set(kept.get("w", 5)) == {"csat", "nps"} and kept.reused == 1
    assert kept.get("w", 6) == {}  # something changed since: dropped
    assert kept.get("w", 5) == {} and len(kept) == 0 and kept.cells == 0


def test_the_least_recently_used_go_first_once_the_cells_are_spent() -> None:
    big = {"agent_performance": KpiResult(value=2, details={"agents": [ROW, ROW]})}  # 1 + 6
    small = {"csat": KpiResult(value=0.9, breakdown={"a1": 1})}  # 1 + 1
    kept = SettledResults(cells=10)
    kept.put("a", 1, big)
    kept.put("b", 1, small)
    assert kept.cells == 9
    kept.get("a", 1)  # "b" is now the least recently used
    kept.put("c", 1, small)
    assert kept.get("b", 1) == {} and set(kept.get("a", 1)) == {"agent_performance"}
    assert kept.cells == 9 and len(kept) == 2
