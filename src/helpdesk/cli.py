"""`helpdesk`: run the whole system, one service, migrations, topics."""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from .services import SERVICES

app = typer.Typer(help="Helpdesk: an event-sourced IT help desk.", no_args_is_help=True,
                  add_completion=False)


def _load_factory(name: str):  # type: ignore[no-untyped-def]
    spec = SERVICES[name]
    module, func = spec.factory.split(":")
    return getattr(importlib.import_module(module), func)


def _check_service(name: str) -> str:
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return name


@contextmanager
def _auth_not_needed() -> Iterator[None]:
    """Build an app only for its settings and migrations: no token verifier, so no secret needed."""
    before = os.environ.get("AUTH_ENABLED")
    os.environ["AUTH_ENABLED"] = "false"
    try:
        yield
    finally:
        if before is None:
            del os.environ["AUTH_ENABLED"]
        else:
            os.environ["AUTH_ENABLED"] = before


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="intake, routing, sla, metrics or surveys",
                                           callback=_check_service)],
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings)")] = None,
) -> None:
    """Run one service in this process (settings from its environment variables)."""
    import uvicorn

    application = _load_factory(service)()
    settings = application.state.settings
    # Modules, models and routes live as long as the process: frozen, the collector stops
    # rescanning them on every full collection (garbage collection was a quarter of sla's
    # firing CPU). Only here, in a service's own process: a frozen object that later joins
    # an unreachable cycle is never collected, fine for what a server builds once, not for a
    # test process building apps by the hundred.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        application, host=host or settings.host, port=port or settings.port,
        log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=10,
    )


@app.command()
def migrate(
    service: Annotated[list[str] | None, typer.Argument(help="Services to migrate (default: all)")] = None,
) -> None:
    """Bring each service's database to its newest migration."""
    from helpdesk_runtime.db import create_engine
    from helpdesk_runtime.migrations import upgrade

    async def run(name: str) -> None:
        with _auth_not_needed():
            application = _load_factory(name)()
        runtime = application.state.runtime
        engine = create_engine(runtime.settings.resolved_database_url())
        try:
            await upgrade(engine, runtime.migrations)
        finally:
            await engine.dispose()
        typer.echo(f"{name}: migrated")

    for name in service or list(SERVICES):
        _check_service(name)
        asyncio.run(run(name))


@app.command()
def topics(
    partitions: Annotated[int | None, typer.Option(help="Partitions per topic")] = None,
) -> None:
    """Create the event topics (and their dead-letter topics) if missing."""
    from helpdesk_events import topics as names
    from helpdesk_events.kafka import ensure_topics
    from helpdesk_runtime.settings import KafkaSettings

    kafka = KafkaSettings()
    count = partitions or kafka.partitions
    options = {k: v for k, v in kafka.client_options().items() if k != "bootstrap_servers"}
    asyncio.run(ensure_topics(kafka.bootstrap_servers, {t: count for t in names.ALL},
                              replication=kafka.replication_factor, **options))
    for name in names.ALL:
        typer.echo(f"{name} ({count} partitions) and {name}.dlq")


@app.command()
def replay(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Events per transaction")] = 500,
    after_position: Annotated[int, typer.Option(min=0, help="Resume after this global position")] = 0,
) -> None:
    """Re-publish intake's whole event store (for a broker that lost its data).

    Queues every event, in global order, in intake's outbox (INTAKE_DATABASE_URL); the running
    intake service's relay publishes them. Consumers drop the duplicates by event id.
    """
    from helpdesk_intake.config import IntakeSettings
    from helpdesk_intake.replay import queue_replay
    from helpdesk_runtime.db import create_engine

    async def run() -> None:
        engine = create_engine(IntakeSettings().resolved_database_url())
        try:
            stats = await queue_replay(engine, batch_size=batch_size, after_position=after_position)
        finally:
            await engine.dispose()
        typer.echo(f"queued {stats.queued} events (positions {stats.first_position}.."
                   f"{stats.last_position}) for re-publishing by the intake service")

    asyncio.run(run())


