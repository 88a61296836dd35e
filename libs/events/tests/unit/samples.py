"""Sample events, envelope helpers, and payload strategies drawn from JSON schemas."""

from __future__ import annotations

import string
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import helpdesk_events  # noqa: F401  (registers every event type)
from helpdesk_events import routing, sla, surveys
from helpdesk_events.envelope import Envelope, Event, new_envelope
from hypothesis import strategies as st

TICKET = uuid.UUID("0b7c2f0e-5d43-4f3e-9a57-3f3a4bb0a001")
SURVEY = uuid.UUID("5f0e8c3a-1d2b-4c4d-8e9f-aa0bb1cc2d02")
AT = datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc)
LATER = AT + timedelta(hours=8)


def _sample_events() -> list[Event]:
    return [
        routing.RoutingDecided(
            ticket_id=TICKET,
            tier=1,
            team="service-desk",
            agent="agent-7",
            rule="vpn-to-network",
            strategy=routing.Strategy.SKILLS_MATCH,
            reason="skills network, language de",
        ),
        routing.EscalationDecided(
            ticket_id=TICKET,
            from_tier=1,
            to_tier=2,
            reason="resolution target breached",
            trigger="sla_breach",
            to_team="network",
        ),
        routing.AgentStatusChanged(
            agent_id="agent-7",
            status=routing.AgentStatus.AWAY,
            previous_status=routing.AgentStatus.ONLINE,
            teams=("service-desk", "network"),
            hourly_cost=42.5,
        ),
        sla.ClockStarted(
            ticket_id=TICKET,
            target=sla.Target.FIRST_RESPONSE,
            policy="p1-incidents",
            calendar="paris-office",
            started_at=AT,
            due_at=LATER,
            warn_at=AT + timedelta(hours=6),
        ),
        sla.ClockPaused(
            ticket_id=TICKET,
            target=sla.Target.RESOLUTION,
            paused_at=AT,
            remaining_business_seconds=3600,
            status="pending",
        ),
        sla.ClockResumed(
            ticket_id=TICKET, target=sla.Target.RESOLUTION, resumed_at=AT, due_at=LATER
        ),
        sla.SlaWarning(
            ticket_id=TICKET,
            target=sla.Target.NEXT_RESPONSE,
            due_at=LATER,
            remaining_business_seconds=900,
        ),
        sla.SlaBreached(
            ticket_id=TICKET,
            target=sla.Target.RESOLUTION,
            due_at=AT,
            late_by_seconds=5,
            escalate=True,
            priority="P1",
            team="network",
        ),
        sla.SlaMet(
            ticket_id=TICKET,
            target=sla.Target.FIRST_RESPONSE,
            due_at=LATER,
            met_at=AT,
            elapsed_business_seconds=1200,
        ),
        sla.ClockCancelled(
            ticket_id=TICKET, target=sla.Target.NEXT_RESPONSE, reason="ticket merged"
        ),
        sla.CalendarDefined(
            calendar_id="paris-office",
            name="Paris office",
            time_zone="Europe/Paris",
            weekly_hours=tuple(
                sla.WorkingHours(weekday=day, start="09:00", end="18:00") for day in range(5)
            )
            + (sla.WorkingHours(weekday=5, start="10:00", end="24:00"),),
            holidays=(date(2025, 1, 1), date(2025, 7, 14)),
            country="FR",
            subdivision=None,
        ),
        sla.PolicyDefined(
            policy_id="p1-incidents",
            name="P1 incidents",
            order=10,
            conditions=sla.PolicyConditions(priorities=("P1",), types=("incident",)),
            targets=sla.PolicyTargets(first_response=900, resolution=4 * 3600),
            calendar_id="paris-office",
            warn_at_percent=75,
            pause_statuses=("pending",),
            escalate_on_breach=True,
        ),
        surveys.SurveySent(
            survey_id=SURVEY,
            ticket_id=TICKET,
            kinds=(surveys.SurveyKind.CSAT, surveys.SurveyKind.NPS),
            requester_id="user-12",
            requester_email="ann@example.com",
            agent_id="agent-7",
            team="service-desk",
            link="https://helpdesk.example.com/v1/surveys/abc.def",
            expires_at=LATER,
        ),
        surveys.SurveyResponded(
            survey_id=SURVEY,
            ticket_id=TICKET,
            answers=(
                surveys.SurveyAnswer(kind="csat", score=4, scale_min=1, scale_max=5),
                surveys.SurveyAnswer(kind="nps", score=9, scale_min=0, scale_max=10),
            ),
            comment="Quick and friendly.",
            requester_id="user-12",
            agent_id="agent-7",
            team="service-desk",
            channel="email",
            category="network/vpn",
        ),
        surveys.SurveyExpired(survey_id=SURVEY, reason=surveys.ExpiryReason.EXPIRED),
    ]


