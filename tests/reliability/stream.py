"""A steady stream of ticket creations that retries through faults with an Idempotency-Key."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

TICKET = {
    "requester": {"id": "u-rel", "email": "rel@example.com", "name": "Rel", "org": "Ops"},
    "channel": "portal",
    "type": "incident",
    "impact": "low",
    "urgency": "medium",
}

PROBLEM_JSON = "application/problem+json"


@dataclass
class Attempt:
    """What one HTTP attempt answered: a status code, or the transport error's name."""

    outcome: str
    problem_json: bool = False


@dataclass
class TicketStream:
    """`workers` clients POSTing tickets every `interval` seconds until `stop()`.

    A request that fails at the transport or answers 5xx is retried with the same
    Idempotency-Key and body until it gets a 201 (or the retry budget runs out), so a
    crash of intake between commit and answer never creates a second ticket.
    """

    intake_url: str
    label: str
    workers: int = 2
    interval: float = 0.25
    retry_for: float = 90.0
    #: Sent with every request (the Authorization header of an agent or admin token).
    headers: dict[str, str] = field(default_factory=dict)
    #: ticket id -> subject, for every 201 (a replayed 201 maps to the same id).
    created: dict[str, str] = field(default_factory=dict)
    #: Subjects given up on after `retry_for` seconds (should stay empty).
    abandoned: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    replayed: int = 0
    #: loop.time() of every 201.
    created_at: list[float] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: bool = False
    _seq: int = 0

    def start(self) -> TicketStream:
        """Start the workers in the running loop."""
        self._stopping = False
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.workers)]
        return self

    async def stop(self) -> None:
        """Let each worker finish its current ticket (retries included), then stop."""
        self._stopping = True
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def outcomes(self) -> Counter[str]:
        """How often each status code / transport error was seen."""
        return Counter(a.outcome for a in self.attempts)

    async def first_created_after(self, since: float) -> float | None:
        """Seconds from `since` (loop.time()) to the first 201 after it, None if none yet."""
        later = [t for t in self.created_at if t > since]
        return min(later) - since if later else None

    async def _worker(self) -> None:
        async with httpx.AsyncClient(timeout=15.0, headers=self.headers) as client:
            while not self._stopping:
                self._seq += 1
                subject = f"{self.label} {self._seq} {uuid.uuid4().hex[:8]}"
                await self.create_one(client, subject)
                await asyncio.sleep(self.interval)

    async def create_one(self, client: httpx.AsyncClient, subject: str) -> str | None:
        """Create one ticket, retrying through faults; returns its id (None if abandoned)."""
        key = uuid.uuid4().hex
        body = {**TICKET, "subject": subject}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_for
        delay = 0.2
        while loop.time() < deadline:
            try:
                response = await client.post(
                    f"{self.intake_url}/v1/tickets", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError as exc:
                self.attempts.append(Attempt(type(exc).__name__))
            else:
                problem = response.headers.get("content-type", "").startswith(PROBLEM_JSON)
                self.attempts.append(Attempt(str(response.status_code), problem))
                if response.status_code == 201:
                    ticket_id = str(response.json()["id"])
                    if response.headers.get("Idempotent-Replayed") == "true":
                        self.replayed += 1
                    self.created[ticket_id] = subject
                    self.created_at.append(loop.time())
                    return ticket_id
                if response.status_code < 500 and response.status_code != 429:
                    raise AssertionError(f"ticket refused: {response.status_code} {response.text}")
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 1.5)
        self.abandoned.append(subject)
        return None
