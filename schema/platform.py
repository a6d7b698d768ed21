"""``PlatformInsights``: the whole platform's audience, summed from creators' releases (admin)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.insights.view import PlatformAudience
from schema.audience import AudienceBreakdown, AudienceOverview, PrivacyPolicy, TopSegment
from schema.insights import DEFAULT_TOP_SEGMENTS, top_segments


@strawberry.type(description="Every creator's published audience figures summed: segment "
                             "distribution and revenue per segment type across the platform. "
                             "Counts are audience memberships (a viewer in three creators' "
                             "audiences counts three times); the same privacy rules as "
                             "creatorAudience apply. Computed by the daily run.")
class PlatformInsights:
    _audience: strawberry.Private[PlatformAudience]
    withheld: bool
    withheld_reason: str | None
    as_of: datetime | None = strawberry.field(
        description="When the daily run summed the releases (null: not yet).")
    creators: int = strawberry.field(
        description="Creators whose published release is summed in.")
    total_revenue: float | None = strawberry.field(
        description="Tokens across the platform, 2 significant figures; null when the "
                    "dominance rule hides it.")
    privacy: PrivacyPolicy
    overview: AudienceOverview | None
    breakdown: AudienceBreakdown | None = strawberry.field(
        description="Memberships and revenue (averageRevenue, revenueShare) per segment.")

    @strawberry.field(description="The largest combined segments, by rounded count.")
    def top_segments(self, limit: int | None = DEFAULT_TOP_SEGMENTS) -> list[TopSegment]:
        return top_segments(self._audience.view, limit)

    @classmethod
    def from_domain(cls, a: PlatformAudience) -> PlatformInsights:
        view = a.view
        shown = not view.withheld
        reason = view.withheld_reason if a.as_of is not None else (
            "Platform insights are computed by the daily run (02:00 UTC); none has run yet.")
        return cls(_audience=a, withheld=view.withheld, withheld_reason=reason,
                   as_of=a.as_of, creators=a.creators, total_revenue=a.total_revenue,
                   privacy=PrivacyPolicy.current(),
                   overview=AudienceOverview.from_domain(view) if shown else None,
                   breakdown=AudienceBreakdown.from_domain(view) if shown else None)
