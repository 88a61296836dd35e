"""Compares intake's event store (the truth) with what the clients were told and what consumers did.

- intake: every 201 a client received has exactly one TicketCreated in the event store, and
  no subject (unique per client request) was created twice (a retried request that made a
  second ticket);
- every consumer of helpdesk.tickets (routing, sla, surveys, metrics): its inbox holds every
  event of intake's store for those tickets (nothing lost);
- metrics: `ticket_volume` equals the number of tickets (nothing lost, nothing counted twice).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx

from .system import TICKET_CONSUMERS, fetch

CREATED_TYPE = "helpdesk.ticket.created.v1"


@dataclass(frozen=True)
class LossReport:
    """What the checker found; `ok` when nothing is lost or doubled."""

    tickets: int
    events: int
    #: 201s without a TicketCreated in the store.
    missing_in_store: frozenset[str] = frozenset()
    #: Tickets in the store (of this run's subjects) that no client got a 201 for.
    unknown_in_store: frozenset[str] = frozenset()
    #: Subjects with more than one TicketCreated: a request that created two tickets.
    duplicated_subjects: frozenset[str] = frozenset()
    #: consumer -> ticket ids with at least one event missing from its inbox.
    missing_by_consumer: Mapping[str, frozenset[str]] = field(default_factory=dict)
    ticket_volume: int | None = None

    @property
    def lost(self) -> int:
        """Tickets missing anywhere."""
        ids = set(self.missing_in_store)
        for missing in self.missing_by_consumer.values():
            ids |= missing
        volume_gap = max(0, self.tickets - (self.ticket_volume or 0))
        return max(len(ids), volume_gap)

    @property
    def duplicated(self) -> int:
        """Tickets counted more than once anywhere."""
        volume_excess = max(0, (self.ticket_volume or 0) - self.tickets)
        return max(len(self.duplicated_subjects) + len(self.unknown_in_store), volume_excess)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing doubled, metrics counts exactly."""
        return self.lost == 0 and self.duplicated == 0 and self.ticket_volume == self.tickets

    def describe(self) -> str:
        """A short human summary for assertion messages."""
        parts = [f"tickets={self.tickets} events={self.events} ticket_volume={self.ticket_volume}"]
        if self.missing_in_store:
            parts.append(f"missing in intake's store: {sorted(self.missing_in_store)[:5]}")
        if self.unknown_in_store:
            parts.append(f"tickets nobody got a 201 for: {sorted(self.unknown_in_store)[:5]}")
        if self.duplicated_subjects:
            parts.append(f"subjects created twice: {sorted(self.duplicated_subjects)[:5]}")
        for consumer, missing in self.missing_by_consumer.items():
            if missing:
                parts.append(f"{consumer} lacks events of {len(missing)} tickets: {sorted(missing)[:3]}")
        return "; ".join(parts)


async def ticket_volume(metrics_url: str, since: datetime,
                        headers: Mapping[str, str] | None = None) -> int:
    """metrics' ticket_volume for [since, now + 1 h)."""
    until = datetime.now(timezone.utc) + timedelta(hours=1)
    async with httpx.AsyncClient(timeout=15.0, headers=dict(headers or {})) as client:
        response = await client.get(
            f"{metrics_url}/v1/kpis", params={"from": since.isoformat(), "to": until.isoformat()}
        )
    response.raise_for_status()
    kpis = {k["name"]: k for k in response.json()["kpis"]}
    return int(kpis["ticket_volume"]["value"])


async def check(
    database_urls: Mapping[str, str],
    metrics_url: str,
    created: Mapping[str, str],
    *,
    subject_prefix: str,
    since: datetime,
    headers: Mapping[str, str] | None = None,
) -> LossReport:
    """Compare intake's store with the clients' 201s (`created`: id -> subject) and the consumers.

    Only tickets whose subject starts with `subject_prefix` take part, so the check ignores
    tickets other tests of the run created on purpose. `since` starts the KPI window.
    """
    rows = await fetch(
        database_urls["intake"], "SELECT event_id, stream_id, type, envelope FROM events"
    )
    subjects: Counter[str] = Counter()
    run_streams: set[str] = set()
    for row in rows:
        if row["type"] != CREATED_TYPE:
            continue
        subject = json.loads(row["envelope"])["data"]["subject"]
        if subject.startswith(subject_prefix):
            subjects[subject] += 1
            run_streams.add(str(row["stream_id"]))
    events_by_ticket: dict[str, set[uuid.UUID]] = {}
    for row in rows:
        if str(row["stream_id"]) in run_streams:
            events_by_ticket.setdefault(str(row["stream_id"]), set()).add(row["event_id"])
    all_events = [event for events in events_by_ticket.values() for event in events]

    missing_by_consumer: dict[str, frozenset[str]] = {}
    for consumer in TICKET_CONSUMERS:
        seen = {
            r["event_id"]
            for r in await fetch(
                database_urls[consumer],
                "SELECT DISTINCT event_id FROM inbox WHERE event_id = ANY($1::uuid[])",
                all_events,
            )
        }
        missing_by_consumer[consumer] = frozenset(
            ticket for ticket, events in events_by_ticket.items() if not events <= seen
        )
    try:
        volume: int | None = await ticket_volume(metrics_url, since, headers)
    except httpx.HTTPError:
        volume = None
    return LossReport(
        tickets=len(created),
        events=len(all_events),
        missing_in_store=frozenset(set(created) - run_streams),
        unknown_in_store=frozenset(run_streams - set(created)),
        duplicated_subjects=frozenset(s for s, n in subjects.items() if n > 1),
        missing_by_consumer=missing_by_consumer,
        ticket_volume=volume,
    )
