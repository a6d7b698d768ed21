"""Geohash cells: a pure encoder and the 3 × 3 block of cells around a cell.

Creators are indexed by the cell of their location, so candidate generation reads a handful of
cells near the viewer instead of every creator. A geohash of precision ``p`` interleaves
``5 p`` bits of longitude and latitude (longitude first) and spells them in base 32.
Precision 4 cells are about 39 × 19.5 km at the equator, precision 3 about 156 × 156 km.
"""

from __future__ import annotations

BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_DECODE = {c: i for i, c in enumerate(BASE32)}

Bounds = tuple[float, float, float, float]  # (lat_lo, lat_hi, lon_lo, lon_hi)


def encode(latitude: float, longitude: float, precision: int) -> str:
    """The cell of a point; points on a cell's lower edge belong to it."""
    if not -90.0 <= latitude <= 90.0 or not -180.0 <= longitude <= 180.0:
        raise ValueError("latitude must be within ±90 and longitude within ±180")
    if precision < 1:
        raise ValueError("precision must be at least 1")
    lat_lo, lat_hi, lon_lo, lon_hi = -90.0, 90.0, -180.0, 180.0
    out: list[str] = []
    value = bits = 0
    even = True  # even bits refine longitude, odd bits latitude
    while len(out) < precision:
        if even:
            mid = (lon_lo + lon_hi) / 2
            value, lon_lo, lon_hi = ((value << 1) | 1, mid, lon_hi) if longitude >= mid else (
                value << 1, lon_lo, mid)
        else:
            mid = (lat_lo + lat_hi) / 2
            value, lat_lo, lat_hi = ((value << 1) | 1, mid, lat_hi) if latitude >= mid else (
                value << 1, lat_lo, mid)
        even = not even
        bits += 1
        if bits == 5:
            out.append(BASE32[value])
            value = bits = 0
    return "".join(out)


def bounds(cell: str) -> Bounds:
    """The latitude and longitude ranges a cell covers."""
    lat_lo, lat_hi, lon_lo, lon_hi = -90.0, 90.0, -180.0, 180.0
    even = True
    for char in cell:
        if char not in _DECODE:
            raise ValueError(f"{cell!r} is not a geohash")
        code = _DECODE[char]
        for shift in range(4, -1, -1):
            bit = (code >> shift) & 1
            if even:
                mid = (lon_lo + lon_hi) / 2
                lon_lo, lon_hi = (mid, lon_hi) if bit else (lon_lo, mid)
            else:
                mid = (lat_lo + lat_hi) / 2
                lat_lo, lat_hi = (mid, lat_hi) if bit else (lat_lo, mid)
            even = not even
    return lat_lo, lat_hi, lon_lo, lon_hi


def block(cell: str) -> list[str]:
    """The cell and its (up to) eight neighbours; longitude wraps, the poles do not."""
    lat_lo, lat_hi, lon_lo, lon_hi = bounds(cell)
    height, width = lat_hi - lat_lo, lon_hi - lon_lo
    lat_c, lon_c = (lat_lo + lat_hi) / 2, (lon_lo + lon_hi) / 2
    cells = [cell]
    for dlat in (-1, 0, 1):
        for dlon in (-1, 0, 1):
            lat = lat_c + dlat * height
            if (dlat, dlon) == (0, 0) or not -90.0 < lat < 90.0:
                continue
            lon = (lon_c + dlon * width + 180.0) % 360.0 - 180.0
            neighbour = encode(lat, lon, len(cell))
            if neighbour not in cells:
                cells.append(neighbour)
    return cells
