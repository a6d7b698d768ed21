"""The privacy floor for creator insights: what may be shown, and how coarsely.

Threat model
------------
The adversary is a creator (or anyone holding a creator's token) who wants one viewer's labels —
budget tier, intent, proximity — and who may:

1. query ``creatorAudience`` as often as they like, before and after something they observe
   (a fan they know follows them, tips, books a call, or disappears);
2. know a lot about individual fans from their own side of the relationship: who paid them and
   how much, who chatted or called;
3. read every number in the response — percentages, counts, revenue, rankings, growth,
   recommendations — and combine them (100 % minus the shown cells, marginals minus combined
   segments, this release minus the last one);
4. wait for the moment the audience sits exactly at a rounding or threshold boundary.

What they must not learn is any individual viewer's label (or a small group's, which is the
same thing when they know the group's members).

The rule
--------
* **K-anonymity floor** (``MIN_VIEWERS`` = 10). Below 10 viewers in all, nothing is shown. Every
  shown count, percentage, revenue figure and description stands for at least 10 viewers.
  Zero is treated like any small number: "0 % High Spenders" would tell the creator that *no* fan
  is a high spender, which is a statement about every individual.
* **Complementary suppression** (:func:`partition`). The cells of one breakdown add up to the
  audience, so a single hidden cell would be "total minus the shown ones". Small cells are merged
  into one ``OTHER`` group; if that group is itself below the floor, the smallest shown cell joins
  it, until it stands for at least 10 viewers. ``OTHER`` always hides at least two labels, so no
  label inside it can be recovered. A yes/no split (paying or not, holds a passion signal or not)
  is a two-cell partition: both sides must reach the floor or neither is shown.
* **Coarsening.** Counts are rounded to the nearest ``COUNT_BUCKET`` (10); percentages are
  computed from the rounded counts and rounded to ``PERCENT_STEP`` (5 points); revenue is shown
  only as averages and shares, to ``REVENUE_FIGURES`` significant figures — never as an exact
  sum a creator could match against the payments they know. Lists are ordered by the rounded
  values, so an ordering never reveals a difference the numbers hide.
* **Batched release** (``domain.insights.releases``). Rounding alone does not stop differencing:
  at a boundary (a cell at 9, or at 14 with rounding to 10) the one viewer who joins flips
  exactly the cell holding their tier. So the creator never reads the live counters. They read a
  *release*, and a new release is cut only when at least ``MIN_VIEWERS`` distinct viewers have a
  net change since the previous one (joined, left, changed segment — and, separately, at least 10
  distinct viewers whose revenue moved). Two consecutive responses are therefore identical, or
  differ by the combined change of at least 10 viewers: the one viewer an attacker watches is
  hidden among at least 9 others whose labels the attacker does not know. Growth compares
  releases with releases (the daily snapshots store the released view), so it adds no finer
  difference.

Residual risks (stated, not solved): a creator who controls 9 other accounts in the same batch
(sybils) can subtract their known contributions; a batch whose members are all alike reveals
that they are alike (the price of showing any statistic at all); segment performance figures are
counted in events, not distinct viewers (see ``domain.insights.performance``). Defeating sybils
needs calibrated noise (differential privacy), which this rule does not add.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: the k-anonymity floor: no figure shown stands for fewer viewers than this
MIN_VIEWERS = 10
#: shown counts are multiples of this
COUNT_BUCKET = 10
#: shown percentages are multiples of this (in points)
PERCENT_STEP = 5
#: significant figures kept on revenue averages
REVENUE_FIGURES = 2


def _half_up(value: float | Decimal) -> int:
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def coarse_count(n: int) -> int:
    """``n`` rounded half-up to the nearest ``COUNT_BUCKET`` (10..14 → 10, 15..24 → 20)."""
    return _half_up(Decimal(n) / COUNT_BUCKET) * COUNT_BUCKET


def coarse_percentage(part: int, whole: int) -> float:
    """``part`` of ``whole`` (both already coarse) in points, rounded to ``PERCENT_STEP``."""
    if whole <= 0:
        return 0.0
    exact = Decimal(part) * 100 / Decimal(whole)
    return float(min(100, _half_up(exact / PERCENT_STEP) * PERCENT_STEP))


def significant(value: float, figures: int = REVENUE_FIGURES) -> float:
    """``value`` rounded to ``figures`` significant figures (12,345 → 12,000)."""
    if value == 0:
        return 0.0
    digits = Decimal(str(value)).adjusted()
    step = Decimal(10) ** (digits - figures + 1)
    return float((Decimal(str(value)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
                 * step)


def enough(n: int) -> bool:
    """A group this size may be shown."""
    return n >= MIN_VIEWERS


@dataclass(frozen=True)
class Group:
    """One shown cell of a partition: a single key, or ``OTHER`` holding several."""

    keys: tuple[str, ...]
    count: int  # true viewers (never shown as such: see ``shown_count``)

    @property
    def merged(self) -> bool:
        return len(self.keys) > 1

    @property
    def shown_count(self) -> int:
        return coarse_count(self.count)


@dataclass(frozen=True)
class Partition:
    """A breakdown after suppression: the keys shown on their own, and the merged rest."""

    shown: tuple[Group, ...]  # ordered by shown count (desc), then key
    other: Group | None

    def group_of(self, key: str) -> Group | None:
        """The group ``key`` is shown in on its own; ``None`` when it is hidden in OTHER."""
        for group in self.shown:
            if group.keys == (key,):
                return group
        return None

    @property
    def groups(self) -> tuple[Group, ...]:
        return self.shown + ((self.other,) if self.other else ())


def partition(counts: Mapping[str, int], order: tuple[str, ...]) -> Partition:
    """Complementary suppression of one breakdown whose cells add up to the audience.

    ``order`` lists every key of the breakdown (zeros included) and breaks ties, so the result
    is a pure function of the counts.
    """
    cells = [(key, int(counts.get(key, 0))) for key in order]
    hidden = [c for c in cells if not enough(c[1])]
    shown = [c for c in cells if enough(c[1])]
    # Merge the smallest shown cell into OTHER until OTHER stands for MIN_VIEWERS: a lone small
    # cell would otherwise be "total minus the rest".
    shown.sort(key=lambda c: (c[1], -order.index(c[0])))
    while hidden and sum(n for _, n in hidden) < MIN_VIEWERS and shown:
        hidden.append(shown.pop(0))
    hidden_keys = {k for k, _ in hidden}
    hidden_total = sum(n for _, n in hidden)
    # OTHER is shown when it reaches the floor; it then holds at least two keys (a lone key that
    # reached the floor would have been shown on its own). Below the floor even with every key
    # merged, the whole breakdown stands for too few viewers and nothing is shown.
    other = (Group(tuple(k for k in order if k in hidden_keys), hidden_total)
             if hidden and enough(hidden_total) else None)
    groups = sorted((Group((k,), n) for k, n in shown),
                    key=lambda g: (-g.shown_count, order.index(g.keys[0])))
    return Partition(tuple(groups), other)


def split(part: int, whole: int) -> int | None:
    """A yes/no split of ``whole``: ``part`` when both sides reach the floor, else ``None``."""
    return part if enough(part) and enough(whole - part) else None
