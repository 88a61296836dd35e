"""helpdesk_sla."""
