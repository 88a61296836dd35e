"""Event -> KPI visible: a ticket created through intake until metrics' projection holds it.

Open-loop load at fixed rates from a second process, which prints each ticket id and the time
of its 201 (the commit). This process polls metrics' `ticket_facts` (what every KPI query
reads) every 10 ms for the pending ids. Baseline: raw aiokafka produce -> consume of a small
record at the same rate, producer settings as the services' (acks=all, linger 5 ms).

The latency is also cut into legs by a bare consumer of the tickets topic (no group, from its
end): intake's relay (201 -> the `created` record's CreateTime, set when the relay hands it to
the producer), the broker hop (CreateTime -> the bare consumer holds it) and metrics (the bare
consumer holds it -> the row is seen), so the table says which part of the pipeline the time is in.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

import asyncpg

from helpdesk_events.kafka import ensure_topics, make_producer

from .result import Result
from .scale import Scale
from .stack import Stack, plain_dsn
from .stats import summarize
from .throughput import BODY

TARGET_P99_MS = 100.0
TARGET_RATE = 500
POLL_S = 0.01


CREATED = b"helpdesk.ticket.created.v1"


async def _watch_created(bootstrap: str, seen: dict[uuid.UUID, tuple[float, float]],
                         ready: asyncio.Event) -> None:
    """Until cancelled: (CreateTime, received) in seconds of each `created` record from now on."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from helpdesk_events import topics

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                fetch_max_wait_ms=100)
    await consumer.start()
    try:
        parts = [TopicPartition(topics.TICKETS, p)
                 for p in sorted(consumer.partitions_for_topic(topics.TICKETS) or ())]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the end offsets now, not at the first fetch
            await consumer.position(tp)
        ready.set()
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batch.values():
                for r in records:
                    if (b"ce_type", CREATED) in ((k.encode(), v) for k, v in r.headers):
                        seen[uuid.UUID(r.key.decode())] = (r.timestamp / 1000, now)
    finally:
        ready.set()
        await consumer.stop()


async def kpi_latency(stack: Stack, rate: float, seconds: float) -> tuple[list[float], dict]:
    """Latencies (ms) from each 201 to the ticket's row in metrics, and the generator's report
    (with `legs`: the latencies cut at the created record's CreateTime and its receipt)."""
    pending: dict[uuid.UUID, float] = {}
    latencies: list[float] = []
    report: dict = {}
    answered: dict[uuid.UUID, tuple[float, float]] = {}  # 201 time, row seen
    created: dict[uuid.UUID, tuple[float, float]] = {}
    ready = asyncio.Event()
    watcher = asyncio.create_task(_watch_created(stack.bootstrap, created, ready))
    await ready.wait()
    metrics = await asyncpg.connect(plain_dsn(stack.databases["bench_metrics"]))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.httpload", "open", "--url", f"{stack.urls['intake']}/v1/tickets",
        "--token", stack.token(), "--body", BODY, "--rate", str(rate), "--duration", str(seconds),
        "--clients", "64", stdout=asyncio.subprocess.PIPE)
    finished = False

    async def read() -> None:
        nonlocal finished, report
        import orjson

        assert proc.stdout is not None
        async for line in proc.stdout:
            if line.startswith(b"BENCH_JSON "):
                report = orjson.loads(line[11:])
                continue
            ticket, _, at = line.decode().partition(" ")
            pending[uuid.UUID(ticket)] = float(at)
        finished = True

    reader = asyncio.create_task(read())
    deadline = None
    try:
        while True:
            if pending:
                ids = list(pending)
                rows = await metrics.fetch(
                    "SELECT ticket_id FROM ticket_facts WHERE ticket_id = ANY($1::uuid[])", ids)
                now = time.time()
                for row in rows:
                    at = pending.pop(row["ticket_id"])
                    latencies.append((now - at) * 1000)
                    answered[row["ticket_id"]] = (at, now)
            if finished:
                deadline = deadline or time.monotonic() + 60
                if not pending or time.monotonic() > deadline:
                    break
            await asyncio.sleep(POLL_S)
    finally:
        await reader
        await proc.wait()
        await metrics.close()
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    report["never_seen"] = len(pending)
    legs: dict[str, list[float]] = {"relay": [], "broker hop": [], "metrics": []}
    for ticket, (at, shown) in answered.items():
        if ticket in created:
            stamped, received = created[ticket]
            legs["relay"].append((stamped - at) * 1000)
            legs["broker hop"].append((received - stamped) * 1000)
            legs["metrics"].append((shown - received) * 1000)
    report["legs"] = legs
    return latencies, report


