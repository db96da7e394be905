"""The demo business: deterministic, Segment-shaped, and its planted facts are in the data.

The facts are measured here from the messages alone, with the definitions docs/demo.md gives,
and must agree with the stated sizes and with what the generator's own meter reported.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from touchpath.demo import DemoBusiness, DemoConfig, GroundTruth

Message = dict[str, Any]
DAY, HOUR = 86_400.0, 3_600.0
SITE = "https://www.northwind-outfitters.example"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TAXONOMY = {
    "page": {"Home", "Product", "Category", "Cart", "Checkout", "Help"},
    "screen": {"Home", "Product", "Category", "Cart", "Checkout", "Help"},
    "track": {
        "Application Opened",
        "Product Viewed",
        "Product Added",
        "Cart Viewed",
        "Checkout Started",
        "Payment Info Entered",
        "Order Completed",
        "Signed Up",
        "Signed In",
        "Email Delivered",
        "Email Opened",
        "Email Link Clicked",
        "SMS Delivered",
        "SMS Link Clicked",
        "Push Delivered",
        "Push Opened",
        "Ticket Created",
        "Ticket Resolved",
        "Chat Started",
        "Chat Ended",
        "NPS Survey Completed",
        "CSAT Survey Completed",
        "Review Submitted",
        "Order Delivered",
        # the abandoned-cart journey's past runs (touchpath.demo.reminders)
        "Journey Entered",
        "Journey Step Reached",
        "Journey Exited",
        "Experiment Viewed",
        "Message Sent",
        "Message Clicked",
    },
}


class Feed:
    """One generated feed, indexed the way an analyst would: per person, in time order."""

    def __init__(self, config: DemoConfig) -> None:
        business = DemoBusiness(config)
        self.messages: list[Message] = [m for batch in business.batches(500) for m in batch]
        self.truth = business.truth()
        self.end = datetime.fromisoformat(self.truth.period_end).timestamp()
        self.valid = [m for m in self.messages if not is_invalid(m)]
        junk = set(self.truth.junk_identifiers)
        self.traits: dict[str, dict[str, Any]] = {}
        for m in self.valid:
            if m["type"] == "identify" and m.get("userId") not in junk and "userId" in m:
                self.traits.setdefault(m["userId"], {}).update(m["traits"])
        loyalty = {t["loyalty_id"]: uid for uid, t in self.traits.items() if "loyalty_id" in t}
        self.orders: dict[str, list[float]] = defaultdict(list)
        self.by_person: dict[str, list[tuple[float, Message]]] = defaultdict(list)
        for m in self.valid:
            who = self.person(m, loyalty)
            if who is None:
                continue
            ts = seconds(m["timestamp"])
            self.by_person[who].append((ts, m))
            if m.get("event") == "Order Completed":
                self.orders[who].append(ts)

    def person(self, m: Message, loyalty: dict[str, str]) -> str | None:
        """The true person: userId, else the till's loyalty card, else the ground truth map."""
        uid = m.get("userId")
        device = m.get("context", {}).get("device", {}).get("id")
        if (
            uid
            and uid not in self.truth.junk_identifiers
            and device not in self.truth.shared_devices
        ):
            return str(uid)
        for ext in m.get("context", {}).get("externalIds", ()):
            if ext["type"] == "loyalty_id":
                return loyalty.get(ext["id"])
        return self.truth.person_of.get(m.get("anonymousId", ""))

    def ordered_within(self, who: str, start: float, seconds_: float) -> bool:
        times = self.orders.get(who, [])
        i = bisect.bisect_right(times, start)
        return i < len(times) and times[i] <= start + seconds_


def is_invalid(m: Message) -> bool:
    return (m["type"] == "track" and "event" not in m) or not (
        m.get("userId") or m.get("anonymousId")
    )


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


@pytest.fixture(scope="module")
def feed() -> Feed:
    return Feed(DemoConfig(customers=5000))


def count(config: DemoConfig) -> int:
    return sum(len(batch) for batch in DemoBusiness(config).batches(1000))


# ---- determinism and size -------------------------------------------------------------


def first_batches(seed: int, n: int = 3) -> list[list[Message]]:
    batches = DemoBusiness(DemoConfig(customers=300, seed=seed)).batches(200)
    return [next(batches) for _ in range(n)]


