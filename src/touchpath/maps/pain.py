"""Pain points ranked from the data, with the numbers behind each, and opportunities in words.

A pain point is a touchpoint (or a stage) that sits far from the rest of the map on a share of
people or answers: far by Cohen's h, the distance between two shares (`distance`; 0.2 is small,
0.5 medium, 0.8 large), which is its severity (at most 1) and ranks the list. A finding needs at
least `MIN_PEOPLE` people (or comments) on each side of its comparison, and a one-sided
two-proportion z-test (`z_test`) that gives p < `ALPHA` that the difference is real; its
sentence cites exactly the shares that were compared. The kinds:
- `channel_gap`: the same event on another channel or condition loses more people before the
  goal than the best of them;
- `negative_feedback`: more of the comments after a touchpoint are negative than after the
  rest of the map's touchpoints, and its feedback is not positive (its emotion, the mean of its
  NPS, CSAT and sentiment, is below 0): positive feedback is never a pain point. Survey and
  review touchpoints judge the whole brand and are left out;
- `channel_switch`: people who arrive at a touchpoint on another channel than the touchpoint
  they met just before (`maps.touches.ChannelSwitch`) reach the goal less often than those who
  stay on one channel;
- `drop_off`: a stage's people who never reach the next stage, against the losses between the
  other stages (severity a quarter of the distance, `DROP_OFF_WEIGHT`: every funnel loses
  people);
- `long_wait`: a hand-off within one channel of one stage, its source's usual next step, takes
  more than a day at the median for at least `MIN_PEOPLE` people (severity: hours / 96);
- `repeat_contact`: people who contact support through a touchpoint again within a few days
  (`maps.touches.Contacts`; severity: the share who came back);
- `error_page`: error pages and failed events (names like error, 404, not found, failed),
  placed at the touchpoint people met last before them (severity: five times the share of
  people who saw one).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from scipy.stats import norm

from touchpath.analytics.feedback import FeedbackRow
from touchpath.maps.bound import BoundMap, BoundTouchpoint, Kind, Opportunity, PainPoint
from touchpath.maps.feedback import emotion, is_response
from touchpath.maps.touches import Touches

__all__ = ["ALPHA", "MIN_PEOPLE", "distance", "find_pain_points", "z_test"]

MIN_PEOPLE = 20
"""Fewest people (or comments) on each side of a comparison."""
ALPHA = 0.01
"""A difference is real when the one-sided z-test gives p below this."""

DROP_OFF_WEIGHT = 0.25
"""A stage's loss is mostly the shape of the map (browsers outnumber buyers), so its distance
counts a quarter against a touchpoint's."""

Numbers = dict[str, float | int | str]


@dataclass(frozen=True)
class _Finding:
    score: float
    kind: Kind
    stage: str
    touchpoint: str | None
    summary: str
    numbers: Numbers
    opportunity: str | None = None


def distance(p: float, q: float) -> float:
    """Cohen's h between two shares: 2·asin(√p) − 2·asin(√q), as an absolute value.

    >>> round(distance(0.5, 0.2), 3), distance(0.3, 0.3)
    (0.644, 0.0)
    """
    a, b = min(1.0, max(0.0, p)), min(1.0, max(0.0, q))
    return abs(2 * math.asin(math.sqrt(a)) - 2 * math.asin(math.sqrt(b)))


def z_test(x1: float, n1: float, x2: float, n2: float) -> float:
    """One-sided p-value that the share x1/n1 is larger than x2/n2 (pooled two-proportion
    z-test); 1.0 when either side is empty or nothing varies.

    >>> round(z_test(30, 100, 10, 100), 5) < 0.001, z_test(10, 100, 30, 100) > 0.99
    (True, True)
    """
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return float(norm.sf((x1 / n1 - x2 / n2) / se))


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def find_pain_points(
    bm: BoundMap, fb: dict[str, FeedbackRow], touches: Touches | None = None
) -> tuple[list[PainPoint], list[Opportunity]]:
    """The ranked pain points of a bound map and the opportunities they point to.

    `fb` is the feedback per touchpoint name; `touches` the map's repeated contacts, error
    pages and channel switches (`maps.touches`).
    """
    found = _feedback(bm, fb) + _waits(bm) + _gaps(bm) + _drop_offs(bm)
    if touches is not None:
        found += _contacts(bm, touches) + _errors(bm, touches) + _switches(bm, touches)
    found.sort(key=lambda f: -min(1.0, f.score))
    pains = [
        PainPoint(
            rank=k + 1, kind=f.kind, stage=f.stage, touchpoint=f.touchpoint,
            score=round(min(1.0, f.score), 4), summary=f.summary, numbers=f.numbers,
        )
        for k, f in enumerate(found)
    ]  # fmt: skip
    opportunities = [
        Opportunity(text=f.opportunity, stage=f.stage, touchpoint=f.touchpoint)
        for f in found
        if f.opportunity
    ]
    return pains, opportunities


