"""The living demo's planted timing and fatigue effects, measured through the product (issue #18):
quiet hours lift the click rate of a journey that sends at night by about the planted night
factor, and a frequency cap cuts the messages a person gets and, with them, the fatigue that
lowers clicks and raises unsubscribes.

Each test runs the same journey twice on the same simulated people (two stores, one seed: the
same arrivals, and each message's reaction drawn from its own stream), once without the policy
and once with it, and compares what came back as events (Message Clicked, Unsubscribed) with
what the planted facts (`touchpath.demo.facts.LIVE_REACTIONS`) predict for the messages the
receivers actually got. Tolerances come from the sample sizes (binomial standard errors at
z = 3.29, a two-sided 0.1 % chance of a false alarm), not from tuning.
"""

from __future__ import annotations

import math
import os
import resource
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from live_helpers import LiveWorld
from touchpath.demo.facts import LIVE_REACTIONS
from touchpath.destinations import api as destinations

Z = 3.29
"""Two-sided 0.1 %: a correct product fails a check this wide about once in a thousand seeds."""

SEED = 11
RATE = 160.0
"""New people per simulated hour, for one hour: about 90 of them sign up and get messages."""

TEMPLATE = {
    "channel": "sms",
    "fields": {
        "body": "Hi {{ traits.first_name }}, new in: https://shop.example/new - stop: "
        "{{ unsubscribe_url }}"
    },
    "defaults": {"traits.first_name": "there"},
}

NIGHT = """\
version: 1
name: night-news
entry: {kind: event, event: {event: Signed Up}}
nodes:
  evening: {kind: wait_until, at: "23:00", next: sms}
  sms: {kind: send, destination: demo-sms, template: live-news}
"""

NAG = """\
version: 1
name: nag
entry: {kind: event, event: {event: Signed Up}}
nodes:
  morning: {kind: wait_until, at: "10:00", next: first}
  first: {kind: send, destination: demo-sms, template: live-news, next: w1}
  w1: {kind: wait, duration: 3h, next: second}
  second: {kind: send, destination: demo-sms, template: live-news, next: w2}
  w2: {kind: wait, duration: 3h, next: third}
  third: {kind: send, destination: demo-sms, template: live-news}
"""


def _run(path: Path, journey: str, policy: dict[str, Any], hours: float) -> dict[str, Any]:
    """One arm: an hour of arrivals (then the doors close), the journey published before them,
    the clock run `hours` on; returns each SMS the receiver got with what came back."""
    w = LiveWorld(path, rate=RATE, seed=SEED)
    cpu = _cpu()
    try:
        destinations.put_policy(w.store, policy)
        api = w.api
        assert api.put("/api/destinations/templates/live-news", json=TEMPLATE).status_code == 200
        assert api.post("/api/journeys", json={"yaml": journey}).status_code == 201
        name = journey.split("name: ")[1].split("\n")[0]
        assert api.post(f"/api/journeys/{name}/publish", json={}).status_code == 200
        w.run(hours=1, step_minutes=20)
        w.business.rate = 0  # type: ignore[union-attr]
        w.run(hours=hours, step_minutes=60)
        return _observed(w)
    finally:
        w.close()
        print(f"{path.name}: {_cpu() - cpu:.1f} CPU-s, load {os.getloadavg()[0]:.1f}")


