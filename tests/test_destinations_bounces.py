"""Bounces that come back later as delivery status notifications (RFC 3464): the SMTP server
(aiosmtpd) accepts the message, then mails a DSN to the bounce mailbox; it is recorded as Message
Bounced tied to the message, its journey node and the person, and a hard bounce suppresses the
address for every later email."""

from __future__ import annotations

import time

from tests.test_destinations_support import Env, person

from touchpath.demo.receivers import SmtpReceiver
from touchpath.destinations import OutboxMessage
from touchpath.destinations import api as dapi
from touchpath.destinations.bounces import make_dsn, parse_dsn
from touchpath.events import names

pytest_plugins = ("tests.test_destinations_support",)


def _email(key: str, pid: str | None, recipient: str | None = None) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=key, destination="mail", channel="email", profile_id=pid,
        recipient=recipient, content={"subject": "Your order", "text": "Hi"},
        journey="orders", journey_version=2, node="confirm",
    )  # fmt: skip


def test_a_dsn_bounce_is_recorded_and_suppresses_the_address(env: Env) -> None:
    inbox: list[list[dict[str, object]]] = []
    with SmtpReceiver(
        user=("shop", "pw"),
        dsn={"gone@example.com"},
        on_dsn=lambda raw: inbox.append(dapi.record_bounces(env.tp.store, raw)),
    ) as smtp:
        env.put(
            "mail",
            {"kind": "smtp", "host": "127.0.0.1", "port": smtp.port, "username": "shop",
             "from_address": "news@shop.example", "ca_cert": smtp.cert_pem.decode()},
            {"password": "pw"},
        )  # fmt: skip
        gone = person(env.tp, "u9", email="gone@example.com")
        env.send(_email("b1", gone))
        assert len(smtp.received) == 1  # accepted at SMTP time, bounced afterwards
        deadline = time.monotonic() + 20
        while not inbox and time.monotonic() < deadline:
            time.sleep(0.02)
        (got,) = inbox
        row = env.row("b1")
        assert got == [{"recipient": "gone@example.com", "status": "5.1.1", "action": "failed",
                        "permanent": True, "message_id": row["id"]}]  # fmt: skip
        assert row["state"] == "dead" and row["last_error"].startswith("bounced: 5.1.1")
        (bounce,) = env.events(names.MESSAGE_BOUNCED)
        props = bounce["properties"]
        assert bounce["user_id"] == "u9" and bounce["channel"] == "email"
        assert (props["message_id"], props["journey"], props["node"]) == (row["id"], "orders",
                                                                          "confirm")  # fmt: skip
        assert props["reason"].startswith("hard bounce 5.1.1")
        # the address is suppressed: for the person, and for a message that names it directly
        env.send(_email("b2", gone), _email("b3", None, "Gone@Example.com"))
        assert (env.row("b2")["state"], env.row("b2")["last_error"]) == (
            "refused", "unsubscribed: every email message"
        )  # fmt: skip
        assert (env.row("b3")["state"], env.row("b3")["last_error"]) == (
            "refused", "the address hard-bounced (5.1.1)"
        )  # fmt: skip
        assert len(smtp.received) == 1


def test_a_delayed_dsn_is_a_soft_bounce_and_suppresses_nothing() -> None:
    original = b"Message-ID: <msg_abc123@shop.example>\r\nTo: slow@example.com\r\n\r\nHi"
    (b,) = parse_dsn(make_dsn(original, "slow@example.com", "4.2.2", "452 4.2.2 mailbox full"))
    assert (b.action, b.status, b.permanent, b.message_id) == ("delayed", "4.2.2", False,
                                                               "msg_abc123")  # fmt: skip
    assert parse_dsn(original) == []  # not a report
