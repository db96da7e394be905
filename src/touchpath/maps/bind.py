"""Binding a map to data: every metric comes from an analysis of the registry, none is computed
here.

- reach, conversion to the goal and time to it per touchpoint: a `funnel` with the steps
  (touchpoint, goal);
- reach, conversion to the next stage and to the goal and drop-off per stage: `funnel` with
  (stage, next stage) and (stage, goal), where "a stage" is any touchpoint event of that stage
  or a later one (`reach_step`): a stage's reach is the people who reached it or a later stage,
  so reach never rises along the map (`words.STAGE_REACH` says so on it); the median time to
  the next stage: `funnel` from an event of the stage itself to one of the next (`stage_step`);
- persona versus everyone else: the same funnels broken down by membership of the persona's
  audience (`Breakdown(by="audience")`), so each funnel runs once for both groups;
- the flow between touchpoints and the median time to the next step: a `dfg` with one
  discovery stage per touchpoint, of the persona's audience when it has one;
- events the map names that the store has never seen: `missing_events`, so a map bound to
  the wrong store says so instead of showing zeros;
- NPS, CSAT and sentiment: `feedback`, through the adapter of `maps.feedback`;
- channel mix, population, repeated contacts and error pages: counts of the map's own events
  from one tagged pass (`maps.touches`).

The binder plans once for the whole map (`planner.copy_state`) and runs every analysis
against that one state, so funnels and the DFG read the sorted journey copy when it is usable
(`touchpath optimize`; `bind_map(..., optimize=True)` rebuilds a stale one first) and all of the
map's numbers come from one source. The funnels (about 40 on the demo map) run together
(`funnels.many`): one read of the copy gives every step condition's rows, identical funnels run
once, each is a compiled pass over that read, and one aggregate gives all their numbers, the
same as each funnel run alone; a funnel it cannot compute (a step on a property the copy does
not hold) runs alone. The other analyses run on a small thread pool beside them: DuckDB
releases the GIL, and each is one query.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from touchpath.analytics import journey, planner, registry
from touchpath.analytics.breakdown import NONE_VALUE, Breakdown
from touchpath.analytics.discovery import DFG, DfgResult, DfgSpec
from touchpath.analytics.discovery import Stage as DiscoveryStage
from touchpath.analytics.funnels import FunnelGroup, FunnelResult, FunnelSpec, FunnelStep
from touchpath.analytics.funnels.many import run_many
from touchpath.errors import NotFound
from touchpath.events.match import Condition, EventMatch, TimeRange
from touchpath.maps.bound import (
    BoundMap,
    BoundStage,
    BoundTouchpoint,
    Flow,
    Metrics,
    authored_emotion,
)
from touchpath.maps.decisions import with_decisions
from touchpath.maps.document import JourneyMap, Stage, Touchpoint
from touchpath.maps.feedback import MapFeedback, emotion, map_feedback
from touchpath.maps.journeys import with_journeys
from touchpath.maps.pain import find_pain_points
from touchpath.maps.touches import Touches, touches
from touchpath.maps.words import describe
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = ["CONTACT_DAYS", "bind_map", "missing_events", "reach_step", "stage_step"]

CONTACT_DAYS = 7
"""Two support contacts at most this many days apart are a repeated contact."""


def stage_step(stage: Stage) -> FunnelStep:
    """A funnel step met by any touchpoint event of `stage` (event names; conditions aside)."""
    names = sorted({t.match.event for t in stage.touchpoints})
    if len(names) == 1:
        return FunnelStep(event=names[0], name=stage.name)
    return FunnelStep(name=stage.name, where=(Condition(property="event", op="in", value=names),))


def reach_step(stages: list[Stage], i: int) -> FunnelStep:
    """A funnel step met by any touchpoint event of stage `i` or a later one: reaching it
    means reaching this stage or a later one (event names; conditions aside)."""
    names = sorted({t.match.event for s in stages[i:] for t in s.touchpoints})
    name = stages[i].name
    if len(names) == 1:
        return FunnelStep(event=names[0], name=name)
    return FunnelStep(name=name, where=(Condition(property="event", op="in", value=names),))


def missing_events(store: Store, doc: JourneyMap) -> list[str]:
    """The event names of `doc` (touchpoints and goal) that no event in the store has."""
    names = sorted({t.match.event for _, t in doc.touchpoints()} | (
        {doc.goal.event} if doc.goal is not None else set()
    ))  # fmt: skip
    if not names:
        return []
    marks = ", ".join("?" for _ in names)
    seen = {
        r[0]
        for r in store.query(
            f"SELECT DISTINCT event FROM events WHERE event IN ({marks})", list(names)
        )
    }
    return [n for n in names if n not in seen]


def _step(match: EventMatch, name: str) -> FunnelStep:
    return FunnelStep(name=name, **match.model_dump(exclude={"name"}))


# ------------------------------------------------------------------------------ binding
def _groups(result: FunnelResult | None, audience: str | None) -> dict[bool, FunnelGroup]:
    """The persona's group (True) and everyone else's (False, only with an audience)."""
    if result is None or not result.groups:
        return {}
    if audience is None:
        return {True: result.groups[0]}
    out: dict[bool, FunnelGroup] = {}
    for g in result.groups[1:]:
        if g.value == audience:
            out[True] = g
        elif g.value == NONE_VALUE:
            out[False] = g
    return out


def _share_of(counts: tuple[int, int] | None) -> float | None:
    return counts[1] / counts[0] if counts and counts[0] else None


def _median_hours(g: FunnelGroup | None) -> float | None:
    ttc = g.steps[1].time_from_previous if g else None
    return None if ttc is None or ttc.median_s is None else ttc.median_s / 3600


@dataclass(frozen=True)
class _Results:
    """What the analyses of one map returned, for building its stages and touchpoints."""

    funnels: dict[tuple[str, str], dict[bool, FunnelGroup]]
    dfg: DfgResult
    feedback: MapFeedback
    others_feedback: MapFeedback | None
    touches: Touches
    population: dict[bool, int]
    next_hours: dict[str, float]
    has_goal: bool

    def share(self, n: int, member: bool) -> float | None:
        return n / self.population[member] if self.population.get(member) else None

    def funnel(self, kind: str, name: str, member: bool) -> FunnelGroup | None:
        return self.funnels.get((kind, name), {}).get(member)

    def feedback_of(self, member: bool) -> MapFeedback | None:
        return self.feedback if member else self.others_feedback


def _copy_state(store: Store, doc: JourneyMap, optimize: bool) -> planner.CopyState:
    """The one source plan of the whole map; checks the persona's audience exists."""
    audience = doc.persona.audience
    with store.reading() as cur:
        if audience is not None:
            known = cur.execute("SELECT 1 FROM audiences WHERE name = ?", [audience]).fetchall()
            if not known:
                raise NotFound(f"persona.audience: no audience {audience!r}")
        state = planner.copy_state(cur, store.settings.journey_max_lag_seconds)
    if optimize and not state.usable:
        journey.optimize(store)
        state = planner.CopyState(True, None)
    return state


