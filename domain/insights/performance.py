"""Segment performance: impressions → interactions → conversions of one segment, against baseline.

The discovery side counts, per creator, segment value and UTC day, how often the creator was shown
to viewers of that segment (impressions), how often that led to an interaction, and to a paid
conversion (with its revenue). The baseline is the same sums over every value of the segment
type: the creator's whole audience.

Privacy floor (see ``domain.insights.privacy``): the window is whole UTC days ending yesterday,
so two queries on the same day always agree; a segment is reported only when it is shown on its
own in the released breakdown (it stands for ≥ 10 viewers); each of its counts is a yes/no split
of the baseline count (the segment's count and the rest must both reach the floor), is rounded
to 10, and rates are computed from the rounded counts. These documents count events, not
distinct viewers, so a count above the floor could still come from fewer viewers; requiring the
segment itself to hold ≥ 10 viewers bounds that, and a per-viewer distinct count on the writing
side would close it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.insights.labels import SegmentKind, keys, label
from domain.insights.privacy import coarse_count, enough, significant, split

DEFAULT_DAYS = 30
MAX_DAYS = 90


class InvalidPerformanceQuery(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def check_query(kind: SegmentKind, value: str, days: int) -> str:
    """The segment value, validated against the kind's values; raises on a bad query."""
    if value not in keys(kind):
        raise InvalidPerformanceQuery(
            "segmentValue", f"segmentValue must be one of {', '.join(keys(kind))} for "
                            f"{kind.name}, not {value!r}")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidPerformanceQuery("days", f"days must be between 1 and {MAX_DAYS}")
    return value


def window(today: date, days: int) -> list[date]:
    """The ``days`` whole UTC days ending yesterday (today is still being counted)."""
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


@dataclass(frozen=True)
class PerformanceTotals:
    impressions: int = 0
    interactions: int = 0
    conversions: int = 0
    revenue_tokens: int = 0

    def __add__(self, other: PerformanceTotals) -> PerformanceTotals:
        return PerformanceTotals(self.impressions + other.impressions,
                                 self.interactions + other.interactions,
                                 self.conversions + other.conversions,
                                 self.revenue_tokens + other.revenue_tokens)


@dataclass(frozen=True)
class Figures:
    """Shown figures: rounded counts, rates from the rounded counts; ``None`` when hidden."""

    impressions: int | None = None
    interactions: int | None = None
    conversions: int | None = None
    interaction_rate: float | None = None  # % of impressions
    conversion_rate: float | None = None  # % of impressions
    revenue_per_conversion: float | None = None  # tokens, 2 significant figures
    #: tokens from conversions, 2 significant figures (hidden with revenue per conversion)
    total_revenue: float | None = None


def _rate(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(part / whole * 100, 1)


def figures(shown: PerformanceTotals | None, revenue: int | None) -> Figures:
    """``revenue`` ``None``: the dominance rule hides revenue per conversion."""
    if shown is None:
        return Figures()
    imp = coarse_count(shown.impressions) if shown.impressions else None
    inter = coarse_count(shown.interactions) if shown.interactions else None
    conv = coarse_count(shown.conversions) if shown.conversions else None
    return Figures(imp, inter, conv, _rate(inter, imp), _rate(conv, imp),
                   significant(revenue / conv) if conv and revenue is not None else None,
                   significant(revenue) if conv and revenue is not None else None)


def _floor(part: PerformanceTotals, whole: PerformanceTotals) -> PerformanceTotals:
    """Keep each count of ``part`` that splits ``whole`` with both sides above the floor."""
    return PerformanceTotals(split(part.impressions, whole.impressions) or 0,
                             split(part.interactions, whole.interactions) or 0,
                             split(part.conversions, whole.conversions) or 0,
                             part.revenue_tokens)


def _alone(total: PerformanceTotals) -> PerformanceTotals:
    """The baseline's counts that reach the floor (they stand for the whole audience)."""
    def keep(n: int) -> int:
        return n if enough(n) else 0
    return PerformanceTotals(keep(total.impressions), keep(total.interactions),
                             keep(total.conversions), total.revenue_tokens)


@dataclass(frozen=True)
class SegmentPerformance:
    kind: SegmentKind
    value: str
    name: str
    days: int
    since: date
    until: date
    withheld_reason: str | None
    segment: Figures
    baseline: Figures

    @property
    def conversion_rate_vs_baseline(self) -> float | None:
        """The segment's conversion rate ÷ the baseline's (1.0 = the same)."""
        a, b = self.segment.conversion_rate, self.baseline.conversion_rate
        return round(a / b, 2) if a is not None and b else None

    @property
    def conversion_rate_difference(self) -> float | None:
        """Percentage points between the segment's conversion rate and the baseline's."""
        a, b = self.segment.conversion_rate, self.baseline.conversion_rate
        return round(a - b, 1) if a is not None and b is not None else None

    @property
    def performance_vs_baseline(self) -> float | None:
        """How much better (+) or worse (−) the segment converts than the whole audience, in
        % of the baseline's conversion rate (+25.0: converts 1.25× as often)."""
        ratio = self.conversion_rate_vs_baseline
        return round((ratio - 1) * 100, 1) if ratio is not None else None

    @property
    def revenue_per_conversion_vs_baseline(self) -> float | None:
        a, b = self.segment.revenue_per_conversion, self.baseline.revenue_per_conversion
        return round(a / b, 2) if a is not None and b else None


SEGMENT_HIDDEN = ("This segment is not shown on its own in your audience (it holds fewer than "
                  "10 viewers, or is merged into Other), so its performance is withheld too.")


def report(kind: SegmentKind, value: str, days: int, today: date, segment: PerformanceTotals,
           baseline: PerformanceTotals, *, audience_withheld: str | None,
           segment_shown: bool, revenue_shown: bool = True,
           baseline_revenue_shown: bool = True) -> SegmentPerformance:
    """Apply the floor and derive rates; ``segment_shown``: the value is shown on its own;
    ``revenue_shown`` / ``baseline_revenue_shown``: the dominance rule lets the kind's (the
    audience's) revenue figures be shown (``domain.insights.dominance``)."""
    span = window(today, days)
    reason = audience_withheld or (None if segment_shown else SEGMENT_HIDDEN)
    if reason is not None:
        return SegmentPerformance(kind, value, label(kind, value).name, days, span[0],
                                  span[-1], reason, Figures(), Figures())
    shown = _floor(segment, baseline)
    return SegmentPerformance(kind, value, label(kind, value).name, days, span[0], span[-1],
                              None,
                              figures(shown, segment.revenue_tokens if revenue_shown else None),
                              figures(_alone(baseline), baseline.revenue_tokens
                                      if baseline_revenue_shown else None))
