"""Keeping the creator index current, and the small candidate pools read from it.

A card is built from the creator's *published release* (``ReleasedAudiences``) and profile,
never from the live aggregate: discovery answers strangers, so it may know of a creator's
audience only what a release has published (contract §7). ``CreatorIndexer`` rewrites one
creator's card — O(1): one release read, one profile read, one upsert — when a release is
published, when the creator's profile (location, interests) changes, and the first time this
process sees an id as ``creatorId`` of an event (which is what makes the id a known creator);
and every card as a stage of ``audience rebuild``. Concurrent refreshes of one creator are
coalesced: while a refresh runs, further requests for the same creator make it run once more
afterwards, so the last card written in this process is read after the last change it was
told about.

``CandidatePools`` keeps, per API process, the top released creators of each pool cell,
region, dominant audience segment and of everyone, as read from the index, for
``POOL_TTL_SECONDS``. Writes made through this process patch the cached pools at once; other
processes see them when their copy expires. A recommendation reads about twenty small pools
instead of every creator.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from domain.discovery.cards import CreatorCard, build_card
from domain.events import Event, EventType
from domain.insights.aggregates import CreatorAggregate
from store.creator_index import CreatorIndexRepository
from store.rollups import RollupRepository

#: (field, value): ("cell", "841f1d5ffffffff"), ("segment", "HIGH|CALL"), ("all", "")
PoolKey = tuple[str, str]

#: how many creators each kind of pool keeps (a request reads 7 cells, 7 regions, a segment or
#: two and the global pool: a few hundred candidates at most)
POOL_SIZES: Mapping[str, int] = {"cell": 25, "region": 15, "segment": 50, "all": 50}
POOL_TTL_SECONDS = 30.0
MAX_CACHED_POOLS = 20_000
GLOBAL_POOL: PoolKey = ("all", "")

#: profile events that move a creator's card
PROFILE_EVENTS = frozenset({EventType.LOCATION_UPDATED, EventType.PROFILE_INTERESTS_UPDATED})
#: creator ids this process remembers having indexed (so a known creator costs one write
#: per process, not one per event)
MAX_REMEMBERED_CREATORS = 100_000


class ReleasedAudiences(Protocol):
    """The read port discovery gets instead of the live aggregates: published releases."""

    async def published(self, creator_ids: Sequence[str]) -> list[CreatorAggregate | None]:
        ...


def pool_keys(card: CreatorCard) -> set[PoolKey]:
    """Every pool ``card`` belongs in."""
    keys = {GLOBAL_POOL}
    for field, value in (("cell", card.cell), ("region", card.region),
                         ("segment", card.segment)):
        if value:
            keys.add((field, value))
    return keys


def _order(card: CreatorCard) -> tuple[int, str]:
    return (-card.popularity, card.creator_id)


class CandidatePools:
    """Small popularity-ordered pools of creator cards, cached per process."""

    def __init__(self, index: CreatorIndexRepository, ttl: float = POOL_TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 max_pools: int = MAX_CACHED_POOLS) -> None:
        self._index = index
        self._ttl = ttl
        self._clock = clock
        self._max = max_pools
        #: key → (loaded at, cards, how many were asked for)
        self._cached: OrderedDict[PoolKey, tuple[float, list[CreatorCard], int]] = (
            OrderedDict())
        self.hits = 0
        self.misses = 0

    async def get_many(self, keys: Iterable[PoolKey], scale: int = 1
                       ) -> dict[PoolKey, list[CreatorCard]]:
        """The pools of ``keys``, each its ``POOL_SIZES`` × ``scale`` most popular cards (a
        wider read when a ranking came out short: see ``DiscoveryService``)."""
        now = self._clock()
        out: dict[PoolKey, list[CreatorCard]] = {}
        missing: list[PoolKey] = []
        for key in dict.fromkeys(keys):
            entry = self._cached.get(key)
            wanted = POOL_SIZES[key[0]] * scale
            # a cached pool serves a wider read if it already holds every card there is
            if entry is not None and now - entry[0] < self._ttl and (
                    entry[2] >= wanted or len(entry[1]) < entry[2]):
                self._cached.move_to_end(key)
                out[key] = entry[1][:wanted]
                self.hits += 1
            else:
                missing.append(key)
        if missing:
            self.misses += len(missing)
            sizes = [POOL_SIZES[field] * scale for field, _ in missing]
            loaded = await asyncio.gather(*(self._index.pool(field, value, size)
                                            for (field, value), size in zip(missing, sizes,
                                                                            strict=True)))
            for key, cards, size in zip(missing, loaded, sizes, strict=True):
                self._cached[key] = (now, cards, size)
                self._cached.move_to_end(key)
                out[key] = cards
            while len(self._cached) > self._max:
                self._cached.popitem(last=False)
        return out

    def note(self, before: CreatorCard | None, after: CreatorCard) -> None:
        """Patch the cached pools ``before`` was in and ``after`` belongs in (none before a
        release: see ``CreatorIndexRepository.pool``)."""
        belongs = pool_keys(after) if after.popularity > 0 else set()
        for key in belongs | (pool_keys(before) if before else set()):
            entry = self._cached.get(key)
            if entry is None:
                continue
            cards = [c for c in entry[1] if c.creator_id != after.creator_id]
            size = entry[2]
            if len(entry[1]) >= size and len(cards) < size:
                size = len(cards)  # it was full: a card left, which says nothing of the rest
            if key in belongs:
                cards.append(after)
                cards.sort(key=_order)
                del cards[size:]
            self._cached[key] = (entry[0], cards, size)

    def clear(self) -> None:
        self._cached.clear()


class CreatorIndexer:
    """Keeps ``creator_index`` equal to build_card(release, profile) for every known creator."""

    def __init__(self, index: CreatorIndexRepository, released: ReleasedAudiences,
                 rollups: RollupRepository, pools: CandidatePools) -> None:
        self.index = index
        self._released = released
        self._rollups = rollups
        self._pools = pools
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def on_release(self, creator_ids: Sequence[str]) -> None:
        """Releases were published: the cards follow them (idempotent)."""
        await self.refresh_many(creator_ids)

    async def on_events(self, events: Sequence[Event]) -> None:
        """An id first seen as ``creatorId`` becomes a known creator (a card from its release
        and profile: no audience yet); a creator's new location or interests move their card
        (viewers have none). One read says which ids have cards; the cards to write are
        written together."""
        fresh = list(dict.fromkeys(e.creator_id for e in events
                                   if e.creator_id and e.creator_id not in self._seen))
        moved = list(dict.fromkeys(e.user_id for e in events
                                   if e.type in PROFILE_EVENTS and e.user_id))
        if not fresh and not moved:
            return
        indexed = await self.index.existing([*fresh, *moved])
        await self.refresh_many([*(c for c in fresh if c not in indexed),
                                 *(u for u in moved if u in indexed)])
        for creator in fresh:
            self._seen[creator] = None
        while len(self._seen) > MAX_REMEMBERED_CREATORS:
            self._seen.popitem(last=False)

    async def refresh(self, creator_id: str) -> None:
        await self.refresh_many([creator_id])

    async def refresh_many(self, creator_ids: Sequence[str]) -> None:
        """Rewrite the cards of ``creator_ids``; a creator whose refresh is already running
        in this process is left to it, which goes round once more."""
        mine = []
        for creator_id in dict.fromkeys(creator_ids):
            if creator_id in self._running:
                self._again.add(creator_id)
            else:
                mine.append(creator_id)
        self._running.update(mine)
        try:
            todo = mine
            while todo:
                self._again.difference_update(todo)
                await self._write_many(todo)
                todo = [c for c in todo if c in self._again]
        finally:
            self._running.difference_update(mine)

    async def _write_many(self, creator_ids: Sequence[str]) -> None:
        aggregates = await self._released.published(creator_ids)
        profiles = await self._rollups.profiles(creator_ids)
        cards = [build_card(c, aggregate, profile)
                 for c, aggregate, profile in zip(creator_ids, aggregates, profiles, strict=True)]
        for before, card in zip(await self.index.upsert_many(cards), cards, strict=True):
            self._pools.note(before, card)

    async def rebuild(self) -> int:
        """Every card again from the releases and profiles (a stage of ``audience rebuild``)."""
        await self.index.clear()
        self._pools.clear()
        written = 0
        async for batch in self.index.indexed_creators():
            aggregates = await self._released.published(batch)
            profiles = await self._rollups.profiles(batch)
            await self.index.upsert_many(
                [build_card(creator_id, aggregate, profile) for creator_id, aggregate, profile
                 in zip(batch, aggregates, profiles, strict=True)])
            written += len(batch)
        return written
