"""JSON responses rendered by orjson: several times cheaper than the standard library's encoder."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """`JSONResponse` (same media type, compact UTF-8 output) encoded with orjson."""

    def render(self, content: Any) -> bytes:
        """The body bytes of `content`."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
