"""The abandoned-cart journey's past runs: the events the engine writes for each cart, and the
planted effect of its SMS reminder (`touchpath.demo.facts.SMS_CART_REMINDER`).

The history the demo loads was made while the journey of `touchpath.demo.journeys` ran, so it
carries what the engine and the dispatcher write (docs/journeys.md, "The journey speaks back"):
`Journey Entered`, `Journey Step Reached` per node, `Experiment Viewed` at the split
(`journey:abandoned-cart:holdout`, `remind` or `holdout`), `Message Sent` per SMS and email,
and `Journey Exited` with its reason, at the times the engine would (the waits are read from the
journey document). Like the engine, the split assigns by a hash of the journey, the node and
the person (`orchestrate.nodes.split_bucket`, over the profile id the person's user id makes).
Two simplifications: only carts viewed while signed in enter (the engine also enters
anonymous carts, which leave at the SMS-consent branch), and the person's consent is the
`sms_opt_in` trait the simulation gives them.

The planted effect: a person the split reaches orders within `window` with the chance
`conversion` of their arm; otherwise they stay away until the window ends (no visit, no shop
purchase: blocking only their orders would leave product views that go nowhere, a pain point
of its own on the first-purchase map).
"""

from __future__ import annotations

import math
from typing import Any

from touchpath.demo.catalog import SITE
from touchpath.demo.facts import HOUR, SMS_CART_REMINDER
from touchpath.demo.journeys import ABANDONED_CART, SPLIT_NODE
from touchpath.demo.people import Customer, Session
from touchpath.demo.simulation import MINUTE, RESTORE, RETURN, SMS_REMINDER, VISIT, Core
from touchpath.identity import profile_id_for
from touchpath.orchestrate.document import load_journey
from touchpath.orchestrate.node_types import SplitNode, WaitForEventNode
from touchpath.orchestrate.nodes import split_bucket

__all__ = ["CartJourney"]

FACT = SMS_CART_REMINDER
JOURNEY = load_journey(ABANDONED_CART)
_WAIT = JOURNEY.nodes["wait_order"]
_EMAIL_WAIT = JOURNEY.nodes["wait_email"]
_SPLIT = JOURNEY.nodes[SPLIT_NODE]
assert isinstance(_WAIT, WaitForEventNode) and isinstance(_EMAIL_WAIT, WaitForEventNode)
assert isinstance(_SPLIT, SplitNode)
WAIT = float(_WAIT.timeout)
"""How long the journey waits for an order before the reminder (4 h)."""
EMAIL_AFTER = float(_EMAIL_WAIT.timeout)
"""How long after the SMS the email goes to those who still have not ordered (1 day)."""
REMIND_SHARE = _SPLIT.arms()[0][1]
"""The share of the split that is reminded (0.8; the rest is held out)."""
LIBRARY = "touchpath-journeys"


