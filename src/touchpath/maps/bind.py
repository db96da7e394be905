"""Binding a map to data: every number comes from an analytics function, none is computed here.

- reach, conversion to the goal and time to it per touchpoint: `analytics.api.funnel` with the
  steps (touchpoint, goal);
- reach, conversion to the next stage and to the goal, drop-off and time to the next stage per
  stage: `funnel` with (stage, next stage) and (stage, goal), a stage being any of its
  touchpoints' events;
- the flow between touchpoints and the median time to the next step: `discovery.discover_dfg`
  with one discovery stage per touchpoint;
- channel mix and feedback (NPS, CSAT, sentiment of comments) per touchpoint: `maps.feedback`,
  until the analytics feedback function lands (see `pending` of the result).

The funnels run on a small thread pool: DuckDB releases the GIL, and each is one query.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from touchpath.analytics import api
from touchpath.analytics.common import Condition, EventMatch, TimeRange
from touchpath.analytics.discovery import DfgResult, DfgSpec, discover_dfg
from touchpath.analytics.discovery import Stage as DiscoveryStage
from touchpath.analytics.funnels import FunnelResult, FunnelSpec, FunnelStep
from touchpath.maps.bound import (
    BoundMap,
    BoundStage,
    BoundTouchpoint,
    Flow,
    Metrics,
    authored_emotion,
)
from touchpath.maps.document import JourneyMap, Stage
from touchpath.maps.feedback import Feedback, channel_mix, feedback
from touchpath.maps.pain import find_pain_points
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = ["bind_map", "stage_step"]


def stage_step(stage: Stage) -> FunnelStep:
    """A funnel step met by any touchpoint event of `stage` (event names; conditions aside)."""
    names = sorted({t.match.event for t in stage.touchpoints})
    if len(names) == 1:
        return FunnelStep(event=names[0], name=stage.name)
    return FunnelStep(name=stage.name, where=(Condition(property="event", op="in", value=names),))


def _step(match: EventMatch, name: str) -> FunnelStep:
    return FunnelStep(name=name, **match.model_dump(exclude={"name"}))


def _median_hours(result: FunnelResult) -> float | None:
    ttc = result.groups[0].steps[1].time_from_previous if result.groups else None
    return None if ttc is None or ttc.median_s is None else ttc.median_s / 3600


def _emotion(fb: Feedback | None) -> float | None:
    """-1..1 from feedback: the mean of the signals there are (NPS and CSAT rescaled)."""
    if fb is None or not fb.count:
        return None
    parts = []
    if fb.nps_score is not None:
        parts.append((fb.nps_score - 7.5) / 2.5)  # 0..10 around the passive band
    if fb.csat is not None:
        parts.append((fb.csat - 3.5) / 1.5)  # 1..5 around 3.5
    if fb.sentiment is not None:
        parts.append(fb.sentiment * 2)  # VADER compound of short comments sits near ±0.5
    if not parts:
        return None
    return max(-1.0, min(1.0, sum(parts) / len(parts)))


def bind_map(
    store: Store,
    doc: JourneyMap,
    start: datetime | None = None,
    end: datetime | None = None,
    workers: int = 4,
) -> BoundMap:
    """Bind `doc` to the events in [start, end): the numbers of every stage and touchpoint."""
    time_range = TimeRange(start=start, end=end)
    window = doc.window_days * 86400
    pending: list[str] = []
    if doc.persona.audience:
        pending.append(
            f"persona.audience {doc.persona.audience!r}: audience breakdowns are not available "
            "in the analytics functions yet; numbers cover everyone"
        )
    goal = doc.goal
    stages = [s for s in doc.stages if s.touchpoints]

    def run(steps: list[FunnelStep]) -> FunnelResult:
        spec = FunnelSpec(steps=tuple(steps), window=window, time_range=time_range)
        return api.funnel(store, spec)

    jobs: dict[tuple[str, str], list[FunnelStep]] = {}
    for _s, t in doc.touchpoints():
        if goal is not None:
            jobs[("tp_goal", t.name)] = [_step(t.match, t.name), _step(goal, "goal")]
        else:  # without a goal, a touchpoint's conversion is to the next stage
            jobs[("tp_only", t.name)] = [_step(t.match, t.name), _step(t.match, t.name)]
    for i, s in enumerate(stages):
        if i + 1 < len(stages):
            jobs[("stage_next", s.name)] = [stage_step(s), stage_step(stages[i + 1])]
        if goal is not None:
            jobs[("stage_goal", s.name)] = [stage_step(s), _step(goal, "goal")]
    dfg_spec = DfgSpec(
        stages=tuple(
            DiscoveryStage(name=t.name, events=(EventMatch(**t.match.model_dump()),))
            for _, t in doc.touchpoints()
        ),
        time_range=time_range,
        collapse_repeats=True,
    )
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {key: pool.submit(run, steps) for key, steps in jobs.items()}
        dfg_future = pool.submit(discover_dfg, store, dfg_spec) if doc.touchpoints() else None
        fb_future = pool.submit(feedback, store, doc, time_range)
        mix_future = pool.submit(channel_mix, store, doc, time_range)
        results = {key: f.result() for key, f in futures.items()}
        dfg = (
            dfg_future.result() if dfg_future else DfgResult(cases=0, events=0, nodes=[], edges=[])
        )
        fb = fb_future.result()
        mix = mix_future.result()

    population = int(
        store.query(
            "SELECT count(DISTINCT profile_id) FROM resolved_events WHERE type IN "
            f"('track', 'page', 'screen') AND {time_range.condition().sql('duckdb')}"
        )[0][0]
    )

    def share(n: int) -> float | None:
        return n / population if population else None

    next_hours: dict[str, float] = {}
    for edge in dfg.edges:  # edges come most frequent first: the usual next step
        if edge.source != edge.target and edge.source not in next_hours:
            next_hours[edge.source] = edge.median_seconds / 3600

    bound_stages: list[BoundStage] = []
    for s in doc.stages:
        tps: list[BoundTouchpoint] = []
        for t in s.touchpoints:
            r = results.get(("tp_goal", t.name)) or results[("tp_only", t.name)]
            g = r.groups[0] if r.groups else None
            reach = g.steps[0].count if g else 0
            to_goal = g.steps[1].conversion if g and goal is not None else None
            f = fb.get(t.name)
            emo = _emotion(f)
            tps.append(
                BoundTouchpoint(
                    name=t.name,
                    stage=s.name,
                    event=t.match.label(),
                    channel=t.match.channel if isinstance(t.match.channel, str) else None,
                    persona=Metrics(
                        reach=reach,
                        share=share(reach),
                        to_goal=to_goal,
                        drop_off=None if to_goal is None else 1 - to_goal,
                        median_hours_to_next=next_hours.get(t.name),
                        channel_mix=mix.get(t.name, {}),
                        nps=f.nps if f else None,
                        csat=f.csat if f else None,
                        sentiment=f.sentiment if f else None,
                        feedback=f.count if f else 0,
                    ),
                    emotion=emo if emo is not None else authored_emotion(t.emotion),
                    emotion_source="data"
                    if emo is not None
                    else ("authored" if t.emotion is not None else None),
                )
            )
        nxt = results.get(("stage_next", s.name))
        to_goal_r = results.get(("stage_goal", s.name))
        base = nxt or to_goal_r
        reach = base.groups[0].steps[0].count if base and base.groups else 0
        to_next = nxt.groups[0].steps[1].conversion if nxt and nxt.groups else None
        to_goal = (
            to_goal_r.groups[0].steps[1].conversion if to_goal_r and to_goal_r.groups else None
        )
        stage_mix: dict[str, float] = {}
        total_reach = sum(b.persona.reach for b in tps) or 1
        for b in tps:
            for ch, v in b.persona.channel_mix.items():
                stage_mix[ch] = stage_mix.get(ch, 0.0) + v * b.persona.reach / total_reach
        sf = fb.get("stage:" + s.name)
        emos = [b.emotion for b in tps if b.emotion is not None]
        data_emos = [b.emotion for b in tps if b.emotion is not None and b.emotion_source == "data"]
        bound_stages.append(
            BoundStage(
                name=s.name,
                title=s.title,
                persona=Metrics(
                    reach=reach,
                    share=share(reach),
                    to_next=to_next,
                    to_goal=to_goal,
                    drop_off=None if to_next is None else 1 - to_next,
                    median_hours_to_next=_median_hours(nxt) if nxt else None,
                    channel_mix=stage_mix,
                    nps=sf.nps if sf else None,
                    csat=sf.csat if sf else None,
                    sentiment=sf.sentiment if sf else None,
                    feedback=sf.count if sf else 0,
                ),
                emotion=sum(emos) / len(emos) if emos else None,
                emotion_source=("data" if data_emos else "authored") if emos else None,
                touchpoints=tps,
            )
        )
    names = {t.name for _, t in doc.touchpoints()}
    flows = [
        Flow(
            source=e.source,
            target=e.target,
            count=e.cases,
            median_hours=e.median_seconds / 3600,
        )
        for e in dfg.edges
        if e.source in names and e.target in names and e.source != e.target
    ][:60]
    goal_reach = None
    if goal is not None and stages:
        last = results.get(("stage_goal", stages[0].name))
        goal_reach = last.groups[0].steps[1].count if last and last.groups else None
    bm = BoundMap(
        map=doc,
        start=start,
        end=end,
        bound_at=utcnow(),
        persona_size=population,
        goal_reach=goal_reach,
        stages=bound_stages,
        flows=flows,
        pending=pending,
    )
    pains, opportunities = find_pain_points(bm, fb)
    return bm.model_copy(update={"pain_points": pains, "opportunities": opportunities})
