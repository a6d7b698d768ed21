"""The whole segment of one (viewer, creator) pair, from its rollups and the thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.locations import Cell
from domain.rollups import PairRollup, Profile, ViewerRollup
from domain.segments.budget import BudgetResult, BudgetTier, classify_budget
from domain.segments.intent import Intent, IntentResult, classify_intent
from domain.segments.passion import PassionSignals, classify_passion
from domain.segments.proximity import Proximity, ProximityResult, classify_proximity
from domain.segments.risk import RiskLevel
from domain.segments.thresholds import SegmentThresholds


@dataclass(frozen=True)
class SegmentInputs:
    """Everything classification reads for one pair."""

    pair: PairRollup
    viewer: ViewerRollup | None
    viewer_profile: Profile | None
    creator_profile: Profile | None
    risk: RiskLevel


@dataclass(frozen=True)
class AudienceSegment:
    viewer_id: str
    creator_id: str
    budget: BudgetTier
    intent: Intent
    proximity: Proximity
    passion: PassionSignals
    risk: RiskLevel
    last_updated: datetime
    budget_detail: BudgetResult
    intent_detail: IntentResult
    proximity_detail: ProximityResult
    revenue_tokens: int
    spend_tokens: int

    @property
    def paying(self) -> bool:
        """The viewer has paid this creator: any paid interaction (tokens > 0), contract §3."""
        return self.revenue_tokens > 0

    def labels(self) -> tuple[str, str, str]:
        return (self.budget.value, self.intent.value, self.proximity.value)


def _locations(inputs: SegmentInputs) -> tuple[Cell | None, Cell | None]:
    """The viewer's and the creator's location cells (None: not shared)."""
    return (inputs.viewer_profile.location if inputs.viewer_profile else None,
            inputs.creator_profile.location if inputs.creator_profile else None)


def classify_pair(inputs: SegmentInputs, thresholds: SegmentThresholds, now: datetime
                  ) -> AudienceSegment:
    """Classify one pair: a pure function of its rollups, the thresholds and ``now``."""
    pair = inputs.pair
    budget = classify_budget(inputs.viewer, thresholds.budget, now)
    intent = classify_intent(pair, inputs.viewer, thresholds.intent)
    proximity = classify_proximity(*_locations(inputs), thresholds.proximity)
    passion = classify_passion(pair, inputs.viewer_profile, inputs.creator_profile,
                               thresholds.passion, now)
    return AudienceSegment(
        viewer_id=pair.viewer_id, creator_id=pair.creator_id, budget=budget.tier,
        intent=intent.intent, proximity=proximity.proximity, passion=passion, risk=inputs.risk,
        last_updated=now, budget_detail=budget, intent_detail=intent,
        proximity_detail=proximity, revenue_tokens=pair.revenue_tokens,
        spend_tokens=pair.spend_tokens,
    )


def tier_labels(inputs: SegmentInputs, thresholds: SegmentThresholds, now: datetime
                ) -> tuple[str, str, str]:
    """Budget, intent and proximity of one pair, as ``classify_pair`` gives them, without
    passion (what an impression is labelled with, for a fraction of the cost)."""
    return (classify_budget(inputs.viewer, thresholds.budget, now).tier.value,
            classify_intent(inputs.pair, inputs.viewer, thresholds.intent).intent.value,
            classify_proximity(*_locations(inputs), thresholds.proximity).proximity.value)
