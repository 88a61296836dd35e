"""Alembic environment of the surveys service."""

from helpdesk_runtime.migrations import run_env

from helpdesk_surveys.tables import metadata

run_env(metadata)
