"""`touchpath decisions ...` on a store file: save from YAML, list, show, publish, preview for a
chosen person, numbers; and the mistakes a person typing makes, answered clearly."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from identity_helpers import msg
from touchpath.cli import app
from touchpath.events.message import stage_messages
from touchpath.store import Store
from touchpath.store.store import utcnow
from touchpath.system import Touchpath

SPEC = """
name: banner
description: A banner for people who waited on support
variants:
  none: {}
  sorry: {text: "Sorry, {{ traits.first_name }}: your next delivery is free"}
default: none
holdout: 0.1
rules:
  - name: waited
    when: {kind: trait, trait: waited, op: eq, value: true}
    variant: sorry
goal: {event: Order Completed}
goal_window: 3d
"""


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "t.duckdb"
    with Store(db) as store, Touchpath.open(store=store):
        store.create_source("shop")
        raws = [
            json.dumps(m).encode()
            for m in [
                msg(
                    "identify",
                    0,
                    userId="u1",
                    anonymousId="a1",
                    traits={"first_name": "Ann", "waited": True, "email": "ann@shop.example"},
                ),
                msg("identify", 1, userId="u2", traits={"first_name": "Bo"}),
            ]
        ]
        store.ingest(stage_messages(raws, source="test", received_at=utcnow())).result()
        store.wait_idle()
    return db


def _run(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(app, list(args))
    return out.exit_code, out.output + (str(out.exception) if out.exception else "")


def test_define_publish_preview_and_measure_from_the_cli(tmp_path: Path) -> None:
    db = _store(tmp_path)
    spec = tmp_path / "banner.yaml"
    spec.write_text(SPEC)
    d = ["--db", str(db)]
    code, out = _run("decisions", "save", str(spec), *d)
    assert code == 0 and "saved decision banner version 1" in out, out
    code, out = _run("decisions", "save", str(spec), *d)
    assert "unchanged: decision banner version 1" in out
    code, out = _run("decisions", "publish", "banner", "--source", "shop", *d)
    assert code == 0 and "source shop answers banner version 1" in out, out
    code, out = _run("decisions", "list", "--json", *d)
    listed = json.loads(out)
    assert listed[0]["name"] == "banner" and listed[0]["published"] == "shop v1"
    code, out = _run("decisions", "show", "banner", *d)
    assert "# published on shop: version 1" in out and "goal_window: 259200" in out, out

    code, out = _run("decisions", "preview", "banner", "--as", "email:Ann@Shop.Example",
                     "--json", *d)  # fmt: skip
    ann = json.loads(out)
    assert ann["traits"] == {"first_name": "Ann", "waited": True}
    assert ann["variant"] in ("sorry", "none") and (ann["arm"] == "holdout") == (
        ann["variant"] == "none"
    )
    if ann["arm"] != "holdout":
        assert ann["content"] == {"text": "Sorry, Ann: your next delivery is free"}
    same = json.loads(_run("decisions", "preview", "banner", "--as", "anonymous_id:a1",
                           "--json", *d)[1])  # fmt: skip
    assert (same["arm"], same["content"]) == (ann["arm"], ann["content"])
    code, out = _run("decisions", "preview", "banner", "--as", "user_id:u2", *d)
    assert "rule waited: no" in out and "variant none" in out, out
    code, out = _run("decisions", "preview", "--file", str(spec), "--as", "user_id:nobody", *d)
    assert "nobody yet" in out and "(draft)" in out, out

    code, out = _run("decisions", "results", "banner", *d)
    assert code == 0 and "Order Completed" in out, out
    code, out = _run("decisions", "unpublish", "banner", "--source", "shop", *d)
    assert "no longer answers banner" in out
    code, out = _run("decisions", "delete", "banner", *d)
    assert "deleted decision banner (1 version)" in out


def test_mistakes_get_clear_messages(tmp_path: Path) -> None:
    db = _store(tmp_path)
    d = ["--db", str(db)]
    spec = tmp_path / "banner.yaml"
    spec.write_text(SPEC.replace("variant: sorry", "variant: sory"))
    code, out = _run("decisions", "save", str(spec), *d)
    assert code != 0 and "rules[0].variant: 'sory' is not one of the variants" in out, out
    code, out = _run("decisions", "show", "baner", *d)
    assert "decision 'baner': no such decision" in out, out
    spec.write_text(SPEC)
    _run("decisions", "save", str(spec), *d)
    code, out = _run("decisions", "publish", "banner", "--source", "shopp", *d)
    assert "source 'shopp': no such source" in out, out
    code, out = _run("decisions", "preview", "banner", "--as", "u1", *d)
    assert "is not kind:value" in out, out
    code, out = _run("decisions", "preview", "banner", *d)
    assert "--as: required" in out, out
    code, out = _run("decisions", "preview", "banner", "--as", "user_id:u1", "--context", "{x", *d)
    assert "--context: not JSON" in out, out
    code, out = _run("decisions", "show", "banner", "--version", "7", *d)
    assert "decision 'banner': has no version 7" in out, out
