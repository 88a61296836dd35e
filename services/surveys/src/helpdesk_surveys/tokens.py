"""Signed survey links: `<survey id>.<HMAC-SHA256>`, unguessable and tamper-evident.

The survey id is a random UUID (122 bits) and the signature binds it to the service's
secret, so a token can be neither guessed nor forged; single use is enforced by the
survey's state, not by the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

_PURPOSE = b"helpdesk-survey-link:v1:"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, survey_id: uuid.UUID) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE + survey_id.bytes, hashlib.sha256).digest()


def make_token(secret: str, survey_id: uuid.UUID) -> str:
    """The link token of `survey_id`."""
    return f"{_b64(survey_id.bytes)}.{_b64(_signature(secret, survey_id))}"


def read_token(secret: str, token: str) -> uuid.UUID | None:
    """The survey id of a genuine token; None for anything malformed or tampered with."""
    if len(token) > 128 or token.count(".") != 1:
        return None
    head, sig = token.split(".")
    try:
        raw_id, raw_sig = _unb64(head), _unb64(sig)
    except (ValueError, TypeError):
        return None
    if len(raw_id) != 16:
        return None
    survey_id = uuid.UUID(bytes=raw_id)
    # Canonical encoding only, so one survey has exactly one valid token.
    if make_token(secret, survey_id) != token or not hmac.compare_digest(
        raw_sig, _signature(secret, survey_id)
    ):
        return None
    return survey_id


def sign_body(secret: str, body: bytes, timestamp: str) -> str:
    """Webhook signature header value: `sha256=<hex HMAC of "<timestamp>.<body>">`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
