"""Schemathesis against the server's own OpenAPI document, with every check, as the owner: no
input gets a 500, every status a route answers is declared, every answer matches its schema.

Deterministic and quick: hypothesis derandomised with a fixed seed, a few examples per operation
and mode (TOUCHPATH_FUZZ_EXAMPLES for more; negative ones where the operation has an input to get
wrong), one real server on 127.0.0.1 for the whole module. Routes
that would send to an address a fuzzed body names (configuring a destination) are left out:
this machine must send nothing outside.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from touchpath import access
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving

EXAMPLES = int(os.environ.get("TOUCHPATH_FUZZ_EXAMPLES", "2"))
OUTBOUND = (
    "PUT /api/destinations/{name}",  # a fuzzed webhook URL would be a real send
    "POST /api/destinations",
)


# Every check, as configured by default, with one change: a request valid by the schema may
# still get a 400 (422 where no spec is read) when what it names is not in the store (an event
# never seen, with the closest names), two fields disagree (`property` required for `op: sum`),
# a union's member is told by its `kind`, or a time matches the pattern but is no date
# (month 13): rules a JSON Schema cannot state. 5xx and undeclared statuses still fail.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A small store on a real server: (url, an owner token)."""
    db = Path(tmp_path_factory.mktemp("fuzz")) / "touchpath.duckdb"
    settings = Settings(db=db, port=0)
    with Store(db, settings) as store:
        key = store.create_source("web").write_key
        token = access.create_token(store, "owner", "fuzz")[1]
        with serving(settings, store) as url:
            batch = [
                {"type": "track", "event": e, "userId": f"u{i % 3}", "properties": {"plan": "pro"}}
                for i, e in enumerate(["Signed Up", "Viewed", "Bought"] * 3)
            ]
            r = httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=(key, ""), timeout=60)
            assert r.status_code == 200, r.text
            yield url, token


def _operations(url: str) -> list[schemathesis.APIOperation]:
    document = httpx.get(f"{url}/openapi.json", timeout=120).json()
    schema = schemathesis.openapi.from_dict(document, config=CONFIG).exclude(
        method_regex="^(PUT|POST)$", path_regex=r"^/api/destinations(/\{name\})?$"
    )
    return [result.ok() for result in schema.get_all_operations()]


def _negatable(op: schemathesis.APIOperation) -> bool:
    """Whether `op` has anything a request could get wrong by its schema: a body, a query, header
    or cookie parameter, or a path parameter constrained beyond "a string". An operation whose
    only inputs are plain string path parameters has no invalid request (any string is one of
    them): its negative strategy could only draw and discard until hypothesis gave up, about 460
    draws each, with no request sent."""
    if list(op.body):
        return True
    for param in op.iter_parameters():
        schema = param.definition.get("schema", {})
        if param.location.value != "path" or schema.get("type") != "string":
            return True
        if set(schema) - {"type", "title", "description"}:
            return True
    return False


def _fuzz(op: schemathesis.APIOperation, mode: GenerationMode, url: str, token: str) -> None:
    """`EXAMPLES` cases of `op` in `mode`, each sent and checked by every check."""

    @given(case=op.as_strategy(generation_mode=mode))
    @seed(20261206)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=url, headers={"Authorization": f"Bearer {token}"})

    run()


def test_no_input_fails_the_server(served: tuple[str, str]) -> None:
    url, token = served
    failures: list[str] = []
    operations = _operations(url)
    assert len(operations) > 100
    for op in operations:
        modes = list(GenerationMode) if _negatable(op) else [GenerationMode.POSITIVE]
        for mode in modes:
            try:
                _fuzz(op, mode, url, token)
            except BaseExceptionGroup as exc:  # every failing operation, not only the first
                failures.append(f"{op.label} ({mode.value}): {exc}")
    assert not failures, f"{len(failures)} failing operations:\n" + "\n\n".join(failures)
