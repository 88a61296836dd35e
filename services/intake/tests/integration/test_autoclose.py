"""Auto-close: resolved tickets close after the configured delay, as the system actor."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

from helpdesk_intake.autoclose import close_due_tickets
from helpdesk_intake.domain import Policy

from .support import Intake, MakeIntake


async def test_the_background_job_closes_resolved_tickets_after_the_delay(
    make_intake: MakeIntake,
) -> None:
    async with make_intake(auto_close_after_seconds=1, auto_close_interval_seconds=0.1) as intake:
        resolved = await intake.create()
        await intake.command(resolved["id"], "resolve", {"resolution_code": "fixed"})
        working = await intake.create()
        deadline = time.monotonic() + 10
        while (await intake.ticket(resolved["id"]))["status"] != "closed":
            assert time.monotonic() < deadline, "not auto-closed within 10 s"
            await asyncio.sleep(0.1)
        ticket = await intake.ticket(resolved["id"])
        assert ticket["close_reason"] == "auto_close"
        closed = (await intake.events(resolved["id"]))[-2]
        assert closed["type"] == "helpdesk.ticket.closed.v1"
        assert closed["data"]["by"] == {"id": "system", "role": "system"}
        assert (await intake.ticket(working["id"]))["status"] == "new"


async def test_only_tickets_resolved_long_enough_ago_are_closed(intake: Intake) -> None:
    policy = Policy(auto_close_delay=timedelta(days=3))
    due = await intake.create()
    await intake.command(due["id"], "resolve", {"resolution_code": "fixed"})
    reopened = await intake.create()
    await intake.command(reopened["id"], "resolve", {"resolution_code": "fixed"})
    await intake.command(reopened["id"], "reopen", {"reason": "not fixed"})
    now = datetime.now(timezone.utc)

    assert await close_due_tickets(intake.runtime, now=now + timedelta(days=2), policy=policy) == 0
    assert await close_due_tickets(intake.runtime, now=now + timedelta(days=3), policy=policy) == 1
    assert (await intake.ticket(due["id"]))["status"] == "closed"
    assert (await intake.ticket(reopened["id"]))["status"] == "open"
    assert await close_due_tickets(intake.runtime, now=now + timedelta(days=9), policy=policy) == 0
