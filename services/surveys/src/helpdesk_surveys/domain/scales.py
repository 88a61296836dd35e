"""Question kinds and their closed score scales."""

from __future__ import annotations

from helpdesk_events.surveys import SurveyKind

#: (lowest, highest) score of each kind.
SCALES: dict[SurveyKind, tuple[int, int]] = {
    SurveyKind.CSAT: (1, 5),
    SurveyKind.CES: (1, 7),
    SurveyKind.NPS: (0, 10),
    SurveyKind.AGENT_SATISFACTION: (1, 5),
}

#: The question a requester reads for each kind.
PROMPTS: dict[SurveyKind, str] = {
    SurveyKind.CSAT: "How satisfied are you with how your request was handled?",
    SurveyKind.CES: "How easy was it to get your issue resolved?",
    SurveyKind.NPS: "How likely are you to recommend our IT support to a colleague?",
    SurveyKind.AGENT_SATISFACTION: "How satisfied are you with your work in the service desk?",
}

#: Words for the ends of each scale (CES runs from very easy to very difficult).
ANCHORS: dict[SurveyKind, tuple[str, str]] = {
    SurveyKind.CSAT: ("very dissatisfied", "very satisfied"),
    SurveyKind.CES: ("very easy", "very difficult"),
    SurveyKind.NPS: ("not at all likely", "extremely likely"),
    SurveyKind.AGENT_SATISFACTION: ("very dissatisfied", "very satisfied"),
}


def scale_of(kind: SurveyKind) -> tuple[int, int]:
    """The (lowest, highest) score of `kind`."""
    return SCALES[kind]


def on_scale(kind: SurveyKind, score: int) -> bool:
    """True when `score` lies on the scale of `kind`."""
    low, high = SCALES[kind]
    return low <= score <= high
