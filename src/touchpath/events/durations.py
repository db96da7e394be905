"""Durations: one parser, one name per concept, seconds inside.

A duration is written as seconds (`90`) or a number with a unit (`30s`, `15m`, `4h`, `7d`, `2w`);
specs, journeys, destinations and settings all take this form and keep whole seconds.

>>> parse_duration("7d"), parse_duration(90), parse_duration("1.5h"), format_duration(5400)
(604800, 90, 5400, '1h30m')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

__all__ = [
    "UNITS",
    "Duration",
    "OptionalDuration",
    "format_duration",
    "parse_duration",
    "renamed_durations",
]

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


_INPUT = BeforeValidator(parse_duration, json_schema_input_type=int | str)
"""Read seconds or a text with a unit; input schemas show both."""

Duration = Annotated[int, _INPUT, Field(gt=0)]
"""A positive duration in whole seconds, written as seconds or e.g. `30m`, `7d`."""

OptionalDuration = Annotated[
    Annotated[int, Field(gt=0)] | None,
    BeforeValidator(parse_duration, json_schema_input_type=int | str | None),
    Field(default=None),
]
"""A positive duration in seconds, or None (no limit)."""


def renamed_durations(data: Any, renamed: Mapping[str, tuple[str, int]]) -> Any:
    """Accept a duration's deprecated input name: `renamed` maps each old name to its new name
    and the old one's unit in seconds. For a model's `model_validator(mode="before")`; output and
    docs use the new names only.

    >>> renamed_durations({"lookback_days": 14}, {"lookback_days": ("lookback", 86400)})
    {'lookback': 1209600}
    >>> renamed_durations({"lookback_days": 1, "lookback": "1d"}, {"lookback_days": ("lookback", 86400)})
    Traceback (most recent call last):
    ...
    ValueError: lookback_days: the old name of lookback; give only lookback
    """
    if not isinstance(data, Mapping) or not any(old in data for old in renamed):
        return data
    out = dict(data)
    for old, (new, unit) in renamed.items():
        if old not in out:
            continue
        if new in out:
            raise ValueError(f"{old}: the old name of {new}; give only {new}")
        value = out.pop(old)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        out[new] = round(value * unit) if number else value
    return out
