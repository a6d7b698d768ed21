"""``ErasureReceipt``: what erasing a viewer's data did (contract §9)."""

from __future__ import annotations

import strawberry


@strawberry.type(description="A viewer's data erased: their events, rollups, segments, "
                             "history, impressions and profile are gone, and their part of "
                             "every creator audience leaves with the next release.")
class ErasureReceipt:
    viewer_id: strawberry.ID
    erased: bool = strawberry.field(description="The viewer's data is gone (also when a "
                                                "first call already erased it).")
    events: int = strawberry.field(description="Events removed by this call.")
    segments: int = strawberry.field(description="Segments removed by this call.")
