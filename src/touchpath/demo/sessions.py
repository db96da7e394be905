"""Web and app visits: where a session comes from, its landing page or app open, signing in,
browsing, and the cart it may leave for later.

A customer's visits form a chain (each schedules the next, a Poisson process with daily, weekly
and seasonal rhythm); an interested browser comes back later (`FOLLOW`); campaigns and the cart
reminder bring people in (`CLICK`, `RESTORE`); some come back to a cart on their own
(`RETURN`). The sources people come from are the paid-social fact's mixes
(`touchpath.demo.facts.PAID_SOCIAL_ATTRIBUTION`).
"""

from __future__ import annotations

from typing import Any

from touchpath.demo.catalog import (
    CATEGORY_PATH,
    ENGINES,
    REFERRERS,
    SEARCH_CAMPAIGNS,
    SEARCH_TERMS,
    SITE,
    SOCIAL_CAMPAIGNS,
    Product,
)
from touchpath.demo.facts import DAY, EMAIL_WEB_SWITCH, HOUR, SLOW_SUPPORT, SMS_CART_REMINDER
from touchpath.demo.facts import PAID_SOCIAL_ATTRIBUTION as ATTRIBUTION
from touchpath.demo.people import APP_VERSION, JUNK_EMAILS, Customer, Device, Session
from touchpath.demo.simulation import (
    CART_CHECK,
    CHAIN,
    CLICK,
    FOLLOW,
    RESTORE,
    RETURN,
    SESSION_HOURS,
    SWITCH,
    VISIT,
    Core,
    mix,
    pick,
)

__all__ = ["Sessions"]

SUPPORT = SLOW_SUPPORT
REMINDER = SMS_CART_REMINDER
DISCOVERY = mix(ATTRIBUTION.discovery)
ROUTINE = mix(ATTRIBUTION.routine)
ROUTINE_APP = mix(ATTRIBUTION.routine_app)
CLOSING = mix(ATTRIBUTION.closing)
CLOSING_APP = mix(ATTRIBUTION.closing_app)
ENGINE_URLS, ENGINE_CUM = mix(ENGINES)
P_ADD_FOLLOW = 0.62  # an interested customer who came back adds to the cart


