"""`helpdesk`: run the whole system, one service, migrations, topics."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import time
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
def up(
    broker_port: Annotated[int, typer.Option(help="Port of the embedded broker")] = 9092,
    var_dir: Annotated[Path, typer.Option(help="Where the SQLite files and logs go")] = Path("var"),
) -> None:
    """Run everything on this machine: the embedded broker, SQLite, the five services."""
    from .supervisor import run_system

    sys.exit(run_system(broker_port=broker_port, var_dir=var_dir))


def main() -> None:
    """Entry point of the `helpdesk` command."""
    app()


if __name__ == "__main__":
    main()
