"""Passion signals: shared interests, visual attraction and loyal following.

- **Shared interests**: at least ``shared_interests_min`` tags in common; score = common tags ÷
  the creator's tags × 100.
- **Visual attraction**: engagement without payment. Score = views × ``view_weight`` + likes ×
  ``like_weight`` + dwell minutes × ``dwell_minute_weight``, capped at 100; the signal holds when
  the viewer has never paid this creator and the score reaches ``visual_score_min``.
- **Loyal follower**: at least ``loyal_visits_min`` visits (profile views), a loyalty score of at
  least ``loyalty_score_min`` and a consistent return pattern: visits in at least
  ``loyal_weeks_min`` distinct ISO weeks. Loyalty score (0–100) = 40 × min(1, visits ÷ 20)
  + 30 × min(1, distinct visit days ÷ 10) + 30 × min(1, distinct visit weeks ÷ 4): volume, spread
  over days, and spread over weeks, so a burst of views in one sitting does not count as loyalty.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.rollups import PairRollup, Profile
from domain.segments.thresholds import PassionThresholds

LOYALTY_VISITS_FULL = 20
LOYALTY_DAYS_FULL = 10
LOYALTY_WEEKS_FULL = 4


@dataclass(frozen=True)
class PassionSignals:
    shared_interests: bool
    shared_interests_score: float
    common_interests: int
    visual_attraction: bool
    visual_attraction_score: float
    loyal_follower: bool
    loyalty_score: float


def shared_interest_score(viewer: Profile | None, creator: Profile | None
                          ) -> tuple[int, float]:
    if viewer is None or creator is None or not creator.interests:
        return 0, 0.0
    common = len(set(viewer.interests) & set(creator.interests))
    return common, round(min(100.0, common / len(creator.interests) * 100), 2)


def visual_score(pair: PairRollup, t: PassionThresholds) -> float:
    raw = (pair.profile_views * t.view_weight + pair.likes * t.like_weight
           + pair.dwell_seconds / 60.0 * t.dwell_minute_weight)
    return round(min(100.0, raw), 2)


def loyalty_score(pair: PairRollup) -> float:
    score = (40 * min(1.0, pair.profile_views / LOYALTY_VISITS_FULL)
             + 30 * min(1.0, len(pair.visit_days) / LOYALTY_DAYS_FULL)
             + 30 * min(1.0, len(pair.visit_weeks) / LOYALTY_WEEKS_FULL))
    return round(score, 2)


def classify_passion(pair: PairRollup, viewer: Profile | None, creator: Profile | None,
                     t: PassionThresholds) -> PassionSignals:
    """All three passion signals and their scores for one pair."""
    common, interest_score = shared_interest_score(viewer, creator)
    visual = visual_score(pair, t)
    loyalty = loyalty_score(pair)
    return PassionSignals(
        shared_interests=common >= t.shared_interests_min,
        shared_interests_score=interest_score,
        common_interests=common,
        visual_attraction=pair.purchases == 0 and visual >= t.visual_score_min,
        visual_attraction_score=visual,
        loyal_follower=(pair.profile_views >= t.loyal_visits_min
                        and loyalty >= t.loyalty_score_min
                        and len(pair.visit_weeks) >= t.loyal_weeks_min),
        loyalty_score=loyalty,
    )
