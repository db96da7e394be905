"""SMTP bounces that arrive later, as delivery status notifications (RFC 3464).

An SMTP server that accepted a message may find out afterwards that it cannot be delivered; it
then mails a DSN back: a `multipart/report; report-type=delivery-status` whose
`message/delivery-status` part names each recipient with an `Action` and a `Status` (`5.x.x`
permanent, `4.x.x` transient), and whose last part returns the original message or its headers.
`parse_dsn` reads one with Python's `email` package; `record_bounces` ties each failed recipient
to the outbox message it answers (the original's `X-Touchpath-Message-Id`, else its
`Message-ID`), writes Message Bounced on the message's channel, journey node and person, and for
a hard bounce (permanent failure) suppresses the address: the send policy refuses email to it,
and the person is unsubscribed from email (`via` = bounce).

DSNs reach `record_bounces` from the inbound bounce mailbox (`POST /api/destinations/bounces`
with the raw message, `touchpath destinations bounce FILE`) or from the demo's SMTP receiver.

>>> raw = make_dsn(b"Message-ID: <msg_1@shop.example>\\r\\nTo: gone@x.example\\r\\n\\r\\nHi",
...                "gone@x.example", "5.1.1", "550 5.1.1 no such user")
>>> [(b.recipient, b.status, b.permanent, b.message_id) for b in parse_dsn(raw)]
[('gone@x.example', '5.1.1', True, 'msg_1')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from typing import Any

import duckdb

from touchpath.clock import utcnow
from touchpath.destinations.events import Outcome, stage_outcomes
from touchpath.destinations.subscriptions import set_subscription
from touchpath.errors import BadRequest
from touchpath.events import names
from touchpath.store import Store

__all__ = ["Bounce", "make_dsn", "parse_dsn", "record_bounces"]

_OUR_ID = re.compile(r"<?(msg_[0-9a-f]+)@", re.IGNORECASE)


@dataclass(frozen=True)
class Bounce:
    """One recipient a DSN reports as failed (or delayed)."""

    recipient: str
    status: str
    """The RFC 3463 status code, e.g. `5.1.1`."""
    action: str
    """failed, delayed (a DSN also reports delivered, relayed, expanded: those are no bounce)."""
    diagnostic: str | None
    message_id: str | None
    """The outbox id of the message it answers, when the DSN returned its headers."""

    @property
    def permanent(self) -> bool:
        """A hard bounce: failed with a 5.x.x status."""
        return self.action == "failed" and self.status.startswith("5")


def _address(value: str | None) -> str:
    """`rfc822; gone@x.example` -> `gone@x.example`."""
    if not value:
        return ""
    _, _, addr = value.partition(";") if ";" in value else ("", "", value)
    return addr.strip().strip("<>").lower()


def _original_id(report: Message) -> str | None:
    """The outbox id in the returned message's headers (its last part)."""
    parts: Any = report.get_payload()
    if not isinstance(parts, list) or len(parts) < 3:
        return None
    returned: Any = parts[2]
    if returned.get_content_type() == "message/rfc822":
        inner: Any = returned.get_payload()
        headers: Any = inner[0] if isinstance(inner, list) and inner else None
    else:  # text/rfc822-headers
        text = returned.get_payload(decode=True) or b""
        headers = message_from_bytes(bytes(text), policy=policy.default)
    if headers is None:
        return None
    own = headers.get("X-Touchpath-Message-Id")
    if own:
        return str(own).strip()
    m = _OUR_ID.search(str(headers.get("Message-ID", "")))
    return m.group(1) if m else None


def _status_fields(part: Any) -> list[Any]:
    """The field groups of a message/delivery-status part: the per-message group, then one per
    recipient. Python's parser gives them as sub-messages; some senders' text needs splitting."""
    payload: Any = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = payload if isinstance(payload, str) else ""
    blocks = [b for b in re.split(r"\r?\n\s*\r?\n", text.strip()) if b.strip()]
    return [message_from_bytes(b.encode(), policy=policy.default) for b in blocks]


