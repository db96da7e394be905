"""The journey map document: validation errors with paths, YAML round trip, the published schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from touchpath.errors import SpecError
from touchpath.maps.document import (
    DEFAULT_STAGES,
    JourneyMap,
    dump_map,
    load_map,
    map_schema,
    schema_text,
)
from touchpath.maps.library import EXAMPLES, example, get_map, list_maps, save_map
from touchpath.store import Store

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "name: m\nstages: [{name: a}, {name: b}, {name: c, touchpoints: [{name: t, match: {}}]}]",
            "stages[2].touchpoints[0].match.event: required",
        ),
        ("stages: []", "name: required"),
        ("name: m\nstages: []", "stages: List should have at least 1 item"),
        ("name: m\ntype: workshop", "type: Input should be 'current_state'"),
        ("name: m\ncolour: red", "colour: unknown field"),
        ("name: m\nversion: 2", "version: Input should be 1"),
        ("name: m\nstages: [{name: a}, {name: a}]", "stages[1].name: duplicate stage 'a'"),
        (
            "name: m\nstages: [{name: a, touchpoints: [{name: t, match: {event: E}}]},"
            " {name: b, touchpoints: [{name: t, match: {event: F}}]}]",
            "stages[1].touchpoints[0].name: duplicate touchpoint 't'",
        ),
        (
            "name: m\nstages: [{name: a, touchpoints: [{name: t, match: {event: E}, emotion: 5}]}]",
            "stages[0].touchpoints[0].emotion: Input should be less than or equal to 2",
        ),
        (
            "name: m\nstages: [{name: a, touchpoints: [{name: t, match: {event: E,"
            " where: [{property: p, op: like}]}}]}]",
            "stages[0].touchpoints[0].match.where[0].op:",
        ),
        ("name: m\npersona: {audience: vip}", "persona.name: required"),
        ("name: [", "line 1, column 8: not valid YAML"),
        ("- a list", "(document): must be a mapping"),
        ("name: 'has space'", "name: String should match pattern"),
    ],
)
def test_errors_name_the_path_and_the_problem(text: str, error: str) -> None:
    with pytest.raises(SpecError) as info:
        load_map(text)
    assert error in str(info.value)


def test_defaults_are_the_six_classic_stages() -> None:
    doc = load_map("name: minimal")
    assert tuple(s.name for s in doc.stages) == DEFAULT_STAGES
    assert doc.type == "current_state" and doc.version == 1
    assert doc.persona.audience is None


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_examples_load_and_round_trip(path: Path) -> None:
    doc = example(path.stem)
    assert doc.name == path.stem
    assert doc.touchpoints(), "an example map has touchpoints"
    again = load_map(dump_map(doc))
    assert again == doc


def test_touchpoint_match_compiles_to_sql() -> None:
    doc = example("demo-first-purchase")
    tp = next(t for _, t in doc.touchpoints() if t.name == "Checkout (web)")
    # a column condition, so funnels and the DFG can read the sorted journey copy
    assert tp.match.sql() == "event = 'Checkout Started' AND channel <> 'app'"
    lib = load_map(
        "name: x\nstages: [{name: s, touchpoints: [{name: t, match: {event: Checkout Started, "
        "where: [{property: context.library.name, value: analytics.js}]}}]}]"
    )
    assert lib.stages[0].touchpoints[0].match.sql() == (
        "event = 'Checkout Started' AND "
        "JSON_EXTRACT_STRING(context, '$.\"library\".\"name\"') = 'analytics.js'"
    )


def test_published_schema_matches_the_model() -> None:
    published = REPO / "schemas" / "journey-map.schema.json"
    assert published.read_text() == schema_text(), (
        "schemas/journey-map.schema.json drifted from the model; regenerate it with "
        "`touchpath map schema --out schemas/journey-map.schema.json`"
    )
    schema = json.loads(published.read_text())
    assert schema["properties"]["type"]["enum"] == [
        "current_state", "future_state", "day_in_the_life", "blueprint"
    ]  # fmt: skip
    assert "name" in schema["required"]
    assert map_schema()["$defs"]["Touchpoint"]["required"] == ["name", "match"]


def test_examples_validate_against_the_published_schema() -> None:
    import jsonschema

    schema = map_schema()
    for path in EXAMPLES.glob("*.yaml"):
        jsonschema.validate(example(path.stem).model_dump(mode="json"), schema)


def test_saved_maps_are_versioned_and_shadow_examples(store: Store) -> None:
    doc = example("demo-support")
    assert save_map(store, doc) == 1
    edited = JourneyMap.model_validate({**doc.model_dump(), "title": "Help, edited"})
    assert save_map(store, edited) == 2
    latest, version = get_map(store, "demo-support")
    assert (latest.title, version) == ("Help, edited", 2)
    first, _ = get_map(store, "demo-support", version=1)
    assert first.title == doc.title
    entries = {e.name: e for e in list_maps(store)}
    assert entries["demo-support"].origin == "saved" and entries["demo-support"].version == 2
    assert entries["demo-first-purchase"].origin == "example"
