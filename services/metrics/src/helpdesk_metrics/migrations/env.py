"""Alembic environment of the metrics service."""

from helpdesk_runtime.migrations import run_env

from helpdesk_metrics.tables import metadata

run_env(metadata)
