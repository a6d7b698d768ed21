"""The privacy-safe view of a released aggregate: the only numbers anything downstream may read.

``audience_view`` applies ``domain.insights.privacy`` to a released :class:`CreatorAggregate`
and returns rounded counts, percentages, revenue averages and shares — never a raw count.
Recommendations, messaging and growth are computed from this view, not from the aggregate, so a
rule can never fire (or stay silent) on a difference the shown numbers hide.

Which partitions govern which figure:

* a tier's count and percentage: the viewers' partition of that kind;
* a tier's revenue (average per viewer, share of revenue): the *payers'* partition of that kind
  as well — a creator knows who paid them and how much, so revenue that stood for one payer
  would point at them; it is shown for a tier only when the tier reaches the floor on its own in
  both partitions;
* paying audience: a yes/no split of the whole audience (both sides ≥ the floor);
* passion signals: a yes/no split each;
* combined segments (budget × intent × proximity): the viewers' and payers' partitions over all
  36 cells, exactly like a single kind;
* every revenue figure also passes the dominance rule (``domain.insights.dominance``): when one
  shown cell of a breakdown is dominated by one or two payers, no revenue figure of that
  breakdown is shown; the audience's average revenue passes it on the whole audience.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.insights.aggregates import CreatorAggregate
from domain.insights.dominance import Top, breakdown_passes, merge_tops
from domain.insights.labels import (
    DEFAULT_THRESHOLDS,
    OTHER_KEY,
    PASSION_KIND,
    SegmentKind,
    combo_description,
    keys,
    label,
)
from domain.insights.privacy import (
    COUNT_BUCKET,
    MIN_VIEWERS,
    PERCENT_STEP,
    Group,
    Partition,
    coarse_count,
    coarse_percentage,
    enough,
    partition,
    significant,
    split,
)
from domain.insights.rounding import apportion
from domain.segments.thresholds import SegmentThresholds

WITHHELD_REASON = (f"Audience insights appear once at least {MIN_VIEWERS} viewers have "
                   "interacted with you: below that, any figure could point at an individual.")

COMBO_KIND = "combo"
#: every combined segment key, in a fixed order (budget, then intent, then proximity)
COMBO_KEYS: tuple[str, ...] = tuple(
    f"{b}|{i}|{p}" for b in keys(SegmentKind.BUDGET) for i in keys(SegmentKind.INTENT)
    for p in keys(SegmentKind.PROXIMITY))


@dataclass(frozen=True)
class ShownCell:
    """One row of a breakdown: a tier on its own, or ``OTHER`` holding several."""

    kind: str
    key: str  # the tier's key, or OTHER
    members: tuple[str, ...]  # the keys it stands for (one, or several for OTHER)
    name: str
    trait: str
    count: int  # rounded
    percentage: float  # of the (rounded) audience, in 5-point steps
    average_revenue: float | None  # tokens per viewer, 2 significant figures
    revenue_share: float | None  # of the creator's revenue, in 5-point steps


@dataclass(frozen=True)
class ShownSegment:
    """A combined segment (budget × intent × proximity) that reaches the floor on its own."""

    rank: int
    key: str
    budget: str
    intent: str
    proximity: str
    description: str
    count: int
    percentage: float
    average_revenue: float | None
    revenue_share: float | None

    #: the budget, intent and proximity traits, rendered from the classifying thresholds
    traits: tuple[str, ...] = ()

    @property
    def characteristics(self) -> tuple[str, ...]:
        traits = [t.capitalize() for t in self.traits]
        if self.average_revenue is not None:
            traits.append(f"Bring you about {self.average_revenue:,.0f} tokens each")
        return tuple(traits)


@dataclass(frozen=True)
class AudienceView:
    creator_id: str
    withheld_reason: str | None
    total: int = 0
    paying: int | None = None
    paying_percentage: float | None = None
    average_revenue: float | None = None
    breakdown: Mapping[str, tuple[ShownCell, ...]] = field(default_factory=dict)
    passion: tuple[ShownCell, ...] = ()
    segments: tuple[ShownSegment, ...] = ()
    #: breakdowns (kinds, ``combo``) and ``audience`` whose revenue figures the dominance rule
    #: hides; every other revenue figure derived from them (revenuePerConversion) follows
    dominated: frozenset[str] = frozenset()
    #: the thresholds its labels (and the advice quoting them) are rendered from
    thresholds: SegmentThresholds = DEFAULT_THRESHOLDS

    @property
    def withheld(self) -> bool:
        return self.withheld_reason is not None

    def cell(self, kind: str, key: str) -> ShownCell | None:
        """The row ``key`` is shown on its own in, or ``None`` when it is hidden."""
        rows = self.passion if kind == PASSION_KIND else self.breakdown.get(kind, ())
        return next((c for c in rows if c.key == key), None)

    def share(self, kind: str, key: str) -> float | None:
        """The shown percentage of ``key`` (``None`` when hidden): what rules may read."""
        found = self.cell(kind, key)
        return found.percentage if found else None

    def largest(self, kind: str) -> ShownCell | None:
        """The biggest tier shown on its own (rows are ordered by shown count)."""
        return next((c for c in self.breakdown.get(kind, ()) if c.key != OTHER_KEY),
                    None)

    @property
    def top_segment_description(self) -> str | None:
        if self.segments:
            return self.segments[0].description
        names = [c.name for kind in SegmentKind if (c := self.largest(kind))]
        return f"Largest groups: {', '.join(names)}" if names else None


def _revenue(group: Group, payers: Partition, revenue: Mapping[str, int],
             audience_revenue: int) -> tuple[float | None, float | None]:
    """Average revenue per viewer and revenue share of a group, when the payers allow it.

    The average divides by the *rounded* viewer count: a creator knows their revenue to the
    token, and dividing by the exact count would let them solve for it.
    """
    if audience_revenue <= 0:
        return None, None  # no revenue released yet
    if group.merged:
        if payers.other is None or set(payers.other.keys) != set(group.keys):
            return None, None
    elif payers.group_of(group.keys[0]) is None:
        return None, None
    tokens = sum(int(revenue.get(k, 0)) for k in group.keys)
    return (significant(tokens / group.shown_count),
            coarse_percentage(tokens, audience_revenue))


def _name(kind: str, key: str, thresholds: SegmentThresholds) -> tuple[str, str]:
    if kind == COMBO_KIND and key != OTHER_KEY:
        return combo_description(*key.split("|")), ""
    info = label(kind, key, thresholds)
    return info.name, info.trait


def revenue_cell(kind: str, key: str) -> str:
    """The aggregate's revenue cell of a tier (as ``domain.insights.aggregates`` names it)."""
    return f"{kind}_revenue.{key}"


