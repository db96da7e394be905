"""The planted facts of the demo business, each with its size: the one place to change them.

Five effects are planted in the data (docs/demo.md, "The planted facts"). Each is one record
here holding every probability and window that makes it. The behaviours draw from these sizes
(`sessions`, `orders`, `support`, `messaging`), and the truth file (`truth.FactMeter`) measures
each effect on the emitted messages, under its `name` and with the windows defined here, so
`GroundTruth.facts[name]` is what the data holds, not these inputs. To change a fact: edit its
record, regenerate, and read the measured size from the truth (tests/test_demo_generator.py
holds the documented ranges).

>>> APP_CHECKOUT_DROPOFF.payment_ok[True] < APP_CHECKOUT_DROPOFF.payment_ok[False]
True
>>> [f.name for f in FACTS]
['app_checkout_dropoff', 'slow_support', 'sms_cart_reminder', 'paid_social_attribution', 'email_web_switch']
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "APP_CHECKOUT_DROPOFF",
    "DAY",
    "EMAIL_WEB_SWITCH",
    "FACTS",
    "HOUR",
    "LIVE_ARRIVALS",
    "LIVE_REACTIONS",
    "PAID_SOCIAL_ATTRIBUTION",
    "SLOW_SUPPORT",
    "SMS_CART_REMINDER",
    "AppCheckoutDropoff",
    "EmailWebSwitch",
    "LiveArrivals",
    "LiveReactions",
    "PaidSocialAttribution",
    "SlowSupport",
    "SmsCartReminder",
]

DAY = 86_400.0
HOUR = 3_600.0

Mix = tuple[tuple[str, float], ...]
"""Weighted choices: (name, weight), in the order they are drawn."""


@dataclass(frozen=True)
class AppCheckoutDropoff:
    """(a) The app's payment step loses about twice the share of checkouts the web does."""

    name: str = "app_checkout_dropoff"
    payment_ok: tuple[float, float] = (0.87, 0.60)
    """(web, app): the chance that payment goes through after `Checkout Started`."""
    complete: tuple[float, float] = (0.85, 0.80)
    """(web, app): the chance that an entered payment becomes `Order Completed`."""
    csat_mean: tuple[float, float] = (4.4, 3.2)
    """(web, app): the mean score of the post-checkout CSAT survey."""
    window: float = DAY
    """A checkout converts when the person orders (any channel) within this many seconds."""


@dataclass(frozen=True)
class SlowSupport:
    """(b) A ticket that waits more than a day sours feedback and halves the person's sales."""

    name: str = "slow_support"
    slow_share: float = 0.35
    """The share of tickets that go to the slow queue."""
    slow_hours: float = 24.0
    """A resolution after more than this many hours is slow."""
    penalty: float = 30 * DAY
    """How long after a slow resolution the person behaves as below."""
    skip_session: float = 0.22
    """The chance a planned visit does not happen."""
    intent: float = 0.75
    """The factor on adding to the cart, checking out and coming back to a cart."""
    skip_store: float = 0.4
    """The chance a planned shop visit does not happen."""
    email_click: float = 0.5
    """The factor on clicking a campaign email."""
    csat_mean: tuple[float, float] = (4.3, 1.6)
    """(fast, slow): the mean support CSAT score (1-5)."""
    window: float = 30 * DAY
    """Orders are counted this long after the resolution."""


@dataclass(frozen=True)
class SmsCartReminder:
    """(c) The abandoned-cart journey's SMS reminder lifts conversion: of the people its split
    reaches (`touchpath.demo.journeys`: a cart viewed, no order within 4 h, SMS consent),
    those reminded order within the window 0.298 of the time, those held out 0.172."""

    name: str = "sms_cart_reminder"
    conversion: tuple[float, float] = (0.172, 0.298)
    """(held out, reminded): the chance that a person the split reaches orders within `window`
    of it (the others stay away for that long). A person's split decides it; a later split
    within that window keeps the outcome."""
    window: float = 3 * DAY
    """A person converts with an order within this long after the split (the journey's goal
    window, and the experiment's)."""
    click: float = 0.65
    """The share of reminded people who order that come back through the SMS's link (the
    others come back on their own)."""
    abandoned_after: float = HOUR
    """A cart is abandoned after this long with no order and no cart activity."""
    return_own: float = 0.16
    """The chance a person comes back to an abandoned cart on their own within three days
    (before the split decides; after it, its outcome holds)."""
    return_later: float = 0.05
    """The chance they come back later than that."""


