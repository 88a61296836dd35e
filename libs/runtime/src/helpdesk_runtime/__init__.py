"""helpdesk_runtime."""
