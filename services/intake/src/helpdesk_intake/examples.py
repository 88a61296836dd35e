"""Example documents for the OpenAPI description (one realistic ticket throughout)."""

from __future__ import annotations

from typing import Any

TICKET_ID = "5b0b8a4e-2f5c-4a8e-9a51-0c2f8b7d1e42"
TARGET_ID = "9e7d4c1a-3b2f-4f6e-8d5c-1a2b3c4d5e6f"
AT = "2025-03-03T09:00:00.000000Z"
LATER = "2025-03-03T09:12:30.000000Z"

TICKET_CREATE: dict[str, Any] = {
    "subject": "VPN drops every 10 minutes",
    "description": "Since this morning the VPN disconnects and I lose my session.",
    "requester": {"id": "u-1042", "email": "ana@example.com", "name": "Ana Pereira",
                  "org": "Finance"},
    "channel": "email",
    "type": "incident",
    "category": "network/vpn",
    "impact": "medium",
    "urgency": "high",
    "affected_service": "vpn",
    "language": "en",
    "tags": ["vpn", "remote"],
    "custom_fields": {"asset": "LT-2231", "on_site": False},
}
TICKET_PATCH: dict[str, Any] = {
    "subject": "VPN drops every 10 minutes on Wi-Fi",
    "tags": ["vpn", "wifi"],
    "custom_fields": {"asset": "LT-2231", "on_site": None},
    "urgency": "medium",
    "priority_reason": "workaround on cable",
    "category": "network/wifi",
}
COMMENT = {"body": "Could you try the cable connection while we look into it?", "public": True}
STATUS_CHANGE = {"to_status": "pending", "reason": "waiting for the requester's logs"}
ASSIGNMENT = {"team": "network", "agent": "agent-7", "tier": 1, "reason": "VPN queue"}
ESCALATION = {"to_tier": 2, "reason": "needs firewall changes", "to_team": "network-l2"}
WORKLOG = {"seconds": 900, "kind": "talk", "agent": "agent-7", "note": "call with the requester"}
RESOLUTION = {"resolution_code": "fixed", "summary": "Renewed the VPN client certificate."}
REOPEN = {"reason": "The VPN dropped again this morning."}
MERGE = {"target_ticket_id": TARGET_ID}
CHANGE_OUTCOME = {"success": True, "notes": "Rolled out to all gateways."}

TICKET: dict[str, Any] = {
    "id": TICKET_ID,
    "number": "HD-1042",
    "version": 3,
    "status": "open",
    "subject": TICKET_CREATE["subject"],
    "description": TICKET_CREATE["description"],
    "requester": TICKET_CREATE["requester"],
    "channel": "email",
    "type": "incident",
    "category": "network/vpn",
    "priority": "P2",
    "impact": "medium",
    "urgency": "high",
    "affected_service": "vpn",
    "language": "en",
    "tags": ["vpn", "remote"],
    "custom_fields": {"asset": "LT-2231", "on_site": False},
    "created_by": {"id": "u-1042", "role": "requester"},
    "created_at": AT,
    "updated_at": LATER,
    "status_changed_at": LATER,
    "tier": 1,
    "team": "network",
    "agent": "agent-7",
    "first_assigned_at": LATER,
    "first_response_at": None,
    "resolved_at": None,
    "resolution_code": None,
    "resolved_by": None,
    "resolution_count": 0,
    "closed_at": None,
    "close_reason": None,
    "reopen_count": 0,
    "escalation_count": 0,
    "transfer_count": 0,
    "comment_count": 0,
    "public_agent_reply_count": 0,
    "contact_count": 0,
    "work_seconds": {"talk": 0, "research": 0, "after_work": 0},
    "change_success": None,
    "change_attempts": 0,
    "follow_up_of": None,
    "merged_into": None,
    "merged_from": [],
}
TICKET_PAGE = {"items": [TICKET], "next_cursor": "eyJrIjoiY3JlYXRlZF9hdCIsIm8iOiJkZXNjIn0"}
EVENT: dict[str, Any] = {
    "id": "0d3c1f0e-8f5a-4c1e-b7a2-4b9e2f6d8a10",
    "source": "intake",
    "type": "helpdesk.ticket.assigned.v1",
    "subject": TICKET_ID,
    "time": LATER,
    "specversion": "1.0",
    "datacontenttype": "application/json",
    "sequence": 2,
    "data": {
        "ticket_id": TICKET_ID, "occurred_at": LATER, "tier": 1, "team": "network",
        "agent": "agent-7", "by": {"id": "boss-1", "role": "supervisor"}, "reason": "VPN queue",
        "routing_decision_id": None,
    },
}
STATUS_EVENT: dict[str, Any] = {
    **EVENT,
    "id": "7a1e2b3c-4d5e-4f60-8172-93a4b5c6d7e8",
    "type": "helpdesk.ticket.status_changed.v1",
    "sequence": 3,
    "data": {
        "ticket_id": TICKET_ID, "occurred_at": LATER, "from_status": "new", "to_status": "open",
        "by": {"id": "boss-1", "role": "supervisor"}, "reason": "agent assigned",
    },
}
COMMAND_RESULT = {"ticket": TICKET, "events": [EVENT, STATUS_EVENT]}
MERGE_RESULT = {
    "ticket": {**TICKET, "status": "closed", "close_reason": "merged", "merged_into": TARGET_ID},
    "target": {**TICKET, "id": TARGET_ID, "number": "HD-1040", "merged_from": [TICKET_ID]},
    "events": [{**EVENT, "type": "helpdesk.ticket.merged.v1", "data": {
        "ticket_id": TICKET_ID, "occurred_at": LATER, "source_ticket_id": TICKET_ID,
        "target_ticket_id": TARGET_ID, "by": {"id": "agent-7", "role": "agent"}}}],
}
REPLAY_RESULT = {"queued": 1842, "first_position": 1, "last_position": 1842}
