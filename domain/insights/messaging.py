"""Suggested message themes for the segments that dominate a creator's (shown) audience.

A segment is dominant when it is shown on its own and holds at least ``DOMINANT_SHARE`` of the
audience (``DOMINANT_PASSION_SHARE`` for a passion signal, which overlaps the tiers). Themes are
a fixed table per segment; nothing here reads an individual.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.insights.labels import PASSION_KIND, SegmentKind, keys
from domain.insights.view import AudienceView

DOMINANT_SHARE = 25.0
DOMINANT_PASSION_SHARE = 20.0


@dataclass(frozen=True)
class MessageThemes:
    tone: str
    themes: tuple[str, ...]


THEMES: dict[str, dict[str, MessageThemes]] = {
    SegmentKind.BUDGET: {
        "LOW": MessageThemes("welcoming", ("What a first session with you looks like",
                                           "Free content that shows your style",
                                           "Small ways to support you")),
        "MID": MessageThemes("appreciative", ("Regular sessions and what they include",
                                              "Thank-you notes for steady support",
                                              "Bundles for people who come back")),
        "HIGH": MessageThemes("personal", ("Exclusive, one-to-one time",
                                           "Early access to new offers",
                                           "Personal thank-yous")),
    },
    SegmentKind.INTENT: {
        "CHAT": MessageThemes("conversational", ("Questions that start a conversation",
                                                 "When you are online to chat",
                                                 "Replies to what fans asked")),
        "CALL": MessageThemes("direct", ("Open call slots this week",
                                         "What a call with you is like",
                                         "Voice or video: the choice is theirs")),
        "MEETING": MessageThemes("reassuring", ("Where and when you can meet",
                                                "How booking works and what to expect",
                                                "Safety and etiquette for meetings")),
        "EVENT": MessageThemes("inviting", ("Your next event and how to join",
                                            "Highlights from the last one",
                                            "Early registration")),
    },
    SegmentKind.PROXIMITY: {
        "LOCAL": MessageThemes("neighbourly", ("Local spots and plans",
                                               "Meetups in your city",
                                               "Being around this week")),
        "NEARBY": MessageThemes("regional", ("Trips to their region",
                                             "Regional events",
                                             "Travel days and availability")),
        "REMOTE": MessageThemes("inclusive", ("Online sessions for every time zone",
                                              "Live streams and recordings",
                                              "Ways to take part from anywhere")),
    },
    PASSION_KIND: {
        "shared_interests": MessageThemes("enthusiastic", ("The interests you share",
                                                           "Recommendations in those topics")),
        "visual_attraction": MessageThemes("playful", ("New photos and clips",
                                                       "Behind the scenes")),
        "loyal_follower": MessageThemes("grateful", ("Thanks to people who keep coming back",
                                                     "Milestones you reached together")),
    },
}


@dataclass(frozen=True)
class MessagingSuggestion:
    kind: str
    key: str
    name: str
    percentage: float
    tone: str
    themes: tuple[str, ...]


def suggest(view: AudienceView) -> tuple[MessagingSuggestion, ...]:
    """Themes for each dominant segment shown, largest share first."""
    out = []
    for kind in (*SegmentKind, PASSION_KIND):
        floor = DOMINANT_PASSION_SHARE if kind == PASSION_KIND else DOMINANT_SHARE
        for key in keys(kind):
            row = view.cell(kind, key)
            if row is not None and row.percentage >= floor:
                themes = THEMES[kind][key]
                out.append(MessagingSuggestion(str(kind), key, row.name, row.percentage,
                                               themes.tone, themes.themes))
    out.sort(key=lambda s: -s.percentage)
    return tuple(out)
