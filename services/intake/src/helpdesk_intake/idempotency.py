"""`Idempotency-Key` on POSTs: a retry gets the first response again, never a second effect.

The key's record (request fingerprint + response) is written in the transaction of the
effect. Concurrent requests with one key: the loser's insert meets the winner's row
(on PostgreSQL it waits for the winner's commit; SQLite has one writer), its whole
transaction rolls back, and it answers with the winner's response.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import Header
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_runtime.db import is_postgres
from helpdesk_runtime.problems import Problem, field_error
from helpdesk_runtime.runtime import ServiceRuntime
from helpdesk_runtime.upsert import insert_row_ignoring

from .errors import NeedsTransaction
from .json_response import FastJSONResponse
from .store import Connection, autocommit
from .tables import idempotency_keys

MAX_KEY_LENGTH = 200
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_LENGTH, description=(
        "Makes the POST safe to retry: the same key with the same request returns the first "
        "response again (with `Idempotent-Replayed: true`); with another request it is a 422. "
        f"Up to {MAX_KEY_LENGTH} characters; keys are kept for a day."),
        examples=["6f1c2a9e-create-vpn-ticket"]),
]


@dataclass(frozen=True)
class StoredResponse:
    """What a request answered: replayed verbatim for a retry with the same key."""

    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def to_response(self, *, replayed: bool = False) -> FastJSONResponse:
        """The HTTP response."""
        headers = {**self.headers, REPLAYED_HEADER: "true"} if replayed else self.headers
        return FastJSONResponse(self.body, status_code=self.status_code, headers=headers)


class _KeyTaken(Exception):
    """Another request recorded the key first (this transaction must roll back)."""


def fingerprint(method: str, path: str, actor: Any, body: Any) -> str:
    """sha256 of what makes two requests "the same" for a key."""
    document = {"method": method, "path": path, "actor": actor, "body": body}
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def run_once(
    runtime: ServiceRuntime,
    key: str | None,
    request_hash: Callable[[], str],
    work: Callable[[Connection], Awaitable[StoredResponse]],
    *,
    now: datetime,
    single_statement: bool = False,
) -> FastJSONResponse:
    """Run `work` in a write transaction, at most once per key; answer its (stored) response.

    `request_hash` is only called when there is a key (hashing the request is not free).
    `single_statement`: without a key, `work` writes in one statement or raises
    NeedsTransaction, so on PostgreSQL it runs in autocommit first (no BEGIN and COMMIT
    round trips; one statement is atomic by itself), on the driver's connection itself
    (`store.Autocommit`).
    """
    if key is None:
        if single_statement and is_postgres(runtime.engine):
            try:
                async with autocommit(runtime.engine) as conn:
                    response = await work(conn)
                return response.to_response()
            except NeedsTransaction:
                pass
        async with runtime.engine.begin() as conn:
            response = await work(conn)
        return response.to_response()
    hashed = request_hash()
    earlier = await _lookup(runtime, key, hashed)
    if earlier is not None:
        return earlier.to_response(replayed=True)
    try:
        async with runtime.engine.begin() as conn:
            response = await work(conn)
            await _record(conn, key, hashed, response, now)
    except _KeyTaken:
        earlier = await _lookup(runtime, key, hashed)
        if earlier is None:  # the winner's record expired in between: vanishingly rare
            raise Problem(409, "Concurrent request", "Retry the request.") from None
        return earlier.to_response(replayed=True)
    return response.to_response()


async def forget_expired(conn: AsyncConnection, *, now: datetime, ttl: timedelta) -> int:
    """Delete key records older than `ttl`; returns how many."""
    result = await conn.execute(
        sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < now - ttl)
    )
    return result.rowcount or 0


async def _lookup(runtime: ServiceRuntime, key: str, request_hash: str) -> StoredResponse | None:
    async with runtime.reader.connect() as conn:
        row = (await conn.execute(
            sa.select(idempotency_keys).where(idempotency_keys.c.key == key)
        )).first()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Problem(
            422, "Idempotency key reused",
            "This Idempotency-Key was already used with a different request.",
            errors=[field_error("header.Idempotency-Key", "already used with a different request",
                                "idempotency_key_reused")],
        )
    return StoredResponse(row.status_code, row.body, dict(row.headers))


async def _record(
    conn: AsyncConnection, key: str, request_hash: str, response: StoredResponse, now: datetime
) -> None:
    result = await insert_row_ignoring(conn, idempotency_keys, ["key"], {
        "key": key, "request_hash": request_hash, "status_code": response.status_code,
        "headers": response.headers, "body": response.body, "created_at": now,
    })
    if result.rowcount != 1:
        raise _KeyTaken(key)
