"""The simulation's core: time, ids, the two heaps, the messages SDKs and servers send, and the
loop that runs actions in time order.

Each channel's behaviour is a mixin of `Core` in its own module (`sessions`: web and app visits;
`orders`: cart, checkout, delivery and reviews; `support`: help, tickets, surveys; `messaging`:
email, push and SMS campaigns and the cart reminder; `stores`: till purchases), assembled in
`touchpath.demo.generator.Simulation`, which lists the behaviour of each action kind. The
planted effects' sizes come from `touchpath.demo.facts`.

Every draw comes from one random stream (`rng`), in an order fixed by the actions' times, so a
seed gives the same feed on every run; `noise` (a second stream) only picks the few messages
that are sent broken.
"""

from __future__ import annotations

import copy
import heapq
import math
import random
from bisect import bisect
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from touchpath.demo.catalog import CURRENCY, SITE, Product, catalog
from touchpath.demo.facts import DAY, HOUR
from touchpath.demo.people import APP_VERSION, JUNK_USER_IDS, LIB_VERSIONS, Customer, Session
from touchpath.demo.truth import FactMeter, GroundTruth

if TYPE_CHECKING:
    from touchpath.demo.generator import DemoConfig

__all__ = [
    "CART_CHECK",
    "CHAIN",
    "CLICK",
    "DELIVERY",
    "EMAIL_OPEN",
    "EMAIL_SEND",
    "FOLLOW",
    "MINUTE",
    "PUSH_OPEN",
    "PUSH_SEND",
    "RESOLVE",
    "RESTORE",
    "RETURN",
    "REVIEW",
    "SESSION_HOURS",
    "SMS_OPEN",
    "SMS_REMINDER",
    "SMS_SEND",
    "STORE",
    "STORE_HOURS",
    "STORE_RATE",
    "SURVEY",
    "SWITCH",
    "TICKET",
    "VISIT",
    "Core",
    "Message",
    "cumulative",
    "mix",
    "pick",
]

Message = dict[str, Any]
MINUTE = 60.0
INVALID_SHARE = 0.001  # malformed messages, for the collector's rejected-messages table
# "HH:MM:" for every minute of a day and "SS.mmmZ" for every millisecond of a minute
CLOCK_MINUTES = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
CLOCK_SECONDS = [f"{ms // 1000:02d}.{ms % 1000:03d}Z" for ms in range(60_000)]

# action kinds
VISIT, STORE, EMAIL_SEND, EMAIL_OPEN, PUSH_SEND, PUSH_OPEN, SMS_SEND, SMS_OPEN = range(8)
CART_CHECK, SMS_REMINDER, DELIVERY, TICKET, RESOLVE, SURVEY, REVIEW = range(8, 15)
# visit modes (SWITCH: to the website on one's own after reading an email, facts.EMAIL_WEB_SWITCH)
CHAIN, FOLLOW, CLICK, RETURN, RESTORE, SWITCH = range(6)

# daily rhythm (local hour) for web/app sessions and for store visits; weekday Mon..Sun
SESSION_HOURS = (
    0.25, 0.12, 0.06, 0.04, 0.04, 0.1, 0.3, 0.6, 0.85, 0.95, 1.0, 1.05,
    1.25, 1.2, 1.0, 0.95, 1.0, 1.1, 1.3, 1.6, 1.8, 1.7, 1.2, 0.6,
)  # fmt: skip
STORE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0, 1.3, 1.6, 1.5, 1.3, 1.4, 1.7, 2.0, 1.8, 1.2, 0, 0, 0, 0)  # fmt: skip
WEEKDAY = (0.9, 0.95, 0.95, 1.0, 1.05, 1.15, 1.0)
PEAK = 4.4  # an upper bound of hour (2.0) * weekday (1.15) * season (1.1 * 1.7) demand
STORE_RATE = 0.006


def cumulative(weights: list[float]) -> list[float]:
    """Running sums of `weights`."""
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    return cum


