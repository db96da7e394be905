"""Ingest benchmark: events/s through POST /v1/batch with concurrent clients.

The server runs as a subprocess (`touchpath.web.server.serve` on a fresh DuckDB file); clients
send pre-built batches of realistic Segment messages (the demo business) from an asyncio loop.
Next to it, in the same run: the rate at which the same payloads are merely parsed by orjson
(the peer: the ceiling of any Python collector), the same server with the commit listeners
(identity resolution, sentiment) left out, with group commit off (`writer_max_batch=1`: one
transaction per request), with four times the clients (larger group commits), and the HTTP layer
alone (every request answered without the store: the framework's ceiling). Two rows bound the
store's share from below, in commits of the size the group-commit run made: "writer alone" hands
the same messages straight to `Store.ingest` (staging, normalising, dedupe and the write; no
HTTP, no listeners), and "event-log write alone" only INSERTs the rows that run stored, already
normalised, and COMMITs (no parsing or checks at all). "server CPU" is the
server process's user+system seconds over the run (DuckDB's threads included); "per CPU-s"
divides the messages by it, a figure less swayed by other load on shared cores than the
wall-clock rate.

    python bench/ingest.py [--customers 3000] [--batch 250] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import stores  # bench/stores.py, beside this file

from touchpath.store import Store

# The server: the real app under uvicorn; on SIGINT it prints the writer's commit counters.
SERVER = """
import json, sys
if sys.argv[4] == "off":  # leave out the components the app starts (bench only)
    import touchpath.system
    touchpath.system.components = lambda background: []
from concurrent.futures import Future
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.store.store import IngestResult
from touchpath.web.server import serve
settings = Settings(db=sys.argv[1], port=int(sys.argv[2]), writer_max_batch=int(sys.argv[3]))
store = Store(settings.db, settings)
if sys.argv[4] == "http":  # the HTTP layer alone: every request answered without the store
    def answer(staged):
        done = Future()
        done.set_result(IngestResult(accepted=len(staged), rejected=0, duplicates=0))
        return done
    store.ingest = answer
try:
    serve(settings, store)
finally:
    store.close()
    print(json.dumps({"commits": store.ingest_commits, "requests": store.ingest_requests,
                      "messages": store.ingest_messages}), flush=True)
