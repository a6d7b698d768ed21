"""Segment rules as pure functions, pinned at and around every threshold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.locations import DEFAULT_GRID, distance_km
from domain.rollups import (
    DaySpend,
    InteractionKind,
    PairRollup,
    Profile,
    ViewerRollup,
    day_key,
)
from domain.segments.budget import BudgetTier, classify_budget
from domain.segments.intent import classify_intent
from domain.segments.passion import classify_passion, loyalty_score
from domain.segments.proximity import Proximity, classify_proximity
from domain.segments.thresholds import (
    BudgetThresholds,
    IntentThresholds,
    PassionThresholds,
    ProximityThresholds,
    SegmentThresholds,
)

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
K = InteractionKind


def viewer_spending(*days: tuple[int, int, int]) -> ViewerRollup:
    """(days ago, tokens, purchases) per day."""
    return ViewerRollup("v", spend_days={day_key(NOW - timedelta(days=d)): DaySpend(t, p)
                                         for d, t, p in days})


@pytest.mark.parametrize(("days", "tier"), [
    ([], BudgetTier.LOW),
    ([(0, 4_999, 1)], BudgetTier.LOW),
    ([(0, 5_000, 1)], BudgetTier.MID),
    ([(0, 2_500, 1), (10, 2_500, 0)], BudgetTier.MID),
    ([(0, 20_000, 1)], BudgetTier.MID),
    ([(0, 20_001, 1)], BudgetTier.HIGH),
    ([(3, 10, 2)], BudgetTier.MID),
    ([(3, 10, 5)], BudgetTier.MID),
    ([(3, 10, 6)], BudgetTier.HIGH),
    ([(29, 30_000, 1)], BudgetTier.HIGH),
    ([(30, 30_000, 1)], BudgetTier.LOW),
    ([(30, 30_000, 9), (1, 5_000, 1)], BudgetTier.MID),
])
def test_budget_tier(days, tier):
    assert classify_budget(viewer_spending(*days), BudgetThresholds(), NOW).tier is tier


def test_no_viewer_rollup_is_low_budget():
    assert classify_budget(None, BudgetThresholds(), NOW).tier is BudgetTier.LOW


def test_budget_window_follows_the_configured_length():
    viewer = viewer_spending((10, 6_000, 1))
    assert classify_budget(viewer, BudgetThresholds(window_days=7), NOW).tier is BudgetTier.LOW
    assert classify_budget(viewer, BudgetThresholds(window_days=11), NOW).tier is BudgetTier.MID


@pytest.mark.parametrize(("counts", "intent", "majority"), [
    ({K.CHAT: 3, K.CALL: 2}, K.CHAT, True),
    ({K.CHAT: 1, K.CALL: 1}, K.CALL, False),
    ({K.CHAT: 1, K.EVENT: 1}, K.EVENT, False),
    ({K.MEETING: 1, K.CALL: 1, K.EVENT: 1, K.CHAT: 1}, K.MEETING, False),
    ({K.CHAT: 2, K.CALL: 1, K.EVENT: 1}, K.CHAT, False),
])
def test_intent_majority_and_tie_rule(counts, intent, majority):
    result = classify_intent(PairRollup("v", "c", interactions=counts), None, IntentThresholds())
    assert (result.intent, result.majority) == (intent, majority)


def test_intent_default_without_interactions():
    result = classify_intent(PairRollup("v", "c"), None, IntentThresholds())
    assert (result.intent, result.source) == (K.CHAT, "default")


def test_distance_is_whole_km_between_cell_centres():
    berlin, munich = DEFAULT_GRID.snap(52.52, 13.405), DEFAULT_GRID.snap(48.137, 11.575)
    km = distance_km(berlin, munich)
    assert isinstance(km, int) and km == pytest.approx(504, abs=6)
    assert distance_km(berlin, DEFAULT_GRID.snap(*berlin.centre)) == 0


@pytest.mark.parametrize(("km", "band"), [(0, Proximity.LOCAL), (44, Proximity.LOCAL),
                                          (56, Proximity.NEARBY), (194, Proximity.NEARBY),
                                          (206, Proximity.REMOTE)])
def test_proximity_bands(km, band):
    degrees = km / 111.19508  # km per degree of latitude on the mean sphere
    result = classify_proximity(DEFAULT_GRID.snap(10, 20), DEFAULT_GRID.snap(10 + degrees, 20),
                                ProximityThresholds())
    assert result.proximity is band and isinstance(result.distance_km, int)


def test_unknown_location_is_remote():
    assert classify_proximity(None, DEFAULT_GRID.snap(1, 1), ProximityThresholds()).proximity is (
        Proximity.REMOTE)


def visiting(days_ago: list[int], per_day: int = 2) -> PairRollup:
    return PairRollup("v", "c", profile_views=per_day * len(days_ago),
                      visit_days={day_key(NOW - timedelta(days=d)): per_day for d in days_ago},
                      last_visit_at=NOW - timedelta(days=min(days_ago)))


def test_loyalty_score_formula():
    # 10 days spread over 5 weeks, 2 visits each, the last one today: full marks
    assert loyalty_score(visiting(list(range(0, 30, 3))), NOW, PassionThresholds()) == 100.0


def test_loyalty_score_halves_per_half_life_since_the_last_visit():
    t = PassionThresholds()
    recent = loyalty_score(visiting(list(range(0, 30, 3))), NOW, t)
    lapsed = loyalty_score(visiting([d + 45 for d in range(0, 30, 3)]), NOW, t)
    assert recent == 100.0 and lapsed == 50.0
    assert lapsed < t.loyalty_score_min


def test_visits_outside_the_loyalty_window_do_not_count():
    t = PassionThresholds()
    old = visiting([100 + 7 * i for i in range(10)], per_day=3)  # 30 visits, all > 90 days ago
    signals = classify_passion(old, None, None, t, NOW)
    assert signals.loyal_follower is False and signals.loyalty_score == 0.0
    fresh = visiting([7 * i for i in range(10)], per_day=3)
    assert classify_passion(fresh, None, None, t, NOW).loyal_follower is True
    shorter = PassionThresholds(loyalty_window_days=20)  # only 3 weeks' visits left
    assert classify_passion(fresh, None, None, shorter, NOW).loyal_follower is False


def test_any_paid_interaction_in_the_window_ends_visual_attraction():
    admirer = PairRollup("v", "c", profile_views=10, likes=3)
    t = PassionThresholds()
    assert classify_passion(admirer, None, None, t, NOW).visual_attraction is True
    paid_call = PairRollup("v", "c", profile_views=10, likes=3,
                           last_paid_at=NOW - timedelta(days=3))
    assert classify_passion(paid_call, None, None, t, NOW).visual_attraction is False
    long_ago = PairRollup("v", "c", profile_views=10, likes=3,
                          last_paid_at=NOW - timedelta(days=31))
    assert classify_passion(long_ago, None, None, t, NOW).visual_attraction is True


def test_without_a_pair_majority_the_viewers_majority_decides():
    pair = PairRollup("v", "c", interactions={K.CHAT: 2, K.CALL: 1, K.EVENT: 1})
    viewer = ViewerRollup("v", interactions={K.CALL: 8, K.CHAT: 2, K.EVENT: 1})
    result = classify_intent(pair, viewer, IntentThresholds())
    assert (result.intent, result.source, result.majority) == (K.CALL, "viewer", True)
    assert result.share == pytest.approx(8 / 11)


def test_without_any_majority_the_pairs_largest_share_decides():
    pair = PairRollup("v", "c", interactions={K.CHAT: 2, K.CALL: 1, K.EVENT: 1})
    viewer = ViewerRollup("v", interactions={K.CALL: 4, K.CHAT: 3, K.EVENT: 2})
    result = classify_intent(pair, viewer, IntentThresholds())
    assert (result.intent, result.source, result.majority) == (K.CHAT, "pair_largest", False)


def test_majority_share_changes_the_answer():
    pair = PairRollup("v", "c", interactions={K.CHAT: 3, K.CALL: 2})
    viewer = ViewerRollup("v", interactions={K.CALL: 9, K.CHAT: 3})
    assert classify_intent(pair, viewer, IntentThresholds()).intent is K.CHAT
    strict = classify_intent(pair, viewer, IntentThresholds(majority_share=0.7))
    assert (strict.intent, strict.source) == (K.CALL, "viewer")


def test_shared_interest_score_is_relative_to_the_creators_tags():
    signals = classify_passion(PairRollup("v", "c"), Profile("v", interests=("a", "b", "c")),
                               Profile("c", interests=("a", "b", "c", "d", "e", "f")),
                               PassionThresholds(), NOW)
    assert (signals.shared_interests, signals.shared_interests_score) == (True, 50.0)


@pytest.mark.parametrize("bad", [
    {"budget": {"mid_tokens": 30_000}}, {"budget": {"mid_purchases": 9}},
    {"proximity": {"nearby_km": 10}}, {"passion": {"loyalty_score_min": 101}},
    {"budget": {"unknown": 1}},
])
def test_inconsistent_thresholds_are_refused(bad):
    with pytest.raises(ValidationError):
        SegmentThresholds.model_validate(bad)
