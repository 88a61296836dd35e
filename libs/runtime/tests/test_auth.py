"""Tokens: what is accepted, what is refused, and why."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from helpdesk_runtime.auth import AuthSettings, Principal, Role, TokenVerifier, mint_token
from helpdesk_runtime.problems import Problem

SECRET = "x" * 40


def settings(**overrides: object) -> AuthSettings:
    return AuthSettings(secret=SecretStr(SECRET), **overrides)  # type: ignore[arg-type]


def test_a_minted_token_verifies_to_its_subject_roles_and_teams() -> None:
    token = mint_token(settings(), "u-1", [Role.AGENT], teams=["network"])
    principal = TokenVerifier(settings()).verify(token)
    assert principal == Principal(subject="u-1", roles=frozenset({Role.AGENT}), teams=frozenset({"network"}))


@pytest.mark.parametrize("secret", ["", "changeme", "short-secret"])
def test_placeholder_or_short_secrets_are_refused_at_start(secret: str) -> None:
    with pytest.raises(ValueError, match="AUTH_SECRET"):
        TokenVerifier(AuthSettings(secret=SecretStr(secret)))


def test_expired_tampered_and_foreign_tokens_are_401() -> None:
    verifier = TokenVerifier(settings())
    expired = mint_token(settings(leeway_seconds=0), "u-1", [Role.AGENT], ttl_seconds=-10)
    other_secret = mint_token(AuthSettings(secret=SecretStr("y" * 40)), "u-1", [Role.ADMIN])
    other_audience = mint_token(settings(audience="elsewhere"), "u-1", [Role.ADMIN])
    good = mint_token(settings(), "u-1", [Role.AGENT])
    header, payload, signature = good.split(".")
    tampered = ".".join([header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature])
    for token in (expired, other_secret, other_audience, tampered, "not-a-jwt"):
        with pytest.raises(Problem) as caught:
            TokenVerifier(settings(leeway_seconds=0)).verify(token)
        assert caught.value.status == 401
        assert caught.value.headers == {"WWW-Authenticate": 'Bearer realm="helpdesk"'}
    assert verifier.verify(good).subject == "u-1"


def test_unknown_roles_make_a_token_invalid() -> None:
    token = jwt.encode({"sub": "u", "roles": ["wizard"], "exp": int(time.time()) + 60,
                        "iss": "helpdesk", "aud": "helpdesk"}, SECRET, algorithm="HS256")
    with pytest.raises(Problem):
        TokenVerifier(settings()).verify(token)


def test_rs256_tokens_verify_against_the_public_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public = tmp_path / "public.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    rs = AuthSettings(algorithm="RS256", public_key_file=public)
    token = mint_token(rs, "svc-bi", [Role.INTEGRATOR], private_key=private_pem)
    assert TokenVerifier(rs).verify(token).roles == frozenset({Role.INTEGRATOR})
    # An HS256 token signed with the public key text must not pass (algorithm confusion).
    with pytest.raises(Problem):
        TokenVerifier(rs).verify(mint_token(settings(), "x", [Role.ADMIN]))


def test_admins_hold_every_role_and_staff_means_agent_or_supervisor() -> None:
    admin = Principal("a", frozenset({Role.ADMIN}))
    requester = Principal("r", frozenset({Role.REQUESTER}))
    assert admin.has_any([Role.SUPERVISOR]) and admin.is_staff
    assert not requester.has_any([Role.AGENT]) and not requester.is_staff


def test_a_verified_token_is_remembered_and_checked_again_once_it_expires() -> None:
    verifier = TokenVerifier(settings(leeway_seconds=0))
    expires = int(time.time()) + 1
    token = jwt.encode({"sub": "u-1", "roles": ["agent"], "exp": expires, "iss": "helpdesk",
                        "aud": "helpdesk"}, SECRET, algorithm="HS256")
    assert verifier.verify(token).subject == "u-1"
    assert verifier.verify(token).subject == "u-1"
    assert verifier.cached_tokens == 1
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(Problem) as caught:
        verifier.verify(token)
    assert caught.value.status == 401
    assert verifier.cached_tokens == 0


def test_the_token_cache_is_bounded_and_never_remembers_refused_tokens() -> None:
    verifier = TokenVerifier(settings(), cache_size=2)
    tokens = [mint_token(settings(), f"u-{n}", [Role.AGENT]) for n in range(3)]
    assert [verifier.verify(t).subject for t in tokens] == ["u-0", "u-1", "u-2"]
    assert verifier.cached_tokens == 2
    assert verifier.verify(tokens[0]).subject == "u-0"  # forgotten, so verified again
    with pytest.raises(Problem):
        verifier.verify(tokens[1][:-3] + "AAA")
    assert verifier.cached_tokens == 2
