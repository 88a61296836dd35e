"""helpdesk_routing."""
