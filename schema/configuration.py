"""Segment thresholds as GraphQL types (output mirrors the domain models; input is partial)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from domain.segments import thresholds as t


@pydantic_type(model=t.BudgetThresholds, all_fields=True, name="BudgetThresholds")
class BudgetThresholds:
    pass


@pydantic_type(model=t.IntentThresholds, all_fields=True, name="IntentThresholds")
class IntentThresholds:
    pass


@pydantic_type(model=t.ProximityThresholds, all_fields=True, name="ProximityThresholds")
class ProximityThresholds:
    pass


@pydantic_type(model=t.PassionThresholds, all_fields=True, name="PassionThresholds")
class PassionThresholds:
    pass


@strawberry.type(description="Thresholds every segment computation reads.")
class SegmentConfiguration:
    budget: BudgetThresholds
    intent: IntentThresholds
    proximity: ProximityThresholds
    passion: PassionThresholds

    @classmethod
    def from_domain(cls, c: t.SegmentThresholds) -> SegmentConfiguration:
        return cls(budget=BudgetThresholds.from_pydantic(c.budget),  # type: ignore[attr-defined]
                   intent=IntentThresholds.from_pydantic(c.intent),  # type: ignore[attr-defined]
                   proximity=ProximityThresholds.from_pydantic(  # type: ignore[attr-defined]
                       c.proximity),
                   passion=PassionThresholds.from_pydantic(c.passion))  # type: ignore[attr-defined]


@strawberry.input
class BudgetThresholdsInput:
    window_days: int | None = strawberry.UNSET
    mid_tokens: int | None = strawberry.UNSET
    high_tokens: int | None = strawberry.UNSET
    mid_purchases: int | None = strawberry.UNSET
    high_purchases: int | None = strawberry.UNSET


@strawberry.input
class IntentThresholdsInput:
    majority_share: float | None = strawberry.UNSET


@strawberry.input
class ProximityThresholdsInput:
    local_km: float | None = strawberry.UNSET
    nearby_km: float | None = strawberry.UNSET


@strawberry.input
class PassionThresholdsInput:
    shared_interests_min: int | None = strawberry.UNSET
    visual_score_min: float | None = strawberry.UNSET
    view_weight: float | None = strawberry.UNSET
    like_weight: float | None = strawberry.UNSET
    dwell_minute_weight: float | None = strawberry.UNSET
    loyal_visits_min: int | None = strawberry.UNSET
    loyalty_score_min: float | None = strawberry.UNSET
    loyal_weeks_min: int | None = strawberry.UNSET
    loyalty_window_days: int | None = strawberry.UNSET
    loyalty_half_life_days: float | None = strawberry.UNSET
    visual_window_days: int | None = strawberry.UNSET


@strawberry.input(description="Only the fields given change; the rest keep their values.")
class SegmentConfigurationInput:
    budget: BudgetThresholdsInput | None = strawberry.UNSET
    intent: IntentThresholdsInput | None = strawberry.UNSET
    proximity: ProximityThresholdsInput | None = strawberry.UNSET
    passion: PassionThresholdsInput | None = strawberry.UNSET


def changes_from_input(value: SegmentConfigurationInput) -> dict[str, dict[str, Any]]:
    """kind → {field: value} for every field the client set (null counts as not set)."""
    changes: dict[str, dict[str, Any]] = {}
    for kind in t.THRESHOLD_KINDS:
        section = getattr(value, kind)
        if section is None or section is strawberry.UNSET:
            continue
        fields = {k: v for k, v in vars(section).items()
                  if v is not None and v is not strawberry.UNSET}
        if fields:
            changes[kind] = fields
    return changes
