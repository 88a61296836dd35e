"""Test harness: real PostgreSQL, SQLite and a Tansu broker, as pytest fixtures and classes."""

from helpdesk.testing.broker import TansuBroker
from helpdesk.testing.postgres import PostgresCluster

__all__ = ["PostgresCluster", "TansuBroker"]
