"""Segment history resolvers: own history, the operators' change feed, its live tail."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers.segments import check_id
from schema.context import Info
from schema.erasure import ErasureReceipt
from schema.errors import bad_input
from schema.my_data import MyData
from schema.permissions import require_principal
from schema.segment_change import SegmentChange, SegmentChangeConnection, cursor_position
from services.erasure import ErasureReceipt as Receipt

DEFAULT_PAGE = 20
MAX_PAGE = 100
#: close code for a subscriber that fell a whole queue behind (1008: policy violation)
SLOW_CONSUMER_CLOSE = 1008


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise bad_input(f"first must be between 0 and {MAX_PAGE}", field="first")
    return size


def check_creator(creator_id: str | None) -> str | None:
    return None if creator_id is None else check_id("creatorId", creator_id)


async def my_segment_history(info: Info, creator_id: str | None, first: int | None,
                             after: str | None) -> SegmentChangeConnection:
    viewer = require_principal(info.context).sub
    size, creator = page_size(first), check_creator(creator_id)
    before = cursor_position(after) if after else None
    services = info.context.services
    # Read-your-writes, as for mySegments: the viewer's queued work runs first.
    await services.freshness.viewer(viewer)
    rows = await services.history.of_viewer(viewer, creator, before, size + 1)
    return SegmentChangeConnection.from_page(rows, size, after)


def my_data(info: Info) -> MyData:
    return MyData(user_id=strawberry.ID(require_principal(info.context).sub))


async def segment_changes(info: Info, first: int | None, after: str | None
                          ) -> SegmentChangeConnection:
    size = page_size(first)
    position = cursor_position(after) if after else 0
    rows = await info.context.services.history.feed(position, size + 1)
    return SegmentChangeConnection.from_page(rows, size, after)


async def segment_changed(info: Info, after: str | None) -> AsyncGenerator[SegmentChange, None]:
    history = info.context.services.history
    position = cursor_position(after) if after else await history.head()
    socket = info.context.request

    async def disconnect() -> None:
        await socket.close(code=SLOW_CONSUMER_CLOSE,
                           reason="slow consumer: resume with segmentChanges(after: cursor)")

    async for change in history.follow(position, disconnect):
        yield SegmentChange.from_domain(change)


async def erase_viewer(info: Info, viewer_id: str) -> ErasureReceipt:
    return _receipt(await info.context.services.erasure.erase(check_id("viewerId", viewer_id)))


async def erase_my_data(info: Info) -> ErasureReceipt:
    return _receipt(await info.context.services.erasure.erase(
        require_principal(info.context).sub))


def _receipt(receipt: Receipt) -> ErasureReceipt:
    return ErasureReceipt(viewer_id=strawberry.ID(receipt.viewer_id), erased=receipt.erased,
                          events=receipt.events, segments=receipt.segments)
