"""Which database errors mean "wait and retry" (503 / transient) rather than "this is a bug"."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from helpdesk_events.kafka import is_transient
from helpdesk_runtime.db import is_unavailable


class _DriverError(Exception):
    """Stands in for SQLAlchemy's asyncpg adapter error, which carries the SQLSTATE."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def dbapi_error(sqlstate: str | None, cls: type[DBAPIError] = DBAPIError) -> DBAPIError:
    return cls("SELECT 1", {}, _DriverError(sqlstate))


@pytest.mark.parametrize("sqlstate", ["57P01", "57P02", "57P03", "53300", "08006", "08001"])
def test_a_database_that_refuses_connections_is_unavailable_and_transient(sqlstate: str) -> None:
    error = dbapi_error(sqlstate)
    assert is_unavailable(error)
    assert is_transient(error)


@pytest.mark.parametrize("error", [ConnectionRefusedError(111, "refused"), dbapi_error(None, OperationalError)])
def test_connection_failures_are_unavailable_and_transient(error: Exception) -> None:
    assert is_unavailable(error)
    assert is_transient(error)


def test_a_serialization_failure_is_retried_but_is_no_outage() -> None:
    assert is_transient(dbapi_error("40001"))
    assert not is_unavailable(dbapi_error("40001"))


@pytest.mark.parametrize("error", [dbapi_error("23505", IntegrityError), dbapi_error("42P01"),
                                   dbapi_error(None), ValueError("bad record")])
def test_errors_of_the_record_or_the_query_are_neither(error: Exception) -> None:
    assert not is_unavailable(error)
    assert not is_transient(error)
