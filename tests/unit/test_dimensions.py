"""The dimensions table is the one declaration the other tables follow."""

from __future__ import annotations

import dataclasses

from domain.insights.labels import LABELS, Dimension
from domain.segments.classify import AudienceSegment
from domain.segments.dimensions import (
    DIMENSIONS,
    PASSION_KIND,
    SegmentDimension,
    SegmentKind,
    flag_attributes,
)
from domain.segments.passion import PassionSignals


def test_every_dimension_has_one_row_reading_a_real_attribute() -> None:
    assert [d.dimension for d in DIMENSIONS] == list(SegmentDimension)
    segment_fields = {f.name for f in dataclasses.fields(AudienceSegment)}
    passion_fields = {f.name for f in dataclasses.fields(PassionSignals)}
    for row in DIMENSIONS:
        assert row.attribute in (passion_fields if row.is_flag else segment_fields)


def test_labels_and_breakdown_groups_follow_the_table() -> None:
    tiers = [d for d in DIMENSIONS if not d.is_flag]
    assert [d.group for d in tiers] == list(SegmentKind)
    for row in tiers:
        assert set(LABELS[row.group]) == set(row.values)
    assert tuple(LABELS[PASSION_KIND]) == flag_attributes()
    assert {g.value for g in Dimension} == {*SegmentKind, PASSION_KIND}
