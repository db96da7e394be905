"""The seeded demo business: Northwind Outfitters, an omnichannel outdoor retailer.

`DemoBusiness(config).batches()` streams Segment-spec messages (plain dicts, exactly what an
SDK would POST to /v1/batch) in time order, deterministically for a seed. The simulation is
event-driven: a heap of future actions (a visit, a store purchase, a campaign send, a delivery,
a ticket resolution, ...) is processed in time order; each action writes the messages of its
next few minutes into a small output heap, which is emitted as simulated time passes. Memory
holds the customers and about an hour of messages, never the whole feed.

Four effects are planted (docs/demo.md): app checkout drop-off, a slow support queue that sours
feedback and sales, an SMS cart reminder that lifts conversion, and paid social that opens but
rarely closes journeys. `truth.FactMeter` measures them on the emitted messages.
"""

from __future__ import annotations

import copy
import heapq
import math
import random
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from touchpath.demo.truth import DAY, HOUR, FactMeter, GroundTruth

__all__ = ["DemoBusiness", "DemoConfig"]

Message = dict[str, Any]
MINUTE = 60.0
DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of the demo business. `end` is the last day of the simulated period."""

    customers: int = 20_000
    days: int = 90
    seed: int = 7
    end: datetime = DEFAULT_END

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError(f"DemoConfig.customers: must be at least 1, got {self.customers}")
        if self.days < 1:
            raise ValueError(f"DemoConfig.days: must be at least 1, got {self.days}")
        if self.end.tzinfo is None:
            raise ValueError("DemoConfig.end: must be timezone-aware (UTC)")


# --------------------------------------------------------------------------------------------
# The world: catalog, places, people, devices, words
# --------------------------------------------------------------------------------------------

SITE = "https://www.northwind-outfitters.example"
CURRENCY = "EUR"

# category -> (product name, price in EUR, quality 1-5)
CATALOG: dict[str, list[tuple[str, float, float]]] = {
    "Jackets": [
        ("Ridgeline Rain Jacket", 149.0, 4.4),
        ("Summit Down Jacket", 229.0, 4.6),
        ("Trailhead Softshell", 119.0, 4.1),
        ("Stormbreak Hardshell", 289.0, 4.5),
        ("Featherlite Wind Shell", 79.0, 3.6),
        ("Fjord Insulated Parka", 259.0, 4.2),
    ],
    "Footwear": [
        ("Granite Hiking Boot", 169.0, 4.3),
        ("Trail Runner X", 129.0, 3.7),
        ("Canyon Approach Shoe", 139.0, 4.0),
        ("Merino Hiking Socks 3-pack", 24.0, 4.5),
        ("Camp Slip-on", 59.0, 3.9),
    ],
    "Backpacks": [
        ("Daypack 22L", 69.0, 4.4),
        ("Expedition Pack 65L", 219.0, 4.3),
        ("Hydration Pack 12L", 59.0, 3.8),
        ("Commuter Pack 28L", 89.0, 4.1),
    ],
    "Camping": [
        ("Basecamp 3P Tent", 349.0, 4.2),
        ("Ultralight 1P Tent", 279.0, 3.6),
        ("Alpine Sleeping Bag -5C", 189.0, 4.4),
        ("Self-inflating Mat", 69.0, 3.9),
        ("Camp Stove Mini", 45.0, 4.5),
    ],
    "Base Layers": [
        ("Merino 200 Long Sleeve", 79.0, 4.6),
        ("Merino Leggings", 69.0, 4.4),
        ("Synthetic Tee", 29.0, 3.9),
        ("Grid Fleece Midlayer", 89.0, 4.2),
    ],
    "Accessories": [
        ("Merino Beanie", 25.0, 4.5),
        ("Headlamp 400", 39.0, 4.1),
        ("Insulated Bottle 750ml", 29.0, 4.6),
        ("Trekking Poles", 79.0, 3.8),
        ("Waterproof Gloves", 45.0, 3.5),
        ("Trail Gaiters", 35.0, 4.0),
    ],
}

# name, time zone, locale, UTC offset in winter (hours), weight, has a store
CITIES: list[tuple[str, str, str, int, float, bool]] = [
    ("Berlin", "Europe/Berlin", "de-DE", 1, 12.0, True),
    ("Hamburg", "Europe/Berlin", "de-DE", 1, 7.0, True),
    ("Munich", "Europe/Berlin", "de-DE", 1, 8.0, True),
    ("Cologne", "Europe/Berlin", "de-DE", 1, 5.0, False),
    ("Frankfurt", "Europe/Berlin", "de-DE", 1, 4.0, False),
    ("Vienna", "Europe/Vienna", "de-AT", 1, 6.0, True),
    ("Zurich", "Europe/Zurich", "de-CH", 1, 4.0, False),
    ("Amsterdam", "Europe/Amsterdam", "nl-NL", 1, 7.0, True),
    ("Rotterdam", "Europe/Amsterdam", "nl-NL", 1, 3.0, False),
    ("Brussels", "Europe/Brussels", "fr-BE", 1, 3.0, False),
    ("Paris", "Europe/Paris", "fr-FR", 1, 9.0, True),
    ("Lyon", "Europe/Paris", "fr-FR", 1, 3.0, False),
    ("Copenhagen", "Europe/Copenhagen", "da-DK", 1, 3.0, False),
    ("Stockholm", "Europe/Stockholm", "sv-SE", 1, 3.0, False),
    ("Milan", "Europe/Rome", "it-IT", 1, 4.0, False),
    ("Madrid", "Europe/Madrid", "es-ES", 1, 4.0, False),
    ("Dublin", "Europe/Dublin", "en-IE", 0, 3.0, False),
    ("Lisbon", "Europe/Lisbon", "pt-PT", 0, 2.0, False),
]

FIRST_NAMES = [
    "Anna",
    "Lukas",
    "Sofia",
    "Jonas",
    "Emma",
    "Noah",
    "Mia",
    "Elias",
    "Hannah",
    "Felix",
    "Lea",
    "Paul",
    "Clara",
    "Leon",
    "Marie",
    "Max",
    "Julia",
    "Tim",
    "Laura",
    "David",
    "Sarah",
    "Finn",
    "Lena",
    "Ben",
    "Nora",
    "Jan",
    "Ida",
    "Tom",
    "Eva",
    "Oskar",
    "Chloe",
    "Louis",
    "Camille",
    "Hugo",
    "Ines",
    "Luca",
    "Giulia",
    "Marco",
    "Lucia",
    "Pablo",
    "Carmen",
    "Diego",
    "Saoirse",
    "Conor",
    "Aoife",
    "Liam",
    "Astrid",
    "Erik",
    "Freja",
    "Magnus",
    "Ingrid",
    "Lars",
    "Maja",
    "Sven",
    "Femke",
    "Daan",
    "Sanne",
    "Joost",
    "Ruben",
    "Tess",
    "Amelie",
    "Moritz",
    "Johanna",
]
LAST_NAMES = [
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Kruger",
    "Hartmann",
    "Lange",
    "Jansen",
    "DeVries",
    "Bakker",
    "Visser",
    "Smit",
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Garcia",
    "Fernandez",
    "Lopez",
    "Martinez",
    "Murphy",
    "Kelly",
    "Byrne",
    "Walsh",
    "Hansen",
    "Nielsen",
    "Larsen",
    "Andersson",
    "Johansson",
    "Lindberg",
    "Silva",
    "Santos",
    "Ferreira",
    "Gruber",
    "Huber",
    "Bauer",
    "Steiner",
    "Moser",
    "Keller",
]
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")

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


def _cumulative(weights: list[float]) -> list[float]:
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    return cum


def _pick(rng: random.Random, names: list[str], cum: list[float]) -> str:
    """One of `names` by cumulative weights (what `random.choices` does, without its overhead)."""
    return names[bisect(cum, rng.random() * cum[-1])]


def _mix(pairs: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    """Names and cumulative weights, ready for `random.choices(..., cum_weights=...)`."""
    return [p[0] for p in pairs], _cumulative([p[1] for p in pairs])


# where journeys start: prospects and first sessions
DISCOVERY = _mix(
    [
        ("paid_social", 0.42),
        ("organic_search", 0.2),
        ("direct", 0.1),
        ("paid_search", 0.12),
        ("referral", 0.16),
    ]
)
# how known customers come back on their own (web-first and app-first people)
ROUTINE = _mix(
    [
        ("direct", 0.28),
        ("organic_search", 0.16),
        ("paid_search", 0.14),
        ("paid_social", 0.34),
        ("referral", 0.08),
    ]
)
ROUTINE_APP = _mix(
    [
        ("direct", 0.4),
        ("organic_search", 0.1),
        ("paid_search", 0.1),
        ("paid_social", 0.34),
        ("referral", 0.06),
    ]
)
# how an interested customer comes back to buy
CLOSING = _mix(
    [
        ("paid_search", 0.38),
        ("direct", 0.38),
        ("organic_search", 0.17),
        ("referral", 0.05),
        ("paid_social", 0.02),
    ]
)
CLOSING_APP = _mix(
    [
        ("paid_search", 0.22),
        ("direct", 0.62),
        ("organic_search", 0.11),
        ("referral", 0.03),
        ("paid_social", 0.02),
    ]
)
# probability that a session puts something in the cart, by source; paid social browses
P_ADD = {
    "paid_social": 0.025,
    "paid_search": 0.30,
    "organic_search": 0.18,
    "direct": 0.24,
    "referral": 0.15,
    "email": 0.40,
    "sms": 0.35,
    "push": 0.22,
}
P_ADD_FOLLOW = 0.62
# probability that a session that browsed (no cart) brings the customer back interested
P_INTEREST = {"paid_social": 0.45, "referral": 0.25, "organic_search": 0.2}
P_CHECKOUT = 0.58
P_CHECKOUT_FOLLOW = 0.78
# the planted checkout problem: payment on the app fails far more often (False: web, True: app)
P_PAYMENT = {False: 0.87, True: 0.60}
P_COMPLETE = {False: 0.85, True: 0.80}
# the planted support effect: 30 days after a slow ticket people come less and buy less
P_SLOW_TICKET = 0.35
PENALTY_SKIP_SESSION = 0.22
PENALTY_INTENT = 0.75
PENALTY_SKIP_STORE = 0.4
# abandoned carts: coming back on their own within three days; the reminder's click-through
P_RETURN = 0.16
P_RETURN_LATER = 0.05
P_REMINDER_CLICK = 0.19
P_EMAIL_CLICK = {"nps": 0.4, "sale": 0.25, "newsletter": 0.18}

SEARCH_TERMS = {
    "Jackets": ["rain jacket", "waterproof jacket women", "down jacket sale"],
    "Footwear": ["hiking boots", "trail running shoes", "waterproof boots men"],
    "Backpacks": ["hiking backpack 22l", "daypack", "65l trekking backpack"],
    "Camping": ["lightweight tent", "sleeping bag winter", "camping stove"],
    "Base Layers": ["merino base layer", "thermal leggings", "fleece jacket"],
    "Accessories": ["headlamp", "trekking poles", "insulated bottle"],
}
SEARCH_CAMPAIGNS = ["brand_search", "generic_outdoor", "shopping_feed", "competitor_terms"]
SOCIAL_CAMPAIGNS = ["autumn_lookbook", "trail_stories_video", "prospecting_lookalike", "ugc_reels"]
REFERRERS = [
    "https://www.outdoorgearlab.example/best-rain-jackets",
    "https://www.reddit.com/r/hiking/",
    "https://www.trailforum.example/threads/boots",
    "https://www.komoot.com/",
    "https://blog.alpinetrails.example/packing-list",
]
ENGINE_URLS, ENGINE_CUM = _mix(
    [
        ("https://www.google.com/", 0.86),
        ("https://www.bing.com/", 0.08),
        ("https://duckduckgo.com/", 0.06),
    ]
)
NEWSLETTER_THEMES = [
    ("trail_season", "Trail season is here: new boots and packs"),
    ("rain_ready", "Rain-ready: jackets that keep you dry"),
    ("layering_101", "Layering 101 for cold mornings"),
    ("camp_checklist", "Your autumn camping checklist"),
    ("members_picks", "Members' picks of the month"),
    ("new_arrivals", "Just landed: new arrivals"),
    ("trail_running", "Run the trails: shoes and vests"),
]
TICKET_TOPICS = {
    "delivery": ("my delivery", "Where is my order?"),
    "returns": ("my return", "Return and refund"),
    "sizing": ("the sizing", "Wrong size, need an exchange"),
    "damaged": ("the damaged item", "Item arrived damaged"),
    "payment": ("my payment", "Payment failed in the app"),
    "account": ("my account", "Cannot log in to my account"),
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

# --- words customers use (VADER-friendly: negative reads clearly negative, positive positive)
NEG_SUPPORT = [
    "Waited {days} for an answer about {topic}. Terrible, useless support.",
    "Nobody replied for {days}. Really disappointed with how {topic} was handled.",
    "Awful experience. I had to chase {topic} again and again before anyone helped.",
    "Slow, unhelpful and frustrating. {days} of silence about {topic}.",
    "Terrible service. {topic_cap} took forever and nobody cared. Very disappointed.",
    "Horrible wait, {days} before anyone looked at {topic}. Unacceptable and stressful.",
    "Worst customer service ever, {days} of waiting about {topic}. Shame on you.",
    "Very poor support, {days} without a reply about {topic}. I am angry and will not order again.",
]
POS_SUPPORT = [
    "Quick and friendly help with {topic}, thank you!",
    "Great support, {topic} was sorted within hours. Really happy.",
    "Excellent service, the agent was helpful and kind about {topic}.",
    "Fast answer and a great solution for {topic}. Thanks a lot!",
    "Super helpful team, {topic} fixed the same day. Love it.",
    "Brilliant support, friendly people and {topic} solved quickly. Thank you!",
]
MID_SUPPORT = [
    "It took a while but {topic} got resolved in the end.",
    "Okay support, {topic} is sorted now.",
]
NEG_DELIVERY = [
    "My {product} arrived a week late, very disappointing.",
    "Delivery was terrible and slow, the {product} came days late. Very disappointed.",
    "Late parcel and no updates. Frustrating, annoying wait for my {product}.",
    "Awful delivery, the {product} box was crushed and a week late.",
]
POS_DELIVERY = [
    "Fast delivery, the {product} arrived well packed. Great!",
    "Arrived earlier than expected, love my new {product}.",
    "Quick and easy delivery, the {product} is perfect. Thank you!",
    "Great service, my {product} came the next day. Very happy!",
]
NEG_CHECKOUT = [
    "The app checkout kept failing at payment, so frustrating.",
    "Payment in the app was broken twice, annoying and confusing.",
    "Awful payment page in the app, it rejected my card for no reason.",
    "Terrible checkout, the card page crashed and I almost gave up.",
]
POS_CHECKOUT = [
    "Easy checkout, great experience.",
    "Smooth and quick payment, love it.",
    "Checkout was simple and fast. Nice!",
    "Paying was quick and secure, great app.",
]
POS_NPS = [
    "Love Northwind, great quality gear and friendly staff.",
    "Great products and excellent service, I recommend them to all my friends.",
    "Reliable, helpful and the {product} is the best I have owned.",
]
MID_NPS = [
    "Good gear but prices are a bit high.",
    "Decent shop, delivery could be faster.",
]
NEG_NPS = [
    "Poor service lately, support ignored me for days. Disappointed.",
    "Bad experience, slow answers and a broken {product}. Not impressed.",
    "Terrible support and late deliveries, really disappointing. I will shop elsewhere.",
    "Used to love this shop, now it is frustrating and unreliable. Sad.",
]
REVIEW_TEXT = {
    5: [
        "Absolutely love this {product}. Excellent quality and fits perfectly.",
        "Best {product} I have owned, great on long hikes.",
        "Fantastic {product}, warm, comfortable and well made. Highly recommend!",
    ],
    4: [
        "Very good {product}, comfortable and nice design.",
        "Good value, the {product} works well on the trail.",
    ],
    3: [
        "The {product} is okay, nothing special.",
        "Average {product}, does the job but feels a bit cheap.",
    ],
    2: [
        "Disappointed with the {product}, it started to wear out quickly.",
        "Poor fit and uncomfortable {product}, not worth the price.",
    ],
    1: [
        "Terrible {product}, it broke after two hikes. Do not buy.",
        "Awful quality, the {product} leaked on the first rainy day. Waste of money.",
    ],
}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _eu_summer_time(year: int) -> tuple[float, float]:
    """Start and end (UTC epoch seconds) of EU summer time: last Sundays of March and October."""

    def last_sunday(month: int) -> datetime:
        day = datetime(year, month, 31, 1, tzinfo=UTC)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    return last_sunday(3).timestamp(), last_sunday(10).timestamp()


@dataclass(frozen=True)
class _Product:
    pid: str
    sku: str
    name: str
    category: str
    price: float
    quality: float
    path: str


def _catalog() -> list[_Product]:
    products = []
    n = 1001
    for category, items in CATALOG.items():
        for name, price, quality in items:
            pid = f"NW-{n}"
            products.append(
                _Product(
                    pid,
                    f"{pid}-{name[:3].upper()}",
                    name,
                    category,
                    price,
                    quality,
                    f"/p/{_slug(name)}-{n}",
                )
            )
            n += 1
    return products


class _Device:
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


class _Customer:
    """One person: attributes, devices, and the little state the simulation needs."""

    __slots__ = (
        "app",
        "arrival",
        "cart",
        "cart_identified",
        "city",
        "created_at",
        "email",
        "email_ok",
        "engagement",
        "favourite",
        "first",
        "idx",
        "last",
        "last_cart",
        "last_order",
        "locale",
        "loyalty",
        "offset",
        "penalty_until",
        "phone",
        "platform",
        "push_ok",
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
        self.web = _Device("web", "")
        self.web2: _Device | None = None
        self.app: _Device | None = None
        self.tablet: _Device | None = None
        self.email_ok = self.sms_ok = self.push_ok = False
        self.engagement = 0.1
        self.rate = 0.05
        self.signed_up = True
        self.arrival = 0.0
        self.created_at = 0.0
        self.store: tuple[str, str] | None = None
        self.cart: list[tuple[_Product, int]] = []
        self.cart_identified = False
        self.last_cart = -1.0
        self.last_order = -1.0
        self.penalty_until = -1.0
        self.sessions = 0


class _Session:
    """One visit on one device: who, where, and the current page."""

    __slots__ = ("app", "campaign", "cust", "dev", "page", "t", "uid")

    def __init__(self, cust: _Customer, dev: _Device, t: float) -> None:
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


INVALID_SHARE = 0.001  # malformed messages, for the collector's rejected-messages table
CATEGORY_PATH = {category: f"/c/{_slug(category)}" for category in CATALOG}
# "HH:MM:" for every minute of a day and "SS.mmmZ" for every millisecond of a minute
CLOCK_MINUTES = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
CLOCK_SECONDS = [f"{ms // 1000:02d}.{ms % 1000:03d}Z" for ms in range(60_000)]

# action kinds
VISIT, STORE, EMAIL_SEND, EMAIL_OPEN, PUSH_SEND, PUSH_OPEN, SMS_SEND, SMS_OPEN = range(8)
CART_CHECK, SMS_REMINDER, DELIVERY, TICKET, RESOLVE, SURVEY, REVIEW = range(8, 15)
# visit modes
CHAIN, FOLLOW, CLICK, RETURN, RESTORE = range(5)


# --------------------------------------------------------------------------------------------
# The simulation
# --------------------------------------------------------------------------------------------


class _Simulation:
    """Runs the business once; `run()` yields messages in time order."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.noise = random.Random(config.seed * 1_000_003 + 17)
        last_day = config.end.replace(hour=0, minute=0, second=0, microsecond=0)
        self.t0 = (last_day - timedelta(days=config.days - 1)).timestamp()
        self.t1 = (last_day + timedelta(days=1)).timestamp()
        self.sale_start = self.t1 - 18 * DAY
        self.products = _catalog()
        self.by_category: dict[str, list[_Product]] = {}
        for p in self.products:
            self.by_category.setdefault(p.category, []).append(p)
        # cheaper things are looked at (and bought) more
        self.product_cum = _cumulative([p.price**-1.3 for p in self.products])
        self.category_cum = {
            cat: _cumulative([p.price**-1.3 for p in items])
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
        self.people: list[_Customer] = []
        self._make_people()
        self._schedule_start()
        self.handlers: list[Callable[[float, int, Any], None]] = [
            self._visit,
            self._store,
            self._email_send,
            self._email_open,
            self._push_send,
            self._push_open,
            self._sms_send,
            self._sms_open,
            self._cart_check,
            self._sms_reminder,
            self._delivery,
            self._ticket,
            self._resolve,
            self._survey,
            self._review,
        ]

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

    def _offset(self, cust: _Customer, ts: float) -> float:
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

    def _demand(self, cust: _Customer, ts: float, hours: tuple[float, ...]) -> float:
        local = ts + self._offset(cust, ts)
        day = int(local // DAY)
        season = self._season[min(len(self._season) - 1, max(0, int((ts - self.t0) // DAY)))]
        return hours[int(local // HOUR) % 24] * WEEKDAY[(day + 3) % 7] * season

    def _next_time(
        self, cust: _Customer, after: float, rate: float, hours: tuple[float, ...]
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

    # ---- people ------------------------------------------------------------------------

    def _make_people(self) -> None:
        rng = self.rng
        cfg = self.config
        city_weights = [c[4] for c in CITIES]
        n_visitors = cfg.customers // 4
        for i in range(cfg.customers + n_visitors):
            c = _Customer(i)
            city = rng.choices(CITIES, city_weights)[0]
            c.city, c.tz, c.locale = city[0], city[1], city[2]
            c.offset = city[3] * HOUR
            c.first, c.last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            r = rng.random()
            c.platform = "web" if r < 0.5 else ("ios" if r < 0.75 else "android")
            c.favourite = rng.choice(list(CATALOG))
            c.web = self._browser(c)
            c.engagement = rng.choice((0.04, 0.12, 0.25, 0.45))
            c.arrival = self.t0
            c.signed_up = True
            if i >= cfg.customers:
                c.visitor = True
                c.signed_up = False
                c.arrival = self.t0 + rng.random() * (self.t1 - self.t0)
                c.rate = 0.25
                c.email_ok = c.sms_ok = c.push_ok = False
                self.people.append(c)
                continue
            c.uid = f"u_{i + 1:06d}"
            self.person_of[c.web.anon] = c.uid
            local = f"{c.first}.{c.last}{rng.randrange(1, 99)}".lower()
            domain = rng.choice(EMAIL_DOMAINS)
            c.email = f"{local}@{domain}"
            if c.email in self.emails:  # a namesake has it: one address is one person
                c.email = f"{local}.{i + 1}@{domain}"
            self.emails.add(c.email)
            c.phone = f"{DIAL_CODES[c.locale]} {rng.randrange(10**8, 10**9)}"
            while True:
                loyalty = f"L{rng.randrange(1_000_000, 10_000_000)}"
                if loyalty not in self.loyalty_of:
                    break
            c.loyalty = loyalty
            self.loyalty_of[loyalty] = c.uid
            if c.platform != "web" or rng.random() < 0.3:
                c.app = self._app_device(
                    c, c.platform if c.platform != "web" else rng.choice(("ios", "android"))
                )
            if rng.random() < 0.12:
                c.web2 = self._browser(c, desktop=True)
                self.person_of[c.web2.anon] = c.uid
            c.email_ok = rng.random() < 0.6
            c.sms_ok = rng.random() < 0.35
            c.push_ok = c.app is not None and rng.random() < 0.55
            c.rate = rng.lognormvariate(math.log(0.045), 0.6)
            c.signed_up = rng.random() >= 0.25
            years = rng.uniform(0.2, 6.0)
            c.created_at = self.t0 - years * 365 * DAY
            if not c.signed_up:
                c.arrival = self.t0 + rng.random() * max(0.0, self.t1 - self.t0 - 7 * DAY)
                c.created_at = 0.0
                c.rate *= 1.4
            else:
                c.web.uid = c.uid if rng.random() < 0.55 else None
                if c.app is not None:
                    c.app.uid = c.uid if rng.random() < 0.9 else None
            home_store = STORES.get(c.city)
            if home_store and rng.random() < 0.55:
                c.store = home_store
            self.people.append(c)
        self._share_tablets()

    def _browser(self, c: _Customer, desktop: bool = False) -> _Device:
        rng = self.rng
        dev = _Device("web", self._uuid())
        if desktop or c.platform == "web":
            ua, family, _ = rng.choices(DESKTOP_AGENTS, [a[2] for a in DESKTOP_AGENTS])[0]
        elif c.platform == "ios":
            ua, family = IOS_WEB_AGENT, "safari"
        else:
            ua, family = ANDROID_WEB_AGENT, "chrome"
        dev.ua, dev.safari = ua, family == "safari"
        dev.ip = self._ip()
        return dev

    def _ip(self) -> str:
        rng = self.rng
        # documentation ranges only (RFC 5737, RFC 3849): never a real person's address
        if rng.random() < 0.3:
            return f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randrange(1, 255)}"
        return f"2001:db8:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"

    def _app_device(self, c: _Customer, kind: str, tablet: bool = False) -> _Device:
        rng = self.rng
        dev = _Device(kind, self._uuid())
        if kind == "ios":
            dev.device_id = self._uuid().upper()  # identifierForVendor
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
        dev.ip = self._ip()
        if c.uid and not tablet:
            self.person_of[dev.anon] = c.uid
            self.person_of[dev.device_id] = c.uid
        return dev

    def _share_tablets(self) -> None:
        """A few families share a tablet: two customers sign in on one device (ambiguous)."""
        rng = self.rng
        pool = [c for c in self.people if not c.visitor and c.signed_up]
        pairs = max(1, self.config.customers // 400) if len(pool) >= 2 else 0
        for _ in range(pairs):
            a, b = rng.sample(pool, 2)
            if a.tablet or b.tablet:
                continue
            b.last, b.city, b.tz, b.locale, b.offset = a.last, a.city, a.tz, a.locale, a.offset
            tablet = self._app_device(a, rng.choice(("ios", "android")), tablet=True)
            tablet.shared = True
            tablet.uid = a.uid
            a.tablet = b.tablet = tablet
            self.shared_devices.append(tablet.device_id)
            self.shared[tablet.device_id] = sorted((a.uid, b.uid))
            self.shared[tablet.anon] = sorted((a.uid, b.uid))

    def _schedule_start(self) -> None:
        for c in self.people:
            start = self._next_time(c, c.arrival, c.rate, SESSION_HOURS)
            self._schedule(start, VISIT, c.idx, (None, None, CHAIN))
            if c.store is not None:
                nxt = self._next_time(c, c.arrival, STORE_RATE, STORE_HOURS)
                self._schedule(nxt, STORE, c.idx)
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

    def _context(self, s: _Session) -> dict[str, Any]:
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
        s: _Session,
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
        s: _Session,
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

    def _traits(self, c: _Customer, ts: float) -> dict[str, Any]:
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
        self, s: _Session, user_id: str | None, traits: dict[str, Any], step: float = 1.0
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

    def _sign_in(self, s: _Session, signup: bool = False) -> None:
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

    # ---- visits ------------------------------------------------------------------------

    def _product_props(self, p: _Product, extra: dict[str, Any] | None = None) -> dict[str, Any]:
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

    def _pick_product(self, c: _Customer) -> _Product:
        rng = self.rng
        if rng.random() < 0.45:
            cat = c.favourite
            items = self.by_category[cat]
            return items[bisect(self.category_cum[cat], rng.random() * self.category_cum[cat][-1])]
        return self.products[bisect(self.product_cum, rng.random() * self.product_cum[-1])]

    def _landing(self, s: _Session, source: str, campaign: str | None, product: _Product) -> None:
        """The first page (web) or app open of a session: the session's one touch."""
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
                referrer = _pick(rng, ENGINE_URLS, ENGINE_CUM)
            elif source == "referral":
                referrer = rng.choice(REFERRERS)
            if source == "direct" or rng.random() < 0.25:
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

    def _visit(self, ts: float, ci: int, payload: tuple[str | None, str | None, int]) -> None:
        source, campaign, mode = payload
        c = self.people[ci]
        rng = self.rng
        penalised = c.penalty_until > ts
        if mode == CHAIN:
            c.sessions += 1
            if not (c.visitor and (c.sessions >= 2 or rng.random() < 0.5)):
                nxt = self._next_time(c, ts, c.rate, SESSION_HOURS)
                self._schedule(nxt, VISIT, ci, (None, None, CHAIN))
            if penalised and rng.random() < PENALTY_SKIP_SESSION:
                return
            if c.visitor or not c.signed_up:
                names, cum = DISCOVERY
            else:
                names, cum = ROUTINE if c.platform == "web" else ROUTINE_APP
            source = _pick(rng, names, cum)
        elif mode in (FOLLOW, RETURN):
            names, cum = CLOSING if c.platform == "web" else CLOSING_APP
            source = _pick(rng, names, cum)
        assert source is not None

        # device: the browser, the phone app, or the family tablet on the sofa
        dev = c.web
        if c.tablet is not None and source == "direct" and rng.random() < 0.5:
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
        dev.last_seen = ts
        s = _Session(c, dev, ts)
        product = self._pick_product(c)
        if mode in (RETURN, RESTORE) and c.cart:
            product = c.cart[0][0]
        self._landing(s, source, campaign, product)

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

        if not (mode in (RETURN, RESTORE) and c.cart):
            self._browse(s, source, mode, product, penalised)
        else:
            self._cart_and_checkout(s, mode, penalised)
        if c.cart and c.last_order < c.last_cart and c.last_cart >= ts:  # cart touched now
            self._schedule(c.last_cart + HOUR + 1.0, CART_CHECK, ci, c.last_cart)

    def _browse(
        self, s: _Session, source: str, mode: int, product: _Product, penalised: bool
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
        damp = PENALTY_INTENT if penalised else 1.0
        p_add = (P_ADD_FOLLOW if mode == FOLLOW else P_ADD[source]) * damp
        if rng.random() < p_add:
            for p in viewed[-2:] if rng.random() < 0.2 else viewed[-1:]:
                qty = 1 if rng.random() < 0.92 else 2
                c.cart.append((p, qty))
                props = self._product_props(p, {"quantity": qty, "cart_id": f"cart_{c.idx}"})
                self._client(s, "track", "event", "Product Added", props, step=rng.uniform(5, 40))
                c.last_cart = s.t
                c.cart_identified = s.uid == c.uid
        # a cart from before: intent decides whether they go back to it now
        if c.cart and (mode == FOLLOW or rng.random() < min(0.6, 2.0 * P_ADD[source])):
            self._cart_and_checkout(s, mode, penalised)
        elif not c.cart and c.uid and rng.random() < P_INTEREST.get(source, 0.1) * damp:
            delay = max(2 * HOUR, rng.expovariate(1 / (2.5 * DAY)))
            self._schedule(s.t + delay, VISIT, c.idx, (None, None, FOLLOW))

    def _cart_and_checkout(self, s: _Session, mode: int, penalised: bool) -> None:
        """Cart, then checkout: the app's payment step is where the planted drop-off lives."""
        rng, c = self.rng, s.cust
        back = mode in (RETURN, RESTORE)  # came back for this cart: straight to checkout
        if s.page[0] != "/cart":
            self._view(s, "Cart", "/cart", "Your cart | Northwind Outfitters", rng.uniform(5, 30))
        products = [self._order_line(p, q) for p, q in c.cart]
        total = round(sum(line["price"] * line["quantity"] for line in products), 2)
        cart_props = {
            "cart_id": f"cart_{c.idx}",
            "products": [dict(line) for line in products],
            "value": total,
            "currency": CURRENCY,
        }
        self._client(s, "track", "event", "Cart Viewed", cart_props, step=rng.uniform(0.3, 1.5))
        p_checkout = P_CHECKOUT_FOLLOW if mode == FOLLOW else P_CHECKOUT
        if not (back or rng.random() < p_checkout * (PENALTY_INTENT if penalised else 1.0)):
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
        if rng.random() >= P_PAYMENT[s.app]:
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
        if rng.random() >= P_COMPLETE[s.app]:
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
        self._after_order(s.t, c, order_id, [p for p, _ in c.cart], s.app)
        c.cart = []

    def _order_line(self, p: _Product, qty: int) -> dict[str, Any]:
        return {
            "product_id": p.pid,
            "sku": p.sku,
            "name": p.name,
            "category": p.category,
            "price": p.price,
            "quantity": qty,
        }

    def _after_order(
        self, ts: float, c: _Customer, order_id: str, products: list[_Product], app: bool
    ) -> None:
        rng = self.rng
        late = rng.random() < 0.09
        delay = rng.uniform(6, 10) * DAY if late else rng.uniform(1.5, 4.5) * DAY
        self._schedule(ts + delay, DELIVERY, c.idx, (order_id, products, late, delay))
        if late and rng.random() < 0.6:
            self._schedule(ts + rng.uniform(4.6, 5.8) * DAY, TICKET, c.idx, ("delivery", order_id))
        if rng.random() < 0.1:  # post-checkout survey
            score = self._score5(3.2 if app else 4.4)
            self._schedule(
                ts + rng.uniform(60, 900),
                SURVEY,
                c.idx,
                ("csat", "checkout", score, None, None, ("order_id", order_id)),
            )

    def _help(self, s: _Session) -> None:
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

    # ---- stores ------------------------------------------------------------------------

    def _store(self, ts: float, ci: int, _: Any) -> None:
        """A till purchase: no userId, the loyalty card links it to the customer."""
        rng = self.rng
        c = self.people[ci]
        self._schedule(self._next_time(c, ts, STORE_RATE, STORE_HOURS), STORE, ci)
        if c.penalty_until > ts and rng.random() < PENALTY_SKIP_STORE:
            return
        assert c.store is not None
        store_id, store_name = c.store
        basket: dict[_Product, int] = {}
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

    # ---- messaging ---------------------------------------------------------------------

    def _audience_slice(self, start: int) -> tuple[list[_Customer], int | None]:
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
            p_click *= 0.5
        if rng.random() >= p_click:
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
        path = "/cart" if name == "cart_reminder" else "/sale"
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
        """An hour after the last cart activity with no order: the cart is abandoned."""
        rng = self.rng
        c = self.people[ci]
        if c.last_cart != cart_ts or c.last_order > cart_ts or not c.cart:
            return
        if not (c.cart_identified and c.uid):
            group = "anonymous"
        elif not c.sms_ok:
            group = "no_consent"
        else:
            group = "sent" if rng.random() < 0.5 else "holdout"
        if group != "anonymous":
            self._put(ts, None, ("abandoned", ci, group, cart_ts))
        if group == "sent":
            self._schedule(cart_ts + rng.uniform(1.75, 2.25) * HOUR, SMS_REMINDER, ci, cart_ts)
        # coming back on their own: ~17% within three days, a few later
        r = rng.random()
        p_back = P_RETURN * (PENALTY_INTENT if c.penalty_until > ts else 1.0)
        if r < p_back:
            u = rng.random()
            delay = (
                rng.uniform(0.2, 8) * HOUR
                if u < 0.4
                else (rng.uniform(8, 30) * HOUR if u < 0.75 else rng.uniform(30, 70) * HOUR)
            )
            self._schedule(ts + delay, VISIT, ci, (None, None, RETURN))
        elif r < p_back + P_RETURN_LATER:
            self._schedule(ts + rng.uniform(3.1, 12) * DAY, VISIT, ci, (None, None, RETURN))

    def _sms_reminder(self, ts: float, ci: int, cart_ts: float) -> None:
        rng = self.rng
        c = self.people[ci]
        if c.last_order > cart_ts or not c.cart:
            return
        self._server(
            ts,
            "touchpath-messaging",
            "SMS Delivered",
            c.uid,
            {
                "campaign_name": "cart_reminder",
                "campaign_id": "cmp_cart_reminder",
                "cart_id": f"cart_{ci}",
            },
        )
        if rng.random() < P_REMINDER_CLICK:
            self._schedule(
                ts + rng.lognormvariate(math.log(12 * MINUTE), 0.8),
                SMS_OPEN,
                ci,
                ("cart_reminder", RESTORE),
            )

    # ---- after the order ---------------------------------------------------------------

    def _delivery(
        self, ts: float, ci: int, payload: tuple[str, list[_Product], bool, float]
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
        if rng.random() < P_SLOW_TICKET:
            wait = min(140.0, 24.5 + rng.lognormvariate(math.log(18), 0.7))
        else:
            wait = min(23.5, rng.lognormvariate(math.log(4), 0.9))
        self._schedule(ts + wait * HOUR, RESOLVE, ci, (ticket_id, topic, round(wait, 1)))

    def _resolve(self, ts: float, ci: int, payload: tuple[str, str, float]) -> None:
        ticket_id, topic, wait = payload
        rng = self.rng
        c = self.people[ci]
        slow = wait > 24
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
            c.penalty_until = max(c.penalty_until, ts + 30 * DAY)
        if rng.random() < 0.55:
            score = self._score5(1.6 if slow else 4.3)
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

    def _score5(self, mean: float) -> int:
        return max(1, min(5, round(self.rng.gauss(mean, 0.8))))

    def _nps_score(self, c: _Customer, ts: float) -> int:
        rng = self.rng
        if c.penalty_until > ts:
            return rng.randint(0, 6)
        r = rng.random()
        return (
            rng.randint(9, 10)
            if r < 0.45
            else (rng.randint(7, 8) if r < 0.75 else rng.randint(0, 6))
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
        props: dict[str, Any] = {"survey_id": survey_id, "score": score, "touchpoint": touchpoint}
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

    def _review(self, ts: float, ci: int, payload: tuple[_Product, str, bool]) -> None:
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
            },
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


# daily rhythm (local hour) for web/app sessions and for store visits; weekday Mon..Sun
SESSION_HOURS = (
    0.25,
    0.12,
    0.06,
    0.04,
    0.04,
    0.1,
    0.3,
    0.6,
    0.85,
    0.95,
    1.0,
    1.05,
    1.25,
    1.2,
    1.0,
    0.95,
    1.0,
    1.1,
    1.3,
    1.6,
    1.8,
    1.7,
    1.2,
    0.6,
)
STORE_HOURS = (
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1.0,
    1.3,
    1.6,
    1.5,
    1.3,
    1.4,
    1.7,
    2.0,
    1.8,
    1.2,
    0,
    0,
    0,
    0,
)
WEEKDAY = (0.9, 0.95, 0.95, 1.0, 1.05, 1.15, 1.0)
PEAK = 4.4  # an upper bound of hour (2.0) * weekday (1.15) * season (1.1 * 1.7) demand
STORE_RATE = 0.006
STORES = {
    "Berlin": ("store_berlin_mitte", "Northwind Berlin Mitte"),
    "Hamburg": ("store_hamburg", "Northwind Hamburg"),
    "Munich": ("store_munich", "Northwind Munich"),
    "Vienna": ("store_vienna", "Northwind Vienna"),
    "Amsterdam": ("store_amsterdam", "Northwind Amsterdam"),
    "Paris": ("store_paris", "Northwind Paris"),
}


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


class DemoBusiness:
    """Northwind Outfitters, simulated: stream its Segment messages, then read its ground truth.

    >>> business = DemoBusiness(DemoConfig(customers=50, days=14))
    >>> first = next(business.batches(size=10))
    >>> len(first), first[0]["type"] in {"page", "screen", "track", "identify"}
    (10, True)
    """

    def __init__(self, config: DemoConfig = DemoConfig()) -> None:
        self.config = config
        self._truth: GroundTruth | None = None

    def messages(self) -> Iterator[Message]:
        """Yield every message in time order; deterministic for a seed, memory stays flat."""
        sim = _Simulation(self.config)
        yield from sim.run()
        self._truth = sim.truth()

    def batches(self, size: int = 500) -> Iterator[list[Message]]:
        """Yield all messages in batches of `size` (the last may be shorter)."""
        if size < 1:
            raise ValueError(f"batches(size): must be at least 1, got {size}")
        batch: list[Message] = []
        for msg in self.messages():
            batch.append(msg)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def truth(self) -> GroundTruth:
        """The ground truth; computed by a silent run if the messages were not fully read."""
        if self._truth is None:
            for _ in self.messages():
                pass
        assert self._truth is not None
        return self._truth
