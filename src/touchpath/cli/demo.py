"""`touchpath demo`: generate the demo business, ingest it over HTTP, and serve the app."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from touchpath.analytics import journey
from touchpath.cli.base import app, console, settings_for
from touchpath.store import Store, explore
from touchpath.web.server import serving

DEMO_DB = Path("touchpath-demo.duckdb")
REPORT_SECONDS = 60.0
"""What the demo receivers got is summed up this often (when something came)."""


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="DuckDB file for the demo store.")] = DEMO_DB,
    customers: Annotated[
        int, typer.Option(help="Customers to simulate (~50 events each).")
    ] = 20_000,
    days: Annotated[int, typer.Option(help="Days of history to simulate.")] = 90,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same business.")
    ] = 7,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind (0 picks a free one).")] = 8000,
    reload: Annotated[
        bool, typer.Option(help="Load the demo again into an existing store.")
    ] = False,
    serve: Annotated[
        bool, typer.Option(help="Keep serving after loading (Ctrl-C to stop).")
    ] = True,
    live: Annotated[
        bool | None,
        typer.Option(
            "--live/--no-live",
            help="Keep the business alive while serving: people keep arriving and answer the "
            "messages sent to them, on an accelerated clock (default TOUCHPATH_DEMO_LIVE).",
        ),
    ] = None,
) -> None:
    """Generate the demo retailer, send it through the real /v1/batch path, serve it, keep it alive.

    After the history, simulated people keep arriving and answer the demo's messages
    (docs/demo.md, "The living demo"); `--no-live` serves the history alone."""
    from touchpath.demo import DemoBusiness, DemoConfig
    from touchpath.demo.live import live_clock
    from touchpath.demo.receivers import Received, demo_destinations, send_samples, wait_sent
    from touchpath.system import opened

    # The demo's destinations are local receivers on 127.0.0.1 (docs/destinations.md).
    settings = settings_for(
        db, host=host, port=port, destinations_allow_hosts="127.0.0.1", demo_live=live
    )
    alive = settings.demo_live and serve
    if alive:  # the accelerated clock runs ahead of the wall: its events are not "future" ones
        settings = settings.model_copy(update={"max_future_hours": 24.0 * 365 * 100})
    business = DemoBusiness(DemoConfig(customers=customers, days=days, seed=seed))
    people: list[Any] = []  # the living business, once the server runs

    def react(r: Received) -> None:
        if people:
            people[0].receive(r)

    with Store(settings.db, settings) as store:
        clock = live_clock(store, settings.demo_clock_factor) if alive else None
        with (
            opened(settings, store=store, clock=clock, background=True) as tp,
            demo_destinations(
                store, console.print, every=REPORT_SECONDS, react=react if alive else None
            ) as receivers,
            serving(settings, store, touchpath=tp) as url,
        ):
            _loaded(tp, business, url, reload)
            now = clock.now() if clock is not None else None
            console.print(
                f"sending {send_samples(store, now=now)} sample messages to the demo receivers"
            )
            wait_sent(store)
            console.print(f"the demo receivers got {receivers.summary()}")
            if serve:
                _serve(store, url, clock, people, seed)


def _loaded(tp: Any, business: Any, url: str, reload: bool) -> None:
    """Say where to go, load the history (unless there), publish the demo's journeys."""
    from touchpath.demo.journeys import publish_demo_journeys

    store = tp.store
    console.print(f"Touchpath is serving [bold]{url}[/] (store {store.settings.db})")
    email, password = _demo_owner(store)
    console.print(f"  sign in as    [bold]{email}[/]  password [bold]{password}[/]")
    console.print(f"  web app       {url}/\n  REST API      {url}/docs")
    console.print(f"  journey maps  {url}/maps")
    loaded = store.query("SELECT count(*) FROM events")[0][0]
    if loaded and not reload:
        console.print(
            f"The store already holds {loaded:,} events; pass --reload to add the demo again."
        )
    elif loaded:
        with _journeys_held(tp):
            _load(store, business, url)
    else:
        _load(store, business, url)
    stats = explore.counts(store)
    console.print(
        f"[green]{stats['events']:,} events[/] in the store, "
        f"{stats['rejected']:,} rejected messages kept with their reasons."
    )
    for p in publish_demo_journeys(tp):  # they run from here on, on the engine's clock
        console.print(f"published journey [bold]{p.name}[/] v{p.version}")


