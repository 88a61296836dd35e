"""Rule conditions: vocabulary, validation and first-match-wins."""

from __future__ import annotations

import uuid

import pytest

from helpdesk_routing.domain.conditions import condition_errors, condition_holds, first_match
from helpdesk_routing.domain.model import Condition, Rule, TicketFacts


def ticket(**overrides: object) -> TicketFacts:
    base: dict[str, object] = dict(
        ticket_id=uuid.uuid4(), subject="VPN drops every hour", channel="email", type="incident",
        priority="P2", category="network/vpn", language="de-CH", affected_service="vpn",
        requester_org="Sales", tags=("remote", "laptop"),
    )
    return TicketFacts(**{**base, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("channel", "eq", "email", True),
        ("channel", "eq", "EMAIL", True),
        ("channel", "ne", "email", False),
        ("type", "in", ["incident", "problem"], True),
        ("priority", "not_in", ["P1", "P2"], False),
        ("category", "starts_with", "network", True),
        ("category", "starts_with", "netw", False),
        ("language", "starts_with", "de", True),
        ("language", "eq", "de", False),
        ("affected_service", "eq", "vpn", True),
        ("requester_org", "in", ["sales", "hr"], True),
        ("tags", "has", "remote", True),
        ("tags", "has_any", ["x", "laptop"], True),
        ("tags", "has_all", ["remote", "x"], False),
        ("tags", "has_none", ["x", "y"], True),
        ("subject", "has_word", "vpn", True),
        ("subject", "has_any_word", ["printer", "hour"], True),
        ("subject", "has_all_words", ["vpn", "printer"], False),
        ("subject", "has_word", "drop", False),
    ],
)
def test_condition_operators_compare_case_insensitively(field: str, op: str, value: object, expected: bool) -> None:
    stored = value if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]
    assert condition_holds(Condition(field, op, stored), ticket()) is expected


def test_missing_attribute_never_starts_with_anything() -> None:
    assert not condition_holds(Condition("category", "starts_with", "network"), ticket(category=None))


def test_first_matching_rule_in_position_order_wins() -> None:
    rules = [
        Rule(id="late", position=5, team="t-any"),
        Rule(id="vpn", position=2, team="t-net", conditions=(Condition("subject", "has_word", "vpn"),)),
        Rule(id="p1", position=1, team="t-major", conditions=(Condition("priority", "eq", "P1"),)),
    ]
    assert first_match(rules, ticket()).id == "vpn"  # type: ignore[union-attr]
    assert first_match(rules, ticket(priority="P1")).id == "p1"  # type: ignore[union-attr]
    assert first_match(rules, ticket(subject="Printer")).id == "late"  # type: ignore[union-attr]


def test_all_conditions_of_a_rule_must_hold_and_disabled_rules_never_match() -> None:
    both = Rule(id="r", position=0, team="t", conditions=(
        Condition("channel", "eq", "email"), Condition("tags", "has", "vip"),
    ))
    assert first_match([both], ticket()) is None
    assert first_match([both], ticket(tags=("vip",))) is not None
    assert first_match([Rule(id="off", position=0, team="t", enabled=False)], ticket()) is None


@pytest.mark.parametrize(
    ("field", "op", "value", "part"),
    [
        ("colour", "eq", "red", "field"),
        ("channel", "has_word", "email", "op"),
        ("tags", "eq", "x", "op"),
        ("channel", "in", "email", "value"),
        ("channel", "eq", ["email"], "value"),
        ("channel", "eq", "pigeon", "value"),
        ("priority", "in", ["P1", "P9"], "value"),
        ("subject", "has_any_word", [], "value"),
    ],
)
def test_invalid_conditions_name_the_offending_part(field: str, op: str, value: object, part: str) -> None:
    errors = condition_errors(field, op, value)
    assert [p for p, _ in errors] == [part]


def test_valid_condition_has_no_errors() -> None:
    assert condition_errors("category", "starts_with", "network") == []
    assert condition_errors("subject", "has_any_word", ["vpn", "wifi"]) == []
