"""The CloudEvents 1.0 envelope and the base class every event payload derives from."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, SerializeAsAny, field_validator


class Event(BaseModel):
    """An event payload (the envelope's `data`): a frozen, past-tense fact.

    Subclasses set `TYPE` (``helpdesk.<area>.<event>.v<N>``) and `TOPIC`; defining the
    class registers it, so the codec can find it by type. A new version is a new class.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        event_type = cls.__dict__.get("TYPE")
        if event_type is None:
            return  # an abstract intermediate class
        if not isinstance(cls.__dict__.get("TOPIC"), str):
            raise TypeError(f"{cls.__name__} defines TYPE but no TOPIC")
        known = EVENT_TYPES.get(event_type)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {event_type!r} defined twice: {known} and {cls}")
        EVENT_TYPES[event_type] = cls


#: Every event class by its CloudEvents `type`; filled as the event modules are imported.
EVENT_TYPES: dict[str, type[Event]] = {}


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes plus the extensions sequence, correlationid, causationid."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    source: str
    type: str
    subject: str
    time: AwareDatetime
    specversion: Literal["1.0"] = "1.0"
    datacontenttype: Literal["application/json"] = "application/json"
    sequence: int | None = None
    correlationid: str | None = None
    causationid: str | None = None
    data: SerializeAsAny[Event]

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(timezone.utc)


def new_envelope(
    event: Event,
    *,
    source: str,
    subject: str,
    time: datetime,
    id: uuid.UUID | None = None,
    sequence: int | None = None,
    correlationid: str | None = None,
    causationid: str | None = None,
) -> Envelope:
    """Wrap `event` in an envelope; `type` comes from the event class."""
    return Envelope(
        id=id or uuid.uuid4(),
        source=source,
        type=type(event).TYPE,
        subject=subject,
        time=time,
        sequence=sequence,
        correlationid=correlationid,
        causationid=causationid,
        data=event,
    )
