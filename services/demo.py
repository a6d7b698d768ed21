"""The demo world: a generated, deterministic population of creators and viewers.

``demo_events`` is a pure generator (same sizes, seed and ``now`` → the same events), so tests
and benches can reuse it without a store. ``load_demo_world`` feeds those events through
``Ingestion.record`` — the very path the GraphQL event mutations take — into an *empty* store,
so the segments and aggregates a developer sees in GraphiQL are the ones real traffic would give.
Its past — daily releases and discovery counts, so growth and segment performance have data — is
replayed in memory by ``services.demo_history``, in a second process while this one loads.

The world is shaped so every segment tier appears:

- **places**: users live around a handful of cities, some of them close to each other, so
  viewer–creator pairs fall within 50 km, within 200 km and far apart; some users never say;
- **interests**: tags come from themed groups, so users of the same theme often share three or
  more; some users never say;
- **following**: each viewer follows a few creators, picked by a skewed popularity (a few stars,
  a long tail) with a preference for creators in the viewer's own city;
- **spend** (viewer-wide, trailing 30 days): heavy, mid, low, lapsed (spent only > 30 days ago)
  and none;
- **style**: chats, calls, booked meetings, events, loyal returning visits spread over many
  weeks, and "visual" admirers who view and like a lot but never pay.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from typing import Any

from domain.events import Event, EventType, parse_event
from domain.locations import DEFAULT_GRID, LocationGrid
from domain.segments.thresholds import SegmentThresholds
from services.container import Services
from services.demo_history import DemoHistory, demo_history

log = logging.getLogger("audience.demo")

HISTORY_DAYS = 90
#: purchases of a lapsed spender are at least this old, safely outside the 30-day budget window
LAPSED_MIN_DAYS = 35
#: users who never share a location / interests (so REMOTE-by-unknown and no-interest pairs exist)
NO_LOCATION_SHARE = 0.1
NO_INTERESTS_SHARE = 0.08
#: how strongly a viewer prefers creators from the same city when picking whom to follow
SAME_CITY_PREFERENCE = 0.45
#: creator popularity ~ 1 / rank**POPULARITY_SKEW (a few stars, a long tail)
POPULARITY_SKEW = 0.9


@dataclass(frozen=True)
class City:
    name: str
    latitude: float
    longitude: float
    weight: float  # share of the population living around it


#: Some pairs of cities lie within 200 km of each other (Cologne–Düsseldorf ~35 km,
#: Hamburg–Bremen ~95 km, Berlin–Leipzig ~150 km), so NEARBY happens across cities as well.
CITIES: tuple[City, ...] = (
    City("Berlin", 52.520, 13.405, 0.20),
    City("Leipzig", 51.340, 12.375, 0.05),
    City("Hamburg", 53.551, 9.994, 0.10),
    City("Bremen", 53.079, 8.802, 0.04),
    City("Cologne", 50.938, 6.960, 0.09),
    City("Düsseldorf", 51.228, 6.773, 0.06),
    City("Munich", 48.137, 11.575, 0.10),
    City("Vienna", 48.208, 16.373, 0.07),
    City("London", 51.507, -0.128, 0.10),
    City("Paris", 48.857, 2.352, 0.08),
    City("New York", 40.713, -74.006, 0.06),
    City("São Paulo", -23.551, -46.633, 0.05),
)

#: Themed tag groups: users draw most tags from one theme, so same-theme pairs share ≥ 3.
INTEREST_THEMES: Mapping[str, tuple[str, ...]] = {
    "fitness": ("fitness", "yoga", "running", "nutrition", "hiking"),
    "music": ("music", "guitar", "djing", "concerts", "singing"),
    "gaming": ("gaming", "esports", "anime", "cosplay", "streaming"),
    "style": ("fashion", "makeup", "photography", "design", "art"),
    "taste": ("travel", "food", "cooking", "wine", "languages"),
    "culture": ("books", "movies", "comedy", "dance", "pets"),
}
INTEREST_VOCABULARY: tuple[str, ...] = tuple(t for tags in INTEREST_THEMES.values() for t in tags)

#: Viewer-wide spend profile → share of viewers (budget tiers: see domain/segments/budget.py).
SPEND_PROFILES: Mapping[str, float] = {
    "heavy": 0.08,   # > 5 purchases or > 20,000 tokens in the last 30 days → HIGH
    "mid": 0.17,     # 2-5 purchases, 5,000-20,000 tokens in the last 30 days → MID
    "low": 0.30,     # at most one small purchase in the last 30 days → LOW
    "lapsed": 0.12,  # spent a lot, but only 35-88 days ago → LOW now
    "none": 0.33,    # never pays
}

#: Engagement style → share of viewers (intent and passion signals).
STYLES: Mapping[str, float] = {
    "chat": 0.22,
    "call": 0.14,
    "meeting": 0.08,
    "event": 0.12,
    "loyal": 0.14,
    "visual": 0.18,
    "casual": 0.12,
}

#: what a viewer of each style pays for, as the transaction ``kind`` label
PAYMENT_KIND: Mapping[str, str] = {
    "chat": "chat_payment", "call": "call_payment", "meeting": "meeting_payment",
    "event": "event_ticket", "loyal": "subscription", "visual": "tip", "casual": "tip",
}


def creator_id(index: int) -> str:
    """``creator-001`` … (1-based, zero-padded to three digits)."""
    return f"creator-{index:03d}"


def viewer_id(index: int) -> str:
    """``viewer-0001`` … (1-based, zero-padded to four digits)."""
    return f"viewer-{index:04d}"


@dataclass
class _World:
    """Mutable scratch state of one generation run (never escapes ``demo_events``)."""

    rng: random.Random
    now: datetime
    drafts: list[tuple[datetime, EventType, dict[str, Any]]] = field(default_factory=list)
    serial: int = 0

    def ago(self, low_days: float, high_days: float) -> datetime:
        """A moment between ``high_days`` and ``low_days`` ago, to the whole millisecond
        (MongoDB keeps milliseconds, so the ledger and the rollups see the same instant)."""
        millis = self.rng.uniform(low_days, high_days) * 86_400_000
        return self.now - timedelta(milliseconds=int(millis))  # ``now`` is whole ms already

    def add(self, when: datetime, event_type: EventType, **fields: Any) -> None:
        # Never in the future and never before the history starts, whatever the jitter said.
        when = min(max(when, self.now - timedelta(days=HISTORY_DAYS)), self.now)
        self.drafts.append((when, event_type, fields))

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial:06d}"


def _place(world: _World) -> tuple[float, float] | None:
    """A home location near a city: mostly inside it, sometimes in its outskirts or region."""
    rng = world.rng
    if rng.random() < NO_LOCATION_SHARE:
        return None
    city = rng.choices(CITIES, weights=[c.weight for c in CITIES])[0]
    # 70 % in town (≤ 25 km), 20 % in the region (40-150 km), 10 % further out (150-400 km).
    band = rng.random()
    km = rng.uniform(0, 25) if band < 0.7 else (
        rng.uniform(40, 150) if band < 0.9 else rng.uniform(150, 400))
    bearing = rng.uniform(0, 2 * math.pi)
    lat = city.latitude + (km / 111.0) * math.cos(bearing)
    lon = city.longitude + (km / (111.0 * math.cos(math.radians(city.latitude)))) * math.sin(
        bearing)
    return round(max(-90.0, min(90.0, lat)), 5), round(((lon + 180) % 360) - 180, 5)


def _interests(world: _World) -> list[str] | None:
    """3-5 tags from one theme plus 0-2 from anywhere; ``None`` for users who never say."""
    rng = world.rng
    if rng.random() < NO_INTERESTS_SHARE:
        return None
    theme = rng.choice(sorted(INTEREST_THEMES))
    tags = rng.sample(INTEREST_THEMES[theme], rng.randint(3, 5))
    tags += rng.sample(INTEREST_VOCABULARY, rng.randint(0, 2))
    return list(dict.fromkeys(tags))


def _profile(world: _World, user: str) -> tuple[float, float] | None:
    """Location and interests of one user, told early in the history (a few move later)."""
    home = _place(world)
    if home is not None:
        world.add(world.ago(80, HISTORY_DAYS), EventType.LOCATION_UPDATED, user_id=user,
                  latitude=home[0], longitude=home[1])
    tags = _interests(world)
    if tags is not None:
        world.add(world.ago(80, HISTORY_DAYS), EventType.PROFILE_INTERESTS_UPDATED,
                  user_id=user, interests=tags)
    return home


def _city_of(home: tuple[float, float] | None) -> str | None:
    if home is None:
        return None
    return min(CITIES, key=lambda c: (c.latitude - home[0]) ** 2
               + (c.longitude - home[1]) ** 2).name


def _follows(world: _World, home: tuple[float, float] | None, creators: Sequence[str],
             popularity: Sequence[float], local: Mapping[str | None, Sequence[str]]
             ) -> list[str]:
    """A handful of distinct creators, the first being the one the viewer cares most about."""
    rng = world.rng
    wanted = min(len(creators), rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5)))
    chosen: list[str] = []
    neighbours = local.get(_city_of(home), ())
    while len(chosen) < wanted:
        if neighbours and rng.random() < SAME_CITY_PREFERENCE:
            pick = rng.choice(neighbours)
        else:
            pick = rng.choices(creators, weights=popularity)[0]
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def _spend(world: _World, viewer: str, follows: Sequence[str], profile: str, kind: str) -> None:
    """Transactions matching the viewer's spend profile, mostly with their main creator."""
    rng = world.rng

    def pay(days: tuple[float, float], tokens: int) -> None:
        target = follows[0] if rng.random() < 0.7 else rng.choice(follows)
        world.add(world.ago(*days), EventType.TRANSACTION_COMPLETED, viewer_id=viewer,
                  creator_id=target, tokens=tokens, kind=kind)

    recent = (0.5, 28)  # inside the 30-day window, with a margin for the UTC-day boundary
    older = (LAPSED_MIN_DAYS, 88)
    if profile == "heavy":
        for _ in range(rng.randint(6, 10)):
            pay(recent, rng.randint(800, 5_000))
        for _ in range(rng.randint(1, 3)):
            pay(older, rng.randint(500, 4_000))
    elif profile == "mid":
        for _ in range(rng.randint(2, 4)):
            pay(recent, rng.randint(1_800, 4_800))  # 3,600-19,200 tokens, 2-4 purchases
        for _ in range(rng.randint(0, 2)):
            pay(older, rng.randint(300, 3_000))
    elif profile == "low":
        if rng.random() < 0.6:
            pay(recent, rng.randint(50, 2_000))
        for _ in range(rng.randint(0, 2)):
            pay(older, rng.randint(50, 1_500))
    elif profile == "lapsed":
        for _ in range(rng.randint(3, 8)):
            pay(older, rng.randint(1_000, 6_000))


