"""Destinations benchmark: webhook deliveries/s and latency, a 1M-message outbox drained with
bounded memory, and what event forwarding costs ingestion.

1. Webhooks: N signed webhook messages are enqueued, then the dispatcher delivers them to a
   local receiver in another process (`touchpath.demo.receivers.HttpReceiver`, which verifies
   every signature with `standardwebhooks`). Deliveries/s from the first claim to the last
   recorded result, and the p50/p99 of each request's latency from the delivery log. The floor
   in the same run: a bare httpx AsyncClient POSTing the same number of signed bodies to the
   same receiver with the same concurrency (no outbox, no policy, no bookkeeping).
2. Drain: 1M messages enqueued (in 50k chunks) and drained by the dispatcher through a
   destination that only counts (no network: the outbox's own cost), with the process's peak
   RSS growth sampled during the drain.
3. Forwarding: events/s of the real server (bench/ingest.py's `run_server`: POST /v1/batch from
   8 clients, about 290k demo messages at the default 5,000 customers, the first four batches a
   warm-up) without a forwarding rule and with one that forwards every event to a webhook on the
   local receiver (batches of 500) while the server's dispatcher delivers them; alternated pairs
   (bench/_alternate.py), the server's CPU per event, and with the rule its CPU until the
   receiver has every event and the receiver's own CPU (another process on the same cores).
4. The forwarding listener alone (`--only listener`): `Store.ingest` in this process without a
   dispatcher, no rule against a rule forwarding every event, the listener's writer time.

    python bench/destinations.py [--webhooks 20000] [--drain 1000000] [--pairs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import stores  # bench/stores.py, beside this file
from _alternate import Sample, alternate, report  # bench/_alternate.py, beside this file
from ingest import QUIET_SERVER, _cpu_seconds, payloads, run_server  # bench/ingest.py

from touchpath import access
from touchpath.clock import SystemClock
from touchpath.destinations import DeliveryResult, OutboxMessage, Outgoing, enqueue
from touchpath.destinations import api as dapi
from touchpath.destinations.dispatcher import Dispatcher
from touchpath.destinations.http import post
from touchpath.destinations.httpclient import HttpClient
from touchpath.destinations.vault import Vault
from touchpath.destinations.webhook import new_secret, sign
from touchpath.events.message import stage_messages
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath

RECEIVER = """
import sys
from touchpath.demo.receivers import HttpReceiver
events = [0]
def count(received):
    if isinstance(received.data, dict):
        events[0] += len(received.data.get("batch", ()))
r = HttpReceiver(secrets=[sys.argv[1]], keep=1000, on_receive=count).start()
print(r.port, flush=True)
for _ in sys.stdin:  # a line asks how many events the forwarded batches held so far
    print(events[0], flush=True)
"""


class Receiver:
    """The receiver in its own process (its own GIL), on 127.0.0.1."""

    def __init__(self, secret: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RECEIVER, secret],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def events(self) -> int:
        """The events the forwarded batches it took held, in all."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def cpu(self) -> float:
        """Its CPU seconds so far (it shares the machine's cores with the server)."""
        return _cpu_seconds(self.proc.pid)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _settings(db: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "destinations_allow_hosts": "127.0.0.1", "outbox_poll_seconds": 0.01,
        "journey_refresh_seconds": 0,
    }  # fmt: skip
    return Settings(db=db, **(base | kw))


def _hooks(n: int, dest: str, tag: str) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            idempotency_key=f"{tag}:{i}",
            destination=dest,
            channel="webhook",
            content={"payload": {"type": "order.completed", "i": i, "revenue": 42.5}},
            render=False,
            purpose="forward",
        )
        for i in range(n)
    ]


def _enqueue(store: Store, msgs: list[OutboxMessage], chunk: int = 50_000) -> None:
    for i in range(0, len(msgs), chunk):
        part = msgs[i : i + chunk]
        store.write_sync(lambda con, part=part: enqueue(con, part))


def _wait_done(store: Store, n: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (done,) = store.query(
            "SELECT count(*) FROM outbox_done WHERE state IN ('delivered', 'sent', 'dead')"
        )[0]
        if done >= n:
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"only {done} of {n} done")


