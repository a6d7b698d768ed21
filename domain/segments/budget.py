"""Budget tier: how much a viewer spends on the platform (transactions only, viewer-wide)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.rollups import ViewerRollup
from domain.segments.thresholds import BudgetThresholds


class BudgetTier(StrEnum):
    LOW = "LOW"
    MID = "MID"
    HIGH = "HIGH"


_RANK = {BudgetTier.LOW: 0, BudgetTier.MID: 1, BudgetTier.HIGH: 2}


@dataclass(frozen=True)
class BudgetResult:
    tier: BudgetTier
    window_tokens: int
    window_purchases: int


def tier_by_tokens(tokens: int, t: BudgetThresholds) -> BudgetTier:
    if tokens > t.high_tokens:
        return BudgetTier.HIGH
    return BudgetTier.MID if tokens >= t.mid_tokens else BudgetTier.LOW


def tier_by_purchases(purchases: int, t: BudgetThresholds) -> BudgetTier:
    if purchases > t.high_purchases:
        return BudgetTier.HIGH
    return BudgetTier.MID if purchases >= t.mid_purchases else BudgetTier.LOW


def classify_budget(viewer: ViewerRollup | None, t: BudgetThresholds, now: datetime
                    ) -> BudgetResult:
    """The higher of the spend tier and the purchase-frequency tier over the trailing window.

    The window is the ``window_days`` UTC days ending with today (day buckets, see rollups).
    """
    if viewer is None:
        return BudgetResult(BudgetTier.LOW, 0, 0)
    spend = viewer.spend_in_window(now, t.window_days)
    tier = max(tier_by_tokens(spend.tokens, t), tier_by_purchases(spend.purchases, t),
               key=_RANK.__getitem__)
    return BudgetResult(tier, spend.tokens, spend.purchases)
