"""Kafka I/O over aiokafka: producer, topic creation, an at-least-once consumer runner with a DLQ.

The runner commits explicit offsets ({partition: offset + 1}) only after the handler returned
(the handler commits its own database transaction, see `inbox.transactional_handler`), so
a crash redelivers instead of losing. aiokafka rebalances in a background task: records
are processed under a lock that the revoke listener also takes, so a partition is never
revoked half-way through a record, and what is done is committed before it changes hands.

A broker that restarts may have lost everything (the embedded Tansu keeps topics and
committed offsets in memory). Offsets of the old log must never be committed to the new
one: they would skip the records a replay puts back. So a broken broker connection fences
the runner at once (no more commits, `run()` returns) and the owner rebuilds its clients;
and no client may auto-create a topic (Tansu would create it with its own partition count):
topics come only from `ensure_topics`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import aiokafka.client
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.conn import CloseReason
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.structs import ConsumerRecord
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from helpdesk_events.codec import decode
from helpdesk_events.envelope import Envelope
from helpdesk_events.topics import dlq

log = logging.getLogger(__name__)

#: "Nothing handled yet": earlier than any event.
_BEGINNING = datetime.min.replace(tzinfo=UTC)

_TOPIC_ALREADY_EXISTS = 36
#: Longest `error` header written to a dead-letter record.
_MAX_ERROR_BYTES = 4000

Handle = Callable[[Envelope], Awaitable[None]]
#: Handles several envelopes at once, all or nothing (one database transaction).
HandleBatch = Callable[[Sequence[Envelope]], Awaitable[None]]

#: Handler errors that say "the infrastructure is down", not "this record is poison": the
#: runner retries them until they pass (the partition waits) instead of dead-lettering the
#: record, so a database outage does not empty the stream into the DLQ.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    OperationalError,
    InterfaceError,
)
#: SQLSTATEs that are transient too: asyncpg reports them as a generic DBAPIError. Class 08
#: (connection), 57P01-03 (shutdown, starting up), 53300 (too many connections),
#: 40001/40P01 (serialization failure, deadlock: retrying is the documented answer).
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
TRANSIENT_SQLSTATES = UNAVAILABLE_SQLSTATES | {"40001", "40P01"}


def is_transient(exc: BaseException, types: tuple[type[BaseException], ...] = TRANSIENT_ERRORS) -> bool:
    """True when `exc` is an outage to wait out, not a sign that the record is poison."""
    if isinstance(exc, types):
        return True
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None) or ""
        return exc.connection_invalidated or state.startswith("08") or state in TRANSIENT_SQLSTATES
    return False


class _NoAutoCreateMetadataRequest(MetadataRequest):
    """aiokafka's metadata request, but never asking the broker to auto-create a topic."""

    def __init__(self, topics: list[str] | None = None, allow_auto_topic_creation: bool = False) -> None:
        super().__init__(topics, allow_auto_topic_creation)


# aiokafka asks for auto-creation on every metadata refresh of a named topic; after a restart
# of a memory-only broker that recreated our topics with the broker's default partition count
# before `ensure_topics` could (breaking per-key order). aiokafka has no option for it.
aiokafka.client.MetadataRequest = _NoAutoCreateMetadataRequest  # type: ignore[misc]


def watch_broker_connections(client: AIOKafkaClient, on_broken: Callable[[], None]) -> None:
    """Call `on_broken()` when an established connection of `client` breaks (call before start).

    Idle drops and our own shutdowns do not count; a broker that dies or restarts does.
    """
    # aiokafka passes `client._on_connection_closed` to each connection it opens: wrap it.
    original = client._on_connection_closed

    def closed(conn: Any, reason: CloseReason) -> None:
        if reason == CloseReason.CONNECTION_BROKEN:
            on_broken()
        original(conn, reason)

    client._on_connection_closed = closed  # type: ignore[method-assign]


