"""``CreatorAudienceInsights``: what a creator (or an admin) reads of an audience (contract §5).

Below the privacy floor the aggregates are withheld without an error: ``withheld`` is true,
``withheldReason`` says why, the sections are null and the lists empty, so a client reads the
same shape either way.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.insights.labels import SegmentKind
from domain.insights.messaging import suggest
from domain.insights.performance import DEFAULT_DAYS, InvalidPerformanceQuery
from domain.insights.recommendations import recommend
from domain.insights.view import AudienceView, ReleasedAudience
from domain.segments.dimensions import BY_DIMENSION, DIMENSIONS
from schema.audience import AudienceBreakdown, AudienceOverview, PrivacyPolicy, TopSegment
from schema.context import Info
from schema.errors import bad_input
from schema.growth import AudienceGrowth
from schema.recommendations import MessagingSuggestion, Recommendations
from schema.segment_change import SegmentDimension
from schema.segment_performance import SegmentPerformance

DEFAULT_TOP_SEGMENTS = 5
#: there are 36 combined segments; a dashboard lists a handful
MAX_TOP_SEGMENTS = 20


def top_segments(view: AudienceView, limit: int | None) -> list[TopSegment]:
    """The ``limit`` largest combined segments shown (validated: 1 … MAX_TOP_SEGMENTS)."""
    size = DEFAULT_TOP_SEGMENTS if limit is None else limit
    if not 1 <= size <= MAX_TOP_SEGMENTS:
        raise bad_input(f"limit must be between 1 and {MAX_TOP_SEGMENTS}", field="limit")
    return [TopSegment.from_domain(s) for s in view.segments[:size]]


@strawberry.type(description="A creator's audience in aggregate — never an individual.")
class CreatorAudienceInsights:
    _audience: strawberry.Private[ReleasedAudience]
    creator_id: strawberry.ID
    withheld: bool = strawberry.field(
        description="True when the audience is below the privacy floor; the sections are then "
                    "null or empty.")
    withheld_reason: str | None
    as_of: datetime | None = strawberry.field(
        description="When these figures were last updated (they move in batches of viewers).")
    revenue_as_of: datetime | None
    privacy: PrivacyPolicy
    overview: AudienceOverview | None
    breakdown: AudienceBreakdown | None

    @strawberry.field(description="The largest combined segments shown, by rounded count.")
    def top_segments(self, limit: int | None = DEFAULT_TOP_SEGMENTS) -> list[TopSegment]:
        return top_segments(self._audience.view, limit)

    @strawberry.field(description="Strategy, tips and opportunities, with their trace.")
    def recommendations(self) -> Recommendations | None:
        view = self._audience.view
        return None if view.withheld else Recommendations.from_domain(recommend(view))

    @strawberry.field(description="Change over 7 and 30 days, from the daily snapshots.")
    async def growth(self, info: Info) -> AudienceGrowth | None:
        if self._audience.view.withheld:
            return None
        return AudienceGrowth.from_domain(
            await info.context.services.insights.growth(self._audience.view))

    @strawberry.field(description="Message themes for the segments that dominate.")
    def messaging(self) -> list[MessagingSuggestion]:
        return [MessagingSuggestion.from_domain(s) for s in suggest(self._audience.view)]

    @strawberry.field(description="Impressions → interactions → conversions of one segment "
                                  "against the whole audience, over whole days.")
    async def segment_performance(self, info: Info, segment_type: SegmentDimension,
                                  segment_value: str, days: int | None = DEFAULT_DAYS
                                  ) -> SegmentPerformance:
        # typed SegmentDimension as contract 11 names it; only the tier dimensions have
        # performance figures (the flags are not recorded per impression)
        spec = BY_DIMENSION[SegmentDimension(segment_type)]
        if spec.is_flag:
            tiers = ", ".join(d.dimension.value for d in DIMENSIONS if not d.is_flag)
            raise bad_input(f"segmentPerformance covers {tiers}; {spec.dimension.value} has "
                            "no performance figures", field="segmentType")
        try:
            performance = await info.context.services.insights.performance(
                self._audience.view, SegmentKind(spec.group), segment_value.strip(),
                DEFAULT_DAYS if days is None else days)
        except InvalidPerformanceQuery as exc:
            raise bad_input(str(exc), field=exc.field) from None
        return SegmentPerformance.from_domain(performance)

    @classmethod
    def from_domain(cls, a: ReleasedAudience) -> CreatorAudienceInsights:
        view = a.view
        shown = not view.withheld
        return cls(_audience=a, creator_id=strawberry.ID(view.creator_id),
                   withheld=view.withheld, withheld_reason=view.withheld_reason,
                   as_of=a.as_of if shown else None,
                   revenue_as_of=a.revenue_as_of if shown else None,
                   privacy=PrivacyPolicy.current(),
                   overview=AudienceOverview.from_domain(view) if shown else None,
                   breakdown=AudienceBreakdown.from_domain(view) if shown else None)
