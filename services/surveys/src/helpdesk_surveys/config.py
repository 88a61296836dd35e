"""Settings of the surveys service (environment variables prefixed `SURVEYS_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from helpdesk_runtime.settings import ServiceSettings


class SurveysSettings(ServiceSettings):
    """`SURVEYS_DATABASE_URL`, `SURVEYS_PORT`, ...; Kafka comes from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="SURVEYS_", extra="ignore")

    name: str = "surveys"
    port: int = 8005
