"""Wake-up times for `wait_until` nodes: the next local time of day on an allowed weekday, in
each person's time zone, computed with zoneinfo and joined to people set-wise.

Python computes the few candidate instants per time zone (one per allowed local day around the
batch's times); DuckDB picks each person's first candidate at or after their time with an ASOF
join. Daylight-saving changes are zoneinfo's: a local time that does not exist that day (spring
forward) is read with the offset before the change, i.e. an hour later on the wall; one that
happens twice (fall back) is the first.

>>> from datetime import datetime, time
>>> at = candidates("Europe/Berlin", time(2, 30), {6}, datetime(2026, 3, 28), datetime(2026, 3, 28))
>>> at[0]  # Sunday 29 March 2026: 02:30 does not exist in Berlin; 03:30 CEST is 01:30 UTC
datetime.datetime(2026, 3, 29, 1, 30)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["candidates", "valid_zone", "weekday_numbers"]

_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def weekday_numbers(names: tuple[str, ...]) -> set[int]:
    return {_DAYS[n] for n in names}


@lru_cache(maxsize=1024)
def valid_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone zoneinfo knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _utc(d: date, at: time, zone: ZoneInfo) -> datetime:
    local = datetime.combine(d, at).replace(tzinfo=zone, fold=0)
    return local.astimezone(UTC).replace(tzinfo=None)


def candidates(
    zone_name: str, at: time, weekdays: set[int], earliest: datetime, latest: datetime
) -> list[datetime]:
    """Every instant (naive UTC) of local time `at` on an allowed weekday in `zone_name`, from the
    local day before `earliest` to a week after `latest`: enough for any time in between to find
    its next one."""
    zone = ZoneInfo(zone_name)
    first = earliest.replace(tzinfo=UTC).astimezone(zone).date() - timedelta(days=1)
    last = latest.replace(tzinfo=UTC).astimezone(zone).date() + timedelta(days=8)
    out: list[datetime] = []
    d = first
    while d <= last:
        if d.weekday() in weekdays:
            out.append(_utc(d, at, zone))
        d += timedelta(days=1)
    return out
