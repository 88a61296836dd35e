"""Projection rebuild from offset 0 (metrics' POST /v1/admin/rebuild) versus a raw consume."""

from __future__ import annotations

import asyncio
import time

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from helpdesk_events import topics

from .profile import Profiler
from .result import Result
from .stack import Stack

TARGET_RATE = 100_000.0


async def raw_consume(bootstrap: str) -> tuple[int, float, list[bytes]]:
    """(records, seconds, values) reading every partition of the topics from offset 0."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = []
        for topic in topics.ALL:
            for _ in range(100):
                found = consumer.partitions_for_topic(topic)
                if found:
                    break
                await consumer._client.force_metadata_update()  # noqa: SLF001 - as rebuild.py does
                await asyncio.sleep(0.05)
            parts += [TopicPartition(topic, p) for p in sorted(found or ())]
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        remaining = {tp for tp in parts if ends[tp] > 0}
        values: list[bytes] = []
        started = time.perf_counter()
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=200)
            for tp, records in batch.items():
                values.extend(r.value for r in records)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return len(values), time.perf_counter() - started, values
    finally:
        await consumer.stop()


def in_memory_rates(values: list[bytes]) -> tuple[float, float, float]:
    """Records/s of decoding with the codec, of folding ticket facts from plain JSON, and of
    the rebuild's own replay (structural check, writes, facts folded), all without I/O."""
    import orjson

    from helpdesk_events.codec import decode
    from helpdesk_metrics.facts import TicketFact, evolve
    from helpdesk_metrics.rebuild import Projection, read_record

    if not values:
        return float("nan"), float("nan"), float("nan")
    started = time.perf_counter()
    for value in values:
        try:
            decode(value)
        except Exception:  # noqa: BLE001, S112 - the rebuild skips poison records too
            continue
    decode_rate = len(values) / (time.perf_counter() - started)
    started = time.perf_counter()
    facts: dict[str, TicketFact] = {}
    for value in values:
        document = orjson.loads(value)
        data = document.get("data") or {}
        ticket = data.get("ticket_id")
        if ticket is None or not document.get("type", "").startswith("helpdesk.ticket."):
            continue
        fact = facts.get(ticket) or TicketFact(ticket_id=ticket)
        facts[ticket] = evolve(fact, document["type"], data)
    fold_rate = len(values) / (time.perf_counter() - started)
    started = time.perf_counter()
    projection = Projection("bench")
    for value in values:
        try:
            projection.apply(read_record(value))
        except Exception:  # noqa: BLE001, S112 - as the rebuild does
            continue
    for _ in projection.facts():
        pass
    return decode_rate, fold_rate, len(values) / (time.perf_counter() - started)


def run(stack: Stack, profiler: Profiler | None, expected_seconds: float = 60) -> Result:
    """Time the rebuild endpoint on the live metrics service; the raw consume as baseline."""
    result = Result("Projection rebuild from offset 0")
    records, raw_seconds, values = asyncio.run(raw_consume(stack.bootstrap))
    decode_rate, fold_rate, replay_rate = in_memory_rates(values)
    profile = None
    if profiler is not None:
        profile = profiler.start("metrics-rebuild", stack.processes["metrics"].pid, expected_seconds)
    started = time.perf_counter()
    response = httpx.post(f"{stack.urls['metrics']}/v1/admin/rebuild", timeout=3600,
                          headers={"Authorization": f"Bearer {stack.token()}"})
    seconds = time.perf_counter() - started
    if profile is not None:
        profiler.finish(profile)
    response.raise_for_status()
    report = response.json()
    rate = report["records"] / seconds
    raw_rate = records / raw_seconds if raw_seconds else float("nan")
    result.add("rebuild events/s (replay + switch)", rate, "1/s", baseline=raw_rate,
               target=f">= {TARGET_RATE:,.0f}/s", met=rate >= TARGET_RATE)
    result.add("rebuild wall time", seconds, "s", baseline=raw_seconds)
    result.add("ceiling: codec.decode (pydantic) of the same records, in this process", decode_rate, "1/s")
    result.add("ceiling: orjson + facts.evolve fold in memory, no database", fold_rate, "1/s")
    result.add("ceiling: the rebuild's replay (read_record, writes, facts.fold) in memory",
               replay_rate, "1/s")
    result.notes.append(
        f"{report['records']:,} records replayed ({report['tickets']:,} tickets, "
        f"{report['undecodable']} undecodable, {report['attempts']} switch attempt(s)); the raw "
        f"consume read {records:,} records of the same four topics; the rebuild folds the "
        f"replay in memory, then bulk-inserts into the live PostgreSQL tables (both timed)")
    return result
