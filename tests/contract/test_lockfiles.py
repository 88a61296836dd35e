"""requirements.lock (for plain pip) says exactly what uv.lock says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ["export", "--frozen", "--no-hashes", "--all-packages", "--no-dev", "--no-header", "--no-annotate"]


def test_requirements_lock_matches_uv_lock() -> None:
    uv = Path(sys.executable).parent / "uv"
    exported = subprocess.run([str(uv), *EXPORT], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    assert (ROOT / "requirements.lock").read_text() == exported, (
        "requirements.lock is stale: run `uv export " + " ".join(EXPORT[1:]) + " -o requirements.lock`"
    )
