"""Insight rules as pure functions: the view, recommendations, messaging, growth, performance."""

from __future__ import annotations

from datetime import date

import pytest

from domain.insights.aggregates import CreatorAggregate
from domain.insights.growth import compare, no_history
from domain.insights.labels import LABELS, SegmentKind, keys
from domain.insights.messaging import THEMES, suggest
from domain.insights.performance import (
    SEGMENT_HIDDEN,
    InvalidPerformanceQuery,
    PerformanceTotals,
    check_query,
    report,
    window,
)
from domain.insights.recommendations import RULES, FindingKind, metrics, recommend
from domain.insights.view import WITHHELD_REASON, audience_view
from domain.rollups import InteractionKind
from domain.segments.budget import BudgetTier
from domain.segments.proximity import Proximity

TODAY = date(2026, 11, 27)


def aggregate(budget=None, intent=None, proximity=None, paying=0, passion=None, revenue=None,
              paying_counts=None, combos=None) -> CreatorAggregate:
    budget = budget or {"LOW": 40}
    total = sum(budget.values())
    return CreatorAggregate(
        "c", total=total, paying=paying, revenue_tokens=sum((revenue or {}).values()),
        counts={"budget": budget, "intent": intent or {"CHAT": total},
                "proximity": proximity or {"REMOTE": total}},
        revenue={"budget": revenue or {}}, paying_counts={"budget": paying_counts or {}},
        combos=combos or {}, passion=passion or {})


def test_every_segment_value_has_a_label_and_themes():
    for kind, enum in ((SegmentKind.BUDGET, BudgetTier), (SegmentKind.INTENT, InteractionKind),
                       (SegmentKind.PROXIMITY, Proximity)):
        assert set(keys(kind)) == {e.value for e in enum}
        assert set(THEMES[kind]) == set(LABELS[kind])


def test_below_ten_viewers_everything_is_withheld():
    view = audience_view(aggregate(budget={"LOW": 5, "HIGH": 4}))
    assert view.withheld and view.withheld_reason == WITHHELD_REASON
    assert view.breakdown == {} and view.segments == () and view.passion == ()
    assert suggest(view) == ()


def test_revenue_is_shown_only_where_payers_reach_the_floor():
    view = audience_view(aggregate(
        budget={"LOW": 20, "MID": 20, "HIGH": 20}, paying=35,
        paying_counts={"LOW": 5, "MID": 15, "HIGH": 20},
        revenue={"LOW": 500, "MID": 30_000, "HIGH": 200_000}),
        {"budget_revenue.LOW": (100, 100), "budget_revenue.MID": (2_000, 2_000),
         "budget_revenue.HIGH": (10_000, 10_000)})  # nobody dominates (dominance rule)
    rows = {c.key: c for c in view.breakdown["budget"]}
    # LOW's 5 payers would point at themselves: LOW merges with the smallest other payer group
    assert rows["LOW"].average_revenue is None and rows["MID"].average_revenue is None
    assert rows["HIGH"].average_revenue == 10_000.0  # 200,000 / 20 viewers
    assert rows["HIGH"].revenue_share == 85.0


def test_top_segments_rank_by_rounded_count_and_omit_small_combinations():
    view = audience_view(aggregate(
        budget={"LOW": 31, "HIGH": 28},
        combos={"LOW|CHAT|REMOTE": 31, "HIGH|CALL|LOCAL": 16, "HIGH|CHAT|REMOTE": 8,
                "HIGH|EVENT|NEARBY": 4}))
    assert [s.key for s in view.segments] == ["LOW|CHAT|REMOTE", "HIGH|CALL|LOCAL"]
    assert [s.rank for s in view.segments] == [1, 2]
    assert view.segments[1].description == "High Spenders · Call Lovers · Local Fans"
    assert view.top_segment_description == "Casual Supporters · Chat Enthusiasts · Distant Fans"


def test_each_recommendation_cites_exactly_the_shown_numbers_it_read():
    view = audience_view(aggregate(
        budget={"LOW": 20, "MID": 20, "HIGH": 30}, intent={"CALL": 40, "CHAT": 30},
        proximity={"LOCAL": 30, "NEARBY": 20, "REMOTE": 20}, paying=12,
        passion={"loyal_follower": 20}))
    shown = metrics(view)
    result = recommend(view)
    assert result.primary_strategy == "Lead with one-to-one calls"
    assert "55% of your audience are Call Lovers" in result.reasoning
    fired = {f.rule for f in result.trace}
    assert {"premium-sessions", "first-purchase", "reward-loyalty", "premium-calls",
            "local-meetup", "regional-event"} <= fired
    for finding in result.trace:
        for evidence in finding.evidence:
            assert shown[evidence.metric] == evidence.value
            assert f"{evidence.value:g}%" in finding.text or finding.kind is (
                FindingKind.STRATEGY)
    assert len(result.tips) == sum(f.kind is FindingKind.TIP for f in result.trace)


