"""Recommendations for a creator, from the privacy-safe view only, each citing what it read.

Every rule names the metrics it reads (``share.budget.HIGH`` = the shown percentage of High
Spenders), fires when their sum crosses its threshold, and is returned with those values as
evidence, so a creator (or a reviewer) can trace each sentence to the numbers behind it. A rule
whose metrics are hidden by the privacy floor does not fire: it reads nothing it may not show.

Advice only: nothing here changes a price, a split or a bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.insights.labels import DEFAULT_THRESHOLDS, OTHER_KEY, PASSION_KIND, SegmentKind
from domain.insights.view import AudienceView
from domain.segments.thresholds import SegmentThresholds


class FindingKind(StrEnum):
    STRATEGY = "STRATEGY"
    TIP = "TIP"
    OPPORTUNITY = "OPPORTUNITY"


@dataclass(frozen=True)
class Evidence:
    metric: str
    value: float


@dataclass(frozen=True)
class Finding:
    rule: str
    kind: FindingKind
    text: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Recommendations:
    primary_strategy: str
    reasoning: str
    tips: tuple[str, ...]
    opportunities: tuple[str, ...]
    trace: tuple[Finding, ...]


def metrics(view: AudienceView) -> dict[str, float]:
    """Every number a rule may read, by name: shown percentages only."""
    out: dict[str, float] = {}
    for kind, rows in view.breakdown.items():
        for row in rows:
            if row.key != OTHER_KEY:
                out[f"share.{kind}.{row.key}"] = row.percentage
    for row in view.passion:
        out[f"share.{PASSION_KIND}.{row.key}"] = row.percentage
    if view.paying_percentage is not None:
        out["share.paying"] = view.paying_percentage
    return out


@dataclass(frozen=True)
class Rule:
    id: str
    kind: FindingKind
    reads: tuple[str, ...]
    #: format string: {0}, {1}… are the read values, {sum} their sum, {t} the thresholds
    text: str
    at_least: float | None = None  # on the sum of the values read
    at_most: float | None = None  # on the sum of the values read
    each_at_least: float | None = None  # on every value read

    def apply(self, values: Mapping[str, float],
              thresholds: SegmentThresholds = DEFAULT_THRESHOLDS) -> Finding | None:
        if not all(m in values for m in self.reads):
            return None  # hidden by the privacy floor: the rule reads nothing it may not show
        read = [values[m] for m in self.reads]
        total = sum(read)
        if self.at_least is not None and total < self.at_least:
            return None
        if self.at_most is not None and total > self.at_most:
            return None
        if self.each_at_least is not None and min(read) < self.each_at_least:
            return None
        text = self.text.format(*(f"{v:g}" for v in read), sum=f"{total:g}", t=thresholds)
        return Finding(self.id, self.kind, text,
                       tuple(Evidence(m, v) for m, v in zip(self.reads, read, strict=True)))


TIP, OPPORTUNITY = FindingKind.TIP, FindingKind.OPPORTUNITY

#: the rules, in the order their advice is listed; thresholds are shown percentages
RULES: tuple[Rule, ...] = (
    Rule("premium-sessions", TIP, ("share.budget.HIGH",), at_least=20,
         text="Offer longer or premium one-to-one sessions: {0}% of your audience are High "
              "Spenders."),
    Rule("first-purchase", TIP, ("share.paying",), at_most=30,
         text="Most of your audience has not paid you yet ({0}% have): a small, clearly "
              "described first offer lowers the step."),
    Rule("entry-offers", TIP, ("share.budget.LOW",), at_least=50,
         text="Keep entry-level offers visible: {0}% of your audience are Casual Supporters."),
    Rule("quick-replies", TIP, ("share.intent.CHAT",), at_least=40,
         text="Reply to chats quickly and regularly: {0}% of your audience are Chat "
              "Enthusiasts."),
    Rule("reward-loyalty", TIP, ("share.passion.loyal_follower",), at_least=15,
         text="Reward your Loyal Followers ({0}%) with early access or a personal thank-you."),
    Rule("post-media", TIP, ("share.passion.visual_attraction",), at_least=15,
         text="Post media regularly: {0}% of your audience are Admirers who view and like "
              "without paying yet."),
    Rule("shared-interests", TIP, ("share.passion.shared_interests",), at_least=15,
         text="Talk about the interests you share: {0}% of your audience are Kindred Spirits."),
    Rule("premium-calls", OPPORTUNITY, ("share.budget.HIGH", "share.intent.CALL"),
         each_at_least=20,
         text="Premium video calls: {0}% of your audience are High Spenders and {1}% are "
              "Call Lovers."),
    Rule("local-meetup", OPPORTUNITY, ("share.proximity.LOCAL",), at_least=20,
         text="A local meetup: {0}% of your audience live within {t.proximity.local_km:g} km "
              "of you."),
    Rule("regional-event", OPPORTUNITY, ("share.proximity.LOCAL", "share.proximity.NEARBY"),
         at_least=40,
         text="A regional event: {sum}% of your audience live within "
              "{t.proximity.nearby_km:g} km ({0}% local, {1}% nearby)."),
    Rule("online-first", OPPORTUNITY, ("share.proximity.REMOTE",), at_least=60,
         text="Online events and video calls reach your Distant Fans, {0}% of your audience."),
    Rule("ticketed-event", OPPORTUNITY, ("share.intent.EVENT",), at_least=15,
         text="A ticketed event: {0}% of your audience are Event Goers."),
    Rule("meeting-slots", OPPORTUNITY, ("share.intent.MEETING",), at_least=15,
         text="Open more meeting slots: {0}% of your audience are Meetup Seekers."),
)

#: primary strategy by the largest interaction group shown on its own
STRATEGIES: dict[str, str] = {
    "CHAT": "Grow through conversation",
    "CALL": "Lead with one-to-one calls",
    "MEETING": "Build toward meetings in person",
    "EVENT": "Make events your centrepiece",
}
FALLBACK_STRATEGY = "Get to know your audience"
FALLBACK_TIP = ("Keep posting and replying: as more of your audience can be shown without "
                "pointing at anyone, more advice appears here.")


def _strategy(view: AudienceView) -> Finding:
    intent = view.largest(SegmentKind.INTENT)
    if intent is None:
        return Finding("strategy", FindingKind.STRATEGY, FALLBACK_STRATEGY, ())
    evidence = [Evidence(f"share.intent.{intent.key}", intent.percentage)]
    reasoning = (f"{intent.percentage:g}% of your audience are {intent.name}, the largest "
                 "interaction group you can see.")
    budget = view.largest(SegmentKind.BUDGET)
    if budget is not None:
        evidence.append(Evidence(f"share.budget.{budget.key}", budget.percentage))
        reasoning += f" Your largest spending group is {budget.name} ({budget.percentage:g}%)."
    return Finding("strategy", FindingKind.STRATEGY, reasoning, tuple(evidence))


def recommend(view: AudienceView) -> Recommendations:
    """The strategy, tips and opportunities the shown numbers support, with their trace."""
    values = metrics(view)
    strategy = _strategy(view)
    intent = view.largest(SegmentKind.INTENT)
    primary = STRATEGIES[intent.key] if intent is not None else FALLBACK_STRATEGY
    reasoning = strategy.text if strategy.evidence else (
        "No interaction type reaches the privacy floor on its own yet, so advice stays general.")
    findings = [f for rule in RULES if (f := rule.apply(values, view.thresholds)) is not None]
    tips = tuple(f.text for f in findings if f.kind is FindingKind.TIP) or (FALLBACK_TIP,)
    opportunities = tuple(f.text for f in findings if f.kind is FindingKind.OPPORTUNITY)
    return Recommendations(primary_strategy=primary, reasoning=reasoning, tips=tips,
                           opportunities=opportunities,
                           trace=(Finding("strategy", FindingKind.STRATEGY, primary,
                                          strategy.evidence), *findings))
