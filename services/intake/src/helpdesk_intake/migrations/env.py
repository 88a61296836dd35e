"""Alembic environment of the intake service."""

from helpdesk_runtime.migrations import run_env

from helpdesk_intake.tables import metadata

run_env(metadata)
