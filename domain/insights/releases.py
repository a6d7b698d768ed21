"""Batched release of a creator's aggregate: what the creator reads moves in steps of ≥ 10 viewers.

The live aggregate (``domain.insights.aggregates``) moves with every segment transition. Showing
it directly lets a creator difference two responses around one viewer's join and read that
viewer's tier off the one cell that changed (rounding does not help at a boundary). So the
dashboard reads a *release*: the aggregate as it stood when it was last published.

Each transition's delta is held back per viewer (``pending``: viewer → net delta since the last
release). A family of cells is published when at least ``MIN_VIEWERS`` distinct viewers have a
non-zero net change in it:

* **counts** — total, paying, every tier / combined-segment / passion count;
* **revenue** — every revenue cell; released on its own, so a release never carries one viewer's
  payment among nine revenue-less joins.

A viewer whose changes cancel out (joined then was blocked, moved tier and moved back) has no net
change and does not count. ``carry`` holds a change no viewer can be named for (the difference a
rebuild leaves between the recomputed aggregate and the previous bookkeeping); it rides along
with the next release of its family and counts as no viewer, so it can only make a batch larger.

Invariant: published + Σ pending + carry = the live aggregate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from domain.insights.aggregates import BREAKDOWN_KINDS, CreatorAggregate
from domain.insights.privacy import MIN_VIEWERS

Cells = Mapping[str, int]


class Family(StrEnum):
    COUNTS = "counts"
    REVENUE = "revenue"


def family_of(cell: str) -> Family:
    """Revenue cells are ``revenue_tokens`` and ``<kind>_revenue.<label>``; the rest count."""
    head = cell.split(".", 1)[0]
    return Family.REVENUE if head.endswith("revenue") or head == "revenue_tokens" else (
        Family.COUNTS)


def add(total: Cells, *more: Cells) -> dict[str, int]:
    """Cell-wise sum, zero cells dropped."""
    out: Counter[str] = Counter(dict(total))
    for cells in more:
        out.update(dict(cells))
    return {k: int(v) for k, v in out.items() if v}


def subtract(a: Cells, b: Cells) -> dict[str, int]:
    out: Counter[str] = Counter(dict(a))
    out.subtract(dict(b))
    return {k: int(v) for k, v in out.items() if v}


def _part(cells: Cells, fam: Family) -> dict[str, int]:
    return {k: v for k, v in cells.items() if v and family_of(k) is fam}


def movers(pending: Mapping[str, Cells], fam: Family) -> int:
    """How many distinct viewers have a net change in ``fam`` since the last release."""
    return sum(1 for cells in pending.values() if _part(cells, fam))


def _net_changes(pending: Mapping[str, Cells]) -> dict[str, dict[str, int]]:
    """Pending changes without zero cells, and without viewers whose changes cancel out."""
    nonzero = {v: {k: n for k, n in cells.items() if n} for v, cells in pending.items()}
    return {v: cells for v, cells in nonzero.items() if cells}


@dataclass(frozen=True)
class ReleaseState:
    published: Cells = field(default_factory=dict)
    pending: Mapping[str, Cells] = field(default_factory=dict)
    carry: Cells = field(default_factory=dict)

    def live(self) -> dict[str, int]:
        """What the live aggregate must equal (the invariant)."""
        return add(self.published, self.carry, *self.pending.values())


@dataclass(frozen=True)
class Release:
    """The next state, and which families it publishes (empty: only tidied pending)."""

    state: ReleaseState
    families: tuple[Family, ...]


def plan_release(state: ReleaseState, min_viewers: int = MIN_VIEWERS) -> Release | None:
    """Publish every family with at least ``min_viewers`` movers; ``None`` when nothing to do.

    Viewers whose net change is zero are dropped from ``pending`` (nothing is lost: they add
    nothing), so the pending map stays bounded by the movers of the unreleased families.
    """
    released = tuple(f for f in Family if movers(state.pending, f) >= min_viewers)
    pending = _net_changes(state.pending)
    if not released and len(pending) == len(state.pending):
        return None
    published = dict(state.published)
    carry = dict(state.carry)
    for fam in released:
        moving: list[Cells] = [_part(cells, fam) for cells in pending.values()]
        published = add(published, _part(carry, fam), *moving)
        carry = {k: v for k, v in carry.items() if family_of(k) is not fam}
        pending = {v: {k: n for k, n in cells.items() if family_of(k) is not fam}
                   for v, cells in pending.items()}
        pending = {v: cells for v, cells in pending.items() if cells}
    return Release(ReleaseState(published, pending, carry), released)


def fold_pending(state: ReleaseState) -> Release:
    """Publish nothing, keep every viewer's net change pending (zeros dropped): how held
    changes are folded into the release document while a release waits for movers."""
    return Release(ReleaseState(state.published, _net_changes(state.pending), state.carry), ())


def rebase(state: ReleaseState, live: Cells) -> ReleaseState:
    """After a rebuild: keep what was published and pending; carry whatever else differs."""
    return ReleaseState(state.published, state.pending,
                        subtract(live, add(state.published, *state.pending.values())))


def nested(cells: Cells) -> dict[str, object]:
    """Flat dotted cells → the nested document the aggregate store keeps."""
    out: dict[str, object] = {}
    for path, value in cells.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = value
    return out


def flat(doc: Mapping[str, object], prefix: str = "") -> dict[str, int]:
    """The nested document → flat dotted cells (zeros dropped)."""
    out: dict[str, int] = {}
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat(value, f"{path}."))
        elif isinstance(value, int | float) and not isinstance(value, bool) and value:
            out[path] = int(value)
    return out



def cells_of(aggregate: CreatorAggregate) -> dict[str, int]:
    """An aggregate as flat cells, named as ``domain.insights.aggregates.contribution`` names
    them (so releases and the live aggregate can be compared cell by cell)."""
    cells: dict[str, int] = {"total": aggregate.total, "paying": aggregate.paying,
                             "revenue_tokens": aggregate.revenue_tokens}
    for kind in BREAKDOWN_KINDS:
        for name, by_kind in ((kind, aggregate.counts), (f"{kind}_revenue", aggregate.revenue),
                              (f"{kind}_paying", aggregate.paying_counts)):
            cells.update({f"{name}.{k}": int(v) for k, v in by_kind.get(kind, {}).items()})
    for name, table in (("combo", aggregate.combos), ("combo_revenue", aggregate.combo_revenue),
                        ("combo_paying", aggregate.combo_paying),
                        ("passion", aggregate.passion)):
        cells.update({f"{name}.{k}": int(v) for k, v in table.items()})
    return {k: v for k, v in cells.items() if v}
