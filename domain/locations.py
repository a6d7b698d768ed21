"""Locations are cells: every reported position is snapped to an H3 cell before it is stored.

Nobody can be located more precisely than a cell (contract §7). A ``locationUpdated`` event's
latitude and longitude are replaced by the H3 cell that contains them as soon as the event is
parsed, so the ledger, the profiles and the creator index hold cells only. Every distance,
proximity band, proximity weight and candidate pool is computed from cell *centres*, so an
answer depends only on which cells two people are in: moving inside a cell changes nothing,
and moving one's own position around another user reveals at most their cell.

| rule | value |
|---|---|
| grid | H3 (hexagons; PyPI ``h3`` v4) |
| cell size of a resolution | √(average hexagon area); res 6 ≈ 6.0 km, res 7 ≈ 2.3 km |
| resolution | the cell size nearest ``AUDIENCE_LOCATION_CELL_KM`` (5 km → res 6) |
| distance | great-circle km between the two cell centres, rounded to a whole number |
| LOCAL candidate pools | the ``POOL_RESOLUTION`` parent of the cell and its neighbours |
| NEARBY candidate pools | the ``REGION_RESOLUTION`` parent of the cell and its neighbours |
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3

#: the cell size (km) the contract names as the default
DEFAULT_CELL_KM = 5.0
#: ~42 km cells: a cell's pool and its neighbours' hold the LOCAL (≤ 50 km) candidates
POOL_RESOLUTION = 4
#: ~295 km cells: a region's pool and its neighbours' hold the NEARBY (≤ 200 km) candidates
REGION_RESOLUTION = 2
#: finest and coarsest resolutions a configured cell size may pick (pools need coarser ones)
MIN_RESOLUTION = POOL_RESOLUTION + 1
MAX_RESOLUTION = 15


def cell_size_km(resolution: int) -> float:
    """The side of a square as large as an average cell of ``resolution``."""
    return math.sqrt(h3.average_hexagon_area(resolution, "km^2"))


def resolution_for(cell_km: float) -> int:
    """The H3 resolution whose cell size is nearest ``cell_km`` (by ratio: sizes are geometric)."""
    if not math.isfinite(cell_km) or cell_km <= 0:
        raise ValueError("the location cell size must be a positive number of km")
    return min(range(MIN_RESOLUTION, MAX_RESOLUTION + 1),
               key=lambda r: abs(math.log(cell_size_km(r) / cell_km)))


@dataclass(frozen=True)
class Cell:
    """A location as stored: an H3 cell index, never the point that was reported."""

    index: str

    @property
    def centre(self) -> tuple[float, float]:
        """(latitude, longitude) of the cell centre: the only position anything is computed from."""
        return h3.cell_to_latlng(self.index)

    def parent(self, resolution: int) -> str:
        """The cell (at a coarser ``resolution``) this one lies in."""
        own = h3.get_resolution(self.index)
        return self.index if own <= resolution else h3.cell_to_parent(self.index, resolution)


@dataclass(frozen=True)
class LocationGrid:
    """The grid locations are snapped to (one resolution for the whole deployment)."""

    resolution: int

    @classmethod
    def of_km(cls, cell_km: float) -> LocationGrid:
        return cls(resolution_for(cell_km))

    def snap(self, latitude: float, longitude: float) -> Cell:
        return Cell(h3.latlng_to_cell(latitude, longitude, self.resolution))


DEFAULT_GRID = LocationGrid.of_km(DEFAULT_CELL_KM)


def is_cell(index: object) -> bool:
    return isinstance(index, str) and h3.is_valid_cell(index)


def distance_km(a: Cell, b: Cell) -> int:
    """Whole kilometres between the two cell centres (0 within one cell)."""
    if a.index == b.index:
        return 0
    return round(h3.great_circle_distance(a.centre, b.centre, unit="km"))


def pool_cells(cell: Cell, resolution: int) -> list[str]:
    """The parent of ``cell`` at ``resolution`` and its ring of neighbours (candidate pools)."""
    return sorted(h3.grid_disk(cell.parent(resolution), 1))
