"""Settings of the intake service (environment variables prefixed `INTAKE_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from helpdesk_runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """`INTAKE_DATABASE_URL`, `INTAKE_PORT`, ...; Kafka comes from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    name: str = "intake"
    port: int = 8001
