"""Database engines: SQLite (aiosqlite) embedded, PostgreSQL (asyncpg) in production."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helpdesk_events.kafka import UNAVAILABLE_SQLSTATES

log = logging.getLogger(__name__)

#: Execution option that makes SQLite transactions plain (deferred) BEGINs: see `read_only`.
READ_ONLY_OPTION = "helpdesk_read_only"
#: How long a SQLite writer waits for the write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000

_PG_POOL_DEFAULTS: dict[str, Any] = {
    "pool_size": 10,
    "max_overflow": 10,
    "pool_timeout": 30,
    "pool_recycle": 1800,
    # Not pool_pre_ping: with asyncpg it costs three round trips per checkout (BEGIN, an
    # empty query, ROLLBACK), 9 % of intake's CPU per create. `_discard_closed` catches what
    # it caught for us, locally (see there).
    "pool_pre_ping": False,
}


#: SQLSTATEs of a PostgreSQL that refuses or drops connections (besides class 08): admin or
#: crash shutdown, shutting down / starting up, too many connections. One list with the
#: consumers' transient errors (helpdesk_events.kafka), which add serialization failures.


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


#: JSON columns through orjson: the stdlib encoder was a visible share of consumers' CPU.
#: Non-string keys become strings, as json.dumps made them.
_JSON_DEFAULTS: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database is unreachable or refusing connections (503, not 500)."""
    if isinstance(exc, ConnectionError | OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        # asyncpg errors reach SQLAlchemy as a generic DBAPIError: tell them apart by SQLSTATE.
        state = getattr(exc.orig, "sqlstate", None) or ""
        return state.startswith("08") or state in UNAVAILABLE_SQLSTATES
    return False


def create_engine(url: str | URL, **kw: Any) -> AsyncEngine:
    """An AsyncEngine for `sqlite+aiosqlite:///path` or `postgresql+asyncpg://...`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kw)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        engine = create_async_engine(parsed, **{**_PG_POOL_DEFAULTS, **_JSON_DEFAULTS, **kw})
        event.listen(engine.sync_engine, "checkout", _discard_closed)
        return engine
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string()!r}: use sqlite or postgresql"
    )


def _discard_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed; the pool then opens a fresh one.

    A server that restarts or ends an idle session sends a FATAL message and closes the
    socket; asyncpg sees it while the connection idles in the pool (the event loop runs) and
    marks the connection closed. Raising DisconnectionError at checkout is SQLAlchemy's
    documented way to make the pool retry with a new connection, so no request gets the
    dead one. A connection silently cut (no FIN) is not detected here; its first statement
    fails and the request answers 503, as it would have with a ping hanging until timeout.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def is_postgres(engine: AsyncEngine) -> bool:
    """True when the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine for read-only work: on SQLite its transactions do not take the write lock."""
    if is_postgres(engine):
        return engine.execution_options(postgresql_readonly=True)
    return engine.execution_options(**{READ_ONLY_OPTION: True})


async def ping(engine: AsyncEngine, timeout: float = 2.0) -> bool:
    """True when a connection can run `SELECT 1` within `timeout` seconds (for /readyz)."""
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:  # readiness reports any failure as "not ready"
        log.warning("database ping failed: %s", exc)
        return False
    return True


def _sqlite_engine(url: URL, **kw: Any) -> AsyncEngine:
    if url.drivername == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **{**_JSON_DEFAULTS, **kw})

    # SQLAlchemy's documented recipe: take transaction control away from the sqlite3
    # driver and emit BEGIN ourselves, so BEGIN IMMEDIATE takes the write lock up front
    # and concurrent writers queue on busy_timeout instead of failing on lock upgrade.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY_OPTION) else "BEGIN IMMEDIATE")

    return engine
