"""How a living-demo person answers a message: what the receivers got (`delivery_of`) and the
planted reaction to it (`react`), from `touchpath.demo.facts.LIVE_REACTIONS`.

>>> r = react("sms", "cart-reminder", local_hour=14, recent=0, draw=[0.0, 0.0, 0.1, 0.0, 0.5, 0.5])
>>> r.opened, r.clicked, r.buy, r.unsubscribe, r.p_click
(True, True, True, False, 0.45)
>>> react("sms", "cart-reminder", local_hour=3, recent=2, draw=[0.9] * 6).p_click
0.0567
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from touchpath.demo.facts import LIVE_REACTIONS

__all__ = ["Delivery", "Reaction", "delivery_of", "p_click", "react"]

_HREF = re.compile(r"""href=["']([^"']+/v1/m/click/[^"']+)["']""")
_PIXEL = re.compile(r"""src=["']([^"']+/v1/m/open/[^"']+)["']""")
_URL = re.compile(r"https?://\S+/v1/m/unsubscribe/[A-Za-z0-9_.=-]+")


@dataclass(frozen=True)
class Delivery:
    """One message a receiver took: its outbox id, channel, recipient and the links in it."""

    message_id: str
    channel: str
    recipient: str
    open_url: str | None = None
    click_url: str | None = None
    unsubscribe_url: str | None = None
    receipt: str | None = None


def delivery_of(r: Any) -> Delivery | None:
    """The delivery in a receiver's `Received` (email, sms, push); None for anything else."""
    if r.kind == "email":
        mail = r.data
        html = ""
        body = mail.get_body(preferencelist=("html",)) if mail is not None else None
        if body is not None:
            html = body.get_content()
        click = _HREF.search(html)
        pixel = _PIXEL.search(html)
        unsub = r.headers.get("list-unsubscribe", "").strip("<>") or None
        return Delivery(r.headers.get("x-touchpath-message-id", ""), "email", r.path,
                        pixel.group(1) if pixel else None, click.group(1) if click else None,
                        unsub)  # fmt: skip
    if r.kind == "sms":
        body = str(r.data.get("Body", ""))
        unsub = _URL.search(body)
        return Delivery(r.headers.get("i-twilio-idempotency-token", ""), "sms",
                        str(r.data.get("To", "")), unsubscribe_url=unsub.group(0) if unsub else None)  # fmt: skip
    if r.kind == "push":
        data = r.data.get("data", {})
        return Delivery(str(data.get("touchpath_message_id", "")), "push",
                        str(r.data.get("token", "")), receipt=data.get("touchpath_receipt"))  # fmt: skip
    return None


@dataclass(frozen=True)
class Reaction:
    """What the person does with a message, and the planted chances it was drawn with."""

    opened: bool
    clicked: bool
    buy: bool
    unsubscribe: bool
    p_click: float
    open_after_minutes: float
    click_after_minutes: float


def p_click(channel: str, template: str | None, local_hour: int, recent: int) -> float:
    """The planted chance that a message brings the person back (see `LiveReactions`)."""
    f = LIVE_REACTIONS
    p = f.click.get(channel, 0.0)
    for word, factor in f.template.items():
        if template and word in template:
            p *= factor
    start, end = f.night
    if local_hour >= start or local_hour < end:
        p *= f.night_factor
    return round(min(1.0, p * f.fatigue**recent), 6)


def react(
    channel: str, template: str | None, local_hour: int, recent: int, draw: Sequence[float]
) -> Reaction:
    """The reaction from six uniform draws: open, click, buy, unsubscribe, and the two delays."""
    f = LIVE_REACTIONS
    chance = p_click(channel, template, local_hour, recent)
    clicked = draw[1] < chance
    opened = clicked or draw[0] < f.open.get(channel, 0.0)
    unsub = (not clicked) and draw[3] < f.unsubscribe + f.unsubscribe_per_recent * recent
    lo, hi = f.open_after_minutes
    clo, chi = f.click_after_minutes
    return Reaction(
        opened=opened,
        clicked=clicked,
        buy=clicked and draw[2] < f.buy_after_click,
        unsubscribe=unsub,
        p_click=chance,
        open_after_minutes=lo + (hi - lo) * draw[4],
        click_after_minutes=clo + (chi - clo) * draw[5],
    )
