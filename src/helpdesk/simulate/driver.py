"""Carry a plan out against the running services, over their public REST APIs only.

Action `at` (simulated seconds) runs at real time `at / speed` after the start. One
ticket's actions run in plan order, and so do ticket creations (so intake numbers the
tickets in plan order); different tickets' actions overlap, up to `concurrency` requests
at a time. Plan-local ticket keys map to the ids intake gives. A refused action (say a
ticket that SLA escalation already moved on) is counted and the run goes on.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .credentials import Credentials
from .plan import Action, Kind, Plan
from .seeding import Urls

#: How long an agent's first action waits for routing's assignment before picking the ticket.
ROUTING_GRACE_S = 1.5
#: How long the requester waits for the survey link after the planned answer time.
SURVEY_WAIT_S = 5.0


@dataclass
class Progress:
    """Live counters of a run (read by progress displays)."""

    total: int
    done: int = 0
    tickets: int = 0
    sim_at: float = 0.0
    max_lag_s: float = 0.0
    ok: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


@dataclass
class Result:
    """What a run did: counters and the ticket ids intake gave, by plan-local key."""

    progress: Progress
    ticket_ids: dict[str, str]
    elapsed_s: float
    stopped: bool


class Refused(Exception):
    """A service said no (4xx/5xx): the action counts as failed."""


class Skip(Exception):
    """The action no longer applies (e.g. the ticket was never created)."""


class Driver:
    """Executes one plan; `run()` once."""

    def __init__(self, plan: Plan, urls: Urls, client: httpx.AsyncClient, *, speed: float,
                 survey_secret: str, concurrency: int = 8,
                 on_progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 credentials: Credentials | None = None) -> None:
        self.plan, self.urls, self.client, self.speed = plan, urls, client, speed
        self.credentials = credentials or Credentials()
        self.survey_secret = survey_secret
        self.progress = Progress(total=len(plan.actions))
        self.on_progress = on_progress or (lambda _: None)
        self.should_stop = should_stop or (lambda: False)
        self.semaphore = asyncio.Semaphore(concurrency)
        self.run_id = uuid.uuid4().hex[:12]
        self.ids: dict[str, str] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.requesters: dict[str, str] = {}
        self.teams = {a.id: a.team for a in plan.org.agents}

    async def run(self) -> Result:
        """Run every action at its time; returns when all are done (or a stop was asked)."""
        started = time.monotonic()
        lanes: dict[str, asyncio.Task[None]] = {}
        stopped = False
        for index, action in enumerate(self.plan.actions):
            due = started + action.at / self.speed
            while (wait := due - time.monotonic()) > 0 and not self.should_stop():
                await asyncio.sleep(min(wait, 0.2))
            if self.should_stop():
                stopped = True
                break
            keys = self._lanes(action)
            before = [lanes[k] for k in keys if k in lanes]
            task = asyncio.create_task(self._run_one(index, action, due, before))
            for k in keys:
                lanes[k] = task
        if lanes:
            await asyncio.wait(set(lanes.values()))
        return Result(self.progress, dict(self.ids), time.monotonic() - started, stopped)

    @staticmethod
    def _lanes(action: Action) -> list[str]:
        if action.kind is Kind.AGENT_STATUS:
            return [f"agent:{action.agent}"]
        if action.kind is Kind.CREATE:
            return ["create", f"ticket:{action.ticket}"]
        return [f"ticket:{action.ticket}"]

    async def _run_one(self, index: int, action: Action, due: float,
                       before: list[asyncio.Task[None]]) -> None:
        if before:
            await asyncio.wait(before)
        async with self.semaphore:
            self.progress.max_lag_s = max(self.progress.max_lag_s, time.monotonic() - due)
            try:
                await self._execute(index, action)
                self.progress.ok[action.kind.value] += 1
            except Skip:
                self.progress.skipped[action.kind.value] += 1
            except (Refused, httpx.HTTPError) as error:
                self.progress.failed[action.kind.value] += 1
                if len(self.progress.errors) < 20:
                    self.progress.errors.append(f"{action.kind.value} {action.ticket}: {error}")
        self.progress.done += 1
        self.progress.sim_at = max(self.progress.sim_at, action.at)
        self.on_progress(self.progress)

    # --- HTTP ------------------------------------------------------------------------------

    def _agent(self, agent: str) -> dict[str, str]:
        return self.credentials.headers("agent", agent)

    def _requester(self, requester: str) -> dict[str, str]:
        return self.credentials.headers("requester", requester)

    async def _call(self, method: str, url: str, *, json: Any = None,
                    headers: dict[str, str] | None = None, key: str | None = None) -> Any:
        """One request, retried once on a transport error (with the same Idempotency-Key)."""
        headers = dict(headers or {})
        if key is not None:
            headers["Idempotency-Key"] = f"sim-{self.run_id}-{key}"
        for attempt in (1, 2):
            try:
                response = await self.client.request(method, url, json=json, headers=headers)
                break
            except httpx.TransportError:
                if attempt == 2:
                    raise
                await asyncio.sleep(0.5)
        if response.status_code >= 400:
            raise Refused(f"{method} {url.split('/v1/', 1)[-1]} -> {response.status_code}: "
                          f"{response.text[:300]}")
        return response.json() if response.content else None

    async def _command(self, ticket: str, path: str, body: Any, headers: dict[str, str],
                       key: str) -> None:
        result = await self._call("POST", f"{self.urls.intake}/v1/tickets/{self.ids[ticket]}/{path}",
                                  json=body, headers=headers, key=key)
        if isinstance(result, dict) and "ticket" in result:
            self.views[ticket] = result["ticket"]

    async def _acting_agent(self, action: Action, key: str) -> str:
        """The ticket's agent; if routing has not given it one, the planned agent picks it."""
        ticket = action.ticket or ""
        view = self.views.get(ticket, {})
        deadline = time.monotonic() + ROUTING_GRACE_S
        while view.get("agent") is None:
            view = await self._call("GET", f"{self.urls.intake}/v1/tickets/{self.ids[ticket]}",
                                    headers=self.credentials.admin())
            self.views[ticket] = view
            if view.get("agent") is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        if view.get("agent") is not None:
            return str(view["agent"])
        planned = action.agent or ""
        await self._command(ticket, "assign", {
            "team": self.teams[planned], "agent": planned, "reason": "Picked from the team queue",
        }, self._agent(planned), f"{key}-pick")
        return planned

    # --- actions ---------------------------------------------------------------------------

    async def _execute(self, index: int, action: Action) -> None:
        key, kind, data = f"{index}", action.kind, action.data
        if kind is Kind.AGENT_STATUS:
            await self._call("PUT", f"{self.urls.routing}/v1/agents/{action.agent}/status",
                             json={"status": data["status"]}, headers=self._agent(action.agent or ""))
            return
        ticket = action.ticket or ""
        if kind is Kind.CREATE:
            body = data["body"]
            created = await self._call("POST", f"{self.urls.intake}/v1/tickets", json=body,
                                       key=key, headers=self._requester(body["requester"]["id"]))
            self.ids[ticket], self.views[ticket] = created["id"], created
            self.requesters[ticket] = body["requester"]["id"]
            self.progress.tickets += 1
            return
        if ticket not in self.ids:
            raise Skip
        requester = self._requester(self.requesters[ticket])
        if kind is Kind.REQUESTER_REPLY:
            await self._command(ticket, "comments", {"body": data["body"]}, requester, key)
        elif kind is Kind.REOPEN:
            await self._command(ticket, "reopen", {"reason": data["reason"]}, requester, key)
        elif kind is Kind.CLOSE:
            await self._command(ticket, "close", None, requester, key)
        elif kind is Kind.SURVEY:
            await self._answer_survey(ticket, data)
        else:
            await self._agent_action(action, key)

    async def _agent_action(self, action: Action, key: str) -> None:
        ticket, kind, data = action.ticket or "", action.kind, action.data
        actor = self._agent(await self._acting_agent(action, key))
        if kind is Kind.REPLY:
            await self._command(ticket, "comments", {"body": data["body"], "public": True}, actor,
                                key)
        elif kind is Kind.WORK:
            await self._command(ticket, "worklogs", {"seconds": data["seconds"],
                                                     "kind": data["kind"]}, actor, key)
        elif kind is Kind.PENDING:
            await self._command(ticket, "comments", {"body": data["body"], "public": True}, actor,
                                f"{key}-ask")
            await self._command(ticket, "status", {"to_status": "pending",
                                                   "reason": "Waiting for the requester"}, actor,
                                key)
        elif kind in (Kind.HOLD, Kind.RESUME):
            status = "on_hold" if kind is Kind.HOLD else "open"
            await self._command(ticket, "status", {"to_status": status, "reason": data["reason"]},
                                actor, key)
        elif kind is Kind.TRANSFER:
            await self._command(ticket, "assign", {"team": data["team"], "agent": data["to_agent"],
                                                   "reason": data["reason"]}, actor, key)
        elif kind is Kind.ESCALATE:
            if (self.views[ticket].get("tier") or 1) >= data["to_tier"]:
                raise Skip
            await self._command(ticket, "escalate", {
                "to_tier": data["to_tier"], "reason": data["reason"], "to_team": data["team"],
                "to_agent": data["to_agent"]}, actor, key)
        elif kind is Kind.RESOLVE:
            await self._command(ticket, "resolve", {"resolution_code": data["resolution_code"]},
                                actor, key)

    async def _answer_survey(self, ticket: str, data: Any) -> None:
        """Find the survey sent for the ticket and answer the questions it asks."""
        deadline = time.monotonic() + SURVEY_WAIT_S
        while True:
            page = await self._list_sent(ticket)
            if page:
                break
            if time.monotonic() > deadline:
                raise Skip
            await asyncio.sleep(0.5)
        survey = page[0]
        token = survey_token(survey, self.survey_secret)
        form = await self._call("GET", f"{self.urls.surveys}/v1/surveys/{token}")
        answers = [{"kind": q["kind"], "score": data[q["kind"]]} for q in form["questions"]
                   if q["kind"] in data]
        body: dict[str, Any] = {"answers": answers}
        if data.get("comment"):
            body["comment"] = data["comment"]
        await self._call("POST", f"{self.urls.surveys}/v1/surveys/{token}/responses", json=body)

    async def _list_sent(self, ticket: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"{self.urls.surveys}/v1/surveys",
                                          params={"ticket_id": self.ids[ticket], "status": "sent"},
                                          headers=self.credentials.admin())
        if response.status_code >= 400:
            raise Refused(f"GET surveys -> {response.status_code}: {response.text[:300]}")
        return list(response.json()["items"])


def survey_token(survey: dict[str, Any], secret: str) -> str:
    """The link token of a listed survey: from its `link` when the API shows one, else signed.

    GET /v1/surveys does not show links (they go to the requester's mailbox), so the
    simulated requester signs the survey id with the link secret the operator passes.
    """
    link = survey.get("link")
    if isinstance(link, str) and "/s/" in link:
        return link.rsplit("/s/", 1)[1]
    from helpdesk_surveys.tokens import make_token

    return make_token(secret, uuid.UUID(survey["id"]))


async def run_plan(plan: Plan, urls: Urls, *, speed: float, survey_secret: str,
                   concurrency: int = 8, on_progress: Callable[[Progress], None] | None = None,
                   should_stop: Callable[[], bool] | None = None,
                   credentials: Credentials | None = None) -> Result:
    """Execute `plan` against the services at `urls`; see `Driver`."""
    async with httpx.AsyncClient(timeout=15.0) as client:
        driver = Driver(plan, urls, client, speed=speed, survey_secret=survey_secret,
                        concurrency=concurrency, on_progress=on_progress, should_stop=should_stop,
                        credentials=credentials)
        return await driver.run()
