"""Pure rules: events, rollups, segments, insights and discovery. No I/O, no frameworks."""
