"""What the SLA service knows about a ticket: the attributes policies match on."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class TicketFacts(BaseModel):
    """A ticket's matchable attributes and status, as of the last event applied."""

    model_config = ConfigDict(frozen=True)

    created_at: datetime
    priority: str
    type: str
    channel: str
    category: str | None = None
    affected_service: str | None = None
    org: str | None = None
    tier: int | None = None
    team: str | None = None
    status: str = "new"
