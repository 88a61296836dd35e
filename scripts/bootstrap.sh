#!/usr/bin/env bash
# Shared by up.sh and test.sh: install uv (pinned) and the locked environment into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
UV_VERSION=0.13.8
if ! python3 -m uv --version 2>/dev/null | grep -q "$UV_VERSION"; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
python3 -m uv sync --frozen --all-packages "$@"
