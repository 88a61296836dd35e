"""Posting survey events to a webhook, signed with HMAC-SHA256, retried with exponential backoff.

Headers: `X-Helpdesk-Timestamp` (unix seconds) and `X-Helpdesk-Signature: sha256=<hex>`,
the HMAC of `"<timestamp>.<body>"` with the webhook secret. Any 2xx is delivered; other
answers and network errors are retried after backoff * 2^(attempt-1) until max attempts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .config import SurveysSettings
from .tables import webhook_deliveries as W
from .tokens import sign_body

log = logging.getLogger("helpdesk.surveys.webhook")

SIGNATURE_HEADER = "X-Helpdesk-Signature"
TIMESTAMP_HEADER = "X-Helpdesk-Timestamp"


def backoff(settings: SurveysSettings, attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure."""
    return timedelta(seconds=settings.webhook_backoff_seconds * 2 ** (attempts - 1))


async def deliver_due(
    engine: AsyncEngine, settings: SurveysSettings, client: httpx.AsyncClient, now: datetime
) -> int:
    """Post every queued event whose attempt is due; returns how many were delivered."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(W)
                .where(
                    W.c.delivered_at.is_(None), W.c.failed.is_(False), W.c.next_attempt_at <= now
                )
                .order_by(W.c.next_attempt_at)
                .limit(50)
            )
        ).all()
    delivered = 0
    for row in rows:
        timestamp = str(int(now.timestamp()))
        body = row.body.encode()
        error: str | None = None
        try:
            response = await client.post(
                settings.webhook_url,
                content=body,
                headers={
                    "Content-Type": "application/cloudevents+json",
                    TIMESTAMP_HEADER: timestamp,
                    SIGNATURE_HEADER: sign_body(settings.webhook_secret, body, timestamp),
                },
            )
            if not response.is_success:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts = row.attempts + 1
        values: dict[str, object]
        if error is None:
            values = {"attempts": attempts, "delivered_at": now, "last_error": None}
            delivered += 1
        else:
            give_up = attempts >= settings.webhook_max_attempts
            if give_up:
                log.error(
                    "webhook gave up on event %s after %d attempts: %s",
                    row.event_id,
                    attempts,
                    error,
                )
            values = {
                "attempts": attempts,
                "last_error": error,
                "failed": give_up,
                "next_attempt_at": now + backoff(settings, attempts),
            }
        async with engine.begin() as conn:
            await conn.execute(sa.update(W).where(W.c.event_id == row.event_id).values(**values))
    return delivered
