"""`/v1/survey-policies`: create, list, read, replace and delete survey policies."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import IntegrityError

from helpdesk_runtime.problems import Problem, field_error

from .domain.policy import Policy
from . import access
from .schemas import PolicyIn, PolicyOut
from .store import utc
from .tables import policies

router = APIRouter(prefix="/v1/survey-policies", tags=["survey policies"],
                   dependencies=[access.CONFIGURE])

_DUPLICATE = Problem(
    409,
    "Conflict",
    "A survey policy with this name exists.",
    errors=[field_error("name", "already taken", "duplicate")],
)


def to_domain(policy_id: uuid.UUID, body: PolicyIn) -> Policy:
    """The domain policy written as `body`."""
    return Policy(
        id=policy_id,
        name=body.name,
        enabled=body.enabled,
        position=body.position,
        trigger=body.trigger,
        questions=tuple(body.questions),
        delay=timedelta(seconds=body.delay_seconds),
        sample_rate=body.sample_rate,
        throttle_days=body.throttle_days,
        expires_after=timedelta(seconds=body.expires_after_seconds),
        remind_before=None
        if body.remind_before_seconds is None
        else timedelta(seconds=body.remind_before_seconds),
        conditions=body.conditions,
    )


def to_view(row: Any) -> PolicyOut:
    """The API view of a stored policy row."""
    p = Policy.model_validate(row.document)
    return PolicyOut(
        id=p.id,
        name=p.name,
        enabled=p.enabled,
        position=p.position,
        trigger=p.trigger,
        questions=list(p.questions),
        delay_seconds=int(p.delay.total_seconds()),
        sample_rate=p.sample_rate,
        throttle_days=p.throttle_days,
        expires_after_seconds=int(p.expires_after.total_seconds()),
        remind_before_seconds=None
        if p.remind_before is None
        else int(p.remind_before.total_seconds()),
        conditions=p.conditions,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _now(request: Request) -> datetime:
    return request.app.state.clock()


async def _get(request: Request, policy_id: uuid.UUID) -> Any:
    async with request.app.state.runtime.reader.connect() as conn:
        row = (await conn.execute(sa.select(policies).where(policies.c.id == policy_id))).first()
    if row is None:
        raise Problem(404, "Not found", f"No survey policy {policy_id}.")
    return row


@router.post(
    "",
    status_code=201,
    response_model=PolicyOut,
    summary="Create a survey policy",
    responses={409: {"description": "Name taken"}, 422: {"description": "Invalid policy"}},
)
async def create_policy(body: PolicyIn, request: Request, response: Response) -> PolicyOut:
    policy = to_domain(uuid.uuid4(), body)
    now = _now(request)
    try:
        async with request.app.state.runtime.engine.begin() as conn:
            await conn.execute(
                sa.insert(policies).values(
                    id=policy.id,
                    name=policy.name,
                    document=policy.model_dump(mode="json"),
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise _DUPLICATE from None
    response.headers["Location"] = f"/v1/survey-policies/{policy.id}"
    return to_view(await _get(request, policy.id))


@router.get(
    "", response_model=list[PolicyOut], summary="Every survey policy, in the order they are tried"
)
async def list_policies(request: Request) -> list[PolicyOut]:
    async with request.app.state.runtime.reader.connect() as conn:
        rows = (await conn.execute(sa.select(policies))).all()
    views = [to_view(r) for r in rows]
    return sorted(views, key=lambda v: (v.position, v.name))


@router.get(
    "/{policy_id}",
    response_model=PolicyOut,
    summary="One survey policy",
    responses={404: {"description": "No such policy"}},
)
async def get_policy(policy_id: uuid.UUID, request: Request) -> PolicyOut:
    return to_view(await _get(request, policy_id))


@router.put(
    "/{policy_id}",
    response_model=PolicyOut,
    summary="Replace a survey policy",
    responses={404: {"description": "No such policy"}, 409: {"description": "Name taken"}},
)
async def replace_policy(policy_id: uuid.UUID, body: PolicyIn, request: Request) -> PolicyOut:
    policy = to_domain(policy_id, body)
    try:
        async with request.app.state.runtime.engine.begin() as conn:
            result = await conn.execute(
                sa.update(policies)
                .where(policies.c.id == policy_id)
                .values(
                    name=policy.name,
                    document=policy.model_dump(mode="json"),
                    updated_at=_now(request),
                )
            )
    except IntegrityError:
        raise _DUPLICATE from None
    if result.rowcount != 1:
        raise Problem(404, "Not found", f"No survey policy {policy_id}.")
    return to_view(await _get(request, policy_id))


@router.delete(
    "/{policy_id}",
    status_code=204,
    summary="Delete a survey policy (surveys already scheduled stay)",
    responses={404: {"description": "No such policy"}},
)
async def delete_policy(policy_id: uuid.UUID, request: Request) -> Response:
    async with request.app.state.runtime.engine.begin() as conn:
        result = await conn.execute(sa.delete(policies).where(policies.c.id == policy_id))
    if result.rowcount != 1:
        raise Problem(404, "Not found", f"No survey policy {policy_id}.")
    return Response(status_code=204)
