"""Personalisation benchmark: POST /v1/decide on the 1M-event demo while ingest runs.

The store is the 1M demo (bench/stores.py) with identity resolved and the demo's personalised
home page set up (`touchpath.demo.personalize`: `home-hero` and `support-banner`), built once as
bench/out/personalize_1M.duckdb. Three processes, so the load does not share the server's GIL:

- the server: `touchpath serve` on a copy of that store (uvicorn, one process, the read model
  built at start);
- ingest: new demo customers' messages through POST /v1/batch at `--ingest-rate` events/s
  (the demo's usual rate unless told), in batches of 100;
- the decision load: raw HTTP/1.1 keep-alive connections asking both decisions for demo
  customers and anonymous visitors, open-loop at `--rate` requests/s (latency counted from each
  request's scheduled time, so a stall is not hidden), then closed-loop as fast as it goes.

Beside it, in the same run: the same server's HTTP floor (a `/v1` path that matches no route:
the middleware, routing and a JSON error, no decision), and in this process the decision
itself (`Personalizer.decide` on the read model) against reading the person from the tables per
request (`preview_for` without the read model: what a request would cost without it). Also
measured while ingest runs: seconds from an identify's commit to the changed answer.
Reported with the server's peak RSS and CPU seconds and the load average (the machine is shared).

    python bench/personalize.py [--rate 2000] [--seconds 20] [--ingest-rate 1000]

`--quick` runs only closed loops of decisions on the settled server: `--rounds` without ingest
(the first round writes each person's exposure of the day, later ones none), then as many with
ingest beside it, each with the server's raw CPU per decision (nothing taken off); `--profile
FILE` records the server with py-spy in every round (FILE-<tree>-alone-<round>.json,
FILE-<tree>-ingest-<round>.json: speedscope).
`--ab N` runs N pairs of servers, `--server-src` (old) then `--new-src` (new), alternately.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import stores  # bench/stores.py, beside this file

OUT = stores.OUT
STORE = OUT / "personalize_1M.duckdb"
CUSTOMERS = stores.SIZES["1M"]

SERVER = """
import sys
if sys.argv[3] == "h11":  # uvicorn's `auto` without httptools and uvloop: h11 and asyncio
    sys.modules["httptools"] = sys.modules["uvloop"] = None
from touchpath.settings import Settings
from touchpath.web.server import serve
serve(Settings(db=sys.argv[1], port=int(sys.argv[2])))
"""


def prepare() -> Path:
    """The 1M demo with identity resolved and the personalised home page, built once."""
    if STORE.exists():
        return STORE
    from touchpath.demo import personalize
    from touchpath.system import Touchpath

    tmp = STORE.with_suffix(".building")
    shutil.copyfile(stores.demo_store("1M"), tmp)
    t0 = time.perf_counter()
    with Touchpath.open(db=tmp) as tp:  # identity and profiles catch up with the log
        tp.store.wait_idle(3600)
        personalize.setup(tp.store, "demo")
        tp.store.wait_idle(600)
        n = tp.store.query("SELECT count(*) FROM profiles")[0][0]
    tmp.rename(STORE)
    print(f"built {STORE.name}: {n:,} profiles in {time.perf_counter() - t0:.0f} s", flush=True)
    return STORE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`touchpath serve` on its own copy of the store, in a subprocess."""

    def __init__(self, store: Path, http: str = "auto", src: str | None = None) -> None:
        self.db = OUT / "personalize_run.duckdb"
        shutil.copyfile(store, self.db)
        Path(str(self.db) + ".wal").unlink(missing_ok=True)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.db), str(self.port), http],
            env={**os.environ, "PYTHONUNBUFFERED": "1", **({"PYTHONPATH": src} if src else {})},
        )
        self.ps = psutil.Process(self.proc.pid)
        self.peak_rss = 0

    def sample(self) -> None:
        self.peak_rss = max(self.peak_rss, self.ps.memory_info().rss)

    def cpu(self) -> float:
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def settle(self, below: float = 0.1, window: float = 3.0, limit: float = 900.0) -> float:
        """Wait until the server's own work after start (the map cache, the analysis kernels'
        compilation, the listeners catching up) is done: under `below` CPU-s a second over
        `window` seconds. Timing before that measured the warm-up, not the requests."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < limit:
            c = self.cpu()
            time.sleep(window)
            if (self.cpu() - c) / window < below:
                break
        return time.perf_counter() - t0

    def rate(self, seconds: float = 5.0) -> float:
        """The server's CPU seconds a second over `seconds` (the background: ingest)."""
        c = self.cpu()
        time.sleep(seconds)
        return (self.cpu() - c) / seconds

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _write_key(db: Path) -> str:
    """A new write key of the demo source (keys are kept hashed: a rotation shows one)."""
    from datetime import timedelta

    from touchpath.store import Store

    with Store(db) as store:
        key = store.rotate_source_key("demo", timedelta(days=1)).write_key
    assert key is not None
    return key


