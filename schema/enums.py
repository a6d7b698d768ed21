"""GraphQL enums, each exposing the domain enum of the same meaning."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from domain.rollups import InteractionKind
from domain.segments.budget import BudgetTier as DomainBudgetTier
from domain.segments.intent import IntentSource as DomainIntentSource
from domain.segments.proximity import Proximity as DomainProximity
from domain.segments.risk import RiskLevel as DomainRiskLevel

# strawberry.enum registers the GraphQL definition on the domain class itself and returns that
# same class, so each name below is a plain alias of the domain enum (which keeps it usable in
# annotations for type checkers) and the calls are made for their registering effect.
strawberry.enum(DomainBudgetTier, name="BudgetTier", description="Spend over the trailing window.")
strawberry.enum(InteractionKind, name="Intent", description="The interaction a viewer seeks.")
strawberry.enum(DomainProximity, name="Proximity",
                description="LOCAL ≤ 50 km, NEARBY ≤ 200 km, REMOTE beyond/unknown.")
strawberry.enum(DomainIntentSource, name="IntentSource",
                description="What decided intent: PAIR (a majority here), VIEWER (no majority "
                            "here, the viewer's majority across creators), PAIR_LARGEST (no "
                            "majority anywhere: the largest share here), DEFAULT (none).")
strawberry.enum(DomainRiskLevel, name="RiskLevel",
                description="Internal; visible to the safety team only.")

BudgetTier: TypeAlias = DomainBudgetTier
Intent: TypeAlias = InteractionKind
Proximity: TypeAlias = DomainProximity
RiskLevel: TypeAlias = DomainRiskLevel
IntentSource: TypeAlias = DomainIntentSource