def _engage(world: _World, viewer: str, creator: str, style: str, main: bool) -> None:
    """The interactions of one viewer with one creator, heavier with the main creator."""
    rng = world.rng
    add = world.add
    pair = {"viewer_id": viewer, "creator_id": creator}
    # A loyal follower's story starts early enough to span a dozen weeks of visits.
    start_days = rng.uniform(84, 89) if style == "loyal" and main else rng.uniform(2, 88)
    add(world.ago(start_days, start_days), EventType.FIRST_INTERACTION, **pair)
    since = (0, start_days)
    if main or rng.random() < 0.6:
        add(world.ago(*since), EventType.PROFILE_VIEWED, **pair,
            dwell_seconds=round(rng.uniform(5, 120), 1))
    if rng.random() < 0.25:
        add(world.ago(*since), EventType.MEDIA_LIKED, **pair, media_id=world.next_id("media"))
    scale = 1.0 if main else 0.4

    def times(low: int, high: int) -> int:
        return max(1 if main else 0, round(rng.randint(low, high) * scale))

    if style == "chat":
        for _ in range(times(2, 6)):
            chat = world.next_id("chat")
            at = world.ago(*since)
            for _ in range(rng.randint(0, 1)):
                add(at - timedelta(minutes=rng.randint(1, 30)), EventType.CHAT_MESSAGE_SENT,
                    **pair, chat_id=chat, message_length=rng.randint(3, 400))
            add(at, EventType.CHAT_COMPLETED, **pair, chat_id=chat,
                tokens=rng.randint(20, 300), message_count=rng.randint(4, 60))
    elif style == "call":
        for _ in range(times(2, 4)):
            add(world.ago(*since), EventType.CALL_COMPLETED, **pair,
                call_id=world.next_id("call"), duration_minutes=round(rng.uniform(3, 45), 1),
                tokens=rng.randint(100, 900), call_type=rng.choice(("VOICE", "VIDEO")))
    elif style == "meeting":
        for _ in range(times(1, 3)):
            booking = world.next_id("booking")
            booked = world.ago(*since)
            meeting = booked + timedelta(days=rng.randint(2, 20), hours=rng.randint(10, 20))
            add(booked, EventType.MEETING_BOOKED, **pair, booking_id=booking,
                tokens=rng.randint(1_000, 5_000), meeting_date=meeting)
            if meeting < world.now and rng.random() < 0.85:
                add(meeting + timedelta(hours=2), EventType.MEETING_COMPLETED, **pair,
                    booking_id=booking)
    elif style == "event":
        for _ in range(times(2, 4)):
            ref = world.next_id("event")
            registered = world.ago(*since)
            add(registered, EventType.EVENT_REGISTERED, **pair, event_ref=ref,
                tokens=rng.randint(50, 400))
            attended = registered + timedelta(days=rng.randint(1, 7))
            if attended < world.now and rng.random() < 0.7:
                add(attended, EventType.EVENT_ATTENDED, **pair, event_ref=ref)
    elif style == "loyal" and main:
        # One visit in each of 10-13 distinct weeks, plus a few extra: volume, days and weeks.
        for week in rng.sample(range(12), rng.randint(10, 12)):
            add(world.ago(week * 7, week * 7 + 7), EventType.PROFILE_VIEWED, **pair,
                dwell_seconds=round(rng.uniform(30, 300), 1))
        for _ in range(rng.randint(0, 3)):
            add(world.ago(*since), EventType.PROFILE_VIEWED, **pair,
                dwell_seconds=round(rng.uniform(20, 200), 1))
        if rng.random() < 0.5:
            chat = world.next_id("chat")
            add(world.ago(*since), EventType.CHAT_COMPLETED, **pair, chat_id=chat,
                tokens=rng.randint(20, 200), message_count=rng.randint(4, 30))
    elif style == "visual":
        burst = rng.uniform(0, min(start_days, 20))
        for _ in range(times(5, 8)):
            add(world.ago(burst, burst + 10), EventType.PROFILE_VIEWED, **pair,
                dwell_seconds=round(rng.uniform(20, 240), 1))
        for _ in range(times(2, 4)):
            add(world.ago(burst, burst + 10), EventType.MEDIA_LIKED, **pair,
                media_id=world.next_id("media"))


