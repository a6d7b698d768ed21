"""Live-editable thresholds for every segment rule, with the contract's defaults.

Operators change them in the ``segment_configuration`` collection (one document per kind); each
model validates an update so a nonsensical threshold (MID above HIGH, a negative distance) is
refused rather than silently applied.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BudgetThresholds(_Thresholds):
    """Budget tier over a trailing window: the higher tier of spend and frequency wins.

    LOW below ``mid_tokens`` and below ``mid_purchases``; MID from ``mid_tokens`` tokens or
    ``mid_purchases`` purchases; HIGH above ``high_tokens`` tokens or above ``high_purchases``.
    """

    window_days: int = Field(30, ge=1, le=365)
    mid_tokens: int = Field(5_000, ge=0)
    high_tokens: int = Field(20_000, ge=0)
    mid_purchases: int = Field(2, ge=0)
    high_purchases: int = Field(5, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.mid_tokens > self.high_tokens:
            raise ValueError("mid_tokens must not exceed high_tokens")
        if self.mid_purchases > self.high_purchases:
            raise ValueError("mid_purchases must not exceed high_purchases")
        return self


class IntentThresholds(_Thresholds):
    """Intent is the kind holding over ``majority_share`` of the pair's interactions; with no
    majority, the viewer's majority kind across creators, else the pair's largest share."""

    majority_share: float = Field(0.5, ge=0.0, lt=1.0)


class ProximityThresholds(_Thresholds):
    """Great-circle distance bands: LOCAL ≤ ``local_km``, NEARBY ≤ ``nearby_km``."""

    local_km: float = Field(50.0, gt=0)
    nearby_km: float = Field(200.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.local_km > self.nearby_km:
            raise ValueError("local_km must not exceed nearby_km")
        return self


class PassionThresholds(_Thresholds):
    """Shared interests, visual attraction and loyal following (see ``passion.py``)."""

    shared_interests_min: int = Field(3, ge=1)
    visual_score_min: float = Field(30.0, ge=0, le=100)
    view_weight: float = Field(2.0, ge=0)
    like_weight: float = Field(5.0, ge=0)
    dwell_minute_weight: float = Field(1.0, ge=0)
    loyal_visits_min: int = Field(10, ge=1)
    loyalty_score_min: float = Field(70.0, ge=0, le=100)
    loyal_weeks_min: int = Field(3, ge=1)
    #: loyalty counts visits in this trailing window of UTC days
    loyalty_window_days: int = Field(90, ge=1, le=365)
    #: the loyalty score halves for every this many days since the last visit
    loyalty_half_life_days: float = Field(45.0, gt=0)
    #: visual attraction needs no paid interaction in this trailing window
    visual_window_days: int = Field(30, ge=1, le=365)


class SegmentThresholds(_Thresholds):
    """All thresholds, as one value the classifier reads."""

    budget: BudgetThresholds = BudgetThresholds()
    intent: IntentThresholds = IntentThresholds()
    proximity: ProximityThresholds = ProximityThresholds()
    passion: PassionThresholds = PassionThresholds()


#: configuration document id → its model
THRESHOLD_KINDS: dict[str, type[_Thresholds]] = {
    "budget": BudgetThresholds,
    "intent": IntentThresholds,
    "proximity": ProximityThresholds,
    "passion": PassionThresholds,
}
