"""Orders: the cart, the checkout (whose app payment step holds the planted drop-off), and what
follows an order: delivery, a late parcel's ticket, surveys and reviews.

The drop-off's sizes are `touchpath.demo.facts.APP_CHECKOUT_DROPOFF`.
"""

from __future__ import annotations

from typing import Any

from touchpath.demo.catalog import CURRENCY, Product
from touchpath.demo.facts import APP_CHECKOUT_DROPOFF as CHECKOUT
from touchpath.demo.facts import DAY, HOUR, SLOW_SUPPORT
from touchpath.demo.people import Customer, Session
from touchpath.demo.simulation import (
    DELIVERY,
    FOLLOW,
    RESTORE,
    RETURN,
    REVIEW,
    SURVEY,
    TICKET,
    Core,
)
from touchpath.demo.words import REVIEW_TEXT

__all__ = ["Orders"]

SUPPORT = SLOW_SUPPORT
P_CHECKOUT = 0.58  # a cart viewed goes on to checkout
P_CHECKOUT_FOLLOW = 0.78  # the same, for a customer who came back interested


class Orders(Core):
    """The cart, the checkout and what comes after an order."""

    def _cart_and_checkout(self, s: Session, mode: int, penalised: bool) -> None:
        """Cart, then checkout: the app's payment step is where the planted drop-off lives."""
        rng, c = self.rng, s.cust
        back = mode in (RETURN, RESTORE)  # came back for this cart: straight to checkout
        if s.page[0] != "/cart":
            self._view(s, "Cart", "/cart", "Your cart | Northwind Outfitters", rng.uniform(5, 30))
        products = [self._order_line(p, q) for p, q in c.cart]
        total = round(sum(line["price"] * line["quantity"] for line in products), 2)
        cart_props = {
            "cart_id": c.cart_id,
            "products": [dict(line) for line in products],
            "value": total,
            "currency": CURRENCY,
        }
        self._client(s, "track", "event", "Cart Viewed", cart_props, step=rng.uniform(0.3, 1.5))
        self._cart_viewed(s)
        if c.hold_until > s.t:  # the reminder's planted outcome: no order in its window
            return
        back = back or c.buy_by >= s.t  # ...or an order within it
        p_checkout = P_CHECKOUT_FOLLOW if mode == FOLLOW else P_CHECKOUT
        if not (back or rng.random() < p_checkout * (SUPPORT.intent if penalised else 1.0)):
            return
        if not c.uid:
            return  # visitors who never sign up: no guest checkout
        if s.uid != c.uid:
            self._sign_in(s, signup=not c.signed_up)
        checkout_id = self._next_id("chk_")
        self._view(
            s, "Checkout", "/checkout", "Checkout | Northwind Outfitters", rng.uniform(5, 25)
        )
        coupon = "AUTUMN40" if self.sale_start <= s.t < self.sale_start + 5 * DAY else None
        discount = 0.75 if coupon else 1.0
        revenue = round(total * discount, 2)
        props: dict[str, Any] = {
            "checkout_id": checkout_id,
            "revenue": revenue,
            "currency": CURRENCY,
            "products": [dict(line) for line in products],
        }
        self._client(
            s, "track", "event", "Checkout Started", props, ("checkout", c.idx, s.app), step=1.0
        )
        c.last_cart = s.t
        c.cart_identified = s.uid == c.uid
        self._pay(s, checkout_id, products, total, coupon)

    def _pay(
        self,
        s: Session,
        checkout_id: str,
        products: list[dict[str, Any]],
        total: float,
        coupon: str | None,
    ) -> None:
        """Payment, then the order: on the app payment fails far more often (the planted
        drop-off), and a few of those people open a ticket about it."""
        rng, c = self.rng, s.cust
        revenue = round(total * (0.75 if coupon else 1.0), 2)
        sure = c.buy_by >= s.t  # planted by the cart reminder (reminders): the order goes through
        if not sure and rng.random() >= CHECKOUT.payment_ok[s.app]:
            if s.app and rng.random() < 0.05:
                self._schedule(s.t + rng.uniform(600, 6 * HOUR), TICKET, c.idx, ("payment", None))
            return
        method = rng.choice(
            (
                "card",
                "card",
                "paypal",
                "klarna",
                "apple_pay" if s.dev.kind == "ios" else "google_pay",
            )
        )
        self._client(
            s,
            "track",
            "event",
            "Payment Info Entered",
            {"checkout_id": checkout_id, "step": 2, "payment_method": method},
            step=rng.uniform(20, 120),
        )
        if not sure and rng.random() >= CHECKOUT.complete[s.app]:
            return
        order_id = self._next_id("NW-W-")
        props = {
            "order_id": order_id,
            "checkout_id": checkout_id,
            "revenue": revenue,
            "total": revenue,
            "shipping": 0.0 if revenue >= 50 else 4.95,
            "tax": round(revenue * 0.19 / 1.19, 2),
            "currency": CURRENCY,
            "products": [dict(line) for line in products],
            "payment_method": method,
        }
        if coupon:
            props["coupon"] = coupon
            props["discount"] = round(total - revenue, 2)
        where = "app" if s.app else "web"
        self._client(
            s,
            "track",
            "event",
            "Order Completed",
            props,
            ("order", c.idx, where, revenue),
            step=rng.uniform(10, 40),
        )
        c.last_order = s.t
        self._ordered(s.t, c)
        self._after_order(s.t, c, order_id, [p for p, _ in c.cart], s.app)
        c.cart = []
        c.carts += 1  # the next cart has a new id

    def _after_order(
        self, ts: float, c: Customer, order_id: str, products: list[Product], app: bool
    ) -> None:
        rng = self.rng
        late = rng.random() < 0.09
        delay = rng.uniform(6, 10) * DAY if late else rng.uniform(1.5, 4.5) * DAY
        self._schedule(ts + delay, DELIVERY, c.idx, (order_id, products, late, delay))
        if late and rng.random() < 0.6:
            self._schedule(ts + rng.uniform(4.6, 5.8) * DAY, TICKET, c.idx, ("delivery", order_id))
        if rng.random() < 0.1:  # post-checkout survey
            score = self._score5(CHECKOUT.csat_mean[app])
            self._schedule(
                ts + rng.uniform(60, 900),
                SURVEY,
                c.idx,
                ("csat", "checkout", score, None, None, ("order_id", order_id)),
            )

    def _delivery(
        self, ts: float, ci: int, payload: tuple[str, list[Product], bool, float]
    ) -> None:
        order_id, products, late, delay = payload
        rng = self.rng
        c = self.people[ci]
        self._server(
            ts,
            "analytics-python",
            "Order Delivered",
            c.uid,
            {
                "order_id": order_id,
                "carrier": rng.choice(("DHL", "DPD", "PostNL", "GLS")),
                "delivery_days": round(delay / DAY, 1),
                "on_time": not late,
                "channel": "delivery",  # the parcel at the door, not a visit
            },
        )
        product = products[0]
        if rng.random() < 0.15:
            score = self._score5(1.8 if late else 4.4)
            self._schedule(
                ts + rng.uniform(2, 30) * HOUR,
                SURVEY,
                ci,
                ("csat", "delivery", score, product.name, None, ("order_id", order_id)),
            )
        if rng.random() < 0.1:
            self._schedule(ts + rng.uniform(3, 12) * DAY, REVIEW, ci, (product, order_id, late))
        r = rng.random()
        if r < 0.12:  # outdoor apparel: returns and sizing are most of the contacts
            self._schedule(ts + rng.uniform(2, 72) * HOUR, TICKET, ci, ("returns", order_id))
        elif r < 0.19:
            self._schedule(ts + rng.uniform(2, 48) * HOUR, TICKET, ci, ("sizing", order_id))
        elif r < 0.21:
            self._schedule(ts + rng.uniform(1, 24) * HOUR, TICKET, ci, ("damaged", order_id))

    def _review(self, ts: float, ci: int, payload: tuple[Product, str, bool]) -> None:
        product, order_id, late = payload
        rng = self.rng
        c = self.people[ci]
        rating = max(1, min(5, round(rng.gauss(product.quality - (0.6 if late else 0.0), 0.9))))
        text = rng.choice(REVIEW_TEXT[rating]).format(product=product.name)
        self._server(
            ts,
            "reviews-webhook",
            "Review Submitted",
            c.uid,
            {
                "review_id": self._next_id("R-"),
                "product_id": product.pid,
                "product_name": product.name,
                "order_id": order_id,
                "rating": rating,
                "text": text,
                "channel": "email",  # written through the review request email
            },
        )
