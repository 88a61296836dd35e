"""The alembic migration builds exactly the schema tables.py declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from helpdesk_intake.app import MIGRATIONS
from helpdesk_intake.tables import metadata
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.migrations import upgrade


async def test_a_migrated_database_matches_the_declared_tables(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine, MIGRATIONS)

        def differences(conn: Connection) -> list[Any]:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))

        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await engine.dispose()