def _wait_ready(url: str, key: str, timeout: float = 900) -> float:
    t0 = time.perf_counter()
    auth = (key, "")
    while time.perf_counter() - t0 < timeout:
        try:
            r = httpx.post(f"{url}/v1/decide", json={"userId": "u_000001"}, auth=auth, timeout=30)
            if r.status_code == 200:
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not answer /v1/decide in time")


def _http_impl() -> str:
    """What uvicorn's `auto` picks in this environment (the server runs the same Python)."""
    import importlib.util

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"{http}, {loop}"


# ----------------------------------------------------------------------------- load generators
INGEST = """
import itertools, signal, sys, threading, time, orjson, httpx
from touchpath.demo import DemoBusiness, DemoConfig
url, key, rate, inflight = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
msgs = (m for b in DemoBusiness(DemoConfig(customers=4000, days=30, seed=99)).batches(100) for m in b)
take = threading.Lock()
slots = itertools.count()
counts = {"sent": 0, "refused": 0}
t0 = time.perf_counter()

def work():
    # Batch i is due at t0 + 100 i / rate; up to `inflight` batches wait for their commit at once
    # (SDKs and servers send concurrently), so a slow answer does not lower the rate asked.
    with httpx.Client(base_url=url, auth=(key, ""), timeout=60) as c:
        while True:
            with take:
                i = next(slots)
                batch = [next(msgs) for _ in range(100)]
            time.sleep(max(0.0, t0 + 100 * i / rate - time.perf_counter()))
            r = c.post("/v1/batch", content=orjson.dumps({"batch": batch}),
                       headers={"Content-Type": "application/json"})
            with take:
                counts["sent" if r.status_code == 200 else "refused"] += 100

for _ in range(inflight):
    threading.Thread(target=work, daemon=True).start()
try:
    while True:
        time.sleep(1)
finally:
    print(counts["sent"] / (time.perf_counter() - t0), counts["refused"], flush=True)
"""


def _start_ingest(server: Server, key: str, args: argparse.Namespace) -> subprocess.Popen[str]:
    """The ingest load (`INGEST`) against `server`, in its own process."""
    cmd = [sys.executable, "-c", INGEST, server.url, key, str(args.ingest_rate)]
    return subprocess.Popen([*cmd, str(args.ingest_inflight)], stdout=subprocess.PIPE, text=True)


def _request(path: str, body: bytes, key: str) -> bytes:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def _load(
    port: int, requests: list[bytes], rate: float | None, seconds: float, conns: int
) -> dict[str, Any]:
    """Open-loop at `rate` (None: closed-loop) over `conns` keep-alive connections."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(conns):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    lat: list[float] = []
    errors: dict[int, int] = {}
    t0 = time.perf_counter()
    end = t0 + seconds

    async def one(req: bytes, scheduled: float) -> None:
        reader, writer = await pool.get()
        try:
            writer.write(req)
            status = await _read_response(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closed the connection (its keep-alive timeout, at load 35 a connection
            # can wait longer than that for its turn): an error, and a new connection.
            status = 0
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            pool.put_nowait((reader, writer))
        done = time.perf_counter()
        if done <= end + 1:
            lat.append(done - scheduled)
            if status != 200:
                errors[status] = errors.get(status, 0) + 1

    tasks: list[asyncio.Task[None]] = []
    i = 0
    if rate is not None:
        while (now := time.perf_counter()) < end:
            due = t0 + i / rate
            if due > now:
                await asyncio.sleep(due - now)
            tasks.append(asyncio.create_task(one(requests[i % len(requests)], due)))
            i += 1
            if len(tasks) > 5000:
                tasks = [t for t in tasks if not t.done()]
    else:

        async def worker() -> None:
            nonlocal i
            while time.perf_counter() < end:
                i += 1
                await one(requests[i % len(requests)], time.perf_counter())

        tasks = [asyncio.create_task(worker()) for _ in range(conns)]
    await asyncio.gather(*tasks)
    took = time.perf_counter() - t0
    while not pool.empty():
        _, w = pool.get_nowait()
        w.close()
    lat.sort()
    n = len(lat)
    return {
        "requests": n,
        "per_s": n / took,
        "p50_ms": 1000 * lat[n // 2] if n else None,
        "p99_ms": 1000 * lat[int(n * 0.99)] if n else None,
        "max_ms": 1000 * lat[-1] if n else None,
        "errors": errors,
    }


LOAD = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import personalize as bench
args = json.loads(sys.stdin.read())
reqs = [r.encode("latin-1") for r in args["requests"]]
print(json.dumps(asyncio.run(bench._load(args["port"], reqs, args["rate"], args["seconds"],
                                         args["conns"]))))
"""


