"""PostgreSQL's one-statement writes: a lost race writes nothing, driver errors stay DBAPIErrors."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from helpdesk_events.eventstore import ConcurrencyConflict
from helpdesk_intake import handlers, store
from helpdesk_intake.commands import AddComment, AssignTicket
from helpdesk_intake.consumers import ROUTING_ACTOR
from helpdesk_intake.domain import DEFAULT_POLICY
from helpdesk_intake.tables import events, outbox, tickets
from helpdesk_events.tickets import Tier

from .support import MakeIntake


@pytest.fixture
def db_url(pg_url: str) -> str:
    """These writes exist on PostgreSQL only."""
    return pg_url


async def _counts(conn: sa.ext.asyncio.AsyncConnection, ticket_id: UUID) -> tuple[int, int, int]:
    version = await conn.scalar(sa.select(tickets.c.version).where(tickets.c.id == ticket_id))
    n_events = await conn.scalar(
        sa.select(sa.func.count()).select_from(events).where(events.c.stream_id == ticket_id))
    n_outbox = await conn.scalar(sa.select(sa.func.count()).select_from(outbox))
    return int(version), int(n_events), int(n_outbox)


async def test_an_update_that_lost_its_race_writes_no_event_outbox_row_or_read_model(
    make_intake: MakeIntake,
) -> None:
    async with make_intake() as intake:
        ticket_id = UUID((await intake.create())["id"])
        engine = intake.runtime.engine
        now = datetime.now(timezone.utc)
        assign = AssignTicket(ticket_id=ticket_id, team="t1", agent="a1", tier=Tier.T1,
                              reason="r", by=ROUTING_ACTOR)
        async with engine.connect() as conn:
            state = await store.load(conn, ticket_id)
            before = await _counts(conn, ticket_id)
        assert state is not None
        # Another writer appends version 2 after this one read version 1: of this writer's
        # versions 2 and 3, only 3 goes in at first (and must come out again).
        comment = AddComment(ticket_id=ticket_id, comment_id=uuid4(), author=ROUTING_ACTOR,
                             body="first")
        async with engine.begin() as conn:
            await handlers.execute(conn, ticket_id, [comment], now=now)
        async with engine.begin() as conn:
            won = await _counts(conn, ticket_id)
            outcome = handlers._decide(state, [assign], now, DEFAULT_POLICY, handlers.Trace())
            assert len(outcome.envelopes) == 2  # assigned, and opened by the agent
            with pytest.raises(ConcurrencyConflict) as lost:
                await store.save(conn, outcome.state, state.version, outcome.envelopes)
            assert lost.value.actual == won[1]
            assert await _counts(conn, ticket_id) == won
        assert won[0] == won[1] == before[1] + 1


async def test_a_driver_error_on_the_autocommit_connection_is_a_dbapi_error(
    make_intake: MakeIntake,
) -> None:
    async with make_intake() as intake:
        async with store.autocommit(intake.runtime.engine) as conn:
            with pytest.raises(DBAPIError):
                await conn.one(_BAD_CAST, {"text": "not a number"})
            # The connection stays usable for the next statement.
            assert await conn.one(_BAD_CAST, {"text": "7"}) == (7,)


async def test_a_follow_up_of_an_existing_ticket_is_created_in_autocommit(
    make_intake: MakeIntake,
) -> None:
    async with make_intake() as intake:
        first = await intake.create()
        follow_up = await intake.create(follow_up_of=first["id"])
        assert follow_up["follow_up_of"] == first["id"]
        assert follow_up["number"] != first["number"]


_BAD_CAST = sa.select(sa.cast(sa.bindparam("text", type_=sa.Text), sa.Integer))