def _feedback(bm: BoundMap, fb: dict[str, FeedbackRow]) -> list[_Finding]:
    """Touchpoints whose comments are negative more often than the rest of the map's."""
    doc_tps = {t.name: t for _, t in bm.map.touchpoints()}
    told: dict[str, tuple[str, FeedbackRow, int]] = {}
    for st in bm.stages:
        for tp in st.touchpoints:
            f = fb.get(tp.name)
            if f is None or is_response(doc_tps[tp.name]) or not f.texts:
                continue
            told[tp.name] = (st.name, f, round((f.negative_share or 0.0) * f.texts))
    all_n = sum(f.texts for _, f, _ in told.values())
    all_neg = sum(neg for _, _, neg in told.values())
    out: list[_Finding] = []
    for name, (stage, f, neg) in told.items():
        n, rest_n, rest_neg = f.texts, all_n - f.texts, all_neg - neg
        emo = emotion(f)
        if n < MIN_PEOPLE or rest_n < MIN_PEOPLE or emo is None or emo >= 0:
            continue
        p = z_test(neg, n, rest_neg, rest_n)
        share, rest = neg / n, rest_neg / rest_n
        if p >= ALPHA:
            continue
        nums: Numbers = {
            "comments": n, "negative_share": round(share, 4), "rest_comments": rest_n,
            "rest_negative_share": round(rest, 4), "emotion": round(emo, 3), "p_value": p,
        }  # fmt: skip
        bits = [f"{n:,} comments"]
        if f.sentiment_avg is not None and f.sentiment_avg < 0:
            nums["sentiment"] = round(f.sentiment_avg, 3)
            bits.append(f"sentiment {f.sentiment_avg:+.2f}")
        if f.csat_avg is not None and f.csat_avg < 3:
            nums["csat"] = round(f.csat_avg, 2)
            bits.append(f"CSAT {f.csat_avg:.1f} of 5")
        if f.nps is not None and f.nps < 0:
            nums["nps"] = round(f.nps, 1)
            bits.append(f"NPS {f.nps:.0f}")
        out.append(_Finding(
            distance(share, rest), "negative_feedback", stage, name,
            f"After {name}, {share:.0%} of comments are negative against {rest:.0%} after the "
            f"rest of the map ({', '.join(bits)}; {_p(p)})",
            nums,
            f"Fix what happens at {name}: {share:.0%} of its comments are negative against "
            f"{rest:.0%} elsewhere",
        ))  # fmt: skip
    return out


def _waits(bm: BoundMap) -> list[_Finding]:
    """Slow hand-offs within one channel of one stage."""
    stage_of = {t.name: s for s in bm.stages for t in s.touchpoints}
    channel_of = {t.name: t.channel for s in bm.stages for t in s.touchpoints}
    usual: dict[str, str] = {}
    for fl in sorted(bm.flows, key=lambda f: -f.count):
        usual.setdefault(fl.source, fl.target)
    out: list[_Finding] = []
    for fl in bm.flows:
        src, dst = stage_of.get(fl.source), stage_of.get(fl.target)
        hours = fl.median_hours
        same_channel = channel_of.get(fl.source) is not None and (
            channel_of.get(fl.source) == channel_of.get(fl.target)
        )
        if (
            src is None
            or src is not dst
            or not same_channel
            or usual.get(fl.source) != fl.target
            or hours is None
            or hours <= 24
            or fl.count < MIN_PEOPLE
        ):
            continue
        out.append(_Finding(
            min(1.0, hours / 96), "long_wait", src.name, fl.source,
            f"{fl.source} to {fl.target} takes {hours:.0f} h (median, {fl.count:,} people)",
            {"median_hours": round(hours, 1), "people": fl.count, "next": fl.target},
            f"Cut the wait from {fl.source} to {fl.target}: {hours:.0f} h at the median today",
        ))  # fmt: skip
    return out


def _gaps(bm: BoundMap) -> list[_Finding]:
    """The same event on another channel or condition that loses more people before the goal."""
    goal = bm.map.goal.event if bm.map.goal else "the goal"
    events = {t.name: t.match.event for _, t in bm.map.touchpoints()}
    by_event: dict[str, list[BoundTouchpoint]] = defaultdict(list)
    for st in bm.stages:
        for tp in st.touchpoints:
            if tp.persona.to_goal is not None and tp.persona.reach >= MIN_PEOPLE:
                by_event[events[tp.name]].append(tp)
    out: list[_Finding] = []
    for tps in by_event.values():
        if len(tps) < 2:
            continue
        best = max(tps, key=lambda t: t.persona.to_goal or 0.0)
        best_loss = 1 - (best.persona.to_goal or 0.0)
        for tp in tps:
            loss = 1 - (tp.persona.to_goal or 0.0)
            if tp is best or loss <= best_loss:
                continue
            n, peer_n = tp.persona.reach, best.persona.reach
            p = z_test(round(loss * n), n, round(best_loss * peer_n), peer_n)
            if p >= ALPHA:
                continue
            out.append(_Finding(
                distance(loss, best_loss), "channel_gap", tp.stage, tp.name,
                f"{tp.name} loses {loss:.0%} of {n:,} people before {goal} against "
                f"{best_loss:.0%} of {peer_n:,} on {best.name} ({_p(p)})",
                {"loss": round(loss, 4), "peer_loss": round(best_loss, 4), "peer": best.name,
                 "reach": n, "peer_reach": peer_n, "p_value": p},
                f"{tp.name} loses {loss:.0%} against {best_loss:.0%} on {best.name}",
            ))  # fmt: skip
    return out


