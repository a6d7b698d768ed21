"""Segment performance: impressions, interactions, conversions of one segment vs baseline."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.insights.performance import Figures
from domain.insights.performance import SegmentPerformance as DomainPerformance
from schema.insight_enums import SegmentType


@strawberry.type(description="Rounded counts (nearest 10) and rates from them; null when a "
                             "figure would stand for fewer than 10 viewers or events.")
class PerformanceFigures:
    impressions: int | None
    interactions: int | None
    conversions: int | None
    interaction_rate: float | None = strawberry.field(description="% of impressions.")
    conversion_rate: float | None = strawberry.field(description="% of impressions.")
    revenue_per_conversion: float | None = strawberry.field(
        description="Tokens, 2 significant figures.")
    total_revenue: float | None = strawberry.field(
        description="Tokens from these conversions, 2 significant figures (hidden when one "
                    "or two payers would dominate it).")

    @classmethod
    def from_domain(cls, f: Figures) -> PerformanceFigures:
        return cls(impressions=f.impressions, interactions=f.interactions,
                   conversions=f.conversions, interaction_rate=f.interaction_rate,
                   conversion_rate=f.conversion_rate,
                   revenue_per_conversion=f.revenue_per_conversion,
                   total_revenue=f.total_revenue)


@strawberry.type(description="How one segment converts against your whole audience "
                             "(whole UTC days ending yesterday).")
class SegmentPerformance:
    segment_type: SegmentType
    segment_value: str
    label: str
    days: int
    since: date
    until: date
    withheld: bool
    withheld_reason: str | None
    segment: PerformanceFigures
    baseline: PerformanceFigures = strawberry.field(
        description="Every value of the segment type together.")
    conversion_rate_vs_baseline: float | None = strawberry.field(
        description="Segment conversion rate ÷ baseline (1.0 = the same).")
    conversion_rate_difference: float | None = strawberry.field(
        description="Segment minus baseline, in percentage points.")
    revenue_per_conversion_vs_baseline: float | None
    performance_vs_baseline: float | None = strawberry.field(
        description="How much better (+) or worse (-) the segment converts than the whole "
                    "audience, in % of the baseline's conversion rate.")

    @classmethod
    def from_domain(cls, p: DomainPerformance) -> SegmentPerformance:
        return cls(segment_type=p.kind, segment_value=p.value, label=p.name, days=p.days,
                   since=p.since, until=p.until, withheld=p.withheld_reason is not None,
                   withheld_reason=p.withheld_reason,
                   segment=PerformanceFigures.from_domain(p.segment),
                   baseline=PerformanceFigures.from_domain(p.baseline),
                   conversion_rate_vs_baseline=p.conversion_rate_vs_baseline,
                   conversion_rate_difference=p.conversion_rate_difference,
                   revenue_per_conversion_vs_baseline=p.revenue_per_conversion_vs_baseline,
                   performance_vs_baseline=p.performance_vs_baseline)
