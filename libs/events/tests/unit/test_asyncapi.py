"""The AsyncAPI document: complete, deterministic, and checked in up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpdesk_events import topics
from helpdesk_events.asyncapi import build_document, default_path, main, render
from helpdesk_events.envelope import EVENT_TYPES

CHECKED_IN = Path(__file__).resolve().parents[4] / "docs" / "asyncapi.yaml"


def test_checked_in_asyncapi_document_is_up_to_date() -> None:
    assert CHECKED_IN.is_file(), (
        "docs/asyncapi.yaml is missing: run python -m helpdesk_events.asyncapi"
    )
    assert CHECKED_IN.read_text(encoding="utf-8") == render(build_document()), (
        "docs/asyncapi.yaml is stale: run python -m helpdesk_events.asyncapi"
    )


def test_default_path_is_the_checked_in_document() -> None:
    assert default_path() == CHECKED_IN


def test_every_event_type_has_a_message_on_its_topic_channel() -> None:
    document = build_document()
    for event_type, cls in EVENT_TYPES.items():
        message = document["components"]["messages"][event_type]
        assert message["name"] == cls.__name__
        assert event_type in document["channels"][cls.TOPIC]["messages"]
        data_ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
        assert data_ref.removeprefix("#/components/schemas/") in document["components"]["schemas"]


def test_every_topic_has_a_channel_and_a_dead_letter_channel() -> None:
    channels = build_document()["channels"]
    for topic in topics.ALL:
        assert channels[topic]["address"] == topic
        assert channels[topics.dlq(topic)]["address"] == topics.dlq(topic)


def test_messages_document_the_kafka_key_and_field_descriptions() -> None:
    document = build_document()
    message = document["components"]["messages"]["helpdesk.sla.breached.v1"]
    assert "ticket_id" in message["bindings"]["kafka"]["key"]["description"]
    schema = document["components"]["schemas"]["SlaBreached"]
    assert all("description" in field for name, field in schema["properties"].items())


def test_every_reference_resolves() -> None:
    document = build_document()

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return own + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for item in node for ref in refs(item)]
        return []

    for ref in refs(document):
        target: object = document
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, f"dangling {ref}"
            target = target[part]


def test_rendering_is_deterministic_and_valid_yaml() -> None:
    text = render(build_document())
    assert text == render(build_document())
    assert yaml.safe_load(text)["asyncapi"] == "3.0.0"


def test_check_fails_on_a_stale_file_and_passes_once_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "asyncapi.yaml"
    path.write_text("asyncapi: 3.0.0\n", encoding="utf-8")
    assert main(["--check", "--output", str(path)]) == 1
    assert "stale" in capsys.readouterr().err
    assert main(["--output", str(path)]) == 0
    assert main(["--check", "--output", str(path)]) == 0