def _cpu() -> float:
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _observed(w: LiveWorld) -> dict[str, Any]:
    """The SMS the receiver got (message id, phone), when the person got each (the clock's
    time) in their zone, and the reactions the event log holds for them."""
    # a message delivered again (its send timed out on a loaded machine, so the outbox tried
    # again: at least once) is one message, answered once: the first delivery stands for it
    first: dict[str, Any] = {}
    for r in w.received:
        if r.kind == "sms":
            first.setdefault(r.headers["i-twilio-idempotency-token"], r)
    ids, got = list(first), list(first.values())
    answered = w.count("SELECT count(*) FROM demo_live_messages WHERE channel = 'sms'")
    assert answered == len(ids)
    rows = w.store.query(  # when the person got it (the clock's time), and their zone
        "SELECT o.id, o.node, m.received_at, t.value ->> '$' FROM outbox o "
        "JOIN demo_live_messages m ON m.message_id = o.id "
        "LEFT JOIN profile_traits t ON t.profile_id = o.profile_id AND t.name = 'timezone' "
        "WHERE o.id IN (SELECT unnest(?))",
        [sorted(set(ids))],
    )
    info = {i: (node, at, tz) for i, node, at, tz in rows}
    back = w.store.query(
        "SELECT event, properties ->> 'message_id', count(*) FROM events "
        "WHERE event IN ('Message Clicked', 'Unsubscribed') GROUP BY ALL"
    )
    reacted: dict[str, set[str]] = defaultdict(set)
    for event, mid, _ in back:
        reacted[event].add(mid)
    messages = []
    for r, mid in zip(got, ids, strict=True):
        node, at, tz = info[mid]
        local = at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz))
        messages.append({"id": mid, "to": r.data["To"], "node": node, "at": at,
                         "hour": local.hour, "day": local.date(),
                         "clicked": mid in reacted["Message Clicked"],
                         "unsubscribed": mid in reacted["Unsubscribed"]})  # fmt: skip
    deferred = w.count(
        "SELECT count(*) FROM outbox_attempts WHERE outcome = 'deferred'"
    )  # quiet hours
    refused = dict(w.store.query("SELECT node, count(*) FROM outbox WHERE state = 'refused' "
                                 "GROUP BY 1"))  # fmt: skip
    return {"messages": messages, "deferred": deferred, "refused": refused}


def _night(hour: int) -> bool:
    start, end = LIVE_REACTIONS.night
    return hour >= start or hour < end


def _rate(ms: list[dict[str, Any]], key: str = "clicked") -> tuple[float, int]:
    return sum(m[key] for m in ms) / len(ms), len(ms)


def test_quiet_hours_lift_clicks_by_the_planted_night_factor(tmp_path: Path) -> None:
    night = _run(tmp_path / "night", NIGHT, {}, hours=34)
    quiet = _run(tmp_path / "quiet", NIGHT, {"quiet_hours": {"channels": ["sms"]}}, hours=34)
    n_ms, q_ms = night["messages"], quiet["messages"]
    # the journey sent at night in each person's zone; quiet hours held it to the morning
    assert n_ms and all(_night(m["hour"]) for m in n_ms)
    assert q_ms and not any(_night(m["hour"]) for m in q_ms)
    assert quiet["deferred"] >= len(q_ms) and night["deferred"] == 0

    p_night, n1 = _rate(n_ms)
    p_quiet, n2 = _rate(q_ms)
    # the planted chances for these messages: fresh (nothing else sent), sms, no template word
    click = LIVE_REACTIONS.click["sms"]
    factor = LIVE_REACTIONS.night_factor
    # the click rate is higher with quiet hours ...
    se_diff = math.sqrt(p_night * (1 - p_night) / n1 + p_quiet * (1 - p_quiet) / n2)
    print(f"night {p_night:.3f} (n={n1}), quiet {p_quiet:.3f} (n={n2}), planted "
          f"{click * factor:.3f} and {click:.3f}")  # fmt: skip
    assert p_quiet - p_night > Z * se_diff
    # ... by about the planted factor: the measured night/day ratio, on the log scale with the
    # delta method's standard error (the arms share their draws, so this is conservative)
    ratio = p_night / p_quiet
    se_log = math.sqrt((1 - p_night) / (n1 * p_night) + (1 - p_quiet) / (n2 * p_quiet))
    print(f"ratio {ratio:.3f}, planted {factor}, +- {Z * se_log:.3f} on the log scale")
    assert abs(math.log(ratio) - math.log(factor)) <= Z * se_log
    # and each arm's rate is the planted one for its hours
    for p, n, truth in ((p_night, n1, click * factor), (p_quiet, n2, click)):
        assert abs(p - truth) <= Z * math.sqrt(truth * (1 - truth) / n), (p, n, truth)


