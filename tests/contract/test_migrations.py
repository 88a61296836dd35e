"""Each service's alembic migrations build exactly the schema its tables.py declares."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from helpdesk.services import SERVICES
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.migrations import upgrade


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_migrations_match_the_declared_tables(service: str, db_url: str) -> None:
    tables = importlib.import_module(f"helpdesk_{service}.tables")
    migrations = Path(tables.__file__).parent / "migrations"
    engine = create_engine(db_url)
    try:
        await upgrade(engine, migrations)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), tables.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == [], f"{service}: migrations and tables.py differ: {diff}"
