"""The only (de)serialiser of events: envelopes to Kafka records and back.

On Kafka an event travels in CloudEvents *structured* mode: the record value is the
whole envelope as JSON (`application/cloudevents+json`) and is authoritative. The
`ce_*` headers repeat the envelope attributes so consumers can filter or route a record
without parsing its value; decoding never reads them. The key is the envelope subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

import orjson
from pydantic import ValidationError

from helpdesk_events.envelope import EVENT_TYPES, Envelope

CONTENT_TYPE = "application/cloudevents+json"

#: Attributes a record must carry; everything else in the envelope has a default.
_REQUIRED = ("specversion", "id", "source", "type", "subject", "time", "data")
_REQUIRED_SET = frozenset(_REQUIRED)
#: Envelope attributes read from a record; other (unknown) extensions are ignored.
_ATTRIBUTES = (
    "id",
    "source",
    "type",
    "subject",
    "time",
    "specversion",
    "datacontenttype",
    "sequence",
    "correlationid",
    "causationid",
)
_KNOWN_SET = frozenset((*_ATTRIBUTES, "data"))
_validate_envelope = Envelope.__pydantic_validator__.validate_python
#: Optional extensions: absent from the JSON and the headers when unset.
_EXTENSIONS = ("sequence", "correlationid", "causationid")
_HEADER_ATTRIBUTES = ("id", "type", "source", "subject", "time", "specversion", *_EXTENSIONS)


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What a producer sends: topic, key (the subject), value (the envelope JSON), headers."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


class DecodeError(ValueError):
    """A record that cannot become an Envelope (send it to the dead-letter topic)."""


class MalformedRecord(DecodeError):
    """Not JSON, not a JSON object, or an envelope attribute is missing."""


class UnknownEventType(DecodeError):
    """The envelope `type` names no registered event class."""

    def __init__(self, event_type: object) -> None:
        super().__init__(f"unknown event type {event_type!r}")
        self.event_type = event_type


class InvalidEvent(DecodeError):
    """An attribute or a `data` field does not match the event class; `field` is its dotted path."""

    def __init__(self, event_type: str, field: str, message: str) -> None:
        super().__init__(f"invalid {event_type} event: {field}: {message}")
        self.event_type = event_type
        self.field = field
        self.message = message


def envelope_to_dict(envelope: Envelope) -> dict[str, Any]:
    """The envelope as a JSON-ready dict (structured-mode CloudEvent, unset extensions left out)."""
    unset = {name for name in _EXTENSIONS if getattr(envelope, name) is None}
    return envelope.model_dump(mode="json", exclude=unset)


def envelope_to_json(envelope: Envelope) -> bytes:
    """The envelope as structured-mode CloudEvents JSON bytes."""
    return orjson.dumps(envelope_to_dict(envelope))


def encode(envelope: Envelope) -> KafkaRecord:
    """The Kafka record for `envelope`: the event class's topic, keyed by the subject."""
    event_class = type(envelope.data)
    if envelope.type != event_class.TYPE:
        raise ValueError(
            f"envelope type {envelope.type!r} does not match its data class "
            f"{event_class.__name__} ({event_class.TYPE!r})"
        )
    body = envelope_to_dict(envelope)
    headers = [
        (f"ce_{name}", str(body[name]).encode()) for name in _HEADER_ATTRIBUTES if name in body
    ]
    headers.append(("content-type", CONTENT_TYPE.encode()))
    return KafkaRecord(
        topic=event_class.TOPIC,
        key=envelope.subject.encode(),
        value=orjson.dumps(body),
        headers=tuple(headers),
    )


def decode(value: bytes | bytearray | memoryview | str) -> Envelope:
    """The Envelope in a record value; raises a DecodeError subclass if it is not a valid event."""
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise MalformedRecord(f"record value is not JSON: {exc}") from None
    return decode_dict(document)


def decode_dict(document: Any) -> Envelope:
    """The Envelope in an already parsed structured-mode CloudEvent (e.g. a JSON column)."""
    if not isinstance(document, dict):
        raise MalformedRecord(f"record value is not a JSON object but {type(document).__name__}")
    keys = document.keys()
    if not keys >= _REQUIRED_SET:
        _raise_missing(document)
    event_type = document["type"]
    if not isinstance(event_type, str):
        raise MalformedRecord(f"envelope attribute 'type' is not a string: {event_type!r}")
    event_class = EVENT_TYPES.get(event_type)
    if event_class is None:
        raise UnknownEventType(event_type)
    try:
        data = event_class.__pydantic_validator__.validate_python(document["data"])
    except ValidationError as exc:
        raise _invalid(event_type, exc, "data") from None
    # The payload is validated once, above: Envelope keeps an Event instance as is.
    if keys <= _KNOWN_SET:
        attributes = {**document, "data": data}
    else:
        attributes = {name: document[name] for name in _ATTRIBUTES if name in document}
        attributes["data"] = data
    try:
        envelope: Envelope = _validate_envelope(attributes)
    except ValidationError as exc:
        raise _invalid(event_type, exc, None) from None
    return envelope


def _raise_missing(document: dict[str, Any]) -> NoReturn:
    missing = [name for name in _REQUIRED if name not in document]
    event_type = document.get("type")
    about = f" ({event_type})" if isinstance(event_type, str) else ""
    raise MalformedRecord(
        f"envelope attribute{'s' if len(missing) > 1 else ''} missing{about}: " + ", ".join(missing)
    )


def _invalid(event_type: str, exc: ValidationError, prefix: str | None) -> InvalidEvent:
    error = exc.errors(include_url=False, include_input=False)[0]
    path = [str(part) for part in error["loc"]]
    if prefix is not None:
        path.insert(0, prefix)
    return InvalidEvent(event_type, ".".join(path) or "<envelope>", error["msg"])
