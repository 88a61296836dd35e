"""Settings of the sla service (environment variables prefixed `SLA_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from helpdesk_runtime.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    """`SLA_DATABASE_URL`, `SLA_PORT`, ...; Kafka comes from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore")

    name: str = "sla"
    port: int = 8003