def parse_dsn(raw: bytes) -> list[Bounce]:
    """The failed and delayed recipients of a DSN; [] when `raw` is not a delivery report."""
    mail = message_from_bytes(raw, policy=policy.default)
    if mail.get_content_type() != "multipart/report":
        return []
    if str(mail.get_param("report-type", "")).lower() != "delivery-status":
        return []
    parts: Any = mail.get_payload()
    status: Any = next(
        (p for p in parts if p.get_content_type() == "message/delivery-status"), None
    ) if isinstance(parts, list) else None  # fmt: skip
    if status is None:
        return []
    msg_id = _original_id(mail)
    out: list[Bounce] = []
    for group in _status_fields(status)[1:]:
        action = str(group.get("Action", "")).strip().lower()
        if action not in ("failed", "delayed"):
            continue
        recipient = _address(group.get("Final-Recipient") or group.get("Original-Recipient"))
        code = str(group.get("Status", "")).strip().split(" ")[0]
        diag = group.get("Diagnostic-Code")  # `smtp; 550 5.1.1 ...`
        text = (str(diag).partition(";")[2].strip() or str(diag).strip()) if diag else None
        out.append(Bounce(recipient, code, action, text, msg_id))
    return out


def make_dsn(original: bytes, recipient: str, status: str, diagnostic: str) -> bytes:
    """A DSN for `original` as a remote mail server sends one (the demo's receiver and tests
    play that server): the report, then the original's headers."""
    headers = original.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    action = "failed" if status.startswith("5") else "delayed"
    mail = MIMEMultipart("report", report_type="delivery-status")
    mail["From"] = "Mail Delivery System <mailer-daemon@127.0.0.1>"
    mail["Subject"] = "Undelivered Mail Returned to Sender"
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="127.0.0.1")
    mail.attach(MIMEText(f"Your message to {recipient} could not be delivered.\n{diagnostic}\n"))
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; 127.0.0.1"
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    report = MIMEBase("message", "delivery-status")
    report.set_payload([per_message, per_recipient])
    mail.attach(report)
    mail.attach(MIMEText(headers + "\r\n", "rfc822-headers"))
    return mail.as_bytes()


def _apply(
    con: duckdb.DuckDBPyConnection, bounces: list[Bounce], now: datetime
) -> list[tuple[Bounce, dict[str, Any]]]:
    """In the writer: each bounce's message, its state (dead for a hard bounce), the address
    suppressed and the person unsubscribed from email."""
    from touchpath.destinations.feedback import MESSAGE_COLUMNS

    found: list[tuple[Bounce, dict[str, Any]]] = []
    for b in bounces:
        if b.message_id is None:
            continue
        cur = con.execute(f"SELECT {MESSAGE_COLUMNS} FROM outbox WHERE id = ?", [b.message_id])
        cols = [d[0] for d in cur.description or []]
        rows = cur.fetchall()
        if not rows:
            continue
        row = dict(zip(cols, rows[0], strict=True))
        found.append((b, row))
        if not b.permanent:
            continue
        reason = f"bounced: {b.status} {b.diagnostic or ''}".strip()
        con.execute(
            "UPDATE outbox_done SET state = 'dead', last_error = ?, updated_at = ? WHERE id = ?",
            [reason, now, row["id"]],
        )
        con.execute(
            "INSERT OR REPLACE INTO bounced_addresses VALUES (?, ?, ?, ?, ?)",
            [b.recipient, b.status, b.diagnostic, row["id"], now],
        )
        if row.get("profile_id"):
            set_subscription(con, row["profile_id"], "email", "*", False, now, "bounce", row["id"])
    return found


def record_bounces(store: Store, raw: bytes) -> list[dict[str, Any]]:
    """Record the bounces a DSN reports (see the module); returns one entry per recipient."""
    bounces = parse_dsn(raw)
    if not bounces:
        raise BadRequest("body: not a delivery status notification (multipart/report; "
                         "report-type=delivery-status, RFC 3464)")  # fmt: skip
    now = utcnow()

    def job(con: duckdb.DuckDBPyConnection) -> Any:
        found = _apply(con, bounces, now)
        outcomes = [
            Outcome(names.MESSAGE_BOUNCED, row, now,
                    f"{'hard' if b.permanent else 'soft'} bounce {b.status}: {b.diagnostic or ''}",
                    dedupe=f"{b.recipient}|{b.status}")
            for b, row in found
        ]  # fmt: skip
        return found, stage_outcomes(con, outcomes, now)

    found, staged = store.write_sync(job)
    if staged is not None:
        store.ingest(staged, internal=True).result()
    ids = {b.recipient: row["id"] for b, row in found}
    return [
        {"recipient": b.recipient, "status": b.status, "action": b.action,
         "permanent": b.permanent, "message_id": ids.get(b.recipient)}
        for b in bounces
    ]  # fmt: skip
