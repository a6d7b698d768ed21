"""The dominance rule (domain/insights/dominance.py) and how the view applies it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.insights.aggregates import CreatorAggregate
from domain.insights.dominance import (
    TopsByViewer,
    breakdown_passes,
    cell_tops,
    dominated,
    merge_tops,
    top_contributions,
    tops_from_doc,
    tops_to_doc,
)
from domain.insights.view import audience_view


def test_one_viewer_over_half_dominates():
    assert dominated(100, (51, 10))
    assert not dominated(100, (50, 35))  # exactly 50 % and 85 % pass (the rule says "more")


def test_two_viewers_over_85_percent_dominate():
    assert dominated(100, (45, 41))
    assert not dominated(100, (45, 40))


def test_no_revenue_is_never_dominated():
    assert not dominated(0, ())


@given(st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=40))
def test_dominated_matches_the_definition(values):
    total, ordered = sum(values), sorted(values, reverse=True)
    expected = ordered[0] * 2 > total or sum(ordered[:2]) * 100 > 85 * total
    assert dominated(total, top_contributions(values)) is expected


@given(st.lists(st.lists(st.integers(min_value=0, max_value=1000), max_size=8), max_size=5))
def test_the_top_of_a_union_is_the_top_of_the_parts_tops(parts):
    assert merge_tops(top_contributions(p) for p in parts) == top_contributions(
        v for p in parts for v in p)


def test_one_failing_cell_hides_the_whole_breakdown():
    assert breakdown_passes([(100, (30, 20)), (100, (40, 40))])
    assert not breakdown_passes([(100, (30, 20)), (100, (90, 5))])
    assert not breakdown_passes([(100, None)])  # revenue with unknown contributors
    assert breakdown_passes([(0, None)])


def test_cell_tops_and_their_stored_form():
    tops = cell_tops([(["budget_revenue.HIGH", "revenue_tokens"], 900),
                      (["budget_revenue.HIGH", "revenue_tokens"], 50),
                      (["budget_revenue.LOW", "revenue_tokens"], 70),
                      (["budget_revenue.LOW"], 0)])
    assert tops == {"budget_revenue.HIGH": (900, 50), "budget_revenue.LOW": (70,),
                    "revenue_tokens": (900, 70)}
    assert tops_from_doc(tops_to_doc(tops)) == tops
    assert tops_from_doc(None) is None


def _aggregate() -> CreatorAggregate:
    # 20 viewers in each budget tier, every one paying
    counts = {"LOW": 20, "MID": 20, "HIGH": 20}
    return CreatorAggregate(
        "c", total=60, paying=60, revenue_tokens=44_000,
        counts={"budget": counts, "intent": {"CHAT": 60}, "proximity": {"REMOTE": 60}},
        revenue={"budget": {"LOW": 2_000, "MID": 2_000, "HIGH": 40_000},
                 "intent": {"CHAT": 44_000}, "proximity": {"REMOTE": 44_000}},
        paying_counts={"budget": counts, "intent": {"CHAT": 60}, "proximity": {"REMOTE": 60}})


def _tops(high: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    return {"budget_revenue.LOW": (100, 100), "budget_revenue.MID": (100, 100),
            "budget_revenue.HIGH": high, "intent_revenue.CHAT": high,
            "proximity_revenue.REMOTE": high, "revenue_tokens": high}


def test_the_view_shows_revenue_when_nobody_dominates():
    view = audience_view(_aggregate(), _tops((2_000, 2_000)))
    assert all(row.average_revenue is not None for row in view.breakdown["budget"])
    assert view.average_revenue is not None and not view.dominated


def test_a_whale_hides_every_revenue_figure_of_each_breakdown_it_dominates():
    view = audience_view(_aggregate(), _tops((30_000, 500)))  # 75 % of HIGH's tokens
    for kind in ("budget", "intent", "proximity"):
        assert all(row.average_revenue is None and row.revenue_share is None
                   for row in view.breakdown[kind]), kind
    assert view.average_revenue is None  # 30,000 of 44,000: the whole audience too
    assert view.dominated == {"budget", "intent", "proximity", "audience"}
    # counts and percentages are untouched: the rule is about revenue only
    assert all(row.count is not None for row in view.breakdown["budget"])


def test_without_known_contributors_no_revenue_is_shown():
    view = audience_view(_aggregate())
    assert all(row.average_revenue is None for row in view.breakdown["budget"])


def test_a_viewer_paying_many_creators_is_one_contributor_of_the_platform():
    # W pays 60 % of two creators' cells: each pair alone is 30 % of the platform's tokens
    per_pair = merge_tops([(600, 200), (600, 200)])
    assert not dominated(2_000, per_pair[:1])  # by pairs, the largest holds only 30 %
    tops = TopsByViewer()
    tops.add_viewer({"budget_revenue.HIGH": 1_200})  # W, over both creators
    for _ in range(4):
        tops.add_viewer({"budget_revenue.HIGH": 200})
    assert dominated(2_000, tops.tops()["budget_revenue.HIGH"])  # 60 % is one viewer's
    assert tops.tops()["budget_revenue.HIGH"] == (1_200, 200)
