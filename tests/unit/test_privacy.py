"""The privacy floor as pure rules: rounding, complementary suppression, batched release."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.insights.aggregates import CreatorAggregate
from domain.insights.privacy import (
    MIN_VIEWERS,
    coarse_count,
    coarse_percentage,
    partition,
    significant,
    split,
)
from domain.insights.releases import (
    Family,
    ReleaseState,
    add,
    cells_of,
    family_of,
    flat,
    movers,
    nested,
    plan_release,
    rebase,
)
from domain.insights.view import audience_view
from store.aggregates import aggregate_from_doc

BUDGET = ("LOW", "MID", "HIGH")


@pytest.mark.parametrize(("n", "shown"), [(10, 10), (14, 10), (15, 20), (24, 20), (25, 30),
                                          (1004, 1000), (1005, 1010)])
def test_counts_round_half_up_to_the_nearest_ten(n, shown):
    assert coarse_count(n) == shown


@pytest.mark.parametrize(("part", "whole", "pct"), [(10, 30, 35.0), (20, 30, 65.0),
                                                    (10, 40, 25.0), (30, 30, 100.0),
                                                    (0, 0, 0.0), (10, 80, 15.0)])
def test_percentages_are_steps_of_five_points_of_rounded_counts(part, whole, pct):
    assert coarse_percentage(part, whole) == pct


@pytest.mark.parametrize(("value", "shown"), [(12_345, 12_000), (8_250, 8_300), (0.01234, 0.012),
                                              (99.5, 100.0), (0, 0.0)])
def test_revenue_keeps_two_significant_figures(value, shown):
    assert significant(value) == shown


def test_every_cell_at_the_floor_is_shown_on_its_own():
    p = partition({"LOW": 10, "MID": 10, "HIGH": 30}, BUDGET)
    assert [g.keys for g in p.shown] == [("HIGH",), ("LOW",), ("MID",)]
    assert p.other is None


def test_a_lone_small_cell_takes_the_smallest_shown_cell_into_other():
    # MID alone would be "total − LOW − HIGH": it must not be the only hidden cell.
    p = partition({"LOW": 40, "MID": 3, "HIGH": 12}, BUDGET)
    assert [g.keys for g in p.shown] == [("LOW",)]
    assert p.other is not None and p.other.keys == ("MID", "HIGH") and p.other.count == 15


def test_zero_is_a_small_cell_too():
    # "0 % High Spenders" would say of every viewer that they are not one.
    p = partition({"LOW": 30, "MID": 20, "HIGH": 0}, BUDGET)
    assert p.group_of("HIGH") is None
    assert p.other is not None and set(p.other.keys) == {"MID", "HIGH"}


def test_an_audience_all_in_one_tier_shows_no_tier():
    # "100 % Casual Supporters" would be every viewer's label.
    p = partition({"LOW": 50}, BUDGET)
    assert p.shown == ()
    assert p.other is not None and p.other.keys == BUDGET


def test_small_cells_that_reach_the_floor_together_form_other():
    p = partition({"LOW": 40, "MID": 6, "HIGH": 5}, BUDGET)
    assert [g.keys for g in p.shown] == [("LOW",)]
    assert p.other is not None and p.other.keys == ("MID", "HIGH") and p.other.count == 11


def test_a_breakdown_below_the_floor_in_all_shows_nothing():
    p = partition({"LOW": 4, "MID": 3}, BUDGET)
    assert p.shown == () and p.other is None


@given(st.lists(st.integers(0, 60), min_size=3, max_size=3))
def test_no_hidden_cell_can_be_recovered_from_the_shown_ones(counts):
    cells = dict(zip(BUDGET, counts, strict=True))
    p = partition(cells, BUDGET)
    for group in p.shown:
        assert group.count >= MIN_VIEWERS and not group.merged
    if sum(counts) >= MIN_VIEWERS:
        # every viewer is in exactly one shown group
        assert sorted(k for g in p.groups for k in g.keys) == sorted(BUDGET)
    if p.other is not None:
        assert p.other.count >= MIN_VIEWERS
        assert len(p.other.keys) >= 2  # total − shown covers at least two unknowns
    for key in BUDGET:
        if cells[key] < MIN_VIEWERS:
            assert p.group_of(key) is None


def test_yes_no_split_needs_both_sides_at_the_floor():
    assert split(10, 20) == 10
    assert split(9, 20) is None
    assert split(15, 20) is None  # the 5 on the other side would be shown by subtraction
    assert split(20, 20) is None  # "everyone" is a statement about each viewer


# --- the batched release --------------------------------------------------------------------

def joined(budget: str, revenue: int = 0) -> dict[str, int]:
    cells = {"total": 1, f"budget.{budget}": 1}
    if revenue:
        cells |= {"revenue_tokens": revenue, f"budget_revenue.{budget}": revenue}
    return cells


def test_fewer_than_ten_changed_viewers_release_nothing():
    state = ReleaseState(pending={f"v{i}": joined("LOW") for i in range(9)})
    assert plan_release(state) is None


def test_the_tenth_changed_viewer_releases_the_whole_batch():
    state = ReleaseState(published={"total": 30, "budget.LOW": 30},
                         pending={f"v{i}": joined("HIGH") for i in range(10)})
    release = plan_release(state)
    assert release is not None and release.families == (Family.COUNTS,)
    assert release.state.published == {"total": 40, "budget.LOW": 30, "budget.HIGH": 10}
    assert release.state.pending == {}


def test_revenue_waits_for_ten_viewers_whose_revenue_moved():
    # Nine revenue-less joins and one big payer: the counts go out, the payment stays back
    # (released with them, it would sit in the payer's tier alone).
    pending = {f"v{i}": joined("LOW") for i in range(9)} | {"payer": joined("HIGH", 50_000)}
    release = plan_release(ReleaseState(pending=pending))
    assert release is not None and release.families == (Family.COUNTS,)
    assert "revenue_tokens" not in release.state.published
    assert release.state.pending == {"payer": {"revenue_tokens": 50_000,
                                               "budget_revenue.HIGH": 50_000}}


def test_a_viewer_whose_changes_cancel_out_does_not_count_and_is_dropped():
    pending = {f"v{i}": joined("LOW") for i in range(9)} | {"flip": {"budget.LOW": 0}}
    release = plan_release(ReleaseState(pending=pending))
    assert release is not None and release.families == ()  # tidied only
    assert "flip" not in release.state.pending
    assert movers(release.state.pending, Family.COUNTS) == 9


def test_carry_rides_with_the_next_release_and_counts_as_no_viewer():
    state = ReleaseState(pending={f"v{i}": joined("LOW") for i in range(9)},
                         carry={"total": 5, "budget.MID": 5})
    assert plan_release(state) is None
    state = ReleaseState(pending={f"v{i}": joined("LOW") for i in range(10)},
                         carry={"total": 5, "budget.MID": 5})
    release = plan_release(state)
    assert release is not None
    assert release.state.published == {"total": 15, "budget.LOW": 10, "budget.MID": 5}
    assert release.state.carry == {}


cell_names = st.sampled_from(("total", "paying", "budget.LOW", "budget.HIGH", "revenue_tokens",
                              "budget_revenue.HIGH", "combo.HIGH|CALL|LOCAL"))
deltas = st.dictionaries(cell_names, st.integers(-3, 3), max_size=4)


@given(published=deltas, carry=deltas,
       pending=st.dictionaries(st.sampled_from([f"v{i}" for i in range(25)]), deltas,
                               max_size=25))
def test_a_release_never_changes_what_the_live_aggregate_must_be(published, carry, pending):
    state = ReleaseState(add(published), {v: add(c) for v, c in pending.items()}, add(carry))
    release = plan_release(state)
    if release is not None:
        assert release.state.live() == state.live()
        for fam in release.families:
            assert movers(state.pending, fam) >= MIN_VIEWERS
        for fam in Family:
            if fam not in release.families:  # an unreleased family's published cells stay
                assert ({k: v for k, v in release.state.published.items()
                         if family_of(k) is fam}
                        == {k: v for k, v in add(published).items() if family_of(k) is fam})


def test_rebase_carries_the_difference_a_rebuild_leaves():
    state = ReleaseState(published={"total": 20}, pending={"v": {"total": 1}})
    rebased = rebase(state, {"total": 25, "budget.LOW": 25})
    assert rebased.carry == {"total": 4, "budget.LOW": 25}
    assert rebased.live() == {"total": 25, "budget.LOW": 25}


def test_cells_and_documents_round_trip():
    cells = {"total": 12, "paying": 3, "budget.HIGH": 2, "combo.HIGH|CALL|LOCAL": 2,
             "combo_revenue.HIGH|CALL|LOCAL": 900, "passion.loyal_follower": 1,
             "revenue_tokens": 900}
    assert flat(nested(cells)) == cells
    assert cells_of(aggregate_from_doc({"_id": "c", **nested(cells)})) == cells


# --- why the release exists: rounding alone is defeated at a boundary -------------------------

def _aggregate(low: int, mid: int, high: int) -> CreatorAggregate:
    return CreatorAggregate("c", total=low + mid + high,
                            counts={"budget": {"LOW": low, "MID": mid, "HIGH": high}})


@pytest.mark.parametrize(("low", "mid", "high"), [(20, 9, 14), (24, 14, 9)])
def test_rounding_and_the_floor_alone_would_reveal_a_joiners_tier(low, mid, high):
    """The attack the release defeats: on live counts at a boundary, the view after one join
    differs with the joiner's tier, so before/after tells the tier. (Views are compared with
    the tier breakdown only; every other dimension leaks the same way.)"""
    def budget(view):
        return [(c.key, c.count, c.percentage) for c in view.breakdown["budget"]]
    after = {tier: budget(audience_view(_aggregate(low + (tier == "LOW"), mid + (tier == "MID"),
                                                   high + (tier == "HIGH"))))
             for tier in BUDGET}
    assert len({str(v) for v in after.values()}) > 1

