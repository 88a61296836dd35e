"""Settings of the routing service (environment variables prefixed `ROUTING_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from helpdesk_runtime.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    """`ROUTING_DATABASE_URL`, `ROUTING_PORT`, ...; Kafka comes from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    name: str = "routing"
    port: int = 8002
