"""Alembic environment of the sla service."""

from helpdesk_runtime.migrations import run_env
from helpdesk_sla.tables import metadata

run_env(metadata)
