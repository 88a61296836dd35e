"""helpdesk_metrics."""
