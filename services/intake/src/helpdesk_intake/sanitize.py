"""Input the schemas let through but the stores cannot keep: refused as 422 naming the field.

PostgreSQL text cannot hold NUL; lone surrogates are not UTF-8; JSON's NaN / Infinity
(Python's parser accepts them) and integers beyond 64 bits do not survive the event codec.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from helpdesk_runtime.problems import Problem, field_error

_INT64 = 2**63


def check_storable(value: Any, path: str = "") -> None:
    """Raise a 422 Problem at the first value that cannot be stored; walk mappings and lists."""
    problem = _first_problem(value, path)
    if problem is not None:
        field, message = problem
        raise Problem(422, "Validation failed", f"{field or 'body'}: {message}",
                      errors=[field_error(field or "body", message)])


def _first_problem(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        if "\x00" in value:
            return path, "must not contain NUL characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "must be valid Unicode (no lone surrogates)"
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -_INT64 <= value < _INT64 else (path, "integer out of the 64-bit range")
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "must be a finite number")
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found = _first_problem(str(key), child) or _first_problem(item, child)
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _first_problem(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None
