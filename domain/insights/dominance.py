"""The dominance rule for revenue figures (contract §7): the (n, k) rules of statistical
disclosure control, as the SDC Handbook states them.

A revenue figure of a cell (``averageRevenue``, ``revenueShare``, ``averageRevenuePerViewer``,
``revenuePerConversion``) is shown only when no single viewer holds more than 50 % of the
cell's tokens and no two hold more than 85 %: otherwise the figure is, to the creator who knows
their big payers, that payer's spend. When one cell of a breakdown fails, no revenue figure of
the breakdown is shown (complementary suppression): the creator knows the breakdown's total,
so the hidden cell would be the total minus the shown ones, and *which* cell is hidden would
say where the big payer sits.

The rule needs only each cell's total and its two largest contributions. Those are computed
when a revenue release is cut (``services.insights``), from the creator's segments, one read
per release, and stored with it: an ``$inc``-maintained aggregate cannot keep a top two, since
when the largest contributor leaves a cell the next one is unknown. A release is cut once at
least 10 viewers' contributions moved, so the read is amortised over those changes, and the
rule moves exactly when the released figures move (never with unreleased events).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

#: (n, percent): the n largest contributors may hold at most this percentage of a cell
DOMINANCE_RULES: tuple[tuple[int, int], ...] = ((1, 50), (2, 85))
#: how many of the largest contributions a cell keeps (the largest n of any rule)
KEPT = max(n for n, _ in DOMINANCE_RULES)

Top = tuple[int, ...]


def top_contributions(values: Iterable[int]) -> Top:
    """The :data:`KEPT` largest positive contributions, largest first."""
    return tuple(sorted((v for v in values if v > 0), reverse=True)[:KEPT])


def merge_tops(tops: Iterable[Sequence[int]]) -> Top:
    """The top of a union of cells whose contributors are distinct (one cell per viewer and
    kind): the largest of the union are among the largest of each part."""
    return top_contributions(v for top in tops for v in top)


def dominated(total: int, top: Sequence[int]) -> bool:
    """True when the largest contributors hold too much of ``total`` for a figure to be shown.

    Exact integer arithmetic: a share is compared as ``100 * part > percent * total``."""
    if total <= 0:
        return False  # nothing to reveal: no revenue figure is shown for no revenue
    largest = sorted((v for v in top if v > 0), reverse=True)
    return any(100 * sum(largest[:n]) > percent * total for n, percent in DOMINANCE_RULES)


def breakdown_passes(cells: Iterable[tuple[int, Sequence[int] | None]]) -> bool:
    """Complementary suppression: every cell (total, top) of a breakdown passes, or none is
    shown. A cell with revenue but no known top fails (shown only when proven safe)."""
    return all(total <= 0 or (top is not None and not dominated(total, top))
               for total, top in cells)


def cell_tops(contributions: Iterable[tuple[Sequence[str], int]]) -> dict[str, Top]:
    """Per revenue cell, its largest contributions, from (cells a viewer's revenue counts in,
    tokens) pairs — one per viewer."""
    values: dict[str, list[int]] = {}
    for cells, tokens in contributions:
        if tokens <= 0:
            continue
        for cell in cells:
            found = values.setdefault(cell, [])
            found.append(tokens)
            if len(found) > 4 * KEPT:  # keep memory per cell bounded
                found[:] = list(top_contributions(found))
    return {cell: top_contributions(found) for cell, found in values.items()}


def tops_from_combos(combo_tops: Mapping[str, Sequence[int]]) -> dict[str, Top]:
    """Every revenue cell's largest contributions from those of the combined-segment cells
    (``BUDGET|INTENT|PROXIMITY`` → largest revenues): each viewer is in exactly one combination,
    so a label's cell and the whole audience are unions of combinations, and their tops are
    among the tops of the parts (:func:`merge_tops`) — exact, from a bounded read per cell."""
    parts: dict[str, list[Sequence[int]]] = {}
    for combo, top in combo_tops.items():
        if not top:
            continue
        budget, intent, proximity = combo.split("|")
        for cell in (f"combo_revenue.{combo}", f"budget_revenue.{budget}",
                     f"intent_revenue.{intent}", f"proximity_revenue.{proximity}",
                     "revenue_tokens"):
            parts.setdefault(cell, []).append(top)
    return {cell: merge_tops(tops) for cell, tops in parts.items()}


class TopsByViewer:
    """Per revenue cell, the largest contributions of *viewers* whose tokens come in several
    parts (one per creator they paid): each viewer's parts are summed before they count, so a
    viewer paying many creators is one contributor of the sum, as the rule means. Viewers
    arrive one after another (segments paged in viewer order); memory is one viewer's cells
    plus a bounded list per cell."""

    def __init__(self) -> None:
        self._values: dict[str, list[int]] = {}

    def add_viewer(self, cells: Mapping[str, int]) -> None:
        """One viewer's total tokens in each revenue cell."""
        for cell, tokens in cells.items():
            if tokens <= 0:
                continue
            found = self._values.setdefault(cell, [])
            found.append(tokens)
            if len(found) > 4 * KEPT:
                found[:] = list(top_contributions(found))

    def tops(self) -> dict[str, Top]:
        return {cell: top_contributions(found) for cell, found in self._values.items()}


def tops_to_doc(tops: Mapping[str, Sequence[int]]) -> list[dict[str, object]]:
    """Stored form: a list, since cell names hold dots that document keys may not."""
    return [{"cell": cell, "top": list(top)} for cell, top in sorted(tops.items())]


def tops_from_doc(value: object) -> dict[str, Top] | None:
    """The stored form back to tops (``None`` when never computed); a malformed entry is
    dropped, and its cell then fails the rule."""
    if not isinstance(value, list):
        return None
    tops: dict[str, Top] = {}
    for entry in value:
        if not isinstance(entry, dict):
            continue
        cell, raw = entry.get("cell"), entry.get("top")
        if isinstance(cell, str) and isinstance(raw, list) and all(
                isinstance(v, int) for v in raw):
            tops[cell] = top_contributions(raw)
    return tops