def _funnel_jobs(doc: JourneyMap) -> dict[tuple[str, str], list[FunnelStep]]:
    """The funnels of a map, keyed by (what it measures, touchpoint or stage name)."""
    goal = doc.goal
    stages = [s for s in doc.stages if s.touchpoints]
    jobs: dict[tuple[str, str], list[FunnelStep]] = {}
    for _s, t in doc.touchpoints():
        if goal is not None:
            jobs[("tp_goal", t.name)] = [_step(t.match, t.name), _step(goal, "goal")]
        else:  # without a goal the funnel gives the touchpoint's reach alone
            jobs[("tp_only", t.name)] = [_step(t.match, t.name), _step(t.match, t.name)]
    for i, s in enumerate(stages):
        if i + 1 < len(stages):
            jobs[("stage_next", s.name)] = [reach_step(stages, i), reach_step(stages, i + 1)]
            # the time from this very stage to the next (a later stage's event meets both
            # reach steps at once, so their funnel times say nothing)
            jobs[("stage_time", s.name)] = [stage_step(s), stage_step(stages[i + 1])]
        if goal is not None:
            jobs[("stage_goal", s.name)] = [reach_step(stages, i), _step(goal, "goal")]
        elif i + 1 == len(stages):  # the last stage with no goal: its reach alone
            jobs[("stage_only", s.name)] = [reach_step(stages, i), reach_step(stages, i)]
    return jobs


def _dfg_spec(doc: JourneyMap, time_range: TimeRange) -> DfgSpec:
    """The directly-follows graph of the map's touchpoints, of the persona's audience."""
    return DfgSpec(
        stages=tuple(
            DiscoveryStage(name=t.name, events=(EventMatch(**t.match.model_dump()),))
            for _, t in doc.touchpoints()
        ),
        time_range=time_range,
        collapse_repeats=True,
        audience=doc.persona.audience,
    )


