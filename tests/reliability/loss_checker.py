"""Compares intake's event store (the truth) with what the clients were told and what consumers did.

- intake: every 201 a client received has exactly one TicketCreated in the event store, no
  subject (unique per client request) was created twice (a retried request that made a
  second ticket), and every resolve a client was answered has exactly one TicketResolved;
- every consumer of helpdesk.tickets (routing, sla, surveys, metrics): its inbox holds every
  event of intake's store for those tickets (nothing lost);
- every projection's own state against a fold of the store (tests/reliability/fold.py,
  compared in tests/reliability/projections.py): routing's decisions, views and agent loads,
  sla's clocks, timers and verdicts, surveys' invitations, metrics' ticket facts and KPIs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from .fold import fold
from .projections import ProjectionCheck, check_metrics, check_routing, check_sla, check_surveys, kpis
from .system import TICKET_CONSUMERS, fetch


@dataclass(frozen=True)
class LossReport:
    """What the checker found; `ok` when nothing is lost or doubled anywhere."""

    tickets: int
    events: int
    #: Resolves the clients were answered for.
    resolved: int = 0
    #: 201s without a TicketCreated in the store.
    missing_in_store: frozenset[str] = frozenset()
    #: Tickets in the store (of this run's subjects) that no client got a 201 for.
    unknown_in_store: frozenset[str] = frozenset()
    #: Subjects with more than one TicketCreated: a request that created two tickets.
    duplicated_subjects: frozenset[str] = frozenset()
    #: Answered resolves without a TicketResolved in the store.
    resolves_missing: frozenset[str] = frozenset()
    #: Tickets resolved in the store that no client was answered for, or resolved twice.
    resolves_unknown: frozenset[str] = frozenset()
    #: consumer -> ticket ids with at least one event missing from its inbox.
    missing_by_consumer: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Each projection's state against the fold: routing, sla, surveys, metrics.
    projections: Mapping[str, ProjectionCheck] = field(default_factory=dict)
    ticket_volume: int | None = None

    @property
    def lost(self) -> int:
        """Tickets missing anywhere (or the largest aggregate shortfall)."""
        ids = set(self.missing_in_store) | self.resolves_missing
        for missing in self.missing_by_consumer.values():
            ids |= missing
        for projection in self.projections.values():
            ids |= projection.lost
        shortfall = max((p.short for p in self.projections.values()), default=0)
        return max(len(ids), shortfall)

    @property
    def duplicated(self) -> int:
        """Tickets counted more than once anywhere (or the largest aggregate excess)."""
        ids = set(self.unknown_in_store) | self.resolves_unknown
        for projection in self.projections.values():
            ids |= projection.doubled
        excess = max((p.over for p in self.projections.values()), default=0)
        return max(len(self.duplicated_subjects) + len(ids), excess)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing doubled, every projection compared and equal to the fold."""
        return (self.lost == 0 and self.duplicated == 0 and self.ticket_volume == self.tickets
                and set(self.projections) == set(TICKET_CONSUMERS))

    def by_projection(self) -> str:
        """"routing 0/0, sla 0/0, ...": lost/doubled per projection, for the table."""
        return ", ".join(f"{name} {p.lost_count}/{p.doubled_count}"
                         for name, p in self.projections.items())

    def describe(self) -> str:
        """A short human summary for assertion messages."""
        parts = [f"tickets={self.tickets} resolved={self.resolved} events={self.events} "
                 f"ticket_volume={self.ticket_volume}; lost/doubled: {self.by_projection()}"]
        if self.missing_in_store:
            parts.append(f"missing in intake's store: {sorted(self.missing_in_store)[:5]}")
        if self.unknown_in_store:
            parts.append(f"tickets nobody got a 201 for: {sorted(self.unknown_in_store)[:5]}")
        if self.duplicated_subjects:
            parts.append(f"subjects created twice: {sorted(self.duplicated_subjects)[:5]}")
        if self.resolves_missing:
            parts.append(f"answered resolves not in the store: {sorted(self.resolves_missing)[:5]}")
        if self.resolves_unknown:
            parts.append(f"resolutions nobody asked for (or twice): {sorted(self.resolves_unknown)[:5]}")
        for consumer, missing in self.missing_by_consumer.items():
            if missing:
                parts.append(f"{consumer} lacks events of {len(missing)} tickets: {sorted(missing)[:3]}")
        for name, projection in self.projections.items():
            if not projection.ok:
                parts.append(f"{name}: " + "; ".join(projection.notes))
        return "; ".join(parts)


async def check(
    database_urls: Mapping[str, str],
    urls: Mapping[str, str],
    created: Mapping[str, str],
    resolved: Set[str] = frozenset(),
    *,
    subject_prefix: str,
    since: datetime,
    headers: Mapping[str, str] | None = None,
) -> LossReport:
    """Compare intake's store with the clients' 201s (`created`: id -> subject) and resolves
    (`resolved`: ids), the consumers' inboxes and every projection's state.

    Only tickets whose subject starts with `subject_prefix` take part, so the check ignores
    tickets other tests of the run created on purpose. `since` starts the KPI window;
    `urls` are the services' base URLs (routing's agents, metrics' KPIs).
    """
    rows = await fetch(
        database_urls["intake"],
        "SELECT event_id, stream_id, type, envelope FROM events ORDER BY position",
    )
    truths = {t: truth for t, truth in fold(rows).items()
              if truth.subject.startswith(subject_prefix)}
    subjects = Counter(truth.subject for truth in truths.values())
    events_by_ticket = {t: truth.event_ids for t, truth in truths.items()}
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
    auth = dict(headers or {})
    try:
        kpis_by_name: dict[str, Any] | None = await kpis(urls["metrics"], since, auth)
    except httpx.HTTPError:
        kpis_by_name = None
    projections = {
        "routing": await check_routing(database_urls["routing"], urls["routing"], truths, auth),
        "sla": await check_sla(database_urls["sla"], database_urls["metrics"], truths),
        "surveys": await check_surveys(database_urls["surveys"], truths),
        "metrics": await check_metrics(database_urls["metrics"], truths, kpis_by_name),
    }
    volume = (kpis_by_name or {}).get("ticket_volume")
    store_resolved = {t for t, truth in truths.items() if truth.resolutions > 0}
    return LossReport(
        tickets=len(created),
        events=len(all_events),
        resolved=len(resolved),
        missing_in_store=frozenset(set(created) - set(truths)),
        unknown_in_store=frozenset(set(truths) - set(created)),
        duplicated_subjects=frozenset(s for s, n in subjects.items() if n > 1),
        resolves_missing=frozenset(set(resolved) - store_resolved),
        resolves_unknown=frozenset((store_resolved - set(resolved)) | {
            t for t, truth in truths.items() if truth.resolutions > 1}),
        missing_by_consumer=missing_by_consumer,
        projections=projections,
        ticket_volume=None if volume is None else int(volume["value"]),
    )
