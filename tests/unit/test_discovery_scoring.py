"""Discovery rules without I/O: every weight, the clamp, each boost at and around its threshold,
BLOCKED viewers, cold start, filters, engagement suggestions, cards and pool cells."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from domain.discovery import weights as w
from domain.discovery.cards import build_card, dominant_label
from domain.discovery.engagement import suggest
from domain.discovery.scoring import (
    DiscoveryFilters,
    ViewerContext,
    match,
    passion_points,
    rank,
    score,
    viewer_labels,
    visibility_boost,
)
from domain.insights.aggregates import CreatorAggregate
from domain.locations import DEFAULT_GRID, REGION_RESOLUTION, Cell, pool_cells
from domain.rollups import InteractionKind, PairRollup, Profile
from domain.segments.budget import BudgetTier
from domain.segments.classify import SegmentInputs, classify_pair
from domain.segments.proximity import Proximity
from domain.segments.risk import RiskLevel
from domain.segments.thresholds import SegmentThresholds

T = SegmentThresholds()
HOME = DEFAULT_GRID.snap(48.0, 11.0)
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
MEETING, CALL, CHAT, EVENT = (InteractionKind.MEETING, InteractionKind.CALL,
                              InteractionKind.CHAT, InteractionKind.EVENT)


def viewer(**kw) -> ViewerContext:
    return ViewerContext(viewer_id="v", thresholds=T, **kw)


def card(creator_id: str = "c", *, total: int = 0, budget: Mapping[str, int] | None = None,
         intent: Mapping[str, int] | None = None, proximity: Mapping[str, int] | None = None,
         at: Cell | None = None, interests: tuple[str, ...] = ()):
    counts = {"budget": dict(budget or ({"LOW": total} if total else {})),
              "intent": dict(intent or ({"CHAT": total} if total else {})),
              "proximity": dict(proximity or ({"REMOTE": total} if total else {}))}
    aggregate = CreatorAggregate(creator_id=creator_id, total=total, counts=counts)
    return build_card(creator_id, aggregate, Profile(creator_id, at, interests))


def factors(m) -> dict[w.RankingFactor, float]:
    return {r.factor: r.points for r in m.reasons}


def north(degrees: float) -> Cell:
    """The cell ``degrees`` of latitude north of HOME (one degree ≈ 111.2 km)."""
    return DEFAULT_GRID.snap(48.0 + degrees, 11.0)


# --- the match score -----------------------------------------------------------------------
def test_base_is_fifty_with_nothing_known():
    m = match(viewer(), card(), None)
    assert m.score == w.MATCH_BASE == 50.0 and m.reasons == ()


@pytest.mark.parametrize(("mine", "theirs", "points"), [
    (BudgetTier.HIGH, "HIGH", 20.0), (BudgetTier.MID, "MID", 20.0), (BudgetTier.LOW, "LOW", 20.0),
    (BudgetTier.HIGH, "MID", 10.0), (BudgetTier.LOW, "MID", 10.0), (BudgetTier.MID, "HIGH", 10.0),
    (BudgetTier.LOW, "HIGH", None), (BudgetTier.HIGH, "LOW", None),
])
def test_budget_match_same_tier_twenty_adjacent_ten_opposite_nothing(mine, theirs, points):
    m = match(viewer(budget=mine), card(total=10, budget={theirs: 10}), None)
    assert factors(m).get(w.RankingFactor.BUDGET_MATCH) == points
    assert m.score == 50 + (points or 0)


def test_budget_match_needs_an_audience_of_at_least_the_privacy_floor():
    assert w.AUDIENCE_FLOOR == 10
    small = match(viewer(budget=BudgetTier.HIGH), card(total=9, budget={"HIGH": 9}), None)
    assert small.score == 50.0
    floor = match(viewer(budget=BudgetTier.HIGH), card(total=10, budget={"HIGH": 10}), None)
    assert floor.score == 70.0


def test_cold_start_viewer_gets_no_budget_or_intent_weight():
    m = match(viewer(), card(total=50, budget={"LOW": 50}, intent={"CHAT": 50}), None)
    assert m.score == 50.0


def test_intent_match_is_fifteen():
    c = card(total=20, budget={"HIGH": 20}, intent={"CALL": 12, "CHAT": 8})
    assert factors(match(viewer(budget=BudgetTier.LOW, intent=CALL), c, None)) == {
        w.RankingFactor.INTENT_MATCH: 15.0}
    assert factors(match(viewer(budget=BudgetTier.LOW, intent=CHAT), c, None)) == {}


def test_the_pairs_own_intent_wins_over_the_viewer_wide_one():
    c = card(total=20, budget={"HIGH": 20}, intent={"MEETING": 20})
    pair = PairRollup("v", "c", interactions={MEETING: 2})
    segment = classify_pair(SegmentInputs(pair, None, None, None, RiskLevel.NORMAL), T, NOW)
    assert segment.intent is MEETING
    m = match(viewer(budget=BudgetTier.LOW, intent=CHAT), c, segment)
    assert factors(m)[w.RankingFactor.INTENT_MATCH] == 15.0


@pytest.mark.parametrize(("degrees", "points"), [
    (0.0, 20.0), (0.38, 20.0),  # LOCAL ≤ 50 km
    (0.52, 10.0), (1.74, 10.0),  # NEARBY ≤ 200 km
    (1.86, 5.0), (4.43, 5.0),  # REMOTE within 500 km
    (4.57, None), (30.0, None),
])
def test_proximity_twenty_ten_five_by_distance(degrees, points):
    m = match(viewer(location=HOME), card(at=north(degrees)), None)
    assert factors(m).get(w.RankingFactor.PROXIMITY) == points


def test_unknown_locations_earn_no_proximity():
    assert match(viewer(), card(at=HOME), None).score == 50.0
    assert match(viewer(location=HOME), card(), None).score == 50.0


@pytest.mark.parametrize(("tags", "points"), [
    (("a", "b"), None),  # two common tags: no signal
    (("a", "b", "c"), 12.5),  # 3 of the creator's 4 tags: score 75 → 5 + 7.5
    (("a", "b", "c", "d", "z"), 15.0),  # score 100
])
def test_shared_interests_five_plus_up_to_ten_by_score(tags, points):
    m = match(viewer(interests=tags), card(interests=("a", "b", "c", "d")), None)
    assert factors(m).get(w.RankingFactor.SHARED_INTERESTS) == points


def test_visual_attraction_and_loyalty_weights_follow_their_scores():
    visits = {f"202611{d:02d}": 1 for d in range(2, 22, 2)}  # ISO weeks 45, 46 and 47
    pair = PairRollup("v", "c", profile_views=10, likes=2, visit_days=visits,
                      last_visit_at=NOW)
    segment = classify_pair(SegmentInputs(pair, None, None, None, RiskLevel.NORMAL), T, NOW)
    assert segment.passion.visual_attraction_score == 30.0  # 10 views × 2 + 2 likes × 5
    assert segment.passion.loyalty_score == 72.5
    got = factors(match(viewer(), card(), segment))
    assert got == {w.RankingFactor.VISUAL_ATTRACTION: 8.0,
                   w.RankingFactor.LOYAL_FOLLOWER: 12.25}


@pytest.mark.parametrize(("strength", "points"), [(0, 5.0), (50, 10.0), (100, 15.0),
                                                   (150, 15.0)])
def test_each_passion_signal_is_worth_five_to_fifteen(strength, points):
    assert passion_points(strength) == points


def test_score_is_clamped_to_one_hundred():
    c = card(total=10, budget={"HIGH": 10}, intent={"MEETING": 10}, at=HOME,
             interests=("a", "b", "c"))
    m = match(viewer(budget=BudgetTier.HIGH, intent=MEETING, location=HOME,
                     interests=("a", "b", "c")), c, None)
    assert sum(factors(m).values()) == 70.0  # 20 + 15 + 20 + 15 on top of the base
    assert m.score == 100.0


# --- visibility boosts ----------------------------------------------------------------------
def _boost(v: ViewerContext, c) -> float:
    return visibility_boost(v, c, viewer_labels(v, c, None)).multiplier


@pytest.mark.parametrize(("high", "expected"), [(29, 1.0), (30, 1.3), (31, 1.3)])
def test_high_budget_audience_boost_from_thirty_percent(high, expected):
    c = card(total=100, budget={"HIGH": high, "LOW": 100 - high})
    assert _boost(viewer(budget=BudgetTier.HIGH), c) == expected
    assert _boost(viewer(budget=BudgetTier.MID), c) == 1.0  # the viewer must be HIGH


@pytest.mark.parametrize(("local", "expected"), [(39, 1.0), (40, 1.25), (41, 1.25)])
def test_local_audience_boost_from_forty_percent_for_a_local_viewer(local, expected):
    c = card(total=100, proximity={"LOCAL": local, "REMOTE": 100 - local}, at=HOME)
    assert _boost(viewer(location=north(0.4)), c) == expected
    assert _boost(viewer(location=north(1.0)), c) == 1.0  # NEARBY is not local


@pytest.mark.parametrize(("meeting", "expected"), [(24, 1.0), (25, 1.4), (26, 1.4)])
def test_meeting_audience_boost_from_twenty_five_percent_for_a_meeting_seeker(meeting,
                                                                               expected):
    c = card(total=100, intent={"MEETING": meeting, "CHAT": 100 - meeting})
    assert _boost(viewer(budget=BudgetTier.LOW, intent=MEETING), c) == expected
    assert _boost(viewer(budget=BudgetTier.LOW, intent=CALL), c) == 1.0


def test_boosts_add_up_and_multiply_the_final_score_not_the_match_score():
    c = card(total=100, budget={"HIGH": 30, "LOW": 70}, proximity={"LOCAL": 40, "REMOTE": 60},
             intent={"MEETING": 25, "CHAT": 75}, at=HOME)
    v = viewer(budget=BudgetTier.HIGH, intent=MEETING, location=HOME)
    s = score(v, c, None)
    assert s.boost.multiplier == 1.95
    assert {b.factor for b in s.boost.reasons} == set(w.BoostFactor)
    assert s.match.score == 70.0  # base + LOCAL; LOW audience is opposite, CHAT mismatches
    assert s.final_score == pytest.approx(70.0 * 1.95)
    assert score(v, c, None, boosted=False).final_score == 70.0


def test_no_boost_below_the_privacy_floor():
    c = card(total=9, budget={"HIGH": 9})
    assert _boost(viewer(budget=BudgetTier.HIGH), c) == 1.0


# --- BLOCKED viewers, cold start, ordering, filters -----------------------------------------
def test_blocked_viewer_gets_base_and_proximity_only_and_no_boost():
    c = card(total=100, budget={"HIGH": 100}, intent={"MEETING": 100},
             proximity={"LOCAL": 100}, at=HOME, interests=("a", "b", "c"))
    fields = dict(budget=BudgetTier.HIGH, intent=MEETING, location=HOME,
                  interests=("a", "b", "c"))
    normal = score(viewer(**fields), c, None)
    blocked = score(viewer(risk=RiskLevel.BLOCKED, **fields), c, None)
    cold = score(viewer(location=HOME), c, None)
    assert normal.match.score == 100.0 and normal.boost.multiplier > 1
    assert blocked.match.score == 70.0 and blocked.boost.multiplier == 1.0
    assert blocked.final_score <= cold.final_score  # never above a NORMAL viewer w/o history


def test_watch_changes_nothing():
    c = card(total=10, budget={"HIGH": 10})
    fields = dict(budget=BudgetTier.HIGH)
    assert score(viewer(risk=RiskLevel.WATCH, **fields), c, None) == score(
        viewer(**fields), c, None)


def test_cold_start_ranks_by_proximity_then_popularity():
    cards = [card("far-big", total=500, at=north(10)), card("near-small", total=1, at=HOME),
             card("near-big", total=50, at=HOME), card("nearby", total=900, at=north(1))]
    ranked = rank(viewer(location=HOME), cards, {})
    assert [s.creator_id for s in ranked] == ["near-big", "near-small", "nearby", "far-big"]


def test_filters_keep_dominant_audience_labels_and_distance_bands():
    cards = [card("h", total=10, budget={"HIGH": 10}, intent={"CALL": 10}, at=HOME),
             card("l", total=10, budget={"LOW": 10}, intent={"CALL": 10}, at=north(1)),
             card("tiny", total=2, budget={"HIGH": 2}, at=HOME)]
    v = viewer(location=HOME)
    keep = DiscoveryFilters(budgets=frozenset({BudgetTier.HIGH}))
    assert [s.creator_id for s in rank(v, cards, {}, filters=keep)] == ["h"]
    near = DiscoveryFilters(proximities=frozenset({Proximity.NEARBY}))
    assert [s.creator_id for s in rank(v, cards, {}, filters=near)] == ["l"]
    calls = DiscoveryFilters(intents=frozenset({CALL}), min_match_score=65)
    assert [s.creator_id for s in rank(v, cards, {}, filters=calls)] == ["h"]


# --- engagement suggestions -----------------------------------------------------------------
def _suggest(v: ViewerContext, c, pair=None):
    return suggest(v, c, viewer_labels(v, c, None), pair)


def test_meeting_when_both_prefer_meetings_and_are_near():
    c = card(total=20, intent={"MEETING": 12, "CHAT": 8}, at=HOME)
    s = _suggest(viewer(location=north(0.2)), c, {MEETING: 3, CHAT: 1})
    assert s.suggested_type is MEETING
    assert s.confidence == pytest.approx(0.6 * 0.75 + 0.4 * 0.6)
    assert "meetings" in s.reasoning and "LOCAL" in s.reasoning


def test_meeting_seeker_far_away_is_offered_a_call():
    c = card(total=20, intent={"MEETING": 20}, at=north(20))
    s = _suggest(viewer(location=HOME), c, {MEETING: 2})
    assert s.suggested_type is CALL and s.evidence[MEETING] == 0.0
    assert "too far apart" in s.reasoning


def test_call_event_and_chat_follow_the_viewers_habits():
    c = card(at=HOME)
    v = viewer(location=HOME)
    assert _suggest(v, c, {CALL: 3}).suggested_type is CALL
    assert _suggest(v, c, {EVENT: 2, CHAT: 1}).suggested_type is EVENT
    assert _suggest(v, c, {CHAT: 4}).suggested_type is CHAT


def test_no_evidence_suggests_a_chat_at_low_confidence():
    s = _suggest(viewer(), card())
    assert (s.suggested_type, s.confidence) == (CHAT, w.ENGAGEMENT_DEFAULT_CONFIDENCE)


def test_blocked_viewer_is_never_offered_an_in_person_type():
    c = card(total=20, intent={"MEETING": 20}, at=HOME)
    s = _suggest(viewer(location=HOME, risk=RiskLevel.BLOCKED), c, {MEETING: 5})
    assert s.suggested_type not in w.IN_PERSON


# --- cards and cells --------------------------------------------------------------------------
def test_card_holds_dominant_labels_with_documented_ties():
    assert dominant_label({"LOW": 5, "HIGH": 5}, "budget") == "HIGH"
    assert dominant_label({"CHAT": 3, "EVENT": 3}, "intent") == "EVENT"
    assert dominant_label({}, "intent") is None
    c = card(total=10, budget={"MID": 6, "HIGH": 4}, intent={"CALL": 10}, at=HOME)
    assert c.segment == "MID|CALL" and c.cell == HOME.parent(4)
    assert c.region == HOME.parent(2)


def test_a_local_creator_is_always_in_the_viewers_region_pools():
    # LOCAL (≤ 50 km) and NEARBY (≤ 200 km) creators in any direction are in the region block
    for dlat, dlon in [(0.44, 0), (-0.44, 0), (0, 0.66), (0, -0.66), (0.3, 0.45), (1.7, 0),
                       (0, -2.5)]:
        creator = DEFAULT_GRID.snap(48.0 + dlat, 11.0 + dlon)
        assert creator.parent(REGION_RESOLUTION) in pool_cells(HOME, REGION_RESOLUTION)