def pick(rng: random.Random, names: list[str], cum: list[float]) -> str:
    """One of `names` by cumulative weights (what `random.choices` does, without its overhead)."""
    return names[bisect(cum, rng.random() * cum[-1])]


def mix(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    """Names and cumulative weights, ready for `pick`."""
    return [p[0] for p in pairs], cumulative([p[1] for p in pairs])


def _eu_summer_time(year: int) -> tuple[float, float]:
    """Start and end (UTC epoch seconds) of EU summer time: last Sundays of March and October."""

    def last_sunday(month: int) -> datetime:
        day = datetime(year, month, 31, 1, tzinfo=UTC)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    return last_sunday(3).timestamp(), last_sunday(10).timestamp()


class Core:
    """The state of one run and what every behaviour shares; `run()` yields messages in time
    order."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.noise = random.Random(config.seed * 1_000_003 + 17)
        last_day = config.end.replace(hour=0, minute=0, second=0, microsecond=0)
        self.t0 = (last_day - timedelta(days=config.days - 1)).timestamp()
        self.t1 = (last_day + timedelta(days=1)).timestamp()
        self.sale_start = self.t1 - 18 * DAY
        self.products = catalog()
        self.by_category: dict[str, list[Product]] = {}
        for p in self.products:
            self.by_category.setdefault(p.category, []).append(p)
        # cheaper things are looked at (and bought) more
        self.product_cum = cumulative([p.price**-1.3 for p in self.products])
        self.category_cum = {
            cat: cumulative([p.price**-1.3 for p in items])
            for cat, items in self.by_category.items()
        }
        self.actions: list[tuple[float, int, int, int, Any]] = []
        self.out: list[tuple[float, int, Message | None, tuple[Any, ...] | None]] = []
        self.seq = 0
        self.message_prefix = self._uuid()[:24]
        self.messages_made = 0
        self.now = self.t0  # the time of the action being processed
        self.counter = 100_000
        self.meter = FactMeter(self.t1)
        self.person_of: dict[str, str] = {}
        self.loyalty_of: dict[str, str] = {}
        self.emails: set[str] = set()
        self.shared: dict[str, list[str]] = {}
        self.shared_devices: list[str] = []
        self.junk: set[str] = set()
        self.events = 0
        self.invalid = 0
        self._days: dict[int, str] = {}
        self._dst: dict[int, tuple[float, float]] = {}
        self._season = self._season_curve()
        self.people: list[Customer] = []
        self.handlers: list[Callable[[float, int, Any], None]] = []
        """The behaviour of each action kind, by its number (set by the assembled simulation)."""

    # ---- what one channel's behaviour asks of another (each defined in its module) --------

    def _help(self, s: Session) -> None:
        """A help page visit (support)."""
        raise NotImplementedError

    def _cart_and_checkout(self, s: Session, mode: int, penalised: bool) -> None:
        """Cart, then checkout (orders)."""
        raise NotImplementedError

    def _cart_viewed(self, s: Session) -> None:
        """The cart was viewed: the abandoned-cart journey may start (reminders)."""
        raise NotImplementedError

    def _ordered(self, ts: float, c: Customer) -> None:
        """The person ordered (any channel): the journey's goal (reminders)."""
        raise NotImplementedError

    # ---- ids, clocks -------------------------------------------------------------------

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def _message_id(self) -> str:
        """Unique and uuid-shaped: a per-run random prefix and a counter (cheap on the hot path)."""
        self.messages_made += 1
        return f"{self.message_prefix}{self.messages_made:012x}"

    def _iso(self, ts: float) -> str:
        """ISO-8601 UTC with milliseconds and Z, from cached pieces (this is the hot path)."""
        day, rest = divmod(int(ts * 1000.0), 86_400_000)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
            self._days[day] = prefix
        minute, rest = divmod(rest, 60_000)
        return prefix + CLOCK_MINUTES[minute] + CLOCK_SECONDS[rest]

    def _offset(self, cust: Customer, ts: float) -> float:
        year = 1970 + int(ts // (365.2425 * DAY))
        dst = self._dst.get(year)
        if dst is None:
            dst = self._dst[year] = _eu_summer_time(year)
        return cust.offset + (HOUR if dst[0] <= ts < dst[1] else 0.0)

    def _season_curve(self) -> list[float]:
        """Daily demand: a quiet late summer, an autumn ramp, the sale, a post-sale dip."""
        curve = []
        n = int((self.t1 - self.t0) // DAY) + 1
        for d in range(n):
            t = self.t0 + d * DAY
            month = datetime.fromtimestamp(t, UTC).month
            level = {8: 0.85, 9: 1.0, 10: 1.1, 11: 1.05}.get(month, 1.0)
            if self.sale_start <= t < self.sale_start + 5 * DAY:
                level *= 1.7
            elif self.sale_start + 5 * DAY <= t < self.sale_start + 9 * DAY:
                level *= 0.85
            curve.append(level)
        return curve

    def _demand(self, cust: Customer, ts: float, hours: tuple[float, ...]) -> float:
        local = ts + self._offset(cust, ts)
        day = int(local // DAY)
        season = self._season[min(len(self._season) - 1, max(0, int((ts - self.t0) // DAY)))]
        return hours[int(local // HOUR) % 24] * WEEKDAY[(day + 3) % 7] * season

    def _next_time(
        self, cust: Customer, after: float, rate: float, hours: tuple[float, ...]
    ) -> float:
        """Next event of a Poisson process with daily, weekly and seasonal rhythm (thinning)."""
        rng = self.rng
        peak = rate * PEAK / DAY
        t = after
        while True:
            t += rng.expovariate(peak)
            if t >= self.t1 or rng.random() * PEAK < self._demand(cust, t, hours):
                return t

    def _schedule(self, ts: float, kind: int, ci: int, payload: Any = None) -> None:
        if ts < self.now:
            raise AssertionError(f"demo: action {kind} scheduled in the past ({ts} < {self.now})")
        if ts < self.t1:
            heapq.heappush(self.actions, (ts, self.seq, kind, ci, payload))
            self.seq += 1

    def _put(self, ts: float, msg: Message | None, tag: tuple[Any, ...] | None = None) -> None:
        heapq.heappush(self.out, (ts, self.seq, msg, tag))
        self.seq += 1

    def _next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _schedule_visits(self) -> None:
        """Each person's first visit, and first shop visit for those with a home store."""
        for c in self.people:
            start = self._next_time(c, c.arrival, c.rate, SESSION_HOURS)
            self._schedule(start, VISIT, c.idx, (None, None, CHAIN))
            if c.store is not None:
                nxt = self._next_time(c, c.arrival, STORE_RATE, STORE_HOURS)
                self._schedule(nxt, STORE, c.idx)

    # ---- the loop ----------------------------------------------------------------------

    def run(self) -> Iterator[Message]:
        """Process every action in time order and yield the messages as time passes."""
        actions, out = self.actions, self.out
        handlers = self.handlers
        pop = heapq.heappop
        observe = self.meter.observe
        noise = self.noise.random
        t1 = self.t1
        horizon = -math.inf  # every action from here on starts at or after this time
        while True:
            if actions:
                ts, _, kind, ci, payload = pop(actions)
                horizon = self.now = ts
            else:
                horizon = math.inf
            # messages before the next action can no longer be preceded by anything new
            while out and out[0][0] <= horizon:
                when, _, msg, tag = pop(out)
                if when >= t1:
                    out.clear()
                    return
                if tag is not None:
                    observe(when, tag)
                if msg is None:
                    continue
                if noise() < INVALID_SHARE:
                    self.invalid += 1
                    self.events += 1
                    yield self._malformed(msg)
                self.events += 1
                yield msg
            if horizon >= t1:
                out.clear()
                return
            handlers[kind](ts, ci, payload)

    def _malformed(self, msg: Message) -> Message:
        """A broken copy of a message, as buggy integrations send: no event, or no identity."""
        bad = copy.deepcopy(msg)  # its own dicts: consumers may mutate either
        bad["messageId"] = self._message_id()
        if msg["type"] == "track" and self.noise.random() < 0.5:
            del bad["event"]
        else:
            bad.pop("userId", None)
            bad.pop("anonymousId", None)
        return bad

    # ---- message builders --------------------------------------------------------------

    def _context(self, s: Session) -> dict[str, Any]:
        dev = s.dev
        c = s.cust
        if dev.app:
            w, h = dev.screen
            ctx: dict[str, Any] = {
                "app": {
                    "name": "Northwind",
                    "version": APP_VERSION[0],
                    "build": APP_VERSION[1],
                    "namespace": "com.northwind.outfitters",
                },
                "device": {
                    "id": dev.device_id,
                    "manufacturer": dev.manufacturer,
                    "model": dev.model,
                    "type": dev.kind,
                },
                "library": {"name": dev.library, "version": LIB_VERSIONS[dev.library]},
                "os": {"name": dev.os[0], "version": dev.os[1]},
                "screen": {"width": w, "height": h},
                "ip": dev.ip,
                "locale": c.locale,
                "timezone": c.tz,
            }
        else:
            path, url, title, ref, search = s.page
            ctx = {
                "library": {"name": "analytics.js", "version": LIB_VERSIONS["analytics.js"]},
                "page": {
                    "path": path,
                    "referrer": ref,
                    "search": search,
                    "title": title,
                    "url": url,
                },
                "userAgent": dev.ua,
                "ip": dev.ip,
                "locale": c.locale,
                "timezone": c.tz,
            }
        if s.campaign is not None:
            ctx["campaign"] = dict(s.campaign)
        return ctx

    def _client(
        self,
        s: Session,
        typ: str,
        key: str,
        value: str,
        props: dict[str, Any],
        tag: tuple[Any, ...] | None = None,
        step: float = 0.0,
    ) -> Message:
        """A message sent by the web or app SDK of the session's device."""
        s.t = t = s.t + step
        msg: Message
        if s.uid is None:
            msg = {"type": typ, key: value, "anonymousId": s.dev.anon}
        else:
            msg = {"type": typ, key: value, "userId": s.uid, "anonymousId": s.dev.anon}
        msg["messageId"] = self._message_id()
        msg["timestamp"] = self._iso(t)
        msg["properties"] = props
        msg["context"] = self._context(s)
        heapq.heappush(self.out, (t, self.seq, msg, tag))
        self.seq += 1
        return msg

    def _server(
        self,
        ts: float,
        library: str,
        event: str,
        uid: str,
        props: dict[str, Any],
        tag: tuple[Any, ...] | None = None,
    ) -> None:
        """A track sent server-side (messaging, help desk, surveys, order system)."""
        msg: Message = {
            "type": "track",
            "event": event,
            "userId": uid,
            "messageId": self._message_id(),
            "timestamp": self._iso(ts),
            "properties": props,
            "context": {"library": {"name": library, "version": LIB_VERSIONS[library]}},
        }
        self._put(ts, msg, tag)

    def _view(
        self,
        s: Session,
        name: str,
        path: str,
        title: str,
        step: float,
        props: dict[str, Any] | None = None,
        referrer: str | None = None,
        search: str = "",
    ) -> None:
        """A page (web) or screen (app) view; it moves the session to that page."""
        s.t += step
        if s.app:
            self._client(s, "screen", "name", name, props or {})
            return
        url = SITE + path + search
        ref = s.page[1] if referrer is None else referrer
        s.page = (path, url, title, ref, search)
        page_props = {"path": path, "referrer": ref, "search": search, "title": title, "url": url}
        if props:
            page_props.update(props)
        self._client(s, "page", "name", name, page_props)

    def _traits(self, c: Customer, ts: float) -> dict[str, Any]:
        return {
            "email": c.email,
            "name": f"{c.first} {c.last}",
            "first_name": c.first,
            "last_name": c.last,
            "phone": c.phone,
            "address": {"city": c.city},
            "loyalty_id": c.loyalty,
            "created_at": self._iso(c.created_at or ts),
            "preferred_platform": c.platform,
            "email_opt_in": c.email_ok,
            "sms_opt_in": c.sms_ok,
            "push_opt_in": c.push_ok,
        }

    def _identify(
        self, s: Session, user_id: str | None, traits: dict[str, Any], step: float = 1.0
    ) -> None:
        s.t += step
        msg: Message = {"type": "identify"}
        if user_id is not None:
            msg["userId"] = user_id
        msg["anonymousId"] = s.dev.anon
        msg["messageId"] = self._message_id()
        msg["timestamp"] = self._iso(s.t)
        msg["traits"] = traits
        msg["context"] = self._context(s)
        self._put(s.t, msg)

    def _sign_in(self, s: Session, signup: bool = False) -> None:
        """The customer signs in (or up) on this device: identify links the anonymous id."""
        c, dev, rng = s.cust, s.dev, self.rng
        if not dev.app and rng.random() < 0.015:  # a buggy login form identifies "null" first
            junk = rng.choice(JUNK_USER_IDS)
            self.junk.add(junk)
            s.uid = junk
            self._identify(s, junk, {}, step=rng.uniform(5, 20))
        if signup:
            c.signed_up = True
            c.created_at = s.t
        s.uid = dev.uid = dev.announced = c.uid
        self._identify(s, c.uid, self._traits(c, s.t), step=rng.uniform(8, 40))
        if signup:
            self._client(
                s,
                "track",
                "event",
                "Signed Up",
                {"method": rng.choice(("email", "google", "apple"))},
                step=0.4,
            )
        else:
            self._client(s, "track", "event", "Signed In", {"method": "password"}, step=0.4)

    def _product_props(self, p: Product, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        props: dict[str, Any] = {
            "product_id": p.pid,
            "sku": p.sku,
            "name": p.name,
            "category": p.category,
            "brand": "Northwind",
            "price": p.price,
            "currency": CURRENCY,
            "url": SITE + p.path,
        }
        if extra:
            props.update(extra)
        return props

    def _pick_product(self, c: Customer) -> Product:
        rng = self.rng
        if rng.random() < 0.45:
            cat = c.favourite
            items = self.by_category[cat]
            return items[bisect(self.category_cum[cat], rng.random() * self.category_cum[cat][-1])]
        return self.products[bisect(self.product_cum, rng.random() * self.product_cum[-1])]

    def _order_line(self, p: Product, qty: int) -> dict[str, Any]:
        return {
            "product_id": p.pid,
            "sku": p.sku,
            "name": p.name,
            "category": p.category,
            "price": p.price,
            "quantity": qty,
        }

    # ---- survey scores -----------------------------------------------------------------

    def _score5(self, mean: float) -> int:
        return max(1, min(5, round(self.rng.gauss(mean, 0.8))))

    def _nps_score(self, c: Customer, ts: float) -> int:
        rng = self.rng
        if c.penalty_until > ts:
            return rng.randint(0, 6)
        r = rng.random()
        return (
            rng.randint(9, 10)
            if r < 0.45
            else (rng.randint(7, 8) if r < 0.75 else rng.randint(0, 6))
        )

    # ---- results -----------------------------------------------------------------------

    def truth(self) -> GroundTruth:
        return GroundTruth(
            seed=self.config.seed,
            customers=self.config.customers,
            anonymous_visitors=len(self.people) - self.config.customers,
            events=self.events,
            invalid_messages=self.invalid,
            period_start=self._iso(self.t0),
            period_end=self._iso(self.t1),
            person_of=self.person_of,
            loyalty_of=self.loyalty_of,
            shared_devices=list(self.shared_devices),
            shared_identifiers={k: list(v) for k, v in self.shared.items()},
            junk_identifiers=sorted(self.junk),
            facts=self.meter.facts(),
        )
