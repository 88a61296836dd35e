"""Rebuild: replay every topic from offset 0 into fresh tables, then switch the live ones over.

1. Every record of the four topics, read from offset 0 without a consumer group, is folded
   in memory (`Projection`): the same `writes.writes_for_document` the live handler carries
   out in SQL, with the same meaning per write mode, each event id once (as the inbox does),
   and each ticket's fact folded from its events in stream order with `facts.fold`.
2. Catch up: read again from where the replay stopped until a read brings nothing new.
3. Switch in one transaction on the live database: lock the inbox (PostgreSQL: EXCLUSIVE,
   so no consumer transaction commits meanwhile; SQLite has one writer anyway); if the live
   consumer handled an event the replay has not seen yet, go back to 2; else replace the
   projection tables and the consumer's inbox with the replayed rows (bulk inserts: COPY on
   PostgreSQL, one executemany per table on SQLite). A consumer transaction that commits
   afterwards finds its event in the inbox (skip) or applies it on top.
Targets and configuration are not projections: they are kept.

What is checked per replayed record (`read_record`): the value is a JSON object with every
required CloudEvents attribute, `specversion` 1.0, a registered `type`, a `data` object whose
field names match the event class (none missing, none unknown), and every value metrics
stores parses to its type (`writes_for_document`). The pydantic models are not built: the
records on these topics were validated by the producer's codec, so a full decode per record
(5x slower) would check them a second time. Constraints on values metrics does not store
(lengths, patterns, nested models) are therefore not re-checked; `strict=True` decodes every
record with the codec first, as the live consumer does, and skips what it rejects.
"""

from __future__ import annotations

import asyncio
import gc
import re
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helpdesk_events import topics
from helpdesk_events.codec import InvalidEvent, MalformedRecord, UnknownEventType, decode
from helpdesk_events.envelope import EVENT_TYPES, Event
from helpdesk_runtime.settings import KafkaSettings

from . import settled
from .facts import TicketFact, fold
from .rows import fact_values
from .tables import (
    agent_statuses,
    calendars,
    inbox,
    sla_outcomes,
    survey_answers,
    surveys,
    ticket_events,
    ticket_facts,
)
from .writes import NEWER_BY, Mode, TicketChange, Write, writes_for_document

log = logging.getLogger("helpdesk.metrics.rebuild")

PROJECTIONS = (ticket_facts, ticket_events, sla_outcomes, surveys, survey_answers,
               agent_statuses, calendars)
#: Rows per executemany on SQLite (COPY on PostgreSQL streams a table at once).
CHUNK = 5000
MAX_SWITCH_ATTEMPTS = 20
#: Records folded between two yields to the event loop: the consumer's fetches of the next
#: records (and the API) run meanwhile, so the broker's reads overlap the fold.
SLICE = 1000
#: Bigger fetches than aiokafka's 1 MiB per partition: fewer round trips to the broker.
FETCH_BYTES = 8 << 20
#: CloudEvents attributes every record carries (as the codec requires).
_REQUIRED = frozenset({"specversion", "id", "source", "type", "subject", "time", "data"})


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did."""

    records: int
    undecodable: int
    tickets: int
    attempts: int


class TopicReplay:
    """Every partition of the topics, from offset 0, read in catch-up rounds (no group)."""

    def __init__(self, kafka: KafkaSettings, names: tuple[str, ...]) -> None:
        options = kafka.client_options()
        self.consumer = AIOKafkaConsumer(enable_auto_commit=False, auto_offset_reset="earliest",
                                         max_partition_fetch_bytes=FETCH_BYTES, **options)
        self.names = names

    async def start(self) -> None:
        """Connect, assign every partition and seek to the beginning."""
        await self.consumer.start()
        parts = [TopicPartition(t, p) for t in self.names
                 for p in sorted(await self._partitions(t))]
        self.consumer.assign(parts)
        await self.consumer.seek_to_beginning(*parts)

    async def _partitions(self, topic: str) -> set[int]:
        for _ in range(100):
            found = self.consumer.partitions_for_topic(topic)
            if found:
                return found
            await self.consumer._client.force_metadata_update()  # noqa: SLF001 - no public call
            await asyncio.sleep(0.05)
        return set()

    async def read_round(self) -> AsyncIterator[list[Any]]:
        """Records up to each partition's high watermark (as fetches see it), SLICE at a time."""
        remaining = set(self.consumer.assignment())
        idle = 0
        while remaining and idle < 10:
            batch = await self.consumer.getmany(*remaining, timeout_ms=100, max_records=SLICE)
            got = sum(len(v) for v in batch.values())
            idle = 0 if got else idle + 1
            if got:
                yield [record for messages in batch.values() for record in messages]
            for tp in list(remaining):
                highwater = self.consumer.highwater(tp)
                if highwater is not None and await self.consumer.position(tp) >= highwater:
                    remaining.discard(tp)

    async def stop(self) -> None:
        """Disconnect."""
        await self.consumer.stop()


