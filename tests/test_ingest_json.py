"""The event log's JSON columns reach DuckDB typed as JSON (`split_normalised`), so they are
stored as the normalise statement wrote them, without a second parse: the stored text is the
text a cast from VARCHAR would have stored, for any JSON the SDKs send."""

from __future__ import annotations

import json
from datetime import datetime

import orjson
import pyarrow as pa

from touchpath.events.message import stage_messages
from touchpath.store import Store
from touchpath.store.ingest import normalise, split_normalised, staged_table

ODD = [
    b'{"type":"track","userId":"u","event":"E","messageId":"m0","properties":{ "a" : 1.50,'
    b' "b":"\\u00e9\\n\\"", "c":[1, 2 ,{}], "d": 12345678901234567890, "e": null, "f": 1e300},'
    b' "context": {"x": "\\ud83d\\ude00", "y": {"z": [true, false]}}}',
    b'{"type":"identify","userId":"u","messageId":"m1","traits":{"email":"a@b.c","n":-0.0}}',
    b'{"type":"identify","userId":"u","messageId":"m2","context":{"traits":{"plan":"pro"}}}',
    b'{"type":"track","userId":"u","event":"E","messageId":"m3","properties":null,'
    b'"context":null}',
    orjson.dumps({"type": "page", "anonymousId": "a", "messageId": "m4", "name": "P",
                  "properties": {"deep": [[[{"k": "v" * 300}]]]}}),
]  # fmt: skip


def test_json_columns_are_stored_as_the_statement_wrote_them(store: Store) -> None:
    staged = stage_messages(ODD, source="src", received_at=datetime(2026, 1, 1))
    assert store.ingest(staged).result(30).accepted == len(ODD)
    table, _ = staged_table([staged])
    with store.reading() as con:
        good, _ = split_normalised(normalise(con, table), table)
        con.register("good", good)
        types = {name: kind for name, kind, *_ in con.execute("DESCRIBE good").fetchall()}
        assert (types["context"], types["properties"], types["traits"]) == ("JSON",) * 3
        # The same rows cast from text, as the writer stored them before.
        rows = con.execute(
            "SELECT g.message_id, e.context::VARCHAR, g.context::VARCHAR::JSON::VARCHAR, "
            "e.properties::VARCHAR, g.properties::VARCHAR::JSON::VARCHAR, "
            "e.traits::VARCHAR, g.traits::VARCHAR::JSON::VARCHAR, json_type(e.properties) "
            "FROM good g JOIN events e USING (message_id) ORDER BY g.message_id"
        ).fetchall()
    assert len(rows) == len(ODD)
    for mid, context, context_cast, props, props_cast, traits, traits_cast, _ in rows:
        assert (context, props, traits) == (context_cast, props_cast, traits_cast), mid
    assert json.loads(rows[0][3])["b"] == 'é\n"'
    assert orjson.loads(rows[1][5]) == {"email": "a@b.c", "n": -0.0}
    assert orjson.loads(rows[2][5]) == {"plan": "pro"}
    assert rows[3][1] == "{}" and rows[3][3] is None
    assert [r[7] for r in rows] == ["OBJECT", None, None, None, "OBJECT"]


def test_only_the_json_columns_are_typed_json(store: Store) -> None:
    staged = stage_messages(ODD[:1], source="src", received_at=datetime(2026, 1, 1))
    table, _ = staged_table([staged])
    with store.reading() as con:
        good, bad = split_normalised(normalise(con, table), table)
    marked = {f.name for f in good.schema if f.metadata}
    assert marked == {"context", "properties", "traits"}
    assert good.schema.field("context").type == pa.string()
    assert bad.num_rows == 0
