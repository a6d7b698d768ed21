"""The shown numbers of a creator's audience: overview, breakdown rows, top segments, privacy.

Every figure here comes from ``domain.insights.view`` (rounded, floored, suppressed); these types
only give it GraphQL names.
"""

from __future__ import annotations

import strawberry

from domain.insights.privacy import COUNT_BUCKET, MIN_VIEWERS, PERCENT_STEP, REVENUE_FIGURES
from domain.insights.view import AudienceView, ShownCell, ShownSegment
from domain.segments.budget import BudgetTier as DomainBudgetTier
from domain.segments.intent import Intent as DomainIntent
from domain.segments.proximity import Proximity as DomainProximity
from schema.enums import BudgetTier, Intent, Proximity


@strawberry.type(description="One row of a breakdown: a tier shown on its own, or OTHER — "
                             "several smaller tiers merged so none can be told apart.")
class BreakdownCell:
    key: str = strawberry.field(description="The tier (e.g. HIGH), or OTHER.")
    label: str = strawberry.field(description="What creators call it, e.g. High Spenders.")
    description: str
    percentage: float = strawberry.field(
        description="Share of the audience, from rounded counts, in steps of 5 points.")
    count: int = strawberry.field(description="Viewers, rounded to the nearest 10 (≥ 10).")
    members: list[str] = strawberry.field(
        description="The tiers this row stands for: one, or the tiers merged into OTHER.")
    average_revenue: float | None = strawberry.field(
        description="Tokens per viewer (2 significant figures); null when the tier's payers "
                    "are too few to show.")
    revenue_share: float | None = strawberry.field(
        description="Share of your revenue, in steps of 5 points; null as averageRevenue.")

    @classmethod
    def from_domain(cls, c: ShownCell) -> BreakdownCell:
        return cls(key=c.key, label=c.name, description=c.trait, percentage=c.percentage,
                   count=c.count, members=list(c.members), average_revenue=c.average_revenue,
                   revenue_share=c.revenue_share)


@strawberry.type(description="The audience by budget, intent, proximity and passion signal. "
                             "Tiers below the privacy floor are merged into OTHER; a passion "
                             "signal is listed only when both holders and non-holders reach it.")
class AudienceBreakdown:
    budget: list[BreakdownCell]
    intent: list[BreakdownCell]
    proximity: list[BreakdownCell]
    passion: list[BreakdownCell]

    @classmethod
    def from_domain(cls, v: AudienceView) -> AudienceBreakdown:
        def rows(kind: str) -> list[BreakdownCell]:
            return [BreakdownCell.from_domain(c) for c in v.breakdown.get(kind, ())]
        return cls(budget=rows("budget"), intent=rows("intent"), proximity=rows("proximity"),
                   passion=[BreakdownCell.from_domain(c) for c in v.passion])


@strawberry.type(description="The audience at a glance.")
class AudienceOverview:
    total_audience: int = strawberry.field(description="Viewers, rounded to the nearest 10.")
    paying_audience: int | None = strawberry.field(
        description="Viewers who paid you, rounded; null when payers or non-payers are below "
                    "the privacy floor.")
    paying_percentage: float | None
    average_revenue_per_viewer: float | None = strawberry.field(
        description="Tokens per viewer, 2 significant figures.")
    top_segment_description: str | None = strawberry.field(
        description="The largest combined segment shown, in words.")

    @classmethod
    def from_domain(cls, v: AudienceView) -> AudienceOverview:
        return cls(total_audience=v.total, paying_audience=v.paying,
                   paying_percentage=v.paying_percentage,
                   average_revenue_per_viewer=v.average_revenue,
                   top_segment_description=v.top_segment_description)


@strawberry.type(description="A combined segment (budget × intent × proximity) holding at "
                             "least 10 viewers on its own.")
class TopSegment:
    rank: int
    key: str = strawberry.field(description="BUDGET|INTENT|PROXIMITY, e.g. HIGH|CALL|LOCAL.")
    budget: BudgetTier
    intent: Intent
    proximity: Proximity
    description: str
    count: int = strawberry.field(description="Viewers, rounded to the nearest 10.")
    percentage: float
    average_revenue: float | None
    revenue_share: float | None
    characteristics: list[str]

    @classmethod
    def from_domain(cls, s: ShownSegment) -> TopSegment:
        return cls(rank=s.rank, key=s.key, budget=DomainBudgetTier(s.budget),
                   intent=DomainIntent(s.intent), proximity=DomainProximity(s.proximity),
                   description=s.description, count=s.count, percentage=s.percentage,
                   average_revenue=s.average_revenue, revenue_share=s.revenue_share,
                   characteristics=list(s.characteristics))


@strawberry.type(description="How the numbers were protected (so a client can explain them).")
class PrivacyPolicy:
    minimum_viewers: int
    count_rounding: int
    percentage_step: int
    revenue_significant_figures: int
    release_batch: int = strawberry.field(
        description="Figures update once at least this many viewers have joined, left or "
                    "changed segment since the last update.")
    note: str

    @classmethod
    def current(cls) -> PrivacyPolicy:
        return cls(minimum_viewers=MIN_VIEWERS, count_rounding=COUNT_BUCKET,
                   percentage_step=PERCENT_STEP, revenue_significant_figures=REVENUE_FIGURES,
                   release_batch=MIN_VIEWERS,
                   note=(f"Every figure stands for at least {MIN_VIEWERS} viewers. Smaller "
                         "tiers are merged into Other, counts are rounded to the nearest "
                         f"{COUNT_BUCKET}, percentages to {PERCENT_STEP} points, and figures "
                         f"update once at least {MIN_VIEWERS} viewers have changed, so no "
                         "answer reveals one viewer's segment."))
