"""Tokens for tests: one fixed HS256 secret, bearer headers for any role."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import SecretStr

from helpdesk_runtime.auth import AuthSettings, Role, mint_token

#: The secret test services verify with (never used outside tests).
TEST_SECRET = "helpdesk-tests-only-" + "0123456789abcdef" * 2
#: Services whose test is about domain behaviour, not about who may call them.
NO_AUTH = AuthSettings(enabled=False)


def enabled_auth() -> AuthSettings:
    """Auth enabled with TEST_SECRET."""
    return AuthSettings(enabled=True, secret=SecretStr(TEST_SECRET))


def token(role: Role | str, subject: str | None = None, *, teams: Iterable[str] = (),
          ttl_seconds: int = 3600) -> str:
    """A token signed with TEST_SECRET (subject defaults to `<role>-1`)."""
    role = Role(role)
    return mint_token(enabled_auth(), subject or f"{role.value}-1", [role], teams=teams,
                      ttl_seconds=ttl_seconds)


def bearer(role: Role | str, subject: str | None = None, *, teams: Iterable[str] = ()) -> dict[str, str]:
    """An Authorization header carrying `token(role, subject, teams=teams)`."""
    return {"Authorization": f"Bearer {token(role, subject, teams=teams)}"}
