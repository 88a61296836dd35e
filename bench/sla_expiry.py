"""SLA: many live clocks, then a trickle of expiries and a mass expiry in one second.

The sla process of the running system (or, alone, a dedicated one), on its own database. The clocks are written straight into sla's
tables (`ticket_sla` state + `sla_timers`, bulk COPY): creating 100k tickets through the
APIs would take far longer than the benchmark. The state is built by the sla domain itself
(`apply_event` on a TicketCreated), one first-response clock per ticket, due times set per
clock. `SLA_SCHEDULER_MAX_SLEEP=1` lets the running scheduler see the rows written behind its
back within a second (the setting exists for timers written by another instance); the
nearest clock is due a few seconds after the write commits.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from .result import Result
from .scale import Scale
from .stack import Stack, plain_dsn
from .stats import summarize

TARGET_LATE_P99_MS = 100.0
TARGET_BURST_S = 2.0
POLL_S = 0.02
#: Settings for the sla process under test (see the module docstring).
SLA_ENV = {"SLA_SCHEDULER_MAX_SLEEP": "1"}


def clock_rows(count: int, due: list[datetime]) -> tuple[list[tuple], list[tuple], dict[str, datetime]]:
    """`ticket_sla` and `sla_timers` rows for `count` tickets with one running clock each."""
    from helpdesk_events.sla import Target
    from helpdesk_events.tickets import Actor, Requester, TicketCreated
    from helpdesk_sla.domain.decide import apply_event
    from helpdesk_sla.domain.policies import SlaConfig

    now = datetime.now(UTC)
    template = apply_event(None, TicketCreated(
        ticket_id=uuid.uuid4(), occurred_at=now, number="HD-1", subject="bench",
        requester=Requester(id="u-bench"), channel="email", type="incident", priority="P3",
        by=Actor(id="u-bench", role="requester")), SlaConfig()).state
    assert template is not None
    clock = template.clocks[Target.FIRST_RESPONSE]
    states, timers, keys = [], [], {}
    for i in range(count):
        ticket_id = uuid.uuid4()
        mine = clock.model_copy(update={"due_at": due[i], "warn_at": None})
        state = template.model_copy(update={"ticket_id": ticket_id,
                                            "clocks": {Target.FIRST_RESPONSE: mine}})
        states.append((ticket_id, now, state.policy_id, state.model_dump_json(), now))
        key = f"{ticket_id}:{Target.FIRST_RESPONSE.value}:breach:{mine.generation}"
        timers.append((key, ticket_id, Target.FIRST_RESPONSE.value, "breach", mine.generation, due[i]))
        keys[key] = due[i]
    return states, timers, keys


async def copy_in(dsn: str, states: list[tuple], timers: list[tuple]) -> None:
    """Write the rows in one transaction."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "ticket_sla", records=states,
                columns=["ticket_id", "created_at", "policy_id", "state", "updated_at"])
            await conn.copy_records_to_table(
                "sla_timers", records=timers,
                columns=["key", "ticket_id", "target", "kind", "generation", "due_at"])
    finally:
        await conn.close()


#: How far before the latest decision seen each poll reads again (out-of-order commits).
LOOKBACK = timedelta(seconds=2)


async def watch(dsn: str, due: dict[str, datetime], timeout: float) -> dict[str, tuple[float, float]]:
    """key -> (decision time, first time seen committed) as unix seconds, for the `due` keys.

    Each poll looks at the firings decided since `LOOKBACK` before the latest decision seen: a
    batch may commit after a batch decided later (SLA_TIMER_CLAIMERS > 1 fires side by side),
    and a poll for `fired_at >=` the latest seen alone would never see it. Of those it returns
    only the rows of transactions that had not ended before the previous poll's snapshot (the
    others it returned then): returning every row of the last 2 s, 10k in a burst, 50 times a
    second, took this process up to half a core during the burst it measures.
    """
    conn = await asyncpg.connect(dsn)
    seen: dict[str, tuple[float, float]] = {}
    since = datetime(1970, 1, 1, tzinfo=UTC)
    ended_before = 0  # transaction ids below it had ended before the last poll's snapshot
    deadline = time.monotonic() + timeout
    try:
        while len(seen) < len(due) and time.monotonic() < deadline:
            # One statement, one snapshot: its xmin says which transactions it saw the end of.
            rows = await conn.fetch(
                "SELECT key, fired_at, pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
                " AS horizon FROM (SELECT 1) one LEFT JOIN sla_firings"
                " ON fired_at >= $1 AND xmin::text::bigint >= $2", since - LOOKBACK, ended_before)
            now = time.time()
            for row in rows:
                key = row["key"]
                if key is not None:
                    if key in due and key not in seen:
                        seen[key] = (row["fired_at"].timestamp(), now)
                    since = max(since, row["fired_at"])
            # A fresh throw-away cluster: epoch 0, so a 64-bit id equals the row's 32-bit xmin.
            ended_before = rows[0]["horizon"]
            await asyncio.sleep(POLL_S)
    finally:
        await conn.close()
    return seen


async def outbox_empty_at(dsn: str, timeout: float) -> float | None:
    """Unix time when sla's outbox was first seen empty (every breach event published)."""
    conn = await asyncpg.connect(dsn)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not await conn.fetchval("SELECT count(*) FROM outbox"):
                return time.time()
            await asyncio.sleep(POLL_S)
    finally:
        await conn.close()
    return None