@dataclass(frozen=True)
class PaidSocialAttribution:
    """(d) Paid social opens journeys but rarely closes them: the largest first-touch share,
    one of the smallest last-touch ones."""

    name: str = "paid_social_attribution"
    discovery: Mix = (
        ("paid_social", 0.42),
        ("organic_search", 0.2),
        ("direct", 0.1),
        ("paid_search", 0.12),
        ("referral", 0.16),
    )
    """Where prospects' and first sessions come from."""
    routine: Mix = (
        ("direct", 0.28),
        ("organic_search", 0.16),
        ("paid_search", 0.14),
        ("paid_social", 0.34),
        ("referral", 0.08),
    )
    """How known web-first customers come back on their own."""
    routine_app: Mix = (
        ("direct", 0.4),
        ("organic_search", 0.1),
        ("paid_search", 0.1),
        ("paid_social", 0.34),
        ("referral", 0.06),
    )
    """How known app-first customers come back on their own."""
    closing: Mix = (
        ("paid_search", 0.38),
        ("direct", 0.38),
        ("organic_search", 0.17),
        ("referral", 0.05),
        ("paid_social", 0.02),
    )
    """How an interested web-first customer comes back to buy."""
    closing_app: Mix = (
        ("paid_search", 0.22),
        ("direct", 0.62),
        ("organic_search", 0.11),
        ("referral", 0.03),
        ("paid_social", 0.02),
    )
    """How an interested app-first customer comes back to buy."""
    add_to_cart: dict[str, float] = field(
        default_factory=lambda: {
            "paid_social": 0.025,
            "paid_search": 0.30,
            "organic_search": 0.18,
            "direct": 0.24,
            "referral": 0.15,
            "email": 0.40,
            "sms": 0.35,
            "push": 0.22,
        }
    )
    """The chance a session puts something in the cart, by its source: paid social browses."""
    interest: dict[str, float] = field(
        default_factory=lambda: {"paid_social": 0.45, "referral": 0.25, "organic_search": 0.2}
    )
    """The chance a session that browsed (no cart) brings the customer back interested, by
    source (0.1 for the others)."""
    lookback: float = 30 * DAY
    """A journey is the touches since the person's previous order, at most this far back."""


APP_CHECKOUT_DROPOFF = AppCheckoutDropoff()
SLOW_SUPPORT = SlowSupport()
SMS_CART_REMINDER = SmsCartReminder()
PAID_SOCIAL_ATTRIBUTION = PaidSocialAttribution()


@dataclass(frozen=True)
class EmailWebSwitch:
    """(e) A channel switch that fails: people who read a campaign email and then go to the
    website on their own, not through the email's link, lose the email's offer (it is applied
    only through the link) and are put off: they order about half as often as those who click."""

    name: str = "email_web_switch"
    share: float = 0.45
    """The chance that an opener who does not click visits the website on their own soon after."""
    after_hours: tuple[float, float] = (0.25, 6.0)
    """When that visit comes, in hours after the open (uniform): they search for the shop's
    name and land on its home page (channel `organic_search`, a web channel)."""
    put_off: float = 30 * DAY
    """How long the person stays put off after the visit."""
    skip_session: float = 0.75
    """While put off: the chance a planned visit does not happen (adding to the cart and
    checking out also drop by `SLOW_SUPPORT.intent`)."""
    skip_store: float = 0.75
    """While put off: the chance a planned shop visit does not happen."""
    window: float = 30 * DAY
    """Orders are counted this long after the visit (the map's window)."""


