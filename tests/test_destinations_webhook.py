"""Webhooks through the dispatcher to a real local receiver that verifies every signature with
the `standardwebhooks` library; retries, Retry-After, dead letters and replay, 410."""

from __future__ import annotations

from datetime import timedelta

from standardwebhooks.webhooks import Webhook
from tests.test_destinations_support import Env, person

from touchpath.demo.receivers import HttpReceiver
from touchpath.destinations import OutboxMessage, message_id
from touchpath.destinations import config as cfg
from touchpath.destinations.outbox import replay
from touchpath.events import names

pytest_plugins = ("tests.test_destinations_support",)


def _hook(key: str, **kw: object) -> OutboxMessage:
    base: dict[str, object] = {
        "idempotency_key": key,
        "destination": "hooks",
        "channel": "webhook",
        "content": {"payload": {"hello": "{{ traits.name | default('you') }}", "key": key}},
    }
    base.update(kw)
    return OutboxMessage(**base)  # type: ignore[arg-type]


def test_signed_webhook_is_verified_by_standardwebhooks(env: Env, receiver: HttpReceiver) -> None:
    made = env.put("hooks", {"kind": "webhook", "url": receiver.url + "/hooks/a"})
    assert made.new_secret and made.new_secret.startswith("whsec_")
    assert made.secrets_set == ["signing_secret"]
    receiver.secrets = [made.new_secret]
    pid = person(env.tp, "u1", name="Ada")
    env.send(_hook("k1", profile_id=pid, journey="welcome", journey_version=1, node="hook"))
    (got,) = receiver.of("webhook")
    assert got.verified is True
    assert got.data == {"hello": "Ada", "key": "k1"}
    assert got.headers["webhook-id"] == message_id("k1")
    Webhook(made.new_secret).verify(got.body, got.headers)  # as any receiver would
    row = env.row("k1")
    assert (row["state"], row["attempts"], row["last_status"]) == ("delivered", 1, 200)
    (event,) = env.events(names.MESSAGE_DELIVERED)
    props = event["properties"]
    assert event["user_id"] == "u1"
    assert props["message_id"] == message_id("k1")
    assert (props["journey"], props["version"], props["node"], props["channel"]) == (
        "welcome",
        1,
        "hook",
        "webhook",
    )


def test_rotation_signs_with_both_secrets_during_the_overlap(
    env: Env, receiver: HttpReceiver
) -> None:
    old = env.put("hooks", {"kind": "webhook", "url": receiver.url + "/hooks/r"}).new_secret
    assert old is not None
    rotated = env.tp.store.write_sync(
        lambda con: cfg.rotate_secret(con, env.vault, "hooks", env.clock.now(), timedelta(hours=24))
    )
    new = rotated.new_secret
    assert new is not None and new != old
    receiver.secrets = [old]  # a receiver not yet updated
    env.send(_hook("before-update"))
    receiver.secrets = [new]  # one already updated
    env.send(_hook("after-update"))
    got = receiver.of("webhook")
    assert [r.verified for r in got] == [True, True]
    assert all(len(r.headers["webhook-signature"].split(" ")) == 2 for r in got)


def test_retries_honour_retry_after_then_dead_letter_and_replay(
    env: Env, receiver: HttpReceiver
) -> None:
    secret = env.put("hooks", {"kind": "webhook", "url": receiver.url + "/hooks/x"}).new_secret
    receiver.secrets = [secret or ""]
    receiver.script("/hooks/x", [(503, {"Retry-After": "120"}), (500, {}), (502, {})])
    env.send(_hook("k"))
    row = env.row("k")
    assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 1, 503)
    assert row["next_attempt_at"] == env.clock.now() + timedelta(seconds=120)
    env.clock.advance(timedelta(seconds=119))
    env.dispatcher.run_until_idle()
    assert env.row("k")["attempts"] == 1  # not before Retry-After
    env.clock.advance(timedelta(seconds=1))
    env.dispatcher.run_until_idle()
    row = env.row("k")
    assert (row["attempts"], row["last_status"]) == (2, 500)
    delay = (row["next_attempt_at"] - env.clock.now()).total_seconds()
    assert 10 <= delay <= 20  # second retry: base 10 * 2, with equal jitter
    env.clock.advance(timedelta(seconds=delay))
    env.dispatcher.run_until_idle()
    row = env.row("k")
    assert row["state"] == "dead" and row["attempts"] == 3
    assert "gave up after 3 attempts: HTTP 502" in row["last_error"]
    assert [a["outcome"] for a in row["attempts_log"]] == ["retry", "retry", "retry"]
    (failed,) = env.events(names.MESSAGE_FAILED) or [None]
    assert failed is None  # no person: nothing to tie an event to
    n = env.tp.store.write_sync(lambda con: replay(con, env.clock.now(), ids=["k"]))
    assert n == 1
    env.dispatcher.run_until_idle()
    row = env.row("k")
    assert (row["state"], row["attempts"]) == ("delivered", 1)
    assert [r.verified for r in receiver.of("webhook")] == [True]


def test_410_disables_the_destination(env: Env, receiver: HttpReceiver) -> None:
    env.put("hooks", {"kind": "webhook", "url": receiver.url + "/hooks/g"})
    receiver.script("/hooks/g", [(410, {})])
    env.send(_hook("a"))
    assert env.row("a")["state"] == "dead"
    (dest,) = env.tp.store.write_sync(lambda con: cfg.list_destinations(con, env.vault))
    assert dest.enabled is False and "410" in (dest.disabled_reason or "")
    env.tp.store.write_sync(lambda con: enqueue_one(con, env, "b"))
    env.dispatcher.run_until_idle()
    assert env.row("b")["state"] == "pending"  # waits until the destination is enabled again


def enqueue_one(con: object, env: Env, key: str) -> int:
    from touchpath.destinations import enqueue

    return enqueue(con, [_hook(key)], now=env.clock.now())  # type: ignore[arg-type]


def test_redirects_are_not_followed(env: Env, receiver: HttpReceiver) -> None:
    env.put("hooks", {"kind": "webhook", "url": receiver.url + "/hooks/3"})
    receiver.script("/hooks/3", [(302, {"Location": "http://169.254.169.254/latest"})])
    env.send(_hook("r"))
    row = env.row("r")
    assert row["state"] == "dead" and "redirects are not followed" in row["last_error"]
