"""`python -m bench`: run every benchmark against a spawned broker and PostgreSQL, report."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from . import kpi_queries, latency, rebuild, report, sla_expiry, throughput
from .profile import Profiler
from .result import Result
from .scale import FULL, SMOKE
from .stack import Stack, all_services

BENCHMARKS = ("throughput", "latency", "rebuild", "kpis", "memory", "sla")
IDLE_TARGET_MB = 150.0
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _timed(results: list[Result], name: str, body, work: Path | None = None) -> None:  # noqa: ANN001
    started = time.perf_counter()
    try:
        result = body()
    except Exception as exc:  # noqa: BLE001 - one failed benchmark must not hide the others
        traceback.print_exc()
        result = Result(name, error=f"{type(exc).__name__}: {exc}"[:500])
    result.seconds = time.perf_counter() - started
    results.append(result)
    if work is not None:  # so a run stopped half-way keeps what it measured
        (work / "results.json").write_text(json.dumps([asdict(r) for r in results], default=str, indent=1))
    print(f"[bench] {result.name}: {result.seconds:.1f} s{' FAILED' if result.error else ''}",
          file=sys.stderr, flush=True)


def idle_memory(stack: Stack) -> Result:
    """RSS of each service, idle after start (and of the baseline app)."""
    result = Result("Memory (RSS per service)")
    for name in all_services():
        rss, _ = stack.memory(name)
        result.add(f"{name} idle RSS", rss, "MiB", target=f"<= {IDLE_TARGET_MB:g} MiB",
                   met=rss <= IDLE_TARGET_MB)
    if "baseline" in stack.processes:
        result.add("baseline app idle RSS", stack.memory("baseline")[0], "MiB")
    return result


def peak_memory(stack: Stack, result: Result) -> Result:
    """Peak RSS (VmHWM) of each service over the whole run so far."""
    for name in all_services():
        if name in stack.processes:
            result.add(f"{name} peak RSS during the run", stack.memory(name)[1], "MiB")
    result.notes.append("idle = VmRSS a few seconds after /readyz answered 200, before any load; "
                        "peak = VmHWM at the end of the system benchmarks (after the KPI queries)")
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse options, run, append the report; non-zero exit when a benchmark failed."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI: checks it runs)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the full sizes")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, default=DOC, help="markdown file to append to")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    parser.add_argument("--python-load", action="store_true",
                        help="load from the Python generator even when wrk is installed")
    parser.add_argument("--profile", action="store_true", help="py-spy the hot paths")
    parser.add_argument("--durable", action="store_true",
                        help="PostgreSQL with fsync and synchronous_commit on (production's durability)")
    args = parser.parse_args(argv)
    scale = (SMOKE if args.smoke else FULL).times(args.scale)
    only = set(args.only.split(","))
    unknown = only - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    machine_lines = report.machine(durable=args.durable)
    work = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    print(f"[bench] scale {scale.name}; logs in {work}", file=sys.stderr, flush=True)
    profiler = Profiler(work) if args.profile else None
    use_wrk = throughput.have_wrk() and not args.python_load
    stack = Stack(work, durable=args.durable)
    results: list[Result] = []
    try:
        stack.start()
        system = only & {"throughput", "latency", "rebuild", "kpis", "memory"}
        if system:
            stack.start_services(all_services(), extra={"sla": sla_expiry.SLA_ENV})
            time.sleep(1 if args.smoke else 5)
            memory = idle_memory(stack)
            if "throughput" in only:
                _timed(results, "throughput",
                       lambda: throughput.run(stack, scale, use_wrk=use_wrk, profiler=profiler), work)
            if "latency" in only:
                _timed(results, "latency", lambda: latency.run(stack, scale), work)
            if "rebuild" in only:
                _timed(results, "rebuild", lambda: rebuild.run(stack, profiler), work)
            if "kpis" in only:
                _timed(results, "kpis", lambda: kpi_queries.run(stack, scale), work)
            if "memory" in only:
                _timed(results, "memory", lambda: peak_memory(stack, memory), work)
        if "sla" in only:
            _timed(results, "sla", lambda: sla_expiry.run(stack, scale), work)
    finally:
        stack.close()
    command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    text = report.render(results, scale=scale.name, started=started, command=command.strip(),
                         profiles=profiler.summaries if profiler else {}, machine_lines=machine_lines)
    (work / "results.json").write_text(json.dumps([asdict(r) for r in results], default=str, indent=1))
    print(text)
    if not args.no_write:
        with args.out.open("a") as out:
            out.write("\n" + text)
        print(f"[bench] appended to {args.out}", file=sys.stderr)
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