class Sessions(Core):
    """Visits on the web and in the app."""

    def _visit(self, ts: float, ci: int, payload: tuple[str | None, str | None, int]) -> None:
        source, campaign, mode = payload
        c = self.people[ci]
        rng = self.rng
        put_off = c.put_off_until > ts
        penalised = c.penalty_until > ts or put_off
        if mode == CHAIN:
            c.sessions += 1
            if not (c.visitor and (c.sessions >= 2 or rng.random() < 0.5)):
                nxt = self._next_time(c, ts, c.rate, SESSION_HOURS)
                self._schedule(nxt, VISIT, ci, (None, None, CHAIN))
            if penalised and rng.random() < SUPPORT.skip_session:
                return
            if put_off and rng.random() < EMAIL_WEB_SWITCH.skip_session:
                return
            if c.visitor or not c.signed_up:
                names, cum = DISCOVERY
            else:
                names, cum = ROUTINE if c.platform == "web" else ROUTINE_APP
            source = pick(rng, names, cum)
        elif mode in (FOLLOW, RETURN):
            names, cum = CLOSING if c.platform == "web" else CLOSING_APP
            source = pick(rng, names, cum)
        if c.hold_until > ts:  # the cart reminder's planted outcome: no visit in its window
            return
        assert source is not None

        dev = self._device(c, ts, source, mode)
        dev.last_seen = ts
        s = Session(c, dev, ts)
        if mode == SWITCH:  # the email's offer is not applied: put off for weeks
            c.put_off_until = max(c.put_off_until, ts + EMAIL_WEB_SWITCH.put_off)
            penalised = True
            self._put(ts, None, ("switch", ci, True))
        elif mode == CLICK and source == "email":
            self._put(ts, None, ("switch", ci, False))
        product = self._pick_product(c)
        if mode in (RETURN, RESTORE) and c.cart:
            product = c.cart[0][0]
        self._landing(s, source, campaign, product, home=mode == SWITCH)

        self._announce(s, c)

        if not (mode in (RETURN, RESTORE) and c.cart):
            self._browse(s, source, mode, product, penalised)
        else:
            self._cart_and_checkout(s, mode, penalised)
        if c.cart and c.last_order < c.last_cart and c.last_cart >= ts:  # cart touched now
            self._schedule(
                c.last_cart + REMINDER.abandoned_after + 1.0, CART_CHECK, ci, c.last_cart
            )

    def _device(self, c: Customer, ts: float, source: str, mode: int) -> Device:
        """The device of a visit; its anonymousId is reset when the browser forgot it."""
        rng = self.rng
        # device: the browser, the phone app, or the family tablet on the sofa
        dev = c.web
        if mode == SWITCH:
            pass  # read the email, then typed the shop's address in the browser
        elif c.tablet is not None and source == "direct" and rng.random() < 0.5:
            dev = c.tablet
        elif c.app is not None and source in ("direct", "push"):
            if source == "push" or rng.random() < (0.85 if c.platform != "web" else 0.3):
                dev = c.app
        elif c.web2 is not None and rng.random() < 0.3:
            dev = c.web2
        assert dev is not None
        # Safari forgets the anonymousId after 7 quiet days (ITP); some people clear cookies
        if (
            not dev.app
            and ((dev.safari and ts - dev.last_seen > 7 * DAY) or rng.random() < 0.04)
            and (dev.last_seen > 0 or rng.random() < 0.5)
        ):
            dev.anon = self._uuid()
            dev.uid = dev.announced = None
            if c.uid:
                self.person_of[dev.anon] = c.uid
        return dev

    def _announce(self, s: Session, c: Customer) -> None:
        """Who the visit says it is: a sign-in, a sign-up, the identify of a known user."""
        rng = self.rng
        dev = s.dev
        # the SDK already knows the user: the site identifies once per period with traits
        if dev.uid is not None and dev.uid != c.uid and dev.shared and c.uid:
            self._sign_in(s)  # family tablet: switch accounts
        elif dev.uid == c.uid and dev.announced != c.uid and c.uid:
            dev.announced = c.uid
            self._identify(s, c.uid, self._traits(c, s.t), step=0.5)
        elif dev.uid is None and c.signed_up and c.uid and rng.random() < 0.22:
            self._sign_in(s)
        elif (
            dev.uid is None and not c.signed_up and c.uid and c.sessions >= 2 and rng.random() < 0.3
        ):
            self._sign_in(s, signup=True)
        elif dev.uid is None and not c.uid and not s.app and rng.random() < 0.01:
            junk = rng.choice(JUNK_EMAILS)  # newsletter footer form filled with junk
            self.junk.add(junk)
            self._identify(s, None, {"email": junk}, step=rng.uniform(10, 60))

    def _landing(
        self, s: Session, source: str, campaign: str | None, product: Product, home: bool = False
    ) -> None:
        """The first page (web) or app open of a session: the session's one touch (`home`:
        on the home page)."""
        rng = self.rng
        c = s.cust
        touch = ("touch", c.idx, source)
        if s.app:
            props: dict[str, Any] = {
                "from_background": rng.random() < 0.6,
                "version": APP_VERSION[0],
            }
            if source == "push":
                s.campaign = {"source": "touchpath", "medium": "push", "name": campaign or "push"}
                props["url"] = f"northwind:/{CATEGORY_PATH[product.category]}"
            self._client(s, "track", "event", "Application Opened", props, touch)
            s.campaign = None
            self._view(s, "Home", "/", "Home", rng.uniform(1, 4))
            return
        referrer = ""
        utm: dict[str, str] = {}
        path, name, title = product.path, "Product", f"{product.name} | Northwind Outfitters"
        if source == "paid_search":
            name_ = rng.choice(SEARCH_CAMPAIGNS)
            term = rng.choice(SEARCH_TERMS[product.category])
            utm = {"source": "google", "medium": "cpc", "name": name_, "term": term}
            referrer = "https://www.google.com/"
        elif source == "paid_social":
            site = "facebook" if rng.random() < 0.55 else "instagram"
            name_ = rng.choice(SOCIAL_CAMPAIGNS)
            utm = {"source": site, "medium": "paid_social", "name": name_, "content": product.pid}
            referrer = f"https://l.{site}.com/"
        elif source in ("email", "sms"):
            utm = {"source": "touchpath", "medium": source, "name": campaign or source}
            if campaign == "cart_reminder":
                path, name, title = "/cart", "Cart", "Your cart | Northwind Outfitters"
            elif source == "sms":
                path, name, title = "/sale", "Category", "Autumn Sale | Northwind Outfitters"
            else:
                category = c.favourite
                path, name = CATEGORY_PATH[category], "Category"
                title = f"{category} | Northwind Outfitters"
        else:
            if source == "organic_search":
                referrer = pick(rng, ENGINE_URLS, ENGINE_CUM)
            elif source == "referral":
                referrer = rng.choice(REFERRERS)
            if home or source == "direct" or rng.random() < 0.25:
                path, name, title = "/", "Home", "Northwind Outfitters - Gear for every trail"
        search = ""
        if utm:
            s.campaign = utm
            search = "?" + "&".join(
                f"utm_{'campaign' if k == 'name' else k}={v}" for k, v in utm.items()
            )
        if name == "Product" and rng.random() < 0.35:
            path, name = CATEGORY_PATH[product.category], "Category"
            title = f"{product.category} | Northwind Outfitters"
        url = SITE + path + search
        s.page = (path, url, title, referrer, search)
        props = {"path": path, "referrer": referrer, "search": search, "title": title, "url": url}
        self._client(s, "page", "name", name, props, touch)
        if name == "Product":
            self._client(
                s,
                "track",
                "event",
                "Product Viewed",
                self._product_props(product),
                step=rng.uniform(0.3, 1.5),
            )
        s.campaign = None

    def _browse(
        self, s: Session, source: str, mode: int, product: Product, penalised: bool
    ) -> None:
        """Product and category views, maybe the cart, maybe interest that brings them back."""
        rng, c = self.rng, s.cust
        viewed = [product] if s.page[0] == product.path else []
        n = 0 if viewed else 1
        while rng.random() < 0.5 and n < 6:
            n += 1
        for _ in range(n):
            p = self._pick_product(c)
            if rng.random() < 0.3:
                title = f"{p.category} | Northwind Outfitters"
                props = {"category": p.category}
                self._view(
                    s, "Category", CATEGORY_PATH[p.category], title, rng.uniform(8, 60), props
                )
            title = f"{p.name} | Northwind Outfitters"
            self._view(s, "Product", p.path, title, rng.uniform(10, 90), {"product_id": p.pid})
            self._client(
                s,
                "track",
                "event",
                "Product Viewed",
                self._product_props(p),
                step=rng.uniform(0.3, 1.5),
            )
            viewed.append(p)
        if rng.random() < 0.05:
            self._help(s)
        damp = SUPPORT.intent if penalised else 1.0
        p_add = (P_ADD_FOLLOW if mode == FOLLOW else ATTRIBUTION.add_to_cart[source]) * damp
        if rng.random() < p_add:
            for p in viewed[-2:] if rng.random() < 0.2 else viewed[-1:]:
                qty = 1 if rng.random() < 0.92 else 2
                c.cart.append((p, qty))
                props = self._product_props(p, {"quantity": qty, "cart_id": c.cart_id})
                self._client(s, "track", "event", "Product Added", props, step=rng.uniform(5, 40))
                c.last_cart = s.t
                c.cart_identified = s.uid == c.uid
        # a cart from before: intent decides whether they go back to it now
        if c.cart and (
            mode == FOLLOW or rng.random() < min(0.6, 2.0 * ATTRIBUTION.add_to_cart[source])
        ):
            self._cart_and_checkout(s, mode, penalised)
        elif not c.cart and c.uid and rng.random() < ATTRIBUTION.interest.get(source, 0.1) * damp:
            delay = max(2 * HOUR, rng.expovariate(1 / (2.5 * DAY)))
            self._schedule(s.t + delay, VISIT, c.idx, (None, None, FOLLOW))
