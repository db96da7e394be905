"""Set-wise normalisation of staged messages into event-log rows, in one SQL statement.

The writer registers a batch of staged messages as an Arrow table named `staged` with columns
(ord, raw, source, received_at, message_id, type, reason, batch_sent_at) and runs
`NORMALISE_SQL` over it: field extraction, timestamp correction, channel derivation and the
last validity checks happen in DuckDB, vectorised, not message by message in Python.

Each message's JSON is parsed twice in all (once for the text fields, once for the JSON ones):
every path the columns and the channel rules need is extracted in one list-valued call, and the
channel rule table's own JSON look-ups are rewritten to read those extracted values. Extracting
path by path would parse the message once per path (about 40 times).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from touchpath.events.channels import channel_case

__all__ = ["EVENT_COLUMNS", "NORMALISE_SQL", "insert_events_sql"]

EVENT_COLUMNS = (
    "seq", "message_id", "source", "type", "event", "anonymous_id", "user_id", "group_id",
    "previous_id", "timestamp", "original_timestamp", "sent_at", "received_at", "channel",
    "context", "properties", "traits",
)  # fmt: skip

_UTC = "AT TIME ZONE 'UTC'"

# Paths read as text, and paths read as JSON, from the raw message.
_TEXT = ["$.event", "$.name", "$.anonymousId", "$.userId", "$.groupId", "$.previousId",
         "$.originalTimestamp", "$.timestamp", "$.sentAt"]  # fmt: skip
_JSON = ["$.context", "$.properties", "$.traits", "$.context.traits"]


def _channel_sql(text: list[str], json: list[str]) -> str:
    """The channel CASE, its JSON look-ups on context/properties turned into extracted columns."""

    def swap(node: exp.Expr) -> exp.Expr:
        if (
            isinstance(node, exp.JSONExtract | exp.JSONExtractScalar)
            and isinstance(node.this, exp.Column)
            and node.this.name in ("context", "properties")
        ):
            path = node.expression.sql("duckdb").strip("'")
            full = f"$.{node.this.name}{path[1:]}"
            paths, name = (text, "t") if isinstance(node, exp.JSONExtractScalar) else (json, "j")
            if full not in paths:
                paths.append(full)
            return sqlglot.parse_one(f"{name}[{paths.index(full) + 1}]", read="duckdb")
        return node

    return channel_case().transform(swap).sql("duckdb")


def _normalise_sql() -> str:
    text, json = list(_TEXT), list(_JSON)
    channel = _channel_sql(text, json)

    def t(path: str) -> str:
        return f"t[{text.index(path) + 1}]"

    def j(path: str) -> str:
        return f"j[{json.index(path) + 1}]"

    text_list = ", ".join(f"'{p}'" for p in text)
    json_list = ", ".join(f"'{p}'" for p in json)
    return f"""
WITH s AS (
    SELECT ord, source, received_at, message_id, type, reason, batch_sent_at,
        json_extract_string(raw, [{text_list}]) AS t,
        json_extract(raw, [{json_list}]) AS j
    FROM staged
), x AS (
    SELECT ord, source, received_at, message_id, type, reason, t, j,
        CASE WHEN type = 'track' THEN {t("$.event")}
             WHEN type IN ('page', 'screen') THEN {t("$.name")} END AS event,
        nullif({t("$.anonymousId")}, '') AS anonymous_id,
        nullif({t("$.userId")}, '') AS user_id,
        nullif({t("$.groupId")}, '') AS group_id,
        nullif({t("$.previousId")}, '') AS previous_id,
        coalesce({t("$.originalTimestamp")}, {t("$.timestamp")}) AS ts_text,
        CASE WHEN {t("$.originalTimestamp")} IS NOT NULL
             THEN 'originalTimestamp' ELSE 'timestamp' END AS ts_field,
        coalesce({t("$.sentAt")}, batch_sent_at) AS sent_text,
        coalesce({j("$.context")}, '{{}}'::JSON) AS context,
        {j("$.properties")} AS properties,
        coalesce({j("$.traits")}, {j("$.context.traits")}) AS traits
    FROM s
), y AS (
    SELECT *,
        try_cast(ts_text AS TIMESTAMPTZ) {_UTC} AS original_timestamp,
        try_cast(sent_text AS TIMESTAMPTZ) {_UTC} AS sent_at
    FROM x
)
SELECT ord, message_id, source, type, event, anonymous_id, user_id, group_id, previous_id,
    CASE WHEN sent_at IS NOT NULL AND original_timestamp IS NOT NULL
              THEN received_at - (sent_at - original_timestamp)
         WHEN original_timestamp IS NOT NULL THEN original_timestamp
         ELSE received_at END AS timestamp,
    original_timestamp, sent_at, received_at,
    {channel} AS channel,
    context, properties, traits,
    CASE WHEN reason IS NOT NULL THEN reason
         WHEN ts_text IS NOT NULL AND original_timestamp IS NULL
              THEN ts_field || ': not an ISO-8601 time: ''' || ts_text || ''''
         WHEN sent_text IS NOT NULL AND sent_at IS NULL
              THEN 'sentAt: not an ISO-8601 time: ''' || sent_text || '''' END AS reason
FROM y
"""


NORMALISE_SQL = _normalise_sql()
"""SELECT over `staged` giving one event-log row per message (plus `ord` and `reason`)."""


def insert_events_sql(base_seq: int) -> str:
    """INSERT of the valid rows of `normalised`, numbering them from `base_seq` in order."""
    cols = ", ".join(EVENT_COLUMNS)
    rest = ", ".join(c for c in EVENT_COLUMNS if c != "seq")
    return (
        f"INSERT INTO events ({cols}) "
        f"SELECT {int(base_seq)} + row_number() OVER (ORDER BY ord) - 1, {rest} "
        "FROM normalised n WHERE reason IS NULL AND NOT EXISTS (SELECT 1 FROM suppressions x "
        "WHERE (x.kind = 'user_id' AND x.value = n.user_id) "
        "OR (x.kind = 'anonymous_id' AND x.value = n.anonymous_id)) ORDER BY ord"
    )
