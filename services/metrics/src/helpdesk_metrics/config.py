"""Settings of the metrics service (environment variables prefixed `METRICS_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from helpdesk_runtime.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    """`METRICS_DATABASE_URL`, `METRICS_PORT`, ...; Kafka comes from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore")

    name: str = "metrics"
    port: int = 8004
