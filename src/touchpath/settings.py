"""One settings object, read from the environment (TOUCHPATH_*) and passed everywhere.

`Settings(**values)` takes each field from `values`, else from the environment variable
`TOUCHPATH_<FIELD>` (any case), else its default; other TOUCHPATH_* variables are ignored, an
unknown keyword is an error. The variables' text is validated as the field's type (`"8000"`
as an int, `"false"` as a bool; `allowed_hosts` is comma-separated). This is what
pydantic-settings' `BaseSettings` did with these fields; a plain model reading `os.environ`
does it without importing that package's providers (AWS, Azure, GCP, CLI, dotenv) and asyncio,
about 40 CPU-ms of every command.

>>> import os
>>> os.environ["TOUCHPATH_PORT"] = "9000"
>>> Settings().port, Settings(port=8001).port
(9000, 8001)
>>> del os.environ["TOUCHPATH_PORT"]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Settings"]

_PREFIX = "touchpath_"


class Settings(BaseModel):
    """Configuration for a Touchpath process. Nothing is opened when this is built."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_environment(type(self).model_fields), **values})

    db: Path = Field(default=Path("touchpath.duckdb"), description="DuckDB file of the store.")
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=8000, description="Port the HTTP server binds.")
    collect_port: int | None = Field(
        default=None,
        description=(
            "Serve the tracking API (/v1) alone on this port too, the one to expose to the "
            "internet; the REST API and the web app stay on `port`."
        ),
    )
    collect_host: str = Field(
        default="127.0.0.1",
        description="Address the collector port binds (0.0.0.0 to expose it).",
    )
    allowed_hosts: list[str] = Field(
        default=["127.0.0.1", "localhost", "::1"],
        description=(
            "Host header names the server answers (comma-separated; `*` for any); others get 400, "
            "so DNS rebinding cannot reach a server on 127.0.0.1. The bound `host` is added."
        ),
    )
    dedupe_window_hours: float = Field(
        default=24.0,
        description="Messages repeating a (source, messageId) within this window are dropped.",
    )
    memory_limit_mb: int | None = Field(
        default=2048,
        ge=64,
        description="DuckDB's memory limit (MB) for the store: its cache of the file's blocks "
        "and every query's working memory together; a sort, join or aggregate beyond it spills "
        "to DuckDB's temp directory beside the store (None: DuckDB's default, 80% of RAM, "
        "which it keeps as cache once used: a first start on the 10M demo peaked at 8.8 GB).",
    )
    rebuild_memory_mb: int | None = Field(
        default=1024,
        description="DuckDB's memory limit (MB) while a profiles rebuild runs; beyond it the "
        "rebuild spills to DuckDB's temp directory (None: DuckDB's default, 80% of RAM).",
    )
    writer_queue_max: int = Field(
        default=50_000,
        description="Messages that may wait for the writer; beyond it the collector answers 429.",
    )
    writer_max_batch: int = Field(
        default=20_000, description="Most messages the writer commits in one transaction."
    )
    writer_gather_seconds: float = Field(
        default=0.004,
        description=(
            "Under concurrent load, how long the writer waits for more requests to join a "
            "commit (each commit has a fixed cost); 0 commits whatever is queued at once."
        ),
    )
    listener_delay_seconds: float = Field(
        default=1.0,
        description=(
            "While ingest keeps the writer busy, commit listeners (identity, sentiment) run at "
            "most this long after a commit, over every event committed since they last ran."
        ),
    )
    listener_prompt_seconds: float = Field(
        default=0.2,
        description=(
            "How soon after a commit holding an event a journey enters on or waits for the "
            "prompt listeners (identity, the journeys) run, ahead of the others' round."
        ),
    )
    checkpoint_wal_mb: float = Field(
        default=4.0,
        gt=0,
        description=(
            "While ingest requests come, the writer checkpoints (moves the write-ahead log into "
            "the database file) in a slice of its own, when no request waits, once the log is "
            "this large; DuckDB's own checkpoint, run inside whichever commit crosses its "
            "threshold, is set to 4x this."
        ),
    )
    listener_idle_seconds: float = Field(
        default=0.05,
        description="An idle writer runs the commit listeners after this long without new work.",
    )
    journey_refresh_seconds: float = Field(
        default=30.0,
        description=(
            "How often a server checks the sorted journey copy (docs/funnels.md); a stale copy is "
            "rebuilt once ingest has paused for journey_refresh_idle_seconds. 0 turns it off."
        ),
    )
    journey_refresh_idle_seconds: float = Field(
        default=10.0,
        description="Ingest must have paused this long before the journey copy is rebuilt.",
    )
    journey_max_lag_seconds: float = Field(
        default=0.0,
        ge=0,
        description=(
            "Analyses may read a journey copy built up to this many seconds ago although events "
            "arrived since (their results then say `as_of`, the copy's time, and leave out what "
            "came after); a server also rebuilds a copy older than half this while ingest goes "
            "on. 0: only a copy that matches the log exactly is read."
        ),
    )
    map_refresh_cpu_share: float = Field(
        default=0.1,
        gt=0,
        description=(
            "A server re-binds its cached journey maps as events arrive using at most this "
            "share of one core: after a bind that cost c CPU-s the next starts no sooner than "
            "c / share seconds later (each map at least 10 s apart). Map numbers say what time "
            "they are as of (docs/maps.md)."
        ),
    )
    analytics_kernels: bool = Field(
        default=True,
        description=(
            "Journey analyses over the sorted journey copy run as compiled passes (numba, the "
            "`kernels` extra) where one computes the spec exactly; false: always their SQL."
        ),
    )
    analytics_kernels_warmup: bool = Field(
        default=True,
        description=(
            "A long-running process (serve, demo) loads the kernels in the background as it "
            "starts, so its first analyses need not wait; false: on its first analysis a "
            "kernel could run (the SQL answers meanwhile), and never in a process that runs "
            "none (the test suite's servers)."
        ),
    )
    max_message_bytes: int = Field(default=32 * 1024, description="Largest accepted message.")
    max_future_hours: float = Field(
        default=24.0,
        gt=0,
        description=(
            "An event whose time, once the clock is corrected, lies more than this after its "
            "receipt is rejected with the reason (as is one before 1970)."
        ),
    )
    max_json_depth: int = Field(
        default=64, ge=2, description="Deepest nesting of objects and arrays in a message (400)."
    )
    max_request_bytes: int = Field(default=500 * 1024, description="Largest accepted request body.")
    max_batch_messages: int = Field(default=2_500, description="Most messages in one batch.")
    retry_after_seconds: int = Field(default=2, description="Retry-After sent with a 429.")
    unify: Path | None = Field(
        default=None,
        description="YAML/JSON file of identity rules, computed traits and audiences "
        "(docs/identity.md); the defaults apply when unset.",
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="How long a browser session lasts after signing in."
    )
    login_max_failures_per_account: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins for one email within login_window_seconds before more wait.",
    )
    login_max_failures_per_address: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins from one address within login_window_seconds before more wait.",
    )
    login_window_seconds: float = Field(
        default=900.0, gt=0, description="The sliding window of the sign-in rate limits."
    )
    import_dir: Path | None = Field(
        default=None,
        description=(
            "Folder whose files POST /api/imports/path may import; unset, path imports are off "
            "(uploads still work)."
        ),
    )
    max_upload_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1,
        description="Largest file POST /api/imports accepts (413).",
    )
    max_api_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description="Largest request body of any other /api route (413).",
    )
    # Destinations (docs/destinations.md)
    destinations_key: str | None = Field(
        default=None,
        description="Fernet key that encrypts destination secrets at rest; when unset, the key "
        "is read from (or generated into) destinations_key_file.",
    )
    destinations_key_file: Path | None = Field(
        default=None,
        description="File holding the destinations' secret key (default: the store's path + "
        "'.key'); generated with mode 0600 when missing. Back it up with the store.",
    )
    destinations_allow_hosts: str = Field(
        default="",
        description="Comma-separated host names or addresses that destinations may reach although "
        "they are not public (local receivers in tests and the demo, e.g. '127.0.0.1').",
    )
    destinations_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one delivery (connect, send and answer)."
    )
    destinations_max_attempts: int = Field(
        default=8, ge=1, description="Delivery attempts before a message goes to the dead letters."
    )
    destinations_backoff_seconds: float = Field(
        default=30.0,
        ge=0,
        description="First retry delay; each later one doubles (with jitter) up to the maximum.",
    )
    destinations_backoff_max_seconds: float = Field(
        default=3600.0, ge=0, description="Longest retry delay, Retry-After included."
    )
    outbox_batch: int = Field(
        default=500, ge=1, description="Messages the dispatcher claims from the outbox at once."
    )
    outbox_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A claimed message not finished within this time (its dispatcher died) is "
        "claimed again.",
    )
    outbox_poll_seconds: float = Field(
        default=0.2,
        gt=0,
        description="How often an idle dispatcher looks for due messages no commit announced "
        "(retries coming due); each commit wakes it at once.",
    )
    public_url: str | None = Field(
        default=None,
        description="The address people reach this server at, for tracking pixels, links and "
        "unsubscribe pages in messages (default http://host:port).",
    )

    # The living demo (docs/demo.md, "The living demo")
    demo_live: bool = Field(
        default=True,
        description="`touchpath demo` keeps the business alive after loading its history: people "
        "keep arriving and answer the messages sent to them (`--no-live` turns it off).",
    )
    demo_live_rate: float = Field(
        default=120.0, ge=0, description="New people per simulated hour in the living demo."
    )
    demo_clock_factor: float = Field(
        default=60.0,
        gt=0,
        description="How many times faster than the wall the living demo's clock runs, for the "
        "business, the journeys and the outbox alike (60: an hour a minute).",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [h.strip() for h in value.split(",") if h.strip()]
        return value


def _environment(fields: dict[str, Any]) -> dict[str, str]:
    """The TOUCHPATH_* variables that name one of `fields` (any case), by field name."""
    found: dict[str, str] = {}
    for key, value in os.environ.items():
        name = key.lower()
        if name.startswith(_PREFIX) and name[len(_PREFIX) :] in fields:
            found[name[len(_PREFIX) :]] = value
    return found
