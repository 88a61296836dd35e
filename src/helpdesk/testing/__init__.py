"""Test harness: a real PostgreSQL cluster, SQLite files and a Tansu broker, as pytest fixtures and plain classes."""

from helpdesk.testing.broker import TansuBroker
from helpdesk.testing.postgres import PostgresCluster

__all__ = ["PostgresCluster", "TansuBroker"]
