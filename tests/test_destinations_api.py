"""The REST API of destinations over a real HTTP server, with the dispatcher running beside it,
and the public message links and callbacks under /v1/m."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest
from tests.conftest import api_token, bearer
from tests.test_destinations_support import T0

from touchpath.demo.receivers import HttpReceiver
from touchpath.destinations import OutboxMessage, enqueue
from touchpath.destinations.feedback import tokens
from touchpath.destinations.sms import signature
from touchpath.events.message import stage_messages
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving


@dataclass
class Api:
    client: httpx.Client
    store: Store
    hooks: HttpReceiver


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(
        db=tmp_path / "a.duckdb", port=0, destinations_allow_hosts="127.0.0.1",
        outbox_poll_seconds=0.05, destinations_backoff_seconds=1,
    )  # fmt: skip
    with (
        Store(settings.db, settings) as store,
        HttpReceiver() as hooks,
        serving(settings, store) as url,
        httpx.Client(base_url=url, timeout=30, headers=bearer(api_token(store, "admin"))) as client,
    ):
        yield Api(client, store, hooks)


def _person(store: Store, user_id: str, **traits: object) -> None:
    raw = json.dumps({"type": "identify", "userId": user_id, "traits": traits}).encode()
    store.ingest(stage_messages([raw], source="t", received_at=T0)).result()
    store.wait_idle()


def test_destinations_crud_never_returns_secrets(api: Api) -> None:
    c = api.client
    r = c.put(
        "/api/destinations/hooks",
        json={"config": {"kind": "webhook", "url": api.hooks.url + "/hooks/a"}},
    )
    assert r.status_code == 200, r.text
    secret = r.json()["new_secret"]
    assert secret.startswith("whsec_")
    listed = c.get("/api/destinations").json()
    assert [d["name"] for d in listed] == ["hooks"] and secret not in json.dumps(listed)
    assert listed[0]["secrets_set"] == ["signing_secret"] and listed[0]["new_secret"] is None
    r = c.put(
        "/api/destinations/mail",
        json={"config": {"kind": "smtp", "host": "127.0.0.1", "from_address": "a@b.example"},
              "secrets": {"password": "hunter2"}},
    )  # fmt: skip
    assert r.status_code == 200 and "hunter2" not in r.text
    assert "hunter2" not in c.get("/api/destinations/mail").text
    raw = api.store.query("SELECT secrets FROM destinations WHERE name = 'mail'")[0][0]
    assert "hunter2" not in raw  # encrypted at rest
    bad = c.put("/api/destinations/x", json={"config": {"kind": "webhook", "url": "ftp://x"}})
    assert bad.status_code == 422 and "url" in bad.text
    bad = c.put(
        "/api/destinations/x",
        json={
            "config": {"kind": "smtp", "host": "h", "from_address": "a@b.c"},
            "secrets": {"token": "t"},
        },
    )
    assert bad.status_code == 400 and "secrets.token" in bad.json()["error"]["message"]
    assert c.get("/api/destinations/nope").status_code == 404
    rotated = c.post("/api/destinations/hooks/rotate-secret", json={"overlap_hours": 1}).json()
    assert rotated["new_secret"].startswith("whsec_") and rotated["new_secret"] != secret
    assert c.post("/api/destinations/hooks/disable").json()["enabled"] is False
    assert c.post("/api/destinations/hooks/enable").json()["enabled"] is True
    assert c.delete("/api/destinations/mail").json() == {"success": True}


def test_test_send_delivery_log_dead_letters_and_replay(api: Api) -> None:
    c = api.client
    secret = c.put(
        "/api/destinations/hooks",
        json={"config": {"kind": "webhook", "url": api.hooks.url + "/hooks/t"}},
    ).json()["new_secret"]
    api.hooks.secrets = [secret]
    sent = c.post("/api/destinations/hooks/test", json={}).json()
    assert sent["state"] == "delivered" and sent["attempts_log"][0]["status"] == 200
    assert api.hooks.of("webhook")[0].verified is True
    api.hooks.script("/hooks/t", [(400, {})])
    failed = c.post("/api/destinations/hooks/test", json={}).json()
    assert failed["state"] == "dead" and failed["last_status"] == 400
    dead = c.get("/api/destinations/dead-letters").json()
    assert [d["id"] for d in dead] == [failed["id"]]
    assert c.post("/api/destinations/dead-letters/replay", json={"ids": [failed["id"]]}).json() == {
        "replayed": 1
    }
    api.store.wait_idle()
    import time

    for _ in range(100):
        if c.get(f"/api/destinations/messages/{failed['id']}").json()["state"] == "delivered":
            break
        time.sleep(0.05)
    detail = c.get(f"/api/destinations/messages/{failed['id']}").json()
    assert detail["state"] == "delivered"
    assert [a["outcome"] for a in detail["attempts_log"]] == ["failed", "delivered"]
    states = {
        (r["destination"], r["state"]): r["messages"]
        for r in c.get("/api/destinations/summary").json()
    }
    assert states == {("hooks", "delivered"): 2}
    assert len(c.get("/api/destinations/messages", params={"state": "delivered"}).json()) == 2
    assert c.get("/api/destinations/messages", params={"state": "nope"}).status_code == 400


def test_templates_preview_groups_subscriptions_policy(api: Api) -> None:
    c = api.client
    _person(api.store, "u1", first_name="Ada", email="ada@example.com")
    tpl = {
        "channel": "email",
        "fields": {"subject": "Hi {{ traits.first_name }}", "text": "{{ traits.plan }}"},
    }
    r = c.put("/api/destinations/templates/welcome", json=tpl)
    assert r.status_code == 400 and "fields.subject" in r.json()["error"]["message"]
    tpl["defaults"] = {"traits.first_name": "there", "traits.plan": "free"}
    assert c.put("/api/destinations/templates/welcome", json=tpl).status_code == 200
    got = c.post("/api/destinations/templates/welcome/preview", json={"profile": "u1"}).json()
    assert got["fields"] == {"subject": "Hi Ada", "text": "free"}
    unsaved = c.post(
        "/api/destinations/templates/preview", json={"template": tpl, "profile": "u1"}
    ).json()
    assert unsaved["fields"]["subject"] == "Hi Ada", unsaved
    assert [t["name"] for t in c.get("/api/destinations/templates").json()] == ["welcome"]
    assert c.get("/api/destinations/templates/welcome").json()["channel"] == "email"
    group = {"topic": "news", "channels": ["email"], "opt_in": True}
    assert c.put("/api/destinations/groups/news", json=group).json()["opt_in"] is True
    assert [g["topic"] for g in c.get("/api/destinations/groups").json()] == ["news"]
    subs = c.put(
        "/api/destinations/subscriptions/u1",
        json={"channel": "email", "topic": "news", "subscribed": True},
    ).json()
    assert subs["subscriptions"][0]["status"] == "subscribed"
    assert c.get("/api/destinations/subscriptions/u1").json() == subs
    policy = {
        "caps": {"sms": 3},
        "quiet_hours": {"start": "22:00:00", "end": "07:00:00", "channels": ["sms"]},
        "fallback_timezone": "Europe/Paris",
    }
    assert c.put("/api/destinations/policy", json=policy).json()["caps"] == {"sms": 3}
    assert c.get("/api/destinations/policy").json()["fallback_timezone"] == "Europe/Paris"
    bad = c.put("/api/destinations/policy", json={"fallback_timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "Mars/Olympus" in bad.text
    assert c.delete("/api/destinations/groups/news").json() == {"success": True}
    assert c.delete("/api/destinations/templates/welcome").json() == {"success": True}


def test_links_open_click_unsubscribe_and_callbacks(api: Api) -> None:
    c = api.client
    _person(api.store, "u2", phone="+4915100000001")
    pid = api.store.query("SELECT profile_id FROM identifiers WHERE value = 'u2'")[0][0]
    msg = OutboxMessage(idempotency_key="m1", destination="texts", channel="sms", profile_id=pid,
                        topic="promo", content={"body": "hi"}, journey="j", journey_version=1, node="n",
                        send_after=datetime(2100, 1, 1))  # fmt: skip
    api.store.write_sync(lambda con: enqueue(con, [msg]))
    mid = api.store.query("SELECT id FROM outbox")[0][0]
    t = tokens(api.store)
    assert c.get(f"/v1/m/open/{t.make('o', mid)}").headers["content-type"] == "image/gif"
    r = c.get(f"/v1/m/click/{t.make('c', mid, 'https://shop.example/a')}", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (302, "https://shop.example/a")
    forged = t.make("c", mid, "https://shop.example/a").replace(".", "x.", 1)
    assert c.get(f"/v1/m/click/{forged}", follow_redirects=False).status_code == 401
    other = t.make("c", mid, "https://shop.example/a")
    _body, mac = other.split(".")
    evil = t.make("c", mid, "https://evil.example/").split(".")[0] + "." + mac
    assert c.get(f"/v1/m/click/{evil}", follow_redirects=False).status_code == 401
    page = c.get(f"/v1/m/unsubscribe/{t.make('u', mid)}")
    assert page.status_code == 200 and "<form" in page.text  # a GET changes nothing
    r = c.post(f"/v1/m/unsubscribe/{t.make('u', mid)}", data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "promo" in r.text
    subs = c.get("/api/destinations/subscriptions/u2").json()["subscriptions"]
    assert [(s["channel"], s["topic"], s["status"], s["via"]) for s in subs] == [
        ("sms", "promo", "unsubscribed", "one-click")
    ]
    api.store.wait_idle()
    events = api.store.query_dicts(
        "SELECT event, properties FROM events WHERE source = 'touchpath.destinations' ORDER BY seq"
    )
    assert [e["event"] for e in events] == ["Message Opened", "Message Clicked", "Unsubscribed"]
    props = json.loads(events[1]["properties"])
    assert (props["url"], props["journey"], props["node"], props["message_id"]) == (
        "https://shop.example/a",
        "j",
        "n",
        mid,
    )
    # Twilio's status callback, signed with the destination's auth token.
    c.put(
        "/api/destinations/texts",
        json={
            "config": {"kind": "twilio", "account_sid": "AC1", "from_number": "+15005550006"},
            "secrets": {"auth_token": "tok"},
        },
    )

    def sent(con: duckdb.DuckDBPyConnection) -> None:  # as the dispatcher records a send
        con.execute(
            "INSERT INTO outbox_done SELECT id, seq, 'sent', 1, 201, NULL, 'SM9', NULL, "
            "updated_at, updated_at FROM outbox_queue"
        )
        con.execute("DELETE FROM outbox_queue")

    api.store.write_sync(sent)
    form = {"MessageSid": "SM9", "MessageStatus": "delivered"}
    url = str(c.base_url).rstrip("/") + "/v1/m/callbacks/twilio"
    assert (
        c.post(
            "/v1/m/callbacks/twilio", data=form, headers={"X-Twilio-Signature": "bad"}
        ).status_code
        == 401
    )
    ok = c.post(
        "/v1/m/callbacks/twilio",
        data=form,
        headers={"X-Twilio-Signature": signature("tok", url, form)},
    )
    assert ok.status_code == 200, ok.text
    assert c.get(f"/api/destinations/messages/{mid}").json()["state"] == "delivered"
    receipt = t.make("o", mid)
    assert (
        c.post("/v1/m/callbacks/push", json={"receipt": receipt, "status": "opened"}).status_code
        == 200
    )
    assert (
        c.post("/v1/m/callbacks/push", json={"receipt": "x.y", "status": "opened"}).status_code
        == 401
    )


def test_viewers_read_admins_manage_links_are_public(api: Api) -> None:
    url = str(api.client.base_url)
    viewer = httpx.Client(base_url=url, headers=bearer(api_token(api.store, "viewer")))
    editor = httpx.Client(base_url=url, headers=bearer(api_token(api.store, "editor")))
    nobody = httpx.Client(base_url=url)
    hook = {"config": {"kind": "webhook", "url": "https://hooks.example.com/x"}}
    assert nobody.get("/api/destinations").status_code == 401
    assert viewer.get("/api/destinations").status_code == 200
    assert viewer.put("/api/destinations/x", json=hook).status_code == 403
    assert editor.put("/api/destinations/x", json=hook).status_code == 403
    assert viewer.post("/api/destinations/dead-letters/replay", json={}).status_code == 403
    tpl = {"channel": "sms", "fields": {"body": "hi"}}
    assert viewer.put("/api/destinations/templates/t", json=tpl).status_code == 403
    assert editor.put("/api/destinations/templates/t", json=tpl).status_code == 200
    assert api.client.put("/api/destinations/x", json=hook).status_code == 200
    # The message links answer without a credential, by their signed token alone.
    assert nobody.get("/v1/m/open/not-a-token").status_code == 401
    assert nobody.get("/v1/m/unsubscribe/not-a-token").status_code == 401


def test_hearing_back_tells_time_by_the_apps_clock(tmp_path: Path) -> None:
    """Opens, clicks and unsubscribes are stamped by the app's clock (`tp.clock`), not the
    wall: a demo on its own clock sees the reactions at its time, after the sends."""
    from touchpath.clock import ManualClock

    clock = ManualClock(datetime(2031, 5, 4, 12, 0))
    settings = Settings(db=tmp_path / "c.duckdb", port=0)
    with Store(settings.db, settings) as store, serving(settings, store, clock) as url:
        _person(store, "u3")
        pid = store.query("SELECT profile_id FROM identifiers WHERE value = 'u3'")[0][0]
        msg = OutboxMessage(idempotency_key="m3", destination="mail", channel="email",
                            profile_id=pid, content={"subject": "s", "text": "t"},
                            send_after=datetime(2100, 1, 1))  # fmt: skip
        store.write_sync(lambda con: enqueue(con, [msg]))
        mid = store.query("SELECT id FROM outbox")[0][0]
        t = tokens(store)
        c = httpx.Client(base_url=url)
        assert c.get(f"/v1/m/open/{t.make('o', mid)}").status_code == 200
        clock.advance(timedelta(minutes=3))
        link = t.make("c", mid, "https://shop.example/b")
        assert c.get(f"/v1/m/click/{link}", follow_redirects=False).status_code == 302
        store.wait_idle()
        got = store.query(
            "SELECT event, timestamp FROM events WHERE source = 'touchpath.destinations' "
            "ORDER BY seq"
        )
    assert got == [
        ("Message Opened", datetime(2031, 5, 4, 12, 0)),
        ("Message Clicked", datetime(2031, 5, 4, 12, 3)),
    ]