EMAIL_WEB_SWITCH = EmailWebSwitch()

FACTS = (
    APP_CHECKOUT_DROPOFF,
    SLOW_SUPPORT,
    SMS_CART_REMINDER,
    PAID_SOCIAL_ATTRIBUTION,
    EMAIL_WEB_SWITCH,
)
"""Every planted fact, in the order docs/demo.md gives them."""


# ---- the living demo (touchpath.demo.live): people who keep arriving and answer messages ----


@dataclass(frozen=True)
class LiveArrivals:
    """Who arrives in the living demo and what they do before any message reaches them. App
    payments fail as in the history (`APP_CHECKOUT_DROPOFF`), so app checkout stays the pain
    point a journey can act on."""

    name: str = "live_arrivals"
    app_share: float = 0.5
    """The share of new people who come through the app (the rest: the website)."""
    sign_up: float = 0.85
    """The chance a new person signs up in their first session (the rest stay anonymous)."""
    checkout: float = 0.55
    """The chance a signed-up person's session goes on to a checkout (once per person)."""
    sessions: int = 3
    """At most this many sessions per person (a session without a checkout may bring another)."""
    next_session_hours: tuple[float, float] = (3.0, 30.0)
    """When the next session comes, in hours after the last (uniform)."""
    consent: tuple[tuple[str, float], ...] = (("email", 0.85), ("sms", 0.75), ("push", 0.7))
    """The chance a person opts in to each channel when signing up."""
    own_return: float = 0.15
    """An abandoned checkout: the chance the person comes back and buys on their own."""
    own_return_hours: tuple[float, float] = (2.0, 36.0)
    """When they come back on their own, in hours after the checkout (uniform)."""


@dataclass(frozen=True)
class LiveReactions:
    """How people answer the messages Touchpath sends them (every receiver hands each delivered
    message to the simulation). The chance that a message brings the person back is

        click[channel] x template factor x (night if sent at night in their zone) x fatigue^k

    with k the messages they got in the `fatigue_window` before it; a person brought back to an
    open checkout buys with `buy_after_click`. So a reminder's planted lift on an abandoned
    checkout is (1 - own return) x that chance x buy_after_click."""

    name: str = "live_reactions"
    open: dict[str, float] = field(
        default_factory=lambda: {"email": 0.5, "sms": 0.95, "push": 0.55}
    )
    """The chance a message is opened (email: its pixel loads; push: the app reports it)."""
    click: dict[str, float] = field(
        default_factory=lambda: {"email": 0.3, "sms": 0.45, "push": 0.25}
    )
    """The chance a fresh message at a good hour brings the person back (a click)."""
    template: dict[str, float] = field(default_factory=lambda: {"voucher": 1.5, "plain": 0.7})
    """A factor by a word in the template's name (others 1.0): a voucher works better."""
    night: tuple[int, int] = (22, 7)
    """Local hours from the first up to the second count as night."""
    night_factor: float = 0.35
    """The factor on coming back for a message that arrives at night."""
    fatigue_window: float = DAY
    """Messages received within this long before one make the person tired of them."""
    fatigue: float = 0.6
    """The factor on coming back per message in the window."""
    buy_after_click: float = 0.7
    """A person brought back to an open checkout buys with this chance."""
    unsubscribe: float = 0.01
    """The chance a fresh message makes the person unsubscribe."""
    unsubscribe_per_recent: float = 0.05
    """Added to that chance per message in the fatigue window."""
    open_after_minutes: tuple[float, float] = (2.0, 90.0)
    """When a message is opened, in minutes after it arrives (uniform)."""
    click_after_minutes: tuple[float, float] = (1.0, 20.0)
    """When a click follows the open, in minutes (uniform)."""


LIVE_ARRIVALS = LiveArrivals()
LIVE_REACTIONS = LiveReactions()
