"""Per-client request budgets on chosen endpoints: 429 problem+json with `Retry-After`.

Counting is done by the `limits` library (fixed windows in process memory: cheap, and each
service instance guards itself). A service builds one `RateLimit` per endpoint group from its
settings, `install_rate_limits(app, ...)`, and attaches `rate_limited(name)` to the routes.
"""

from __future__ import annotations

import math
import time
from typing import Any

from fastapi import Depends, FastAPI, Request
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter

from .auth import ANONYMOUS_ADMIN, Principal
from .openapi import problem_content
from .problems import Problem

#: What the OpenAPI of a limited route says about 429.
TOO_MANY_REQUESTS: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many requests from this client; retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
        "content": problem_content(429, "Too many requests", "At most 3000 requests per 60 s are "
                                   "allowed here; retry in 12 s."),
    },
}


def client_key(request: Request) -> str:
    """Who is spending the budget: the token's subject when authenticated, else the address."""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal) and principal is not ANONYMOUS_ADMIN:
        return f"sub:{principal.subject}"
    # Behind a proxy, run uvicorn with --forwarded-allow-ips so this is the real client.
    return f"ip:{request.client.host if request.client else 'unknown'}"


class RateLimit:
    """At most `amount` requests per client in each `window_seconds` window; 0 switches it off."""

    def __init__(self, name: str, amount: int, *, window_seconds: int = 60) -> None:
        self.name = name
        self.enabled = amount > 0
        self.item = RateLimitItemPerSecond(max(amount, 1), window_seconds)
        self._limiter = FixedWindowRateLimiter(MemoryStorage())

    async def check(self, key: str) -> None:
        """Spend one request of `key`'s budget; a 429 problem when it is used up."""
        if not self.enabled or await self._limiter.hit(self.item, self.name, key):
            return
        stats = await self._limiter.get_window_stats(self.item, self.name, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise Problem(
            429, "Too many requests",
            f"At most {self.item.amount} requests per {self.item.multiples} s are allowed here; "
            f"retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def install_rate_limits(app: FastAPI, *limits: RateLimit) -> None:
    """Give the app the budgets its `rate_limited(name)` routes spend."""
    app.state.rate_limits = {limit.name: limit for limit in limits}


def rate_limited(name: str) -> Any:
    """Dependency: spend one request of the caller's `name` budget (put it after authentication)."""

    async def spend(request: Request) -> None:
        limit: RateLimit | None = getattr(request.app.state, "rate_limits", {}).get(name)
        if limit is not None:
            await limit.check(client_key(request))

    return Depends(spend)