#: the whole audience's revenue cell, and its name among ``AudienceView.dominated``
AUDIENCE_REVENUE_CELL = "revenue_tokens"
AUDIENCE = "audience"


def _group_top(kind: str, keys_: tuple[str, ...], revenue: Mapping[str, int],
               tops: Mapping[str, Top]) -> Top | None:
    parts = []
    for key in keys_:
        if int(revenue.get(key, 0)) <= 0:
            continue
        top = tops.get(revenue_cell(kind, key))
        if top is None:
            return None  # revenue with unknown contributors: not proven safe
        parts.append(top)
    return merge_tops(parts)


def _passes(kind: str, counts: Mapping[str, int], revenue: Mapping[str, int],
            order: tuple[str, ...], tops: Mapping[str, Top]) -> bool:
    """Complementary suppression: one dominated group hides every revenue figure of the
    kind."""
    return breakdown_passes(
        (sum(int(revenue.get(k, 0)) for k in group.keys),
         _group_top(kind, group.keys, revenue, tops))
        for group in partition(counts, order).groups)


def _rows(kind: str, counts: Mapping[str, int], paying: Mapping[str, int],
          revenue: Mapping[str, int], order: tuple[str, ...], total: int,
          audience_revenue: int, revenue_shown: bool, thresholds: SegmentThresholds
          ) -> tuple[ShownCell, ...]:
    viewers = partition(counts, order)
    payers = partition(paying, order)
    shown_total = coarse_count(total)
    groups = viewers.groups
    if sum(g.count for g in groups) == total:
        # the cells partition the audience: round them together, so counts add up to the
        # total shown and percentages to exactly 100 (domain/insights/rounding.py)
        shown_counts = apportion([g.count for g in groups], shown_total, COUNT_BUCKET, minimum=1)
        percentages = [float(p) for p in apportion(shown_counts, 100, PERCENT_STEP)]
    else:  # some viewers are in no shown cell: each cell rounded on its own
        shown_counts = [g.shown_count for g in groups]
        percentages = [coarse_percentage(n, shown_total) for n in shown_counts]
    rows = []
    for group, count, percentage in zip(groups, shown_counts, percentages, strict=True):
        key = OTHER_KEY if group.merged else group.keys[0]
        avg, share = (_revenue(group, payers, revenue, audience_revenue) if revenue_shown
                      else (None, None))
        name, trait = _name(kind, key, thresholds)
        rows.append(ShownCell(kind=kind, key=key, members=group.keys, name=name, trait=trait,
                              count=count, percentage=percentage,
                              average_revenue=avg, revenue_share=share))
    return tuple(rows)


