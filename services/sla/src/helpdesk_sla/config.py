"""Settings of the sla service (environment variables prefixed `SLA_`)."""

from __future__ import annotations

from helpdesk_runtime.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class SlaSettings(ServiceSettings):
    """`SLA_DATABASE_URL`, `SLA_PORT`, ...; Kafka comes from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore")

    name: str = "sla"
    port: int = 8003

    #: Due timers fired per transaction.
    timer_batch_size: int = 200
    #: Claimers firing a backlog of due timers side by side (PostgreSQL only).
    timer_claimers: int = 4
    #: Longest sleep of the scheduler without a wake (timers written by another instance).
    scheduler_max_sleep: float = 30.0
