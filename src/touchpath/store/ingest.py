"""Set-wise normalisation of staged messages into event-log rows, in one SQL statement.

The writer registers a batch of staged messages as an Arrow table named `staged` with columns
(ord, raw, source, received_at, message_id, type, reason, batch_sent_at) and runs
`NORMALISE_SQL` over it: field extraction, timestamp correction, channel derivation and the
last validity checks happen in DuckDB, vectorised, not message by message in Python.
"""

from __future__ import annotations

from touchpath.events.channels import channel_case

__all__ = ["EVENT_COLUMNS", "NORMALISE_SQL", "insert_events_sql"]

EVENT_COLUMNS = (
    "seq", "message_id", "source", "type", "event", "anonymous_id", "user_id", "group_id",
    "previous_id", "timestamp", "original_timestamp", "sent_at", "received_at", "channel",
    "context", "properties", "traits",
)  # fmt: skip

_UTC = "AT TIME ZONE 'UTC'"

NORMALISE_SQL = f"""
WITH s AS (
    SELECT ord, source, received_at, message_id, type, reason, batch_sent_at, raw::JSON AS j
    FROM staged
), x AS (
    SELECT ord, source, received_at, message_id, type, reason,
        CASE WHEN type = 'track' THEN json_extract_string(j, '$.event')
             WHEN type IN ('page', 'screen') THEN json_extract_string(j, '$.name') END AS event,
        nullif(json_extract_string(j, '$.anonymousId'), '') AS anonymous_id,
        nullif(json_extract_string(j, '$.userId'), '') AS user_id,
        nullif(json_extract_string(j, '$.groupId'), '') AS group_id,
        nullif(json_extract_string(j, '$.previousId'), '') AS previous_id,
        coalesce(json_extract_string(j, '$.originalTimestamp'),
                 json_extract_string(j, '$.timestamp')) AS ts_text,
        CASE WHEN json_extract_string(j, '$.originalTimestamp') IS NOT NULL
             THEN 'originalTimestamp' ELSE 'timestamp' END AS ts_field,
        coalesce(json_extract_string(j, '$.sentAt'), batch_sent_at) AS sent_text,
        coalesce(json_extract(j, '$.context'), '{{}}'::JSON) AS context,
        json_extract(j, '$.properties') AS properties,
        coalesce(json_extract(j, '$.traits'), json_extract(j, '$.context.traits')) AS traits
    FROM s
), t AS (
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
    {channel_case().sql("duckdb")} AS channel,
    context, properties, traits,
    CASE WHEN reason IS NOT NULL THEN reason
         WHEN ts_text IS NOT NULL AND original_timestamp IS NULL
              THEN ts_field || ': not an ISO-8601 time: ''' || ts_text || ''''
         WHEN sent_text IS NOT NULL AND sent_at IS NULL
              THEN 'sentAt: not an ISO-8601 time: ''' || sent_text || '''' END AS reason
FROM t
"""


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
