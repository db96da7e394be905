"""Support: help pages and chats, tickets and their resolution (the planted slow queue), and the
surveys that follow, with comments in customers' words.

A third of tickets go to the slow queue; for a while after a slow resolution the customer visits,
buys and clicks less (`touchpath.demo.facts.SLOW_SUPPORT`).
"""

from __future__ import annotations

import math
from typing import Any

from touchpath.demo.catalog import TICKET_TOPICS
from touchpath.demo.facts import HOUR, SLOW_SUPPORT
from touchpath.demo.people import Session
from touchpath.demo.simulation import MINUTE, RESOLVE, SURVEY, TICKET, Core
from touchpath.demo.words import (
    MID_NPS,
    MID_SUPPORT,
    NEG_CHECKOUT,
    NEG_DELIVERY,
    NEG_NPS,
    NEG_SUPPORT,
    POS_CHECKOUT,
    POS_DELIVERY,
    POS_NPS,
    POS_SUPPORT,
)

__all__ = ["Support"]

SUPPORT = SLOW_SUPPORT


class Support(Core):
    """Help, tickets and surveys."""

    def _help(self, s: Session) -> None:
        """A help page visit that ends in a chat, sometimes a ticket."""
        rng, c = self.rng, s.cust
        topic = rng.choice(("returns", "sizing", "account", "delivery"))
        self._view(
            s, "Help", f"/help/{topic}", f"Help: {topic} | Northwind Outfitters", rng.uniform(5, 40)
        )
        if c.uid == "" or not c.signed_up:
            return
        if s.app:  # the app's contact form opens a ticket directly
            if rng.random() < 0.3:
                self._schedule(s.t + rng.uniform(60, 600), TICKET, c.idx, (topic, None))
            return
        if rng.random() < 0.4:
            return
        chat_id = self._next_id("chat_")
        self._client(
            s,
            "track",
            "event",
            "Chat Started",
            {"chat_id": chat_id, "topic": topic, "channel": "support"},
            step=rng.uniform(10, 60),
        )
        minutes = rng.uniform(3, 25)
        solved = rng.random() < 0.55
        self._client(
            s,
            "track",
            "event",
            "Chat Ended",
            {
                "chat_id": chat_id,
                "topic": topic,
                "channel": "support",
                "duration_minutes": round(minutes, 1),
                "resolved": solved,
            },
            step=minutes * MINUTE,
        )
        if not solved:
            self._schedule(s.t + rng.uniform(60, 600), TICKET, c.idx, (topic, None))

    def _ticket(self, ts: float, ci: int, payload: tuple[str, str | None]) -> None:
        topic, order_id = payload
        rng = self.rng
        c = self.people[ci]
        ticket_id = self._next_id("T-")
        props: dict[str, Any] = {
            "ticket_id": ticket_id,
            "topic": topic,
            "subject": TICKET_TOPICS[topic][1],
            "channel": "support",
            "priority": rng.choice(("normal", "normal", "high")),
        }
        if order_id:
            props["order_id"] = order_id
        self._server(ts, "helpdesk-webhook", "Ticket Created", c.uid, props)
        # the slow queue: about a third of tickets wait more than a day
        if rng.random() < SUPPORT.slow_share:
            wait = min(140.0, 24.5 + rng.lognormvariate(math.log(18), 0.7))
        else:
            wait = min(23.5, rng.lognormvariate(math.log(4), 0.9))
        self._schedule(ts + wait * HOUR, RESOLVE, ci, (ticket_id, topic, round(wait, 1)))

    def _resolve(self, ts: float, ci: int, payload: tuple[str, str, float]) -> None:
        ticket_id, topic, wait = payload
        rng = self.rng
        c = self.people[ci]
        slow = wait > SUPPORT.slow_hours
        self._server(
            ts,
            "helpdesk-webhook",
            "Ticket Resolved",
            c.uid,
            {
                "ticket_id": ticket_id,
                "topic": topic,
                "channel": "support",
                "wait_hours": wait,
                "resolution": rng.choice(("solved", "solved", "refunded", "replaced")),
            },
            ("resolved", ci, slow),
        )
        if slow:
            c.penalty_until = max(c.penalty_until, ts + SUPPORT.penalty)
        if rng.random() < 0.55:
            score = self._score5(SUPPORT.csat_mean[slow])
            self._schedule(
                ts + rng.uniform(1, 8) * HOUR,
                SURVEY,
                ci,
                ("csat", "support", score, topic, slow, ("ticket_id", ticket_id)),
            )
        if rng.random() < 0.25:
            if slow:
                nps = rng.randint(0, 6) if rng.random() < 0.88 else rng.randint(7, 8)
            else:
                nps = rng.randint(7, 10) if rng.random() < 0.82 else rng.randint(3, 6)
            self._schedule(
                ts + rng.uniform(2, 20) * HOUR,
                SURVEY,
                ci,
                ("nps", "support", nps, topic, slow, ("ticket_id", ticket_id)),
            )

    def _survey(
        self, ts: float, ci: int, payload: tuple[str, str, int, str | None, bool | None, Any]
    ) -> None:
        kind, touchpoint, score, about, slow, ref = payload
        rng = self.rng
        c = self.people[ci]
        survey_id = self._next_id("S-")
        if kind == "csat":
            mood = "neg" if score <= 2 else ("pos" if score >= 4 else "mid")
            event = "CSAT Survey Completed"
        else:
            mood = "neg" if score <= 6 else ("pos" if score >= 9 else "mid")
            event = "NPS Survey Completed"
        # every survey is sent, and answered, by email
        props: dict[str, Any] = {
            "survey_id": survey_id,
            "score": score,
            "touchpoint": touchpoint,
            "channel": "email",
        }
        if ref is not None:
            props[ref[0]] = ref[1]
        if rng.random() < 0.8:
            props["comment"] = self._comment(touchpoint, mood, about, slow)
        self._server(ts, "survey-webhook", event, c.uid, props)
        if touchpoint == "support" and slow is not None:
            group = "slow" if slow else "fast"
            self._put(ts, None, ("feedback", f"{kind}_support_{group}", score))
            if "comment" in props:
                self._put(
                    ts,
                    None,
                    ("feedback", f"negative_support_{group}", 1.0 if mood == "neg" else 0.0),
                )

    def _comment(self, touchpoint: str, mood: str, about: str | None, slow: bool | None) -> str:
        rng = self.rng
        product = about if touchpoint == "delivery" and about else rng.choice(self.products).name
        if touchpoint == "support":
            topic = TICKET_TOPICS.get(about or "", ("my order", ""))[0]
            pool = NEG_SUPPORT if mood == "neg" else (POS_SUPPORT if mood == "pos" else MID_SUPPORT)
        elif touchpoint == "delivery":
            topic = ""
            pool = (
                NEG_DELIVERY
                if mood == "neg"
                else (POS_DELIVERY if mood == "pos" else ["Delivery of the {product} was okay."])
            )
        elif touchpoint == "checkout":
            topic = ""
            pool = (
                NEG_CHECKOUT
                if mood == "neg"
                else (
                    POS_CHECKOUT if mood == "pos" else ["Checkout worked, but it took a few tries."]
                )
            )
        else:
            topic = ""
            pool = NEG_NPS if mood == "neg" else (POS_NPS if mood == "pos" else MID_NPS)
        days = (
            rng.choice(("three days", "two days", "almost a week", "four days"))
            if slow
            else "a day"
        )
        text = rng.choice(pool).format(
            topic=topic, topic_cap=topic[:1].upper() + topic[1:], product=product, days=days
        )
        return text[:1].upper() + text[1:]