def _run_all(
    store: Store,
    doc: JourneyMap,
    state: planner.CopyState,
    time_range: TimeRange,
    workers: int,
) -> _Results:
    """Every analysis of the map against one source plan, on a small thread pool."""
    audience = doc.persona.audience
    breakdown = Breakdown(by="audience", audiences=(audience,)) if audience else None

    def spec_of(steps: list[FunnelStep]) -> FunnelSpec:
        spec = FunnelSpec(steps=tuple(steps), window=doc.window, time_range=time_range)
        return spec.model_copy(update={"breakdown": breakdown}) if breakdown else spec

    def dfg_of(spec: DfgSpec) -> DfgResult:
        result: DfgResult = registry.run(store, spec, copy=state, names=False)  # type: ignore[assignment]
        return result

    dfg_spec = _dfg_spec(doc, time_range)
    copy = state.usable and DFG.copy(dfg_spec)

    def tagged() -> Touches:
        with store.reading() as cur:
            return touches(cur, doc, time_range, copy, audience, CONTACT_DAYS, store.memo)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # The slowest first, so the pool ends together.
        dfg_future: Future[DfgResult] | None = (
            pool.submit(dfg_of, dfg_spec) if doc.touchpoints() else None
        )
        fb_future = pool.submit(map_feedback, store, doc, time_range, audience, True)
        others_fb_future = (
            pool.submit(map_feedback, store, doc, time_range, audience, False)
            if audience is not None
            else None
        )
        touch_future = pool.submit(tagged)
        # The funnels in one pass over the sorted copy where they can (`funnels.many`), the
        # others one by one on the pool.
        jobs = _funnel_jobs(doc)
        specs = [spec_of(steps) for steps in jobs.values()]
        ran = run_many(store, specs, state, pool)
        funnels = {key: _groups(r, audience) for key, r in zip(jobs, ran, strict=True)}
        dfg = (
            dfg_future.result() if dfg_future else DfgResult(cases=0, events=0, nodes=[], edges=[])
        )
        fb = fb_future.result()
        others_fb = others_fb_future.result() if others_fb_future else None
        tagged_ = touch_future.result()
    members = (True, False) if audience else (True,)
    next_hours: dict[str, float] = {}
    for edge in dfg.edges:  # edges come most frequent first: the usual next step
        if edge.source != edge.target and edge.source not in next_hours:
            next_hours[edge.source] = edge.median_seconds / 3600
    return _Results(
        funnels=funnels,
        dfg=dfg,
        feedback=fb,
        others_feedback=others_fb,
        touches=tagged_,
        population={m: tagged_.population.get(m, 0) for m in members},
        next_hours=next_hours,
        has_goal=doc.goal is not None,
    )


def _tp_metrics(r: _Results, t: Touchpoint, member: bool) -> Metrics | None:
    """A touchpoint's numbers for the persona (`member`) or everyone else."""
    if member not in r.population:
        return None
    g = r.funnel("tp_goal", t.name, member) or r.funnel("tp_only", t.name, member)
    reach = g.steps[0].count if g else 0
    to_goal = g.steps[1].conversion if g and r.has_goal else None
    group_fb = r.feedback_of(member)
    f = group_fb.touchpoints.get(t.name) if group_fb else None
    return Metrics(
        reach=reach,
        share=r.share(reach, member),
        to_goal=to_goal,
        drop_off=None if to_goal is None else 1 - to_goal,
        median_hours_to_next=r.next_hours.get(t.name),
        channel_mix=r.touches.channel_mix.get((t.name, member), {}),
        nps=f.nps if f else None,
        csat=f.csat_avg if f else None,
        sentiment=f.sentiment_avg if f else None,
        feedback=f.responses if f else 0,
    )


def _stage_metrics(r: _Results, s: Stage, tps: list[Metrics], member: bool) -> Metrics | None:
    """A stage's numbers for the persona (`member`) or everyone else."""
    if member not in r.population:
        return None
    nxt = r.funnel("stage_next", s.name, member)
    to_goal_g = r.funnel("stage_goal", s.name, member)
    base = nxt or to_goal_g or r.funnel("stage_only", s.name, member)
    reach = base.steps[0].count if base else 0
    to_next = nxt.steps[1].conversion if nxt else None
    to_goal = to_goal_g.steps[1].conversion if to_goal_g and r.has_goal else None
    mix: dict[str, float] = {}
    total = sum(m.reach for m in tps) or 1
    for m in tps:
        for ch, v in m.channel_mix.items():
            mix[ch] = mix.get(ch, 0.0) + v * m.reach / total
    group_fb = r.feedback_of(member)
    sf = group_fb.stages.get(s.name) if group_fb else None
    return Metrics(
        reach=reach,
        share=r.share(reach, member),
        to_next=to_next,
        to_goal=to_goal,
        drop_off=None if to_next is None else 1 - to_next,
        median_hours_to_next=_median_hours(r.funnel("stage_time", s.name, member)),
        channel_mix=mix,
        nps=sf.nps if sf else None,
        csat=sf.csat_avg if sf else None,
        sentiment=sf.sentiment_avg if sf else None,
        feedback=sf.responses if sf else 0,
    )


