"""The names of the events Touchpath itself writes to the event log, defined once.

Journeys, destinations, experiments and personalisation speak back into the log with these, so
funnels, paths, maps and experiments see them like any other touchpoint. Their properties are
documented where they are written (docs/journeys.md, docs/destinations.md, docs/experiments.md).

`EXPERIMENT_VIEWED` is the Segment spec's A/B testing event (`experiment_id`, `experiment_name`,
`variation_id`, `variation_name`): other tools send it too, and experiments read arms from it
whatever wrote it.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EXPERIMENT_VIEWED",
    "INTERNAL_SOURCE",
    "JOURNEY_ENTERED",
    "JOURNEY_EVENTS",
    "JOURNEY_EXITED",
    "JOURNEY_STEP_REACHED",
    "MESSAGE_BOUNCED",
    "MESSAGE_CLICKED",
    "MESSAGE_DELIVERED",
    "MESSAGE_EVENTS",
    "MESSAGE_FAILED",
    "MESSAGE_OPENED",
    "MESSAGE_SENT",
    "PERSONALIZE_SOURCE",
    "PERSON_MESSAGE_EVENTS",
    "UNSUBSCRIBED",
]

INTERNAL_SOURCE: Final = "touchpath"
"""The prefix of the sources of events Touchpath writes itself: each area writes as
`touchpath.<area>` (`touchpath.audiences`, `touchpath.journeys`, `touchpath.destinations`,
`touchpath.personalize`), staged with `touchpath.events.message.stage_internal` and queued with
`store.ingest(staged, internal=True)`, never inserted into `events` directly."""

JOURNEY_ENTERED: Final = "Journey Entered"
JOURNEY_STEP_REACHED: Final = "Journey Step Reached"
JOURNEY_EXITED: Final = "Journey Exited"
JOURNEY_EVENTS: Final = (JOURNEY_ENTERED, JOURNEY_STEP_REACHED, JOURNEY_EXITED)

EXPERIMENT_VIEWED: Final = "Experiment Viewed"
PERSONALIZE_SOURCE: Final = f"{INTERNAL_SOURCE}.personalize"
"""The source of personalisation's exposures (`Experiment Viewed` of each decision answered):
what the site asked for, not what the person did, so a map's population leaves them out."""

MESSAGE_SENT: Final = "Message Sent"
MESSAGE_DELIVERED: Final = "Message Delivered"
MESSAGE_FAILED: Final = "Message Failed"
MESSAGE_BOUNCED: Final = "Message Bounced"
MESSAGE_OPENED: Final = "Message Opened"
MESSAGE_CLICKED: Final = "Message Clicked"
UNSUBSCRIBED: Final = "Unsubscribed"
MESSAGE_EVENTS: Final = (
    MESSAGE_SENT,
    MESSAGE_DELIVERED,
    MESSAGE_FAILED,
    MESSAGE_BOUNCED,
    MESSAGE_OPENED,
    MESSAGE_CLICKED,
    UNSUBSCRIBED,
)
PERSON_MESSAGE_EVENTS: Final = (MESSAGE_OPENED, MESSAGE_CLICKED, UNSUBSCRIBED)
"""Message events that are the person's own act, though Touchpath writes them (the rest say
what Touchpath did: sent, delivered, failed, bounced)."""
