"""Risk: an internal label the safety team sets by hand; never shown outside that team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RiskLevel(StrEnum):
    NORMAL = "NORMAL"  # the default for everyone
    WATCH = "WATCH"  # visible to the safety team only; no effect on ranking or counts
    BLOCKED = "BLOCKED"  # no ranking advantage; left out of every creator's counts


DEFAULT_RISK = RiskLevel.NORMAL
MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class RiskChange:
    """One audited change of a viewer's risk level."""

    viewer_id: str
    level: RiskLevel
    previous: RiskLevel
    reason: str
    set_by: str
    at: datetime


def clean_reason(reason: str) -> str:
    """A non-empty, bounded reason; raises ValueError otherwise."""
    text = reason.strip()
    if not text:
        raise ValueError("reason must not be empty")
    if len(text) > MAX_REASON_LENGTH:
        raise ValueError(f"reason must be at most {MAX_REASON_LENGTH} characters")
    return text
