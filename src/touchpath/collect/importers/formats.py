"""Reading an import file into a scratch DuckDB table `src`, whatever its format.

CSV is read as all-VARCHAR with its rejects table (so a malformed record is reported with its
line, never dropped), Parquet and JSONL directly, XES streamed through `xes.read_xes` into
Arrow. Every row of `src` carries its line number (`LINE`: CSV the record's line, the header
being line 1; JSONL the line; Parquet the row number + 1; XES the event's position). The
`ScratchTable` says how to read each column as text or as a value, and the SQL helpers here
quote a user's column names as identifiers, never pasting them into text.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from touchpath.collect.xes import LINE, read_xes
from touchpath.errors import ImportFailed

__all__ = [
    "FORMATS",
    "LINE",
    "Format",
    "ScratchTable",
    "blank_to_null",
    "columns",
    "detect_format",
    "file_digest",
    "fn",
    "is_segment",
    "load",
    "quoted",
    "source_name_for",
    "sql_text",
    "string",
]

Format = Literal["csv", "jsonl", "parquet", "xes"]
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet", "xes")

_SUFFIXES: dict[str, Format] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
    ".xes": "xes",
}  # fmt: skip


def detect_format(path: Path) -> Format:
    """The format of a file from its name: `.csv(.gz)`, `.jsonl/.json(.gz)`, `.parquet`, `.xes(.gz)`.

    >>> detect_format(Path("bpic2012_events.csv.gz"))
    'csv'
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise ImportFailed(
        f"{path.name}: unknown file type; give a format (one of {', '.join(FORMATS)}) or name "
        "the file .csv, .jsonl, .parquet or .xes (optionally .gz)"
    )


def source_name_for(path: Path) -> str:
    """The default source of a file: `import:<name without its suffixes>`.

    >>> source_name_for(Path("data/online_retail.csv.gz"))
    'import:online_retail'
    """
    name = path.name
    for _ in range(3):
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem or ("." + ext.lower()) not in (*_SUFFIXES, ".gz", ".gzip"):
            break
        name = stem
    return f"import:{name}"


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes: the same content always gives the same messageIds."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------- SQL helpers
def quoted(name: str) -> exp.Column:
    """The column `name` of a file, quoted as an identifier."""
    return exp.column(exp.to_identifier(name, quoted=True))


def string(value: str) -> exp.Literal:
    """A string literal."""
    return exp.Literal.string(value)


def sql_text(e: exp.Expr) -> str:
    """`e` as DuckDB SQL (the scratch database is DuckDB's)."""
    return e.sql("duckdb")


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    """A call of DuckDB's function `name`."""
    return exp.Anonymous(this=name, expressions=list(args))


def blank_to_null(e: exp.Expr) -> exp.Expr:
    """NULL for an empty or blank text."""
    return exp.Nullif(this=exp.Trim(this=e), expression=string(""))


@dataclass
class ScratchTable:
    """The scratch table `src` of one file: its columns and how to read them as text/values."""

    columns: list[str]
    types: dict[str, str]
    jsonl: bool = False

    def text(self, name: str) -> exp.Expr:
        if self.jsonl:
            return fn("json_extract_string", exp.column("j"), string(_json_path(name)))
        if self.types[name] == "VARCHAR":
            return quoted(name)
        return exp.cast(quoted(name), "VARCHAR")

    def value(self, name: str, numeric: str | None) -> exp.Expr:
        if self.jsonl:
            return fn("json_extract", exp.column("j"), string(_json_path(name)))
        if numeric:
            return exp.TryCast(this=quoted(name), to=exp.DataType.build(numeric))
        return quoted(name)

    def payload(self, alias: str) -> exp.Expr:
        """The whole row of `src AS <alias>` as JSON text, for the rejected table."""
        if self.jsonl:
            return exp.column("raw", table=alias)
        pairs: list[exp.Expr] = []
        for c in self.columns:
            pairs += [string(c), exp.column(exp.to_identifier(c, quoted=True), table=alias)]
        return exp.cast(fn("json_object", *pairs), "VARCHAR")


def _json_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------------------- reading
def load(con: duckdb.DuckDBPyConnection, path: Path, kind: Format) -> None:
    """Read the file at `path` as `kind` into the table `src` of the scratch database `con`."""
    readers = {"csv": _load_csv, "parquet": _load_parquet, "jsonl": _load_jsonl, "xes": _load_xes}
    readers[kind](con, path)


