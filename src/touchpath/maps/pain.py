"""Pain points ranked from the data, with the numbers behind each, and opportunities in words.

Each finding has a severity in 0..1; the list is sorted by it. The kinds:
- `channel_gap`: the same event on another channel or condition loses more people before the
  goal (severity: half the log of the ratio of the losses, so 2x the loss scores 0.35);
- `negative_feedback`: what people say right after a touchpoint is worse than after the rest
  of the map (severity: twice the distance of its emotion below the map's mean, scaled by how
  sure: up to 50 answers; survey touchpoints judge the whole brand and are left out);
- `long_wait`: a hand-off within one channel of one stage (the business at work, e.g. ticket to
  resolution on support), the usual next step of its source, takes more than a day at the
  median (severity grows to 1 at 4 days);
- `drop_off`: few of a stage reach the next one (severity: the loss, scaled down by 0.4, since
  every funnel loses people);
- `repeat_contact`: people who contact support through a touchpoint again within a few days
  (`maps.touches.Contacts`; severity: the share who came back, scaled by how sure: up to 20
  people);
- `error_page`: error pages and failed events (names like error, 404, not found, failed),
  placed at the touchpoint people met last before them (severity: five times the share of the
  persona who saw one, so 10% scores 0.5);
- `channel_switch`: people who arrive at a touchpoint on another channel than the touchpoint
  they met just before (app checkout continued on the web, chat then email; the web's
  acquisition channels count as one, `web`) fail to reach the
  goal within the window notably more often (10 points or more) than those who stayed on one
  channel (`maps.touches.ChannelSwitch`; severity: half the log of the ratio of the failure
  rates, as for `channel_gap`, scaled by how sure: up to 20 switchers).
"""

from __future__ import annotations

import math
from collections import defaultdict

from touchpath.analytics.feedback import FeedbackRow
from touchpath.maps.bound import BoundMap, BoundTouchpoint, Opportunity, PainPoint
from touchpath.maps.feedback import is_response
from touchpath.maps.touches import Touches

__all__ = ["find_pain_points"]

_Finding = tuple[float, str, str, str | None, str, dict[str, float | int | str], str | None]


