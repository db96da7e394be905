"""The living business: people arrive and act as its clock moves, and answer the messages the
receivers hand over; everything it is about to do and has done is rows (migration 710).

- `step(now)`: one writer transaction runs the arrivals and the actions due by `now` (each from
  its own random stream, keyed by the action, so a step run again after a crash does the same)
  and writes what people send into `demo_live_outbox`, with the new state and actions.
- `send()`: posts the outbox in order, Segment messages through `POST /v1/batch` with their
  deterministic messageIds (the collector drops a repeat), link calls to the `/v1/m` routes,
  and deletes what was acknowledged. A crash between the two sends again; nothing is lost.
- `receive(received)`: a receiver's callback. Records the message once (its outbox id is the
  key; a redelivery only counts) with the planted chances it is answered with, and schedules
  the open, the click and the purchase, or the unsubscribe.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import duckdb
import httpx
import orjson

from touchpath.clock import Clock
from touchpath.demo.facts import LIVE_REACTIONS
from touchpath.demo.live.behaviour import (
    Action,
    Outcome,
    Person,
    buy_back,
    new_person,
    own_return,
    person_of_recipient,
    session,
)
from touchpath.demo.live.reactions import Delivery, delivery_of, react
from touchpath.store import Store

__all__ = ["LiveBusiness", "get_meta", "set_meta"]

log = logging.getLogger(__name__)


def get_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {
        str(k): str(v) for k, v in con.execute("SELECT key, value FROM demo_live_meta").fetchall()
    }


def set_meta(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    for key, value in values.items():
        con.execute(
            "INSERT INTO demo_live_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value = excluded.value",
            [key, str(value)],
        )


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


class LiveBusiness:
    """The simulated business of one store. `rate`: new people per simulated hour (0 closes
    the doors: those already there go on)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        url: str,
        write_key: str,
        *,
        seed: int = 7,
        rate: float = 120.0,
        max_actions: int = 5_000,
    ) -> None:
        self.store = store
        self.clock = clock
        self.url = url.rstrip("/")
        self.seed = seed
        self.rate = rate
        self.max_actions = max_actions
        self._http = httpx.Client(base_url=self.url, auth=(write_key, ""), timeout=30)
        self.stats = {"actions": 0, "arrivals": 0, "sent": 0, "received": 0}

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------------ step
    def step(self, now: datetime | None = None) -> int:
        """Arrivals and every action due by `now` (at most `max_actions`); returns how many."""
        at = now or self.clock.now()
        return int(self.store.write_sync(lambda con: self._step(con, at)))

    def _step(self, con: duckdb.DuckDBPyConnection, now: datetime) -> int:
        meta = get_meta(con)
        due = [
            Action(k, a, p, kind, json.loads(d))
            for k, a, p, kind, d in con.execute(
                "SELECT key, due_at, person, kind, data FROM demo_live_actions WHERE due_at <= ? "
                "ORDER BY due_at, key LIMIT ?",
                [now, self.max_actions],
            ).fetchall()
        ]
        arrivals, nxt, n = self._arrivals(meta, now, self.max_actions - len(due))
        todo = sorted(due + arrivals, key=lambda a: (a.at, a.key))
        people = self._people(con, {a.person for a in todo if a.kind != "arrive"})
        new: list[Action] = []
        out: list[tuple[str, datetime, str, bytes]] = []
        cancel: set[str] = set()
        for act in todo:
            if act.key in cancel:
                continue
            if act.kind == "arrive":
                people[act.person] = new_person(self.seed, act.person, act.at)
            p = people.get(act.person)
            if p is None:
                continue
            got = self._run(p, act)
            new += got.actions
            cancel.update(got.cancel)
            out += [(kind, act.at, f"{act.key}:{kind}", orjson.dumps(body))
                    for kind, body in act.data.get("_calls", [])]  # fmt: skip
            out += [("event", act.at, m["messageId"], orjson.dumps(m)) for m in got.messages]
        self._write(con, [a.key for a in due] + sorted(cancel), new, people, out)
        seq = int(meta.get("outbox_seq", "0")) + len(out)
        set_meta(con, {"now": now.isoformat(), "next_arrival": nxt.isoformat(),
                       "next_person": n, "outbox_seq": seq})  # fmt: skip
        self.stats["actions"] += len(todo)
        self.stats["arrivals"] += len(arrivals)
        return len(todo)

    def _arrivals(
        self, meta: dict[str, str], now: datetime, room: int
    ) -> tuple[list[Action], datetime, int]:
        """New people up to `now`: a Poisson process whose gaps come from each person's stream."""
        n = int(meta.get("next_person", "1"))
        nxt = _ts(meta["next_arrival"]) if "next_arrival" in meta else now
        out: list[Action] = []
        if self.rate <= 0:
            return out, max(nxt, now), n
        while nxt <= now and len(out) < room:
            out.append(Action(f"arrive:{n}", nxt, n, "arrive"))
            gap = random.Random(f"{self.seed}:gap:{n}").expovariate(self.rate / 3600.0)
            nxt += timedelta(seconds=gap)
            n += 1
        return out, nxt, n

    def _people(self, con: duckdb.DuckDBPyConnection, ids: Iterable[int]) -> dict[int, Person]:
        ids = sorted(ids)
        if not ids:
            return {}
        rows = con.execute(
            "SELECT person, state FROM demo_live_people WHERE person IN (SELECT unnest(?))",
            [ids],
        ).fetchall()
        return {int(p): json.loads(s) for p, s in rows}

    def _run(self, p: Person, act: Action) -> Outcome:
        rng = random.Random(f"{self.seed}:{act.key}")
        d = act.data
        if act.kind in ("arrive", "session"):
            return session(p, act.key, act.at, rng)
        if act.kind == "own_return":
            return own_return(p, act.key, act.at, rng)
        if act.kind == "click":
            campaign = {"source": "touchpath", "medium": d["channel"],
                        "name": d.get("template") or "message"}  # fmt: skip
            got = buy_back(p, act.key, act.at, rng, campaign, bool(d.get("buy")))
            if not d.get("_calls"):  # an email's click is recorded by its tracked link
                got.messages.insert(0, self._clicked(p, act))
            return got
        if act.kind == "unsubscribe":
            p["unsubscribed"] = sorted({*p["unsubscribed"], d["channel"]})
        return Outcome()  # open, unsubscribe: their calls are in the action's data

    def _clicked(self, p: Person, act: Action) -> dict[str, Any]:
        """Message Clicked for an SMS or push (email clicks go through the tracked link)."""
        return {
            "type": "track",
            "event": "Message Clicked",
            "userId": p["user_id"],
            "messageId": f"live-{act.key}",
            "timestamp": act.at.isoformat(timespec="milliseconds") + "Z",
            "properties": {
                "message_id": act.data["message_id"],
                "channel": act.data["channel"],
                "template": act.data.get("template"),
            },
            "context": {"library": {"name": "touchpath-messaging", "version": "0.1.0"}},
        }

    def _write(
        self,
        con: duckdb.DuckDBPyConnection,
        done: list[str],
        new: list[Action],
        people: dict[int, Person],
        out: list[tuple[str, datetime, str, bytes]],
    ) -> None:
        if done:
            con.execute("DELETE FROM demo_live_actions WHERE key IN (SELECT unnest(?))", [done])
        if new:
            _insert_actions(con, new)
        if people:
            ids = sorted(people)
            con.execute("DELETE FROM demo_live_people WHERE person IN (SELECT unnest(?))", [ids])
            con.execute(
                "INSERT INTO demo_live_people SELECT unnest(?), unnest(?)",
                [ids, [json.dumps(people[i]) for i in ids]],
            )
        if out:
            (seq,) = con.execute(
                "SELECT coalesce(max(value::BIGINT), 0) FROM demo_live_meta WHERE key = 'outbox_seq'"
            ).fetchone() or (0,)
            con.execute(
                "INSERT INTO demo_live_outbox SELECT unnest(?), unnest(?), unnest(?), "
                "unnest(?), unnest(?)",
                [list(range(int(seq) + 1, int(seq) + 1 + len(out))), [o[2] for o in out],
                 [o[1] for o in out], [o[0] for o in out], [o[3].decode() for o in out]],
            )  # fmt: skip

    # ------------------------------------------------------------------------ send
    def send(self, limit: int = 5_000) -> int:
        """Post what people sent, in order; returns how many were acknowledged."""
        rows = self.store.query(
            "SELECT seq, kind, body FROM demo_live_outbox ORDER BY seq LIMIT ?", [limit]
        )
        done = 0
        i = 0
        while i < len(rows):
            if rows[i][1] == "event":
                j = i
                while j < len(rows) and rows[j][1] == "event" and j - i < 500:
                    j += 1
                ok = self._post_batch([r[2] for r in rows[i:j]])
            else:
                j = i + 1
                ok = self._call(rows[i][1], json.loads(rows[i][2]))
            if not ok:
                break
            self._acknowledged(int(rows[j - 1][0]))
            done += j - i
            i = j
        self.stats["sent"] += done
        return done

    def _acknowledged(self, last: int) -> None:
        def run(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM demo_live_outbox WHERE seq <= ?", [last])

        self.store.write_sync(run)

    def _post_batch(self, bodies: list[str]) -> bool:
        body = b'{"batch":[' + ",".join(bodies).encode() + b"]}"
        r = self._http.post("/v1/batch", content=body, headers={"Content-Type": "application/json"})
        if r.status_code == 200:
            return True
        if r.status_code == 429 or r.status_code >= 500:
            return False  # the next send tries again
        log.error("living demo: /v1/batch answered %s: %s", r.status_code, r.text[:300])
        return True  # a bad message would block the rest forever: dropped, and said

    def _call(self, kind: str, body: dict[str, Any]) -> bool:
        """A link the person follows: the open pixel, a click, an unsubscribe, a push receipt."""
        path = urlsplit(body["url"]).path
        if kind == "get":
            r = self._http.get(path)
        elif kind == "form":
            r = self._http.post(path, data=body.get("form", {}))
        else:
            r = self._http.post(path, json=body.get("json", {}))
        if r.status_code >= 500 or r.status_code == 429:
            return False
        if r.status_code >= 400:
            log.warning("living demo: %s %s answered %s", kind, path, r.status_code)
        return True

    # ------------------------------------------------------------------------ receive
    def receive(self, received: Any) -> None:
        """A receiver's callback: the person reacts to the delivered message (once)."""
        d = delivery_of(received)
        if d is None or not d.message_id:
            return
        person = person_of_recipient(d.recipient)
        if person is None:
            return  # not one of the living demo's people
        now = self.clock.now()
        self.store.write_sync(lambda con: self._receive(con, d, person, now))
        self.stats["received"] += 1

    def _receive(
        self, con: duckdb.DuckDBPyConnection, d: Delivery, person: int, now: datetime
    ) -> None:
        if con.execute(
            "UPDATE demo_live_messages SET deliveries = deliveries + 1 WHERE message_id = ? "
            "RETURNING 1",
            [d.message_id],
        ).fetchall():
            return  # a redelivery: the person already answered it
        p = self._people(con, [person]).get(person)
        if p is None:
            return
        row = con.execute(
            "SELECT template, journey, node, idempotency_key FROM outbox WHERE id = ?",
            [d.message_id],
        ).fetchone() or (None, None, None, None)
        template = row[0]
        window = now - timedelta(seconds=LIVE_REACTIONS.fatigue_window)
        (recent,) = con.execute(
            "SELECT count(*) FROM demo_live_messages WHERE person = ? AND received_at > ? "
            "AND received_at <= ?",
            [person, window, now],
        ).fetchone() or (0,)
        hour = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(p["timezone"])).hour
        rng = random.Random(f"{self.seed}:msg:{d.message_id}")
        r = react(d.channel, template, hour, int(recent), [rng.random() for _ in range(6)])
        if d.channel in p["unsubscribed"]:  # they no longer read these
            r = react(d.channel, template, hour, int(recent), [1.0] * 6)
        open_checkout = p["checkout_id"] is not None and not p["ordered"]
        con.execute(
            "INSERT INTO demo_live_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, 1)",
            [d.message_id, now, person, d.channel, template, row[1], row[2], row[3], hour,
             int(recent), r.p_click, r.opened, r.clicked, r.buy, r.unsubscribe, open_checkout,
             bool(p.get("own_return_at")) and open_checkout],
        )  # fmt: skip
        _insert_actions(con, _answers(d, person, template, now, r))