def _open_text(path: Path) -> Any:
    if path.suffix.lower() in (".gz", ".gzip"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    read = fn(
        "read_csv",
        string(str(path)),
        exp.EQ(this=exp.column("all_varchar"), expression=exp.true()),
        exp.EQ(this=exp.column("header"), expression=exp.true()),
        exp.EQ(this=exp.column("store_rejects"), expression=exp.true()),
        exp.EQ(this=exp.column("rejects_table"), expression=string("csv_rejects")),
        exp.EQ(this=exp.column("rejects_scan"), expression=string("csv_scan")),
    )
    try:
        con.execute(f"CREATE TABLE raw AS SELECT * FROM {sql_text(read)}")
    except duckdb.Error as exc:
        raise ImportFailed(f"{path.name}: not a readable CSV file: {exc}") from exc
    # DuckDB numbers rejected records as lines (header = 1). Good rows keep file order; the
    # line of the k-th good row is k + 1 + the rejected lines before it.
    con.execute(
        """
        CREATE TABLE bad_lines AS
        SELECT line::BIGINT AS line, any_value(error_type)::VARCHAR AS error_type,
               string_agg(DISTINCT error_message, '; ') AS message,
               any_value(csv_line) AS payload
        FROM csv_rejects GROUP BY line;
        CREATE TABLE bad_steps AS
        SELECT line - 2 - (row_number() OVER (ORDER BY line) - 1) AS good_before,
               row_number() OVER (ORDER BY line) AS n
        FROM bad_lines;
        """
    )
    if not con.execute("SELECT count(*) FROM bad_lines").fetchall()[0][0]:
        con.execute(f"CREATE VIEW src AS SELECT *, (rowid + 2)::BIGINT AS {LINE} FROM raw")
        return
    con.execute(
        f"""
        CREATE TABLE src AS
        SELECT r.* EXCLUDE (k), (r.k + 1 + coalesce(b.n, 0))::BIGINT AS {LINE}
        FROM (SELECT *, rowid + 1 AS k FROM raw) r
        ASOF LEFT JOIN (SELECT good_before, max(n) AS n FROM bad_steps GROUP BY good_before) b
            ON r.k > b.good_before;
        DROP TABLE raw;
        """
    )


def _load_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    read = fn(
        "read_parquet",
        string(str(path)),
        exp.EQ(this=exp.column("file_row_number"), expression=exp.true()),
    )
    try:
        con.execute(
            f"CREATE TABLE src AS SELECT * EXCLUDE (file_row_number), "
            f"(file_row_number + 1)::BIGINT AS {LINE} FROM {sql_text(read)}"
        )
    except duckdb.Error as exc:
        raise ImportFailed(f"{path.name}: not a readable Parquet file: {exc}") from exc


def _jsonl_lines(path: Path) -> pa.Table:
    """The non-blank lines of a JSONL file with their line numbers (whole-buffer splitting,
    numbering, trimming and filtering as Arrow array operations, not line by line)."""
    with _open_text(path) as f:
        data: bytes = f.read()
    lines = data.split(b"\n")
    try:
        text = pa.array(lines, pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:  # not UTF-8 somewhere: replace the bad bytes line by line
        text = pa.array([t.decode("utf-8", errors="replace") for t in lines], pa.string())
    text = pc.utf8_trim(text, characters=" \t\r\n\x0b\x0c")  # what bytes.strip() strips
    kept = pc.greater(pc.binary_length(text), 0)
    numbers = pa.array(np.arange(1, len(lines) + 1, dtype=np.int64))
    return pa.table({LINE: numbers.filter(kept), "raw": text.filter(kept)})


def _load_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.register("jsonl_lines", _jsonl_lines(path))
    con.execute(
        f"""
        CREATE TABLE src AS
        SELECT {LINE}, raw,
            CASE WHEN json_valid(raw) AND json_type(raw::JSON) = 'OBJECT' THEN raw::JSON END AS j
        FROM jsonl_lines ORDER BY {LINE}
        """
    )
    con.unregister("jsonl_lines")


def _load_xes(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    batches = list(read_xes(path))
    if not batches:
        raise ImportFailed(f"{path.name}: the XES log has no events")
    table = pa.concat_tables(batches, promote_options="default")
    con.register("xes_rows", table)
    con.execute(f"CREATE TABLE src AS SELECT * FROM xes_rows ORDER BY {LINE}")
    con.unregister("xes_rows")


def is_segment(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the first JSON objects of a JSONL file look like Segment messages."""
    row = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (json_extract_string(j, '$.type')
            IN ('track', 'identify', 'page', 'screen', 'group', 'alias'))
        FROM (SELECT j FROM src WHERE j IS NOT NULL ORDER BY {LINE} LIMIT 100)
        """
    ).fetchall()[0]
    return bool(row[0] and row[0] == row[1])


def columns(con: duckdb.DuckDBPyConnection, jsonl: bool) -> ScratchTable:
    if jsonl:
        keys = con.execute(
            f"SELECT k FROM (SELECT unnest(json_keys(j)) AS k, {LINE} AS l FROM src "
            "WHERE j IS NOT NULL) GROUP BY k ORDER BY min(l), k"
        ).fetchall()
        names = [k for (k,) in keys]
        return ScratchTable(names, dict.fromkeys(names, "JSON"), jsonl=True)
    desc = con.execute("DESCRIBE src").fetchall()
    types = {name: str(kind) for name, kind, *_ in desc if name != LINE}
    return ScratchTable(list(types), types)