def audience_view(aggregate: CreatorAggregate,
                  tops: Mapping[str, Top] | None = None,
                  thresholds: SegmentThresholds = DEFAULT_THRESHOLDS) -> AudienceView:
    """Everything a creator may see of ``aggregate`` (a *released* aggregate); ``tops`` are
    the largest contributions per revenue cell released with it (none known: no revenue
    figure is shown); labels are rendered from ``thresholds``, those that classified it."""
    tops = tops or {}
    total = aggregate.total
    if not enough(total):
        return AudienceView(aggregate.creator_id, WITHHELD_REASON)
    shown_total = coarse_count(total)
    audience_revenue = aggregate.revenue_tokens
    dominated = {kind.value for kind in SegmentKind
                 if not _passes(kind, aggregate.counts.get(kind, {}),
                                aggregate.revenue.get(kind, {}), keys(kind), tops)}
    if not _passes(COMBO_KIND, aggregate.combos, aggregate.combo_revenue, COMBO_KEYS, tops):
        dominated.add(COMBO_KIND)
    if not breakdown_passes([(audience_revenue, tops.get(AUDIENCE_REVENUE_CELL))]):
        dominated.add(AUDIENCE)
    breakdown = {
        kind.value: _rows(kind, aggregate.counts.get(kind, {}),
                          aggregate.paying_counts.get(kind, {}),
                          aggregate.revenue.get(kind, {}), keys(kind), total,
                          audience_revenue, kind.value not in dominated, thresholds)
        for kind in SegmentKind
    }
    paying = split(aggregate.paying, total)
    passion = []
    for signal in keys(PASSION_KIND):
        holders = split(int(aggregate.passion.get(signal, 0)), total)
        if holders is not None:
            info = label(PASSION_KIND, signal, thresholds)
            passion.append(ShownCell(
                kind=PASSION_KIND, key=signal, members=(signal,), name=info.name,
                trait=info.trait, count=coarse_count(holders),
                percentage=coarse_percentage(coarse_count(holders), shown_total),
                average_revenue=None, revenue_share=None))
    passion.sort(key=lambda c: -c.count)
    combo_rows = _rows(COMBO_KIND, aggregate.combos, aggregate.combo_paying,
                          aggregate.combo_revenue, COMBO_KEYS, total, audience_revenue,
                          COMBO_KIND not in dominated, thresholds)
    segments: list[ShownSegment] = []
    for row in (r for r in combo_rows if r.key != OTHER_KEY):
        budget, intent, proximity = row.key.split("|")
        segments.append(ShownSegment(
            rank=len(segments) + 1, key=row.key, budget=budget, intent=intent,
            proximity=proximity, description=combo_description(budget, intent, proximity),
            count=row.count, percentage=row.percentage, average_revenue=row.average_revenue,
            revenue_share=row.revenue_share,
            traits=(label(SegmentKind.BUDGET, budget, thresholds).trait,
                    label(SegmentKind.INTENT, intent, thresholds).trait,
                    label(SegmentKind.PROXIMITY, proximity, thresholds).trait)))
    return AudienceView(
        creator_id=aggregate.creator_id, withheld_reason=None, total=shown_total,
        paying=coarse_count(paying) if paying is not None else None,
        paying_percentage=(coarse_percentage(coarse_count(paying), shown_total)
                           if paying is not None else None),
        average_revenue=(significant(audience_revenue / shown_total)
                         if audience_revenue > 0 and AUDIENCE not in dominated else None),
        breakdown=breakdown, passion=tuple(passion), segments=tuple(segments),
        dominated=frozenset(dominated), thresholds=thresholds)


@dataclass(frozen=True)
class ReleasedAudience:
    """What a creator reads: the view of the last release, and when it was cut."""

    view: AudienceView
    as_of: datetime | None
    revenue_as_of: datetime | None


@dataclass(frozen=True)
class PlatformAudience:
    """What an admin reads of the platform: the view of every release summed."""

    view: AudienceView
    #: when the releases were summed (None: not yet)
    as_of: datetime | None
    #: creators whose published release is summed in
    creators: int
    #: every creator's revenue, 2 significant figures; None when hidden (floor, dominance)
    total_revenue: float | None = None


def platform_audience(aggregate: CreatorAggregate, tops: Mapping[str, Top],
                      thresholds: SegmentThresholds, as_of: datetime | None, creators: int
                      ) -> PlatformAudience:
    """The platform's summed releases through the creators' own view (same rules)."""
    view = audience_view(aggregate, tops, thresholds)
    revenue = aggregate.revenue_tokens
    shown = not view.withheld and revenue > 0 and AUDIENCE not in view.dominated
    return PlatformAudience(view, as_of, creators, significant(revenue) if shown else None)
