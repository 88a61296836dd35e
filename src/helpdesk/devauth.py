"""Development tokens: the embedded run's secret under var/, and minting tokens from it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from pydantic import SecretStr

from helpdesk_runtime.auth import AuthSettings, Role, mint_token

#: Where `helpdesk up` keeps its generated AUTH_SECRET (reused on every later start).
SECRET_FILE = "auth-secret"


def embedded_secret(var_dir: Path) -> str:
    """The secret in `var_dir`, generated (random, 0600) on the first call."""
    path = var_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    return value


def known_secret(var_dir: Path) -> str | None:
    """AUTH_SECRET from the environment, else the embedded run's secret if it exists."""
    if os.environ.get("AUTH_SECRET"):
        return os.environ["AUTH_SECRET"]
    path = var_dir / SECRET_FILE
    return path.read_text().strip() if path.exists() else None


def dev_token(secret: str, role: Role | str, subject: str, *, teams: Iterable[str] = (),
              ttl_seconds: int = 8 * 3600) -> str:
    """A HS256 token the services accept when they run with `secret` (issuer/audience from AUTH_*)."""
    settings = AuthSettings(secret=SecretStr(secret), algorithm="HS256")
    return mint_token(settings, subject, [Role(role)], teams=teams, ttl_seconds=ttl_seconds)
