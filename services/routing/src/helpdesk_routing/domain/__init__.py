"""Routing's pure domain: rules, strategies, queues, escalation and transfer (no I/O)."""
