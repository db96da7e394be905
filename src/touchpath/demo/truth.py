"""Ground truth of the demo business: who is who, and how big each planted effect came out.

The generator knows things the data only implies: which anonymous ids and devices belong to
which customer, which devices a family shares, which identifiers are junk. `GroundTruth` keeps
them so identity and analysis tests can be scored. `FactMeter` measures the planted effects on
the messages as they are emitted (in time order), with the same definitions docs/demo.md gives,
so the sizes in `GroundTruth.facts` are what the data holds, not the configured probabilities.
Each fact's name and windows come from `touchpath.demo.facts`, where its sizes are planted.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import msgspec

from touchpath.demo.facts import (
    APP_CHECKOUT_DROPOFF,
    EMAIL_WEB_SWITCH,
    PAID_SOCIAL_ATTRIBUTION,
    SLOW_SUPPORT,
    SMS_CART_REMINDER,
)

__all__ = ["FactMeter", "GroundTruth"]


class GroundTruth(msgspec.Struct, frozen=True, kw_only=True):
    """What the demo business really is, for scoring identity resolution and analyses."""

    seed: int
    customers: int
    anonymous_visitors: int
    events: int
    invalid_messages: int
    period_start: str
    period_end: str
    person_of: dict[str, str]
    loyalty_of: dict[str, str]
    shared_devices: list[str]
    shared_identifiers: dict[str, list[str]]
    junk_identifiers: list[str]
    facts: dict[str, dict[str, float]]

    def to_json(self) -> bytes:
        """Encode as JSON bytes."""
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> GroundTruth:
        """Decode JSON made by `to_json`."""
        return msgspec.json.decode(data, type=cls)


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class FactMeter:
    """Measures the planted facts from emitted messages, fed in time order.

    The generator tags the messages that matter (a checkout, an order, a resolved ticket, an
    abandoned cart, a session's first touch, a survey) with the customer's index; the meter
    only counts. Windows that reach past the end of the period are left out (censored).
    """

    def __init__(self, period_end: float) -> None:
        self.end = period_end
        self._checkout_window = APP_CHECKOUT_DROPOFF.window
        # (a) checkouts: [ts, on_app, converted]
        self._checkouts: dict[int, list[list[Any]]] = {}
        self._checkout_queue: deque[list[Any]] = deque()
        self._checkout_n = [0, 0]
        self._checkout_drop = [0, 0]
        # (b) resolved tickets: [ts, slow, orders within 30 days]
        self._tickets: dict[int, list[list[Any]]] = {}
        self._ticket_rows: list[list[Any]] = []
        self._feedback: dict[str, list[float]] = {}
        # (c) people the cart journey's split reached, at their first split: [ts, arm, converted]
        self._exposed: dict[int, list[Any]] = {}
        # (d) touches: (ts, channel) per customer since their last order, 30 days back
        self._touches: dict[int, list[tuple[float, str]]] = {}
        self._first: dict[str, int] = {}
        self._last: dict[str, int] = {}
        self._attributed = 0
        self._journey_first: dict[str, int] = {}
        self._seen: set[int] = set()
        # (e) visits after a campaign email: [ts, switched, ordered within the window]
        self._visits: dict[int, list[list[Any]]] = {}
        self._visit_rows: list[list[Any]] = []
        # orders
        self._revenue: list[float] = []
        self._orders = {"web": 0, "app": 0, "store": 0}

    def observe(self, ts: float, tag: tuple[Any, ...]) -> None:
        """Count one tagged message (or marker) emitted at `ts`."""
        kind = tag[0]
        if kind == "order":
            self._order(ts, tag[1], tag[2], tag[3])
        elif kind == "touch":
            self._touch(ts, tag[1], tag[2])
        elif kind == "checkout":
            self._expire_checkouts(ts)
            row = [ts, tag[2], False]
            self._checkouts.setdefault(tag[1], []).append(row)
            self._checkout_queue.append(row)
        elif kind == "resolved":
            row = [ts, tag[2], 0]
            self._tickets.setdefault(tag[1], []).append(row)
            self._ticket_rows.append(row)
        elif kind == "exposed":  # the split of the abandoned-cart journey: tag[2] is the arm
            if tag[1] not in self._exposed:
                self._exposed[tag[1]] = [ts, tag[2], False]
        elif kind == "switch":  # tag[2]: on one's own (True) or through the email's link
            row = [ts, tag[2], False]
            self._visits.setdefault(tag[1], []).append(row)
            self._visit_rows.append(row)
        elif kind == "feedback":
            self._feedback.setdefault(tag[1], []).append(float(tag[2]))

    def _expire_checkouts(self, now: float) -> None:
        queue = self._checkout_queue
        while queue and queue[0][0] + self._checkout_window < now:
            row = queue.popleft()
            if row[0] + self._checkout_window <= self.end:
                app = int(row[1])
                self._checkout_n[app] += 1
                self._checkout_drop[app] += not row[2]

    def _order(self, ts: float, cust: int, where: str, revenue: float) -> None:
        self._expire_checkouts(ts)
        self._orders[where] += 1
        self._revenue.append(revenue)
        for row in self._checkouts.pop(cust, ()):
            if ts - row[0] <= self._checkout_window:
                row[2] = True
        windows = self._tickets.get(cust)
        if windows:
            for row in windows:
                if row[0] < ts <= row[0] + SLOW_SUPPORT.window:
                    row[2] += 1
        exposed = self._exposed.get(cust)
        if exposed is not None and exposed[0] <= ts < exposed[0] + SMS_CART_REMINDER.window:
            exposed[2] = True
        visits = self._visits.get(cust)
        if visits:
            for row in visits:
                if row[0] < ts <= row[0] + EMAIL_WEB_SWITCH.window:
                    row[2] = True
        if where != "store":
            since = ts - PAID_SOCIAL_ATTRIBUTION.lookback
            touches = [t for t in self._touches.get(cust, ()) if t[0] >= since]
            if touches:
                self._attributed += 1
                first, last = touches[0][1], touches[-1][1]
                self._first[first] = self._first.get(first, 0) + 1
                self._last[last] = self._last.get(last, 0) + 1
        if cust in self._touches:
            self._touches[cust].clear()  # the next journey starts after this order

    def _touch(self, ts: float, cust: int, channel: str) -> None:
        touches = self._touches.get(cust)
        if touches is None:
            self._touches[cust] = [(ts, channel)]
        else:
            touches.append((ts, channel))
        if cust not in self._seen:
            self._seen.add(cust)
            self._journey_first[channel] = self._journey_first.get(channel, 0) + 1

    def facts(self) -> dict[str, dict[str, float]]:
        """The measured sizes of every planted effect (see docs/demo.md for definitions)."""
        return {
            APP_CHECKOUT_DROPOFF.name: self._checkout_fact(),
            SLOW_SUPPORT.name: self._support_fact(),
            SMS_CART_REMINDER.name: self._reminder_fact(),
            PAID_SOCIAL_ATTRIBUTION.name: self._attribution_fact(),
            EMAIL_WEB_SWITCH.name: self._switch_fact(),
            "orders": self._orders_fact(),
        }

    def _checkout_fact(self) -> dict[str, float]:
        """(a) The share of checkouts with no order within the window, web against app."""
        self._expire_checkouts(self.end + 2 * self._checkout_window)
        n_web, n_app = self._checkout_n
        drop_web, drop_app = self._checkout_drop
        web_drop, app_drop = _share(drop_web, n_web), _share(drop_app, n_app)
        return {
            "web_drop": web_drop,
            "app_drop": app_drop,
            "ratio": round(app_drop / web_drop, 3) if web_drop else 0.0,
            "web_checkouts": float(n_web),
            "app_checkouts": float(n_app),
        }

    def _support_fact(self) -> dict[str, float]:
        """(b) Orders in the window after a slow or fast resolution, and support feedback."""
        done = [r for r in self._ticket_rows if r[0] + SLOW_SUPPORT.window <= self.end]
        slow = [r[2] for r in done if r[1]]
        fast = [r[2] for r in done if not r[1]]
        slow_rate = sum(slow) / len(slow) if slow else 0.0
        fast_rate = sum(fast) / len(fast) if fast else 0.0
        fb = {k: sum(v) / len(v) for k, v in self._feedback.items() if v}
        return {
            "slow_tickets": float(len(slow)),
            "fast_tickets": float(len(fast)),
            "slow_share": _share(len(slow), len(slow) + len(fast)),
            "slow_orders_30d": round(slow_rate, 4),
            "fast_orders_30d": round(fast_rate, 4),
            "order_rate_ratio": round(slow_rate / fast_rate, 3) if fast_rate else 0.0,
            "slow_csat": round(fb.get("csat_support_slow", 0.0), 3),
            "fast_csat": round(fb.get("csat_support_fast", 0.0), 3),
            "slow_nps_score": round(fb.get("nps_support_slow", 0.0), 3),
            "fast_nps_score": round(fb.get("nps_support_fast", 0.0), 3),
            "slow_negative_comment_share": round(fb.get("negative_support_slow", 0.0), 3),
            "fast_negative_comment_share": round(fb.get("negative_support_fast", 0.0), 3),
        }

    def _reminder_fact(self) -> dict[str, float]:
        """(c) The abandoned-cart journey's split, as its experiment counts it: each person at
        their first split, converted by an order within the window (people whose window
        reaches past the end are left out)."""
        window = SMS_CART_REMINDER.window
        rows = [r for r in self._exposed.values() if r[0] + window <= self.end]
        n = {arm: sum(r[1] == arm for r in rows) for arm in ("remind", "holdout")}
        ordered = {arm: sum(r[1] == arm and r[2] for r in rows) for arm in ("remind", "holdout")}
        remind, held = (
            _share(ordered["remind"], n["remind"]),
            _share(ordered["holdout"], n["holdout"]),
        )
        return {
            "remind_people": float(n["remind"]),
            "holdout_people": float(n["holdout"]),
            "remind_conversion": remind,
            "holdout_conversion": held,
            "difference": round(remind - held, 4),
            "relative_lift": round(remind / held - 1, 3) if held else 0.0,
        }

    def _attribution_fact(self) -> dict[str, float]:
        """(d) First- and last-touch shares of online orders, and where journeys start."""
        first_total = sum(self._journey_first.values())
        return {
            "orders_attributed": float(self._attributed),
            **{
                f"first_touch_{k}": _share(v, self._attributed)
                for k, v in sorted(self._first.items())
            },
            **{
                f"last_touch_{k}": _share(v, self._attributed)
                for k, v in sorted(self._last.items())
            },
            **{
                f"journey_start_{k}": _share(v, first_total)
                for k, v in sorted(self._journey_first.items())
            },
        }

    def _switch_fact(self) -> dict[str, float]:
        """(e) Orders (any channel) within the window after a visit that follows a campaign
        email: on one's own (the switch) against through the email's link."""
        done = [r for r in self._visit_rows if r[0] + EMAIL_WEB_SWITCH.window <= self.end]
        switched = [r[2] for r in done if r[1]]
        linked = [r[2] for r in done if not r[1]]
        s_rate = _share(sum(switched), len(switched))
        l_rate = _share(sum(linked), len(linked))
        return {
            "switch_visits": float(len(switched)),
            "link_visits": float(len(linked)),
            "switch_conversion": s_rate,
            "link_conversion": l_rate,
            "ratio": round(s_rate / l_rate, 3) if l_rate else 0.0,
        }

    def _orders_fact(self) -> dict[str, float]:
        """Orders by channel and the revenue's distribution (not planted: for reference)."""
        revenue = self._revenue
        return {
            "web": float(self._orders["web"]),
            "app": float(self._orders["app"]),
            "store": float(self._orders["store"]),
            "revenue_p10": round(_quantile(revenue, 0.1), 2),
            "revenue_median": round(_quantile(revenue, 0.5), 2),
            "revenue_p90": round(_quantile(revenue, 0.9), 2),
            "revenue_total": round(float(sum(revenue)), 2),
        }
