"""py-spy sampling of a service during a benchmark: the top frames, self and inclusive."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Profile:
    """One py-spy recording in progress."""

    label: str
    path: Path
    process: subprocess.Popen[bytes]


@dataclass
class Profiler:
    """Starts py-spy recordings and keeps their summaries."""

    out_dir: Path
    summaries: dict[str, dict] = field(default_factory=dict)

    @staticmethod
    def binary() -> str | None:
        """py-spy next to this interpreter, or on PATH."""
        local = Path(sys.executable).with_name("py-spy")
        return str(local) if local.exists() else shutil.which("py-spy")

    def start(self, label: str, pid: int, seconds: float) -> Profile | None:
        """Record `pid` for `seconds` (100 Hz, collapsed stacks, GIL-idle samples dropped)."""
        binary = self.binary()
        if binary is None:
            return None
        path = self.out_dir / f"profile-{label}.txt"
        proc = subprocess.Popen(
            [binary, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
             "--rate", "100", "--format", "raw", "--output", str(path), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return Profile(label, path, proc)

    def finish(self, profile: Profile | None, top: int = 12) -> None:
        """Wait for the recording and summarise it."""
        if profile is None:
            return
        try:
            profile.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            profile.process.kill()
        if profile.path.exists():
            self.summaries[profile.label] = summarize(profile.path.read_text(), top)


def summarize(collapsed: str, top: int = 12) -> dict:
    """Top frames by self samples and by inclusive samples, as % of all samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    pct = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "self": [(f, pct(n)) for f, n in own.most_common(top)],
        "inclusive": [(f, pct(n)) for f, n in inclusive.most_common(top * 4)
                      if not _generic(f)][:top],
    }


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module.py)": lines vary, modules do not.
    name, _, where = frame.partition(" (")
    module = where.rstrip(")").rsplit(":", 1)[0]
    parts = module.split("/")
    shown = "/".join(parts[-2:]) if len(parts) > 1 else module
    return f"{name} ({shown})"


def _generic(frame: str) -> bool:
    """Frames every stack passes through (event loop, uvicorn, starlette plumbing)."""
    return any(s in frame for s in ("asyncio/", "uvloop", "<module>", "run (", "_run_once",
                                    "run_forever", "run_until_complete", "serve ", "main ("))