def test_a_rule_whose_numbers_are_hidden_stays_silent():
    # HIGH is 4 viewers: hidden, so the high-spender rules cannot fire on it.
    view = audience_view(aggregate(budget={"LOW": 36, "HIGH": 4}))
    result = recommend(view)
    assert "share.budget.HIGH" not in metrics(view)
    assert not any(e.metric == "share.budget.HIGH" for f in result.trace for e in f.evidence)


def test_every_rule_reads_only_metric_names_the_view_can_produce():
    full = audience_view(aggregate(
        budget={"LOW": 20, "MID": 20, "HIGH": 20},
        intent={"CHAT": 15, "CALL": 15, "MEETING": 15, "EVENT": 15},
        proximity={"LOCAL": 20, "NEARBY": 20, "REMOTE": 20}, paying=30,
        passion={"shared_interests": 20, "visual_attraction": 20, "loyal_follower": 20}))
    names = set(metrics(full))
    for rule in RULES:
        assert set(rule.reads) <= names, rule.id


def test_without_a_shown_intent_the_strategy_says_so():
    result = recommend(audience_view(aggregate(budget={"LOW": 40},
                                               intent={"CHAT": 5, "CALL": 5, "EVENT": 30})))
    assert result.primary_strategy == "Make events your centrepiece"
    mixed = recommend(audience_view(aggregate(budget={"LOW": 12},
                                              intent={"CHAT": 6, "CALL": 6})))
    assert mixed.primary_strategy == "Get to know your audience"
    assert mixed.tips  # a general tip, never an empty section


def test_messaging_follows_dominant_shown_segments():
    view = audience_view(aggregate(budget={"LOW": 20, "MID": 10, "HIGH": 25},
                                   proximity={"LOCAL": 40, "REMOTE": 15}))
    got = [(s.kind, s.key, s.percentage) for s in suggest(view)]
    # MID (15 %) is not dominant; CHAT holds everyone, so it is hidden and suggests nothing
    assert got == [("proximity", "LOCAL", 65.0), ("budget", "HIGH", 50.0),
                   ("budget", "LOW", 35.0)]


def test_growth_compares_shown_numbers_at_both_ends():
    then = audience_view(aggregate(budget={"LOW": 20, "MID": 10, "HIGH": 10}))
    now = audience_view(aggregate(budget={"LOW": 30, "MID": 10, "HIGH": 25}))
    window_ = compare(7, now, then, date(2026, 11, 20))
    assert window_.available and window_.audience_change == 30 and window_.compared_with
    assert window_.audience_change_percentage == 75
    tiers = {t.key: t for t in window_.tiers}
    assert tiers["HIGH"].count_change == 20 and tiers["LOW"].count_change == 10
    assert not no_history(30).available and "Not enough history" in no_history(30).note


def test_growth_from_a_withheld_past_has_nothing_to_compare():
    then = audience_view(aggregate(budget={"LOW": 5}))
    now = audience_view(aggregate(budget={"LOW": 30}))
    assert not compare(7, now, then, date(2026, 11, 20)).available


def test_performance_window_is_whole_days_ending_yesterday():
    days = window(TODAY, 3)
    assert days == [date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)]


@pytest.mark.parametrize(("kind", "value", "days"), [(SegmentKind.BUDGET, "CALL", 30),
                                                     (SegmentKind.INTENT, "HIGH", 30),
                                                     (SegmentKind.BUDGET, "HIGH", 0),
                                                     (SegmentKind.BUDGET, "HIGH", 91)])
def test_performance_query_is_validated(kind, value, days):
    with pytest.raises(InvalidPerformanceQuery):
        check_query(kind, value, days)


def test_performance_floors_each_count_against_the_rest_of_the_audience():
    segment = PerformanceTotals(impressions=400, interactions=64, conversions=12,
                                revenue_tokens=60_000)
    rest = PerformanceTotals(impressions=600, interactions=5, conversions=30,
                             revenue_tokens=90_000)
    got = report(SegmentKind.BUDGET, "HIGH", 30, TODAY, segment, segment + rest,
                 audience_withheld=None, segment_shown=True)
    assert got.segment.impressions == 400 and got.segment.conversions == 10
    assert got.segment.interactions is None  # the other 5 interactions would be recoverable
    assert got.segment.conversion_rate == 2.5  # 10 / 400, from rounded counts
    assert got.segment.revenue_per_conversion == 6_000.0
    assert got.baseline.impressions == 1000 and got.baseline.conversions == 40
    assert got.conversion_rate_vs_baseline == 0.62  # 2.5 % vs 4.0 %
    assert got.conversion_rate_difference == -1.5


def test_performance_of_a_hidden_segment_is_withheld():
    got = report(SegmentKind.BUDGET, "HIGH", 30, TODAY, PerformanceTotals(500, 50, 50, 1),
                 PerformanceTotals(1000, 100, 100, 2), audience_withheld=None,
                 segment_shown=False)
    assert got.withheld_reason == SEGMENT_HIDDEN and got.segment.impressions is None