async def topic_records(kafka: KafkaSettings, names: tuple[str, ...]) -> int:
    """How many records the topics hold now (the sum of every partition's end offset)."""
    replay = TopicReplay(kafka, names)
    await replay.start()
    try:
        ends = await replay.consumer.end_offsets(list(replay.consumer.assignment()))
        return sum(ends.values())
    finally:
        await replay.stop()


@lru_cache(maxsize=None)
def _payload_fields(event_class: type[Event]) -> tuple[frozenset[str], frozenset[str]]:
    """(required, allowed) field names of an event class's payload."""
    fields = event_class.model_fields
    return (frozenset(n for n, f in fields.items() if f.is_required()), frozenset(fields))


def read_record(value: bytes) -> dict[str, Any]:
    """The CloudEvent in a replayed record value, checked as the module docstring says."""
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise MalformedRecord(f"record value is not JSON: {exc}") from None
    if not isinstance(document, dict) or not document.keys() >= _REQUIRED:
        raise MalformedRecord("record value is not a CloudEvent with every required attribute")
    event_type, data = document["type"], document["data"]
    event_class = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if event_class is None:
        raise UnknownEventType(event_type)
    if document["specversion"] != "1.0" or not isinstance(data, dict):
        raise InvalidEvent(event_type, "<envelope>", "not a CloudEvents 1.0 envelope with data")
    required, allowed = _payload_fields(event_class)
    if not required <= data.keys() <= allowed:
        raise InvalidEvent(event_type, "data", "fields do not match the event class")
    return document


def read_record_strictly(value: bytes) -> dict[str, Any]:
    """The same, after the full codec decode the live consumer runs (raises what it rejects)."""
    decode(value)
    return read_record(value)


@dataclass
class Projection:
    """Metrics' projection tables built in memory from replayed events (see module docstring)."""

    consumer_name: str
    seen: set[UUID] = field(default_factory=set)
    rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict))
    changes: dict[UUID, list[TicketChange]] = field(default_factory=lambda: defaultdict(list))

    def apply(self, document: dict[str, Any]) -> None:
        """Fold one event (a structured-mode CloudEvent) in; an event id seen before: nothing.

        Raises (and changes nothing) when the document lacks what its writes need.
        """
        event_id = document["id"] = UUID(document["id"])  # parsed once, writes reuse it
        if event_id in self.seen:
            return
        writes, change = writes_for_document(document)
        self.seen.add(event_id)
        for write in writes:
            self._write(write)
        if change is not None:
            self.changes[change.ticket_id].append(change)

    def _write(self, write: Write) -> None:
        table = self.rows[write.table.name]
        key = write.key
        known = table.get(key)
        if known is None:
            table[key] = write.values  # a fresh dict per write: no copy needed
        elif write.mode is Mode.MERGE:
            known.update(write.values)
        elif write.mode is Mode.NEWER and known[NEWER_BY] <= write.values[NEWER_BY]:
            known.update(write.values)

    def ticket_ids(self) -> set[UUID]:
        """Every ticket with a fact row (from its events or an SLA clock)."""
        return self.changes.keys() | {key[0] for key in self.rows[ticket_facts.name]}

    def facts(self) -> Iterator[dict[str, Any]]:
        """Every ticket_facts row: each ticket's events folded in stream order."""
        partial = self.rows[ticket_facts.name]
        for ticket_id in self.ticket_ids():
            calendar_id = partial.get((ticket_id,), {}).get("calendar_id")
            # The order the live refold reads them in: sequence (missing last), then time.
            changes = sorted(self.changes.get(ticket_id, ()),
                             key=lambda c: (c.sequence is None, c.sequence or 0, c.at))
            fact = (fold(ticket_id, [(c.type, c.data) for c in changes], calendar_id)
                    if changes else TicketFact(ticket_id=ticket_id))
            yield {"ticket_id": ticket_id, "calendar_id": calendar_id, **fact_values(fact)}

    def table_rows(self, table: sa.Table) -> Iterator[dict[str, Any]]:
        """The rows of `table` (a column missing from a row: None)."""
        if table is ticket_facts:
            return self.facts()
        if table is inbox:
            return ({"consumer": self.consumer_name, "event_id": event_id}
                    for event_id in self.seen)
        return iter(self.rows[table.name].values())


