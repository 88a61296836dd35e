"""Ticket creation is rate limited per caller: 429 problem+json with Retry-After."""

from __future__ import annotations

from helpdesk.testing.auth import bearer

from .support import TICKET, MakeIntake, problem_fields


async def test_a_burst_of_creates_over_the_limit_gets_429_and_other_callers_do_not(
    make_intake: MakeIntake,
) -> None:
    async with make_intake(create_rate_per_minute=2) as intake:
        for _ in range(2):
            assert (await intake.http.post("/v1/tickets", json=TICKET)).status_code == 201
        refused = await intake.http.post("/v1/tickets", json=TICKET)
        assert refused.status_code == 429
        assert problem_fields(refused) == []
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        other = await intake.http.post("/v1/tickets", json=TICKET, headers=bearer("agent", "agent-8"))
        assert other.status_code == 201
        # Reading is not limited.
        assert (await intake.http.get("/v1/tickets")).status_code == 200