def test_same_seed_gives_identical_messages_and_another_seed_does_not() -> None:
    assert first_batches(3) == first_batches(3)
    assert first_batches(3) != first_batches(4)


def test_truth_without_reading_the_feed_equals_truth_after_reading_it() -> None:
    config = DemoConfig(customers=200, days=30, seed=5)
    read = DemoBusiness(config)
    for _ in read.batches():
        pass
    assert DemoBusiness(config).truth() == read.truth()


def test_size_scales_linearly_with_customers(feed: Feed) -> None:
    small = count(DemoConfig(customers=500))
    per_customer_small = small / 500
    per_customer_large = len(feed.messages) / 5000
    # the default (20,000 customers) lands in 0.8M-1.3M messages
    assert 40 <= per_customer_small <= 65
    assert 40 <= per_customer_large <= 65
    assert abs(per_customer_small / per_customer_large - 1) < 0.12
    assert count(DemoConfig(customers=500, days=30)) < small * 0.5


def test_messages_share_no_objects_so_consumers_may_mutate_them() -> None:
    seen: set[int] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict | list):
            assert id(value) not in seen, value
            seen.add(id(value))
            for item in value.values() if isinstance(value, dict) else value:
                walk(item)

    messages = [m for b in DemoBusiness(DemoConfig(customers=300, days=30)).batches() for m in b]
    for m in messages:
        walk(m)


def test_batches_have_the_requested_size() -> None:
    sizes = [len(b) for b in DemoBusiness(DemoConfig(customers=100, days=20)).batches(250)]
    assert sizes[:-1] == [250] * (len(sizes) - 1) and 0 < sizes[-1] <= 250


# ---- shape ---------------------------------------------------------------------------


def test_every_message_is_a_segment_message(feed: Feed) -> None:
    start = seconds(feed.truth.period_start)
    ids = set()
    previous = 0.0
    invalid = 0
    for m in feed.messages:
        assert m["type"] in TAXONOMY or m["type"] == "identify", m
        assert ISO.match(m["timestamp"]), m["timestamp"]
        ts = seconds(m["timestamp"])
        assert start <= ts < feed.end and ts >= previous  # in the period, in time order
        previous = ts
        assert m["messageId"] not in ids
        ids.add(m["messageId"])
        assert isinstance(m["context"]["library"]["name"], str)
        if is_invalid(m):
            invalid += 1
            continue
        if m["type"] == "track":
            assert m["event"] in TAXONOMY["track"], m["event"]
            assert isinstance(m["properties"], dict)
        elif m["type"] in ("page", "screen"):
            assert m["name"] in TAXONOMY[m["type"]], m["name"]
        else:
            assert isinstance(m["traits"], dict)
    assert invalid == feed.truth.invalid_messages
    assert 0.0004 < invalid / len(feed.messages) < 0.002
    assert len(feed.messages) == feed.truth.events


def test_every_documented_event_occurs(feed: Feed) -> None:
    seen = {(m["type"], m.get("event") or m.get("name")) for m in feed.valid}
    for typ, names in TAXONOMY.items():
        for name in names:
            assert (typ, name) in seen, (typ, name)


def test_channels_look_like_the_real_sources(feed: Feed) -> None:
    libraries = defaultdict(set)
    for m in feed.valid:
        libraries[m["context"]["library"]["name"]].add(m.get("event") or m.get("name"))
        ctx = m["context"]
        if m.get("event") in ("Email Delivered", "SMS Delivered", "Push Opened"):
            assert ctx["library"]["name"] == "touchpath-messaging"
            assert m["properties"]["campaign_name"]
        if m.get("event") == "Order Completed" and m["properties"].get("channel") == "store":
            assert ctx["library"]["name"] == "pos" and "userId" not in m
            assert ctx["externalIds"][0]["type"] == "loyalty_id"
        if m.get("event") in ("Ticket Created", "Ticket Resolved"):
            assert m["properties"]["channel"] == "support"
        if ctx["library"]["name"] == "analytics.js":
            assert {"url", "path", "referrer", "title"} <= set(ctx["page"])
            assert ctx["userAgent"] and ctx["ip"] and ctx["timezone"]
        if ctx["library"]["name"] in ("analytics-ios", "analytics-android"):
            assert ctx["device"]["type"] in ("ios", "android") and ctx["device"]["id"]
            assert ctx["app"]["name"] == "Northwind"
    assert {"analytics.js", "analytics-ios", "analytics-android", "pos"} <= set(libraries)
    mediums = {m["context"]["campaign"]["medium"] for m in feed.valid if "campaign" in m["context"]}
    assert mediums == {"cpc", "paid_social", "email", "sms", "push"}


