"""The people of the demo business: customers and anonymous visitors, their devices, and how
they are made (names, cities, consent, which devices they use, the families that share a tablet).

`make_people(sim)` fills `sim.people` from the simulation's random stream and records in the
ground truth which identifier belongs to whom (`sim.person_of`, `sim.loyalty_of`, shared
devices).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from touchpath.demo.catalog import CATALOG, CITIES, STORES, Product
from touchpath.demo.facts import DAY, HOUR

if TYPE_CHECKING:
    from touchpath.demo.simulation import Core

__all__ = [
    "APP_VERSION",
    "DIAL_CODES",
    "JUNK_EMAILS",
    "JUNK_USER_IDS",
    "LIB_VERSIONS",
    "Customer",
    "Device",
    "Session",
    "make_people",
]

FIRST_NAMES = [
    "Anna", "Lukas", "Sofia", "Jonas", "Emma", "Noah", "Mia", "Elias", "Hannah", "Felix", "Lea",
    "Paul", "Clara", "Leon", "Marie", "Max", "Julia", "Tim", "Laura", "David", "Sarah", "Finn",
    "Lena", "Ben", "Nora", "Jan", "Ida", "Tom", "Eva", "Oskar", "Chloe", "Louis", "Camille",
    "Hugo", "Ines", "Luca", "Giulia", "Marco", "Lucia", "Pablo", "Carmen", "Diego", "Saoirse",
    "Conor", "Aoife", "Liam", "Astrid", "Erik", "Freja", "Magnus", "Ingrid", "Lars", "Maja",
    "Sven", "Femke", "Daan", "Sanne", "Joost", "Ruben", "Tess", "Amelie", "Moritz", "Johanna",
]  # fmt: skip
LAST_NAMES = [
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
    "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Kruger",
    "Hartmann", "Lange", "Jansen", "DeVries", "Bakker", "Visser", "Smit", "Martin", "Bernard",
    "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Rossi", "Russo",
    "Ferrari", "Esposito", "Garcia", "Fernandez", "Lopez", "Martinez", "Murphy", "Kelly", "Byrne",
    "Walsh", "Hansen", "Nielsen", "Larsen", "Andersson", "Johansson", "Lindberg", "Silva",
    "Santos", "Ferreira", "Gruber", "Huber", "Bauer", "Steiner", "Moser", "Keller",
]  # fmt: skip
EMAIL_DOMAINS = ("mail.example", "post.example", "inbox.example", "webmail.example")
"""Reserved for examples (RFC 2606) and not blocked by the identity rules (which block
`@example.com`-style test addresses): a demo email identifies its person."""

# user agent, family ("safari" loses its anonymousId after 7 quiet days: ITP)
DESKTOP_AGENTS: list[tuple[str, str, float]] = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.0.0 Safari/537.36",
        "chrome",
        0.45,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.6 Safari/605.1.15",
        "safari",
        0.2,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.0.0 Safari/537.36",
        "chrome",
        0.13,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
        "edge",
        0.12,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
        "firefox",
        0.1,
    ),
]
IOS_WEB_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1"
)
ANDROID_WEB_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Mobile Safari/537.36"
)
IOS_DEVICES = [("iPhone15,2", 393, 852), ("iPhone15,4", 393, 852), ("iPhone16,1", 393, 852)]
ANDROID_DEVICES = [
    ("Google", "Pixel 8", 412, 915),
    ("samsung", "SM-S911B", 360, 780),
    ("samsung", "SM-A546B", 384, 854),
    ("OnePlus", "CPH2581", 412, 919),
]
APP_VERSION = ("6.4.1", "6041")
LIB_VERSIONS = {
    "analytics.js": "npm:next-1.74.0",
    "analytics-ios": "4.1.8",
    "analytics-android": "4.11.3",
    "touchpath-messaging": "0.1.0",
    "helpdesk-webhook": "0.1.0",
    "survey-webhook": "0.1.0",
    "reviews-webhook": "0.1.0",
    "analytics-python": "2.3.3",
    "pos": "3.8.2",
}
DIAL_CODES = {
    "de-DE": "+49 15",
    "de-AT": "+43 66",
    "de-CH": "+41 7",
    "nl-NL": "+31 6",
    "fr-BE": "+32 4",
    "fr-FR": "+33 6",
    "da-DK": "+45 2",
    "sv-SE": "+46 7",
    "it-IT": "+39 3",
    "es-ES": "+34 6",
    "en-IE": "+353 8",
    "pt-PT": "+351 9",
}
JUNK_USER_IDS = ("null", "undefined", "0")
JUNK_EMAILS = ("anonymous", "test@test.com", "none@none.com", "noemail@example.com")


class Device:
    """A browser, phone app or family tablet, with what its SDK remembers."""

    __slots__ = (
        "announced",
        "anon",
        "app",
        "device_id",
        "ip",
        "kind",
        "last_seen",
        "library",
        "manufacturer",
        "model",
        "os",
        "safari",
        "screen",
        "shared",
        "ua",
        "uid",
    )

    def __init__(self, kind: str, anon: str) -> None:
        self.kind = kind  # "web", "ios" or "android"
        self.app = kind != "web"
        self.anon = anon
        self.uid: str | None = None  # the userId the SDK has persisted
        self.announced: str | None = None  # the userId an identify was sent for this period
        self.device_id = ""
        self.ip = ""
        self.ua = ""
        self.safari = False
        self.last_seen = -1e18
        self.shared = False
        self.library = "analytics.js"
        self.manufacturer = ""
        self.model = ""
        self.os = ("", "")
        self.screen = (0, 0)


class Customer:
    """One person: attributes, devices, and the little state the simulation needs."""

    __slots__ = (
        "app",
        "arrival",
        "buy_by",
        "cart",
        "cart_identified",
        "carts",
        "city",
        "created_at",
        "decided_until",
        "email",
        "email_ok",
        "engagement",
        "favourite",
        "first",
        "hold_until",
        "idx",
        "in_journey",
        "last",
        "last_cart",
        "last_entered",
        "last_order",
        "locale",
        "loyalty",
        "offset",
        "penalty_until",
        "phone",
        "platform",
        "push_ok",
        "put_off_until",
        "rate",
        "sessions",
        "signed_up",
        "sms_ok",
        "store",
        "tablet",
        "tz",
        "uid",
        "visitor",
        "web",
        "web2",
    )

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.uid = ""  # "" for anonymous visitors who never sign up
        self.visitor = False
        self.first = self.last = self.email = self.phone = self.loyalty = ""
        self.city = self.tz = self.locale = ""
        self.offset = 0.0
        self.platform = "web"
        self.favourite = "Jackets"
        self.web = Device("web", "")
        self.web2: Device | None = None
        self.app: Device | None = None
        self.tablet: Device | None = None
        self.email_ok = self.sms_ok = self.push_ok = False
        self.engagement = 0.1
        self.rate = 0.05
        self.signed_up = True
        self.arrival = 0.0
        self.created_at = 0.0
        self.store: tuple[str, str] | None = None
        self.cart: list[tuple[Product, int]] = []
        self.cart_identified = False
        self.last_cart = -1.0
        self.last_order = -1.0
        self.penalty_until = -1.0
        self.put_off_until = -1.0  # after a failed email-to-web switch (facts.EMAIL_WEB_SWITCH)
        self.sessions = 0
        # the abandoned-cart journey (touchpath.demo.reminders)
        self.carts = 0  # orders placed from the cart: the cart id is cart_<idx>_<carts>
        self.last_entered = ""  # the cart id that last entered the journey (once per cart)
        self.in_journey: list[Any] | None = None  # [cart id, entered at, node, step]
        self.decided_until = -1.0  # a split's planted outcome holds until then
        self.buy_by = -1.0  # ...they order by then (planted: the order goes through)
        self.hold_until = -1.0  # ...or they do not order before then

    @property
    def cart_id(self) -> str:
        """The id of the cart being filled now (a new one after each order from it)."""
        return f"cart_{self.idx}_{self.carts}"


class Session:
    """One visit on one device: who, where, and the current page."""

    __slots__ = ("app", "campaign", "cust", "dev", "page", "t", "uid")

    def __init__(self, cust: Customer, dev: Device, t: float) -> None:
        self.cust = cust
        self.dev = dev
        self.app = dev.app
        self.t = t
        self.uid = dev.uid
        self.campaign: dict[str, str] | None = None
        self.page: tuple[str, str, str, str, str] = (
            "",
            "",
            "",
            "",
            "",
        )  # path url title ref search


def make_people(sim: Core) -> None:
    """Customers (with a userId, email, phone, loyalty card, consent, devices; a quarter not
    signed up yet) and anonymous visitors (a quarter as many), into `sim.people`."""
    rng = sim.rng
    cfg = sim.config
    city_weights = [c[4] for c in CITIES]
    n_visitors = cfg.customers // 4
    for i in range(cfg.customers + n_visitors):
        c = Customer(i)
        city = rng.choices(CITIES, city_weights)[0]
        c.city, c.tz, c.locale = city[0], city[1], city[2]
        c.offset = city[3] * HOUR
        c.first, c.last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        r = rng.random()
        c.platform = "web" if r < 0.5 else ("ios" if r < 0.75 else "android")
        c.favourite = rng.choice(list(CATALOG))
        c.web = _browser(sim, c)
        c.engagement = rng.choice((0.04, 0.12, 0.25, 0.45))
        c.arrival = sim.t0
        c.signed_up = True
        if i >= cfg.customers:
            c.visitor = True
            c.signed_up = False
            c.arrival = sim.t0 + rng.random() * (sim.t1 - sim.t0)
            c.rate = 0.25
            c.email_ok = c.sms_ok = c.push_ok = False
            sim.people.append(c)
            continue
        c.uid = f"u_{i + 1:06d}"
        sim.person_of[c.web.anon] = c.uid
        local = f"{c.first}.{c.last}{rng.randrange(1, 99)}".lower()
        domain = rng.choice(EMAIL_DOMAINS)
        c.email = f"{local}@{domain}"
        if c.email in sim.emails:  # a namesake has it: one address is one person
            c.email = f"{local}.{i + 1}@{domain}"
        sim.emails.add(c.email)
        c.phone = f"{DIAL_CODES[c.locale]} {rng.randrange(10**8, 10**9)}"
        while True:
            loyalty = f"L{rng.randrange(1_000_000, 10_000_000)}"
            if loyalty not in sim.loyalty_of:
                break
        c.loyalty = loyalty
        sim.loyalty_of[loyalty] = c.uid
        if c.platform != "web" or rng.random() < 0.3:
            c.app = _app_device(
                sim, c, c.platform if c.platform != "web" else rng.choice(("ios", "android"))
            )
        if rng.random() < 0.12:
            c.web2 = _browser(sim, c, desktop=True)
            sim.person_of[c.web2.anon] = c.uid
        c.email_ok = rng.random() < 0.6
        c.sms_ok = rng.random() < 0.35
        c.push_ok = c.app is not None and rng.random() < 0.55
        c.rate = rng.lognormvariate(math.log(0.045), 0.6)
        c.signed_up = rng.random() >= 0.25
        years = rng.uniform(0.2, 6.0)
        c.created_at = sim.t0 - years * 365 * DAY
        if not c.signed_up:
            c.arrival = sim.t0 + rng.random() * max(0.0, sim.t1 - sim.t0 - 7 * DAY)
            c.created_at = 0.0
            c.rate *= 1.4
        else:
            c.web.uid = c.uid if rng.random() < 0.55 else None
            if c.app is not None:
                c.app.uid = c.uid if rng.random() < 0.9 else None
        home_store = STORES.get(c.city)
        if home_store and rng.random() < 0.55:
            c.store = home_store
        sim.people.append(c)
    _share_tablets(sim)


def _browser(sim: Core, c: Customer, desktop: bool = False) -> Device:
    rng = sim.rng
    dev = Device("web", sim._uuid())
    if desktop or c.platform == "web":
        ua, family, _ = rng.choices(DESKTOP_AGENTS, [a[2] for a in DESKTOP_AGENTS])[0]
    elif c.platform == "ios":
        ua, family = IOS_WEB_AGENT, "safari"
    else:
        ua, family = ANDROID_WEB_AGENT, "chrome"
    dev.ua, dev.safari = ua, family == "safari"
    dev.ip = _ip(sim)
    return dev


def _ip(sim: Core) -> str:
    rng = sim.rng
    # documentation ranges only (RFC 5737, RFC 3849): never a real person's address
    if rng.random() < 0.3:
        return f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randrange(1, 255)}"
    return f"2001:db8:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"


def _app_device(sim: Core, c: Customer, kind: str, tablet: bool = False) -> Device:
    rng = sim.rng
    dev = Device(kind, sim._uuid())
    if kind == "ios":
        dev.device_id = sim._uuid().upper()  # identifierForVendor
        dev.library = "analytics-ios"
        dev.manufacturer = "Apple"
        if tablet:
            dev.model, width, height = "iPad13,18", 820, 1180
        else:
            dev.model, width, height = rng.choice(IOS_DEVICES)
        dev.os = ("iOS", rng.choice(("17.6.1", "18.0", "18.0.1")))
    else:
        dev.device_id = f"{rng.getrandbits(64):016x}"  # ANDROID_ID
        dev.library = "analytics-android"
        if tablet:
            dev.manufacturer, dev.model, width, height = "samsung", "SM-X710", 800, 1280
        else:
            dev.manufacturer, dev.model, width, height = rng.choice(ANDROID_DEVICES)
        dev.os = ("Android", rng.choice(("13", "14", "15")))
    dev.screen = (width, height)
    dev.ip = _ip(sim)
    if c.uid and not tablet:
        sim.person_of[dev.anon] = c.uid
        sim.person_of[dev.device_id] = c.uid
    return dev


def _share_tablets(sim: Core) -> None:
    """A few families share a tablet: two customers sign in on one device (ambiguous)."""
    rng = sim.rng
    pool = [c for c in sim.people if not c.visitor and c.signed_up]
    pairs = max(1, sim.config.customers // 400) if len(pool) >= 2 else 0
    for _ in range(pairs):
        a, b = rng.sample(pool, 2)
        if a.tablet or b.tablet:
            continue
        b.last, b.city, b.tz, b.locale, b.offset = a.last, a.city, a.tz, a.locale, a.offset
        tablet = _app_device(sim, a, rng.choice(("ios", "android")), tablet=True)
        tablet.shared = True
        tablet.uid = a.uid
        a.tablet = b.tablet = tablet
        sim.shared_devices.append(tablet.device_id)
        sim.shared[tablet.device_id] = sorted((a.uid, b.uid))
        sim.shared[tablet.anon] = sorted((a.uid, b.uid))