SAMPLE_EVENTS = _sample_events()


def subject_of(event: Event) -> str:
    """The subject a producer gives `event`: its SUBJECT field, else its ticket id."""
    field = getattr(type(event), "SUBJECT", "ticket_id")
    return str(getattr(event, field))


def envelope_for(event: Event, **attributes: Any) -> Envelope:
    """`event` in an envelope with fixed attributes (overridable)."""
    defaults: dict[str, Any] = {
        "source": "test",
        "subject": subject_of(event),
        "time": AT,
        "id": uuid.UUID("9a1d6c1e-1f1f-4a4a-8b8b-0c0c0c0c0c0c"),
    }
    return new_envelope(event, **{**defaults, **attributes})


# --- payloads from JSON schema ------------------------------------------------------------

_INSTANTS = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)
_CHARS = st.characters(exclude_categories=("Cs",))


@st.composite
def _survey_answer(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.integers(-5, 10))
    high = draw(st.integers(low + 1, low + 10))
    kind = draw(st.sampled_from([kind.value for kind in surveys.SurveyKind]))
    return {
        "kind": kind,
        "score": draw(st.integers(low, high)),
        "scale_min": low,
        "scale_max": high,
    }


@st.composite
def _working_hours(draw: st.DrawFn) -> dict[str, Any]:
    start, end = sorted(draw(st.sets(st.integers(0, 24 * 4), min_size=2, max_size=2)))
    return {
        "weekday": draw(st.integers(0, 6)),
        "start": f"{start // 4:02d}:{start % 4 * 15:02d}",
        "end": f"{end // 4:02d}:{end % 4 * 15:02d}",
    }


#: Models whose validators tie fields together, drawn valid rather than filtered.
_VALID_MODELS: dict[str, st.SearchStrategy[Any]] = {
    "SurveyAnswer": _survey_answer(),
    "WorkingHours": _working_hours(),
}


def payloads(event_class: type[Event]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON payloads shaped by `event_class`'s JSON schema (validators may still refuse some)."""
    schema = event_class.model_json_schema()
    return _from_schema(schema, schema.get("$defs", {}))


def _from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        if name in _VALID_MODELS:
            return _VALID_MODELS[name]
        return st.deferred(lambda: _from_schema(defs[name], defs))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return st.one_of([_from_schema(option, defs) for option in schema[combinator]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**40)) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", 2**40) - 1)
        return st.integers(min_value=low, max_value=high)
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        return _string(schema)
    if kind == "array":
        items = _from_schema(schema.get("items", {}), defs)
        low = schema.get("minItems", 0)
        return st.lists(items, min_size=low, max_size=max(low, min(schema.get("maxItems", 3), 3)))
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", ()))
        properties = {name: _from_schema(sub, defs) for name, sub in schema["properties"].items()}
        return st.fixed_dictionaries(
            {name: value for name, value in properties.items() if name in required},
            optional={name: value for name, value in properties.items() if name not in required},
        )
    if kind == "object":
        keys = _string(schema.get("propertyNames", {"type": "string"}))
        values = _from_schema(schema.get("additionalProperties", {"type": "string"}), defs)
        return st.dictionaries(keys, values, max_size=min(schema.get("maxProperties", 3), 3))
    return st.one_of(st.none(), st.booleans(), st.integers(), st.text(_CHARS, max_size=12))


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    fmt = schema.get("format")
    if fmt == "uuid":
        return st.uuids().map(str)
    if fmt == "date-time":
        return _INSTANTS.map(datetime.isoformat)
    if fmt == "date":
        return st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)).map(str)
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10**6)
    if "pattern" not in schema:
        return st.text(alphabet=_CHARS, min_size=low, max_size=min(high, low + 12))
    strings = st.from_regex(schema["pattern"], fullmatch=True, alphabet=string.printable)
    return strings.filter(lambda text: low <= len(text) <= high)
