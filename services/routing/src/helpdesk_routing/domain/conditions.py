"""Rule conditions: the vocabulary (fields, operators), its validation and matching."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .model import Condition, Rule, TicketFacts

#: Scalar fields of a ticket a condition can test (requester org is `requester_org`).
SCALAR_FIELDS = (
    "channel", "type", "category", "priority", "language", "affected_service", "requester_org",
)
#: Closed vocabularies: a condition naming any other value can never match, so it is refused.
ENUMS: dict[str, frozenset[str]] = {
    "channel": frozenset({"email", "phone", "chat", "portal", "api", "walk_in", "social"}),
    "type": frozenset({"incident", "service_request", "question", "problem", "change"}),
    "priority": frozenset({"P1", "P2", "P3", "P4"}),
}
#: Operators by field; `starts_with` lets `network` match `network/vpn` and `de` match `de-CH`.
OPERATORS: dict[str, frozenset[str]] = {
    **{name: frozenset({"eq", "ne", "in", "not_in", "starts_with"}) for name in SCALAR_FIELDS},
    "tags": frozenset({"has", "has_any", "has_all", "has_none"}),
    "subject": frozenset({"has_word", "has_any_word", "has_all_words"}),
}
FIELDS = tuple(OPERATORS)
#: Operators that take a list of values; the others take one string.
LIST_OPERATORS = frozenset({"in", "not_in", "has_any", "has_all", "has_none", "has_any_word", "has_all_words"})

_WORD = re.compile(r"\w+", re.UNICODE)


def condition_errors(field: str, op: str, value: object) -> list[tuple[str, str]]:
    """Problems with one condition as (part, message) pairs; part is field, op or value."""
    if field not in OPERATORS:
        return [("field", f"unknown field {field!r}; expected one of {', '.join(FIELDS)}")]
    if op not in OPERATORS[field]:
        allowed = ", ".join(sorted(OPERATORS[field]))
        return [("op", f"operator {op!r} does not apply to {field}; expected one of {allowed}")]
    values: Sequence[object]
    if op in LIST_OPERATORS:
        if not isinstance(value, (list, tuple)) or not value:
            return [("value", f"operator {op!r} takes a non-empty list of strings")]
        values = value
    else:
        if not isinstance(value, str):
            return [("value", f"operator {op!r} takes one string")]
        values = [value]
    if not all(isinstance(v, str) and v.strip() for v in values):
        return [("value", "values must be non-empty strings")]
    known = ENUMS.get(field)
    if known is not None and op != "starts_with":
        unknown = sorted({str(v) for v in values} - known)
        if unknown:
            return [("value", f"unknown {field} value(s) {unknown}; expected one of {sorted(known)}")]
    return []


def _scalar(facts: TicketFacts, field: str) -> str | None:
    return getattr(facts, field)


def _fold(value: str) -> str:
    return value.casefold()


def condition_holds(condition: Condition, facts: TicketFacts) -> bool:
    """True when the ticket satisfies the condition (text compares case-insensitively)."""
    op, value = condition.op, condition.value
    values = tuple(_fold(v) for v in ((value,) if isinstance(value, str) else value))
    if condition.field == "tags":
        tags = {_fold(t) for t in facts.tags}
        if op == "has":
            return values[0] in tags
        if op == "has_any":
            return bool(tags.intersection(values))
        if op == "has_all":
            return tags.issuperset(values)
        return not tags.intersection(values)
    if condition.field == "subject":
        words = {_fold(w) for w in _WORD.findall(facts.subject)}
        if op in ("has_word", "has_any_word"):
            return any(all(w in words for w in _WORD.findall(v)) for v in values)
        return all(all(w in words for w in _WORD.findall(v)) for v in values)
    actual = _scalar(facts, condition.field)
    folded = _fold(actual) if actual is not None else None
    if op == "eq":
        return folded == values[0]
    if op == "ne":
        return folded != values[0]
    if op == "in":
        return folded in values
    if op == "not_in":
        return folded not in values
    # starts_with matches whole segments: `network` matches `network/vpn`, not `networks`.
    if folded is None:
        return False
    prefix = values[0]
    return folded == prefix or (folded.startswith(prefix) and folded[len(prefix)] in "/-._:")


def rule_matches(rule: Rule, facts: TicketFacts) -> bool:
    """True when the rule is enabled and every condition holds (no conditions: matches all)."""
    return rule.enabled and all(condition_holds(c, facts) for c in rule.conditions)


def first_match(rules: Sequence[Rule], facts: TicketFacts) -> Rule | None:
    """The first matching rule in position order, or None."""
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if rule_matches(rule, facts):
            return rule
    return None
