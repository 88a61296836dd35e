"""REST: calendars and ordered policies (each change publishes the whole definition)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from helpdesk_events.sla import PolicyDefined
from helpdesk_runtime.problems import Problem, field_error
from helpdesk_runtime.upsert import upsert
from sqlalchemy.ext.asyncio import AsyncConnection

from . import access
from .calendars import build_calendar, calendar_event, calendar_view
from .domain.policies import DEFAULT_CALENDAR_ID, DEFAULT_POLICIES, Policy, default_calendar
from .schemas import CalendarIn, CalendarOut, PolicyIn, PolicyOut
from .store import load_policies, publish
from .tables import calendars, policies

router = APIRouter(prefix="/v1", tags=["configuration"], dependencies=[access.CONFIGURE])

_NOT_FOUND = {404: {"description": "Not found"}}
_INVALID = {422: {"description": "Invalid definition (problem+json naming the field)"}}
_CREATE = {**_INVALID, 409: {"description": "The id exists (PUT replaces it), or is built in"}}
_REPLACE = {**_INVALID, 409: {"description": "Built in: cannot be changed"}}


def _now() -> datetime:
    return datetime.now(UTC)


def _runtime(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.runtime


def _builtin_calendar() -> CalendarOut:
    return CalendarOut(
        **calendar_view(DEFAULT_CALENDAR_ID, default_calendar().to_dict(), builtin=True)
    )


async def _store_calendar(
    request: Request, calendar_id: str, body: CalendarIn, *, create: bool
) -> CalendarOut:
    if calendar_id == DEFAULT_CALENDAR_ID:
        raise Problem(409, "Conflict", "The built-in 24x7 calendar cannot be changed.")
    calendar = build_calendar(body)
    now = _now()
    runtime = _runtime(request)
    async with runtime.engine.begin() as conn:
        exists = await conn.scalar(sa.select(calendars.c.id).where(calendars.c.id == calendar_id))
        if create and exists:
            raise Problem(409, "Conflict", f"Calendar {calendar_id!r} exists; PUT replaces it.")
        definition = calendar.to_dict()
        await conn.execute(
            upsert(
                conn,
                calendars,
                ["id"],
                {"id": calendar_id, "definition": definition, "updated_at": now},
            )
        )
        await publish(conn, [calendar_event(calendar_id, calendar, now)], at=now)
    runtime.wake_relay()
    return CalendarOut(**calendar_view(calendar_id, definition))


def _same_id(body_id: str | None, path_id: str) -> None:
    """A PUT body may repeat its path's id, never name another."""
    if body_id is not None and body_id != path_id:
        raise Problem(422, "Validation failed", "The body id differs from the path.",
                      errors=[field_error("id", "differs from the path")])


@router.post(
    "/calendars",
    status_code=201,
    response_model=CalendarOut,
    responses=_CREATE,
    summary="Create a business-hours calendar",
)
async def create_calendar(body: CalendarIn, request: Request, response: Response) -> CalendarOut:
    calendar_id = body.id or uuid.uuid4().hex[:12]
    created = await _store_calendar(request, calendar_id, body, create=True)
    response.headers["Location"] = f"/v1/calendars/{calendar_id}"
    return created


@router.put(
    "/calendars/{calendar_id}",
    response_model=CalendarOut,
    responses=_REPLACE,
    summary="Create or replace a calendar",
)
async def put_calendar(calendar_id: str, body: CalendarIn, request: Request) -> CalendarOut:
    _same_id(body.id, calendar_id)
    return await _store_calendar(request, calendar_id, body, create=False)


@router.get(
    "/calendars",
    response_model=list[CalendarOut],
    summary="Every calendar, the built-in 24x7 first",
)
async def list_calendars(request: Request) -> list[CalendarOut]:
    async with _runtime(request).reader.connect() as conn:
        rows = (await conn.execute(sa.select(calendars).order_by(calendars.c.id))).all()
    return [_builtin_calendar(), *(CalendarOut(**calendar_view(r.id, r.definition)) for r in rows)]


@router.get(
    "/calendars/{calendar_id}",
    response_model=CalendarOut,
    responses=_NOT_FOUND,
    summary="One calendar",
)
async def get_calendar(calendar_id: str, request: Request) -> CalendarOut:
    if calendar_id == DEFAULT_CALENDAR_ID:
        return _builtin_calendar()
    async with _runtime(request).reader.connect() as conn:
        row = (
            await conn.execute(sa.select(calendars).where(calendars.c.id == calendar_id))
        ).first()
    if row is None:
        raise Problem(404, "Not found", f"No calendar {calendar_id!r}.")
    return CalendarOut(**calendar_view(row.id, row.definition))


@router.delete(
    "/calendars/{calendar_id}",
    status_code=204,
    responses={**_NOT_FOUND, 409: {"description": "In use"}},
    summary="Delete a calendar no policy uses",
)
async def delete_calendar(calendar_id: str, request: Request) -> Response:
    if calendar_id == DEFAULT_CALENDAR_ID:
        raise Problem(409, "Conflict", "The built-in 24x7 calendar cannot be deleted.")
    async with _runtime(request).engine.begin() as conn:
        users = [
            p.id for p in await load_policies(conn) if p.calendar_id == calendar_id and p.active
        ]
        if users:
            raise Problem(409, "Conflict", f"Calendar {calendar_id!r} is used by policies {users}.")
        deleted = await conn.execute(sa.delete(calendars).where(calendars.c.id == calendar_id))
    if deleted.rowcount == 0:
        raise Problem(404, "Not found", f"No calendar {calendar_id!r}.")
    return Response(status_code=204)


