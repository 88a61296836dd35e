"""HTTP request and response bodies (separate from events and tables)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events.tickets import (
    Category,
    Channel,
    CustomFields,
    Description,
    Impact,
    Language,
    Priority,
    Requester,
    ServiceName,
    Subject,
    Tags,
    TicketType,
    Urgency,
)


class TicketCreate(BaseModel):
    """A new ticket from any channel."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "subject": "VPN drops every 10 minutes",
            "description": "Since this morning the VPN disconnects.",
            "requester": {"id": "u-1042", "email": "ana@example.com", "name": "Ana", "org": "Finance"},
            "channel": "email", "type": "incident", "category": "network/vpn",
            "impact": "medium", "urgency": "high", "tags": ["vpn"],
        }]},
    )

    subject: Subject
    description: Description = ""
    requester: Requester
    channel: Channel
    type: TicketType = TicketType.INCIDENT
    category: Category | None = None
    priority: Priority | None = Field(None, description="Explicit priority; otherwise from impact x urgency.")
    impact: Impact | None = None
    urgency: Urgency | None = None
    affected_service: ServiceName | None = None
    language: Language | None = None
    tags: Tags = ()
    custom_fields: CustomFields = Field(default_factory=dict)
    follow_up_of: UUID | None = Field(None, description="A closed ticket this one follows up.")


class TicketView(BaseModel):
    """A ticket's current state."""

    model_config = ConfigDict(extra="allow")

    id: UUID
    number: str
    version: int
    status: str


class EventView(BaseModel):
    """One entry of a ticket's history (the CloudEvents envelope)."""

    model_config = ConfigDict(extra="allow")

    id: UUID
    type: str
    time: str
    sequence: int | None
    data: dict[str, Any]
