"""Passion signals: shared interests, visual attraction and loyal following.

- **Shared interests**: at least ``shared_interests_min`` tags in common; score = common tags ÷
  the creator's tags × 100.
- **Visual attraction**: engagement without payment. Score = views × ``view_weight`` + likes ×
  ``like_weight`` + dwell minutes × ``dwell_minute_weight``, capped at 100 (one like per media);
  the signal holds when the viewer made no paid interaction with this creator (any event with
  tokens > 0: transaction, paid chat, paid call, booking, paid registration) in the trailing
  ``visual_window_days`` and the score reaches ``visual_score_min``.
- **Loyal follower**: within the trailing ``loyalty_window_days`` (90) UTC days, at least
  ``loyal_visits_min`` visits (profile views), visits in at least ``loyal_weeks_min`` distinct ISO
  weeks, and a loyalty score of at least ``loyalty_score_min``. Loyalty score (0–100), all counts
  inside the window::

      (40 × min(1, visits ÷ 20) + 30 × min(1, visit days ÷ 10) + 30 × min(1, visit weeks ÷ 4))
        × 0.5 ^ (days since the last visit ÷ loyalty_half_life_days)

  Volume, spread over days and spread over weeks (a burst of views in one sitting is not
  loyalty), decaying with recency: with the 45-day half-life a follower who stopped coming a
  fortnight ago keeps about 80 % of their score, one gone for two months under 40 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def recency_factor(pair: PairRollup, now: datetime, t: PassionThresholds) -> float:
    """0.5 ^ (days since the last visit ÷ half-life): 1 for a visit today."""
    if pair.last_visit_at is None:
        return 0.0
    idle_days = max(0.0, (now - pair.last_visit_at).total_seconds() / 86_400)
    return float(0.5 ** (idle_days / t.loyalty_half_life_days))


def loyalty_score(pair: PairRollup, now: datetime, t: PassionThresholds) -> float:
    window = pair.visits_in_window(now, t.loyalty_window_days)
    volume = (40 * min(1.0, window.visits / LOYALTY_VISITS_FULL)
              + 30 * min(1.0, window.days / LOYALTY_DAYS_FULL)
              + 30 * min(1.0, window.weeks / LOYALTY_WEEKS_FULL))
    return round(volume * recency_factor(pair, now, t), 2)


def classify_passion(pair: PairRollup, viewer: Profile | None, creator: Profile | None,
                     t: PassionThresholds, now: datetime) -> PassionSignals:
    """All three passion signals and their scores for one pair, as of ``now``."""
    common, interest_score = shared_interest_score(viewer, creator)
    visual = visual_score(pair, t)
    loyalty = loyalty_score(pair, now, t)
    window = pair.visits_in_window(now, t.loyalty_window_days)
    return PassionSignals(
        shared_interests=common >= t.shared_interests_min,
        shared_interests_score=interest_score,
        common_interests=common,
        visual_attraction=(not pair.paid_within(now, t.visual_window_days)
                           and visual >= t.visual_score_min),
        visual_attraction_score=visual,
        loyal_follower=(window.visits >= t.loyal_visits_min
                        and loyalty >= t.loyalty_score_min
                        and window.weeks >= t.loyal_weeks_min),
        loyalty_score=loyalty,
    )
