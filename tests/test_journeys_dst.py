"""Waiting until a local time of day in the person's time zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from journeys_helpers import World

MORNING = """
name: morning
entry: {{kind: event, event: {{event: Signed Up}}}}
nodes:
  morning:
    kind: wait_until
    at: "{at}"
    weekdays: {weekdays}
    fallback_timezone: {fallback}
    next: hello
  hello: {{kind: exit, reason: hello}}
"""


def wake(world: World, user: str) -> datetime:
    (inst,) = world.instances(user)
    assert inst["status"] == "wait"
    return inst["wake_at"]  # type: ignore[no-any-return]


def local(ts: datetime, zone: str) -> datetime:
    return ts.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def enter(world: World, user: str, zone: str | None) -> None:
    if zone is not None:
        world.identify(user, timezone=zone)
    world.track(user, "Signed Up")


def test_nine_in_the_morning_across_the_us_spring_forward(tmp_path: Path) -> None:
    # Saturday 7 March 2026, 20:00 UTC; clocks in New York go forward on Sunday 8 March.
    world = World(tmp_path, start=datetime(2026, 3, 7, 20, 0))
    try:
        world.publish(
            MORNING.format(at="09:00", weekdays="[mon, tue, wed, thu, fri]", fallback="UTC")
        )
        enter(world, "ny", "America/New_York")
        enter(world, "berlin", "Europe/Berlin")
        # Monday 9 March 09:00 EDT (UTC-4) is 13:00 UTC; before the change it would be 14:00.
        assert wake(world, "ny") == datetime(2026, 3, 9, 13, 0)
        # Berlin is still on CET (UTC+1): Monday 09:00 is 08:00 UTC.
        assert wake(world, "berlin") == datetime(2026, 3, 9, 8, 0)
        world.later(hours=36, minutes=59)  # Monday 08:59 UTC: Berlin woke, New York did not
        assert world.where("berlin") == ("hello", "done", "hello")
        assert world.where("ny") == ("morning", "wait", None)
        world.later(hours=4, minutes=1)
        assert world.where("ny") == ("hello", "done", "hello")
    finally:
        world.close()


def test_a_local_time_that_does_not_exist_or_happens_twice(tmp_path: Path) -> None:
    # Saturday 28 March 2026 12:00 UTC; Berlin skips 02:00-03:00 on Sunday 29 March.
    world = World(tmp_path, start=datetime(2026, 3, 28, 12, 0))
    try:
        world.publish(MORNING.format(at="02:30", weekdays="[sun]", fallback="UTC"))
        enter(world, "b1", "Europe/Berlin")
        # 02:30 does not exist that night: it is taken an hour later on the wall, 03:30 CEST.
        assert wake(world, "b1") == datetime(2026, 3, 29, 1, 30)
        assert local(wake(world, "b1"), "Europe/Berlin") == datetime(2026, 3, 29, 3, 30)
    finally:
        world.close()
    # Saturday 24 October 2026; Berlin goes back an hour on Sunday 25 October: 02:30 twice.
    world = World(tmp_path / "autumn", start=datetime(2026, 10, 24, 12, 0))
    try:
        world.publish(MORNING.format(at="02:30", weekdays="[sun]", fallback="UTC"))
        enter(world, "b2", "Europe/Berlin")
        assert wake(world, "b2") == datetime(2026, 10, 25, 0, 30)  # the first 02:30 (CEST)
    finally:
        world.close()


def test_no_or_an_unknown_time_zone_falls_back(tmp_path: Path) -> None:
    world = World(tmp_path, start=datetime(2026, 7, 1, 10, 0))  # a Wednesday in summer
    try:
        world.publish(
            MORNING.format(
                at="08:00", weekdays="[mon, tue, wed, thu, fri, sat, sun]", fallback="Asia/Tokyo"
            )
        )
        enter(world, "none", None)
        enter(world, "bad", "Mars/Olympus_Mons")
        enter(world, "la", "America/Los_Angeles")
        # Tokyo (UTC+9, no DST): Thursday 08:00 JST is Wednesday 23:00 UTC.
        assert wake(world, "none") == datetime(2026, 7, 1, 23, 0)
        assert wake(world, "bad") == datetime(2026, 7, 1, 23, 0)
        # Los Angeles in summer (PDT, UTC-7): 03:00 local now, so 08:00 today is 15:00 UTC.
        assert wake(world, "la") == datetime(2026, 7, 1, 15, 0)
        steps = world.store.query(
            "SELECT detail ->> '$.timezone' FROM journey_steps WHERE node = 'morning' ORDER BY id"
        )
        assert [s[0] for s in steps] == ["Asia/Tokyo", "Asia/Tokyo", "America/Los_Angeles"]
    finally:
        world.close()


def test_every_wake_up_is_the_local_time_asked_for(tmp_path: Path) -> None:
    zones = [
        "Europe/London",
        "Australia/Sydney",
        "America/Sao_Paulo",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "America/St_Johns",
    ]
    world = World(tmp_path, start=datetime(2026, 3, 27, 23, 45))  # around several changes
    try:
        world.publish(MORNING.format(at="07:15", weekdays="[mon, wed, fri, sun]", fallback="UTC"))
        for i, zone in enumerate(zones):
            enter(world, f"p{i}", zone)
        for i, zone in enumerate(zones):
            at = local(wake(world, f"p{i}"), zone)
            assert (at.hour, at.minute) == (7, 15), zone
            assert at.strftime("%a") in ("Mon", "Wed", "Fri", "Sun"), zone
            assert wake(world, f"p{i}") >= world.clock.now()
            assert (wake(world, f"p{i}") - world.clock.now()).days < 3, zone
    finally:
        world.close()
