"""Services refuse to start without a real secret; dev tokens; transport security reaches the clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from helpdesk.cli import app as cli
from helpdesk.devauth import SECRET_FILE, embedded_secret
from helpdesk.supervisor import auth_secret_for, service_env
from helpdesk_intake.app import create_app
from helpdesk_intake.config import IntakeSettings
from helpdesk_runtime.auth import AuthSettings, Role, TokenVerifier
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.settings import KafkaSettings

DB = "sqlite+aiosqlite:///unused.db"


@pytest.mark.parametrize("secret", [None, "", "changeme", "secret", "too-short"])
def test_a_service_refuses_to_start_without_a_real_secret(secret: str | None) -> None:
    auth = AuthSettings(secret=SecretStr(secret) if secret is not None else None)
    with pytest.raises(ValueError, match="AUTH_SECRET"):
        create_app(IntakeSettings(database_url=DB, auth=auth))


def test_auth_is_off_only_when_switched_off_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_SECRET", raising=False)
    monkeypatch.setenv("AUTH_ENABLED", "false")
    app = create_app(IntakeSettings(database_url=DB))
    assert app.state.token_verifier is None
    monkeypatch.delenv("AUTH_ENABLED")
    with pytest.raises(ValueError):
        create_app(IntakeSettings(database_url=DB))
    monkeypatch.setenv("AUTH_SECRET", "s" * 40)
    assert create_app(IntakeSettings(database_url=DB)).state.token_verifier is not None


def test_helpdesk_token_mints_what_the_services_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_SECRET", "k" * 40)
    result = CliRunner().invoke(cli, ["token", "--role", "supervisor", "--subject", "sam",
                                      "--team", "network", "--team", "desk", "--ttl", "30m"])
    assert result.exit_code == 0, result.output
    principal = TokenVerifier(AuthSettings(secret=SecretStr("k" * 40))).verify(result.output.strip())
    assert (principal.subject, principal.roles, principal.teams) == (
        "sam", frozenset({Role.SUPERVISOR}), frozenset({"network", "desk"}))
    refused = CliRunner().invoke(cli, ["token", "--role", "wizard", "--subject", "x"])
    assert refused.exit_code != 0


def test_helpdesk_token_uses_the_embedded_runs_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTH_SECRET", raising=False)
    missing = CliRunner().invoke(cli, ["token", "--role", "admin", "--subject", "a",
                                       "--var-dir", str(tmp_path)])
    assert missing.exit_code == 1
    secret = embedded_secret(tmp_path)
    result = CliRunner().invoke(cli, ["token", "--role", "admin", "--subject", "a",
                                      "--var-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert TokenVerifier(AuthSettings(secret=SecretStr(secret))).verify(result.output.strip())


def test_the_embedded_run_generates_its_secret_once_and_passes_it_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTH_SECRET", raising=False)
    monkeypatch.delenv("AUTH_ENABLED", raising=False)
    first = auth_secret_for(tmp_path)
    assert first is not None and len(first) >= 32
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o077 == 0
    assert auth_secret_for(tmp_path) == first
    env = service_env("intake", bootstrap="b:9092", var_dir=tmp_path, base={}, auth_secret=first)
    assert env["AUTH_SECRET"] == first
    AuthSettings(secret=SecretStr(first)).check()
    monkeypatch.setenv("AUTH_ENABLED", "false")
    assert auth_secret_for(tmp_path) is None


def test_kafka_sasl_ssl_settings_reach_the_client_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9093")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_PLAIN_USERNAME", "intake")
    monkeypatch.setenv("KAFKA_SASL_PLAIN_PASSWORD", "pw")
    options = IntakeSettings(database_url=DB).kafka.client_options()
    assert options["bootstrap_servers"] == "kafka-1:9093"
    assert (options["security_protocol"], options["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("intake", "pw")
    assert options["ssl_context"] is not None
    assert "ssl_context" not in KafkaSettings(security_protocol="PLAINTEXT").client_options()


def test_postgres_ssl_in_the_url_reaches_asyncpg() -> None:
    engine = create_engine("postgresql+asyncpg://u:p@db.example:5432/intake?ssl=verify-full")
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    assert kwargs["ssl"] == "verify-full"
