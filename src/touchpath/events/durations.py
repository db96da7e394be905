"""Durations: one parser, one name per concept, seconds inside.

A duration is written as seconds (`90`) or a number with a unit (`30s`, `15m`, `4h`, `7d`, `2w`);
specs, journeys, destinations and settings all take this form and keep whole seconds.

>>> parse_duration("7d"), parse_duration(90), parse_duration("1.5h"), format_duration(5400)
(604800, 90, 5400, '1h30m')
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

__all__ = ["UNITS", "Duration", "OptionalDuration", "format_duration", "parse_duration"]

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> object:
    """Seconds from an int or a text like `30m`, `12h`, `7d`, `2w`; other values pass through
    (pydantic then says what is wrong with them).

    >>> parse_duration("45 m")
    2700
    >>> parse_duration("soon")
    Traceback (most recent call last):
    ...
    ValueError: not a duration: 'soon' (use seconds or e.g. 30m, 12h, 7d, 2w)
    """
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text and text[-1] in UNITS:
            try:
                return round(float(text[:-1]) * UNITS[text[-1]])
            except ValueError:
                pass
        elif text.isdigit():
            return int(text)
        raise ValueError(f"not a duration: {value!r} (use seconds or e.g. 30m, 12h, 7d, 2w)")
    return value


def format_duration(seconds: float) -> str:
    """The shortest readable form of a number of seconds: `4h`, `1h30m`, `7d`, `45s`."""
    s = round(seconds)
    if s == 0:
        return "0s"
    out = ""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size and not (unit == "w" and s % size):
            out += f"{s // size}{unit}"
            s %= size
    return out


Duration = Annotated[int, BeforeValidator(parse_duration), Field(gt=0)]
"""A positive duration in whole seconds, written as seconds or e.g. `30m`, `7d`."""

OptionalDuration = Annotated[int | None, BeforeValidator(parse_duration), Field(default=None, gt=0)]
"""A positive duration in seconds, or None (no limit)."""