async def validate_policy(conn: AsyncConnection, body: PolicyIn) -> None:
    """Refuse a policy without targets or on an unknown calendar (422 naming the field)."""
    errors = []
    if all(v is None for v in body.targets.model_dump().values()):
        errors.append(field_error("targets", "at least one target is required", "missing"))
    if body.calendar_id != DEFAULT_CALENDAR_ID and not await conn.scalar(
        sa.select(calendars.c.id).where(calendars.c.id == body.calendar_id)
    ):
        errors.append(
            field_error("calendar_id", f"unknown calendar {body.calendar_id!r}", "unknown")
        )
    if errors:
        raise Problem(
            422,
            "Validation failed",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )


def policy_of(policy_id: str, order: int, body: PolicyIn) -> Policy:
    """The domain policy of a request body."""
    return Policy(id=policy_id, order=order, **body.model_dump(exclude={"id", "order"}))


def _policy_event(policy: Policy) -> PolicyDefined:
    return PolicyDefined(policy_id=policy.id, **policy.model_dump(exclude={"id"}))


async def _store_policy(
    request: Request, policy_id: str, body: PolicyIn, *, create: bool
) -> PolicyOut:
    if any(p.id == policy_id for p in DEFAULT_POLICIES):
        raise Problem(
            409,
            "Conflict",
            "Built-in default policies cannot be changed; add a policy before them.",
        )
    runtime = _runtime(request)
    now = _now()
    async with runtime.engine.begin() as conn:
        await validate_policy(conn, body)
        existing = (
            await conn.execute(sa.select(policies.c.position).where(policies.c.id == policy_id))
        ).first()
        if create and existing:
            raise Problem(409, "Conflict", f"Policy {policy_id!r} exists; PUT replaces it.")
        if body.order is not None:
            order = body.order
        elif existing:
            order = existing.position
        else:
            order = (await conn.scalar(sa.select(sa.func.max(policies.c.position))) or 0) + (
                1 if await conn.scalar(sa.select(sa.func.count()).select_from(policies)) else 0
            )
        policy = policy_of(policy_id, order, body)
        await conn.execute(
            upsert(
                conn,
                policies,
                ["id"],
                {
                    "id": policy_id,
                    "position": order,
                    "definition": policy.model_dump(mode="json"),
                    "updated_at": now,
                },
            )
        )
        await publish(conn, [_policy_event(policy)], at=now)
    runtime.wake_relay()
    return PolicyOut(**policy.model_dump())


@router.post(
    "/policies",
    status_code=201,
    response_model=PolicyOut,
    responses=_CREATE,
    summary="Create a policy",
)
async def create_policy(body: PolicyIn, request: Request, response: Response) -> PolicyOut:
    policy_id = body.id or uuid.uuid4().hex[:12]
    created = await _store_policy(request, policy_id, body, create=True)
    response.headers["Location"] = f"/v1/policies/{policy_id}"
    return created


@router.put(
    "/policies/{policy_id}",
    response_model=PolicyOut,
    responses=_REPLACE,
    summary="Create or replace a policy",
)
async def put_policy(policy_id: str, body: PolicyIn, request: Request) -> PolicyOut:
    _same_id(body.id, policy_id)
    return await _store_policy(request, policy_id, body, create=False)


@router.get(
    "/policies",
    response_model=list[PolicyOut],
    summary="Policies in evaluation order, then the built-in defaults",
)
async def list_policies(request: Request) -> list[PolicyOut]:
    async with _runtime(request).reader.connect() as conn:
        configured = await load_policies(conn)
    return [
        *(PolicyOut(**p.model_dump()) for p in configured),
        *(PolicyOut(**p.model_dump(), builtin=True) for p in DEFAULT_POLICIES),
    ]


@router.get(
    "/policies/{policy_id}", response_model=PolicyOut, responses=_NOT_FOUND, summary="One policy"
)
async def get_policy(policy_id: str, request: Request) -> PolicyOut:
    for policy in await list_policies(request):
        if policy.id == policy_id:
            return policy
    raise Problem(404, "Not found", f"No policy {policy_id!r}.")


@router.delete(
    "/policies/{policy_id}",
    status_code=204,
    responses=_NOT_FOUND,
    summary="Retire a policy (published as inactive; running clocks keep their targets)",
)
async def delete_policy(policy_id: str, request: Request) -> Response:
    runtime = _runtime(request)
    now = _now()
    async with runtime.engine.begin() as conn:
        row = (
            await conn.execute(sa.select(policies.c.definition).where(policies.c.id == policy_id))
        ).first()
        if row is None:
            raise Problem(404, "Not found", f"No policy {policy_id!r}.")
        await conn.execute(sa.delete(policies).where(policies.c.id == policy_id))
        retired = Policy.model_validate(row.definition).model_copy(update={"active": False})
        await publish(conn, [_policy_event(retired)], at=now)
    runtime.wake_relay()
    return Response(status_code=204)
