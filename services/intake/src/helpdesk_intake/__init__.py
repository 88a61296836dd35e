"""helpdesk_intake."""
