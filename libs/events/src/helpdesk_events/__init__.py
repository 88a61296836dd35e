"""The Helpdesk event contract: envelope, event types, topics and codec.

Importing the package imports every event module, so `EVENT_TYPES` is complete.
Kafka I/O, outbox, inbox and event store live in submodules imported on demand.
"""

from helpdesk_events import routing, sla, surveys, tickets, topics
from helpdesk_events.codec import (
    DecodeError,
    InvalidEvent,
    KafkaRecord,
    MalformedRecord,
    UnknownEventType,
    decode,
    decode_dict,
    encode,
    envelope_to_dict,
    envelope_to_json,
)
from helpdesk_events.envelope import EVENT_TYPES, Envelope, Event, new_envelope

__all__ = [
    "EVENT_TYPES",
    "DecodeError",
    "Envelope",
    "Event",
    "InvalidEvent",
    "KafkaRecord",
    "MalformedRecord",
    "UnknownEventType",
    "decode",
    "decode_dict",
    "encode",
    "envelope_to_dict",
    "envelope_to_json",
    "new_envelope",
    "routing",
    "sla",
    "surveys",
    "tickets",
    "topics",
]
