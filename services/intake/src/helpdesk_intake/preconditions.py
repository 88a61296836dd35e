"""ETag / If-Match: a ticket's entity tag is its stream version, quoted (`"7"`)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from helpdesk_runtime.problems import Problem, field_error

_ENTITY_TAG = re.compile(r'^\s*(W/)?"([^"]*)"\s*$')

IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", max_length=1000, description=(
        'The ETag of the version the change is based on, e.g. "3" (412 if the ticket moved on). '
        "`*` or no header: apply to whatever version is current."),
        examples=['"3"']),
]


def etag(version: int) -> str:
    """The entity tag of a ticket version."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match header requires, None for none or `*`; 422 if malformed.

    A list of tags may only name one version (a ticket has one current version); a weak tag
    never matches (If-Match uses the strong comparison), so it is a 412 for any version.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions = set()
    for part in if_match.split(","):
        match = _ENTITY_TAG.match(part)
        if match is None or not match.group(2).isdigit() or len(match.group(2)) > 12:
            raise Problem(
                422, "Validation failed", 'If-Match must be a ticket ETag such as "3", or *',
                errors=[field_error("header.If-Match", 'expected an entity tag like "3"')],
            )
        versions.add(-1 if match.group(1) else int(match.group(2)))
    if len(versions) != 1:
        raise Problem(422, "Validation failed", "If-Match names more than one version",
                      errors=[field_error("header.If-Match", "name exactly one version")])
    return versions.pop()
