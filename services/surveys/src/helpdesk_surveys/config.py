"""Settings of the surveys service (environment variables prefixed `SURVEYS_`)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from helpdesk_runtime.settings import ServiceSettings

#: For local use only: deployments set SURVEYS_LINK_SECRET.
DEV_LINK_SECRET = "dev-only-survey-link-secret-change-me"


class SurveysSettings(ServiceSettings):
    """`SURVEYS_DATABASE_URL`, `SURVEYS_LINK_SECRET`, ...; Kafka comes from `KAFKA_*`."""

    model_config = SettingsConfigDict(env_prefix="SURVEYS_", extra="ignore")

    name: str = "surveys"
    port: int = 8005
    #: HMAC key of survey links; rotating it invalidates every outstanding link.
    link_secret: str = Field(DEV_LINK_SECRET, min_length=16)
    #: Base URL of links (`<public_url>/s/<token>`); default: this host and port.
    public_url: str = ""
    #: How often the scheduler looks for due, reminder and expired surveys.
    poll_seconds: float = Field(1.0, gt=0)
    #: Optional webhook receiving survey events (sent, responded, expired) as CloudEvents JSON.
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_max_attempts: int = Field(8, ge=1)
    webhook_backoff_seconds: float = Field(1.0, gt=0)
    webhook_timeout_seconds: float = Field(5.0, gt=0)
    #: Requests one client may make per minute to the public link endpoints (API and form,
    #: together); guards against token guessing. 0 = no limit.
    link_rate_per_minute: int = Field(1200, ge=0)

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> SurveysSettings:
        if self.webhook_url and len(self.webhook_secret) < 16:
            raise ValueError(
                "SURVEYS_WEBHOOK_SECRET (16+ characters) is required with a webhook URL"
            )
        return self

    def link_base(self) -> str:
        """Where links point: `public_url`, or this process's own address."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