@app.command()
def rebuild() -> None:
    """Rebuild metrics' projections from offset 0 of every topic and switch over, with a progress bar.

    The same as `POST /v1/admin/rebuild`, on METRICS_DATABASE_URL and the KAFKA_ settings; safe
    beside a running metrics service (the switch waits until the replay has seen everything the
    live consumer handled).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from helpdesk_events import topics as names
    from helpdesk_metrics.config import MetricsSettings
    from helpdesk_metrics.rebuild import rebuild as run_rebuild, topic_records
    from helpdesk_runtime.db import create_engine

    with _auth_not_needed():
        settings = MetricsSettings()

    async def run() -> None:
        total = await topic_records(settings.kafka, names.ALL)
        engine = create_engine(settings.resolved_database_url())
        bar = Progress(TextColumn("[bold]rebuild"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("records"), TimeElapsedColumn())
        task = bar.add_task("rebuild", total=total or None)
        try:
            with bar:
                def progress(seen: int) -> None:
                    # Records published meanwhile are replayed too: the total grows with them.
                    bar.update(task, completed=seen, total=max(seen, total) or None)

                report = await run_rebuild(engine, settings.kafka, settings.name, progress=progress)
        finally:
            await engine.dispose()
        typer.echo(f"rebuilt from {report.records} records ({report.undecodable} undecodable): "
                   f"{report.tickets} tickets; switched over on attempt {report.attempts}")

    asyncio.run(run())


def _span(text: str) -> float:
    from .simulate.curve import parse_span

    try:
        return parse_span(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _week_time(text: str) -> float:
    from .simulate.curve import parse_clock

    try:
        return parse_clock(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


@app.command()
def simulate(
    duration: Annotated[str, typer.Option(help="Simulated time span, e.g. 90m, 8h, 2d")] = "8h",
    rate: Annotated[float, typer.Option(min=0, help="Tickets per simulated hour at the peak "
                                              "(Monday 10:00); other hours follow the curve")] = 30.0,
    speed: Annotated[float, typer.Option(min=0.001, help="Simulated seconds per real second "
                                                "(60: one simulated hour per real minute)")] = 60.0,
    seed: Annotated[int, typer.Option(help="Same seed, same ticket stream")] = 1,
    start: Annotated[str, typer.Option(help="Simulated start (weekday and time), e.g. 'Mon 08:00'")]
    = "Mon 08:00",
    namespace: Annotated[str, typer.Option(help="Prefix for ids and categories, to keep "
                                                "several simulations apart", show_default=False)] = "",
    intake_url: Annotated[str, typer.Option(envvar="SIM_INTAKE_URL")] = "http://localhost:8001",
    routing_url: Annotated[str, typer.Option(envvar="SIM_ROUTING_URL")] = "http://localhost:8002",
    sla_url: Annotated[str, typer.Option(envvar="SIM_SLA_URL")] = "http://localhost:8003",
    metrics_url: Annotated[str, typer.Option(envvar="SIM_METRICS_URL")] = "http://localhost:8004",
    surveys_url: Annotated[str, typer.Option(envvar="SIM_SURVEYS_URL")] = "http://localhost:8005",
    survey_link_secret: Annotated[str | None, typer.Option(
        envvar="SURVEYS_LINK_SECRET", show_default=False,
        help="The surveys service's link secret (default: its development secret)")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight")] = 8,
    token: Annotated[str | None, typer.Option(
        envvar="HELPDESK_TOKEN", show_default=False,
        help="One bearer token for every call (default: per-person tokens minted from "
             "AUTH_SECRET or var/auth-secret)")] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan's summary, call nothing")] = False,
) -> None:
    """Generate realistic help desk traffic through the services' REST APIs.

    Seeds an organisation (teams, agents, rules, SLA calendar and policies, survey policies;
    reused when present), then plays a seeded plan: arrivals by weekday and hour, agents'
    shifts, replies, work logs, transfers, escalations, resolutions, reopens, survey answers.
    """
    from .devauth import known_secret
    from .simulate import Options, build_plan
    from .simulate.credentials import Credentials
    from .simulate.runner import NotReady, simulate as run_simulation, summary_lines
    from .simulate.seeding import Urls
    from .simulate.ui import RichProgress

    options = Options(seed=seed, duration=_span(duration), rate=rate, start=_week_time(start),
                      namespace=namespace)
    if dry_run:
        plan = build_plan(options)
        kinds: dict[str, int] = {}
        for action in plan.actions:
            kinds[action.kind.value] = kinds.get(action.kind.value, 0) + 1
        typer.echo(f"{len(plan.tickets)} tickets, {len(plan.actions)} actions: "
                   + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        typer.echo(f"real time at speed {speed:g}: {options.duration / speed:.0f} s")
        return
    urls = Urls(intake=intake_url, routing=routing_url, sla=sla_url, metrics=metrics_url,
                surveys=surveys_url)
    with RichProgress(options) as display:
        try:
            outcome = asyncio.run(run_simulation(
                options, urls, speed=speed, survey_secret=survey_link_secret,
                concurrency=concurrency, on_progress=display.update,
                credentials=Credentials(token=token, secret=known_secret(Path("var")))))
        except NotReady as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
    for line in summary_lines(outcome):
        typer.echo(line)
    typer.echo(f"dashboard: {metrics_url}/dashboard   KPIs: {metrics_url}/v1/kpis")


@app.command()
def token(
    role: Annotated[str, typer.Option(help="requester, agent, supervisor, admin or integrator")],
    subject: Annotated[str, typer.Option(help="The user or system id (the acting user)")],
    team: Annotated[list[str] | None, typer.Option(help="A team a supervisor manages (repeat)")]
    = None,
    ttl: Annotated[str, typer.Option(help="Lifetime, e.g. 30m, 8h, 7d")] = "8h",
    var_dir: Annotated[Path, typer.Option(help="Where `helpdesk up` keeps its secret")] = Path("var"),
) -> None:
    """Print a development bearer token signed with AUTH_SECRET (or the embedded run's secret)."""
    from helpdesk_runtime.auth import Role

    from .devauth import dev_token, known_secret

    try:
        Role(role)
    except ValueError:
        raise typer.BadParameter(f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}",
                                 param_hint="--role") from None
    secret = known_secret(var_dir)
    if secret is None:
        typer.echo(f"no AUTH_SECRET set and no {var_dir}/auth-secret (run `helpdesk up` once)", err=True)
        raise typer.Exit(1)
    typer.echo(dev_token(secret, role, subject, teams=team or (), ttl_seconds=int(_span(ttl))))


@app.command()
def up(
    broker_port: Annotated[int, typer.Option(help="Port of the embedded broker")] = 9092,
    var_dir: Annotated[Path, typer.Option(help="Where the SQLite files and logs go")] = Path("var"),
    simulate: Annotated[bool, typer.Option(
        "--simulate/--no-simulate",
        help="Run a short traffic simulation once the services are ready (about 30 s)")] = True,
) -> None:
    """Run everything on this machine: the embedded broker, SQLite, the five services."""
    from .supervisor import DEMO_SIMULATION, run_system

    sys.exit(run_system(broker_port=broker_port, var_dir=var_dir,
                        simulation=DEMO_SIMULATION if simulate else None))


def main() -> None:
    """Entry point of the `helpdesk` command."""
    app()


if __name__ == "__main__":
    main()
