"""Deleting a person removes their journey state, their steps and their outbox messages; other
people's stay."""

from __future__ import annotations

from pathlib import Path

from journeys_helpers import World
from touchpath.profiles import privacy


def test_deleting_a_person_removes_their_journeys_and_messages(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        world.publish(
            """
            name: welcome
            entry: {kind: event, event: {event: Signed Up}}
            nodes:
              hello: {kind: send, destination: mail, channel: email, template: welcome,
                      next: pause}
              pause: {kind: wait, duration: 1d}
            """
        )
        world.track("gone", "Signed Up", plan="pro")
        world.track("kept", "Signed Up", plan="team")
        assert world.where("gone") == ("pause", "wait", None)
        gone = world.profile("gone")
        deleters = privacy.person_deleters(world.tp.services)
        counts = privacy.delete_person(world.store, "gone", "user_id", deleters=deleters)
        assert counts["journey_state"] == 1
        assert counts["journey_steps"] == 3  # @entry, hello, pause
        assert counts["outbox"] == 1
        q = world.store.query
        assert q("SELECT count(*) FROM journey_state WHERE profile_id = ?", [gone]) == [(0,)]
        assert q("SELECT count(*) FROM outbox WHERE profile_id = ?", [gone]) == [(0,)]
        assert q("SELECT count(*) FROM journey_steps s JOIN journey_state j ON j.id = s.instance "
                 "WHERE j.user_id = 'gone'") == [(0,)]  # fmt: skip
        # Nobody else was touched, and the journey goes on for them.
        assert world.where("kept") == ("pause", "wait", None)
        assert q("SELECT count(*) FROM outbox") == [(1,)]
        world.later(days=1)
        assert world.where("kept") == ("pause", "done", "completed")
        assert q("SELECT count(*) FROM journey_state WHERE profile_id = ?", [gone]) == [(0,)]
    finally:
        world.close()
