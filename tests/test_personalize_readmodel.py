"""The personalisation read model's upkeep: what a commit makes it read again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from identity_helpers import ingest, msg, profile_of
from touchpath.personalize import Personalizer
from touchpath.personalize.exposures import Exposures, exposure_message
from touchpath.store import Store
from touchpath.system import Touchpath


def _exposures(store: Store, **people: str) -> None:
    """Answers' exposures as `/v1/decide` queues them, by kind of id (`user_id=`, ...)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    queued = Exposures()
    for kind, value in people.items():
        ids = {"user_id": None, "anonymous_id": None, kind: value}
        queued.add(
            exposure_message("home", 1, "a", "a", None, unit=value, source_id="src", at=now,
                             **ids),
            now.date(),
        )  # fmt: skip
    queued.flush(store, now)
    store.wait_idle()


def test_an_exposure_reads_no_known_profile_again_but_is_one_of_its_last_events(
    tp: Touchpath,
) -> None:
    """Each answer's exposure comes back as a commit: a person the model holds is not read from
    the tables again (an exposure changes no trait), yet it is their newest event; a visitor
    never seen is read (their profile is new)."""
    ingest(tp.store, [msg("identify", 1, userId="u1", traits={"plan": "vip"})])
    p: Personalizer = tp.services["personalize"]
    p.sync()
    read: set[str] = set()
    reload = p.model.reload

    def counting(con, pids):  # type: ignore[no-untyped-def]
        read.update(pids)
        reload(con, pids)

    p.model.reload = counting  # type: ignore[method-assign]
    _exposures(tp.store, user_id="u1", anonymous_id="v1")
    p.sync()
    u1, v1 = profile_of(tp.store, "user_id", "u1"), profile_of(tp.store, "anonymous_id", "v1")
    assert u1 is not None and v1 is not None
    assert u1 not in read and v1 in read
    (newest,) = tp.store.query("SELECT max(seq) FROM resolved_events WHERE profile_id = ?", [u1])[0]
    assert p.model.last_seqs(u1)[0] == newest
    view = p.model.view(u1)
    assert view is not None and view.traits == {"plan": "vip"}
    assert p.model.profile_id("anonymous_id", "v1") == v1


def test_forget_deleted_reads_every_id_only_after_a_deletion(tp: Touchpath) -> None:
    """Privacy deletions are found without reading every profile id at each look: only when a
    profile the model may hold is gone, whether it was there at the last look or taken in
    since."""
    from touchpath.personalize.readmodel import ReadModel
    from touchpath.profiles.privacy import delete_person

    def last() -> int:
        return int(tp.store.query("SELECT max(seq) FROM events")[0][0])

    ingest(tp.store, [msg("identify", 1, userId=u) for u in ("u1", "u2")])
    model = ReadModel()
    with tp.store.reading() as cur:
        model.build(cur)
        assert model.forget_deleted(cur) == 0 and model.id_reads == 1
        seen = last()
        ingest(tp.store, [msg("identify", 2, userId="u3")])  # a new profile: nothing gone
        model.apply(cur, seen + 1, last())
        assert model.forget_deleted(cur) == 0 and model.id_reads == 1
        assert model.forget_deleted(cur) == 0 and model.id_reads == 1

        seen = last()
        ingest(tp.store, [msg("identify", 3, userId="u4")])
        model.apply(cur, seen + 1, last())
        u4 = profile_of(tp.store, "user_id", "u4")
        delete_person(tp.store, "u4", "user_id")  # taken in since the last look, then deleted
        assert model.forget_deleted(cur) == 1 and model.id_reads == 2
        assert model.profile_id("user_id", "u4") is None and model.view(u4 or "") is None

        delete_person(tp.store, "u1", "user_id")  # there at the last look
        assert model.forget_deleted(cur) == 1 and model.id_reads == 3
        assert model.profile_id("user_id", "u1") is None
        assert model.forget_deleted(cur) == 0 and model.id_reads == 3
        assert model.profile_id("user_id", "u2") is not None and len(model) == 2


def test_a_build_read_in_batches_holds_what_one_read_holds(
    tp: Touchpath, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build turns its results into the model a batch of rows at a time (bounded memory on
    a big store): every identifier, record and profile's last events as with one batch."""
    from touchpath.personalize import readmodel

    people = [f"u{i}" for i in range(7)]
    ingest(tp.store, [msg("identify", i, userId=u, anonymousId=f"a{i}", traits={"n": i})
                      for i, u in enumerate(people)])  # fmt: skip
    ingest(tp.store, [msg("track", 10 + i, userId=people[i % 7], event="E") for i in range(40)])
    models = {}
    for batch in (1_000_000, 3, 1):
        monkeypatch.setattr(readmodel, "BATCH", batch)
        model = readmodel.ReadModel(last_events=4)
        with tp.store.reading() as cur:
            model.build(cur)
        models[batch] = model
    one = models[1_000_000]
    assert len(one) == 7 and len(one._ids) == 14 and sum(map(len, one._last.values())) == 28
    for model in (models[3], models[1]):
        assert model._ids == one._ids and model._kinds == one._kinds
        assert model._records == one._records and model._last == one._last
