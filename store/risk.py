"""Viewer risk levels and their audit trail (who changed what, when, and why)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.segments.risk import DEFAULT_RISK, RiskChange, RiskLevel
from store.database import Collections, Store, utc


class RiskRepository:
    def __init__(self, store: Store) -> None:
        self._levels = store.collection(Collections.VIEWER_RISK)
        self._audit = store.collection(Collections.RISK_AUDIT)

    async def levels(self, viewer_ids: Sequence[str]) -> list[RiskLevel]:
        """Risk levels in key order; NORMAL for a viewer never flagged."""
        found = {d["_id"]: RiskLevel(d["level"])
                 async for d in self._levels.find({"_id": {"$in": list(set(viewer_ids))}})}
        return [found.get(v, DEFAULT_RISK) for v in viewer_ids]

    async def set_level(self, viewer_id: str, level: RiskLevel, reason: str, set_by: str,
                        at: object) -> RiskChange:
        """Set the level and append the change to the audit trail."""
        before = await self._levels.find_one_and_update(
            {"_id": viewer_id},
            {"$set": {"level": level.value, "reason": reason, "set_by": set_by, "at": at}},
            upsert=True)
        previous = RiskLevel(before["level"]) if before else DEFAULT_RISK
        change = RiskChange(viewer_id=viewer_id, level=level, previous=previous, reason=reason,
                            set_by=set_by, at=at)  # type: ignore[arg-type]
        await self._audit.insert_one({"viewer_id": viewer_id, "level": level.value,
                                      "previous": previous.value, "reason": reason,
                                      "set_by": set_by, "at": at})
        return change

    async def history(self, viewer_id: str, limit: int = 50) -> list[RiskChange]:
        cursor = self._audit.find({"viewer_id": viewer_id}).sort("at", -1).limit(limit)
        return [RiskChange(viewer_id=d["viewer_id"], level=RiskLevel(d["level"]),
                           previous=RiskLevel(d["previous"]), reason=d["reason"],
                           set_by=d["set_by"], at=utc(d["at"]))  # type: ignore[arg-type]
                async for d in cursor]
