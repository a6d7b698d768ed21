"""GraphQL enums, each exposing the domain enum of the same meaning."""

from __future__ import annotations

import strawberry

from domain.rollups import InteractionKind
from domain.segments.budget import BudgetTier as DomainBudgetTier
from domain.segments.proximity import Proximity as DomainProximity
from domain.segments.risk import RiskLevel as DomainRiskLevel

BudgetTier = strawberry.enum(DomainBudgetTier, name="BudgetTier",
                             description="Spend over the trailing window.")
Intent = strawberry.enum(InteractionKind, name="Intent",
                         description="The interaction a viewer seeks.")
Proximity = strawberry.enum(DomainProximity, name="Proximity",
                            description="LOCAL ≤ 50 km, NEARBY ≤ 200 km, REMOTE beyond/unknown.")
RiskLevel = strawberry.enum(DomainRiskLevel, name="RiskLevel",
                            description="Internal; visible to the safety team only.")
