"""GraphQL enums of the creator insights (each exposes the domain enum of the same meaning)."""

from __future__ import annotations

import strawberry

from domain.insights.labels import Dimension, SegmentKind
from domain.insights.recommendations import FindingKind

SegmentType = strawberry.enum(SegmentKind, name="SegmentType",
                              description="A segment dimension with tiers: budget, intent, "
                                          "proximity.")
AudienceDimension = strawberry.enum(Dimension, name="AudienceDimension",
                                    description="A dimension of the audience breakdown.")
RecommendationKind = strawberry.enum(FindingKind, name="RecommendationKind",
                                     description="What a traced recommendation is.")
