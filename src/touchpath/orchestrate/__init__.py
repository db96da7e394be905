"""Journeys: event-triggered, multi-step orchestration on the map's own steps.

A journey is a versioned document (`document`); the engine keeps who is where as rows
(`journey_state`), moves people set-wise when events commit and when their time comes, sends
through the destinations' outbox, and writes its steps back into the event log. docs/journeys.md
shows it from the CLI, the REST API and Python.
"""

from __future__ import annotations

from touchpath.orchestrate.document import Journey, journey_schema, load_journey, parse_journey
from touchpath.orchestrate.library import (
    Entered,
    JourneyDetail,
    JourneySummary,
    Published,
    archive,
    check,
    enter_person,
    get_journey,
    list_journeys,
    pause,
    publish,
    resume,
    save_journey,
)
from touchpath.orchestrate.service import JourneyEngine

__all__ = [
    "Entered",
    "Journey",
    "JourneyDetail",
    "JourneyEngine",
    "JourneySummary",
    "Published",
    "archive",
    "check",
    "enter_person",
    "get_journey",
    "journey_schema",
    "list_journeys",
    "load_journey",
    "parse_journey",
    "pause",
    "publish",
    "resume",
    "save_journey",
]