def test_order_values_are_believable(feed: Feed) -> None:
    revenue = sorted(
        m["properties"]["revenue"] for m in feed.valid if m.get("event") == "Order Completed"
    )
    median = revenue[len(revenue) // 2]
    assert 40 <= median <= 120
    assert revenue[int(len(revenue) * 0.9)] < 320
    assert all(r > 0 for r in revenue)


# ---- identity truth ------------------------------------------------------------------


def test_person_of_covers_every_identifier_a_customer_used(feed: Feed) -> None:
    truth = feed.truth
    junk = set(truth.junk_identifiers)
    shared_ids = set(truth.shared_identifiers)
    users_of: dict[str, set[str]] = defaultdict(set)
    for m in feed.valid:
        uid = m.get("userId")
        for key in (m.get("anonymousId"), m.get("context", {}).get("device", {}).get("id")):
            if key and uid and uid not in junk:
                users_of[key].add(uid)
    for key, users in users_of.items():
        if key in shared_ids:
            assert len(users) <= 2 and key not in truth.person_of
            continue
        assert users == {truth.person_of[key]}, key
    store = [m for m in feed.valid if m["context"]["library"]["name"] == "pos"]
    for m in store:
        owner = truth.loyalty_of[m["context"]["externalIds"][0]["id"]]
        assert truth.person_of[m["anonymousId"]] == owner
    assert set(truth.shared_devices) <= shared_ids
    assert any(len(users_of[d]) == 2 for d in truth.shared_devices)


def test_cross_device_and_junk_identities_are_present(feed: Feed) -> None:
    truth = feed.truth
    platforms: dict[str, set[bool]] = defaultdict(set)
    sdks = ("analytics.js", "analytics-ios", "analytics-android")
    for m in feed.valid:
        if m.get("userId", "").startswith("u_") and m["context"]["library"]["name"] in sdks:
            platforms[m["userId"]].add("device" in m["context"])
    assert sum(len(p) == 2 for p in platforms.values()) > 0.2 * truth.customers  # web and app
    ids_per_person: dict[str, set[str]] = defaultdict(set)
    for key, uid in truth.person_of.items():
        ids_per_person[uid].add(key)
    assert sum(len(v) >= 3 for v in ids_per_person.values()) > 0.5 * truth.customers
    assert {"null", "anonymous"} <= set(truth.junk_identifiers)
    identifies = [m for m in feed.valid if m["type"] == "identify"]
    assert any(m.get("userId") in truth.junk_identifiers for m in identifies)
    assert any(m["traits"].get("email") in truth.junk_identifiers for m in identifies)


def test_every_customer_has_an_email_of_their_own(feed: Feed) -> None:
    # namesakes (same first and last name and number) get distinct addresses: at 185,000
    # customers shared ones joined thousands of strangers' profiles
    emails = {uid: t["email"] for uid, t in feed.traits.items() if uid.startswith("u_")}
    assert len(emails) > 0.7 * feed.truth.customers
    assert len(set(emails.values())) == len(emails)


def test_ground_truth_round_trips_through_json(feed: Feed) -> None:
    again = GroundTruth.from_json(feed.truth.to_json())
    assert again == feed.truth
    assert GroundTruth.from_json(feed.truth.to_json().decode()) == feed.truth
    assert {
        "app_checkout_dropoff",
        "slow_support",
        "sms_cart_reminder",
        "paid_social_attribution",
    } <= set(again.facts)


# ---- planted facts, measured from the messages ---------------------------------------


def test_app_checkout_loses_twice_the_share_web_does(feed: Feed) -> None:
    started = {False: 0, True: 0}
    dropped = {False: 0, True: 0}
    for who, events in feed.by_person.items():
        for ts, m in events:
            if m.get("event") != "Checkout Started" or ts + DAY > feed.end:
                continue
            on_app = "device" in m["context"]
            started[on_app] += 1
            dropped[on_app] += not feed.ordered_within(who, ts, DAY)
    web, app = share(dropped[False], started[False]), share(dropped[True], started[True])
    assert 0.18 <= web <= 0.30 and 0.40 <= app <= 0.56
    assert 1.6 <= app / web <= 2.5
    fact = feed.truth.facts["app_checkout_dropoff"]
    assert fact["web_drop"] == pytest.approx(web, abs=0.01)
    assert fact["app_drop"] == pytest.approx(app, abs=0.01)


def test_slow_support_sours_feedback_and_halves_orders(feed: Feed) -> None:
    resolved: dict[str, tuple[str, float, bool]] = {}
    orders = {True: [0, 0], False: [0, 0]}
    for who, events in feed.by_person.items():
        for ts, m in events:
            if m.get("event") != "Ticket Resolved":
                continue
            slow = m["properties"]["wait_hours"] > 24
            resolved[m["properties"]["ticket_id"]] = (who, ts, slow)
            if ts + 30 * DAY <= feed.end:
                orders[slow][0] += 1
                orders[slow][1] += sum(ts < t <= ts + 30 * DAY for t in feed.orders.get(who, []))
    slow_rate, fast_rate = (share(orders[k][1], orders[k][0]) for k in (True, False))
    assert orders[True][0] >= 40 and orders[False][0] >= 100
    assert 0.2 <= slow_rate / fast_rate <= 0.8  # about half; 5,000 customers are a small sample
    csat: dict[bool, list[int]] = {True: [], False: []}
    nps: dict[bool, list[int]] = {True: [], False: []}
    for m in feed.valid:
        props = m.get("properties", {})
        if props.get("touchpoint") == "support" and props.get("ticket_id") in resolved:
            slow = resolved[props["ticket_id"]][2]
            (csat if m["event"] == "CSAT Survey Completed" else nps)[slow].append(props["score"])
    assert sum(csat[True]) / len(csat[True]) < 2.3 < 3.9 < sum(csat[False]) / len(csat[False])
    assert sum(s <= 6 for s in nps[True]) / len(nps[True]) > 0.75
    assert sum(s <= 6 for s in nps[False]) / len(nps[False]) < 0.35
    fact = feed.truth.facts["slow_support"]
    assert fact["order_rate_ratio"] == pytest.approx(slow_rate / fast_rate, abs=0.02)


def test_sms_cart_reminder_lifts_conversion(feed: Feed) -> None:
    """The abandoned-cart journey ran in the history: each person at their first split, by
    arm, ordered within 3 days as planted (0.298 reminded, 0.172 held out)."""
    first: dict[str, tuple[float, str]] = {}
    arms: dict[tuple[str, str], str] = {}
    sent: set[tuple[str, str, str]] = set()
    for who, events in feed.by_person.items():
        for ts, m in events:
            props = m.get("properties", {})
            if m.get("event") == "Experiment Viewed":
                assert props["experiment_id"] == "journey:abandoned-cart:holdout"
                assert feed.traits[who].get("sms_opt_in") is True  # the branch before it
                first.setdefault(who, (ts, props["variation_id"]))
                arms[(who, props["entry_key"])] = props["variation_id"]
            elif m.get("event") == "Message Sent" and props["journey"] == "abandoned-cart":
                sent.add((who, props["entry_key"], props["channel"]))
    # Only the reminded get messages: an SMS each, and an email when no order came in a day.
    assert {(w, k) for w, k, _ in sent} == {k for k, arm in arms.items() if arm == "remind"}
    assert {ch for _, _, ch in sent} == {"sms", "email"}
    groups = {"remind": [0, 0], "holdout": [0, 0]}
    for who, (ts, arm) in first.items():
        if ts + 3 * DAY > feed.end:
            continue
        groups[arm][0] += 1
        groups[arm][1] += feed.ordered_within(who, ts - 1e-3, 3 * DAY)
    n_remind, n_held = groups["remind"][0], groups["holdout"][0]
    assert 0.75 < n_remind / (n_remind + n_held) < 0.85  # the split's 80/20
    remind, held = (share(groups[g][1], groups[g][0]) for g in ("remind", "holdout"))
    assert remind == pytest.approx(0.298, abs=0.05) and held == pytest.approx(0.172, abs=0.06)
    fact = feed.truth.facts["sms_cart_reminder"]
    assert (fact["remind_people"], fact["holdout_people"]) == (n_remind, n_held)
    assert fact["remind_conversion"] == pytest.approx(remind, abs=0.01)
    assert fact["holdout_conversion"] == pytest.approx(held, abs=0.01)


def touch_channel(m: Message) -> str | None:
    """The channel of a session's first touch (docs/demo.md), or None for other messages."""
    campaign = m["context"].get("campaign") or {}
    medium = {"cpc": "paid_search", "paid_social": "paid_social"}.get(
        campaign.get("medium", ""), campaign.get("medium")
    )
    if m.get("event") == "Application Opened":
        return "push" if medium == "push" else "direct"
    if m["type"] != "page" or m["context"]["page"]["referrer"].startswith(SITE):
        return None
    if medium:
        return str(medium)
    referrer = m["context"]["page"]["referrer"]
    if not referrer:
        return "direct"
    if any(engine in referrer for engine in ("google.", "bing.", "duckduckgo.")):
        return "organic_search"
    return "referral"


def attribution(events: Iterable[tuple[float, Message]]) -> list[tuple[str, str]]:
    """(first, last) touch of every online order's path since the previous order (30 days)."""
    paths: list[tuple[str, str]] = []
    touches: list[tuple[float, str]] = []
    for ts, m in events:
        channel = touch_channel(m)
        if channel:
            touches.append((ts, channel))
        elif m.get("event") == "Order Completed":
            if m["properties"].get("channel") != "store":
                window = [t for t in touches if t[0] >= ts - 30 * DAY]
                if window:
                    paths.append((window[0][1], window[-1][1]))
            touches = []
    return paths


def test_paid_social_starts_journeys_but_rarely_closes_them(feed: Feed) -> None:
    paths = [p for events in feed.by_person.values() for p in attribution(events)]
    first: dict[str, int] = defaultdict(int)
    last: dict[str, int] = defaultdict(int)
    for a, b in paths:
        first[a] += 1
        last[b] += 1
    n = len(paths)
    assert max(first, key=lambda k: first[k]) == "paid_social"
    assert 0.24 <= first["paid_social"] / n <= 0.38
    assert last["paid_social"] / n < 0.06
    assert last["paid_search"] > 3 * last["paid_social"]
    assert last["email"] > last["paid_social"]
    fact = feed.truth.facts["paid_social_attribution"]
    assert fact["first_touch_paid_social"] == pytest.approx(first["paid_social"] / n, abs=0.02)
    assert fact["last_touch_paid_social"] == pytest.approx(last["paid_social"] / n, abs=0.02)


def test_feedback_text_reads_like_its_score(feed: Feed) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # a runtime dependency

    analyzer = SentimentIntensityAnalyzer()
    low: list[str] = []
    high: list[str] = []
    for m in feed.valid:
        props = m.get("properties", {})
        if m.get("event") == "CSAT Survey Completed" and "comment" in props:
            (low if props["score"] <= 2 else high if props["score"] >= 4 else []).append(
                props["comment"]
            )
        if m.get("event") == "Review Submitted":
            (low if props["rating"] <= 2 else high if props["rating"] >= 4 else []).append(
                props["text"]
            )
    assert len(low) > 50 and len(high) > 50
    low_scores = [analyzer.polarity_scores(t)["compound"] for t in low]
    high_scores = [analyzer.polarity_scores(t)["compound"] for t in high]
    assert sum(s < -0.05 for s in low_scores) / len(low) > 0.9
    assert sum(s > 0.05 for s in high_scores) / len(high) > 0.9
    assert len(set(low)) > 20 and len(set(high)) > 20


def test_period_follows_the_config() -> None:
    config = DemoConfig(customers=50, days=10, end=datetime(2025, 3, 31, tzinfo=UTC))
    business = DemoBusiness(config)
    stamps = [m["timestamp"] for b in business.batches() for m in b]
    assert stamps[0] >= "2025-03-22T00:00:00.000Z" and stamps[-1] < "2025-04-01T00:00:00.000Z"
    assert business.truth().period_start == "2025-03-22T00:00:00.000Z"


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="customers"):
        DemoConfig(customers=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        DemoConfig(end=datetime(2026, 1, 1))
