"""Creator insights: read the creator's last release, validate arguments, map domain errors."""

from __future__ import annotations

from domain.insights.growth import GrowthWindow
from domain.insights.labels import SegmentKind
from domain.insights.performance import (
    DEFAULT_DAYS,
    InvalidPerformanceQuery,
    SegmentPerformance,
)
from domain.insights.view import ShownSegment
from resolvers.segments import check_id
from schema.context import Info
from schema.errors import bad_input
from services.insights import ReleasedAudience

DEFAULT_TOP_SEGMENTS = 5
#: there are 36 combined segments; a dashboard lists a handful
MAX_TOP_SEGMENTS = 20


async def creator_audience(info: Info, creator_id: str) -> ReleasedAudience:
    return await info.context.services.insights.audience(check_id("creatorId", creator_id))


def top_segments(audience: ReleasedAudience, limit: int | None) -> tuple[ShownSegment, ...]:
    size = DEFAULT_TOP_SEGMENTS if limit is None else limit
    if not 1 <= size <= MAX_TOP_SEGMENTS:
        raise bad_input(f"limit must be between 1 and {MAX_TOP_SEGMENTS}", field="limit")
    return audience.view.segments[:size]


async def growth(info: Info, audience: ReleasedAudience) -> tuple[GrowthWindow, ...] | None:
    if audience.view.withheld:
        return None
    return await info.context.services.insights.growth(audience.view)


async def segment_performance(info: Info, audience: ReleasedAudience, segment_type: SegmentKind,
                              segment_value: str, days: int | None) -> SegmentPerformance:
    try:
        return await info.context.services.insights.performance(
            audience.view, SegmentKind(segment_type), segment_value.strip(),
            DEFAULT_DAYS if days is None else days)
    except InvalidPerformanceQuery as exc:
        raise bad_input(str(exc), field=exc.field) from None
