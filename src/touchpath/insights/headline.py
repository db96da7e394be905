"""An insight's result in one line of words, for the CLI's `insights run` and `dashboards show`
(the web app draws the chart instead). It reads the result as JSON (`model_dump(mode="json")`
or the REST API's answer), so a result read here and one read from a server print the same.

>>> headline({"kind": "funnel", "steps": ["A", "B"], "groups": [{"entered": 200,
...     "converted": 50, "conversion": 0.25}]})
'200 entered A, 50 reached B (25.0%)'
>>> headline({"kind": "experiment", "verdict": "winner", "summary": "sms beats holdout."})
'winner: sms beats holdout.'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["headline"]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _funnel(r: Mapping[str, Any]) -> str:
    g = r["groups"][0]
    steps = r["steps"]
    return (
        f"{g['entered']:,} entered {steps[0]}, {g['converted']:,} reached {steps[-1]} "
        f"({_pct(g['conversion'])})"
    )


def _paths(r: Mapping[str, Any]) -> str:
    top = r["top_paths"][0] if r["top_paths"] else None
    common = f"; most common: {' → '.join(top['path'])} ({top['count']:,})" if top else ""
    return f"{r['total']:,} journeys{common}"


def _retention(r: Mapping[str, Any]) -> str:
    curve = r["groups"][0]["curve"] if r["groups"] else []
    back = curve[1] if len(curve) > 1 else None
    people = sum(c["size"] for c in r["cohorts"])
    return (
        f"{people:,} people in {len(r['cohorts'])} cohorts; {_pct(back)} back after 1 {r['period']}"
    )


def _dfg(r: Mapping[str, Any]) -> str:
    line = f"{r['cases']:,} journeys, {len(r['nodes'])} activities, {len(r['edges'])} transitions"
    if not r["edges"]:
        return line
    e = max(r["edges"], key=lambda e: e["frequency"])
    return f"{line}; busiest: {e['source']} → {e['target']} ({e['frequency']:,})"


def _variants(r: Mapping[str, Any]) -> str:
    v = r["variants"][0] if r["variants"] else None
    top = f"; the commonest ({_pct(v['share'])}): {' → '.join(v['steps'])}" if v else ""
    return f"{r['cases']:,} journeys in {r['distinct_variants']:,} variants{top}"


def _conformance(r: Mapping[str, Any]) -> str:
    return f"{_pct(r['share_conforming'])} of {r['cases']:,} journeys follow the stage order"


def _attribution(r: Mapping[str, Any]) -> str:
    model = r["models"][0] if r["models"] else None
    rows = sorted(r["rows"], key=lambda row: -row["credit"].get(model, {}).get("conversions", 0))
    top = (
        f"; first by {model}: {rows[0]['key']} ({_pct(rows[0]['credit'][model]['share'])})"
        if model and rows
        else ""
    )
    return f"{r['conversions']:,} conversions, revenue {r['revenue']:,.2f}{top}"


def _feedback(r: Mapping[str, Any]) -> str:
    o = r["overall"]
    nps = "–" if o["nps"] is None else f"{o['nps']:.0f}"
    sentiment = "–" if o["sentiment_avg"] is None else f"{o['sentiment_avg']:+.2f}"
    return (
        f"NPS {nps} ({o['nps_responses']:,} answers), CSAT {_pct(o['csat'])} "
        f"({o['csat_responses']:,}), sentiment {sentiment} ({o['texts']:,} texts)"
    )


def _experiment(r: Mapping[str, Any]) -> str:
    return f"{r['verdict']}: {r['summary']}"


_BY_KIND: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "funnel": _funnel,
    "paths": _paths,
    "retention": _retention,
    "dfg": _dfg,
    "variants": _variants,
    "conformance": _conformance,
    "attribution": _attribution,
    "feedback": _feedback,
    "experiment": _experiment,
}


def headline(result: Mapping[str, Any]) -> str:
    """The result of any kind in one line (a kind without its own line says only its kind)."""
    line = _BY_KIND.get(str(result.get("kind")))
    return line(result) if line else f"a {result.get('kind')} result (use --json)"