def _planted(ms: list[dict[str, Any]]) -> list[tuple[dict[str, Any], float, float]]:
    """Each message with its planted click and unsubscribe chances, from what the person had
    got in the fatigue window before it (as the receiver saw it) and its local hour."""
    f = LIVE_REACTIONS
    by_person: dict[str, list[datetime]] = defaultdict(list)
    out = []
    for m in sorted(ms, key=lambda m: (m["at"], m["id"])):
        before = by_person[m["to"]]
        k = sum(1 for t in before if (m["at"] - t).total_seconds() < f.fatigue_window)
        p = f.click["sms"] * (f.night_factor if _night(m["hour"]) else 1.0) * f.fatigue**k
        out.append((m, p, (1 - p) * (f.unsubscribe + f.unsubscribe_per_recent * k)))
        before.append(m["at"])
    return out


def _check_planted(arm: dict[str, Any]) -> dict[str, float]:
    """Clicks and unsubscribes against the sums of the planted chances (binomial variances)."""
    planted = _planted(arm["messages"])
    out: dict[str, float] = {"messages": len(planted)}
    for i, key in ((1, "clicked"), (2, "unsubscribed")):
        seen = sum(m[key] for m, *_ in planted)
        ps = [x[i] for x in planted]
        expected, var = sum(ps), sum(p * (1 - p) for p in ps)
        print(
            f"{key}: {seen} of {len(planted)}, planted {expected:.1f} +- {Z * math.sqrt(var):.1f}"
        )
        assert abs(seen - expected) <= Z * math.sqrt(var) + 0.5, (key, seen, expected)
        out[key] = seen
        out[f"{key}_planted"] = expected
    return out


def test_caps_cut_fatigue_as_planted(tmp_path: Path) -> None:
    free = _run(tmp_path / "free", NAG, {}, hours=20)
    capped = _run(tmp_path / "capped", NAG, {"caps": {"sms": 1}}, hours=20)
    people = {m["to"] for m in free["messages"]}
    assert people == {m["to"] for m in capped["messages"]}  # the same people reached
    # with the cap, each person gets one SMS a day (the next two are refused)
    per_day: dict[tuple[str, Any], int] = defaultdict(int)
    for m in capped["messages"]:
        per_day[(m["to"], m["day"])] += 1
    assert set(per_day.values()) == {1} and len(per_day) == len(people)
    assert capped["refused"].get("second", 0) + capped["refused"].get("third", 0) > 0
    # without it, nearly three (a person who unsubscribed gets no more)
    assert len(free["messages"]) > 2.5 * len(people)

    f, c = _check_planted(free), _check_planted(capped)
    # fewer messages, each more likely to bring the person back: the per-message click rate is
    # higher with the cap, and unsubscribes fall
    p_free, p_cap = f["clicked"] / f["messages"], c["clicked"] / c["messages"]
    print(
        f"per message: free {p_free:.3f} (n={f['messages']:g}), capped {p_cap:.3f} "
        f"(n={c['messages']:g}); unsubscribed {f['unsubscribed']:g} and {c['unsubscribed']:g}"
    )
    assert p_cap > p_free and c["unsubscribed"] < f["unsubscribed"]
    # the difference is fatigue, beyond its standard error: without the cap, a message that
    # follows others within the window brings fewer people back than a fresh one (the capped
    # arm's messages are those fresh ones: the same messages, answered with the same draws)
    fresh = [m for m in free["messages"] if m["node"] == "first"]
    tired = [m for m in free["messages"] if m["node"] != "first"]
    (p0, n0), (p1, n1) = _rate(fresh), _rate(tired)
    se = math.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
    print(f"fresh {p0:.3f} (n={n0}), after others {p1:.3f} (n={n1}), +- {Z * se:.3f}")
    assert p0 - p1 > Z * se