async def rebuild(live: AsyncEngine, kafka: KafkaSettings, consumer_name: str,
                  progress: Callable[[int], None] | None = None, *,
                  strict: bool = False) -> RebuildReport:
    """Replay the topics into memory and switch the live projections over.

    `strict`: decode every record with the codec (pydantic) as the live consumer does, instead
    of the structural check of `read_record` (several times slower).
    """
    # `helpdesk serve` froze what the server built once; the replay's unfreeze at its end
    # thaws that too. Frozen again once the replay's own objects are gone (its frame has
    # returned, they are garbage): not after a failure, whose traceback still holds them.
    served_frozen = gc.get_freeze_count() > 0
    report = await _replay_and_switch(live, kafka, consumer_name, progress, strict=strict)
    if served_frozen and gc.isenabled():
        gc.collect()
        gc.freeze()
    return report


async def _replay_and_switch(live: AsyncEngine, kafka: KafkaSettings, consumer_name: str,
                             progress: Callable[[int], None] | None, *,
                             strict: bool) -> RebuildReport:
    replay = TopicReplay(kafka, topics.ALL)
    projection = Projection(consumer_name)
    read = read_record_strictly if strict else read_record
    # The replay builds millions of long-lived objects: the cyclic GC would rescan them all
    # over and over (a third of the replay's time). Frozen, they are skipped until the end.
    frozen = gc.isenabled()
    started = time.perf_counter()
    try:
        await replay.start()
        seen = bad = 0
        for attempt in range(1, MAX_SWITCH_ATTEMPTS + 1):
            fetched = True
            while fetched:
                fetched = False
                async for records in replay.read_round():
                    fetched = True
                    for record in records:
                        try:
                            projection.apply(read(record.value))
                        except Exception:  # noqa: BLE001 - poison records are the DLQ's business
                            bad += 1
                            continue
                        seen += 1
                    if frozen:
                        gc.freeze()
                    if progress is not None:
                        progress(seen)
                    # The fold is CPU only: let the API and the live consumer run between fetches.
                    await asyncio.sleep(0)
            switching = time.perf_counter()
            if await _switch(live, projection):
                log.info("rebuild: %d records (%d undecodable) replayed in %.1f s, switched in "
                         "%.1f s", seen, bad, switching - started, time.perf_counter() - switching)
                return RebuildReport(seen, bad, len(projection.ticket_ids()), attempt)
        raise RuntimeError("the live consumer kept ahead of the rebuild; try again")
    finally:
        if frozen:
            gc.unfreeze()
        await replay.stop()


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _columns(table: sa.Table) -> list[str]:
    # Columns filled by the database (the inbox's handled_at) are left to it.
    return [c.name for c in table.columns if c.server_default is None]