def find_pain_points(
    bm: BoundMap, fb: dict[str, FeedbackRow], touches: Touches | None = None
) -> tuple[list[PainPoint], list[Opportunity]]:
    """The ranked pain points of a bound map and the opportunities they point to.

    `fb` is the feedback per touchpoint name; `touches` the map's repeated contacts and error
    pages (`maps.touches`).
    """
    found: list[_Finding] = []
    goal = bm.map.goal.event if bm.map.goal else "the goal"
    by_event: dict[str, list[BoundTouchpoint]] = defaultdict(list)
    data_emos = [
        t.emotion for s in bm.stages for t in s.touchpoints
        if t.emotion is not None and t.emotion_source == "data"
    ]  # fmt: skip
    mean_emo = sum(data_emos) / len(data_emos) if data_emos else 0.0
    for st in bm.stages:
        for tp in st.touchpoints:
            doc_tp = next(t for s in bm.map.stages for t in s.touchpoints if t.name == tp.name)
            if tp.persona.to_goal is not None and tp.persona.reach >= 20:
                by_event[doc_tp.match.event].append(tp)
            emo = tp.emotion if tp.emotion_source == "data" else None
            f = fb.get(tp.name)
            survey = is_response(doc_tp)  # it judges the whole brand
            if emo is not None and not survey and emo < mean_emo - 0.1 and f and f.responses >= 5:
                n = f.responses
                sure = min(1.0, n / 50)
                nums: dict[str, float | int | str] = {"feedback": n, "emotion": round(emo, 3)}
                bits = []
                if f.sentiment_avg is not None:
                    nums["sentiment"] = round(f.sentiment_avg, 3)
                    bits.append(f"sentiment {f.sentiment_avg:+.2f}")
                if f.negative_share is not None:
                    nums["negative_share"] = round(f.negative_share, 3)
                    bits.append(f"{f.negative_share:.0%} negative comments")
                if f.csat_avg is not None:
                    nums["csat"] = round(f.csat_avg, 2)
                    bits.append(f"CSAT {f.csat_avg:.1f}")
                if f.nps is not None:
                    nums["nps"] = round(f.nps, 1)
                    bits.append(f"NPS {f.nps:.0f}")
                found.append((
                    min(1.0, 2 * (mean_emo - emo)) * sure, "negative_feedback", st.name, tp.name,
                    f"After {tp.name}, feedback is the worst: {', '.join(bits)} (n={n:,})",
                    nums,
                    f"Fix what happens after {tp.name}: its feedback is the worst of the map "
                    f"({', '.join(bits[:2])})",
                ))  # fmt: skip
    stage_of = {t.name: s for s in bm.stages for t in s.touchpoints}
    channel_of = {t.name: t.channel for s in bm.stages for t in s.touchpoints}
    usual: dict[str, str] = {}
    for fl in sorted(bm.flows, key=lambda f: -f.count):
        usual.setdefault(fl.source, fl.target)
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
            or fl.count < 10
        ):
            continue
        found.append((
            min(1.0, hours / 96), "long_wait", src.name, fl.source,
            f"{fl.source} to {fl.target} takes {hours:.0f} h (median, {fl.count:,} people)",
            {"median_hours": round(hours, 1), "people": fl.count, "next": fl.target},
            f"Cut the wait from {fl.source} to {fl.target}: {hours:.0f} h at the median today",
        ))  # fmt: skip
    for tps in by_event.values():
        if len(tps) < 2:
            continue
        best = max(tps, key=lambda t: t.persona.to_goal or 0.0)
        best_loss = 1 - (best.persona.to_goal or 0.0)
        for tp in tps:
            if tp is best:
                continue
            loss = 1 - (tp.persona.to_goal or 0.0)
            gap = loss - best_loss
            if gap < 0.05:
                continue
            found.append((
                min(1.0, 0.5 * math.log(loss / max(best_loss, 0.01))), "channel_gap", tp.stage, tp.name,
                f"{tp.name} loses {loss:.0%} before {goal} against {best_loss:.0%} on {best.name}",
                {"loss": round(loss, 4), "peer_loss": round(best_loss, 4), "peer": best.name,
                 "reach": tp.persona.reach, "peer_reach": best.persona.reach},
                f"{tp.name} loses {loss:.0%} against {best_loss:.0%} on {best.name}",
            ))  # fmt: skip
    for i, st in enumerate(bm.stages[:-1]):
        to_next = st.persona.to_next
        if to_next is None or st.persona.reach < 20:
            continue
        nxt = bm.stages[i + 1]
        found.append((
            0.4 * (1 - to_next), "drop_off", st.name, None,
            f"{1 - to_next:.0%} of {st.title} never reach {nxt.title}",
            {"reach": st.persona.reach, "to_next": round(to_next, 4)},
            None,
        ))  # fmt: skip
    if touches is not None:
        found += _contacts(bm, touches) + _errors(bm, touches) + _switches(bm, touches)
    found.sort(key=lambda f: -f[0])
    pains = [
        PainPoint(
            rank=k + 1, kind=kind, stage=stage, touchpoint=tp, score=round(score, 4),
            summary=summary, numbers=nums,
        )
        for k, (score, kind, stage, tp, summary, nums, _) in enumerate(found)
    ]  # fmt: skip
    opportunities = [
        Opportunity(text=text, stage=stage, touchpoint=tp)
        for _, _, stage, tp, _, _, text in found
        if text
    ]
    return pains, opportunities


def _contacts(bm: BoundMap, touches: Touches) -> list[_Finding]:
    stage_of = {t.name: s.name for s in bm.stages for t in s.touchpoints}
    out: list[_Finding] = []
    for c in touches.contacts:
        if c.repeat_people == 0 or c.people < 5:
            continue
        share = c.repeat_share
        out.append((
            min(1.0, share) * min(1.0, c.people / 20), "repeat_contact", stage_of[c.touchpoint],
            c.touchpoint,
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
        out.append((
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
        if c.switchers < 5 or c.stayers < 5 or c.pair is None:
            continue
        fail, peer_fail = 1 - c.switcher_conversion, 1 - c.stayer_conversion
        if fail - peer_fail < 0.1:
            continue
        a, b = c.pair
        sure = min(1.0, c.switchers / 20)
        out.append((
            min(1.0, 0.5 * math.log(fail / max(peer_fail, 0.01))) * sure, "channel_switch",
            stage_of[c.touchpoint], c.touchpoint,
            f"{c.switchers:,} people switch channel at {c.touchpoint} (mostly {a} to {b}): "
            f"{c.switcher_conversion:.0%} reach {c.target} within {c.days} days against "
            f"{c.stayer_conversion:.0%} of {c.stayers:,} who stay on one",
            {"switchers": c.switchers, "switcher_conversion": round(c.switcher_conversion, 4),
             "stayers": c.stayers, "stayer_conversion": round(c.stayer_conversion, 4),
             "pair": f"{a} -> {b}", "pair_people": c.pair_people, "target": c.target,
             "days": c.days},
            f"Carry people from {a} to {b} at {c.touchpoint}: switchers reach {c.target} "
            f"{c.switcher_conversion:.0%} against {c.stayer_conversion:.0%}",
        ))  # fmt: skip
    return out
