"""The public Python API is explicit: every package says what it exports (`__all__`), exports
only what it says, and the analysis runtime's names are pinned (httpx's test, per package)."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import touchpath

PACKAGES = sorted(
    m.name
    for m in pkgutil.walk_packages(touchpath.__path__, "touchpath.")
    if m.ispkg and ".ui" not in m.name
)


@pytest.mark.parametrize("name", ["touchpath", *PACKAGES])
def test_every_package_exports_what_it_says(name: str) -> None:
    package = importlib.import_module(name)
    exported = getattr(package, "__all__", None)
    assert exported is not None, f"{name}: no __all__"
    assert len(set(exported)) == len(exported), f"{name}: __all__ names something twice"
    # Every public class and function of the package (defined in it or re-exported from its
    # modules) is in __all__; what __all__ names exists.
    public = {
        member
        for member, value in vars(package).items()
        if not member.startswith("_")
        and isinstance(value, type | types.FunctionType)
        and getattr(value, "__module__", "").startswith(name)
    }
    missing = public - set(exported)
    assert not missing, f"{name}: public but not in __all__: {sorted(missing)}"
    for member in exported:
        assert hasattr(package, member), f"{name}.__all__ names {member!r}, which it lacks"


def test_the_analysis_runtime_is_pinned() -> None:
    from touchpath.analytics import api, registry

    assert registry.__all__ == [
        "KINDS", "Analysis", "Read", "get", "kinds", "parse", "results", "run", "specs",
    ]  # fmt: skip
    assert api.__all__ == [
        "attribution", "conformance", "discover_dfg", "discover_stage_flow", "discover_variants",
        "feedback", "funnel", "funnel_spec", "optimize", "parse_spec", "paths", "paths_spec",
        "retention", "retention_spec", "run", "save_dropped",
    ]  # fmt: skip
    assert list(registry.kinds())[:8] == [
        "funnel", "paths", "retention", "dfg", "variants", "conformance", "attribution", "feedback",
    ]  # fmt: skip
