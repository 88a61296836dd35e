"""helpdesk_surveys."""
