"""The requester's HTML form: no JavaScript, readable on a phone, every control labelled."""

from __future__ import annotations

from html import escape
from typing import Any

from helpdesk_events.surveys import SurveyKind

from .domain.policy import Question
from .domain.scales import ANCHORS, PROMPTS, scale_of

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:36rem;margin:0 auto;padding:1rem;line-height:1.5;color:#111}
fieldset{border:1px solid #bbb;border-radius:.5rem;margin:0 0 1rem;padding:.75rem}
legend{font-weight:600;padding:0 .25rem}
.scale{display:flex;flex-wrap:wrap;gap:.25rem}
.scale label{display:inline-flex;align-items:center;justify-content:center;min-width:2.75rem;min-height:2.75rem;
border:1px solid #888;border-radius:.4rem;cursor:pointer}
.scale input{margin:0 .2rem 0 0}
.ends{display:flex;justify-content:space-between;font-size:.9rem;color:#444}
textarea{width:100%;min-height:6rem;font:inherit;box-sizing:border-box}
button{font:inherit;padding:.75rem 1.5rem;min-height:2.75rem}
.error{color:#a00;font-weight:600}
"""


def page(title: str, body: str) -> str:
    """A complete, mobile-friendly HTML document."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def message_page(title: str, text: str) -> str:
    """A page that only says something (thanks, expired, already answered...)."""
    return page(title, f"<p>{escape(text)}</p>")


def _question(q: Question, chosen: str | None, error: str | None) -> str:
    kind = SurveyKind(q.kind)
    low, high = scale_of(kind)
    name = f"score_{kind.value}"
    radios = "".join(
        f'<label for="{name}_{s}"><input type="radio" id="{name}_{s}" name="{name}" value="{s}" required'
        f"{' checked' if chosen == str(s) else ''}>{s}</label>"
        for s in range(low, high + 1)
    )
    left, right = ANCHORS[kind]
    err = f'<p class="error" id="{name}_error">{escape(error)}</p>' if error else ""
    return (
        f"<fieldset><legend>{escape(PROMPTS[kind])}</legend>{err}"
        f'<div class="scale" role="radiogroup">{radios}</div>'
        f'<div class="ends" aria-hidden="true"><span>{low} = {escape(left)}</span>'
        f"<span>{high} = {escape(right)}</span></div></fieldset>"
    )


def form_page(
    action: str,
    questions: tuple[Question, ...],
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> str:
    """The survey form posting back to `action`, optionally refilled with `values` and `errors`."""
    values, errors = values or {}, errors or {}
    by_kind: dict[str, str] = {}
    general: list[str] = []
    for field, message in errors.items():
        if field == "comment":
            continue  # shown next to the comment box
        matched = False
        for q in questions:
            if SurveyKind(q.kind).value in message or field == f"score_{SurveyKind(q.kind).value}":
                by_kind.setdefault(SurveyKind(q.kind).value, message)
                matched = True
                break
        if not matched:
            general.append(message)
    needs_comment = [q for q in questions if q.comment_required_at_or_below is not None]
    hint = " (required for low scores)" if needs_comment else " (optional)"
    comment_error = errors.get("comment")
    top = "".join(f'<p class="error" role="alert">{escape(m)}</p>' for m in general)
    fields = "".join(
        _question(
            q,
            values.get(f"score_{SurveyKind(q.kind).value}"),
            by_kind.get(SurveyKind(q.kind).value),
        )
        for q in questions
    )
    comment_err = (
        f'<p class="error" role="alert">{escape(comment_error)}</p>' if comment_error else ""
    )
    return page(
        "How did we do?",
        f'{top}<form method="post" action="{escape(action)}">{fields}'
        f'<p><label for="comment">Comment{hint}</label>{comment_err}'
        f'<textarea id="comment" name="comment" maxlength="5000">{escape(values.get("comment", ""))}</textarea></p>'
        '<p><button type="submit">Send</button></p></form>',
    )


def parse_scores(
    form: dict[str, Any], questions: tuple[Question, ...]
) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """(kind, score) pairs from the posted form, and errors for missing or non-numeric scores."""
    scores: list[tuple[str, int]] = []
    errors: dict[str, str] = {}
    for q in questions:
        kind = SurveyKind(q.kind).value
        raw = str(form.get(f"score_{kind}", "")).strip()
        if not raw:
            errors[f"score_{kind}"] = f"please choose a {kind} score"
        elif not raw.lstrip("-").isdigit() or len(raw) > 4:
            errors[f"score_{kind}"] = f"the {kind} score must be a whole number"
        else:
            scores.append((kind, int(raw)))
    return scores, errors
