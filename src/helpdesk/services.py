"""The five services: where each app factory lives and which port it takes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    """How to find and start one service."""

    name: str
    port: int
    factory: str  # "module:function" returning a FastAPI app

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("intake", 8001, "helpdesk_intake.app:create_app"),
        ServiceSpec("routing", 8002, "helpdesk_routing.app:create_app"),
        ServiceSpec("sla", 8003, "helpdesk_sla.app:create_app"),
        ServiceSpec("metrics", 8004, "helpdesk_metrics.app:create_app"),
        ServiceSpec("surveys", 8005, "helpdesk_surveys.app:create_app"),
    )
}
