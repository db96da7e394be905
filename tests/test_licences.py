"""AGPL stays out: pm4py (AGPL-3.0-or-later) is a peer that only bench/cli_bpic.py runs, in a
subprocess, from the hand-installed `peers` extra; no runtime, dev or bench dependency names it
and nothing under src/ imports it."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGPL = ("pm4py",)


def test_no_agpl_package_is_a_runtime_test_or_bench_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    for where, deps in [("dependencies", project["dependencies"]),
                        *((k, v) for k, v in extras.items() if k != "peers")]:  # fmt: skip
        named = [d for d in deps if d.split(">")[0].split("=")[0].strip().lower() in AGPL]
        assert not named, f"{where}: {named} is AGPL"
    assert any(d.startswith("pm4py") for d in extras["peers"])  # the only place it is named


def test_nothing_under_src_imports_an_agpl_package() -> None:
    found = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in AGPL]
    assert not found
