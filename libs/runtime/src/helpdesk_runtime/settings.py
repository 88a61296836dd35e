"""Settings shared by every service: one class per service, each with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .auth import AuthSettings


class KafkaSettings(BaseSettings):
    """Broker connection, shared by all services (env prefix `KAFKA_`)."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    #: Idempotent producers need real Kafka; the embedded Tansu broker refuses them.
    enable_idempotence: bool = False
    partitions: int = Field(default=3, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)
    #: A crashed consumer's partitions move to a live one after this long (rejoin costs ~2x on Tansu).
    session_timeout_ms: int = Field(default=6000, ge=1000)
    heartbeat_interval_ms: int = Field(default=1000, ge=100)
    #: How long the broker may hold a fetch that found nothing. Tansu does not answer a held
    #: fetch when a record arrives: records reached a consumer 136 ms late at p50 (250 ms
    #: max) with aiokafka's default of 500, 27 ms (59 ms max) at 100, 11 ms (15 ms max) at 20;
    #: but the idle fetches cost Tansu 45, 130 and 308 ms of CPU per second for the five
    #: services (2026-12-02). Apache Kafka answers a held fetch at once: raise it there.
    fetch_max_wait_ms: int = Field(default=100, ge=1, le=10_000)
    # Transport security passes straight through to aiokafka.
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def client_options(self) -> dict[str, object]:
        """Keyword arguments for aiokafka clients (bootstrap and security)."""
        options: dict[str, object] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_plain_username
            options["sasl_plain_password"] = self.sasl_plain_password
        if self.security_protocol in ("SSL", "SASL_SSL"):
            import ssl

            from aiokafka.helpers import create_ssl_context

            context: ssl.SSLContext = create_ssl_context(
                cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
            )
            options["ssl_context"] = context
        return options


class OutboxSettings(BaseSettings):
    """The relay's published log (env `OUTBOX_*`): how long acknowledged envelopes are kept."""

    model_config = SettingsConfigDict(env_prefix="OUTBOX_", extra="ignore")

    #: Published envelopes are kept this long for `POST /v1/admin/republish`, then pruned.
    retention_hours: float = Field(default=72.0, gt=0, le=24 * 366)
    #: Seconds between prunes of the published log.
    prune_interval_seconds: float = Field(default=300.0, gt=0)


class ServiceSettings(BaseSettings):
    """What every service needs; subclasses set `env_prefix` (e.g. `INTAKE_`) and defaults."""

    model_config = SettingsConfigDict(extra="ignore")

    #: Service name; also the Kafka consumer group and the CloudEvents `source`.
    name: str
    host: str = "127.0.0.1"
    port: int
    #: `sqlite+aiosqlite:///var/<name>.db` (embedded) or `postgresql+asyncpg://...`.
    database_url: str = ""
    var_dir: Path = Path("var")
    migrate_on_start: bool = True
    log_level: str = "INFO"
    log_json: bool = True
    #: Handler attempts before a record goes to the dead-letter topic.
    consumer_max_retries: int = Field(default=3, ge=0)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    #: Bearer-token verification (env `AUTH_*`); `AuthSettings(enabled=False)` only for tests/dev.
    auth: AuthSettings = Field(default_factory=AuthSettings)

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under `var_dir`."""
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.var_dir / f'{self.name}.db').resolve()}"
