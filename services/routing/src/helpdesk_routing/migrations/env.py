"""Alembic environment of the routing service."""

from helpdesk_runtime.migrations import run_env

from helpdesk_routing.tables import metadata

run_env(metadata)
