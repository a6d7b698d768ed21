"""``SegmentChange``: one dimension of one pair moving (contract §9), and its connection."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import TypeAlias

import strawberry

from domain.segments.changes import SegmentChange as DomainChange
from domain.segments.dimensions import SegmentDimension as DomainDimension
from schema.errors import bad_input
from schema.segment import PageInfo

strawberry.enum(DomainDimension, name="SegmentDimension",
                description="A label of a segment that can change: a tier or a passion flag.")
SegmentDimension: TypeAlias = DomainDimension

_CURSOR_PREFIX = "position:"


def position_cursor(position: int) -> str:
    """A cursor naming a place in the change log."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode()


def cursor_position(cursor: str, field: str = "after") -> int:
    """The log position a cursor names; BAD_USER_INPUT for anything this API did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    digits = raw[len(_CURSOR_PREFIX):] if raw.startswith(_CURSOR_PREFIX) else ""
    if not digits.isdigit() or len(digits) > 18:
        raise bad_input(f"{field}: not a cursor this API issued", field=field)
    return int(digits)


@strawberry.type(description="One dimension of one (viewer, creator) pair changing value. "
                             "from/to: a tier name or \"true\"/\"false\"; from is null when "
                             "the pair first appears, to is null when its segment is removed.")
class SegmentChange:
    id: strawberry.ID = strawberry.field(
        description="Stable across redeliveries: consumers deduplicate by it.")
    viewer_id: strawberry.ID
    creator_id: strawberry.ID
    dimension: SegmentDimension
    from_: str | None = strawberry.field(name="from")
    to: str | None
    at: datetime
    cursor: str = strawberry.field(
        description="This change's place in the log: segmentChanges(after: cursor) resumes "
                    "after it.")

    @classmethod
    def from_domain(cls, c: DomainChange) -> SegmentChange:
        return cls(id=strawberry.ID(c.id), viewer_id=strawberry.ID(c.viewer_id),
                   creator_id=strawberry.ID(c.creator_id), dimension=c.dimension,
                   from_=c.before, to=c.after, at=c.at, cursor=position_cursor(c.position))


@strawberry.type
class SegmentChangeEdge:
    cursor: str
    node: SegmentChange


@strawberry.type(description="A page of segment changes; cursors are log positions.")
class SegmentChangeConnection:
    edges: list[SegmentChangeEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[SegmentChange]:
        return [e.node for e in self.edges]

    @classmethod
    def from_page(cls, rows: list[DomainChange], size: int, after: str | None
                  ) -> SegmentChangeConnection:
        """``rows`` holds up to ``size + 1`` changes: the extra one says a next page exists."""
        edges = [SegmentChangeEdge(cursor=position_cursor(c.position),
                                   node=SegmentChange.from_domain(c)) for c in rows[:size]]
        return cls(edges=edges, page_info=PageInfo(
            has_next_page=len(rows) > size, has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))
