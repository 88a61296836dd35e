"""`among`/`not_among` select exactly what IN / NOT IN would, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from helpdesk_sla.store import among, not_among
from sqlalchemy.ext.asyncio import AsyncEngine

_table = sa.Table(
    "set_probe",
    sa.MetaData(),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("key", sa.String(200), nullable=False),
)
IDS = [uuid.UUID(int=n) for n in range(1, 5)]


@pytest.mark.parametrize(
    "chosen",
    [[], [IDS[0]], [IDS[1], IDS[3]], [*IDS, uuid.UUID(int=99)]],
    ids=["none", "one", "two", "all"],
)
async def test_among_and_not_among_select_as_in_and_not_in_would(
    db_engine: AsyncEngine, chosen: list[uuid.UUID]
) -> None:
    async with db_engine.begin() as conn:
        await conn.run_sync(_table.metadata.create_all)
        await conn.execute(sa.insert(_table), [{"id": i, "key": f"k{i.int}"} for i in IDS])
        keys = [f"k{i.int}" for i in chosen]
        ids = sa.select(_table.c.id)
        by_id = set(await conn.scalars(ids.where(among(conn, _table.c.id, chosen))))
        by_key = set(await conn.scalars(ids.where(among(conn, _table.c.key, keys))))
        others = set(await conn.scalars(ids.where(not_among(conn, _table.c.key, keys))))
        await conn.run_sync(_table.metadata.drop_all)
    assert by_id == by_key == set(IDS) & set(chosen)
    assert others == set(IDS) - set(chosen)
