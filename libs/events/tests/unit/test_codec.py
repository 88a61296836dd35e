"""The codec: envelopes to Kafka records and back, and every way a record can be bad."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import orjson
import pytest
from helpdesk_events import routing, sla, surveys, topics
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
from helpdesk_events.envelope import EVENT_TYPES, Envelope, Event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from .samples import AT, SAMPLE_EVENTS, TICKET, envelope_for, payloads

ALL_CLASSES = sorted(EVENT_TYPES.values(), key=lambda cls: cls.TYPE)


def _valid_record() -> dict[str, Any]:
    return orjson.loads(envelope_to_json(envelope_for(SAMPLE_EVENTS[0])))


def test_samples_cover_every_routing_sla_and_survey_event() -> None:
    ours = {cls.TYPE for cls in ALL_CLASSES if cls.__module__ != "helpdesk_events.tickets"}
    assert {type(event).TYPE for event in SAMPLE_EVENTS} == ours


@pytest.mark.parametrize("sample_event", SAMPLE_EVENTS, ids=lambda event: type(event).TYPE)
def test_sample_event_survives_a_round_trip(sample_event: Event) -> None:
    envelope = envelope_for(sample_event, sequence=7, correlationid="req-1", causationid="ev-0")
    record = encode(envelope)
    assert decode(record.value) == envelope
    assert decode_dict(envelope_to_dict(envelope)) == envelope
    assert type(decode(record.value).data) is type(sample_event)


@pytest.mark.parametrize("event_class", ALL_CLASSES, ids=lambda cls: cls.TYPE)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_registered_event_type_survives_a_round_trip(
    event_class: type[Event], data: st.DataObject
) -> None:
    valid = payloads(event_class).map(lambda payload: _validated(event_class, payload))
    event = data.draw(valid.filter(lambda event: event is not None), label="event")
    envelope = envelope_for(
        event,
        id=data.draw(st.uuids(), label="id"),
        subject=data.draw(st.text(min_size=1, max_size=40), label="subject"),
        sequence=data.draw(st.none() | st.integers(min_value=0, max_value=2**62), label="seq"),
        correlationid=data.draw(st.none() | st.text(max_size=20), label="correlationid"),
    )
    record = encode(envelope)
    assert record.topic == event_class.TOPIC
    assert decode(record.value) == envelope
    assert decode(record.value).data == event


def _validated(event_class: type[Event], payload: dict[str, Any]) -> Event | None:
    try:
        return event_class.model_validate(payload)
    except ValidationError:
        return None  # a model validator (e.g. start before end) refused the drawn values


def test_record_is_sent_to_the_event_class_topic_keyed_by_subject() -> None:
    event = SAMPLE_EVENTS[0]
    record = encode(envelope_for(event))
    assert isinstance(record, KafkaRecord)
    assert record.topic == topics.ROUTING
    assert record.key == str(TICKET).encode()


def test_agent_events_are_keyed_by_agent_id() -> None:
    event = routing.AgentStatusChanged(agent_id="agent-7", status="online")
    assert encode(envelope_for(event)).key == b"agent-7"


def test_headers_repeat_the_envelope_attributes() -> None:
    envelope = envelope_for(SAMPLE_EVENTS[0], sequence=3, correlationid="c-1", causationid="e-9")
    headers = dict(encode(envelope).headers)
    assert headers == {
        "ce_id": str(envelope.id).encode(),
        "ce_type": b"helpdesk.routing.decided.v1",
        "ce_source": b"test",
        "ce_subject": str(TICKET).encode(),
        "ce_time": b"2025-03-04T09:30:00Z",
        "ce_specversion": b"1.0",
        "ce_sequence": b"3",
        "ce_correlationid": b"c-1",
        "ce_causationid": b"e-9",
        "content-type": b"application/cloudevents+json",
    }


def test_unset_extensions_are_absent_from_headers_and_value() -> None:
    record = encode(envelope_for(SAMPLE_EVENTS[0]))
    names = [name for name, _ in record.headers]
    assert names == [
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_subject",
        "ce_time",
        "ce_specversion",
        "content-type",
    ]
    body = orjson.loads(record.value)
    assert not {"sequence", "correlationid", "causationid"} & body.keys()


def test_value_is_structured_mode_cloudevents_json() -> None:
    body = orjson.loads(encode(envelope_for(SAMPLE_EVENTS[0], sequence=1)).value)
    assert body == {
        "specversion": "1.0",
        "id": "9a1d6c1e-1f1f-4a4a-8b8b-0c0c0c0c0c0c",
        "source": "test",
        "type": "helpdesk.routing.decided.v1",
        "subject": str(TICKET),
        "time": "2025-03-04T09:30:00Z",
        "datacontenttype": "application/json",
        "sequence": 1,
        "data": {
            "ticket_id": str(TICKET),
            "tier": 1,
            "team": "service-desk",
            "agent": "agent-7",
            "rule": "vpn-to-network",
            "strategy": "skills_match",
            "reason": "skills network, language de",
            "queued": False,
        },
    }


def test_envelope_time_is_sent_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    envelope = envelope_for(SAMPLE_EVENTS[0], time=datetime(2025, 3, 4, 10, 30, tzinfo=paris))
    assert envelope_to_dict(envelope)["time"] == "2025-03-04T09:30:00Z"


def test_instants_in_payloads_are_normalised_to_utc() -> None:
    event = sla.SlaMet(
        ticket_id=TICKET,
        target="resolution",
        due_at=datetime(2025, 3, 4, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        met_at=AT,
        elapsed_business_seconds=10,
    )
    assert envelope_to_dict(envelope_for(event))["data"]["due_at"] == "2025-03-04T10:00:00Z"


def test_encode_refuses_an_envelope_whose_type_is_not_its_data_class() -> None:
    good = envelope_for(SAMPLE_EVENTS[0])
    forged = Envelope.model_validate(
        {**good.model_dump(exclude={"data"}), "type": "helpdesk.sla.met.v1", "data": good.data}
    )
    with pytest.raises(ValueError, match="does not match"):
        encode(forged)


def test_value_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedRecord, match="not JSON"):
        decode(b"\x00not json")


@pytest.mark.parametrize("value", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_value_that_is_not_a_json_object_is_malformed(value: bytes) -> None:
    with pytest.raises(MalformedRecord, match="not a JSON object"):
        decode(value)


@pytest.mark.parametrize(
    "attribute", ["id", "source", "type", "subject", "time", "specversion", "data"]
)
def test_missing_envelope_attribute_is_malformed_and_named(attribute: str) -> None:
    record = _valid_record()
    del record[attribute]
    with pytest.raises(MalformedRecord, match=f"missing.*{attribute}"):
        decode(orjson.dumps(record))


def test_unknown_event_type_is_named() -> None:
    record = {**_valid_record(), "type": "helpdesk.ticket.teleported.v9"}
    with pytest.raises(UnknownEventType, match="helpdesk.ticket.teleported.v9") as caught:
        decode(orjson.dumps(record))
    assert caught.value.event_type == "helpdesk.ticket.teleported.v9"


def test_a_type_that_is_not_a_string_is_malformed() -> None:
    with pytest.raises(MalformedRecord, match="'type'"):
        decode_dict({**_valid_record(), "type": 12})


def test_bad_payload_names_the_type_and_the_dotted_field() -> None:
    event = sla.CalendarDefined(
        calendar_id="c", name="c", time_zone="UTC", weekly_hours=(), holidays=()
    )
    record = orjson.loads(envelope_to_json(envelope_for(event)))
    record["data"]["weekly_hours"] = [{"weekday": 1, "start": "09:00", "end": "18:00"}] * 2
    record["data"]["weekly_hours"][1] = {"weekday": 2, "start": "9 am", "end": "18:00"}
    with pytest.raises(InvalidEvent) as caught:
        decode(orjson.dumps(record))
    error = caught.value
    assert error.event_type == "helpdesk.sla.calendar_defined.v1"
    assert error.field == "data.weekly_hours.1.start"
    assert "helpdesk.sla.calendar_defined.v1" in str(error)
    assert "data.weekly_hours.1.start" in str(error)


def test_missing_payload_field_is_named() -> None:
    record = _valid_record()
    del record["data"]["team"]
    with pytest.raises(InvalidEvent, match=r"helpdesk\.routing\.decided\.v1.*data\.team"):
        decode(orjson.dumps(record))


def test_extra_payload_field_is_refused() -> None:
    record = _valid_record()
    record["data"]["colour"] = "blue"
    with pytest.raises(InvalidEvent) as caught:
        decode(orjson.dumps(record))
    assert caught.value.field == "data.colour"


def test_payload_that_is_not_an_object_is_invalid() -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_dict({**_valid_record(), "data": [1, 2]})
    assert caught.value.field == "data"


def test_bad_envelope_attribute_is_named() -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_dict({**_valid_record(), "time": "yesterday"})
    assert caught.value.field == "time"
    assert caught.value.event_type == "helpdesk.routing.decided.v1"


def test_naive_envelope_time_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="time"):
        decode_dict({**_valid_record(), "time": "2025-03-04T09:30:00"})


def test_other_specversion_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="specversion"):
        decode_dict({**_valid_record(), "specversion": "0.3"})


def test_unknown_cloudevents_extensions_are_ignored() -> None:
    record = {**_valid_record(), "traceparent": "00-abc-def-01"}
    assert decode_dict(record) == envelope_for(SAMPLE_EVENTS[0])


def test_every_decode_error_is_a_value_error() -> None:
    for error in (MalformedRecord, UnknownEventType, InvalidEvent):
        assert issubclass(error, DecodeError)
    assert issubclass(DecodeError, ValueError)


def test_decode_accepts_text_and_memoryview() -> None:
    value = encode(envelope_for(SAMPLE_EVENTS[0])).value
    assert decode(value.decode()) == decode(memoryview(value)) == decode(value)


def test_registry_rejects_a_second_class_for_a_known_type() -> None:
    with pytest.raises(TypeError, match="defined twice"):

        class Impostor(Event):
            TYPE: ClassVar[str] = routing.RoutingDecided.TYPE
            TOPIC: ClassVar[str] = topics.ROUTING

    assert EVENT_TYPES[routing.RoutingDecided.TYPE] is routing.RoutingDecided


def test_registry_rejects_a_type_without_topic() -> None:
    with pytest.raises(TypeError, match="no TOPIC"):

        class Homeless(Event):
            TYPE: ClassVar[str] = "helpdesk.test.homeless.v1"

    assert "helpdesk.test.homeless.v1" not in EVENT_TYPES


def test_survey_events_are_keyed_by_survey_id() -> None:
    event = surveys.SurveyExpired(survey_id=uuid.UUID(int=5), reason="cancelled")
    assert encode(envelope_for(event)).key == str(uuid.UUID(int=5)).encode()
