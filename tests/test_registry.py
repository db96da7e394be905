"""The one analysis runtime: kinds in a registry, one planner, one REST route pattern with every
spec and result in OpenAPI, one error format."""

from __future__ import annotations

import sys
import typing
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from touchpath.analytics import api, journey, registry
from touchpath.analytics.spec import Result, Spec
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app, main
from touchpath.errors import SpecError
from touchpath.store import Store
from touchpath.web import create_app

SHOP = {
    "ann": [
        {"event": "view", "timestamp": "2026-01-05T10:00:00"},
        {"event": "buy", "timestamp": "2026-01-05T10:05:00"},
    ],
    "bob": [{"event": "view", "timestamp": "2026-01-05T11:00:00"}],
}
FUNNEL = {"kind": "funnel", "steps": [{"event": "view"}, {"event": "buy"}]}


@pytest.mark.parametrize("kind", registry.kinds())
def test_every_kind_has_a_typed_spec_and_result(kind: str) -> None:
    analysis = registry.get(kind)
    assert analysis.kind == kind and analysis.summary
    assert issubclass(analysis.spec, Spec) and issubclass(analysis.result, Result)
    for model in (analysis.spec, analysis.result):
        (literal,) = typing.get_args(model.model_fields["kind"].annotation)
        assert literal == kind, model
    assert analysis.spec.model_config.get("frozen")


def test_run_plans_the_source_and_stamps_the_result(store: Store) -> None:
    journeys_for(store, SHOP)
    log = registry.run(store, FUNNEL)
    assert (log.source, log.as_of) == ("log", None)
    journey.optimize(store)
    copy = registry.run(store, FUNNEL)
    assert (copy.source, copy.as_of) == ("copy", None)
    assert copy == log  # the same numbers; where they were read is provenance
    # A step on a property the copy does not hold: the planner reads the log.
    where = {"event": "view", "where": [{"property": "plan", "op": "is_not_set"}]}
    assert registry.run(store, {**FUNNEL, "steps": [where, {"event": "buy"}]}).source == "log"
    assert api.discover_dfg(store).source == "copy"
    # Retention reads the copy too, unless it breaks down (the copy holds no properties).
    assert api.retention(store, {"cohort_event": {"event": "view"}}).source == "copy"
    split = {"cohort_event": {"event": "view"}, "breakdown": {"by": "channel"}}
    assert api.retention(store, split).source == "log"


def test_unknown_kinds_and_bad_specs_say_what_and_where() -> None:
    with pytest.raises(SpecError) as info:
        registry.parse({"kind": "funel"})
    assert info.value.problems[0].code == "unknown_kind"
    assert "did you mean 'funnel'" in str(info.value)
    with pytest.raises(SpecError) as info:
        registry.parse({"steps": [{"event": "a"}, {"event": " "}], "window": "soon"}, "funnel")
    assert [(p.code, p.path) for p in info.value.problems] == [
        ("value_error", "steps[1].event"),
        ("value_error", "window"),
    ]
    with pytest.raises(SpecError, match="kind: 'dfg' in a spec of 'funnel'"):
        registry.parse({"kind": "dfg"}, "funnel")


def test_openapi_types_every_spec_and_result() -> None:
    doc = create_app().openapi()
    schemas = doc["components"]["schemas"]
    for kind in registry.kinds():
        analysis = registry.get(kind)
        post = doc["paths"][f"/api/analyses/{kind}"]["post"]
        body = post["requestBody"]["content"]["application/json"]["schema"]
        assert body["$ref"].rsplit("/", 1)[1].startswith(analysis.spec.__name__)
        answer = post["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["$ref"].rsplit("/", 1)[1].startswith(analysis.result.__name__)
        assert post["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert "ErrorBody" in schemas
    assert {"as_of", "source", "kind"} <= set(schemas["FunnelResult"]["properties"])


def test_rest_runs_any_kind_in_one_error_format(server: Any) -> None:
    journeys_for(server.store, SHOP)
    kinds = httpx.get(f"{server.url}/api/analyses", headers=server.auth, timeout=30).json()
    assert [k["kind"] for k in kinds] == list(registry.kinds())
    r = httpx.post(f"{server.url}/api/analyses/funnel", json=FUNNEL, headers=server.auth)
    assert r.status_code == 200, r.text
    assert [s["count"] for s in r.json()["groups"][0]["steps"]] == [2, 1]
    assert r.json()["source"] == "log"
    bad = httpx.post(
        f"{server.url}/api/analyses/funnel",
        json={"steps": [{"event": "view"}, {"event": ""}], "colour": "red"},
        headers=server.auth,
    )
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "invalid_spec"
    assert {(p["path"], p["code"]) for p in error["problems"]} == {
        ("steps[1].event", "value_error"),
        ("colour", "extra_forbidden"),
    }
    # Any route's request errors answer the same format (422 where no spec is read).
    other = httpx.get(f"{server.url}/api/events", params={"limit": 0}, headers=server.auth)
    assert other.status_code == 422
    assert [p["path"] for p in other.json()["error"]["problems"]] == ["limit"]
    missing = httpx.post(
        f"{server.url}/api/analyses/funnel",
        json={**FUNNEL, "breakdown": {"by": "audience", "audiences": ["vip"]}},
        headers=server.auth,
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["problems"] == [
        {"code": "not_found", "path": "breakdown.audiences[0]", "problem": "no audience 'vip'"}
    ]


def test_cli_prints_the_problems(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store.close()
    argv = ["touchpath", "funnel", "--step", "view", "--window", "soon", "--db", str(store.path)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 2
    printed = " ".join(capsys.readouterr().err.split())
    assert "steps: Tuple should have at least 2 items" in printed
    assert "window: not a duration: 'soon'" in printed
    out = CliRunner().invoke(app, ["dfg", "--coverage", "2", "--db", str(store.path)])
    assert isinstance(out.exception, SpecError)
    assert out.exception.problems[0].path == "coverage"
