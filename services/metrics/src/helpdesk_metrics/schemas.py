"""HTTP bodies of the metrics API (responses are the report documents of reports.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TargetIn(BaseModel):
    """A KPI's target and which direction is better."""

    model_config = ConfigDict(extra="forbid")

    value: float = Field(allow_inf_nan=False, description="The target value, in the KPI's unit.")
    direction: Literal["higher", "lower"] = Field(description="Which side of the target is good.")


class CostModelIn(BaseModel):
    """Money inputs of cost_per_ticket, budget_adherence and roi."""

    model_config = ConfigDict(extra="forbid")

    default_hourly_cost: float = Field(50.0, ge=0, allow_inf_nan=False)
    agent_costs: dict[str, float] = Field(
        default_factory=dict, description="Hourly cost per agent id (overrides routing's events).")
    monthly_overhead: float = Field(0.0, ge=0, allow_inf_nan=False)
    monthly_budget: float | None = Field(None, gt=0, allow_inf_nan=False)
    value_per_resolved_ticket: float = Field(0.0, ge=0, allow_inf_nan=False)


class BaselineIn(BaseModel):
    """Explicit baseline values per KPI name (replaces the first-full-period baseline)."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, float | None]
