"""Discovery: ranking creators for a signed-in viewer (contract §6), as pure rules.

``weights`` holds every weight, boost and rule in one table; ``scoring`` turns a viewer and a
creator card into a match score, a visibility boost and the reasons for both; ``engagement``
suggests how to engage; ``cards`` (with ``domain.locations``) describes how creators are indexed for
candidate generation; ``impressions`` defines impressions, conversions and their windows.
"""