def _drop_offs(bm: BoundMap) -> list[_Finding]:
    """A stage that loses more of its people before the next stage than the other stages do."""
    steps = [
        (st, bm.stages[i + 1], st.persona.reach, 1 - st.persona.to_next)
        for i, st in enumerate(bm.stages[:-1])
        if st.persona.to_next is not None and st.persona.reach >= MIN_PEOPLE
    ]
    all_n = sum(n for _, _, n, _ in steps)
    all_lost = sum(round(n * loss) for _, _, n, loss in steps)
    out: list[_Finding] = []
    for st, nxt, n, loss in steps:
        lost = round(n * loss)
        rest_n, rest_lost = all_n - n, all_lost - lost
        if rest_n < MIN_PEOPLE:
            continue
        p = z_test(lost, n, rest_lost, rest_n)
        rest = rest_lost / rest_n
        if p >= ALPHA:
            continue
        out.append(_Finding(
            DROP_OFF_WEIGHT * distance(loss, rest), "drop_off", st.name, None,
            f"{loss:.0%} of the {n:,} people who reached {st.title} never reach {nxt.title}, "
            f"against {rest:.0%} between the other stages ({_p(p)})",
            {"reach": n, "to_next": round(1 - loss, 4), "loss": round(loss, 4),
             "rest_loss": round(rest, 4), "p_value": p},
        ))  # fmt: skip
    return out


def _contacts(bm: BoundMap, touches: Touches) -> list[_Finding]:
    stage_of = {t.name: s.name for s in bm.stages for t in s.touchpoints}
    out: list[_Finding] = []
    for c in touches.contacts:
        if c.repeat_people == 0 or c.people < 5:
            continue
        share = c.repeat_share
        out.append(_Finding(
            min(1.0, share), "repeat_contact", stage_of[c.touchpoint], c.touchpoint,
            f"{share:.0%} of the people who contact {c.touchpoint} do again within {c.days} days "
            f"({c.repeat_people:,} of {c.people:,}, {c.contacts / c.people:.1f} contacts each)",
            {"people": c.people, "repeat_people": c.repeat_people, "repeat_share": round(share, 4),
             "contacts": c.contacts, "days": c.days},
            f"Solve it at the first contact: {share:.0%} contact {c.touchpoint} again within "
            f"{c.days} days",
        ))  # fmt: skip
    return out


def _errors(bm: BoundMap, touches: Touches) -> list[_Finding]:
    first = bm.stages[0].name if bm.stages else ""
    out: list[_Finding] = []
    for e in touches.errors:
        everyone = bm.persona_size + (bm.others_size or 0)
        share = e.people / everyone if everyone else 0.0
        where = f" after {e.touchpoint}" if e.touchpoint else ""
        out.append(_Finding(
            min(1.0, 5 * share), "error_page", e.stage or first, e.touchpoint,
            f"{e.people:,} people ({share:.1%}) hit {e.event}{where} ({e.events:,} times)",
            {"event": e.event, "events": e.events, "people": e.people, "share": round(share, 4)},
            f"Fix {e.event}{where}: {share:.1%} of people hit it",
        ))  # fmt: skip
    return out


def _switches(bm: BoundMap, touches: Touches) -> list[_Finding]:
    stage_of = {t.name: s.name for s in bm.stages for t in s.touchpoints}
    out: list[_Finding] = []
    for c in touches.switches:
        if c.switchers < MIN_PEOPLE or c.stayers < MIN_PEOPLE or c.pair is None:
            continue
        fail, peer_fail = 1 - c.switcher_conversion, 1 - c.stayer_conversion
        p = z_test(
            c.switchers - c.switchers_converted, c.switchers,
            c.stayers - c.stayers_converted, c.stayers,
        )  # fmt: skip
        if p >= ALPHA:
            continue
        a, b = c.pair
        out.append(_Finding(
            distance(fail, peer_fail), "channel_switch", stage_of[c.touchpoint], c.touchpoint,
            f"{c.switchers:,} people switch from another channel at {c.touchpoint} (mostly {a} "
            f"to {b}): {c.switcher_conversion:.0%} of them reach {c.target} within {c.days} "
            f"days against {c.stayer_conversion:.0%} of {c.stayers:,} who stay on one ({_p(p)})",
            {"switchers": c.switchers, "switcher_conversion": round(c.switcher_conversion, 4),
             "stayers": c.stayers, "stayer_conversion": round(c.stayer_conversion, 4),
             "pair": f"{a} -> {b}", "pair_people": c.pair_people, "target": c.target,
             "days": c.days, "p_value": p},
            f"Carry people from {a} to {b} at {c.touchpoint}: switchers reach {c.target} "
            f"{c.switcher_conversion:.0%} against {c.stayer_conversion:.0%}",
        ))  # fmt: skip
    return out
