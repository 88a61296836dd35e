"""Benchmark sizes: the full run (times a factor) and the smoke run for CI."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Scale:
    """Every size and duration a run uses."""

    name: str
    #: Seconds of load per throughput measurement, and the client counts to measure.
    throughput_seconds: float
    warmup_seconds: float
    clients: tuple[int, ...]
    #: Fixed ticket rates (per second) for event -> KPI latency, seconds per rate.
    latency_rates: tuple[float, ...]
    latency_seconds: float
    #: SLA: live clocks in all, of them due in one second (burst) and due spread (trickle).
    sla_clocks: int
    sla_burst: int
    sla_trickle: int
    sla_trickle_seconds: float
    #: Tickets seeded into metrics, and queries per filter.
    kpi_tickets: int
    kpi_queries: int

    def times(self, factor: float) -> Scale:
        """Sizes and durations multiplied by `factor` (rates and client counts unchanged)."""
        if factor == 1:
            return self
        return replace(
            self, name=f"{self.name} x{factor:g}",
            throughput_seconds=max(1.0, self.throughput_seconds * factor),
            latency_seconds=max(1.0, self.latency_seconds * factor),
            sla_clocks=max(10, int(self.sla_clocks * factor)),
            sla_burst=max(2, int(self.sla_burst * factor)),
            sla_trickle=max(2, int(self.sla_trickle * factor)),
            kpi_tickets=max(10, int(self.kpi_tickets * factor)),
        )


FULL = Scale(
    name="full", throughput_seconds=20, warmup_seconds=3, clients=(8, 32),
    latency_rates=(10, 100, 500), latency_seconds=10,
    sla_clocks=100_000, sla_burst=10_000, sla_trickle=1_000, sla_trickle_seconds=10,
    kpi_tickets=1_000_000, kpi_queries=5,
)

SMOKE = Scale(
    name="smoke", throughput_seconds=1.5, warmup_seconds=0, clients=(8,),
    latency_rates=(20,), latency_seconds=1.5,
    sla_clocks=200, sla_burst=50, sla_trickle=20, sla_trickle_seconds=0.5,
    kpi_tickets=2_000, kpi_queries=1,
)