async def raw_kafka_latency(bootstrap: str, rate: float, seconds: float) -> list[float]:
    """Produce -> consume latencies (ms) of raw aiokafka at `rate` records/s."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, {topic: 3})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=100)
    producer = make_producer(bootstrap)
    await consumer.start()
    await producer.start()
    latencies: list[float] = []
    total = int(rate * seconds)
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)

        async def consume() -> None:
            while len(latencies) < total:
                batch = await consumer.getmany(timeout_ms=200)
                now = time.time()
                for records in batch.values():
                    latencies.extend((now - float(r.value)) * 1000 for r in records)

        task = asyncio.create_task(consume())
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await producer.send(topic, str(time.time()).encode(), key=str(i).encode())
        await asyncio.wait_for(task, timeout=60)
    finally:
        await producer.stop()
        await consumer.stop()
    return latencies


#: The services and PostgreSQL count as idle below this many CPU seconds per second.
IDLE_CPU = 0.2
SETTLE_TIMEOUT_S = 180.0


def settle(stack: Stack) -> tuple[float, float]:
    """Wait until the pipeline has drained what earlier benchmarks left (seconds, CPU-s/s).

    The throughput run before leaves thousands of downstream events (sla, routing, surveys
    topics) queued for metrics' consumer even after every ticket is in ticket_facts;
    measuring latency before they are drained measures that backlog.
    """
    import time

    started = time.monotonic()
    busy = float("inf")
    while time.monotonic() - started < SETTLE_TIMEOUT_S:
        before = stack.component_cpu()
        time.sleep(1.0)
        after = stack.component_cpu()
        busy = sum(after[k] - before[k] for k in after if k in before and k != "Tansu")
        if busy < IDLE_CPU:
            break
    return time.monotonic() - started, busy


def run(stack: Stack, scale: Scale) -> Result:
    """Each fixed rate: KPI-visible latency versus the raw broker round trip."""
    result = Result("Event -> KPI visible in metrics")
    result.notes.append(
        "latency = time metrics' ticket_facts row was first seen (10 ms polls of metrics' "
        "database) minus the time of the 201 from intake; so it includes intake's outbox relay, "
        "the broker and metrics' consumer transaction, plus up to 10 ms of polling; the legs "
        "(relay, broker hop, metrics) cut it at the created record's CreateTime and at a bare "
        "consumer's receipt of it")
    for rate in scale.latency_rates:
        waited, idle = settle(stack)
        result.notes.append(f"before {rate:g}/s: waited {waited:.1f} s for the pipeline to go idle "
                            f"(five services and PostgreSQL at {idle:.2f} CPU-s/s)")
        base = summarize(asyncio.run(raw_kafka_latency(stack.bootstrap, rate, scale.latency_seconds)))
        samples, report = asyncio.run(kpi_latency(stack, rate, scale.latency_seconds))
        mine = summarize(samples)
        target = rate >= TARGET_RATE
        for q in ("p50", "p90", "p99"):
            result.add(f"{rate:g} tickets/s: {q}", getattr(mine, q), "ms",
                       baseline=getattr(base, q),
                       target=f"<= {TARGET_P99_MS:g} ms at {TARGET_RATE}/s" if q == "p99" and target else "",
                       met=(mine.p99 <= TARGET_P99_MS) if q == "p99" and target else None)
        achieved = report.get("statuses", {}).get("201", 0) / max(report.get("elapsed_s", 1), 1e-9)
        result.add(f"{rate:g} tickets/s: achieved create rate", achieved, "1/s")
        result.notes.append(
            f"{rate:g}/s: {mine.count} tickets measured, {report.get('never_seen', 0)} never seen "
            f"in 60 s; create latency p99 {report.get('p99', float('nan')):.1f} ms; "
            f"{report.get('sent_late', 0)} requests sent > 50 ms behind schedule, "
            f"{report.get('abandoned', 0)} abandoned unanswered 15 s after the last was due")
        legs = {name: summarize(values) for name, values in report["legs"].items() if values}
        if legs:
            result.notes.append(
                f"{rate:g}/s, where the time went (p50 / p99 of {min(s.count for s in legs.values())} "
                "tickets): " + "; ".join(
                    f"{name} {leg.p50:.1f} / {leg.p99:.1f} ms" for name, leg in legs.items()))
    return result
