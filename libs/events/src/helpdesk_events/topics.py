"""Topic names: the only place they are spelled."""

TICKETS = "helpdesk.tickets"
ROUTING = "helpdesk.routing"
SLA = "helpdesk.sla"
SURVEYS = "helpdesk.surveys"

ALL = (TICKETS, ROUTING, SLA, SURVEYS)


def dlq(topic: str) -> str:
    """Dead-letter topic for records of `topic` that could not be handled."""
    return f"{topic}.dlq"
