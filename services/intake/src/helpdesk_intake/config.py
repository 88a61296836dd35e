"""Settings of the intake service (environment variables prefixed `INTAKE_`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from helpdesk_runtime.settings import ServiceSettings

from .rules import DEFAULT_AUTO_CLOSE_DELAY, DEFAULT_REOPEN_WINDOW, Policy


class IntakeSettings(ServiceSettings):
    """`INTAKE_DATABASE_URL`, `INTAKE_PORT`, `INTAKE_AUTO_CLOSE_AFTER_SECONDS`, ...; Kafka from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    name: str = "intake"
    port: int = 8001
    #: A resolved ticket closes automatically (as the system actor) this long after its resolution.
    auto_close_after_seconds: int = Field(
        default=int(DEFAULT_AUTO_CLOSE_DELAY.total_seconds()), ge=0
    )
    #: How long after its resolution a ticket may still be reopened.
    reopen_window_seconds: int = Field(default=int(DEFAULT_REOPEN_WINDOW.total_seconds()), ge=0)
    #: How often the auto-close job looks for due tickets.
    auto_close_interval_seconds: float = Field(default=60.0, gt=0)
    #: Tickets closed per auto-close pass at most (the next pass takes the rest).
    auto_close_batch: int = Field(default=200, ge=1)
    #: Events copied to the outbox per transaction by a replay.
    replay_batch_size: int = Field(default=500, ge=1, le=10_000)
    #: Idempotency-Key records older than this are forgotten (a later retry runs again).
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    #: Largest accepted request body (413 above it); fits every field at its limit, even escaped.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: Tickets one caller (token subject, else address) may create per minute; 0 = no limit.
    create_rate_per_minute: int = Field(default=3000, ge=0)

    def policy(self) -> Policy:
        """The domain's time rules from these settings."""
        return Policy(
            reopen_window=timedelta(seconds=self.reopen_window_seconds),
            auto_close_delay=timedelta(seconds=self.auto_close_after_seconds),
        )
