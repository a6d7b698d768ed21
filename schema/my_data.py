"""``MyData``: everything stored about the signed-in user, for that user (contract §9)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from schema.context import Info
from schema.errors import bad_input
from schema.segment import AudienceSegment, PageInfo
from schema.segment_change import SegmentChangeConnection, cursor_position

DEFAULT_PAGE = 20
MAX_PAGE = 100
#: segments listed in one answer (a viewer's pairs are bounded; beyond this, mySegments pages)
MAX_SEGMENTS = 1000
_EVENT_CURSOR = "event:"


def _size(first: int | None) -> int:
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise bad_input(f"first must be between 0 and {MAX_PAGE}", field="first")
    return size


def _event_cursor(event_id: str) -> str:
    return base64.urlsafe_b64encode(f"{_EVENT_CURSOR}{event_id}".encode()).decode()


def _event_after(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(_EVENT_CURSOR):
        raise bad_input("after: not a cursor this API issued", field="after")
    return raw[len(_EVENT_CURSOR):]


def _fields(fields: Mapping[str, Any]) -> Any:
    """An event's fields as JSON (times as ISO-8601; the JSON scalar takes any value)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}


@strawberry.type(description="One stored event of the caller's (exact coordinates left out).")
class MyEvent:
    event_id: strawberry.ID
    type: str
    occurred_at: datetime
    fields: JSON = strawberry.field(description="The event's fields as it was sent.")


@strawberry.type
class MyEventEdge:
    cursor: str
    node: MyEvent


@strawberry.type
class MyEventConnection:
    edges: list[MyEventEdge]
    page_info: PageInfo


@strawberry.type(description="What the caller told us about themselves.")
class MyProfile:
    interests: list[str]
    location_cell: str | None = strawberry.field(
        description="The H3 cell (about 5 km across) of the last reported location.")


@strawberry.type(description="Everything stored about the signed-in user, except risk labels.")
class MyData:
    user_id: strawberry.ID

    @strawberry.field(description="The caller's events, by event id.")
    async def events(self, info: Info, first: int | None = DEFAULT_PAGE,
                     after: str | None = None) -> MyEventConnection:
        size = _size(first)
        rows = await info.context.services.data_rights.events(
            str(self.user_id), _event_after(after) if after else None, size + 1)
        edges = [MyEventEdge(cursor=_event_cursor(e.event_id),
                             node=MyEvent(event_id=strawberry.ID(e.event_id), type=e.type,
                                          occurred_at=e.occurred_at,
                                          fields=_fields(e.fields)))
                 for e in rows[:size]]
        return MyEventConnection(edges=edges, page_info=PageInfo(
            has_next_page=len(rows) > size, has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))

    @strawberry.field(description="The caller's segments, by creator (never a risk label).")
    async def segments(self, info: Info) -> list[AudienceSegment]:
        services = info.context.services
        await services.freshness.viewer(str(self.user_id))
        rows = await services.segments.page_for_viewer(str(self.user_id), None, MAX_SEGMENTS)
        return [AudienceSegment.from_domain(s, own_data=True) for s in rows]

    @strawberry.field(description="The caller's segment changes, newest first.")
    async def history(self, info: Info, first: int | None = DEFAULT_PAGE,
                      after: str | None = None) -> SegmentChangeConnection:
        size = _size(first)
        before = cursor_position(after) if after else None
        services = info.context.services
        await services.freshness.viewer(str(self.user_id))
        rows = await services.history.of_viewer(str(self.user_id), None, before, size + 1)
        return SegmentChangeConnection.from_page(rows, size, after)

    @strawberry.field(description="The H3 cell (about 5 km across) of the last reported "
                                  "location; null when never reported.")
    async def location_cell(self, info: Info) -> str | None:
        profile = await info.context.services.data_rights.profile(str(self.user_id))
        return profile.location_cell if profile is not None else None

    @strawberry.field(description="Interests and location cell; null when never reported.")
    async def profile(self, info: Info) -> MyProfile | None:
        profile = await info.context.services.data_rights.profile(str(self.user_id))
        if profile is None:
            return None
        return MyProfile(interests=list(profile.interests), location_cell=profile.location_cell)
