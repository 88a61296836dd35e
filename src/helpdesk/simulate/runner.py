"""One simulation end to end: check the services, seed the organisation, run the plan."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields

import httpx

from . import curve
from .credentials import Credentials
from .driver import Progress, Result, run_plan
from .plan import Options, Plan, build_plan
from .seeding import SeedReport, Urls, seed


def default_survey_secret() -> str:
    """The survey link secret: SURVEYS_LINK_SECRET, else the services' development default."""
    from helpdesk_surveys.config import DEV_LINK_SECRET

    return os.environ.get("SURVEYS_LINK_SECRET", DEV_LINK_SECRET)


class NotReady(RuntimeError):
    """A service did not answer its readiness probe."""


@dataclass(frozen=True)
class Outcome:
    """The plan, what seeding did, and what the run did."""

    plan: Plan
    seeded: SeedReport
    result: Result


async def check_ready(client: httpx.AsyncClient, urls: Urls) -> None:
    """Raise NotReady naming each service whose /readyz is not 200."""
    bad = []
    for f in fields(urls):
        url = getattr(urls, f.name)
        try:
            if (await client.get(f"{url}/readyz")).status_code != 200:
                bad.append(f"{f.name} ({url})")
        except httpx.HTTPError:
            bad.append(f"{f.name} ({url})")
    if bad:
        raise NotReady(f"not ready: {', '.join(bad)}; start them with `helpdesk up`")


async def simulate(options: Options, urls: Urls, *, speed: float, survey_secret: str | None = None,
                   concurrency: int = 8, on_progress: Callable[[Progress], None] | None = None,
                   should_stop: Callable[[], bool] | None = None,
                   credentials: Credentials | None = None) -> Outcome:
    """Plan, seed and run one simulation against the services at `urls`.

    Without `credentials`, tokens are minted from AUTH_SECRET when it is set.
    """
    plan = build_plan(options)
    credentials = credentials or Credentials(secret=os.environ.get("AUTH_SECRET"))
    async with httpx.AsyncClient(timeout=15.0, headers=credentials.admin()) as client:
        await check_ready(client, urls)
        seeded = await seed(client, urls, plan.org)
    result = await run_plan(plan, urls, speed=speed,
                            survey_secret=survey_secret or default_survey_secret(),
                            concurrency=concurrency, on_progress=on_progress,
                            should_stop=should_stop, credentials=credentials)
    return Outcome(plan, seeded, result)


def summary_lines(outcome: Outcome) -> list[str]:
    """A short human summary of a finished run."""
    plan, result, progress = outcome.plan, outcome.result, outcome.result.progress
    start = plan.options.start
    lines = [
        f"simulated {curve.clock(start)} .. {curve.clock(start + plan.options.duration)} "
        f"(seed {plan.options.seed}) in {result.elapsed_s:.1f} s real"
        + (" - stopped early" if result.stopped else ""),
        f"organisation: {len(outcome.seeded.created)} created, "
        f"{len(outcome.seeded.reused)} reused",
        f"tickets created: {progress.tickets} of {len(plan.tickets)} planned",
        "actions: " + ", ".join(f"{k} {v}" for k, v in sorted(progress.ok.items())),
    ]
    if progress.skipped:
        lines.append("skipped (no longer applicable): "
                     + ", ".join(f"{k} {v}" for k, v in sorted(progress.skipped.items())))
    if progress.failed:
        lines.append("refused: " + ", ".join(f"{k} {v}" for k, v in sorted(progress.failed.items())))
        lines.extend(f"  {e}" for e in progress.errors[:5])
    lines.append(f"largest delay behind schedule: {max(0.0, progress.max_lag_s):.1f} s")
    return lines
