"""Segment queries and mutations: own segments, safety lookups, refresh, risk, thresholds."""

from __future__ import annotations

import base64
import binascii

from graphql import GraphQLError
from pydantic import ValidationError

from domain.events import MAX_ID_LENGTH
from domain.segments.risk import RiskLevel
from schema.configuration import (
    SegmentConfiguration,
    SegmentConfigurationInput,
    changes_from_input,
)
from schema.configuration_preview import ConfigurationPreview
from schema.context import Info
from schema.errors import bad_input
from schema.permissions import require_principal
from schema.risk import ViewerRiskChange
from schema.segment import (
    AudienceSegment,
    AudienceSegmentConnection,
    AudienceSegmentEdge,
    PageInfo,
)

DEFAULT_PAGE = 20
MAX_PAGE = 100
_CURSOR_PREFIX = "creator:"


def encode_cursor(creator_id: str) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{creator_id}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_input("after: not a cursor this API issued", field="after") from None
    if not raw.startswith(_CURSOR_PREFIX):
        raise bad_input("after: not a cursor this API issued", field="after")
    return raw[len(_CURSOR_PREFIX):]


def check_id(name: str, value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_ID_LENGTH:
        raise bad_input(f"{name} must be a non-empty id of at most {MAX_ID_LENGTH} characters",
                        field=name)
    return value


async def my_segment(info: Info, creator_id: str) -> AudienceSegment | None:
    viewer = require_principal(info.context).sub
    segment = await info.context.loaders.segments.load((viewer, check_id("creatorId",
                                                                          creator_id)))
    return AudienceSegment.from_domain(segment) if segment else None


async def my_segments(info: Info, first: int | None, after: str | None
                      ) -> AudienceSegmentConnection:
    viewer = require_principal(info.context).sub
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise bad_input(f"first must be between 0 and {MAX_PAGE}", field="first")
    after_creator = decode_cursor(after) if after else None
    services = info.context.services
    rows = await services.segments.page_for_viewer(viewer, after_creator, size + 1)
    # Read-your-writes, as in the segment loader: the viewer's own queued work (new pairs
    # included) and creator-wide work for the listed creators run first, then the page is
    # read again. Nothing queued: one extra query.
    if await services.freshness.viewer_page(viewer, [s.creator_id for s in rows]):
        rows = await services.segments.page_for_viewer(viewer, after_creator,
                                                                size + 1)
    page = rows[:size]
    edges = [AudienceSegmentEdge(cursor=encode_cursor(s.creator_id),
                                 node=AudienceSegment.from_domain(s)) for s in page]
    return AudienceSegmentConnection(
        _viewer_id=viewer, edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > size, has_previous_page=after is not None,
                           start_cursor=edges[0].cursor if edges else None,
                           end_cursor=edges[-1].cursor if edges else None))


async def segment(info: Info, viewer_id: str, creator_id: str) -> AudienceSegment | None:
    found = await info.context.loaders.segments.load(
        (check_id("viewerId", viewer_id), check_id("creatorId", creator_id)))
    return AudienceSegment.from_domain(found) if found else None


async def refresh_segment(info: Info, viewer_id: str, creator_id: str
                          ) -> AudienceSegment | None:
    fresh = await info.context.services.segments.recompute(check_id("viewerId", viewer_id),
                                                           check_id("creatorId", creator_id))
    return AudienceSegment.from_domain(fresh) if fresh else None


async def set_viewer_risk(info: Info, viewer_id: str, level: RiskLevel, reason: str
                          ) -> ViewerRiskChange:
    who = require_principal(info.context).sub
    try:
        change = await info.context.services.segments.set_risk(
            check_id("viewerId", viewer_id), RiskLevel(level), reason, who)
    except ValueError as exc:
        raise bad_input(f"reason: {exc}", field="reason") from None
    return ViewerRiskChange.from_domain(change)


async def risk_history(info: Info, viewer_id: str) -> list[ViewerRiskChange]:
    changes = await info.context.services.segments.risk_history(check_id("viewerId", viewer_id))
    return [ViewerRiskChange.from_domain(c) for c in changes]


async def segment_configuration(info: Info) -> SegmentConfiguration:
    return SegmentConfiguration.from_domain(
        await info.context.services.segments.thresholds())


async def update_segment_configuration(info: Info, value: SegmentConfigurationInput
                                       ) -> SegmentConfiguration:
    who = require_principal(info.context).sub
    changes = changes_from_input(value)
    if not changes:
        raise bad_input("input sets no threshold", field="input")
    try:
        updated = await info.context.services.segments.update_thresholds(changes, who)
    except ValidationError as exc:
        raise _invalid_thresholds(exc) from None
    return SegmentConfiguration.from_domain(updated)


async def preview_segment_configuration(info: Info, value: SegmentConfigurationInput
                                        ) -> ConfigurationPreview:
    changes = changes_from_input(value)
    if not changes:
        raise bad_input("input sets no threshold", field="input")
    try:
        preview = await info.context.services.segments.preview_thresholds(changes)
    except ValidationError as exc:
        raise _invalid_thresholds(exc) from None
    return ConfigurationPreview.from_domain(preview)


def _invalid_thresholds(exc: ValidationError) -> GraphQLError:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors())
    return bad_input(f"Invalid thresholds: {problems}", field="input")