def _tuples(conn: AsyncConnection, table: sa.Table,
            rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """Rows as driver parameters: each column's own bind conversion, JSON through orjson."""
    dialect = conn.dialect
    names = _columns(table)
    convert = []
    for i, name in enumerate(names):
        column_type = table.c[name].type
        process = (_dumps if isinstance(column_type, sa.JSON)
                   else column_type.dialect_impl(dialect).bind_processor(dialect))
        if process is not None:
            convert.append((i, process))
    for row in rows:
        record = [row.get(name) for name in names]
        for i, process in convert:
            value = record[i]
            if value is not None:
                record[i] = process(value)
        yield record


async def _insert(conn: AsyncConnection, table: sa.Table, rows: Iterable[dict[str, Any]], *,
                  into: str | None = None) -> None:
    """Bulk-insert `rows` of `table` (into the table named `into`, same columns, if given)."""
    target = into or table.name
    names = _columns(table)
    records = _tuples(conn, table, rows)
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        # The asyncpg connection of this very transaction: COPY is part of the switch.
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            target, records=list(records), columns=names)
        return
    sql = (f"INSERT INTO {target} ({', '.join(names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    chunk: list[tuple[Any, ...]] = []
    for record in records:
        chunk.append(tuple(record))
        if len(chunk) == CHUNK:
            await conn.exec_driver_sql(sql, chunk)
            chunk = []
    if chunk:
        await conn.exec_driver_sql(sql, chunk)


#: Suffix of the tables (and their indexes) a PostgreSQL switch builds before swapping them in.
STAGED = "__rebuild"


async def _stage(conn: AsyncConnection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> list[Any]:
    """PostgreSQL: build a copy of `table` holding `rows`, beside it; its index list.

    COPY into a table without indexes, then one sorted build per index, is cheaper than
    deleting every row and COPYing into the indexed live table (whose indexes then hold
    the dead entries too: that switch took 1.9, 3.3, 5.4 s on three rebuilds in a row of
    the same 48k records). Same columns, defaults, checks, indexes and (after
    `_put_in_place`) names. Grants other roles held on the old table are not carried over
    (metrics grants none).
    """
    name, staged = table.name, table.name + STAGED
    indexes = (await conn.execute(sa.text(
        "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition, c.conname AS constraint, "
        "CAST(c.contype AS text) AS kind FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = x.indrelid "
        "WHERE x.indrelid = CAST(:table AS regclass)"), {"table": name})).all()
    await conn.execute(sa.text(f'DROP TABLE IF EXISTS "{staged}"'))
    await conn.execute(sa.text(
        f'CREATE TABLE "{staged}" (LIKE "{name}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
        f'INCLUDING GENERATED INCLUDING STORAGE)'))
    await _insert(conn, table, rows, into=staged)
    for index in indexes:
        parsed = _INDEX_DEFINITION.match(index.definition)
        if parsed is None:
            raise RuntimeError(f"unexpected index definition {index.definition!r}")
        unique, method = parsed.group("unique") or "", parsed.group("method")
        await conn.execute(sa.text(
            f'CREATE {unique}INDEX {_ident(index.name + STAGED)} ON "{staged}" {method}'))
        if index.kind in ("p", "u"):
            kind = "PRIMARY KEY" if index.kind == "p" else "UNIQUE"
            await conn.execute(sa.text(
                f'ALTER TABLE "{staged}" ADD CONSTRAINT {_ident(index.constraint + STAGED)} '
                f"{kind} USING INDEX {_ident(index.name + STAGED)}"))
    await conn.execute(sa.text(f'ANALYZE "{staged}"'))
    return list(indexes)


async def _put_in_place(conn: AsyncConnection, table: sa.Table, indexes: list[Any]) -> None:
    """PostgreSQL: drop `table` and give its staged copy (and the copy's indexes) its names.

    DROP waits for the old table's readers to finish; readers that come later wait for the
    switch to commit, then find the new table. Hence all tables are staged first.
    """
    name, staged = table.name, table.name + STAGED
    await conn.execute(sa.text(f'DROP TABLE "{name}"'))
    await conn.execute(sa.text(f'ALTER TABLE "{staged}" RENAME TO "{name}"'))
    for index in indexes:
        # Renaming a constraint's index renames the constraint with it.
        await conn.execute(sa.text(
            f"ALTER INDEX {_ident(index.name + STAGED)} RENAME TO {_ident(index.name)}"))


#: pg_get_indexdef's form: CREATE [UNIQUE] INDEX name ON [schema.]table USING method (...).
_INDEX_DEFINITION = re.compile(
    r'^CREATE (?P<unique>UNIQUE )?INDEX (?:"(?:[^"]|"")+"|\S+) ON (?:"(?:[^"]|"")+"|\S+) '
    r"(?P<method>USING .+)$", re.DOTALL)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _switch(live: AsyncEngine, projection: Projection) -> bool:
    """Replace the live projections with the replayed rows, unless live has seen more events."""
    consumer_name = projection.consumer_name
    async with live.begin() as dst:
        postgres = dst.dialect.name == "postgresql"
        if postgres:
            await dst.execute(sa.text(f"LOCK TABLE {inbox.name} IN EXCLUSIVE MODE"))
        handled = set((await dst.execute(sa.select(inbox.c.event_id)
                                          .where(inbox.c.consumer == consumer_name))).scalars())
        if not handled <= projection.seen:
            return False
        if postgres:
            staged = [(table, await _stage(dst, table, projection.table_rows(table)))
                      for table in PROJECTIONS]
            for table, indexes in staged:
                await _put_in_place(dst, table, indexes)
        else:
            for table in PROJECTIONS:
                await dst.execute(table.delete())
                await _insert(dst, table, projection.table_rows(table))
        # Kept results were computed from the rows just replaced (settled.py).
        await settled.mark_all_of_history(dst)
        # The inbox is shared with other consumers' rows: replaced in place.
        await dst.execute(inbox.delete().where(inbox.c.consumer == consumer_name))
        await _insert(dst, inbox, projection.table_rows(inbox))
    return True
