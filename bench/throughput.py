"""Durable ticket creates/s through intake's HTTP API versus a bare FastAPI + asyncpg insert."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import orjson

from .profile import Profiler
from .result import Result
from .scale import Scale
from .stack import Stack, all_services, cpu_seconds, python_module

LUA = Path(__file__).with_name("wrk_create.lua")
BODY = orjson.dumps({
    "subject": "VPN drops every 10 minutes",
    "description": "Since this morning the VPN client disconnects every ten minutes.",
    "requester": {"id": "u-bench", "email": "bench@example.com", "org": "Finance"},
    "channel": "email", "type": "incident", "impact": "medium", "urgency": "high",
}).decode()
TARGET_RATIO = 0.5
TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0


def load(url: str, token: str, clients: int, seconds: float, *, use_wrk: bool) -> dict:
    """One closed-loop load run from a second process: rate, 201 count and latency (ms)."""
    if use_wrk:
        threads = max(1, min(2, clients))
        env = {**os.environ, "BENCH_BODY": BODY, "BENCH_TOKEN": token}
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", str(LUA), f"{url}/v1/tickets"],
            env=env, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
        raw = orjson.loads(out.split("BENCH_JSON ", 1)[1].splitlines()[0])
        elapsed = raw["duration_us"] / 1e6
        return {"tool": "wrk", "rate": raw["created"] / elapsed, "created": raw["created"],
                "other": raw["other"] + raw["errors"], "p50": raw["p50_us"] / 1000,
                "p90": raw["p90_us"] / 1000, "p99": raw["p99_us"] / 1000, "max": raw["max_us"] / 1000}
    out = subprocess.run(
        python_module("bench.httpload", "closed", "--url", f"{url}/v1/tickets", "--token", token,
                      "--body", BODY, "--clients", str(clients), "--duration", str(seconds)),
        capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    raw = orjson.loads(out.split("BENCH_JSON ", 1)[1].splitlines()[0])
    created = raw["statuses"].get("201", 0)
    return {"tool": "python", "rate": created / raw["elapsed_s"], "created": created,
            "other": raw["count"] - created, "p50": raw["p50"], "p90": raw["p90"],
            "p99": raw["p99"], "max": raw["max"]}


def run(stack: Stack, scale: Scale, *, use_wrk: bool, profiler: Profiler | None) -> Result:
    """Baseline then intake, at each client count, with all five services running."""
    result = Result("Ticket creates through intake's HTTP API")
    token = stack.token()
    if "baseline" not in stack.processes:
        from helpdesk.testing.processes import free_port

        from .stack import plain_dsn
        port = free_port()
        dsn = plain_dsn(stack.create_database("bench_baseline"))
        stack.start_process("baseline", python_module("bench.baseline_app", "--dsn", dsn,
                                                       "--port", str(port)),
                            f"http://127.0.0.1:{port}")
    result.notes.append(register_desk(stack, token))
    tool = "wrk" if use_wrk else "python (bench.httpload, second process)"
    result.notes.append(f"load generator: {tool}; closed loop, each client sends its next POST "
                        f"when the last was answered; {scale.throughput_seconds:g} s per run "
                        f"after a {scale.warmup_seconds:g} s warm-up; baseline first, then intake")
    spent: dict[str, float] = {}
    for clients in scale.clients:
        figures = {}
        for target in ("baseline", "intake"):
            url = stack.urls[target]
            before = stack.component_cpu() if target == "intake" else None
            if scale.warmup_seconds > 0:
                load(url, token, clients, scale.warmup_seconds, use_wrk=use_wrk)
            profile = None
            if profiler is not None and target == "intake" and clients == scale.clients[-1]:
                profile = profiler.start("intake", stack.processes["intake"].pid,
                                         scale.throughput_seconds)
            pid = stack.processes[target].pid
            cpu, system = cpu_seconds(pid), services_cpu(stack)
            figures[target] = load(url, token, clients, scale.throughput_seconds, use_wrk=use_wrk)
            made = max(figures[target]["created"], 1)
            figures[target]["cpu_ms"] = (cpu_seconds(pid) - cpu) * 1000 / made
            figures[target]["system_cpu_ms"] = (services_cpu(stack) - system) * 1000 / made
            if profile is not None:
                profiler.finish(profile)
            if before is not None:
                _add_spent(spent, before, stack.component_cpu())
        base, mine = figures["baseline"], figures["intake"]
        result.add(f"creates/s, {clients} clients", mine["rate"], "1/s", baseline=base["rate"],
                   target=f">= {TARGET_RATIO}x baseline and >= {TARGET_RATE:,.0f}/s",
                   met=mine["rate"] >= TARGET_RATIO * base["rate"] and mine["rate"] >= TARGET_RATE)
        result.add(f"server CPU per create, {clients} clients", mine["cpu_ms"], "ms",
                   baseline=base["cpu_ms"])
        result.add(f"five services' CPU per create during the load, {clients} clients",
                   mine["system_cpu_ms"], "ms")
        for q in ("p50", "p90", "p99"):
            result.add(f"latency {q}, {clients} clients", mine[q], "ms", baseline=base[q],
                       target=f"<= {TARGET_P99_MS:g} ms" if q == "p99" else "",
                       met=(mine[q] <= TARGET_P99_MS) if q == "p99" else None)
        if mine["other"] or base["other"]:
            result.notes.append(f"{clients} clients: non-201 answers or errors: intake "
                                f"{mine['other']}, baseline {base['other']}")
    before = stack.component_cpu()
    note, tickets = catch_up(stack)
    result.notes.append(note)
    _add_spent(spent, before, stack.component_cpu())
    result.notes.append(cpu_per_ticket_note(spent, tickets))
    return result


def _add_spent(spent: dict[str, float], before: dict[str, float], after: dict[str, float]) -> None:
    for key in after.keys() & before.keys():
        spent[key] = spent.get(key, 0.0) + after[key] - before[key]


def cpu_per_ticket_note(spent: dict[str, float], tickets: int) -> str:
    """Where a created ticket's CPU goes: each component's ms per ticket, load and drain."""
    parts = {k: v * 1000 / max(tickets, 1) for k, v in spent.items()}
    listed = ", ".join(f"{k} {v:.2f} ms" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
    return (f"CPU per created ticket during the intake runs (warm-ups included) and the drain "
            f"after them, {tickets:,} tickets: {listed}; total {sum(parts.values()):.2f} ms "
            f"(PostgreSQL: postmaster and live backends)")


DESK_AGENTS = 20
DESK_CAPACITY = 1000


def register_desk(stack: Stack, token: str) -> str:
    """A tier-1 team and online agents in routing, so every created ticket is assigned.

    Without them routing decides nothing and no assignment flows back through intake to the
    other services: the pipeline would do less per ticket than a real desk's.
    """
    import httpx

    url, headers = stack.urls["routing"], {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30, headers=headers) as client:
        client.post(f"{url}/v1/teams", json={"id": "desk", "name": "Desk", "tier": 1}).raise_for_status()
        for i in range(DESK_AGENTS):
            client.post(f"{url}/v1/agents", json={
                "id": f"bench-agent-{i:02d}", "name": f"Agent {i}", "teams": ["desk"], "tier": 1,
                "capacity": DESK_CAPACITY, "status": "online"}).raise_for_status()
    return (f"routing knows one tier-1 team with {DESK_AGENTS} online agents of capacity "
            f"{DESK_CAPACITY} each, so created tickets are assigned (the assignment flows back "
            f"through intake to sla, metrics and surveys)")


def services_cpu(stack: Stack) -> float:
    """CPU seconds used so far by the five service processes together."""
    return sum(cpu_seconds(stack.processes[name].pid) for name in all_services()
               if name in stack.processes)


def catch_up(stack: Stack) -> tuple[str, int]:
    """How long after the load metrics took to hold every ticket intake created, assigned;
    how many."""
    import asyncio

    import asyncpg

    from .stack import plain_dsn

    async def counts() -> tuple[int, int]:
        intake = await asyncpg.connect(plain_dsn(stack.databases["bench_intake"]))
        metrics = await asyncpg.connect(plain_dsn(stack.databases["bench_metrics"]))
        try:
            made = await intake.fetchval("SELECT count(*) FROM tickets")
            # Assigned in metrics: routing decided, intake applied the decision, and its
            # TicketAssigned reached metrics. Counting rows alone ended the drain before
            # intake had applied most decisions, leaving that work out of the CPU figures.
            seen = await metrics.fetchval(
                "SELECT count(*) FROM ticket_facts WHERE team IS NOT NULL")
            return int(made), int(seen)
        finally:
            await intake.close()
            await metrics.close()

    started, cpu = time.monotonic(), services_cpu(stack)
    made, seen = asyncio.run(counts())
    while seen < made and time.monotonic() - started < 180:
        time.sleep(0.5)
        made, seen = asyncio.run(counts())
    return (f"after the load, metrics held all {made:,} tickets intake created, assigned, within "
            f"{time.monotonic() - started:.1f} s (the downstream pipeline's backlog), using "
            f"{services_cpu(stack) - cpu:.1f} s more CPU of the five services"
            if seen >= made else f"metrics still behind after 180 s: {seen:,} of {made:,} "
            f"assigned"), made


def have_wrk() -> bool:
    """True when wrk is installed."""
    return shutil.which("wrk") is not None
