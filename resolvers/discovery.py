"""Discovery queries for the signed-in viewer: validate bounds, call the service, map types."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from domain.discovery.scoring import DiscoveryFilters as DomainFilters
from domain.discovery.weights import DEFAULT_CONTEXT, DiscoveryContext
from domain.rollups import InteractionKind
from domain.segments.budget import BudgetTier
from domain.segments.proximity import Proximity
from resolvers.segments import check_id
from schema.context import Info
from schema.discovery import DiscoveryFilters, EngagementSuggestion, RankedCreator
from schema.errors import bad_input
from schema.permissions import require_principal

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CANDIDATES = 500


def _ids(name: str, values: Sequence[str]) -> list[str]:
    if len(values) > MAX_CANDIDATES:
        raise bad_input(f"{name} holds at most {MAX_CANDIDATES} ids", field=name)
    return [check_id(name, v) for v in values]


def _set(name: str, values: list[Any] | None, kind: type) -> frozenset[Any] | None:
    if values is None:
        return None
    if not values:
        raise bad_input(f"filters.{name} must name at least one value (or be left out)",
                        field=f"filters.{name}")
    return frozenset(kind(v) for v in values)


def to_filters(value: DiscoveryFilters | None) -> DomainFilters | None:
    if value is None:
        return None
    minimum = value.min_match_score
    if minimum is not None and not (math.isfinite(minimum) and 0 <= minimum <= 100):
        raise bad_input("filters.minMatchScore must be between 0 and 100",
                        field="filters.minMatchScore")
    return DomainFilters(budgets=_set("budgetTiers", value.budget_tiers, BudgetTier),
                         intents=_set("intents", value.intents, InteractionKind),
                         proximities=_set("proximities", value.proximities, Proximity),
                         min_match_score=minimum)


def _creator(info: Info, creator_id: str) -> tuple[str, str]:
    viewer = require_principal(info.context).sub
    creator = check_id("creatorId", creator_id)
    if creator == viewer:
        raise bad_input("creatorId must differ from the signed-in user", field="creatorId")
    return viewer, creator


async def segment_recommendations(info: Info, limit: int | None,
                                  filters: DiscoveryFilters | None) -> list[RankedCreator]:
    viewer = require_principal(info.context).sub
    size = DEFAULT_LIMIT if limit is None else limit
    if not 0 <= size <= MAX_LIMIT:
        raise bad_input(f"limit must be between 0 and {MAX_LIMIT}", field="limit")
    domain_filters = to_filters(filters)
    if size == 0:
        return []
    ranking = await info.context.services.discovery.recommendations(viewer, size,
                                                                    domain_filters)
    return [RankedCreator.from_domain(s, i) for i, s in enumerate(ranking.ranked, 1)]


async def filter_discovery_feed(info: Info, candidates: Sequence[str],
                                context: DiscoveryContext | None) -> list[RankedCreator]:
    viewer = require_principal(info.context).sub
    ids = _ids("candidates", candidates)
    ranking = await info.context.services.discovery.filter_feed(
        viewer, ids, DiscoveryContext(context) if context else DEFAULT_CONTEXT)
    return [RankedCreator.from_domain(s, i) for i, s in enumerate(ranking.ranked, 1)]


async def reorder_discovery_queue(info: Info, creator_ids: Sequence[str]) -> list[str]:
    viewer = require_principal(info.context).sub
    return await info.context.services.discovery.reorder(viewer,
                                                         _ids("creatorIds", creator_ids))


async def engagement_suggestion(info: Info, creator_id: str) -> EngagementSuggestion | None:
    viewer, creator = _creator(info, creator_id)
    found = await info.context.services.discovery.engagement(viewer, creator)
    return EngagementSuggestion.from_domain(found) if found else None


async def creator_visibility_boost(info: Info, creator_id: str) -> float:
    viewer, creator = _creator(info, creator_id)
    return await info.context.services.discovery.visibility_boost(viewer, creator)


async def flush_impressions(info: Info) -> int:
    return await info.context.services.discovery.impressions.flush()
