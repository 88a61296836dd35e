"""Bearer-token authentication (JWT, HS256 or RS256) and role checks shared by every service."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .problems import Problem

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "helpdesk"}
#: Verified tokens a service remembers (oldest forgotten first).
DEFAULT_TOKEN_CACHE_SIZE = 4096


class Role(StrEnum):
    """What a caller may do; an admin may do everything."""

    REQUESTER = "requester"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    INTEGRATOR = "integrator"


class AuthSettings(BaseSettings):
    """Token verification, shared by all services (env prefix `AUTH_`)."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    enabled: bool = True
    algorithm: Literal["HS256", "RS256"] = "HS256"
    #: Shared secret for HS256 (at least 32 characters).
    secret: SecretStr | None = None
    #: RS256: where the public keys come from (a JWKS URL, or a JWKS/PEM file).
    jwks_url: str | None = None
    public_key_file: Path | None = None
    issuer: str = "helpdesk"
    audience: str = "helpdesk"
    leeway_seconds: int = 30

    def check(self) -> None:
        """Refuse settings that would accept forged tokens."""
        if not self.enabled:
            return
        if self.algorithm == "HS256":
            value = self.secret.get_secret_value() if self.secret else ""
            if value.lower() in PLACEHOLDER_SECRETS or len(value) < 32:
                raise ValueError("AUTH_SECRET must be a random string of at least 32 characters")
        elif not (self.jwks_url or self.public_key_file):
            raise ValueError("RS256 needs AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    subject: str
    roles: frozenset[Role]
    teams: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None

    def has_any(self, roles: Iterable[Role]) -> bool:
        """True when the caller holds one of `roles` (admins hold every role)."""
        return Role.ADMIN in self.roles or bool(self.roles & set(roles))

    @property
    def is_staff(self) -> bool:
        """Agents, supervisors and admins work tickets."""
        return self.has_any((Role.AGENT, Role.SUPERVISOR))


#: The caller when authentication is switched off (development only).
ANONYMOUS_ADMIN = Principal(subject="anonymous", roles=frozenset({Role.ADMIN}))


def mint_token(
    settings: AuthSettings, subject: str, roles: Iterable[Role | str], *, teams: Iterable[str] = (),
    ttl_seconds: int = 3600, name: str | None = None, private_key: str | None = None,
) -> str:
    """A signed token for `subject` (HS256 with the shared secret, or RS256 with `private_key`)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject, "roles": sorted(Role(r).value for r in roles), "teams": sorted(teams),
        "iss": settings.issuer, "aud": settings.audience, "iat": now, "exp": now + ttl_seconds,
    }
    if name:
        claims["name"] = name
    if settings.algorithm == "HS256":
        assert settings.secret is not None
        return jwt.encode(claims, settings.secret.get_secret_value(), algorithm="HS256")
    if private_key is None:
        raise ValueError("RS256 tokens are minted by your identity provider, or pass private_key")
    return jwt.encode(claims, private_key, algorithm="RS256")


class TokenVerifier:
    """Checks signature, expiry, issuer and audience; returns the caller."""

    def __init__(self, settings: AuthSettings, *, cache_size: int = DEFAULT_TOKEN_CACHE_SIZE) -> None:
        settings.check()
        self.settings = settings
        self.cache_size = cache_size
        # Raw token -> (caller, time until which PyJWT would still accept it). Clients send
        # the same token with every request: checking its signature once is enough.
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._jwks = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None
        self._public_key = (
            settings.public_key_file.read_text() if settings.public_key_file is not None else None
        )

    def _key(self, token: str) -> Any:
        if self.settings.algorithm == "HS256":
            assert self.settings.secret is not None
            return self.settings.secret.get_secret_value()
        if self._jwks is not None:
            return self._jwks.get_signing_key_from_jwt(token).key
        return self._public_key

    @property
    def cached_tokens(self) -> int:
        """How many verified tokens are remembered (at most `cache_size`)."""
        return len(self._verified)

    def verify(self, token: str) -> Principal:
        """The principal of a valid token (remembered until it expires); a 401 problem otherwise."""
        cached = self._verified.get(token)
        if cached is not None:
            principal, valid_until = cached
            if time.time() < valid_until:
                return principal
            del self._verified[token]
        principal, expires = self._decode(token)
        self._remember(token, principal, expires + self.settings.leeway_seconds)
        return principal

    def _remember(self, token: str, principal: Principal, valid_until: float) -> None:
        if self.cache_size <= 0:
            return
        while len(self._verified) >= self.cache_size:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (principal, valid_until)

    def _decode(self, token: str) -> tuple[Principal, float]:
        """Verify the token in full: its caller and its `exp` claim."""
        try:
            claims = jwt.decode(
                token, self._key(token), algorithms=[self.settings.algorithm],
                issuer=self.settings.issuer, audience=self.settings.audience,
                leeway=self.settings.leeway_seconds, options={"require": ["sub", "exp"]},
            )
            roles = frozenset(Role(r) for r in claims.get("roles", []))
        except (jwt.PyJWTError, ValueError) as exc:
            raise unauthorized(f"Invalid token: {exc}") from exc
        principal = Principal(subject=str(claims["sub"]), roles=roles,
                              teams=frozenset(claims.get("teams", [])), name=claims.get("name"))
        return principal, float(claims["exp"])


def unauthorized(detail: str) -> Problem:
    """401 with the challenge RFC 6750 asks for."""
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="helpdesk"'})


_bearer = HTTPBearer(auto_error=False, description="JWT from `helpdesk token` or your identity provider")


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller of this request (dependency of every protected router)."""
    verifier: TokenVerifier | None = request.app.state.token_verifier
    if verifier is None:
        principal = ANONYMOUS_ADMIN
    elif credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("A bearer token is required.")
    else:
        principal = verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


async def authenticated(request: Request) -> Principal:
    """The caller `authenticate` found for this request (authenticating now if it has not run).

    For routers `build_app` authenticates: FastAPI descends into a dependency's sub-dependencies
    on every use before it consults its cache, so each `Depends(authenticate)` costs two solves
    per request, this one costs one. Routes still show the bearer scheme through the router's
    `authenticate`; on any other route use `CurrentPrincipal`.
    """
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    return await authenticate(request, await _bearer(request))


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """Dependency: 403 unless the caller holds one of `roles` (admins always pass)."""

    # Also guards single routes on unauthenticated routers (/metrics): it authenticates itself,
    # which documents the bearer scheme there.
    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.has_any(roles):
            raise forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return principal

    return Depends(check)


#: Methods that only read; integrators may call these and nothing else.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def forbidden(detail: str) -> Problem:
    """403: authenticated, but not allowed to do this."""
    return Problem(403, "Forbidden", detail)


def allow(*, read: Iterable[Role], write: Iterable[Role]):  # type: ignore[no-untyped-def]
    """Dependency for a router: `read` roles may GET, `write` roles may also change things."""
    readers, writers = frozenset(read) | frozenset(write), frozenset(write)

    async def check(request: Request) -> Principal:
        principal = await authenticated(request)
        roles = readers if request.method in READ_METHODS else writers
        if not principal.has_any(roles):
            names = ", ".join(sorted(r.value for r in roles | {Role.ADMIN}))
            raise forbidden(f"{request.method} here needs one of the roles: {names}.")
        return principal

    return Depends(check)


def require_teams(principal: Principal, teams: Iterable[str | None]) -> None:
    """403 unless a supervisor-only caller belongs to every named team (admins always pass)."""
    if Role.ADMIN in principal.roles:
        return
    missing = sorted({t for t in teams if t is not None} - principal.teams)
    if missing:
        raise forbidden(f"Not one of your teams: {', '.join(missing)}.")


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
#: The caller on a router `build_app` authenticates (one solve per use; see `authenticated`).
Caller = Annotated[Principal, Depends(authenticated)]
