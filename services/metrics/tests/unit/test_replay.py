"""The rebuild's replay path: records mapped and facts folded as the live path does them."""

from __future__ import annotations

import random
from uuid import UUID, uuid4

import orjson
import pytest

from helpdesk_events.codec import DecodeError, encode, envelope_to_dict
from helpdesk_metrics.facts import TicketFact, evolve, fold, fold_steps
from helpdesk_metrics.rebuild import Projection, read_record, read_record_strictly
from helpdesk_metrics.writes import TicketChange, writes_for, writes_for_document

from ..conftest import build_reference


def _changes() -> dict[UUID, list[TicketChange]]:
    changes: dict[UUID, list[TicketChange]] = {}
    for envelope in build_reference().history.envelopes:
        change = writes_for(envelope)[1]
        if change is not None:
            changes.setdefault(change.ticket_id, []).append(change)
    return changes


def _value(**changes: object) -> bytes:
    envelope = build_reference().history.envelopes[0]
    document = envelope_to_dict(envelope)
    data = {**document["data"], **changes.pop("data", {})}  # type: ignore[dict-item]
    return orjson.dumps({**document, **changes, "data": data})


def test_a_replayed_record_writes_what_the_decoded_event_writes() -> None:
    for envelope in build_reference().history.envelopes:
        document = read_record(encode(envelope).value)
        assert writes_for_document(document) == writes_for(envelope)


def test_fold_equals_evolving_event_by_event_in_any_order() -> None:
    rng = random.Random(5)
    for ticket_id, changes in _changes().items():
        events = [(c.type, c.data) for c in changes]
        for _ in range(3):
            fact = TicketFact(ticket_id=ticket_id, calendar_id="cal")
            for event_type, data in events:
                fact = evolve(fact, event_type, data)
            assert fold(ticket_id, events, "cal") == fact
            rng.shuffle(events)


def test_evolve_leaves_the_fact_alone_for_other_topics_and_returns_a_new_one_otherwise() -> None:
    fact = TicketFact(ticket_id=uuid4())
    assert evolve(fact, "helpdesk.sla.met.v1", {}) is fact
    after = evolve(fact, "helpdesk.ticket.reopened.v1", {"occurred_at": "2026-01-05T09:00:00Z"})
    assert (after.reopens, fact.reopens) == (1, 0)
    assert after.last_event_at is not None and fact.last_event_at is None


@pytest.mark.parametrize("value", [
    b"not json", b"[1, 2]", orjson.dumps({"type": "helpdesk.ticket.created.v1"}),
    _value(type="helpdesk.ticket.exploded.v1"), _value(specversion="0.3"),
    _value(data={"surprise": 1}),
])
def test_a_record_the_codec_would_reject_structurally_is_rejected(value: bytes) -> None:
    with pytest.raises(DecodeError):
        read_record(value)


def test_a_record_missing_a_payload_field_is_rejected() -> None:
    document = orjson.loads(_value())
    del document["data"]["number"]
    with pytest.raises(DecodeError):
        read_record(orjson.dumps(document))


def test_a_value_metrics_stores_that_does_not_parse_changes_nothing() -> None:
    projection = Projection("metrics")
    for bad in (_value(data={"ticket_id": "not-a-uuid"}), _value(data={"occurred_at": "noon"}),
                _value(data={"occurred_at": "2026-01-05T09:00:00"}), _value(id="nope")):
        with pytest.raises(ValueError):
            projection.apply(read_record(bad))
    assert not projection.seen and not projection.changes


def test_only_strict_reading_checks_constraints_metrics_does_not_read() -> None:
    # What the structural check trusts the producer's codec for: a subject over the limit.
    value = _value(data={"subject": "x" * 1000})
    assert read_record(value)["data"]["subject"] == "x" * 1000
    with pytest.raises(DecodeError):
        read_record_strictly(value)


def test_an_event_replayed_twice_is_folded_once() -> None:
    projection, value = Projection("metrics"), _value()
    projection.apply(read_record(value))
    projection.apply(read_record(value))
    assert len(projection.seen) == 1
    assert [len(c) for c in projection.changes.values()] == [1]


def test_the_steps_of_a_stream_are_the_folds_of_its_prefixes() -> None:
    for changes in _changes().values():
        events = [(c.type, c.data) for c in changes]
        steps = fold_steps(changes[0].ticket_id, events, "cal-1")
        assert steps == [fold(changes[0].ticket_id, events[:n], "cal-1")
                         for n in range(1, len(events) + 1)]
