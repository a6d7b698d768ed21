"""Largest-remainder rounding: shown parts that add up to the shown whole.

Rounding every cell of a breakdown on its own makes the cells disagree with the total shown
(percentages summing to 105, counts to 530 of 520). ``apportion`` rounds all cells of one
breakdown together (the Hamilton method): each cell gets the whole steps of its exact share of
``target``, then the steps left over go to the largest remainders (ties to the earlier cell),
so the parts add up to ``target`` exactly. ``minimum`` steps are guaranteed to every cell (a
cell shown on its own stands for at least the privacy floor, so it never shows as 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction


def apportion(parts: Sequence[int], target: int, step: int, minimum: int = 0) -> list[int]:
    """``parts`` scaled to add up to ``target`` (a multiple of ``step``), each a multiple of
    ``step`` and at least ``minimum`` steps — as near the exact shares as that allows."""
    if not parts:
        return []
    whole = sum(parts)
    steps = target // step
    if whole <= 0 or steps <= 0:
        return [0] * len(parts)
    exact = [Fraction(p * steps, whole) for p in parts]
    given = [max(minimum, int(q)) for q in exact]
    left = steps - sum(given)
    # leftover steps to the largest remainders; surplus (from minimums) off the smallest
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    i = 0
    while left > 0:
        given[order[i % len(order)]] += 1
        left -= 1
        i += 1
    for j in reversed(order):
        if left >= 0:
            break
        if given[j] > minimum:
            given[j] -= 1
            left += 1
    return [g * step for g in given]
