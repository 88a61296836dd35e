"""Replay: the whole event store goes back through the outbox, in global order."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from typer.testing import CliRunner

from helpdesk.testing.auth import bearer
from helpdesk.cli import app as cli
from helpdesk_events import eventstore
from helpdesk_intake.tables import outbox

from .support import Intake, MakeIntake


async def _outbox_ids(intake: Intake) -> list[str]:
    async with intake.runtime.reader.connect() as conn:
        rows = await conn.execute(sa.select(outbox.c.event_id).order_by(outbox.c.position))
        return [str(row.event_id) for row in rows]


async def _store_ids(intake: Intake) -> list[str]:
    async with intake.runtime.reader.connect() as conn:
        return [str(envelope.id) for _, envelope in await eventstore.read_all(conn, 0, 10_000)]


async def _clear_outbox(intake: Intake) -> None:
    """What the relay does once the broker acknowledged everything."""
    async with intake.runtime.engine.begin() as conn:
        await conn.execute(sa.delete(outbox))


async def _some_history(intake: Intake) -> None:
    for i in range(3):
        ticket = await intake.create(subject=f"Ticket {i}")
        await intake.command(ticket["id"], "comments", {"body": "on it"})
    await intake.command(ticket["id"], "resolve", {"resolution_code": "fixed"})


async def test_replay_queues_every_event_in_global_order(make_intake: MakeIntake) -> None:
    async with make_intake(replay_batch_size=4) as intake:
        await _some_history(intake)
        await _clear_outbox(intake)
        response = await intake.http.post("/v1/admin/replay", headers=bearer("admin"))
        assert response.status_code == 202, response.text
        stored = await _store_ids(intake)
        assert response.json() == {"queued": len(stored), "first_position": 1,
                                   "last_position": len(stored)}
        assert await _outbox_ids(intake) == stored

        await _clear_outbox(intake)
        resumed = await intake.http.post("/v1/admin/replay", params={"after_position": 5},
                                          headers=bearer("admin"))
        assert resumed.json()["queued"] == len(stored) - 5
        assert await _outbox_ids(intake) == stored[5:]


async def test_replay_puts_events_still_waiting_in_the_outbox_back_in_store_order(
    make_intake: MakeIntake,
) -> None:
    async with make_intake() as intake:
        await _some_history(intake)
        await _clear_outbox(intake)
        # The broker is gone: the last ticket's resolution waits in the outbox, ahead of
        # anything the replay queues.
        ticket = await intake.create(subject="Written during the outage")
        await intake.command(ticket["id"], "resolve", {"resolution_code": "fixed"})
        waiting = await _outbox_ids(intake)
        assert len(waiting) >= 2
        response = await intake.http.post("/v1/admin/replay", headers=bearer("admin"))
        assert response.status_code == 202, response.text
        # Each event once, in the store's order: the creation before the resolution.
        stored = await _store_ids(intake)
        assert await _outbox_ids(intake) == stored
        assert stored[-len(waiting):] == waiting


def test_the_replay_command_queues_the_store_of_the_configured_database(
    make_intake: MakeIntake, db_url: str
) -> None:
    async def prepare() -> list[str]:
        async with make_intake() as intake:
            await _some_history(intake)
            await _clear_outbox(intake)
            return await _store_ids(intake)

    async def queued() -> list[str]:
        async with make_intake(migrate_on_start=False) as intake:
            return await _outbox_ids(intake)

    stored = asyncio.run(prepare())
    result = CliRunner().invoke(cli, ["replay", "--batch-size", "2"],
                                env={"INTAKE_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert f"{len(stored)} events" in result.output
    assert asyncio.run(queued()) == stored