@contextmanager
def _journeys_held(tp: Any) -> Iterator[None]:
    """Live journeys paused while the history goes in again (`--reload`): its months-old carts
    and tickets must not enter them and send messages now. Resumed after, they take no one for
    the events of the paused time (`touchpath.orchestrate.library.resume`)."""
    from touchpath.orchestrate import library

    engine = tp.services["journeys"]
    held = [j.name for j in library.list_journeys(engine) if j.status == "live"]
    if held:
        console.print(f"pausing the live journeys while the history is loaded: {', '.join(held)}")
    for name in held:
        library.pause(engine, name)
    try:
        yield
    finally:
        for name in held:
            library.resume(engine, name)
        if held:
            console.print("resumed them; the history's events entered none of them")


def _serve(store: Store, url: str, clock: Any, people: list[Any], seed: int) -> None:
    """Serve until Ctrl-C, with the living business on its clock when there is one."""
    runner = _start_live(store, url, clock, people, seed) if clock is not None else None
    console.print("Serving; press Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        if runner is not None:
            runner.stop()
            runner.business.close()


def _start_live(store: Store, url: str, clock: Any, people: list[Any], seed: int) -> Any:
    """Start the living business on the accelerated clock (it resumes where it stopped)."""
    from touchpath.demo.live import LiveBusiness, LiveRunner, live_write_key

    s = store.settings
    business = LiveBusiness(
        store, clock, url, live_write_key(store), seed=seed, rate=s.demo_live_rate
    )
    people.append(business)
    runner = LiveRunner(business, clock).start()
    console.print(
        f"the business is alive from {clock.now():%Y-%m-%d %H:%M} (simulated): "
        f"{s.demo_live_rate:g} new people per simulated hour, the clock {s.demo_clock_factor:g}x "
        f"the wall; pause it on the web app's Living demo panel ({url}/demo) "
        "or start with --no-live"
    )
    return runner


DEMO_OWNER = "owner@demo.touchpath.dev"


def _demo_owner(store: Store) -> tuple[str, str]:
    """The demo's owner with a fresh one-time password (made on first run, reset on later ones)."""
    from touchpath import access
    from touchpath.errors import NotFound

    try:
        access.get_user(store, DEMO_OWNER)
    except NotFound:
        return DEMO_OWNER, access.create_user(store, DEMO_OWNER, "owner")[1]
    return DEMO_OWNER, access.set_password(store, DEMO_OWNER)[1]


def _load(store: Store, business: object, url: str) -> None:
    from touchpath.demo import DemoBusiness
    from touchpath.demo.send import send_batches

    assert isinstance(business, DemoBusiness)
    if any(s.name == "demo" for s in store.sources()):  # its key is kept hashed: a new one
        src = store.rotate_source_key("demo", timedelta(days=7))  # the old works for 7 days
    else:
        src = store.create_source("demo")
    assert src.write_key is not None
    expected = business.config.customers * 50
    with Progress(
        TextColumn("sending the demo business through POST /v1/batch"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("send", total=expected)
        sent = send_batches(
            url, src.write_key, business.batches(500), on_sent=lambda n: progress.advance(task, n)
        )
        progress.update(task, total=sent, completed=sent)
    store.wait_idle()
    build = journey.optimize(store)  # the sorted journey copy that funnels and paths read
    console.print(f"sorted journey copy built: {build.events:,} events")
    from touchpath.demo import personalize

    names = personalize.setup(store, src.name)  # the personalised home page
    console.print(f"published decisions on source {src.name}: {', '.join(names)}")
    truth_path = store.path.with_suffix(".truth.json")
    truth_path.write_bytes(business.truth().to_json())
    console.print(f"sent {sent:,} messages; ground truth written to {truth_path}")