def demo_events(creators: int, viewers: int, seed: int, now: datetime,
                grid: LocationGrid = DEFAULT_GRID) -> Iterator[Event]:
    """The demo world's events in time order; pure: the same arguments give the same events.

    Every event is built by :func:`domain.events.parse_event`, so it is exactly what the event
    mutations would have accepted (locations snapped to ``grid`` cells). Event ids are
    ``demo-<seed>-<n>``.
    """
    if creators < 1 or viewers < 0:
        raise ValueError("a demo world needs at least one creator and no negative viewers")
    now = now.astimezone(UTC).replace(microsecond=(now.microsecond // 1000) * 1000)
    world = _World(rng=random.Random(seed), now=now)
    rng = world.rng

    creator_ids = [creator_id(i) for i in range(1, creators + 1)]
    local: dict[str | None, list[str]] = {}
    for creator in creator_ids:
        local.setdefault(_city_of(_profile(world, creator)), []).append(creator)
    ranked = creator_ids[:]
    rng.shuffle(ranked)  # popularity is not the id order
    rank_of = {c: r for r, c in enumerate(ranked, start=1)}
    popularity = [1.0 / rank_of[c] ** POPULARITY_SKEW for c in creator_ids]

    spend_names, spend_weights = zip(*SPEND_PROFILES.items(), strict=True)
    style_names, style_weights = zip(*STYLES.items(), strict=True)
    for index in range(1, viewers + 1):
        viewer = viewer_id(index)
        home = _profile(world, viewer)
        style = rng.choices(style_names, weights=style_weights)[0]
        # Visual admirers are defined by never paying; everyone else draws a spend profile.
        spend = "none" if style == "visual" else rng.choices(spend_names,
                                                             weights=spend_weights)[0]
        follows = _follows(world, home, creator_ids, popularity, local)
        for position, creator in enumerate(follows):
            _engage(world, viewer, creator, style, main=position == 0)
        _spend(world, viewer, follows, spend, PAYMENT_KIND[style])
        if home is not None and world.rng.random() < 0.05:
            # A few viewers move: a later location replaces the first one.
            moved = _place(world)
            if moved is not None:
                world.add(world.ago(1, 40), EventType.LOCATION_UPDATED, user_id=viewer,
                          latitude=moved[0], longitude=moved[1])

    # Stable order: by time, then by generation order (sort is stable), like a real stream.
    ordered = sorted(enumerate(world.drafts), key=lambda item: (item[1][0], item[0]))
    for serial, (_, (when, event_type, fields)) in enumerate(ordered, start=1):
        yield parse_event(event_type, f"demo-{seed}-{serial:07d}", when, fields, now=now,
                          grid=grid)


#: events stored and rolled up per batch (one round trip per collection each)
LOAD_BATCH = 500


async def load_demo_world(services: Services, *, creators: int = 300, viewers: int = 3000,
                          seed: int = 7, now: datetime | None = None,
                          progress: Callable[[int, int], None] | None = None) -> int:
    """Load the demo world into an empty store; returns events recorded (0 if not empty).

    Events are validated like any mutation's, stored once in the ledger and rolled up exactly
    as ingestion does; then the derived state (segments, aggregates, discovery index) is built
    the way ``audience rebuild`` builds it — once per pair, instead of through the queue event
    by event — so the world is complete, aggregates included, the moment the server is ready.

    Loads only into an empty ledger, so restarting a server on a real MongoDB never doubles
    the world or mixes it into real traffic.
    """
    existing = await services.ledger.count()
    if existing:
        log.info("demo world skipped: the ledger already holds %d events", existing)
        return 0
    now = now or datetime.now(UTC)
    log.info("loading demo world: %d creators, %d viewers, seed %d", creators, viewers, seed)
    started = time.perf_counter()
    # The past (daily snapshots, discovery counts) is replayed in memory by another process,
    # on the other core, while this one loads the store.
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        past = asyncio.get_running_loop().run_in_executor(
            pool, _history, creators, viewers, seed, now, services.location_grid,
            await services.configuration.current())
        try:
            recorded = await _load_events(services, creators, viewers, seed, now, progress,
                                          started)
        finally:
            waited = time.perf_counter()
            history = await past
            log.info("demo history: waited %.1fs", time.perf_counter() - waited)
    written = time.perf_counter()
    await services.insights.snapshots.backfill(
        [(s.aggregate, s.day) for s in history.snapshots], now)
    await services.insights.performance_repo.put_days(history.performance)
    log.info("demo history: %d snapshots, %d performance days written in %.1fs",
             len(history.snapshots), len(history.performance), time.perf_counter() - written)
    log.info("demo world loaded: %d events and %d days of history in %.1fs", recorded,
             HISTORY_DAYS, time.perf_counter() - started)
    return recorded


def _history(creators: int, viewers: int, seed: int, now: datetime, grid: LocationGrid,
             thresholds: SegmentThresholds) -> DemoHistory:
    """The demo world's past (run in a child process: the same events, generated again)."""
    events = list(demo_events(creators, viewers, seed, now, grid))
    return demo_history(events, now, HISTORY_DAYS, seed, thresholds)


async def _load_events(services: Services, creators: int, viewers: int, seed: int,
                       now: datetime, progress: Callable[[int, int], None] | None,
                       started: float) -> int:
    events = list(demo_events(creators, viewers, seed, now, services.location_grid))
    recorded = 0
    logged = 0
    for start in range(0, len(events), LOAD_BATCH):
        batch = events[start:start + LOAD_BATCH]
        # applied=True: the world is finished right here (rollups now, derived state below)
        stored = await services.ledger.append_many(batch, now, applied=True)
        fresh = [event for event, new in zip(batch, stored, strict=True) if new]
        await services.ingestion.apply_rollups_many(fresh, first_time=True)
        recorded += len(fresh)
        if progress is not None:
            progress(recorded, len(events))
        elif recorded - logged >= len(events) // 5:
            logged = recorded
            log.info("demo world: %d/%d events (%.1fs)", recorded, len(events),
                     time.perf_counter() - started)
    for stage in services.rebuild_stages:
        await stage()
    return recorded