"""


QUIET_SERVER = {
    "TOUCHPATH_ANALYTICS_KERNELS_WARMUP": "false",
    "TOUCHPATH_JOURNEY_REFRESH_SECONDS": "0",
}
"""`run_server(env=...)` for a cost A/B: the server's background work that ingestion does not
need, left out of both arms (the compiled kernels' load as the server starts, the journey copy's
rebuilds when ingest pauses or lags), so neither arm catches one at random."""


def payloads(customers: int, batch: int) -> list[bytes]:
    """Request bodies of `batch` demo messages each, with a batch-level sentAt."""
    try:
        from touchpath.demo import DemoBusiness, DemoConfig
    except ImportError:  # pragma: no cover - the demo is part of the package
        sys.exit("touchpath.demo is missing")
    business = DemoBusiness(DemoConfig(customers=customers, seed=7))
    messages = [m for b in business.batches(batch) for m in b]
    sent_at = "2026-11-23T12:00:00.000Z"
    return [
        orjson.dumps({"batch": messages[i : i + batch], "sentAt": sent_at})
        for i in range(0, len(messages), batch)
    ]


def parse_rate(bodies: list[bytes], messages: int) -> float:
    """Messages/s orjson parses (best of 3): the peer every Python collector pays at least."""
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for body in bodies:
            orjson.loads(body)
        best = max(best, messages / (time.perf_counter() - t))
    return best


@dataclass
class Run:
    label: str
    messages: int
    seconds: float
    latencies: list[float]
    peak_rss_mb: float
    commits: dict[str, int]
    cpu_seconds: float
    db: Path | None = None
    settled: tuple[float, float] | None = None
    """(wall s, server CPU-s) from the first measured request until `settle` returned."""

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _send(url: str, key: str, bodies: list[bytes], clients: int) -> list[float]:
    """Send `bodies` from `clients` keep-alive HTTP/1.1 connections; the latency of each request.

    A lean client (pre-built requests over asyncio streams): httpx spent ~7 us of CPU per
    message at 250-message batches, more than the server's HTTP layer itself, on the same cores.
    """
    parts = urlsplit(url)
    auth = base64.b64encode(f"{key}:".encode()).decode()
    queue = list(reversed(bodies))
    latencies: list[float] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while queue:
                body = queue.pop()
                head = (
                    f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                    f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                while True:
                    t = time.perf_counter()
                    writer.write(head + body)
                    status_head = await reader.readuntil(b"\r\n\r\n")
                    status = int(status_head[9:12])
                    length = 0
                    for line in status_head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    answer = await reader.readexactly(length)
                    if status == 429:
                        await asyncio.sleep(0.05)
                        continue
                    if status != 200:
                        raise SystemExit(f"{status}: {answer.decode()}")
                    latencies.append(time.perf_counter() - t)
                    break
        finally:
            writer.close()

    await asyncio.gather(*[worker() for _ in range(clients)])
    return latencies


def run_server(
    label: str,
    bodies: list[bytes],
    messages: int,
    clients: int,
    max_batch: int,
    listeners: bool = True,
    mode: str | None = None,
    src: Path | None = None,
    prepare: Callable[[Store], None] | None = None,
    settle: Callable[[str], None] | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    """One server on a fresh store: `prepare` it before the server starts (e.g. assign a
    tracking plan, bench/plans.py), send `bodies` (the first four as a warm-up, not measured),
    then wait for `settle(base_url)` (e.g. until forwarded events are delivered,
    bench/destinations.py) before the server is stopped."""
    tmp = Path(tempfile.mkdtemp(prefix="touchpath-bench-"))
    db = tmp / "bench.duckdb"
    with Store(db) as store:
        key = store.create_source("bench").write_key
        if prepare is not None:  # e.g. assign a tracking plan (bench/plans.py)
            prepare(store)
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER,
            str(db),
            str(port),
            str(max_batch),
            mode or ("on" if listeners else "off"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {}), **({"PYTHONPATH": str(src)} if src else {})},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"server did not start: {proc.communicate()[1].decode()}")
    # Warm up (imports, JIT of DuckDB's plans), then measure on a fresh rate.
    asyncio.run(_send(f"{base}/v1/batch", key, bodies[:4], 2))
    cpu = cpu0 = _cpu_seconds(proc.pid)
    t = time.perf_counter()
    latencies = asyncio.run(_send(f"{base}/v1/batch", key, bodies[4:], clients))
    seconds = time.perf_counter() - t
    cpu = _cpu_seconds(proc.pid) - cpu
    settled = None
    if settle is not None:
        settle(base)
        settled = (time.perf_counter() - t, _cpu_seconds(proc.pid) - cpu0)
    rss = _peak_rss_mb(proc.pid)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    commits = json.loads(out.decode().strip().splitlines()[-1])
    sent = messages - sum(len(orjson.loads(b)["batch"]) for b in bodies[:4])
    with Store(db) as store:
        (stored,) = store.query(
            "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM rejected)"
        )[0]
    if stored != messages and mode != "http":
        sys.exit(f"{label}: {stored} events stored or rejected, {messages} sent")
    return Run(label, sent, seconds, latencies, rss, commits, cpu, db, settled)


def writer_alone(bodies: list[bytes], per_commit: int) -> Run:
    """The messages handed to `Store.ingest` in groups of `per_commit`, one at a time (no HTTP,
    no commit listeners): what the writer costs without the server around it."""
    from touchpath.events.message import stage_messages
    from touchpath.store.store import utcnow

    raws = [orjson.dumps(m) for b in bodies for m in orjson.loads(b)["batch"]]
    groups = [raws[i : i + per_commit] for i in range(0, len(raws), per_commit)]
    db = Path(tempfile.mkdtemp(prefix="touchpath-bench-")) / "writer.duckdb"
    with Store(db) as store:
        store.create_source("bench")
        now = utcnow()
        store.ingest(stage_messages(groups[0], source="bench", received_at=now)).result()
        cpu, t = time.process_time(), time.perf_counter()  # after the warm-up group
        for group in groups[1:]:
            store.ingest(stage_messages(group, source="bench", received_at=utcnow())).result()
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    n = len(raws) - len(groups[0])
    commits = {"commits": len(groups) - 1, "requests": len(groups) - 1, "messages": n}
    label = f"writer alone, {per_commit:,} per commit"
    return Run(label, n, seconds, [], float("nan"), commits, cpu)


def write_alone(stored: Path, per_commit: int) -> Run:
    """The event-log write alone (`stores.write_alone`) of the rows a run stored, in commits of
    `per_commit` rows: the floor under any collector that answers 200 only after the COMMIT."""
    db = Path(tempfile.mkdtemp(prefix="touchpath-bench-")) / "write.duckdb"
    n, seconds, cpu = stores.write_alone(stored, db, per_commit)
    k = -(-n // per_commit)
    commits = {"commits": k, "requests": k, "messages": n}
    label = f"event-log write alone, {per_commit:,} per commit"
    return Run(label, n, seconds, [], float("nan"), commits, cpu)


def compare(args: argparse.Namespace) -> None:
    """This tree against another checkout, interleaved (A B A B ...) in one run."""
    bodies = payloads(args.customers, args.batch)
    messages = sum(len(orjson.loads(b)["batch"]) for b in bodies)
    here = Path(__file__).resolve().parents[1] / "src"
    rates: dict[str, list[float]] = {"this tree": [], str(args.compare_src): []}
    cpu: dict[str, list[float]] = {k: [] for k in rates}
    for _ in range(args.rounds):
        for label, src in (("this tree", here), (str(args.compare_src), args.compare_src)):
            r = run_server(label, bodies, messages, args.clients, 20_000, src=src)
            rates[label].append(r.rate)
            cpu[label].append(r.messages / r.cpu_seconds)
    print(f"{messages:,} messages, {args.clients} clients, load average {os.getloadavg()}")
    print(f"{'tree':<40} {'events/s (each run)':<32} {'median':>8} {'msgs per CPU-s':>15}")
    for label, xs in rates.items():
        each = ", ".join(f"{x:,.0f}" for x in xs)
        print(
            f"{label:<40} {each:<32} {sorted(xs)[len(xs) // 2]:>8,.0f} "
            f"{sorted(cpu[label])[len(xs) // 2]:>15,.0f}"
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument(
        "--compare-src",
        type=Path,
        help="Another checkout's src/ (e.g. main before a change): only the group-commit run, "
        "this tree and that one interleaved, --rounds times each.",
    )
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    if args.compare_src is not None:
        compare(args)
        return

    bodies = payloads(args.customers, args.batch)
    messages = sum(len(orjson.loads(b)["batch"]) for b in bodies)
    size = sum(len(b) for b in bodies) / messages
    print(
        f"{messages:,} demo messages (~{size:.0f} B each) in {len(bodies)} batches of "
        f"{args.batch}; {args.clients} concurrent clients; {os.cpu_count()} cores shared"
    )
    peer = parse_rate(bodies, messages)
    runs = [
        run_server("group commit", bodies, messages, args.clients, 20_000),
        run_server("group commit, no listeners", bodies, messages, args.clients, 20_000, False),
        run_server("no group commit", bodies, messages, args.clients, 1),
        run_server(
            f"group commit, {4 * args.clients} clients", bodies, messages, 4 * args.clients, 20_000
        ),
        run_server("HTTP layer only (no store)", bodies, messages, args.clients, 1, mode="http"),
    ]
    grouped, many = runs[0], runs[3]

    def per_commit(r: Run) -> int:
        return max(1, r.commits["messages"] // max(r.commits["commits"], 1))

    assert grouped.db is not None
    floors = [
        writer_alone(bodies, per_commit(grouped)),
        write_alone(grouped.db, per_commit(grouped)),
        write_alone(grouped.db, per_commit(many)),  # the commits 4x the clients make
    ]
    rows: list[tuple[str, ...]] = [("what", "events/s", "vs orjson", "p50 ms", "p99 ms",
                                    "msgs/commit", "reqs/commit", "peak RSS MB",
                                    "server CPU s", "per CPU-s", "vs orjson")]  # fmt: skip
    rows.append(("orjson.loads only", f"{peer:,.0f}", "1.00", "", "", "", "", "", "", "", ""))
    for r in runs + floors:
        c: dict[str, Any] = r.commits
        rows.append(
            (
                f"/v1/batch, {r.label}" if r in runs else r.label,
                f"{r.rate:,.0f}",
                f"{r.rate / peer:.2f}",
                f"{r.pct(0.5):.1f}" if r.latencies else "",
                f"{r.pct(0.99):.1f}" if r.latencies else "",
                f"{c['messages'] / max(c['commits'], 1):,.0f}",
                f"{c['requests'] / max(c['commits'], 1):.1f}",
                f"{r.peak_rss_mb:.0f}" if r.latencies else "",
                f"{r.cpu_seconds:.2f}",
                f"{r.messages / r.cpu_seconds:,.0f}",
                f"{r.messages / r.cpu_seconds / peer:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
