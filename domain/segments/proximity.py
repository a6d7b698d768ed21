"""Proximity: how far the viewer is from the creator, by their last known locations."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from domain.rollups import GeoPoint
from domain.segments.thresholds import ProximityThresholds

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


class Proximity(StrEnum):
    LOCAL = "LOCAL"
    NEARBY = "NEARBY"
    REMOTE = "REMOTE"


@dataclass(frozen=True)
class ProximityResult:
    proximity: Proximity
    distance_km: float | None  # None when either location is unknown


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle (haversine) distance in kilometres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def classify_proximity(viewer: GeoPoint | None, creator: GeoPoint | None,
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
