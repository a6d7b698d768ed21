"""Largest-remainder rounding (domain/insights/rounding.py): parts add up to the whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.insights.privacy import COUNT_BUCKET, MIN_VIEWERS, PERCENT_STEP, coarse_count
from domain.insights.rounding import apportion


def test_the_seen_case_adds_up():
    # three cells rounded alone showed 35 + 35 + 35 = 105 %
    assert apportion([34, 33, 33], 100, PERCENT_STEP) == [35, 35, 30]
    assert sum(apportion([34, 33, 33], 100, PERCENT_STEP)) == 100


@given(st.lists(st.integers(MIN_VIEWERS, 5_000), min_size=1, max_size=12))
def test_counts_add_up_to_the_shown_total_and_no_cell_shows_under_the_floor(cells):
    shown_total = coarse_count(sum(cells))
    shown = apportion(cells, shown_total, COUNT_BUCKET, minimum=1)
    assert all(n >= COUNT_BUCKET and n % COUNT_BUCKET == 0 for n in shown)
    if len(cells) * COUNT_BUCKET <= shown_total:
        assert sum(shown) == shown_total


@given(st.lists(st.integers(1, 5_000), min_size=1, max_size=12))
def test_percentages_sum_to_exactly_100(cells):
    shown = apportion(cells, 100, PERCENT_STEP)
    assert sum(shown) == 100 and all(p % PERCENT_STEP == 0 for p in shown)
    # each within one step of its exact share
    total = sum(cells)
    assert all(abs(p - c * 100 / total) < PERCENT_STEP + 1e-9
               for p, c in zip(shown, cells, strict=True))
