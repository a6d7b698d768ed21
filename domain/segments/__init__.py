"""Segment classification: one module per segment kind, each rule documented once.

``classify.classify_pair`` combines them into an :class:`AudienceSegment`; every function here is
pure (rollups + thresholds + the current time in, labels out).
"""