def _bound_touchpoint(r: _Results, s: Stage, t: Touchpoint) -> BoundTouchpoint:
    emo = emotion(r.feedback.touchpoints.get(t.name))
    persona = _tp_metrics(r, t, True)
    assert persona is not None
    return BoundTouchpoint(
        name=t.name,
        stage=s.name,
        event=describe(t.match),
        channel=t.match.channel if isinstance(t.match.channel, str) else None,
        persona=persona,
        others=_tp_metrics(r, t, False),
        emotion=emo if emo is not None else authored_emotion(t.emotion),
        online_share=_share_of(r.touches.online.get(t.name)),
        emotion_source="data"
        if emo is not None
        else ("authored" if t.emotion is not None else None),
    )


def _bound_stage(r: _Results, s: Stage) -> BoundStage:
    tps = [_bound_touchpoint(r, s, t) for t in s.touchpoints]
    emos = [b.emotion for b in tps if b.emotion is not None]
    data_emos = [b.emotion for b in tps if b.emotion is not None and b.emotion_source == "data"]
    persona = _stage_metrics(r, s, [b.persona for b in tps], True)
    assert persona is not None
    return BoundStage(
        name=s.name,
        title=s.title,
        persona=persona,
        others=_stage_metrics(r, s, [b.others for b in tps if b.others], False),
        emotion=sum(emos) / len(emos) if emos else None,
        emotion_source=("data" if data_emos else "authored") if emos else None,
        touchpoints=tps,
    )


def _flows(doc: JourneyMap, dfg: DfgResult) -> list[Flow]:
    """The most frequent flows between two different touchpoints of the map (at most 60)."""
    names = {t.name for _, t in doc.touchpoints()}
    return [
        Flow(source=e.source, target=e.target, count=e.cases, median_hours=e.median_seconds / 3600)
        for e in dfg.edges
        if e.source in names and e.target in names and e.source != e.target
    ][:60]


def bind_map(
    store: Store,
    doc: JourneyMap,
    start: datetime | None = None,
    end: datetime | None = None,
    workers: int = 4,
    optimize: bool = False,
) -> BoundMap:
    """Bind `doc` to the events in [start, end): the numbers of every stage and touchpoint.

    `optimize` rebuilds the sorted journey copy first when it cannot be read (stale beyond
    `TOUCHPATH_JOURNEY_MAX_LAG_SECONDS`; about 0.5 s per 1M events), as `touchpath optimize`
    does; funnels and the DFG then stream over it. Every number of one map comes from the
    same source: the copy (as of `as_of` when it lags) or the log.
    """
    state = _copy_state(store, doc, optimize)
    missing = missing_events(store, doc)
    r = _run_all(store, doc, state, TimeRange(start=start, end=end), workers)
    pending: list[str] = []
    if doc.persona.audience is not None:
        pending.append("others: flows and times to the usual next step are the persona's only")
    stages = [s for s in doc.stages if s.touchpoints]
    goal_reach = None
    if doc.goal is not None and stages:
        first = r.funnel("stage_goal", stages[0].name, True)
        goal_reach = first.steps[1].count if first else None
    bm = BoundMap(
        map=doc,
        start=start,
        end=end,
        bound_at=utcnow(),
        as_of=state.as_of if state.usable else None,
        persona_size=r.population[True],
        others_size=r.population.get(False),
        goal_reach=goal_reach,
        stages=[_bound_stage(r, s) for s in doc.stages],
        flows=_flows(doc, r.dfg),
        pending=pending,
        missing_events=missing,
    )
    pains, opportunities = find_pain_points(bm, r.feedback.touchpoints, r.touches)
    bm = bm.model_copy(update={"pain_points": pains, "opportunities": opportunities})
    with store.reading() as cur:
        return with_decisions(cur, with_journeys(cur, bm))