def run(stack: Stack, scale: Scale) -> Result:
    """Seed far clocks, then a trickle and a burst due soon; measure when each fired."""
    result = Result("SLA timers: live clocks and mass expiry")
    key = "sla"
    if key not in stack.processes:
        key = "xsla"
        stack.start_services(["sla"], label="x", extra={"sla": SLA_ENV})
    dsn = plain_dsn(stack.databases[f"bench_{key}"])
    rnd = random.Random(7)
    far_count = scale.sla_clocks - scale.sla_burst - scale.sla_trickle
    now = datetime.now(UTC)
    far_due = [now + timedelta(hours=2, seconds=rnd.uniform(0, 7200)) for _ in range(far_count)]
    started = time.perf_counter()
    states, timers, _ = clock_rows(far_count, far_due)
    asyncio.run(copy_in(dsn, states, timers))
    far_seconds = time.perf_counter() - started
    del states, timers
    # The near clocks: the first is due a few seconds after they are built and committed.
    near = scale.sla_trickle + scale.sla_burst
    margin = 2.0 + 2 * far_seconds * near / max(far_count, 1)
    t0 = datetime.now(UTC) + timedelta(seconds=margin)
    offsets = sorted(rnd.uniform(0, scale.sla_trickle_seconds) for _ in range(scale.sla_trickle))
    burst_at = t0 + timedelta(seconds=scale.sla_trickle_seconds + 1)
    offsets_burst = sorted(rnd.uniform(0, 0.999) for _ in range(scale.sla_burst))
    due_list = [t0 + timedelta(seconds=o) for o in offsets] + \
               [burst_at + timedelta(seconds=o) for o in offsets_burst]
    states, timers, keys = clock_rows(near, due_list)
    asyncio.run(copy_in(dsn, states, timers))
    committed = datetime.now(UTC)
    if committed >= t0:
        result.notes.append("the near clocks committed after the first was due: lateness inflated")
    timeout = (burst_at - datetime.now(UTC)).total_seconds() + 90
    seen = asyncio.run(watch(dsn, keys, timeout))
    published = asyncio.run(outbox_empty_at(dsn, 60))
    trickle_keys = list(keys)[: scale.sla_trickle]
    burst_keys = list(keys)[scale.sla_trickle:]

    def late(which: list[str], index: int) -> list[float]:
        return [(seen[k][index] - keys[k].timestamp()) * 1000 for k in which if k in seen]

    early = sum(1 for k, (decided, _) in seen.items() if decided < keys[k].timestamp())
    result.add(f"clocks fired early (of {len(seen):,} seen fired)", early, "", target="0 (never early)",
               met=early == 0)
    trickle_seen = summarize(late(trickle_keys, 1))
    burst_seen = summarize(late(burst_keys, 1))
    for q in ("p50", "p99", "max"):
        result.add(f"trickle lateness {q} (committed)", getattr(trickle_seen, q), "ms",
                   target=f"p99 <= {TARGET_LATE_P99_MS:g} ms" if q == "p99" else "",
                   met=trickle_seen.p99 <= TARGET_LATE_P99_MS if q == "p99" else None)
    decided = summarize(late(trickle_keys, 0))
    result.add("trickle lateness p99 (decision time)", decided.p99, "ms")
    for q in ("p50", "p99", "max"):
        result.add(f"burst lateness {q} (committed)", getattr(burst_seen, q), "ms",
                   target=f"p99 <= {TARGET_LATE_P99_MS:g} ms" if q == "p99" else "",
                   met=burst_seen.p99 <= TARGET_LATE_P99_MS if q == "p99" else None)
    last = max((seen[k][1] for k in burst_keys if k in seen), default=float("nan"))
    done = last - burst_at.timestamp()
    burst_fired = sum(1 for k in burst_keys if k in seen)
    result.add(f"burst clocks seen committed (of {scale.sla_burst:,})", burst_fired, "")
    result.add("last burst clock seen committed, s after their second began",
               done, "s", target=f"all within {TARGET_BURST_S:g} s",
               met=done <= TARGET_BURST_S and burst_fired == len(burst_keys))
    burst_seen_at = sorted(seen[k][1] for k in burst_keys if k in seen)
    if len(burst_seen_at) > 1:
        result.add("burst firing rate (committed clocks/s)", len(burst_seen_at) /
                   max(burst_seen_at[-1] - burst_at.timestamp(), 1e-3), "1/s")
    if published is not None:
        result.add("breach events published (outbox empty), s after the burst second began",
                   published - burst_at.timestamp(), "s")
    missing = len(keys) - len(seen)
    rss, peak = stack.memory(key)
    result.add(f"sla RSS with {scale.sla_clocks:,} clocks (peak)", peak, "MiB")
    result.notes.append(
        f"{scale.sla_clocks:,} live clocks ({far_count:,} due in 2-4 h, written in "
        f"{far_seconds:.1f} s), {scale.sla_trickle:,} due spread over "
        f"{scale.sla_trickle_seconds:g} s, {scale.sla_burst:,} due within one second; "
        f"{missing} near clocks not seen fired within 90 s of the burst; 'committed' lateness = first 20 ms poll that "
        f"saw the firing row minus the due time (includes up to 20 ms polling)")
    if key == "xsla":
        stack.stop([key])
    return result

