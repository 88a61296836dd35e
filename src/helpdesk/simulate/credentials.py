"""How the simulator authenticates: per-actor tokens minted from a secret, or one given token."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

#: Minted tokens outlive any simulation at a sensible speed.
MINTED_TTL_S = 7 * 24 * 3600
SIMULATOR = "simulator"


@lru_cache(maxsize=4096)
def _minted(secret: str, role: str, subject: str) -> str:
    from helpdesk.devauth import dev_token

    return dev_token(secret, role, subject, ttl_seconds=MINTED_TTL_S)


@dataclass(frozen=True)
class Credentials:
    """With `secret` each simulated person acts under their own token (requesters as
    requesters, agents as agents); with only `token` every call carries that one token;
    with neither, no Authorization header (services running with AUTH_ENABLED=false)."""

    token: str | None = None
    secret: str | None = None

    def headers(self, role: str, subject: str) -> dict[str, str]:
        """The Authorization header for `subject` acting as `role`."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.secret:
            return {"Authorization": f"Bearer {_minted(self.secret, role, subject)}"}
        return {}

    def admin(self) -> dict[str, str]:
        """The header for seeding and lookups (an admin)."""
        return self.headers("admin", SIMULATOR)
