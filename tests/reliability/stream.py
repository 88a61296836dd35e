"""A steady stream of ticket creations and resolutions that retries through faults with an
Idempotency-Key."""

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
RESOLUTION = {"resolution_code": "fixed", "summary": "resolved by the reliability stream"}


@dataclass
class Attempt:
    """What one HTTP attempt answered: a status code, or the transport error's name."""

    outcome: str
    problem_json: bool = False


@dataclass
class TicketStream:
    """`workers` clients POSTing tickets every `interval` seconds until `stop()`.

    Every `resolve_every`-th ticket is resolved once routing has assigned it (its GET shows an
    agent): after each creation a worker takes the oldest such ticket, resolves it if it is
    assigned, else puts it back in line. A request that fails at the transport or answers 5xx
    (or 429) is retried with the same Idempotency-Key and body until it succeeds (or the retry
    budget runs out), so a crash of intake between commit and answer never creates a second
    ticket nor resolves one twice.
    """

    intake_url: str
    label: str
    workers: int = 2
    interval: float = 0.25
    retry_for: float = 90.0
    resolve_every: int = 3
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
    #: Ticket ids this stream resolved (a 200, or a retry that found it resolved).
    resolved: set[str] = field(default_factory=set)
    #: Tickets waiting for their agent before the stream resolves them, oldest first.
    due: list[str] = field(default_factory=list)
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
                seq = self._seq
                subject = f"{self.label} {seq} {uuid.uuid4().hex[:8]}"
                ticket_id = await self.create_one(client, subject)
                if ticket_id is not None and seq % self.resolve_every == 0:
                    self.due.append(ticket_id)
                if self.due:
                    await self.resolve_next(client)
                await asyncio.sleep(self.interval)

    async def create_one(self, client: httpx.AsyncClient, subject: str) -> str | None:
        """Create one ticket, retrying through faults; returns its id (None if abandoned)."""
        response = await self._post(client, "/v1/tickets", {**TICKET, "subject": subject})
        if response is None:
            self.abandoned.append(subject)
            return None
        if response.status_code != 201:
            raise AssertionError(f"ticket refused: {response.status_code} {response.text}")
        ticket_id = str(response.json()["id"])
        if response.headers.get("Idempotent-Replayed") == "true":
            self.replayed += 1
        self.created[ticket_id] = subject
        self.created_at.append(asyncio.get_running_loop().time())
        return ticket_id

    async def resolve_next(self, client: httpx.AsyncClient) -> None:
        """Resolve the oldest due ticket if routing assigned it by now, else put it back in line."""
        ticket_id = self.due.pop(0)  # popped first: the other worker never takes it meanwhile
        ticket = await self._read(client, ticket_id)
        if ticket is None or ticket["agent"] is None:
            self.due.append(ticket_id)
        elif ticket["status"] == "resolved":
            self.resolved.add(ticket_id)
        else:
            await self.resolve_one(client, ticket_id)

    async def resolve_one(self, client: httpx.AsyncClient, ticket_id: str) -> bool:
        """Resolve one ticket, retrying through faults; False if abandoned."""
        response = await self._post(client, f"/v1/tickets/{ticket_id}/resolve", RESOLUTION)
        if response is None:
            self.abandoned.append(f"resolve {ticket_id}")
            return False
        if response.status_code == 409:
            # Only this stream resolves: a 409 is our own earlier attempt, or a bug.
            ticket = await self._read(client, ticket_id)
            if ticket is None or ticket["status"] != "resolved":
                raise AssertionError(f"resolve refused: {response.text}")
        elif response.status_code != 200:
            raise AssertionError(f"resolve refused: {response.status_code} {response.text}")
        self.resolved.add(ticket_id)
        return True

    async def _read(self, client: httpx.AsyncClient, ticket_id: str) -> dict[str, object] | None:
        """The ticket's current state, None when intake cannot answer right now."""
        try:
            response = await client.get(f"{self.intake_url}/v1/tickets/{ticket_id}")
        except httpx.TransportError:
            return None
        return response.json() if response.status_code == 200 else None

    async def _post(self, client: httpx.AsyncClient, path: str,
                    body: dict[str, object]) -> httpx.Response | None:
        """POST with one Idempotency-Key until an answer that is no fault (None: budget spent)."""
        key = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_for
        delay = 0.2
        while loop.time() < deadline:
            try:
                response = await client.post(
                    f"{self.intake_url}{path}", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError as exc:
                self.attempts.append(Attempt(type(exc).__name__))
            else:
                problem = response.headers.get("content-type", "").startswith(PROBLEM_JSON)
                self.attempts.append(Attempt(str(response.status_code), problem))
                if response.status_code < 500 and response.status_code != 429:
                    return response
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 1.5)
        return None
