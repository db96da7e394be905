"""What a living-demo person does: arrive, browse, sign up, check out (the app's payment fails
as planted), come back on their own, or come back through a message. Pure functions of the
person's state, the time and a random stream: each returns the Segment messages the person's
SDKs send and the actions to schedule next. The sizes come from `touchpath.demo.facts`.

>>> import random
>>> p = new_person(7, 12, datetime(2026, 11, 2, 10))
>>> p["user_id"], p["email"], p["phone"]
('lu_000012', 'live000012@mail.example', '+491500000012')
>>> person_of_recipient("live000012@mail.example"), person_of_recipient("+491500000012")
(12, 12)
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from touchpath.demo.catalog import CITIES, CURRENCY, SITE, Product, catalog
from touchpath.demo.facts import APP_CHECKOUT_DROPOFF, LIVE_ARRIVALS, PAID_SOCIAL_ATTRIBUTION
from touchpath.demo.people import APP_VERSION, LIB_VERSIONS

__all__ = [
    "Action",
    "Outcome",
    "Person",
    "buy_back",
    "new_person",
    "own_return",
    "person_of_recipient",
    "session",
]

Person = dict[str, Any]
"""A person's state, kept as JSON in `demo_live_people` (see `new_person` for the keys)."""

_PRODUCTS: list[Product] = catalog()
_RECIPIENT = re.compile(r"^(?:live(\d{6})@mail\.example|\+49150(\d{7})|live-device-(\d+))$")
_CAMPAIGNS = {
    "paid_social": ("facebook", "paid_social", "autumn_lookbook"),
    "paid_search": ("google", "cpc", "brand_search"),
}


@dataclass(frozen=True)
class Action:
    """Something a person will do later: `kind` at `at`, with `data`; `key` makes it unique."""

    key: str
    at: datetime
    person: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one step of a person produced."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)
    """Keys of scheduled actions that no longer happen."""


def new_person(seed: int, n: int, at: datetime) -> Person:
    """Person number `n`, arriving at `at`: drawn from their own stream, so the same every run."""
    rng = random.Random(f"{seed}:person:{n}")
    city = rng.choices(CITIES, weights=[c[4] for c in CITIES])[0]
    app = rng.random() < LIVE_ARRIVALS.app_share
    os_ = rng.choice(("ios", "android")) if app else None
    return {
        "n": n,
        "user_id": f"lu_{n:06d}",
        "anonymous_id": f"{rng.getrandbits(64):016x}-live-{n}",
        "email": f"live{n:06d}@mail.example",
        "phone": f"+49150{n:07d}",
        "push_token": f"live-device-{n}",
        "first_name": rng.choice(("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta")),
        "city": city[0],
        "timezone": city[1],
        "locale": city[2],
        "app": app,
        "os": os_,
        "arrived_at": at.isoformat(),
        "signed_up": False,
        "sessions": 0,
        "checkout_id": None,
        "ordered": False,
        "unsubscribed": [],
    }


def person_of_recipient(recipient: str) -> int | None:
    """The living-demo person an email address, phone number or push token belongs to."""
    m = _RECIPIENT.match(recipient.strip())
    if m is None:
        return None
    return int(next(g for g in m.groups() if g is not None))


class _Clock:
    """Times and message ids within one step: each message a little after the previous one."""

    def __init__(self, p: Person, key: str, at: datetime, rng: random.Random, out: Outcome) -> None:
        self.p, self.key, self.t, self.rng, self.i = p, key, at, rng, 0
        self.messages = out.messages

    def message(
        self, typ: str, name: str | None, props: dict[str, Any], *, campaign: Any = None
    ) -> dict[str, Any]:
        self.t += timedelta(seconds=self.rng.uniform(5, 60))
        self.i += 1
        p = self.p
        msg: dict[str, Any] = {
            "type": typ,
            "messageId": f"live-{self.key}-{self.i}",
            "anonymousId": p["anonymous_id"],
            "timestamp": self.t.isoformat(timespec="milliseconds") + "Z",
            "context": _context(p, campaign),
        }
        if p["signed_up"]:
            msg["userId"] = p["user_id"]
        if typ == "track":
            msg["event"] = name
            msg["properties"] = props
        elif typ == "identify":
            msg["traits"] = props
        else:
            msg["name"] = name
            msg["properties"] = props
        return msg


