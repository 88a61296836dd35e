"""Root conftest: the shared fixtures (PostgreSQL, SQLite, broker) for every test in the tree."""

pytest_plugins = ["helpdesk.testing.fixtures"]