def make_producer(
    bootstrap: str,
    *,
    idempotence: bool = False,
    client_id: str = "helpdesk",
    linger_ms: int = 5,
    **security: Any,
) -> AIOKafkaProducer:
    """An unstarted producer, acks=all; idempotence off unless asked (Tansu rejects it)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=idempotence,
        linger_ms=linger_ms,
        **security,
    )


async def ensure_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    replication: int = 1,
    *,
    dead_letter: bool = True,
    configs: Mapping[str, str] | None = None,
    **security: Any,
) -> list[str]:
    """Create missing `topics` (name -> partitions) and their `<topic>.dlq`; return the new."""
    wanted = dict(topics)
    if dead_letter:
        for name in topics:
            wanted.setdefault(dlq(name), 1)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, replication, topic_configs=dict(configs or {}))
            for name, partitions in wanted.items()
            if name not in existing
        ]
        if not missing:
            return []
        response = await admin.create_topics(missing)
    finally:
        await admin.close()
    created = []
    for name, code, *rest in response.topic_errors:
        if code == 0:
            created.append(name)
        elif code != _TOPIC_ALREADY_EXISTS:  # a concurrent creator won the race: fine
            raise KafkaError(
                f"cannot create topic {name!r}: error {code} {rest[0] if rest else ''}"
            )
    return created


async def read_topic_from_start(
    bootstrap: str, topic: str, *, timeout: float = 10.0, **security: Any
) -> list[ConsumerRecord]:
    """Every record of `topic` up to its high watermarks (no group), by (partition, offset)."""
    # Subscribed without a group: aiokafka assigns every partition of the topic to us.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **security,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            while not consumer.assignment():
                await asyncio.sleep(0.05)
            tps = sorted(consumer.assignment())
            await consumer.seek_to_beginning(*tps)
            records: list[ConsumerRecord] = []
            remaining = set(tps)
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=200)
                for messages in batch.values():
                    records.extend(messages)
                # The end is the high watermark of the fetch responses: Tansu 0.6 answers
                # ListOffsets (end_offsets) with the last batch's base offset + 1.
                for tp in list(remaining):
                    highwater = consumer.highwater(tp)
                    if highwater is not None and await consumer.position(tp) >= highwater:
                        remaining.discard(tp)
    finally:
        await consumer.stop()
    return sorted(records, key=lambda r: (r.partition, r.offset))


async def _close_consumer(consumer: AIOKafkaConsumer) -> None:
    """`consumer.stop()`, finished even when aiokafka leaks a fetch task's CancelledError.

    aiokafka 0.14's Fetcher.close() awaits the fetch tasks it has just cancelled; one that
    sleeps after a broker error re-raises CancelledError into stop(), which then skips
    closing the client (its connections and metadata task would live on) and would cancel
    whoever awaited stop(), e.g. the runtime's Kafka supervisor.
    """
    task = asyncio.ensure_future(consumer.stop())
    await asyncio.wait({task})  # a cancellation of the caller itself still propagates here
    if task.cancelled():
        log.warning("consumer stop interrupted by a cancelled fetch; closing its client")
        await consumer._client.close()
    else:
        task.result()


class ConsumerRunner:
    """Runs `handle(envelope)` for every record of `topics` in a consumer group, at least once.

    Per partition in order; offsets committed after the handler; a record that does not
    decode goes to `<topic>.dlq` at once, a handler that keeps raising after `max_retries`
    retries (exponential backoff from `retry_backoff` seconds) goes there too, with the
    error in headers, and the runner moves on. Errors of a `transient` type are retried
    until they pass (backoff capped at 30 s), never dead-lettered. Nothing is dropped silently.

    With `handle_batch` (all-or-nothing, e.g. `TransactionalHandler.batch`), the records of a
    partition that a fetch brought are handled as one batch, a transaction instead of one per
    record. A batch that raises is retried in halves until the failing record is alone; that
    one gets the retries and the DLQ above. A poison record costs log2(batch) rollbacks, never
    its neighbours' effects.

    When a broker connection breaks the runner is fenced (see the module docstring):
    `run()` returns, `on_broker_lost()` is called, and a new runner must take over.
    """

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Iterable[str],
        handle: Handle,
        *,
        producer: AIOKafkaProducer,
        max_retries: int = 3,
        retry_backoff: float = 0.2,
        client_id: str | None = None,
        max_batch: int = 100,
        transient: tuple[type[BaseException], ...] = TRANSIENT_ERRORS,
        consumer_options: Mapping[str, Any] | None = None,
        on_broker_lost: Callable[[], None] | None = None,
        handle_batch: HandleBatch | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self.group_id = group_id
        self.topics = tuple(topics)
        self._handle = handle
        self._handle_batch = handle_batch
        self._producer = producer
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._client_id = client_id or group_id
        self._max_batch = max_batch
        self._transient = transient
        self._consumer_options = dict(consumer_options or {})
        self._on_broker_lost = on_broker_lost
        #: Set when a broker connection broke: nothing more is committed; `run()` returns.
        self.broker_lost = False
        self._consumer: AIOKafkaConsumer | None = None
        # Processing and revocation never interleave: both hold this lock.
        self._lock = asyncio.Lock()
        self._owned: set[TopicPartition] = set()
        #: Per owned partition: the event time of the last record handled, and whether the
        #: fetch position had reached the high watermark at the end of the last round.
        self._event_time: dict[TopicPartition, datetime] = {}
        self._caught_up: dict[TopicPartition, bool] = {}
        self._rounds_since_assignment = 0
        self._last_time: datetime | None = None
        self._done: dict[TopicPartition, int] = {}  # next offset to commit, per partition
        self._generation = 0  # bumped on every revoke: records fetched before it are stale
        self._stopping = False
        self._fetching = False
        self._run_task: asyncio.Task[None] | None = None
        self._run_finished = asyncio.Event()
        self._assigned_event = asyncio.Event()
        #: Records handled (the handler returned), records sent to a DLQ, since start.
        self.handled_total = 0
        #: Batches handled in one call of `handle_batch`, and batches that fell back.
        self.batches_total = 0
        self.batch_fallbacks_total = 0
        self.dlq_total = 0
        self.last_handled_at: datetime | None = None
        #: The handler's last error while a record is being retried, None once it passes.
        self.last_error: str | None = None

    @property
    def assigned(self) -> frozenset[TopicPartition]:
        """The partitions this member owns right now."""
        return frozenset(self._owned)

    @property
    def running(self) -> bool:
        """True while started and not stopping (a member without partitions is still healthy)."""
        return self._consumer is not None and not self._stopping

    async def start(self) -> None:
        """Join the group (a few seconds on a fresh group); call `run()` afterwards."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            client_id=self._client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self._consumer_options,
        )
        consumer.subscribe(list(self.topics), listener=_Listener(self))
        watch_broker_connections(consumer._client, self._fence)
        self._consumer = consumer  # the listener runs during start() already
        self._stopping = False
        try:
            await consumer.start()
        except BaseException:
            self._consumer = None
            await consumer.stop()
            raise

    async def wait_assigned(self, timeout: float = 30.0) -> frozenset[TopicPartition]:
        """Wait until the group gave this member partitions (handy in tests)."""
        async with asyncio.timeout(timeout):
            while not self._owned:
                self._assigned_event.clear()
                await self._assigned_event.wait()
        return self.assigned

    async def run(self) -> None:
        """Fetch and handle until `stop()`; commits after every fetched batch."""
        if self._consumer is None:
            raise RuntimeError("ConsumerRunner.run() before start()")
        consumer = self._consumer
        self._run_task = asyncio.current_task()
        self._run_finished.clear()
        try:
            while not self._stopping and not self.broker_lost:
                self._fetching = True
                try:
                    batch = await consumer.getmany(timeout_ms=500, max_records=self._max_batch)
                except KafkaError as exc:
                    log.warning("consumer %s fetch failed: %s", self.group_id, exc)
                    await asyncio.sleep(self._retry_backoff)
                    continue
                finally:
                    self._fetching = False
                generation = self._generation
                for tp, records in batch.items():
                    if records:  # not caught up until this round is handled
                        self._caught_up[tp] = False
                    if not await self._handle_records(tp, records, generation):
                        break
                    if self._stopping or self.broker_lost:
                        break
                async with self._lock:
                    await self._commit_done(self._owned)
                await self._note_positions(consumer)
        except asyncio.CancelledError:
            if not (self._stopping or self.broker_lost):
                raise
        finally:
            self._run_finished.set()

    async def stop(self, timeout: float | None = 30.0) -> None:
        """Finish the current record, commit what is done, leave the group.

        A handler still busy after `timeout` seconds is cancelled: its transaction rolls
        back and its record, not committed, is redelivered to the next owner.
        """
        self._stopping = True
        task = self._run_task
        if task is not None and not task.done():
            if self._fetching:
                task.cancel()  # only the fetch is interrupted, never a handler
            try:
                await asyncio.wait_for(asyncio.shield(self._run_finished.wait()), timeout)
            except TimeoutError:
                log.warning(
                    "consumer %s: handler still busy after %ss, cancelled", self.group_id, timeout
                )
                task.cancel()
                await self._run_finished.wait()
        consumer = self._consumer
        if consumer is None:
            return
        try:
            async with self._lock:
                await self._commit_done(self._owned)
        finally:
            self._owned.clear()
            self._consumer = None
            await _close_consumer(consumer)

    def _stale(self, tp: TopicPartition, generation: int) -> bool:
        """True when records of `tp` fetched in `generation` must not be handled any more."""
        return (self._stopping or self.broker_lost or generation != self._generation
                or tp not in self._owned)

    async def _handle_records(
        self, tp: TopicPartition, records: Sequence[ConsumerRecord], generation: int
    ) -> bool:
        """Handle one partition's fetched records in order; False when the round must stop."""
        i, limit = 0, len(records)
        while i < len(records):
            async with self._lock:
                if self._stale(tp, generation):
                    return False
                envelope = None
                if self._handle_batch is not None:
                    run = _decoded_run(records, i, limit)
                    if len(run) > 1:
                        if await self._process_batch(run):
                            self._done[tp] = run[-1][0].offset + 1
                            self._event_time[tp] = run[-1][1].time
                            i += len(run)
                        else:  # halve until the culprit is alone: log2(n) rollbacks
                            limit = len(run) // 2
                        continue
                    if run:
                        envelope = run[0][1]
                record = records[i]
                if not await self._process(record, envelope):
                    return False  # stopping during a transient failure: redelivered later
                self._done[tp] = record.offset + 1
                if self._last_time is not None:
                    self._event_time[tp] = self._last_time
                i, limit = i + 1, len(records)
        return True

    async def _process_batch(self, run: Sequence[tuple[ConsumerRecord, Envelope]]) -> bool:
        """`handle_batch` over the decoded `run`; False when it raised (nothing was applied)."""
        assert self._handle_batch is not None
        try:
            await self._handle_batch([envelope for _, envelope in run])
        except Exception as exc:  # noqa: BLE001 - the records are retried one by one
            self.batch_fallbacks_total += 1
            first = run[0][0]
            log.info("consumer %s: batch of %d records from %s/%d@%d failed (%r); "
                     "handling them one at a time", self.group_id, len(run), first.topic,
                     first.partition, first.offset, exc)
            return False
        self.batches_total += 1
        self.handled_total += len(run)
        self.last_handled_at = datetime.now(UTC)
        self.last_error = None
        self._last_time = run[-1][1].time
        return True

    async def _process(self, record: ConsumerRecord, envelope: Envelope | None = None) -> bool:
        """Handle or dead-letter `record` (`envelope`: already decoded); False when stopping
        left it unfinished."""
        if envelope is None:
            try:
                envelope = _decode(record)
            except Exception as exc:  # undecodable now means undecodable forever: no retry
                await self._dead_letter(record, exc, attempts=0)
                self._last_time = None
                return True
        self._last_time = envelope.time
        attempt = 0
        while True:
            try:
                await self._handle(envelope)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                transient = is_transient(exc, self._transient)
                if attempt >= self._max_retries and not transient:
                    await self._dead_letter(record, exc, attempts=attempt + 1)
                    self.last_error = None
                    return True
                if self.broker_lost or (transient and self._stopping):
                    return False
                delay = min(30.0, self._retry_backoff * 2 ** min(attempt, 16))
                attempt += 1
                log.warning(
                    "handler of %s failed on %s/%d@%d (retry %d in %.2fs): %r",
                    self.group_id,
                    record.topic,
                    record.partition,
                    record.offset,
                    attempt,
                    delay,
                    exc,
                )
                await asyncio.sleep(delay)
            else:
                self.handled_total += 1
                self.last_handled_at = datetime.now(UTC)
                self.last_error = None
                return True

    async def _dead_letter(
        self, record: ConsumerRecord, error: BaseException, *, attempts: int
    ) -> None:
        """Send `record` to `<topic>.dlq` with the error in headers; retry the send until acked."""
        message = f"{type(error).__name__}: {error}".encode()[:_MAX_ERROR_BYTES]
        headers = [
            *record.headers,
            ("error", message),
            ("error_type", f"{type(error).__module__}.{type(error).__qualname__}".encode()),
            ("error_attempts", str(attempts).encode()),
            ("original_topic", record.topic.encode()),
            ("original_partition", str(record.partition).encode()),
            ("original_offset", str(record.offset).encode()),
            ("original_timestamp", str(record.timestamp).encode()),
            ("consumer_group", self.group_id.encode()),
        ]
        log.error(
            "consumer %s dead-letters %s/%d@%d: %s",
            self.group_id,
            record.topic,
            record.partition,
            record.offset,
            message.decode(errors="replace"),
        )
        failures = 0
        while True:
            try:
                await (
                    await self._producer.send(
                        dlq(record.topic), value=record.value, key=record.key, headers=headers
                    )
                )
            except KafkaError as exc:
                # Not acknowledged: the offset must not move past a record nobody has.
                failures += 1
                if self._stopping or self.broker_lost:
                    raise
                log.warning("DLQ send for %s failed (%s), retrying", record.topic, exc)
                await asyncio.sleep(min(5.0, self._retry_backoff * 2**failures))
            else:
                self.dlq_total += 1
                return

    async def _commit_done(self, partitions: Iterable[TopicPartition]) -> None:
        """Commit handled offsets of `partitions` (caller holds the lock)."""
        offsets = {tp: self._done[tp] for tp in partitions if tp in self._done}
        if not offsets or self._consumer is None or self.broker_lost:
            return
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError as exc:
            # The group moved on: the new owner redelivers from the last commit; inboxes dedupe.
            log.warning("consumer %s lost a commit after a rebalance: %s", self.group_id, exc)
            for tp in offsets:
                self._done.pop(tp, None)
            return
        except KafkaError as exc:
            log.warning("consumer %s commit failed, will retry: %s", self.group_id, exc)
            return
        for tp, offset in offsets.items():
            if self._done.get(tp) == offset:
                del self._done[tp]

    def handled_until(self) -> datetime | None:
        """The event time up to which this member has handled its partitions; None: all of it.

        None when every owned partition was caught up (position at the high watermark) at the
        end of the last fetch round; else the earliest event time last handled on a partition
        that still lags (`datetime.min` where none was handled yet, or before the first round
        after an assignment). A timer keyed on event time must not fire past this instant:
        the event that stops it may be waiting on the topic.
        """
        if self._consumer is None or self._rounds_since_assignment == 0:
            return _BEGINNING
        lagging = [self._event_time.get(tp, _BEGINNING)
                   for tp in self._owned if not self._caught_up.get(tp, False)]
        return min(lagging) if lagging else None

    async def _note_positions(self, consumer: AIOKafkaConsumer) -> None:
        """Record for each owned partition whether its position reached the high watermark."""
        for tp in list(self._owned):
            highwater = consumer.highwater(tp)
            try:
                position = await asyncio.wait_for(consumer.position(tp), 1.0)
            except (KafkaError, TimeoutError, AssertionError, IllegalStateError):
                position = None
            self._caught_up[tp] = highwater is not None and position is not None and position >= highwater
        self._rounds_since_assignment += 1

    def _fence(self) -> None:
        """A broker connection broke: commit nothing more, let `run()` end, tell the owner."""
        if self.broker_lost or self._stopping:
            return
        self.broker_lost = True
        log.warning("consumer %s lost its broker connection: fenced until rebuilt", self.group_id)
        task = self._run_task
        if self._fetching and task is not None and not task.done():
            task.cancel()  # only the fetch is interrupted, never a handler
        if self._on_broker_lost is not None:
            self._on_broker_lost()

    async def _on_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        async with self._lock:
            self._generation += 1
            revoked = set(revoked)
            try:
                await self._commit_done(revoked & self._owned)
            finally:
                self._owned -= revoked
                for tp in revoked:
                    self._done.pop(tp, None)
                    self._event_time.pop(tp, None)
                    self._caught_up.pop(tp, None)

    async def _on_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        async with self._lock:
            self._owned = set(assigned)
            self._rounds_since_assignment = 0  # new partitions: unknown until a round has run
        if self._owned:
            self._assigned_event.set()


def _decode(record: ConsumerRecord) -> Envelope:
    if record.value is None:
        raise ValueError("record has no value (tombstone)")
    return decode(record.value)


def _decoded_run(
    records: Sequence[ConsumerRecord], start: int, limit: int
) -> list[tuple[ConsumerRecord, Envelope]]:
    """Up to `limit` records from `start` on that decode, up to the first that does not."""
    run = []
    for record in records[start:start + limit]:
        try:
            run.append((record, _decode(record)))
        except Exception:  # noqa: BLE001 - `_process` dead-letters it
            break
    return run


class _Listener(ConsumerRebalanceListener):
    def __init__(self, runner: ConsumerRunner) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._runner._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._runner._on_assigned(assigned)
