"""Migration helpers create exactly the tables a service declares in its metadata."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from helpdesk_events.tables import (
    create_event_store,
    create_inbox,
    create_outbox,
    create_published,
    drop_event_store,
    drop_inbox,
    drop_outbox,
    drop_published,
    events_table,
    inbox_table,
    outbox_table,
    published_table,
)
from sqlalchemy.ext.asyncio import AsyncEngine


def service_metadata() -> sa.MetaData:
    md = sa.MetaData()
    outbox_table(md)
    published_table(md)
    inbox_table(md)
    events_table(md)
    return md


def upgrade(sync_conn: sa.Connection) -> None:
    op = Operations(MigrationContext.configure(sync_conn))
    create_outbox(op)
    create_published(op)
    create_inbox(op)
    create_event_store(op)


def downgrade(sync_conn: sa.Connection) -> None:
    op = Operations(MigrationContext.configure(sync_conn))
    drop_event_store(op)
    drop_inbox(op)
    drop_published(op)
    drop_outbox(op)


def autogenerate_diff(sync_conn: sa.Connection) -> list:
    return compare_metadata(MigrationContext.configure(sync_conn), service_metadata())


def table_names(sync_conn: sa.Connection) -> set[str]:
    return set(sa.inspect(sync_conn).get_table_names())


async def test_migration_helpers_match_the_declared_tables_and_drop_cleanly(
    db_engine: AsyncEngine,
) -> None:
    async with db_engine.begin() as conn:
        await conn.run_sync(upgrade)
    async with db_engine.connect() as conn:
        assert await conn.run_sync(table_names) >= {"outbox", "published", "inbox", "events"}
        assert await conn.run_sync(autogenerate_diff) == []
    async with db_engine.begin() as conn:
        await conn.run_sync(downgrade)
    async with db_engine.connect() as conn:
        assert not await conn.run_sync(table_names) & {"outbox", "published", "inbox", "events"}
