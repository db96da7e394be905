"""A running server keeps the sorted journey copy fresh by itself once ingest pauses, and with
a maximum lag, analyses read a copy that is behind the log by at most that much."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from tests.conftest import api_token, bearer
from typer.testing import CliRunner

from touchpath.analytics import api, journey
from touchpath.analytics.attribution import AttributionSpec
from touchpath.analytics.discovery import ConformanceSpec, DfgSpec, Stage, VariantsSpec
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.errors import SpecError
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving

T0 = datetime(2024, 3, 4, 9, 0, 0)


def _journeys(store: Store, people: range) -> None:
    journeys_for(
        store,
        {
            f"p{i}": [
                {"event": "view", "timestamp": (T0 + timedelta(minutes=i)).isoformat()},
                {"event": "buy", "timestamp": (T0 + timedelta(minutes=i + 5)).isoformat()},
            ]
            for i in people
        },
    )


def _fresh(store: Store) -> bool:
    with store.reading() as cur:
        return journey.is_fresh(cur)


def test_a_stale_copy_is_rebuilt_only_after_ingest_pauses(store: Store) -> None:
    refresher = journey.Refresher(store, every=0.05, idle=3600)
    assert refresher.refresh() is None  # an empty log: nothing to build
    _journeys(store, range(5))
    assert refresher.refresh() is None and not _fresh(store)  # ingest has not paused an hour
    refresher.idle = 0
    built = refresher.refresh()
    assert built is not None and built.events == 10 and _fresh(store)
    assert refresher.refresh() is None  # fresh: nothing to do


def test_the_background_thread_catches_up_after_new_events(store: Store) -> None:
    refresher = journey.Refresher(store, every=0.05, idle=0.2)
    refresher.start()
    try:
        _journeys(store, range(5))
        _wait_fresh(store)
        _journeys(store, range(5, 9))  # new events make it stale again
        assert not _fresh(store)
        _wait_fresh(store)
        (events,) = store.query("SELECT count(*) FROM journey_events")[0]
        assert events == 18 and refresher.builds >= 2
    finally:
        refresher.stop()


def _wait_fresh(store: Store) -> None:
    deadline = time.monotonic() + 20
    while not _fresh(store):
        assert time.monotonic() < deadline, "the journey copy was not rebuilt within 20 s"
        time.sleep(0.05)


def _backdate(store: Store, seconds: float) -> None:
    """Make the copy look built `seconds` earlier than it was."""
    store.write_sync(
        lambda con: con.execute(
            f"UPDATE journey_build SET built_at = built_at - INTERVAL {int(seconds)} SECOND"
        )
    )


def test_analyses_read_a_copy_that_lags_within_max_lag(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "t.duckdb", journey_max_lag_seconds=600)
    with Store(settings.db, settings) as store:
        _journeys(store, range(4))
        built = journey.optimize(store)
        _journeys(store, range(4, 6))  # two more people after the copy: it lags the log
        with store.reading() as cur:
            assert not journey.is_fresh(cur)
            assert journey.usable(cur, 600) == journey.CopyUse(True, built.built_at)
            assert journey.usable(cur, 0) == journey.CopyUse(False)
        funnel = api.funnel(store, {"steps": [{"event": "view"}, {"event": "buy"}]})
        assert funnel.counts() == [4, 4] and funnel.as_of == built.built_at
        stages = (Stage(name="look", events=("view",)), Stage(name="buy", events=("buy",)))
        lagging = [
            api.paths(store, {"start": {"event": "view"}}),
            api.discover_dfg(store, DfgSpec()),
            api.discover_variants(store, VariantsSpec(stages=stages)),
            api.conformance(store, ConformanceSpec(stages=stages)),
            api.attribution(store, AttributionSpec(conversion={"event": "buy"})),
        ]
        assert [r.as_of for r in lagging] == [built.built_at] * 5
        assert lagging[0].total == 4 and lagging[1].cases == 4
        _backdate(store, 601)  # older than the lag: the whole log again, and no as_of
        funnel = api.funnel(store, {"steps": [{"event": "view"}, {"event": "buy"}]})
        assert funnel.counts() == [6, 6] and funnel.as_of is None
        assert api.discover_dfg(store, DfgSpec()).as_of is None
    with Store(settings.db) as exact:  # the default lag is 0: only an exact copy is read
        journey.optimize(exact)
        _journeys(exact, range(6, 7))
        funnel = api.funnel(exact, {"steps": [{"event": "view"}, {"event": "buy"}]})
        assert funnel.counts() == [7, 7] and funnel.as_of is None


def test_a_lagging_copy_is_rebuilt_while_ingest_goes_on(store: Store) -> None:
    refresher = journey.Refresher(store, every=0.05, idle=3600, max_lag=600)
    _journeys(store, range(3))
    assert refresher.refresh() is not None  # never built: built at once, ingest or not
    _journeys(store, range(3, 5))
    assert refresher.refresh() is None  # stale but young: it may lag 600 s
    _backdate(store, 299)
    assert refresher.refresh() is None
    _backdate(store, 2)  # now 301 s old, past half the lag: rebuilt though ingest goes on
    built = refresher.refresh()
    assert built is not None and built.events == 10
    assert journey.Refresher(store, every=0.05, idle=3600).refresh() is None  # fresh


def test_cli_and_rest_say_as_of_when_the_copy_lags(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    with Store(db) as store:
        _journeys(store, range(3))
        built = journey.optimize(store)
        _journeys(store, range(3, 4))
    args = ["funnel", "--db", str(db), "--step", "view", "--step", "buy"]
    lag = {"TOUCHPATH_JOURNEY_MAX_LAG_SECONDS": "600"}
    out = CliRunner().invoke(app, args, env=lag)
    assert out.exit_code == 0, out.output
    assert f"as of {built.built_at:%Y-%m-%d %H:%M:%S} UTC" in out.output
    out = CliRunner().invoke(app, [*args, "--json"], env=lag)
    assert json.loads(out.output)["as_of"] == built.built_at.isoformat()
    out = CliRunner().invoke(app, ["dfg", "--db", str(db), "--json"], env=lag)
    assert json.loads(out.output)["cases"] == 3  # the copy's three people, not the log's four
    out = CliRunner().invoke(app, [*args, "--json"])  # no lag allowed: the whole log
    assert json.loads(out.output)["as_of"] is None and "as of" not in out.output
    settings = Settings(db=db, port=0, journey_max_lag_seconds=600)
    with Store(db, settings) as store, serving(settings, store) as url:
        body = {"steps": [{"event": "view"}, {"event": "buy"}]}
        headers = bearer(api_token(store, "viewer"))
        r = httpx.post(f"{url}/api/analyses/funnel", json=body, headers=headers)
        assert r.status_code == 200 and r.json()["as_of"] == built.built_at.isoformat()


def test_a_bad_lag_setting_says_which_variable(tmp_path: Path) -> None:
    db = str(tmp_path / "t.duckdb")
    args = ["funnel", "--db", db, "--step", "view", "--step", "buy"]
    for value, says in (("-5", "greater than or equal to 0"), ("soon", "a valid number")):
        out = CliRunner().invoke(app, args, env={"TOUCHPATH_JOURNEY_MAX_LAG_SECONDS": value})
        assert isinstance(out.exception, SpecError)
        assert str(out.exception).startswith("TOUCHPATH_JOURNEY_MAX_LAG_SECONDS: ")
        assert says in str(out.exception) and repr(value) in str(out.exception)
