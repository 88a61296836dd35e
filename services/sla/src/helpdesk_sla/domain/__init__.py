"""The SLA domain, pure: policies, clocks and the decisions ticket events and timers lead to."""