class CartJourney(Core):
    """The abandoned-cart journey, as it ran during the simulated period."""

    def _emit(self, ts: float, c: Customer, event: str, props: dict[str, Any], lib: str) -> None:
        msg = {
            "type": "track",
            "event": event,
            "userId": c.uid,
            "messageId": self._message_id(),
            "timestamp": self._iso(ts),
            "properties": props,
            "context": {"library": {"name": lib}},  # a fresh dict: consumers may mutate it
        }
        self._put(ts, msg)

    def _step(self, ts: float, c: Customer, event: str, **props: Any) -> None:
        """A journey event of the person's current instance (its entry key, the next step)."""
        inst = c.in_journey
        assert inst is not None
        base = {"journey": JOURNEY.name, "version": 1, "entry_key": inst[0], "step": inst[3]}
        self._emit(ts, c, event, {**base, **props}, LIBRARY)
        inst[3] += 1

    def _reach(
        self, ts: float, c: Customer, node: str, kind: str, via: str | None, **p: Any
    ) -> None:
        inst = c.in_journey
        assert inst is not None
        came_from = inst[2] if inst[3] > 1 else None
        props = {"node": node, "kind": kind, **({"from": came_from} if came_from else {})}
        if via:
            props["via"] = via
        self._step(ts, c, "Journey Step Reached", **props, **p)
        inst[2] = node

    def _leave(self, ts: float, c: Customer, reason: str) -> None:
        inst = c.in_journey
        assert inst is not None
        self._step(ts, c, "Journey Exited", node=inst[2], reason=reason)
        c.in_journey = None

    def _sent(self, ts: float, c: Customer, node: str, destination: str, channel: str) -> None:
        inst = c.in_journey
        assert inst is not None
        props = {"destination": destination, "channel": channel, "journey": JOURNEY.name,
                 "version": 1, "node": node, "entry_key": inst[0]}  # fmt: skip
        if channel == "email":
            props["template"] = "demo-cart-reminder"
        self._emit(ts, c, "Message Sent", props, "touchpath-destinations")

    # ------------------------------------------------------------------ the journey
    def _cart_viewed(self, s: Session) -> None:
        """A signed-in cart view enters the journey, once per cart."""
        c = s.cust
        if not c.uid or s.uid != c.uid or c.in_journey is not None or c.last_entered == c.cart_id:
            return
        c.last_entered = c.cart_id
        c.in_journey = [c.cart_id, s.t, "", 0]
        self._step(s.t, c, "Journey Entered")
        self._reach(s.t, c, "wait_order", "wait_for_event", None)
        self._schedule(s.t + WAIT, SMS_REMINDER, c.idx, (c.cart_id, "split"))

    def _ordered(self, ts: float, c: Customer) -> None:
        """An order reaches the journey's goal: the person leaves it (`exit.on_goal`)."""
        if c.in_journey is not None:
            self._leave(ts, c, "goal")

    def _cart_journey(self, ts: float, ci: int, payload: tuple[str, str]) -> None:
        """A timer of the journey: the wait for an order is over (`split`), or the day after
        the SMS is (`email`)."""
        cart_id, stage = payload
        c = self.people[ci]
        if c.in_journey is None or c.in_journey[0] != cart_id:
            return  # they ordered meanwhile
        if stage == "email":
            self._reach(ts, c, "email", "send", "on_timeout", outcome="queued")
            self._sent(ts + self.rng.uniform(1, 20), c, "email", "demo-email", "email")
            self._leave(ts, c, "completed")
            return
        branch = "sms_ok" if c.sms_ok else "otherwise"
        self._reach(ts, c, "can_text", "branch", "on_timeout", outcome=branch)
        if not c.sms_ok:
            self._leave(ts, c, branch)
            return
        pid = profile_id_for("user_id", c.uid)
        arm = "remind" if split_bucket(JOURNEY.name, SPLIT_NODE, pid) < REMIND_SHARE else "holdout"
        self._reach(ts, c, SPLIT_NODE, "split", branch, outcome=arm)
        viewed = {"experiment_id": f"journey:{JOURNEY.name}:{SPLIT_NODE}",
                  "experiment_name": f"{JOURNEY.name} / {SPLIT_NODE}", "variation_id": arm,
                  "variation_name": arm, "journey": JOURNEY.name, "version": 1,
                  "node": SPLIT_NODE, "entry_key": cart_id}  # fmt: skip
        self._emit(ts, c, "Experiment Viewed", viewed, LIBRARY)
        self._put(ts, None, ("exposed", ci, arm))
        self._decide(ts, c, arm == "remind")
        if arm == "holdout":
            self._leave(ts, c, "holdout")
            return
        self._reach(ts, c, "sms", "send", "remind", outcome="queued")
        self._reach(ts, c, "wait_email", "wait_for_event", "next")
        self._sent(ts + self.rng.uniform(1, 20), c, "sms", "demo-sms", "sms")
        self._schedule(ts + EMAIL_AFTER, SMS_REMINDER, ci, (cart_id, "email"))

    def _decide(self, ts: float, c: Customer, reminded: bool) -> None:
        """The planted effect: whether the person orders within the window (a split within the
        window of an earlier one keeps its outcome)."""
        rng = self.rng
        if c.decided_until > ts:
            return
        c.decided_until = ts + FACT.window
        if rng.random() >= FACT.conversion[reminded]:
            c.hold_until = ts + FACT.window
            return
        c.buy_by = ts + FACT.window
        latest = FACT.window - 2 * HOUR
        if reminded and rng.random() < FACT.click:
            t = ts + min(latest, max(MINUTE, rng.lognormvariate(math.log(25 * MINUTE), 1.0)))
            self._click(t, c)
            self._schedule(t + 3.0, VISIT, c.idx, ("sms", "cart_reminder", RESTORE))
        else:
            t = ts + rng.uniform(0.05, 0.95) * latest
            self._schedule(t, VISIT, c.idx, (None, None, RETURN))

    def _click(self, ts: float, c: Customer) -> None:
        url = f"{SITE}/cart?utm_source=touchpath&utm_medium=sms&utm_campaign=cart_reminder"
        props = {"destination": "demo-sms", "channel": "sms", "journey": JOURNEY.name,
                 "version": 1, "node": "sms", "entry_key": c.last_entered, "url": url}  # fmt: skip
        self._emit(ts, c, "Message Clicked", props, "touchpath-destinations")
