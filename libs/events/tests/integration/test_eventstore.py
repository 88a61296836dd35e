"""Event store contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from helpdesk_events.eventstore import (
    ConcurrencyConflict,
    append,
    read_all,
    read_stream,
    stream_version,
)
from sqlalchemy.ext.asyncio import AsyncEngine


async def test_appended_events_read_back_in_version_order(store: AsyncEngine, make_ping) -> None:
    stream = uuid.uuid4()
    first = [make_ping(1, stream), make_ping(2, stream)]
    second = [make_ping(3, stream)]
    async with store.begin() as conn:
        assert await stream_version(conn, stream) == 0
        await append(conn, stream, 0, first)
    async with store.begin() as conn:
        await append(conn, stream, 2, second)

    async with store.connect() as conn:
        events = await read_stream(conn, stream)
        assert await stream_version(conn, stream) == 3
    assert events == first + second
    assert [e.data.n for e in events] == [1, 2, 3]


async def test_append_at_a_stale_version_raises_conflict_with_the_actual_version(
    store: AsyncEngine, make_ping
) -> None:
    stream = uuid.uuid4()
    async with store.begin() as conn:
        await append(conn, stream, 0, [make_ping(1, stream), make_ping(2, stream)])

    for stale in (0, 1, 5):
        with pytest.raises(ConcurrencyConflict) as caught:
            async with store.begin() as conn:
                await append(conn, stream, stale, [make_ping(9, stream)])
        assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (
            stream,
            stale,
            2,
        )
    async with store.connect() as conn:
        assert [e.data.n for e in await read_stream(conn, stream)] == [1, 2]


async def test_two_writers_racing_on_one_stream_one_wins_the_other_conflicts(
    store: AsyncEngine, make_ping
) -> None:
    stream = uuid.uuid4()
    winner = make_ping(1, stream)
    loser = make_ping(2, stream)

    async def append_in_own_transaction() -> None:
        async with store.begin() as conn:
            await append(conn, stream, 0, [loser])

    async with store.begin() as conn:
        await append(conn, stream, 0, [winner])
        # The loser read version 0 too (PostgreSQL) or waits for the write lock (SQLite).
        racer = asyncio.create_task(append_in_own_transaction())
        await asyncio.sleep(0.3)
        assert not racer.done()
    with pytest.raises(ConcurrencyConflict) as caught:
        await racer
    assert caught.value.actual == 1
    async with store.connect() as conn:
        assert await read_stream(conn, stream) == [winner]


async def test_envelope_sequence_must_match_the_version_it_gets(
    store: AsyncEngine, make_ping
) -> None:
    stream = uuid.uuid4()
    good = make_ping(1, stream).model_copy(update={"sequence": 1})
    bad = make_ping(2, stream).model_copy(update={"sequence": 7})
    async with store.begin() as conn:
        await append(conn, stream, 0, [good])
        with pytest.raises(ValueError, match="sequence 7"):
            await append(conn, stream, 1, [bad])


async def test_read_all_pages_every_stream_in_global_order(store: AsyncEngine, make_ping) -> None:
    streams = [uuid.uuid4() for _ in range(3)]
    written = []
    for round_ in range(4):
        for stream in streams:
            envelope = make_ping(round_, stream)
            async with store.begin() as conn:
                await append(conn, stream, round_, [envelope])
            written.append(envelope)

    seen = []
    position = 0
    async with store.connect() as conn:
        while page := await read_all(conn, after_position=position, limit=5):
            assert len(page) <= 5
            assert [p for p, _ in page] == sorted(p for p, _ in page)
            seen.extend(envelope for _, envelope in page)
            position = page[-1][0]
    assert seen == written
