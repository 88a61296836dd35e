"""Alembic, driven from code: each service keeps its own migrations inside its package."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_engine_from_config


def alembic_config(script_location: Path, url: str) -> Config:
    """An alembic Config for one service's migrations folder and database URL."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, script_location: Path, revision: str = "head") -> None:
    """Bring the service's database to `revision` using the service's own engine."""
    config = alembic_config(script_location, engine.url.render_as_string(hide_password=False))

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online and offline modes)."""
    config = context.config
    render_batch = config.get_main_option("sqlalchemy.url", "").startswith("sqlite")

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            literal_binds=True,
            render_as_batch=render_batch,
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    connection = config.attributes.get("connection")
    if connection is not None:
        do_run(connection)
        return

    async def run_async() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
            await conn.commit()
        await engine.dispose()

    asyncio.run(run_async())
