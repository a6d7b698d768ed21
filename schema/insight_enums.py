"""GraphQL enums of the creator insights (each exposes the domain enum of the same meaning)."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from domain.insights.labels import Dimension, SegmentKind
from domain.insights.recommendations import FindingKind

# strawberry.enum registers the definition on the domain class and returns that same class: the
# calls are made for that effect, and the names are aliases type checkers accept in annotations.
strawberry.enum(SegmentKind, name="SegmentType",
                description="A segment dimension with tiers: budget, intent, proximity.")
strawberry.enum(Dimension, name="AudienceDimension",
                description="A dimension of the audience breakdown.")
strawberry.enum(FindingKind, name="RecommendationKind",
                description="What a traced recommendation is.")

SegmentType: TypeAlias = SegmentKind
AudienceDimension: TypeAlias = Dimension
RecommendationKind: TypeAlias = FindingKind
