"""`POST /v1/admin/republish`: queue a publisher's retained envelopes again (admin only).

After a memory-only broker lost records nobody had consumed, the relay sends what the
published log kept (helpdesk_events.outbox.republish) under the same event ids, so
consumers apply what they missed and their inboxes drop the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events.outbox import republish

from .auth import Role, require
from .openapi import problem_content
from .problems import Problem, field_error

NOT_RETAINED = ("Not retained", "This service keeps no log of published events "
                "(intake re-publishes its event store with POST /v1/admin/replay).")
BAD_SINCE = ("Validation failed", "`since` must carry a time zone and not lie in the future.")


EXAMPLE = {"queued": 1158, "since": "2026-11-28T21:30:00Z"}


class RepublishResult(BaseModel):
    """What a republish queued."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [EXAMPLE]})

    queued: int = Field(description="Envelopes copied back into the outbox (one per event id).")
    since: datetime = Field(description="Envelopes published at or after this time were queued.")


router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[require(Role.ADMIN)])


@router.post(
    "/republish", status_code=202, response_model=RepublishResult,
    summary="Re-publish the envelopes this service published recently",
    description=(
        "Copies every envelope the broker acknowledged at or after `since` (default: the whole "
        "retention, `OUTBOX_RETENTION_HOURS`) back into the outbox, in their original order and "
        "with their original event ids; the relay publishes them like new events. For a broker "
        "that lost its data: call it on every publishing service once the broker is back "
        "(intake: `POST /v1/admin/replay`). Consumers drop the duplicates by event id."),
    responses={
        202: {"description": "Queued for publishing.",
              "content": {"application/json": {"example": EXAMPLE}}},
        409: {"description": NOT_RETAINED[1], "content": problem_content(409, *NOT_RETAINED)},
        422: {"description": BAD_SINCE[1], "content": problem_content(422, *BAD_SINCE)},
    },
)
async def republish_published(
    request: Request,
    since: Annotated[datetime | None, Query(description=(
        "ISO 8601 with a time zone; default: now minus the retention."))] = None,
) -> RepublishResult:
    """Queue retained envelopes published at/after `since` for publishing again."""
    runtime = request.app.state.runtime
    now = datetime.now(UTC)
    if since is None:
        since = now - timedelta(hours=runtime.settings.outbox.retention_hours)
    elif since.tzinfo is None or since > now:
        raise Problem(422, BAD_SINCE[0], BAD_SINCE[1],
                      errors=[field_error("since", BAD_SINCE[1])])
    if not await runtime.has_published_log():
        raise Problem(409, *NOT_RETAINED)
    async with runtime.engine.begin() as conn:
        queued = await republish(conn, since)
    runtime.wake_relay()
    return RepublishResult(queued=queued, since=since)
