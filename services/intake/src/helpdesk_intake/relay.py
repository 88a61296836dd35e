"""Wake the outbox relay after every transaction that queued events, whoever ran it.

`store.queue_for_publishing` marks the connection; when the pool gets the connection back
(its transaction has ended) the relay is woken. That covers HTTP requests and the Kafka
consumer alike: the consumer's transaction is opened and committed by the inbox wrapper,
after the handler returned, so the handler itself cannot wake the relay after the commit.
On PostgreSQL the outbox's NOTIFY wakes it as well; on SQLite this saves a poll interval.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from helpdesk_runtime.runtime import ServiceRuntime

from .store import WAKE_RELAY


async def install_relay_wakeup(runtime: ServiceRuntime) -> None:
    """Background job (runs once at start): hook the engine's pool to wake the relay."""

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(WAKE_RELAY, False):
            runtime.wake_relay()

    event.listen(runtime.engine.sync_engine, "checkin", on_checkin)
