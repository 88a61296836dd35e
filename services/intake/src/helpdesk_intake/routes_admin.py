"""Operations endpoints of intake (admin role only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from . import access, examples
from .docs import problems, success
from .replay import queue_replay
from .schemas import ReplayResult

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[access.ADMIN_ONLY])


@router.post(
    "/replay", status_code=202, response_model=ReplayResult,
    summary="Re-publish the event store to the broker",
    description=(
        "Queues every event (after `after_position`) in the outbox, in global order; the "
        "relay publishes them like new events. For a broker that lost its data. Consumers "
        "drop the duplicates by event id. Same as `helpdesk replay`."),
    responses={**success(202, "Queued for publishing.", examples.REPLAY_RESULT),
               **problems(422)},
)
async def replay(
    request: Request,
    after_position: Annotated[int, Query(ge=0, le=2**62, description=(
        "Resume after this global position (the last_position of an earlier replay)."))] = 0,
) -> Any:
    """Queue the whole event store for re-publishing."""
    runtime = request.app.state.runtime
    stats = await queue_replay(runtime.engine, batch_size=request.app.state.settings.replay_batch_size,
                               after_position=after_position)
    return JSONResponse({"queued": stats.queued, "first_position": stats.first_position,
                         "last_position": stats.last_position}, status_code=202)
