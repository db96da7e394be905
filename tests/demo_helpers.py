"""The demo business in a test's store: `ingest_demo(store, DemoConfig(customers=300, days=30,
seed=3))` sends it through the ingest path, as the tracking API would, and waits until every
commit listener has seen it."""

from __future__ import annotations

import orjson

from touchpath.demo import DemoBusiness, DemoConfig
from touchpath.events.message import stage_messages
from touchpath.store import Store, utcnow


def ingest_demo(store: Store, config: DemoConfig, batch: int = 2000, source: str = "demo") -> str:
    """Ingest the demo business of `config` in batches of `batch` messages into a new source
    named `source`; returns the source's id."""
    source_id = store.create_source(source).id
    now = utcnow()
    for messages in DemoBusiness(config).batches(batch):
        raws = [orjson.dumps(m) for m in messages]
        store.ingest(stage_messages(raws, source=source_id, received_at=now)).result()
    store.wait_idle(120)
    return source_id
