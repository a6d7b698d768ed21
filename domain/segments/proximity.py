"""Proximity: how far the viewer is from the creator, by the cells of their last locations.

Distances are between cell centres in whole kilometres (``domain.locations``): two people in
the same cell are 0 km apart, and nothing finer than a cell ever enters a band.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.locations import Cell, distance_km
from domain.segments.thresholds import ProximityThresholds


class Proximity(StrEnum):
    LOCAL = "LOCAL"
    NEARBY = "NEARBY"
    REMOTE = "REMOTE"


@dataclass(frozen=True)
class ProximityResult:
    proximity: Proximity
    distance_km: int | None  # whole km between cell centres; None when either is unknown


def classify_proximity(viewer: Cell | None, creator: Cell | None,
                       t: ProximityThresholds) -> ProximityResult:
    """LOCAL ≤ ``local_km``, NEARBY ≤ ``nearby_km``, REMOTE beyond or when either is unknown."""
    if viewer is None or creator is None:
        return ProximityResult(Proximity.REMOTE, None)
    km = distance_km(viewer, creator)
    if km <= t.local_km:
        return ProximityResult(Proximity.LOCAL, km)
    if km <= t.nearby_km:
        return ProximityResult(Proximity.NEARBY, km)
    return ProximityResult(Proximity.REMOTE, km)
