"""Hearing back: opens, clicks, unsubscribes and provider callbacks, written to the event log as
message events tied to the message, its journey node and person (`events.stage_outcomes`).

Each entry point is authenticated by what it carries: a signed link token (`tracking.Tokens`)
or the provider's signature (Twilio's `X-Twilio-Signature`). An unsubscribe records the person's
choice for the message's channel and topic (every topic of the channel when it had none), which
the send policy then applies to later messages.

Every time comes from the caller's clock (the app's `tp.clock`), so a demo or a test on its
own clock sees opens and clicks at its time, like the sends and journey steps they answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from touchpath.clock import Clock, SystemClock
from touchpath.destinations import config as cfg
from touchpath.destinations.events import Outcome, stage_outcomes
from touchpath.destinations.sms import signature
from touchpath.destinations.subscriptions import set_subscription
from touchpath.destinations.tracking import Tokens
from touchpath.destinations.vault import Vault
from touchpath.errors import NotFound, Unauthorized
from touchpath.events import names
from touchpath.store import Store

__all__ = [
    "MESSAGE_COLUMNS",
    "push_receipt",
    "record_click",
    "record_open",
    "tokens",
    "twilio_status",
    "unsubscribe",
]

MESSAGE_COLUMNS = (
    "id, idempotency_key, destination, channel, profile_id, template, journey, journey_version, "
    "node, entry_key, topic, state"
)


_WALL: Clock = SystemClock()


def tokens(store: Store) -> Tokens:
    """The link tokens of a store (keyed from its vault key)."""
    return Tokens(Vault.open(store.settings).key)


def _row(con: duckdb.DuckDBPyConnection, where: str, value: str) -> dict[str, Any]:
    cur = con.execute(f"SELECT {MESSAGE_COLUMNS} FROM outbox WHERE {where} = ?", [value])
    names_ = [d[0] for d in cur.description or []]
    rows = cur.fetchall()
    if not rows:
        raise NotFound(f"message {value!r}: no such message")
    return dict(zip(names_, rows[0], strict=True))


def _emit(store: Store, outcomes: list[Outcome], now: datetime) -> None:
    def run(con: duckdb.DuckDBPyConnection) -> Any:
        return stage_outcomes(con, outcomes, now)

    staged = store.write_sync(run)
    if staged is not None:
        store.ingest(staged, internal=True).result()


def _read(t: Tokens, token: str, kind: str) -> tuple[str, str | None]:
    got = t.read(token, kind)
    if got is None:
        raise Unauthorized(
            f"token: not a valid {dict(o='open', c='click', u='unsubscribe')[kind]} link"
        )
    return got


def record_open(store: Store, t: Tokens, token: str, clock: Clock = _WALL) -> None:
    """An email was opened (its pixel loaded); repeated opens within a minute count once."""
    msg_id, _ = _read(t, token, "o")
    now = clock.now()
    with store.reading() as con:
        row = _row(con, "id", msg_id)
    _emit(store, [Outcome(names.MESSAGE_OPENED, row, now, dedupe=now.strftime("%Y%m%d%H%M"))], now)


def record_click(store: Store, t: Tokens, token: str, clock: Clock = _WALL) -> str:
    """A tracked link was clicked: records it and returns the URL the token was made for."""
    msg_id, url = _read(t, token, "c")
    if url is None or not url.startswith(("http://", "https://")):
        raise Unauthorized("token: not a valid click link")
    now = clock.now()
    with store.reading() as con:
        row = _row(con, "id", msg_id)
    stamp = now.strftime("%Y%m%d%H%M%S")
    _emit(store, [Outcome(names.MESSAGE_CLICKED, row, now, url=url, dedupe=f"{url}|{stamp}")], now)
    return url


def unsubscribe(
    store: Store, t: Tokens, token: str, via: str, clock: Clock = _WALL
) -> dict[str, Any]:
    """Unsubscribe the message's person from its channel and topic (`*` when it had none)."""
    msg_id, _ = _read(t, token, "u")
    now = clock.now()
    with store.reading() as con:
        row = _row(con, "id", msg_id)
    topic = row.get("topic") or "*"
    if row.get("profile_id"):
        pid = str(row["profile_id"])

        def run(con: duckdb.DuckDBPyConnection) -> None:
            set_subscription(con, pid, row["channel"], topic, False, now, via, msg_id)

        store.write_sync(run)
        reason = f"{via}: {row['channel']} {topic}"
        _emit(store, [Outcome(names.UNSUBSCRIBED, row, now, reason=reason)], now)
    return {"message_id": msg_id, "channel": row["channel"], "topic": topic}


_TWILIO_DONE = {"delivered": names.MESSAGE_DELIVERED, "undelivered": names.MESSAGE_FAILED,
                "failed": names.MESSAGE_FAILED}  # fmt: skip


def twilio_status(
    store: Store, url: str, form: dict[str, str], sig: str | None, clock: Clock = _WALL
) -> dict[str, Any]:
    """A Twilio status callback, verified with the auth token of the message's destination."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    with store.reading() as con:
        try:
            row = _row(con, "provider_id", sid)
        except NotFound:
            raise Unauthorized("twilio callback: no message has this MessageSid") from None
        _, secrets, _ = cfg.load(con, Vault.open(store.settings), row["destination"])
    token = str(secrets.get("auth_token", ""))
    if not sig or not token or sig != signature(token, url, form):
        raise Unauthorized("twilio callback: X-Twilio-Signature does not match")
    status = form.get("MessageStatus", "")
    event = _TWILIO_DONE.get(status)
    if event is not None:
        now = clock.now()
        reason = f"twilio {status}" + (
            f" (error {form['ErrorCode']})" if form.get("ErrorCode") else ""
        )
        state = "delivered" if event == names.MESSAGE_DELIVERED else "dead"
        store.write_sync(
            lambda con: con.execute(
                "UPDATE outbox_done SET state = ?, last_error = ?, updated_at = ? WHERE id = ?",
                [state, None if state == "delivered" else reason, now, row["id"]],
            )
        )
        _emit(store, [Outcome(event, row, now, None if state == "delivered" else reason)], now)
    return {"message_id": row["id"], "status": status}


def push_receipt(
    store: Store, t: Tokens, receipt: str, status: str, clock: Clock = _WALL
) -> dict[str, Any]:
    """An app reports a push notification `delivered` or `opened` with its signed receipt."""
    msg_id, _ = _read(t, receipt, "o")
    event = {"delivered": names.MESSAGE_DELIVERED, "opened": names.MESSAGE_OPENED}.get(status)
    if event is None:
        from touchpath.errors import BadRequest

        raise BadRequest(f"status: 'delivered' or 'opened', not {status!r}")
    now = clock.now()
    with store.reading() as con:
        row = _row(con, "id", msg_id)
    if event == names.MESSAGE_DELIVERED:
        store.write_sync(
            lambda con: con.execute(
                "UPDATE outbox_done SET state = 'delivered', updated_at = ? WHERE id = ?",
                [now, msg_id],
            )
        )
    _emit(store, [Outcome(event, row, now)], now)
    return {"message_id": msg_id, "status": status}
