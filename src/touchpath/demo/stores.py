"""Shops: till purchases of customers with a home store, linked to them only by the loyalty card
(no userId: an anonymous till session with the card in `context.externalIds`)."""

from __future__ import annotations

from typing import Any

from touchpath.demo.catalog import CURRENCY, Product
from touchpath.demo.facts import EMAIL_WEB_SWITCH, SLOW_SUPPORT
from touchpath.demo.people import LIB_VERSIONS
from touchpath.demo.simulation import STORE, STORE_HOURS, STORE_RATE, Core, Message

__all__ = ["Stores"]

SUPPORT = SLOW_SUPPORT


class Stores(Core):
    """Till purchases."""

    def _store(self, ts: float, ci: int, _: Any) -> None:
        """A till purchase: no userId, the loyalty card links it to the customer."""
        rng = self.rng
        c = self.people[ci]
        self._schedule(self._next_time(c, ts, STORE_RATE, STORE_HOURS), STORE, ci)
        if c.penalty_until > ts and rng.random() < SUPPORT.skip_store:
            return
        if c.put_off_until > ts and rng.random() < EMAIL_WEB_SWITCH.skip_store:
            return
        if c.hold_until > ts:  # the cart reminder's planted outcome (reminders)
            return
        assert c.store is not None
        store_id, store_name = c.store
        basket: dict[Product, int] = {}
        for _ in range(1 if rng.random() < 0.6 else rng.randint(2, 3)):
            p = self._pick_product(c)
            basket[p] = basket.get(p, 0) + 1
        lines = [self._order_line(p, q) for p, q in basket.items()]
        revenue = round(sum(x["price"] * x["quantity"] for x in lines), 2)
        till = self._uuid()
        self.person_of[till] = c.uid
        msg: Message = {
            "type": "track",
            "event": "Order Completed",
            "anonymousId": till,
            "messageId": self._message_id(),
            "timestamp": self._iso(ts),
            "properties": {
                "order_id": self._next_id("NW-S-"),
                "revenue": revenue,
                "total": revenue,
                "currency": CURRENCY,
                "products": lines,
                "channel": "store",
                "store_id": store_id,
                "store_name": store_name,
                "payment_method": rng.choice(("card", "card", "cash", "contactless")),
            },
            "context": {
                "library": {"name": "pos", "version": LIB_VERSIONS["pos"]},
                "externalIds": [
                    {
                        "id": c.loyalty,
                        "type": "loyalty_id",
                        "collection": "users",
                        "encoding": "none",
                    }
                ],
            },
        }
        c.last_order = ts
        self._put(ts, msg, ("order", ci, "store", revenue))
        self._ordered(ts, c)
