"""Progress displays: a rich progress bar for `helpdesk simulate`, plain lines for `helpdesk up`."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import curve
from .driver import Progress as RunProgress
from .plan import Options


class RichProgress:
    """A progress bar over the plan's actions, showing the simulated clock and tickets."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("actions, {task.fields[tickets]} tickets"),
                            TimeElapsedColumn())
        self.task = self.bar.add_task(curve.clock(options.start), total=None, tickets=0)

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.bar.stop()

    def update(self, progress: RunProgress) -> None:
        """Show the run's counters."""
        self.bar.update(self.task, total=progress.total, completed=progress.done,
                        tickets=progress.tickets,
                        description=curve.clock(self.options.start + progress.sim_at))


def line_reporter(options: Options, emit: Callable[[str], None],
                  every_s: float = 5.0) -> Callable[[RunProgress], None]:
    """A progress callback printing one status line at most every `every_s` seconds."""
    last = [0.0]

    def update(progress: RunProgress) -> None:
        now = time.monotonic()
        if now - last[0] < every_s and progress.done < progress.total:
            return
        last[0] = now
        share = 100 * progress.done // max(1, progress.total)
        emit(f"simulation {share:3d}%  sim time {curve.clock(options.start + progress.sim_at)}  "
             f"{progress.tickets} tickets, {progress.done}/{progress.total} actions")

    return update
