"""Growth of the shown audience against the daily snapshots 7 and 30 days back."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.insights.growth import GrowthWindow as DomainWindow
from domain.insights.growth import TierChange
from domain.insights.labels import SegmentKind
from schema.insight_enums import SegmentType


@strawberry.type(description="How one tier changed (both ends shown on their own).")
class TierGrowth:
    segment_type: SegmentType
    key: str
    label: str
    count_change: int = strawberry.field(description="Difference of the rounded counts.")
    share_change: float = strawberry.field(description="Percentage points.")

    @classmethod
    def from_domain(cls, t: TierChange) -> TierGrowth:
        return cls(segment_type=SegmentKind(t.kind), key=t.key, label=t.name,
                   count_change=t.count_change, share_change=t.share_change)


@strawberry.type(description="The change over one window; `available` is false, with a note, "
                             "when there is no snapshot to compare with.")
class GrowthWindow:
    days: int
    available: bool
    note: str | None
    compared_with: date | None = strawberry.field(description="The snapshot's day.")
    audience_change: int | None
    audience_change_percentage: float | None
    paying_audience_change: int | None
    tiers: list[TierGrowth]

    @classmethod
    def from_domain(cls, w: DomainWindow) -> GrowthWindow:
        return cls(days=w.days, available=w.available, note=w.note,
                   compared_with=w.compared_with, audience_change=w.audience_change,
                   audience_change_percentage=w.audience_change_percentage,
                   paying_audience_change=w.paying_change,
                   tiers=[TierGrowth.from_domain(t) for t in w.tiers])


@strawberry.type(description="Change in audience and tiers over 7 and 30 days.")
class AudienceGrowth:
    last_7_days: GrowthWindow = strawberry.field(name="last7Days")
    last_30_days: GrowthWindow = strawberry.field(name="last30Days")

    @classmethod
    def from_domain(cls, windows: tuple[DomainWindow, ...]) -> AudienceGrowth:
        by_days = {w.days: GrowthWindow.from_domain(w) for w in windows}
        return cls(last_7_days=by_days[7], last_30_days=by_days[30])
