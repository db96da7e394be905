"""Messaging: the campaign calendar (a weekly newsletter, weekend pushes, the autumn sale, an
NPS survey), email, push and SMS sends and the visits their clicks bring, and people coming back
to an abandoned cart on their own (the journey that reminds them is `touchpath.demo.reminders`).

Sends go to the audience in slices of 400 people, 20 seconds apart, as a real sender does.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from touchpath.demo.catalog import CATEGORY_PATH, NEWSLETTER_THEMES, SITE
from touchpath.demo.facts import DAY, EMAIL_WEB_SWITCH, HOUR, SLOW_SUPPORT, SMS_CART_REMINDER
from touchpath.demo.people import Customer
from touchpath.demo.simulation import (
    CLICK,
    EMAIL_OPEN,
    EMAIL_SEND,
    MINUTE,
    PUSH_OPEN,
    PUSH_SEND,
    RETURN,
    SMS_OPEN,
    SMS_SEND,
    SURVEY,
    SWITCH,
    VISIT,
    Core,
)

__all__ = ["Messaging"]

SUPPORT = SLOW_SUPPORT
REMINDER = SMS_CART_REMINDER
SWITCH_FACT = EMAIL_WEB_SWITCH
P_EMAIL_CLICK = {"nps": 0.4, "sale": 0.25, "newsletter": 0.18}


class Messaging(Core):
    """Campaigns, their sends and opens, and abandoned carts."""

    def _schedule_campaigns(self) -> None:
        """The period's campaigns: Thursday newsletters, fortnightly Saturday pushes, the NPS
        survey on day 40, and the autumn sale's launch and last call by email, push and SMS."""
        rng = self.rng
        day0 = datetime.fromtimestamp(self.t0, UTC)
        themes = list(NEWSLETTER_THEMES)
        rng.shuffle(themes)
        week = 0
        for d in range(self.config.days):
            day = day0 + timedelta(days=d)
            t = day.timestamp()
            if day.weekday() == 3:  # Thursday newsletter
                slug, subject = themes[week % len(themes)]
                name = f"newsletter_{day:%Y_%m_%d}_{slug}"
                self._schedule(t + 7 * HOUR, EMAIL_SEND, 0, (name, subject, "newsletter"))
                week += 1
            if day.weekday() == 5 and d % 14 < 7:  # fortnightly Saturday push
                self._schedule(t + 9 * HOUR, PUSH_SEND, 0, (f"push_weekend_{day:%Y_%m_%d}", ""))
            if abs(t - self.t0 - 40 * DAY) < DAY / 2:
                self._schedule(
                    t + 10 * HOUR,
                    EMAIL_SEND,
                    0,
                    ("nps_relationship_survey", "How are we doing?", "nps"),
                )
        sale = self.sale_start
        launch = ("autumn_sale_launch", "Autumn Sale: up to 40% off", "sale")
        last_call = ("autumn_sale_last_chance", "Last chance: Autumn Sale ends tonight", "sale")
        sends: list[tuple[float, int, Any]] = [
            (sale + 6 * HOUR, EMAIL_SEND, launch),
            (sale + 4 * DAY + 6 * HOUR, EMAIL_SEND, last_call),
            (sale + 8 * HOUR, PUSH_SEND, (launch[0], "")),
            (sale + 4 * DAY + 15 * HOUR, PUSH_SEND, (last_call[0], "")),
            (sale + 10 * HOUR, SMS_SEND, (launch[0], 0)),
            (sale + 4 * DAY + 16 * HOUR, SMS_SEND, (last_call[0], 0)),
        ]
        for t, kind, payload in sends:
            if t >= self.t0:  # a short period may start after the sale
                self._schedule(t, kind, 0, payload)

    def _audience_slice(self, start: int) -> tuple[list[Customer], int | None]:
        end = min(start + 400, len(self.people))
        nxt = end if end < len(self.people) else None
        return self.people[start:end], nxt

    def _email_send(self, ts: float, start: int, payload: tuple[str, str, str]) -> None:
        name, subject, kind = payload
        rng = self.rng
        batch, nxt = self._audience_slice(start)
        if nxt is not None:
            self._schedule(ts + 20.0, EMAIL_SEND, nxt, payload)
        for c in batch:
            if not (c.uid and c.signed_up and c.email_ok):
                continue
            if kind == "nps" and rng.random() > 0.3:
                continue
            t = ts + rng.uniform(0, 20)
            props = {
                "campaign_name": name,
                "campaign_id": f"cmp_{name}",
                "email_subject": subject,
            }
            self._server(t, "touchpath-messaging", "Email Delivered", c.uid, props)
            p_open = c.engagement * (1.6 if kind == "sale" else 1.0)
            if rng.random() < p_open:
                self._schedule(
                    t + rng.lognormvariate(math.log(3 * HOUR), 1.2), EMAIL_OPEN, c.idx, payload
                )

    def _email_open(self, ts: float, ci: int, payload: tuple[str, str, str]) -> None:
        name, subject, kind = payload
        rng = self.rng
        c = self.people[ci]
        props = {
            "campaign_name": name,
            "campaign_id": f"cmp_{name}",
            "email_subject": subject,
        }
        self._server(ts, "touchpath-messaging", "Email Opened", c.uid, props)
        p_click = P_EMAIL_CLICK[kind]
        if c.penalty_until > ts:
            p_click *= SUPPORT.email_click
        if rng.random() >= p_click:
            if kind != "nps" and rng.random() < SWITCH_FACT.share:
                after = rng.uniform(*SWITCH_FACT.after_hours) * HOUR
                self._schedule(ts + after, VISIT, ci, ("organic_search", name, SWITCH))
            return
        t = ts + rng.uniform(5, 120)
        landing = "/nps" if kind == "nps" else CATEGORY_PATH[c.favourite]
        url = f"{SITE}{landing}?utm_source=touchpath&utm_medium=email&utm_campaign={name}"
        self._server(t, "touchpath-messaging", "Email Link Clicked", c.uid, {**props, "url": url})
        if kind == "nps":
            self._schedule(
                t + rng.uniform(30, 240),
                SURVEY,
                ci,
                ("nps", "relationship", self._nps_score(c, t), None, None, None),
            )
        else:
            self._schedule(t + 2.0, VISIT, ci, ("email", name, CLICK))

    def _push_send(self, ts: float, start: int, payload: tuple[str, str]) -> None:
        name = payload[0]
        rng = self.rng
        batch, nxt = self._audience_slice(start)
        if nxt is not None:
            self._schedule(ts + 20.0, PUSH_SEND, nxt, payload)
        for c in batch:
            if not (c.uid and c.signed_up and c.push_ok and c.app is not None):
                continue
            t = ts + rng.uniform(0, 20)
            props = {"campaign_name": name, "campaign_id": f"cmp_{name}"}
            self._server(t, "touchpath-messaging", "Push Delivered", c.uid, props)
            if rng.random() < 0.35 * c.engagement * (1.5 if "sale" in name else 1.0):
                self._schedule(
                    t + rng.lognormvariate(math.log(20 * MINUTE), 1.0), PUSH_OPEN, c.idx, name
                )

    def _push_open(self, ts: float, ci: int, name: str) -> None:
        c = self.people[ci]
        props = {"campaign_name": name, "campaign_id": f"cmp_{name}"}
        self._server(ts, "touchpath-messaging", "Push Opened", c.uid, props)
        self._schedule(ts + 1.0, VISIT, ci, ("push", name, CLICK))

    def _sms_send(self, ts: float, start: int, payload: tuple[str, int]) -> None:
        name = payload[0]
        rng = self.rng
        batch, nxt = self._audience_slice(start)
        if nxt is not None:
            self._schedule(ts + 20.0, SMS_SEND, nxt, payload)
        for c in batch:
            if not (c.uid and c.signed_up and c.sms_ok):
                continue
            t = ts + rng.uniform(0, 20)
            self._server(
                t,
                "touchpath-messaging",
                "SMS Delivered",
                c.uid,
                {"campaign_name": name, "campaign_id": f"cmp_{name}"},
            )
            if rng.random() < 0.06:
                self._schedule(
                    t + rng.lognormvariate(math.log(15 * MINUTE), 1.0),
                    SMS_OPEN,
                    c.idx,
                    (name, CLICK),
                )

    def _sms_open(self, ts: float, ci: int, payload: tuple[str, int]) -> None:
        name, mode = payload
        c = self.people[ci]
        path = "/sale"
        url = f"{SITE}{path}?utm_source=touchpath&utm_medium=sms&utm_campaign={name}"
        self._server(
            ts,
            "touchpath-messaging",
            "SMS Link Clicked",
            c.uid,
            {"campaign_name": name, "campaign_id": f"cmp_{name}", "url": url},
        )
        self._schedule(ts + 3.0, VISIT, ci, ("sms", name, mode))

    def _cart_check(self, ts: float, ci: int, cart_ts: float) -> None:
        """An hour after the last cart activity with no order: the cart is abandoned, and some
        people come back to it on their own (the abandoned-cart journey's reminder is in
        `touchpath.demo.reminders`)."""
        rng = self.rng
        c = self.people[ci]
        if c.last_cart != cart_ts or c.last_order > cart_ts or not c.cart:
            return
        # coming back on their own: ~17% within three days, a few later
        r = rng.random()
        p_back = REMINDER.return_own * (SUPPORT.intent if c.penalty_until > ts else 1.0)
        if r < p_back:
            u = rng.random()
            delay = (
                rng.uniform(0.2, 8) * HOUR
                if u < 0.4
                else (rng.uniform(8, 30) * HOUR if u < 0.75 else rng.uniform(30, 70) * HOUR)
            )
            self._schedule(ts + delay, VISIT, ci, (None, None, RETURN))
        elif r < p_back + REMINDER.return_later:
            self._schedule(ts + rng.uniform(3.1, 12) * DAY, VISIT, ci, (None, None, RETURN))
