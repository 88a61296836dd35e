"""Importing the package: a complete registry, the public names, and no I/O libraries."""

from __future__ import annotations

import subprocess
import sys

import helpdesk_events
from helpdesk_events import tickets


def test_importing_the_package_registers_every_event_module() -> None:
    modules = {cls.__module__ for cls in helpdesk_events.EVENT_TYPES.values()}
    assert modules == {
        "helpdesk_events.tickets",
        "helpdesk_events.routing",
        "helpdesk_events.sla",
        "helpdesk_events.surveys",
    }
    assert tickets.TicketCreated.TYPE in helpdesk_events.EVENT_TYPES


def test_package_reexports_the_contract() -> None:
    for name in (
        "Envelope",
        "Event",
        "new_envelope",
        "EVENT_TYPES",
        "topics",
        "encode",
        "decode",
        "decode_dict",
        "envelope_to_dict",
        "envelope_to_json",
        "KafkaRecord",
        "DecodeError",
        "MalformedRecord",
        "UnknownEventType",
        "InvalidEvent",
    ):
        assert hasattr(helpdesk_events, name), name
    assert set(helpdesk_events.__all__) <= set(dir(helpdesk_events))


def test_importing_the_package_loads_neither_kafka_nor_sqlalchemy() -> None:
    code = (
        "import sys, helpdesk_events; "
        "print(sorted(m for m in ('aiokafka', 'sqlalchemy', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
