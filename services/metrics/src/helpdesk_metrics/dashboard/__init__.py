"""The ops dashboard served by the metrics service at /dashboard."""