def run_load(
    port: int, requests: list[bytes], rate: float | None, seconds: float, conns: int
) -> dict[str, Any]:
    """`_load` in a second process (its own GIL and core share)."""
    args = {"port": port, "requests": [r.decode("latin-1") for r in requests], "rate": rate,
            "seconds": seconds, "conns": conns}  # fmt: skip
    out = subprocess.run(  # the requests on stdin: 4,000 of them overflow an argument list
        [sys.executable, "-c", LOAD, str(Path(__file__).parent)],
        input=json.dumps(args),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"the load generator failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def decide_requests(key: str, n: int = 4000) -> list[bytes]:
    """Both decisions for known customers (by user id) and visitors never seen (anonymous)."""
    rng = random.Random(7)
    out = []
    for i in range(n):
        if i % 5 == 4:
            who: dict[str, Any] = {"anonymousId": f"bench-visitor-{i}"}
        else:
            who = {"userId": f"u_{rng.randint(1, CUSTOMERS):06d}"}
        body = orjson.dumps({**who, "context": {"page": {"path": "/"}}})
        out.append(_request("/v1/decide", body, key))
    return out


def floor_requests(key: str) -> list[bytes]:
    """The same HTTP path, no decision: a /v1 path that matches no route (404, JSON error)."""
    return [_request("/v1/nothing", b'{"userId": "u_000001"}', key)]


# ----------------------------------------------------------------------------- in-process rows
def in_process(store_path: Path, seconds: float = 3.0) -> list[dict[str, Any]]:
    """The decision alone: from the read model, and from the tables per request."""
    from touchpath.personalize import Personalizer, preview_for
    from touchpath.store import Store

    rows = []
    copy = OUT / "personalize_inproc.duckdb"
    shutil.copyfile(store_path, copy)
    with Store(copy) as store:
        p = Personalizer(store)
        t0 = time.perf_counter()
        p.start(warm=True)
        p.ensure_ready()
        build = time.perf_counter() - t0
        rss = psutil.Process().memory_info().rss
        src = store.source("demo").id
        rng = random.Random(3)
        users = [f"u_{rng.randint(1, CUSTOMERS):06d}" for _ in range(2000)]
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            p.decide(src, None, user_id=users[n % 2000], anonymous_id=None, record=False)
            n += 1
        took = time.perf_counter() - t0
        rows.append({"what": "decide() on the read model", "per_s": n / took,
                     "mean_ms": 1000 * took / n})  # fmt: skip
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            preview_for(store, "home-hero", f"user_id:{users[n % 2000]}")
            n += 1
        took = time.perf_counter() - t0
        rows.append({"what": "the same read from the tables per request", "per_s": n / took,
                     "mean_ms": 1000 * took / n})  # fmt: skip
        stats = p.model.stats()
        p.stop()
    copy.unlink(missing_ok=True)
    rows.append({"what": f"read model build ({stats['profiles']:,} profiles, "
                 f"{stats['identifiers']:,} identifiers)", "seconds": build,
                 "rss_mb": rss / 2**20})  # fmt: skip
    return rows


def _fresh_users(samples: int) -> list[str]:
    """New people outside `home-hero`'s 10% holdout: a person in it keeps the default answer
    whatever they do (the probe once waited 30 s on `bench-fresh-0`, who is)."""
    from touchpath.demo.personalize import DECISIONS
    from touchpath.identity.extract import profile_id_for
    from touchpath.personalize.evaluate import bucket
    from touchpath.personalize.spec import HOLDOUT

    hero = next(d for d in DECISIONS if d["name"] == "home-hero")
    users, i = [], 0
    while len(users) < samples:
        user, i = f"bench-fresh-{i}", i + 1
        if bucket("home-hero", HOLDOUT, profile_id_for("user_id", user)) >= hero["holdout"]:
            users.append(user)
    return users


def freshness(url: str, key: str, samples: int = 5) -> list[float]:
    """Seconds from an identify's commit (its 200) to the answer that reflects it."""
    lags = []
    with httpx.Client(base_url=url, auth=(key, ""), timeout=30) as c:
        for user in _fresh_users(samples):
            c.post("/v1/identify", json={"userId": user})
            c.post("/v1/track", json={"userId": user, "event": "Product Viewed",
                                      "properties": {"category": "Tents"}})  # fmt: skip
            t0 = time.perf_counter()
            while True:
                r = c.post("/v1/decide", json={"userId": user, "decisions": ["home-hero"]})
                variant = r.json()["decisions"]["home-hero"]["variant"]
                if variant == "last-category" or time.perf_counter() - t0 > 30:
                    break
                time.sleep(0.005)
            lags.append(time.perf_counter() - t0)
    return lags


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=2000.0, help="open-loop requests/s")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--ingest-rate", type=float, default=1000.0, help="events/s")
    parser.add_argument(
        "--ingest-inflight", type=int, default=1,
        help="batches ingest keeps in flight at once (1: one connection, waiting for each "
        "commit, as before; more holds --ingest-rate when a commit takes longer)",
    )  # fmt: skip
    parser.add_argument("--conns", type=int, default=32)
    parser.add_argument(
        "--http", choices=["auto", "h11"], default="auto",
        help="h11: the server without httptools and uvloop (uvicorn's pure-Python fallback)",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="closed loops only (see above)")
    parser.add_argument("--rounds", type=int, default=2, help="--quick: rounds each way")
    parser.add_argument("--profile", default=None, help="--quick: py-spy output file")
    parser.add_argument(
        "--ab", type=int, default=0,
        help="--quick: N pairs of servers, --server-src (old) then --new-src (new)",
    )  # fmt: skip
    parser.add_argument("--new-src", default=None, help="--ab: the new server's source tree "
                        "(default: the installed package)")  # fmt: skip
    parser.add_argument(
        "--server-src", default=None,
        help="run the server from this source tree (e.g. main's src, exported with git archive) "
        "instead of the installed package: old and new code on the same machine minutes",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    store = prepare()
    key = _write_key(store)
    if args.quick:
        quick_main(args, store, key)
        return
    print(f"load average before: {os.getloadavg()}", flush=True)
    server = Server(store, args.http, args.server_src)
    try:
        ready = _wait_ready(server.url, key)
        print(f"server ready (read model built) in {ready:.1f} s", flush=True)
        settled = server.settle()
        print(f"server settled (warm-up done) {settled:.1f} s later", flush=True)
        server.sample()
        decide = decide_requests(key)
        floor = floor_requests(key)
        rows: list[tuple[str, dict[str, Any]]] = []
        cpu0 = server.cpu()
        ingest = _start_ingest(server, key, args)
        time.sleep(3)
        background = server.rate()  # ingest alone: taken off each phase's server CPU
        load_before = os.getloadavg()
        for label, reqs, rate in [
            (f"decide, open loop at {args.rate:.0f}/s", decide, args.rate),
            (f"HTTP floor (/v1 404), open loop at {args.rate:.0f}/s", floor, args.rate),
            ("decide, closed loop", decide, None),
            ("HTTP floor (/v1 404), closed loop", floor, None),
        ]:
            c, t = server.cpu(), time.perf_counter()
            r = run_load(server.port, reqs, rate, args.seconds, args.conns)
            phase = server.cpu() - c - background * (time.perf_counter() - t)
            r["cpu_ms"] = 1000 * phase / r["requests"] if r["requests"] else None
            server.sample()
            rows.append((label, r))
            print(f"  {label}: {r}", flush=True)
        lags = freshness(server.url, key)
        server.sample()
        ingest.send_signal(signal.SIGTERM)
        out, _ = ingest.communicate(timeout=30)
        ingested, refused = out.split()
        load_after = os.getloadavg()
        cpu = server.cpu() - cpu0
    finally:
        server.stop()
    local = in_process(store)

    print(f"\n## POST /v1/decide on the 1M demo, ingest at {float(ingested):,.0f} events/s "
          f"(asked {args.ingest_rate:.0f}; {refused} refused)")  # fmt: skip
    print("| load | requests/s | p50 ms | p99 ms | max ms | server CPU-ms a request | errors |")
    print("|---|---|---|---|---|---|---|")
    for label, r in rows:
        p50, p99, top, cms = (f"{r[k]:.{2 if k == 'cpu_ms' else 1}f}" if r[k] is not None
                              else "–" for k in ("p50_ms", "p99_ms", "max_ms", "cpu_ms"))  # fmt: skip
        print(f"| {label} | {r['per_s']:,.0f} | {p50} | {p99} | {top} | {cms} "
              f"| {r['errors'] or 0} |")  # fmt: skip
    print(f"\nserver peak RSS {server.peak_rss / 2**20:,.0f} MB, server CPU {cpu:.1f} s over the "
          f"run ({background:.2f} CPU-s a second with ingest alone, taken off each row's CPU per "
          f"request); load average {load_before[0]:.1f} -> {load_after[0]:.1f} (shared "
          f"machine, 2 cores); HTTP: {'h11, asyncio' if args.http == 'h11' else _http_impl()}; "
          f"server code: {args.server_src or 'installed package'}")  # fmt: skip
    print(f"commit to changed answer under ingest: median {statistics.median(lags):.2f} s, "
          f"max {max(lags):.2f} s ({len(lags)} samples)")  # fmt: skip
    print("\n| in process | rate | mean ms | other |")
    print("|---|---|---|---|")
    for row in local:
        if "per_s" in row:
            print(f"| {row['what']} | {row['per_s']:,.0f}/s | {row['mean_ms']:.3f} | |")
        else:
            print(f"| {row['what']} | | | {row['seconds']:.1f} s, process RSS "
                  f"{row['rss_mb']:,.0f} MB |")  # fmt: skip


# ----------------------------------------------------------------------------- --quick
def _closed_round(server: Server, reqs: list[bytes], args: argparse.Namespace) -> dict[str, Any]:
    c = server.cpu()
    r = run_load(server.port, reqs, None, args.seconds, args.conns)
    r["cpu_ms"] = 1000 * (server.cpu() - c) / r["requests"] if r["requests"] else None
    r["load"] = os.getloadavg()[0]
    server.sample()
    return r


def _profiled(server: Server, out: str | None, seconds: float) -> subprocess.Popen[bytes] | None:
    if out is None:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [str(spy), "record", "--pid", str(server.proc.pid), "--threads", "--rate", "50",
         "--nonblocking", "--format", "speedscope", "--output", out,
         "--duration", str(int(seconds))],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def quick_run(args: argparse.Namespace, store: Path, key: str, src: str | None) -> list[str]:
    """One server: settle, `--rounds` closed loops without ingest, then with it."""
    server = Server(store, args.http, src)
    name = src or "installed package"
    rows: list[str] = []
    try:
        ready = _wait_ready(server.url, key)
        settled = server.settle()
        print(f"[{name}] ready in {ready:.1f} s, settled {settled:.1f} s later", flush=True)
        reqs = decide_requests(key)
        for ingesting in (False, True):
            ingest = None
            if ingesting:
                ingest = _start_ingest(server, key, args)
                time.sleep(3)
            for i in range(args.rounds):
                out = None
                if args.profile:
                    tag = Path(src).parent.name if src else "installed"
                    out = f"{args.profile}-{tag}-{'ingest' if ingesting else 'alone'}-{i + 1}.json"
                spy = _profiled(server, out, args.seconds)
                r = _closed_round(server, reqs, args)
                if spy is not None:
                    spy.wait(60)
                row = (f"| {name} | {'with' if ingesting else 'without'} ingest, round {i + 1} "
                       f"| {r['load']:.1f} | {r['per_s']:,.0f} | {r['p50_ms']:.1f} "
                       f"| {r['p99_ms']:.1f} | {r['cpu_ms']:.2f} | {r['errors'] or 0} |")  # fmt: skip
                print(row, flush=True)
                rows.append(row)
            if ingest is not None:
                ingest.send_signal(signal.SIGTERM)
                out, _ = ingest.communicate(timeout=30)
                rows[-1] += f" ingest {float(out.split()[0]):,.0f} events/s"
        rows[-1] += f" peak RSS {server.peak_rss / 2**20:,.0f} MB"
    finally:
        server.stop()
    return rows


def quick_main(args: argparse.Namespace, store: Path, key: str) -> None:
    print(f"load average before: {os.getloadavg()}", flush=True)
    rows: list[str] = []
    pairs = [(args.server_src, args.new_src)] * args.ab if args.ab else [(args.server_src,)]
    for pair in pairs:
        for src in pair:
            rows += quick_run(args, store, key, src)
    print(f"\n## closed loops, {args.conns} connections, {args.seconds:.0f} s each; "
          f"load average after {os.getloadavg()}")  # fmt: skip
    print("| server | round | load | decisions/s | p50 ms | p99 ms | server CPU-ms a decision "
          "| errors |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
