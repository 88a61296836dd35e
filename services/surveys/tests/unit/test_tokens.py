"""Signed survey links."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from helpdesk_surveys.tokens import make_token, read_token, sign_body

SECRET = "s3cret-for-tests"


@given(st.uuids())
def test_token_round_trips_to_its_survey(survey_id: uuid.UUID) -> None:
    assert read_token(SECRET, make_token(SECRET, survey_id)) == survey_id


def test_token_signed_with_another_secret_is_refused() -> None:
    assert read_token(SECRET, make_token("other", uuid.uuid4())) is None


@given(st.uuids(), st.integers(min_value=0, max_value=200), st.characters(codec="ascii"))
def test_any_tampered_token_is_refused(survey_id: uuid.UUID, position: int, char: str) -> None:
    token = make_token(SECRET, survey_id)
    i = position % len(token)
    tampered = token[:i] + char + token[i + 1 :]
    if tampered != token:
        assert read_token(SECRET, tampered) is None


def test_garbage_tokens_are_refused() -> None:
    for junk in ["", ".", "abc", "a.b.c", "x" * 500, "%%%.###"]:
        assert read_token(SECRET, junk) is None


def test_webhook_signature_depends_on_body_timestamp_and_secret() -> None:
    base = sign_body(SECRET, b"{}", "1")
    assert base.startswith("sha256=")
    assert (
        base
        != sign_body(SECRET, b"{ }", "1")
        != sign_body(SECRET, b"{}", "2")
        != sign_body("x", b"{}", "1")
    )


def test_webhook_url_without_a_secret_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    from helpdesk_surveys.config import SurveysSettings

    with pytest.raises(ValidationError):
        SurveysSettings(webhook_url="http://hooks.example/x")
    assert SurveysSettings(webhook_url="http://h/x", webhook_secret="x" * 16).webhook_url
