"""The demo's two journeys, published by `touchpath demo` and run by the engine against the
demo's local receivers (docs/demo.md, "The demo's journeys").

- `abandoned-cart`: a cart viewed (once per `cart_id`) waits up to 4 h for an order; with none,
  people who said yes to SMS are split: 80% get an SMS reminder (and, a day later with still no
  order, an email), 20% are held out. The split writes `Experiment Viewed`
  (`journey:abandoned-cart:holdout`), so `ExperimentSpec.journey_split` measures the reminder.
  Its goal is the first-purchase map's "Order placed" touchpoint.
- `slow-support`: a support ticket still open after 24 h gets an apology email with a voucher
  (a template over the person's traits). It enters at the support map's "Ticket opened" and its
  goal is that map's "Next order".

`publish_demo_journeys(tp)` saves and publishes both through the journey library (the same
calls as `touchpath journeys save --publish` and the REST API) and the templates they send;
the live simulation (`touchpath.demo.live`) calls it too. The history the demo loads carries
the same journey's past runs as events (`touchpath.demo.messaging`), so the experiment has
90 days to read; the engine's own state starts at publishing.

>>> from touchpath.orchestrate import load_journey
>>> [load_journey(text).name for text in JOURNEYS]
['abandoned-cart', 'slow-support']
>>> cart = load_journey(ABANDONED_CART)
>>> cart.re_entry.key, cart.nodes[SPLIT_NODE].arms()
('cart_id', [('remind', 0.8, 'sms'), ('holdout', 0.2, None)])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from touchpath.orchestrate.library import Published
    from touchpath.system import Touchpath

__all__ = [
    "ABANDONED_CART",
    "JOURNEYS",
    "SLOW_SUPPORT",
    "SPLIT_NODE",
    "TEMPLATES",
    "publish_demo_journeys",
]

SPLIT_NODE = "holdout"
"""The abandoned-cart journey's split: the experiment is `journey:abandoned-cart:holdout`."""

ABANDONED_CART = """
name: abandoned-cart
title: Abandoned cart reminder
description: >-
  A cart viewed and not ordered within 4 hours: an SMS reminder to the people who said yes to
  SMS (a fifth held out, to measure it), then an email if they still have not ordered.
entry: {kind: event, event: {event: Cart Viewed}}
re_entry: {mode: per_key, key: cart_id}
goal:
  touchpoint: {map: demo-first-purchase, touchpoint: Order placed}
  within: 3d
exit: {on_goal: true}
nodes:
  wait_order:
    kind: wait_for_event
    label: Ordered within 4 h?
    event: {event: Order Completed}
    timeout: 4h
    on_timeout: can_text
  can_text:
    kind: branch
    label: Said yes to SMS?
    branches:
      - {name: sms_ok, when: {kind: trait, trait: sms_opt_in, op: eq, value: true}, next: holdout}
  holdout:
    kind: split
    label: 20% held out
    variants: [{name: remind, weight: 4, next: sms}]
    holdout: 1
  sms:
    kind: send
    label: SMS reminder
    destination: demo-sms
    topic: cart_reminders
    content:
      body: "Northwind: your cart is waiting. Pick up where you left off: https://shop.example/cart"
    next: wait_email
  wait_email:
    kind: wait_for_event
    label: Ordered within a day?
    event: {event: Order Completed}
    timeout: 1d
    on_timeout: email
  email:
    kind: send
    label: Reminder email
    destination: demo-email
    template: demo-cart-reminder
    topic: cart_reminders
"""

SLOW_SUPPORT = """
name: slow-support
title: Slow support recovery
description: >-
  A support ticket still open after 24 hours: an apology email with a voucher.
entry: {kind: touchpoint, map: demo-support, touchpoint: Ticket opened}
re_entry: {mode: per_key, key: ticket_id}
goal:
  touchpoint: {map: demo-support, touchpoint: Next order}
  within: 30d
nodes:
  wait_resolved:
    kind: wait_for_event
    label: Resolved within 24 h?
    event: {event: Ticket Resolved}
    timeout: 24h
    on_timeout: apology
  apology:
    kind: send
    label: Apology with a voucher
    destination: demo-email
    template: demo-apology
    data: {voucher: SORRY15, discount: 15%}
"""

JOURNEYS = (ABANDONED_CART, SLOW_SUPPORT)
"""The demo's journey documents (YAML), in the order they are published."""

TEMPLATES: dict[str, dict[str, Any]] = {
    "demo-cart-reminder": {
        "channel": "email",
        "fields": {
            "subject": "{{ traits.first_name }}, your cart is still here",
            "text": "Hi {{ traits.first_name }}, the things you picked are waiting in your cart: "
            "https://shop.example/cart",
            "html": "<p>Hi {{ traits.first_name }}, the things you picked are waiting in your "
            "cart.</p><p><a href='https://shop.example/cart'>Back to your cart</a></p>",
        },
        "defaults": {"traits.first_name": "there"},
    },
    "demo-apology": {
        "channel": "email",
        "fields": {
            "subject": "Sorry for the wait, {{ traits.first_name }}",
            "text": "Hi {{ traits.first_name }}, your request has taken longer than it should. "
            "We are on it. Please take {{ event.data.discount }} off your next order with the code "
            "{{ event.data.voucher }}.",
            "html": "<p>Hi {{ traits.first_name }}, your request has taken longer than it "
            "should. We are on it.</p><p>Please take {{ event.data.discount }} off your next order "
            "with the code <b>{{ event.data.voucher }}</b>.</p>"
            "<p><a href='https://shop.example/'>Visit the shop</a></p>",
        },
        "defaults": {
            "traits.first_name": "there",
            "event.data.voucher": "SORRY15",
            "event.data.discount": "15%",
        },
    },
}
"""The email templates the journeys send (the SMS is inline in its node)."""


def publish_demo_journeys(tp: Touchpath) -> list[Published]:
    """Save the journeys' templates, then save and publish each journey: a new version only
    when its document changed, published when new or never published (a journey someone
    paused stays paused). Returns what was published. The store must hold the demo's
    destinations (`touchpath.demo.receivers.demo_destinations`)."""
    from touchpath.destinations import api
    from touchpath.errors import NotFound
    from touchpath.orchestrate import library, load_journey

    for name, spec in TEMPLATES.items():
        api.put_template(tp.store, name, spec)
    engine = tp.services["journeys"]
    out = []
    for text in JOURNEYS:
        doc = load_journey(text)
        try:
            current: library.JourneyDetail | None = library.get_journey(engine, doc.name)
        except NotFound:
            current = None
        changed = current is None or current.definition != doc
        if changed:
            library.save_journey(engine, doc, text.strip() + "\n")
        if changed or current is None or current.live_version is None:
            out.append(library.publish(engine, doc.name))
    return out