def _answers(d: Delivery, person: int, template: str | None, now: datetime, r: Any) -> list[Action]:
    """The actions a reaction schedules, each carrying the link call it makes."""
    acts: list[Action] = []
    key = f"m:{d.message_id}"
    opened = now + timedelta(minutes=r.open_after_minutes)
    if r.opened:
        calls: list[tuple[str, dict[str, Any]]] = []
        if d.channel == "email" and d.open_url:
            calls.append(("get", {"url": d.open_url}))
        elif d.channel == "push" and d.receipt:
            calls.append(("json", {"url": "/v1/m/callbacks/push",
                                   "json": {"receipt": d.receipt, "status": "opened"}}))  # fmt: skip
        acts.append(Action(f"{key}:open", opened, person, "open", {"_calls": calls}))
    if r.clicked:
        calls = [("get", {"url": d.click_url})] if d.click_url else []
        data = {"_calls": calls, "channel": d.channel, "template": template,
                "message_id": d.message_id, "buy": r.buy}  # fmt: skip
        at = opened + timedelta(minutes=r.click_after_minutes)
        acts.append(Action(f"{key}:click", at, person, "click", data))
    if r.unsubscribe:
        calls = []
        if d.unsubscribe_url:
            calls.append(
                ("form", {"url": d.unsubscribe_url, "form": {"List-Unsubscribe": "One-Click"}})
            )
        at = opened + timedelta(minutes=1)
        acts.append(Action(f"{key}:unsubscribe", at, person, "unsubscribe",
                           {"_calls": calls, "channel": d.channel}))  # fmt: skip
    return acts


def _insert_actions(con: duckdb.DuckDBPyConnection, acts: list[Action]) -> None:
    if not acts:
        return
    con.execute(
        "INSERT INTO demo_live_actions SELECT * FROM (SELECT unnest(?) AS key, unnest(?) AS due_at, "
        "unnest(?) AS person, unnest(?) AS kind, unnest(?) AS data) n "
        "WHERE n.key NOT IN (SELECT key FROM demo_live_actions)",
        [[a.key for a in acts], [a.at for a in acts], [a.person for a in acts],
         [a.kind for a in acts], [json.dumps(a.data) for a in acts]],
    )  # fmt: skip
