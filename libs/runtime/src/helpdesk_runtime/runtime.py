"""The moving parts behind a service's HTTP app: database, producer, outbox relay, consumers.

Kafka is supervised in the background: a service starts and serves HTTP (with /readyz
at 503) while the broker is away, and reconnects when it comes back. A broken broker
connection rebuilds producer, relay and consumers from scratch: a restarted memory-only
broker has lost topics and committed offsets, so topics are created again first and the
new consumers read from the start (inboxes drop what was handled before), while nothing of
the old broker's offsets is committed to the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from helpdesk_events import topics as topic_names
from helpdesk_events.envelope import Envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.kafka import (
    ConsumerRunner,
    ensure_topics,
    make_producer,
    watch_broker_connections,
)
from helpdesk_events.outbox import PENDING_FLAG, OutboxRelay
from helpdesk_events.tables import PUBLISHED

from .db import create_engine, ping, read_only
from .migrations import upgrade
from .settings import ServiceSettings

log = logging.getLogger("helpdesk.runtime")

EventHandler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """Topics a service consumes and the handler that applies each event in a transaction."""

    topics: Sequence[str]
    handler: EventHandler
    #: Consumer group suffix, so one service may read some topics in a group of their own.
    group_suffix: str = ""


@dataclass
class ServiceRuntime:
    """Owns the engine, producer, relay and consumers of one service process."""

    settings: ServiceSettings
    migrations: Path | None = None
    subscriptions: Sequence[Subscription] = ()
    publishes: bool = False
    #: Extra long-running jobs (e.g. SLA's timer scheduler) started once the database is up.
    background: Sequence[Callable[["ServiceRuntime"], Awaitable[None]]] = ()

    engine: AsyncEngine = field(init=False)
    #: The same database for queries: on SQLite these do not take the write lock.
    reader: AsyncEngine = field(init=False)
    producer: AIOKafkaProducer | None = field(default=None, init=False)
    relay: OutboxRelay | None = field(default=None, init=False)
    consumers: list[ConsumerRunner] = field(default_factory=list, init=False)
    #: True when this publisher keeps a log of published envelopes (its schema has the
    #: `published` table): the relay retains and prunes it, `/v1/admin/republish` reads it.
    retains_published: bool = field(default=False, init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    _broker_checked_at: float = field(default=0.0, init=False)
    #: Set when a connection of this build's producer or consumers breaks: rebuild them all.
    _broker_lost: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _broker_ok: bool = field(default=False, init=False)
    #: Totals of consumers and relays that were replaced after a broker outage.
    _retired: dict[str, int] = field(default_factory=lambda: {"handled": 0, "dead_lettered": 0, "published": 0},
                                     init=False)

    def handled_until(self) -> datetime | None:
        """The event time up to which every consumer has handled its partitions; None when all
        are caught up (or none runs). Event-time timers must not fire past it (SLA)."""
        marks = [m for m in (c.handled_until() for c in self.consumers) if m is not None]
        return min(marks) if marks else None

    def counters(self) -> dict[str, int]:
        """Events handled, dead-lettered and published since the process started."""
        live = {
            "handled": sum(c.handled_total for c in self.consumers),
            "dead_lettered": sum(c.dlq_total for c in self.consumers),
            "published": self.relay.published_total if self.relay is not None else 0,
        }
        return {k: self._retired[k] + live[k] for k in live}

    async def start(self) -> None:
        """Open the database (migrating it when configured), then connect to Kafka in the background."""
        self.engine = create_engine(self.settings.resolved_database_url())
        self.reader = read_only(self.engine)
        if self.publishes:
            self._wake_relay_after_outbox_writes()
        if self.settings.migrate_on_start and self.migrations is not None:
            await upgrade(self.engine, self.migrations)
        if self.publishes:
            with contextlib.suppress(Exception):  # database away: asked again with the broker
                await self.has_published_log()
        self._tasks.append(asyncio.create_task(self._kafka_supervisor(), name="kafka-supervisor"))
        for job in self.background:
            self._tasks.append(asyncio.create_task(self._guard(job), name=getattr(job, "__name__", "job")))

    async def stop(self) -> None:
        """Stop consumers first (they commit what they handled), then the relay, producer, engine."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self._stop_kafka()
        await self.engine.dispose()

    def _wake_relay_after_outbox_writes(self) -> None:
        # A connection goes back to the pool only after its transaction ended: if it queued
        # outbox rows, the relay can publish them now instead of at its next poll. This covers
        # HTTP handlers and consumers (whose transaction the inbox wrapper commits) alike.
        def on_checkin(_dbapi_connection: object, record: ConnectionPoolEntry | None) -> None:
            if record is not None and record.info.pop(PENDING_FLAG, False):
                self.wake_relay()

        event.listen(self.engine.sync_engine.pool, "checkin", on_checkin)

    async def has_published_log(self) -> bool:
        """True when this publisher's schema has the `published` table (remembered once seen)."""
        if not self.retains_published and self.publishes:
            async with self.engine.connect() as conn:
                self.retains_published = await conn.run_sync(
                    lambda sync: sa.inspect(sync).has_table(PUBLISHED))
        return self.retains_published

    def wake_relay(self) -> None:
        """Tell the relay new outbox rows were committed (saves a poll interval)."""
        if self.relay is not None:
            self.relay.wake()

    async def database_ready(self) -> bool:
        """True when the database answers a trivial query."""
        return await ping(self.engine)

    async def broker_ready(self) -> bool:
        """True when the producer is connected and the broker answers a metadata request."""
        if self.producer is None:
            return False
        now = time.monotonic()
        if now - self._broker_checked_at < 1.0:
            return self._broker_ok
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=2.0)
            self._broker_ok = True
        except Exception:  # noqa: BLE001
            self._broker_ok = False
        self._broker_checked_at = now
        return self._broker_ok

    async def _guard(self, job: Callable[["ServiceRuntime"], Awaitable[None]]) -> None:
        # A background job that crashes is restarted: a timer scheduler must not stay dead.
        while True:
            try:
                await job(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job %s failed; restarting in 1 s", getattr(job, "__name__", job))
                await asyncio.sleep(1.0)

    async def _kafka_supervisor(self) -> None:
        backoff = 0.5
        while True:
            self._broker_lost = asyncio.Event()
            lost = asyncio.create_task(self._broker_lost.wait(), name="broker-lost")
            try:
                await self._start_kafka()
                backoff = 0.5
                # Watch the long-running parts and the connections; on any failure rebuild all.
                done, _ = await asyncio.wait([*self._kafka_tasks, lost],
                                             return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is lost:
                        log.warning("broker connection broken; rebuilding producer, relay and consumers")
                    elif not task.cancelled() and task.exception() is not None:
                        log.error("kafka task failed: %r; restarting", task.exception())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("broker not reachable (%s); retrying in %.1f s", exc, backoff)
            finally:
                lost.cancel()
            await self._stop_kafka()
            await asyncio.sleep(backoff)
            # Short cap: a restarted broker should be used again within seconds.
            backoff = min(backoff * 2, 2.0)

    async def _start_kafka(self) -> None:
        kafka = self.settings.kafka
        client = kafka.client_options()
        self._kafka_tasks: list[asyncio.Task[None]] = []
        await ensure_topics(
            kafka.bootstrap_servers, {t: kafka.partitions for t in topic_names.ALL},
            replication=kafka.replication_factor,
            **{k: v for k, v in client.items() if k != "bootstrap_servers"},
        )
        self.producer = make_producer(
            kafka.bootstrap_servers, idempotence=kafka.enable_idempotence,
            client_id=self.settings.name,
            **{k: v for k, v in client.items() if k != "bootstrap_servers"},
        )
        watch_broker_connections(self.producer.client, self._broker_lost.set)
        await self.producer.start()
        if self.publishes:
            outbox = self.settings.outbox
            await self.has_published_log()
            self.relay = OutboxRelay(
                self.engine, self.producer,
                retain=timedelta(hours=outbox.retention_hours) if self.retains_published else None,
                prune_interval=outbox.prune_interval_seconds,
            )
            self._kafka_tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        for sub in self.subscriptions:
            group = self.settings.name + sub.group_suffix
            handler = transactional_handler(self.engine, group, sub.handler)
            runner = ConsumerRunner(
                kafka.bootstrap_servers, group, list(sub.topics), handler,
                handle_batch=handler.batch, producer=self.producer, max_retries=self.settings.consumer_max_retries,
                client_id=f"{self.settings.name}-consumer", on_broker_lost=self._broker_lost.set,
                consumer_options={
                    **{k: v for k, v in client.items() if k != "bootstrap_servers"},
                    "session_timeout_ms": kafka.session_timeout_ms,
                    "heartbeat_interval_ms": kafka.heartbeat_interval_ms,
                    "fetch_max_wait_ms": kafka.fetch_max_wait_ms,
                },
            )
            await runner.start()
            self.consumers.append(runner)
            self._kafka_tasks.append(asyncio.create_task(runner.run(), name=f"consumer-{group}"))

    async def _stop_kafka(self) -> None:
        self._retired = self.counters()
        # Consumers first and gracefully: each finishes its record and commits what it handled.
        for runner in self.consumers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner.stop(), timeout=10.0)
        for task in getattr(self, "_kafka_tasks", []):
            task.cancel()
        for task in getattr(self, "_kafka_tasks", []):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._kafka_tasks = []
        self.consumers.clear()
        self.relay = None
        if self.producer is not None:
            # Bounded: with the broker gone, flushing would wait for the request timeout.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.producer.stop(), timeout=10.0)
            self.producer = None
        self._broker_ok = False
