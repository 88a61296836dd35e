"""The raw baseline: a bare FastAPI endpoint doing one asyncpg insert per request.

Served by uvicorn with the options `helpdesk serve` uses, on the same PostgreSQL cluster as
the services (so the same durability settings): 201 only after the insert committed.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

TABLE = """CREATE TABLE IF NOT EXISTS bench_tickets (
    id uuid PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"""


def create_app(dsn: str) -> FastAPI:
    """The baseline app on `dsn` (a plain postgresql:// URL); pool sized like the services'."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=2, max_size=20)
        async with pool.acquire() as conn:
            await conn.execute(TABLE)
        app.state.pool = pool
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/tickets", status_code=201)
    async def create(request: Request, body: dict[str, Any]) -> Response:
        ticket_id = uuid.uuid4()
        async with request.app.state.pool.acquire() as conn:
            await conn.execute("INSERT INTO bench_tickets (id, body) VALUES ($1, $2::jsonb)",
                               ticket_id, orjson.dumps(body).decode())
        return Response(orjson.dumps({"id": str(ticket_id)}), status_code=201,
                        media_type="application/json")

    return app


def main() -> None:
    """Serve the baseline like `helpdesk serve` serves a service."""
    parser = argparse.ArgumentParser(prog="python -m bench.baseline_app")
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.dsn), host="127.0.0.1", port=args.port, log_config=None,
                access_log=False, lifespan="on", timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
