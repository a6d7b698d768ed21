"""Risk changes as the safety team sees them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.segments.risk import RiskChange
from schema.enums import RiskLevel


@strawberry.type(description="One audited change of a viewer's risk level.")
class ViewerRiskChange:
    viewer_id: strawberry.ID
    level: RiskLevel
    previous: RiskLevel
    reason: str
    set_by: strawberry.ID
    at: datetime

    @classmethod
    def from_domain(cls, c: RiskChange) -> ViewerRiskChange:
        return cls(viewer_id=strawberry.ID(c.viewer_id), level=c.level, previous=c.previous,
                   reason=c.reason, set_by=strawberry.ID(c.set_by), at=c.at)