def _context(p: Person, campaign: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {"timezone": p["timezone"], "locale": p["locale"]}
    if p["app"]:
        lib = "analytics-ios" if p["os"] == "ios" else "analytics-android"
        ctx["library"] = {"name": lib, "version": LIB_VERSIONS[lib]}
        ctx["app"] = {"name": "Northwind", "version": APP_VERSION[0], "build": APP_VERSION[1]}
        ctx["device"] = {"id": p["push_token"], "type": p["os"]}
    else:
        ctx["library"] = {"name": "analytics.js", "version": LIB_VERSIONS["analytics.js"]}
        ctx["page"] = {"url": SITE + "/", "path": "/"}
    if campaign is not None:
        ctx["campaign"] = dict(campaign)
    return ctx


def _landing(c: _Clock, campaign: dict[str, str] | None) -> None:
    """The session's first message: the app opened, or the home page."""
    if c.p["app"]:
        c.messages.append(c.message("track", "Application Opened", {}, campaign=campaign))
    else:
        c.messages.append(
            c.message("page", "Home", {"path": "/", "url": SITE + "/"}, campaign=campaign)
        )


def _browse(c: _Clock, campaign: Any) -> list[Product]:
    seen = []
    for _ in range(c.rng.randint(1, 3)):
        prod = c.rng.choice(_PRODUCTS)
        seen.append(prod)
        c.messages.append(c.message("track", "Product Viewed", _product(prod), campaign=campaign))
    return seen


def _product(prod: Product) -> dict[str, Any]:
    return {"product_id": prod.pid, "sku": prod.sku, "name": prod.name,
            "category": prod.category, "price": prod.price, "currency": CURRENCY}  # fmt: skip


def _sign_up(c: _Clock, campaign: Any) -> None:
    p = c.p
    p["signed_up"] = True
    consents = {f"{ch}_opt_in": c.rng.random() < share for ch, share in LIVE_ARRIVALS.consent}
    traits = {"email": p["email"], "phone": p["phone"], "first_name": p["first_name"],
              "address": {"city": p["city"]}, "timezone": p["timezone"], **consents}  # fmt: skip
    if p["app"]:
        traits["push_token"] = p["push_token"]
    c.messages.append(c.message("identify", None, traits, campaign=campaign))
    c.messages.append(c.message("track", "Signed Up", {"method": "email"}, campaign=campaign))


def _checkout(c: _Clock, products: list[Product], campaign: Any, out: Outcome) -> None:
    """Cart and checkout; the payment fails as planted (more often in the app)."""
    p, rng = c.p, c.rng
    prod = products[-1]
    checkout_id = f"live-co-{p['n']}"
    p["checkout_id"] = checkout_id
    p["checkout_at"] = c.t.isoformat()
    line = {**_product(prod), "quantity": 1}
    c.messages.append(c.message("track", "Product Added", {**line, "cart_id": checkout_id},
                                campaign=campaign))  # fmt: skip
    props = {"checkout_id": checkout_id, "revenue": prod.price, "currency": CURRENCY,
             "products": [line]}  # fmt: skip
    c.messages.append(c.message("track", "Checkout Started", props, campaign=campaign))
    app = int(bool(p["app"]))
    if rng.random() < APP_CHECKOUT_DROPOFF.payment_ok[app]:
        c.messages.append(c.message("track", "Payment Info Entered",
                                    {"checkout_id": checkout_id, "step": 2}, campaign=campaign))  # fmt: skip
        if rng.random() < APP_CHECKOUT_DROPOFF.complete[app]:
            _order(c, campaign)
            return
    # abandoned: some come back and buy on their own
    if rng.random() < LIVE_ARRIVALS.own_return:
        lo, hi = LIVE_ARRIVALS.own_return_hours
        at = c.t + timedelta(hours=rng.uniform(lo, hi))
        p["own_return_at"] = at.isoformat()
        out.actions.append(Action(f"own:{p['n']}", at, p["n"], "own_return"))


def _order(c: _Clock, campaign: Any) -> None:
    p = c.p
    p["ordered"] = True
    p["ordered_at"] = c.t.isoformat()
    prod = c.rng.choice(_PRODUCTS)
    props = {"order_id": f"live-o-{p['n']}", "checkout_id": p["checkout_id"],
             "revenue": prod.price, "total": prod.price, "currency": CURRENCY,
             "products": [{**_product(prod), "quantity": 1}]}  # fmt: skip
    c.messages.append(c.message("track", "Order Completed", props, campaign=campaign))


def session(p: Person, key: str, at: datetime, rng: random.Random,
            campaign: dict[str, str] | None = None) -> Outcome:  # fmt: skip
    """A visit: land, browse, perhaps sign up and check out, perhaps plan another visit."""
    out = Outcome()
    c = _Clock(p, key, at, rng, out)
    p["sessions"] += 1
    if campaign is None and p["sessions"] == 1 and not p["app"]:  # ads lead to the website
        names = [m[0] for m in PAID_SOCIAL_ATTRIBUTION.discovery]
        source = rng.choices(names, weights=[m[1] for m in PAID_SOCIAL_ATTRIBUTION.discovery])[0]
        got = _CAMPAIGNS.get(source)
        if got is not None:
            campaign = {"source": got[0], "medium": got[1], "name": got[2]}
    _landing(c, campaign)
    products = _browse(c, campaign)
    if not p["signed_up"] and rng.random() < LIVE_ARRIVALS.sign_up:
        _sign_up(c, campaign)
    if p["signed_up"] and p["checkout_id"] is None and rng.random() < LIVE_ARRIVALS.checkout:
        _checkout(c, products, campaign, out)
    elif p["checkout_id"] is None and p["sessions"] < LIVE_ARRIVALS.sessions:
        lo, hi = LIVE_ARRIVALS.next_session_hours
        nxt = c.t + timedelta(hours=rng.uniform(lo, hi))
        out.actions.append(Action(f"s:{p['n']}:{p['sessions'] + 1}", nxt, p["n"], "session"))
    return out


def _finish(p: Person, key: str, at: datetime, rng: random.Random, campaign: Any) -> Outcome:
    """Back at an open checkout: the cart, and this time the order goes through."""
    out = Outcome()
    c = _Clock(p, key, at, rng, out)
    _landing(c, campaign)
    c.messages.append(c.message("track", "Cart Viewed", {"cart_id": p["checkout_id"]},
                                campaign=campaign))  # fmt: skip
    _order(c, campaign)
    return out


def own_return(p: Person, key: str, at: datetime, rng: random.Random) -> Outcome:
    """Coming back to an abandoned checkout on one's own (nothing if they bought meanwhile)."""
    if p["ordered"] or p["checkout_id"] is None:
        return Outcome()
    return _finish(p, key, at, rng, None)


def buy_back(p: Person, key: str, at: datetime, rng: random.Random, campaign: dict[str, str],
             buy: bool) -> Outcome:  # fmt: skip
    """Brought back by a message: to an open checkout, the order goes through when `buy`
    (drawn with the planted chance when the message arrived); otherwise a visit."""
    if p["checkout_id"] is not None and not p["ordered"]:
        if not buy:
            out = Outcome()
            c = _Clock(p, key, at, rng, out)
            _landing(c, campaign)
            return out
        out = _finish(p, key, at, rng, campaign)
        out.cancel.append(f"own:{p['n']}")
        return out
    return session(p, key, at, rng, campaign)