def webhooks(n: int, concurrency: int) -> list[dict[str, Any]]:
    secret = new_secret()
    rx = Receiver(secret)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as d:
            settings = _settings(Path(d) / "w.duckdb")
            with Store(settings.db, settings) as store:
                dapi.put_destination(store, "bench", {
                    "config": {"kind": "webhook", "url": rx.url + "/hooks/bench",
                               "limits": {"concurrency": concurrency}},
                    "secrets": {"signing_secret": secret}})  # fmt: skip
                _enqueue(store, _hooks(n, "bench", "w"))
                d_ = Dispatcher(store, settings, SystemClock(), Vault.open(settings))
                cpu0 = time.process_time()
                t0 = time.monotonic()
                d_.start()
                t1 = _wait_done(store, n, 600)
                cpu = time.process_time() - cpu0
                d_.stop()
                lat = sorted(r[0] for r in store.query("SELECT duration_ms FROM outbox_attempts"))
                states = dict(store.query("SELECT state, count(*) FROM outbox GROUP BY 1"))
            rows.append({
                "what": "dispatcher -> webhook receiver", "messages": n,
                "per s": round(n / (t1 - t0)), "p50 ms": round(lat[len(lat) // 2], 1),
                "p99 ms": round(lat[int(len(lat) * 0.99)], 1),
                "CPU ms/msg": round(cpu / n * 1000, 3),
                "states": json.dumps(states),
            })  # fmt: skip
        rows.append(asyncio.run(_floor(rx.url + "/hooks/bench", secret, n, concurrency)))
    finally:
        rx.close()
    return rows


async def _floor(url: str, secret: str, n: int, concurrency: int) -> dict[str, Any]:
    """The same client bare: the same signed bodies at the same concurrency, nothing else."""
    client = HttpClient()
    lat: list[float] = []
    next_i = iter(range(n))

    async def worker() -> None:
        for i in next_i:
            body = orjson.dumps({"type": "order.completed", "i": i, "revenue": 42.5})
            ts = int(time.time())
            mid = f"msg_{i}"
            headers = {"webhook-id": mid, "webhook-timestamp": str(ts),
                       "webhook-signature": sign(secret, mid, ts, body),
                       "content-type": "application/json"}  # fmt: skip
            t = time.perf_counter()
            r = await post(client, url, allow={"127.0.0.1"}, headers=headers, content=body,
                           timeout=10)  # fmt: skip
            lat.append((time.perf_counter() - t) * 1000)
            assert r.status == 200, r.status

    cpu0 = time.process_time()
    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    dt = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    await client.aclose()
    lat.sort()
    return {"what": "floor: the same HTTP client bare", "messages": n, "per s": round(n / dt),
            "p50 ms": round(lat[len(lat) // 2], 1), "p99 ms": round(lat[int(len(lat) * 0.99)], 1),
            "CPU ms/msg": round(cpu / n * 1000, 3), "states": ""}  # fmt: skip


class Count:
    """A destination that only counts (the outbox's own cost, without a network)."""

    name = "count"

    def __init__(self) -> None:
        self.n = 0

    async def send(self, message: Outgoing) -> DeliveryResult:
        self.n += 1
        return DeliveryResult("delivered", status=200)

    async def aclose(self) -> None:
        pass


class _RssSeries:
    """The process's RSS and the messages finished, every `every` seconds while a block runs."""

    def __init__(self, store: Store, every: float) -> None:
        self.store, self.every = store, every
        self.points: list[tuple[float, float, int]] = []
        self._stop = threading.Event()

    def __enter__(self) -> _RssSeries:
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        proc = psutil.Process()
        while not self._stop.wait(self.every):
            (done,) = self.store.query("SELECT count(*) FROM outbox_done")[0]
            rss = proc.memory_info().rss / 2**20
            self.points.append((time.monotonic() - self._t0, rss, int(done)))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def drain(n: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as d:
        settings = _settings(Path(d) / "d.duckdb", outbox_batch=2000)
        with Store(settings.db, settings) as store:
            t = time.monotonic()
            for i in range(0, n, 50_000):
                _enqueue(store, _hooks(min(50_000, n - i), "count", f"d{i}"))
            enq = time.monotonic() - t
            gc.collect()
            counter = Count()
            d_ = Dispatcher(
                store, settings, SystemClock(), Vault.open(settings), {"count": counter}
            )
            every = max(1.0, n / 100_000)
            with stores.PeakRss() as mem, _RssSeries(store, every) as series:
                t0 = time.monotonic()
                d_.start()
                t1 = _wait_done(store, n, 3600)
                d_.stop()
            size = os.path.getsize(settings.db) / 2**20
    print("\nRSS over the drain (s, MB, messages finished; rate over the last interval)")
    last_t, last_done = 0.0, 0
    for at, rss, done in series.points[:: max(1, len(series.points) // 20)]:
        rate = (done - last_done) / (at - last_t) if at > last_t else 0
        print(f"  {at:7.1f} s  {rss:6.0f} MB  {done:>9,}  {rate:8,.0f}/s")
        last_t, last_done = at, done
    return [{
        "what": "outbox drained (counting destination)", "messages": n,
        "enqueue per s": round(n / enq), "drain per s": round(n / (t1 - t0)),
        "RSS start MB": round(mem.base / 2**20), "peak RSS growth MB": round((mem.peak - mem.base) / 2**20),
        "store MB": round(size), "delivered": counter.n,
    }]  # fmt: skip


def _events(n: int, offset: int) -> list[list[bytes]]:
    batches = []
    for b in range(0, n, 500):
        batches.append([
            orjson.dumps({"type": "track", "event": "Order Completed", "userId": f"u{(offset + i) % 5000}",
                          "messageId": f"m{offset + i}", "properties": {"revenue": i % 100},
                          "context": {"ip": "1.2.3.4", "library": {"name": "bench"}}})
            for i in range(b, min(n, b + 500))
        ])  # fmt: skip
    return batches


def forwarding(customers: int, pairs: int, clients: int) -> None:
    """Ingestion through the real server without a forwarding rule and with one forwarding every
    event to a webhook receiver in another process, alternated (bench/_alternate.py). With the
    rule, each run lasts until the receiver has every event (`settle`), so the server's CPU to
    delivered is forwarding's whole cost: the listener, the outbox, the batches' JSON, signing
    and the POSTs."""
    bodies = payloads(customers, 250)
    messages = sum(len(orjson.loads(b)["batch"]) for b in bodies)
    print(f"{messages:,} demo messages in {len(bodies)} batches of 250, {clients} clients")
    os.environ["TOUCHPATH_DESTINATIONS_ALLOW_HOSTS"] = "127.0.0.1"  # the server inherits it
    secret = new_secret()
    rx = Receiver(secret)
    at: dict[str, Any] = {}

    def prepare(store: Store) -> None:
        dapi.put_destination(store, "fwd", {
            "config": {"kind": "webhook", "url": rx.url + "/hooks/fwd"},
            "secrets": {"signing_secret": secret}})  # fmt: skip
        dapi.put_forwarding(store, "all", {"destination": "fwd"})
        at["token"] = access.create_token(store, "owner", "bench")[1]
        at["events"], at["cpu"] = rx.events(), rx.cpu()

    def settle(base: str) -> None:
        auth = {"Authorization": f"Bearer {at['token']}"}
        stored = httpx.get(f"{base}/api/stats", headers=auth, timeout=60).json()["events"]
        deadline = time.monotonic() + 600
        while rx.events() - at["events"] < stored:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{rx.events() - at['events']} of {stored} events forwarded")
            time.sleep(0.05)

    def run(on: bool) -> Sample:
        r = run_server("forwarding" if on else "no rule", bodies, messages, clients, 20_000,
                       prepare=prepare if on else None, settle=settle if on else None,
                       env=QUIET_SERVER)  # fmt: skip
        assert r.db is not None
        shutil.rmtree(r.db.parent, ignore_errors=True)
        # Messages a commit: whether the dispatcher's writes (claims, results) split the
        # ingest's group commits (they did not: 1.7-1.9k in both arms, 2026-12-07).
        extra = {"events/commit": r.commits["messages"] / max(1, r.commits["commits"])}
        if r.settled is not None:
            wall, cpu = r.settled
            extra |= {
                "CPU us/event to delivered": cpu / r.messages * 1e6,
                "delivered s after the last 200": wall - r.seconds,
                "receiver CPU-s": rx.cpu() - at["cpu"],
            }
        return Sample(r.messages, r.seconds, r.cpu_seconds, extra=extra)

    try:
        got = alternate("no rule", lambda: run(False), {"forwarding": lambda: run(True)}, pairs)
    finally:
        rx.close()
    report(got, "no rule", budget=0.10)


def _ingest(tp: Touchpath, batches: list[list[bytes]]) -> float:
    """Seconds to ingest `batches` through `Store.ingest` (40 requests waiting, as clients would)
    until the writer and its listeners are idle."""
    t0 = time.monotonic()
    futs: list[Any] = []
    for b in batches:
        if len(futs) >= 40:
            futs.pop(0).result()
        futs.append(tp.store.ingest(stage_messages(b, source="bench", received_at=stores_now())))
    for f in futs:
        f.result()
    tp.store.wait_idle(120)
    return time.monotonic() - t0


def listener(n: int, rounds: int, profile: bool) -> list[dict[str, Any]]:
    """The forwarding listener alone: no dispatcher in this process (it would run in the server's
    own process or nowhere: here, nowhere), so the cost is what the commit listener adds to the
    writer. Interleaved: no rule, a rule forwarding every event."""
    import cProfile
    import pstats

    from touchpath.destinations import forwarding as fwd

    spent = {"s": 0.0, "calls": 0}
    prof = cProfile.Profile() if profile else None
    real = fwd.forward

    def timed(*a: Any, **kw: Any) -> int:
        t = time.perf_counter()
        if prof is not None:
            prof.enable()
        try:
            return real(*a, **kw)
        finally:
            if prof is not None:
                prof.disable()
            spent["s"] += time.perf_counter() - t
            spent["calls"] += 1

    fwd.forward = timed  # type: ignore[assignment]
    results: dict[str, list[float]] = {"off": [], "on": []}
    listener_s: list[float] = []
    try:
        for r in range(rounds):
            for mode in ("off", "on"):
                with tempfile.TemporaryDirectory() as d:
                    settings = _settings(Path(d) / "l.duckdb")
                    with Touchpath.open(settings) as tp:  # no background workers, no dispatcher
                        if mode == "on":
                            dapi.put_destination(tp.store, "fwd", {
                                "config": {"kind": "webhook", "url": "http://127.0.0.1:9/x"},
                                "secrets": {"signing_secret": new_secret()}})  # fmt: skip
                            dapi.put_forwarding(tp.store, "all", {"destination": "fwd"})
                        batches = _events(n, r * n)
                        spent["s"], spent["calls"] = 0.0, 0
                        dt = _ingest(tp, batches)
                        results[mode].append(n / dt)
                        if mode == "on":
                            listener_s.append(spent["s"])
                            (queued,) = tp.store.query("SELECT count(*) FROM outbox_queue")[0]
    finally:
        fwd.forward = real  # type: ignore[assignment]
    if prof is not None:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(18)
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    return [
        {"what": "ingest, no forwarding rule", "events": n, "events/s (median)": round(off),
         "runs": ", ".join(str(round(x)) for x in results["off"]), "cost": "",
         "listener s": ""},
        {"what": "ingest, every event forwarded (listener only)", "events": n,
         "events/s (median)": round(on), "runs": ", ".join(str(round(x)) for x in results["on"]),
         "cost": f"{(1 - on / off) * 100:.1f}%",
         "listener s": ", ".join(f"{x:.2f}" for x in listener_s) + f" ({queued} batches queued)"},
    ]  # fmt: skip


def stores_now() -> Any:
    from touchpath.clock import utcnow

    return utcnow()


def _print(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n{title}")
    if not rows:
        return
    cols = list(rows[0])
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print(" | ".join(c.ljust(width[c]) for c in cols))
    print("-|-".join("-" * width[c] for c in cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "")).ljust(width[c]) for c in cols))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--webhooks", type=int, default=20_000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--drain", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--rounds", type=int, default=2, help="listener: runs of each mode")
    p.add_argument("--customers", type=int, default=5000, help="forwarding: demo customers")
    p.add_argument("--pairs", type=int, default=3, help="forwarding: alternated pairs")
    p.add_argument("--clients", type=int, default=8, help="forwarding: HTTP clients")
    p.add_argument("--only", choices=["webhooks", "drain", "forwarding", "listener"], default=None)
    p.add_argument("--profile", action="store_true", help="cProfile the forwarding listener")
    a = p.parse_args(argv)
    print(f"load average before: {os.getloadavg()}")
    if a.only in (None, "webhooks"):
        _print(webhooks(a.webhooks, a.concurrency), "Webhook deliveries")
    if a.only in (None, "drain"):
        _print(drain(a.drain), "Outbox drain")
    if a.only in (None, "listener"):
        _print(
            listener(a.events, a.rounds, a.profile), "The forwarding listener alone (interleaved)"
        )
    if a.only in (None, "forwarding"):
        print("\nForwarding's cost to ingestion (alternated)")
        forwarding(a.customers, a.pairs, a.clients)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
