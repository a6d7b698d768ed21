"""The demo world's past: its days replayed in memory into daily releases and discovery counts.

A live deployment builds its history as it goes: every night the daily run snapshots each
creator's *released* aggregate (growth compares them), and discovery counts every impression
and what followed it, per UTC day (``segmentPerformance`` reads them). A demo world loaded in
one go has no past, so half of a creator's dashboard would be empty.

``demo_history`` replays the demo's events day by day, in memory, through the live rules —
``rollup_update`` (domain/rollups.py) folded the way the store's operators apply it,
``classify_pair``, ``contribution`` and the release rule ``plan_release`` (≥ 10 viewers) — and
returns what the daily run and discovery would have written on those days:

- one snapshot per creator and day, of the release as it stood at that day's 02:00 UTC run;
- the ``segment_performance`` counters of the discovery servings the demo viewers saw: on a
  day a viewer deals with a creator, that creator was shown to them beforehand
  (``FOUND_BY_DISCOVERY`` of the time), and every viewer active on a day is also shown
  ``BROWSED_PER_DAY`` creators they do nothing with; outcomes follow the live definitions
  (``domain.discovery.impressions``: within ``CONVERSION_WINDOW``, one conversion per
  impression, counted on the day of the event, under the impression's labels).

Pure and deterministic: the same events, seed and ``now`` give the same history. Every pair is
reclassified on every replayed run day (time alone moves budget windows and loyalty), which is
what costs: so the last ``DAILY_DAYS`` days are replayed one by one and the weeks before one run
day a week (``snapshot_days``); a day's release is cut at its run, from everything that moved
since the run before.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain.discovery.impressions import (
    PERFORMANCE_KINDS,
    PerformanceDay,
    counting_day,
    outcome_of,
    within_window,
)
from domain.events import Event
from domain.insights.aggregates import CreatorAggregate, contribution
from domain.insights.releases import ReleaseState, add, plan_release, subtract
from domain.rollups import PairRollup, Profile, rollup_update
from domain.segments.classify import (
    AudienceSegment,
    SegmentInputs,
    classify_pair,
    tier_labels,
)
from domain.segments.risk import DEFAULT_RISK
from domain.segments.thresholds import SegmentThresholds
from store.aggregates import aggregate_from_cells
from store.rollups import pair_from_doc, profile_from_doc, viewer_from_doc

#: the daily run's hour (UTC): a day's snapshot holds what was released by then
DAILY_RUN_HOUR = 2
#: share of a viewer's first dealing of a day with a creator that discovery had shown first
FOUND_BY_DISCOVERY = 0.5
#: creators shown to each viewer active on a day that they do nothing with
BROWSED_PER_DAY = 2
#: run days replayed one by one, back from yesterday (growth reads 7 and 30 days back)
DAILY_DAYS = 37
#: before that, one run day in this many
WEEKLY_STEP = 7

PairKey = tuple[str, str]


@dataclass(frozen=True)
class Snapshot:
    day: date
    aggregate: CreatorAggregate


@dataclass(frozen=True)
class DemoHistory:
    snapshots: tuple[Snapshot, ...]
    performance: tuple[PerformanceDay, ...]


# --- rollups in memory, in the store's document shapes ----------------------------------------

def _inc(doc: dict[str, Any], path: str, value: float) -> None:
    *parents, leaf = path.split(".")
    for name in parents:
        doc = doc.setdefault(name, {})
    doc[leaf] = doc.get(leaf, 0) + value


@dataclass
class _Rollups:
    """The rollup documents of the events folded so far: what the store's ``$inc`` / ``$min``
    / ``$max`` / newest-fact writes of store/rollups.py leave, for the same events."""

    viewers: dict[str, dict[str, Any]] = field(default_factory=dict)
    pairs: dict[PairKey, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)
    #: the documents above as classification reads them, parsed once per change
    _parsed: dict[object, Any] = field(default_factory=dict)

    def _read(self, key: object, doc: dict[str, Any] | None, parse: Any) -> Any:
        """``doc`` parsed, cached under ``key`` until an event folds into it."""
        if key not in self._parsed:
            self._parsed[key] = parse(doc) if doc is not None else None
        return self._parsed[key]

    def fold(self, event: Event) -> None:
        for key in (event.viewer_id, (event.viewer_id, event.creator_id), ("profile",
                                                                            event.user_id)):
            self._parsed.pop(key, None)
        update = rollup_update(event)
        viewer_inc, pair_inc = dict(update.viewer_inc), dict(update.pair_inc)
        if update.once_key and update.once_key not in self.claimed:
            self.claimed.add(update.once_key)  # the first event of a key counts (time order)
            viewer_inc = dict(Counter(viewer_inc) + Counter(update.once_viewer_inc))
            pair_inc = dict(Counter(pair_inc) + Counter(update.once_pair_inc))
        viewer, creator = event.viewer_id, event.creator_id
        if viewer and viewer_inc:
            doc = self.viewers.setdefault(viewer, {"_id": viewer})
            for path, value in viewer_inc.items():
                _inc(doc, path, value)
        if viewer and creator and pair_inc:
            pair = self.pairs.setdefault((viewer, creator),
                                         {"viewer_id": viewer, "creator_id": creator})
            for path, value in pair_inc.items():
                _inc(pair, path, value)
            for name, at in update.pair_min.items():
                pair[name] = min(pair.get(name, at), at)
            for name, at in update.pair_max.items():
                pair[name] = max(pair.get(name, at), at)
        fact = update.profile_fact
        if fact is not None and event.user_id:
            profile = self.profiles.setdefault(event.user_id, {"_id": event.user_id})
            if profile.get(f"{fact.name}_key", "") < fact.order_key:
                profile[fact.name] = fact.value
                profile[f"{fact.name}_key"] = fact.order_key

    def inputs(self, key: PairKey) -> SegmentInputs:
        """What classification reads of ``key`` from the rollups so far (an empty pair for a
        viewer who has not dealt with that creator yet: how discovery labels a stranger)."""
        viewer, creator = key
        pair = self._read(key, self.pairs.get(key), pair_from_doc)
        return SegmentInputs(
            pair=pair or PairRollup(viewer, creator),
            viewer=self._read(viewer, self.viewers.get(viewer), viewer_from_doc),
            viewer_profile=self._profile(viewer), creator_profile=self._profile(creator),
            risk=DEFAULT_RISK)  # the demo flags nobody

    def classify(self, key: PairKey, thresholds: SegmentThresholds, now: datetime
                 ) -> AudienceSegment:
        return classify_pair(self.inputs(key), thresholds, now)

    def labels(self, key: PairKey, thresholds: SegmentThresholds, now: datetime
               ) -> dict[str, str]:
        """The labels an impression of ``key`` at ``now`` is counted under."""
        return dict(zip(PERFORMANCE_KINDS, tier_labels(self.inputs(key), thresholds, now),
                        strict=True))

    def _profile(self, user: str) -> Profile | None:
        profile: Profile | None = self._read(("profile", user), self.profiles.get(user),
                                             profile_from_doc)
        return profile


# --- releases in memory -------------------------------------------------------------------

@dataclass
class _Releases:
    """Each creator's release state, moved by the pairs' contributions as the live one is."""

    states: dict[str, ReleaseState] = field(default_factory=dict)
    #: what each pair's segment currently adds (published or pending)
    counted: dict[PairKey, dict[str, int]] = field(default_factory=dict)
    shapes: dict[PairKey, tuple[object, ...]] = field(default_factory=dict)
    moved: set[str] = field(default_factory=set)

    def move(self, key: PairKey, segment: AudienceSegment) -> None:
        # what a contribution depends on: unchanged → nothing moves (most pairs, most days)
        shape = (segment.labels(), segment.paying, segment.revenue_tokens, segment.risk,
                 segment.passion.shared_interests, segment.passion.visual_attraction,
                 segment.passion.loyal_follower)
        if self.shapes.get(key) == shape:
            return
        self.shapes[key] = shape
        now = {k: int(v) for k, v in contribution(segment).items() if v}
        delta = subtract(now, self.counted.get(key, {}))
        if not delta:
            return
        self.counted[key] = now
        viewer, creator = key
        state = self.states.get(creator, ReleaseState())
        pending = dict(state.pending)
        pending[viewer] = add(pending.get(viewer, {}), delta)
        self.states[creator] = ReleaseState(state.published, pending, state.carry)
        self.moved.add(creator)

    def release(self) -> None:
        """Publish what each creator moved since the last run allows (as the live release
        does after every transition batch)."""
        for creator in sorted(self.moved):
            plan = plan_release(self.states[creator])
            if plan is not None:
                self.states[creator] = plan.state
        self.moved.clear()

    def published(self) -> dict[str, CreatorAggregate]:
        return {creator: aggregate_from_cells(creator, state.published)
                for creator, state in self.states.items() if state.published}


# --- discovery in memory ------------------------------------------------------------------

@dataclass
class _Shown:
    at: datetime
    labels: Mapping[str, str]
    converted: bool = False


@dataclass
class _Performance:
    counts: dict[tuple[str, str, str, str], Counter[str]] = field(default_factory=dict)
    latest: dict[PairKey, _Shown] = field(default_factory=dict)

    def _add(self, creator: str, labels: Mapping[str, str], day: str, **counts: int) -> None:
        for kind, value in labels.items():
            self.counts.setdefault((creator, kind, value, day), Counter()).update(counts)

    def impression(self, key: PairKey, at: datetime, labels: Mapping[str, str]) -> None:
        self.latest[key] = _Shown(at, labels)
        self._add(key[1], labels, counting_day(at), impressions=1)

    def outcome(self, event: Event) -> None:
        outcome = outcome_of(event)
        if outcome is None:
            return
        shown = self.latest.get((str(event.viewer_id), str(event.creator_id)))
        if shown is None or not within_window(shown.at, event.occurred_at):
            return
        first = not shown.converted
        shown.converted = True
        self._add(str(event.creator_id), shown.labels, counting_day(event.occurred_at),
                  interactions=int(outcome.interaction), conversions=int(first),
                  revenue_tokens=outcome.revenue_tokens)

    def days(self) -> tuple[PerformanceDay, ...]:
        return tuple(PerformanceDay(creator, kind, value, day, **{k: int(v) for k, v in c.items()})
                     for (creator, kind, value, day), c in sorted(self.counts.items()))


# --- the replay -----------------------------------------------------------------------------

def _run_at(day: date) -> datetime:
    return datetime.combine(day, time(DAILY_RUN_HOUR), tzinfo=UTC)


def snapshot_days(today: date, days: int) -> list[date]:
    """The run days replayed: every day of the last ``DAILY_DAYS``, every ``WEEKLY_STEP``-th
    before (growth reads 7 and 30 days back, ± ``SNAPSHOT_TOLERANCE_DAYS``), never today (the
    live daily run takes it)."""
    out = []
    for back in range(days, 0, -1):
        if back <= DAILY_DAYS or back % WEEKLY_STEP == 0:
            out.append(today - timedelta(days=back))
    return out


def demo_history(events: Sequence[Event], now: datetime, days: int, seed: int,
                 thresholds: SegmentThresholds | None = None) -> DemoHistory:
    """The snapshots and performance counters of the ``days`` days before ``now``'s day, from
    ``events`` (in time order, as ``demo_events`` yields them)."""
    thresholds = thresholds or SegmentThresholds()
    rng = random.Random(seed)
    rollups, releases, performance = _Rollups(), _Releases(), _Performance()
    served = _Served(rng)
    snapshots: list[Snapshot] = []
    position = 0
    for run_day in snapshot_days(now.date(), days):
        run = _run_at(run_day)
        today: list[Event] = []
        while position < len(events) and events[position].occurred_at < run:
            today.append(events[position])
            position += 1
        served.fold(today, rollups, performance, thresholds)
        for key in served.pairs:
            releases.move(key, rollups.classify(key, thresholds, run))
        releases.release()
        snapshots.extend(Snapshot(run_day, aggregate)
                         for aggregate in releases.published().values())
    # the rest of the last whole day is served too; today's counts are the live ones
    midnight = datetime.combine(now.date(), time(), tzinfo=UTC)
    served.fold([e for e in events[position:] if e.occurred_at < midnight], rollups,
                performance, thresholds)
    return DemoHistory(tuple(snapshots), performance.days())


@dataclass
class _Served:
    """Discovery servings: before a viewer's first dealing of a day with a creator (some of
    them), and ``BROWSED_PER_DAY`` creators to every viewer active that day."""

    rng: random.Random
    #: creators in order of first appearance (a seeded sample of a list is repeatable)
    creators: list[str] = field(default_factory=list)
    pairs: dict[PairKey, None] = field(default_factory=dict)  # every pair dealt with, ordered

    def fold(self, events: Sequence[Event], rollups: _Rollups, performance: _Performance,
             thresholds: SegmentThresholds) -> None:
        """Events in time order: impressions shown before them, the events folded into the
        rollups, their outcomes counted."""
        rng = self.rng
        dealt: set[tuple[date, str, str]] = set()
        browsing: set[tuple[date, str]] = set()

        def show(key: PairKey, before: datetime) -> None:
            at = before - timedelta(minutes=rng.randint(1, 180))
            performance.impression(key, at, rollups.labels(key, thresholds, at))

        for event in events:
            viewer, creator = event.viewer_id, event.creator_id
            if viewer and creator:
                day = event.occurred_at.date()
                if (viewer, creator) not in self.pairs:
                    self.pairs[(viewer, creator)] = None
                    if creator not in self.creators:
                        self.creators.append(creator)
                if (day, viewer, creator) not in dealt:
                    dealt.add((day, viewer, creator))
                    if rng.random() < FOUND_BY_DISCOVERY:
                        show((viewer, creator), event.occurred_at)
                if (day, viewer) not in browsing:
                    browsing.add((day, viewer))
                    for other in rng.sample(self.creators,
                                            min(BROWSED_PER_DAY, len(self.creators))):
                        if other != creator:
                            show((viewer, other), event.occurred_at)
            rollups.fold(event)
            performance.outcome(event)
