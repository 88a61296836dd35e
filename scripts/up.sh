#!/usr/bin/env bash
# Run the whole system on the embedded default: spawned broker, SQLite files under var/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/helpdesk up "$@"
