"""The channel rule table, one case per rule, through the real ingest path; and its doc table.

Run `python tests/test_channels.py` to rewrite the table in docs/collect.md from `RULES`.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from touchpath.events.channels import FIELDS, RULES, Rule
from touchpath.events.message import stage_messages
from touchpath.store import Store

DOC = Path(__file__).resolve().parents[1] / "docs" / "collect.md"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def _campaign(source: str, medium: str) -> dict[str, Any]:
    return {"context": {"campaign": {"source": source, "medium": medium, "name": "n"}}}


def _referred(referrer: str, url: str = "https://shop.test/p") -> dict[str, Any]:
    return {"context": {"page": {"referrer": referrer, "url": url}}}


# rule index -> (message fields, expected channel). Each case must reach its rule and no earlier.
CASES: dict[int, tuple[dict[str, Any], str]] = {
    0: ({**_campaign("google", "cpc"), "properties": {"channel": "store"}}, "store"),
    1: (_campaign("Facebook", "CPC"), "paid_social"),
    2: (_campaign("acme", "paid_social"), "paid_social"),
    3: (_campaign("google", "cpc"), "paid_search"),
    4: (_campaign("dv360", "display"), "display"),
    5: (_campaign("esp", "newsletter"), "email"),
    6: (_campaign("twilio", "sms"), "sms"),
    7: (_campaign("braze", "push"), "push"),
    8: (_campaign("forum", "social-media"), "social"),
    9: (_campaign("instagram", "bio"), "social"),
    10: (_campaign("google", "organic"), "organic_search"),
    11: (_campaign("partnerco", "affiliate"), "referral"),
    12: ({"event": "Email Opened"}, "email"),
    13: ({"event": "SMS Delivered"}, "sms"),
    14: ({"event": "Push Opened"}, "push"),
    15: ({"event": "Ticket Created"}, "support"),
    16: ({"context": {"library": {"name": "pos"}}}, "store"),
    17: ({"context": {"library": {"name": "analytics-ios"}}}, "app"),
    18: ({"context": {"app": {"name": "Shop", "version": "1.2"}}}, "app"),
    19: ({"context": {"device": {"type": "Android"}}}, "app"),
    20: (_referred("https://www.google.co.uk/search?q=shoes"), "organic_search"),
    21: (_referred("https://t.co/abc"), "social"),
    22: (_referred("https://blog.example.org/post"), "referral"),
    23: ({}, "direct"),
}

# Cases that must fall through the rules they resemble.
NEGATIVE: list[tuple[str, dict[str, Any], str]] = [
    ("referrer on the page's own host", _referred("https://shop.test/", "https://shop.test/p"), "direct"),
    ("properties.channel that is no channel", {"properties": {"channel": "carrier pigeon"}}, "direct"),
    ("paid medium from a search engine", _campaign("bing", "ppc"), "paid_search"),
    ("utm beats the event name", {**_campaign("esp", "sms"), "event": "Email Opened"}, "sms"),
    ("support beats the app", {"event": "Chat Started", "context": {"app": {"name": "x"}}}, "support"),
    ("referrer without a scheme", _referred("news.ycombinator.com"), "referral"),
]  # fmt: skip


def _message(i: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "track", "event": "Product Viewed", "userId": "u", "messageId": i, **fields}


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == list(range(len(RULES))), "add a case for each rule of RULES"
    for i, (_, expected) in CASES.items():
        if RULES[i].channel != "<explicit>":
            assert expected == RULES[i].channel, f"case {i} expects another rule's channel"


def _ingest(store: Store, messages: list[dict[str, Any]]) -> dict[str, str]:
    import orjson

    staged = stage_messages(
        [orjson.dumps(m) for m in messages], source="src", received_at=datetime(2026, 1, 1)
    )
    result = store.ingest(staged).result(30)
    assert result.accepted == len(messages)
    return dict(store.query("SELECT message_id, channel FROM events"))


def test_channel_rules(store: Store) -> None:
    messages = [_message(f"rule{i}", fields) for i, (fields, _) in CASES.items()]
    messages += [_message(f"neg{i}", fields) for i, (_, fields, _) in enumerate(NEGATIVE)]
    got = _ingest(store, messages)
    for i, (_, expected) in CASES.items():
        assert got[f"rule{i}"] == expected, f"rule {i} ({RULES[i].channel}, {RULES[i].field})"
    for i, (name, _, expected) in enumerate(NEGATIVE):
        assert got[f"neg{i}"] == expected, name


@pytest.mark.parametrize("kind", ["page", "screen", "identify"])
def test_rules_apply_to_every_message_type(store: Store, kind: str) -> None:
    msg = {**_message("m", _campaign("google", "cpc")), "type": kind, "name": "Home"}
    assert _ingest(store, [msg]) == {"m": "paid_search"}


# ----------------------------------------------------------------------------- the doc table
def _describe(rule: Rule) -> str:
    values = ", ".join(f"`{v}`" for v in rule.values)
    text = {
        "in": f"`{rule.field}` in {values}",
        "prefix": f"`{rule.field}` starts with {values}",
        "regex": f"`{rule.field}` matches {values}",
        "not_null": f"`{rule.field}` is present",
        "true": f"`{rule.field}`" if rule.field != "event" else "always",
    }[rule.op]
    if rule.also is not None:
        text += " and " + _describe(rule.also)
    return text.replace("|", "\\|")


def rules_table() -> str:
    """The Markdown table of RULES, as docs/collect.md must print it."""
    lines = ["| # | channel | when | note |", "|---|---|---|---|"]
    for i, rule in enumerate(RULES):
        lines.append(f"| {i} | `{rule.channel}` | {_describe(rule)} | {rule.note} |")
    lines += ["", "| field | taken from (DuckDB SQL over the message) |", "|---|---|"]
    for name, sql in FIELDS.items():
        escaped = sql.replace("|", "\\|")
        lines.append(f"| `{name}` | `{escaped}` |")
    return "\n".join(lines)


def test_doc_table_matches_rules() -> None:
    doc = DOC.read_text()
    found = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), doc, re.S)
    assert found, f"{DOC}: no {START} ... {END} block"
    assert found.group(1) == rules_table(), (
        f"{DOC}: the channel table differs from events.channels.RULES; "
        "run `python tests/test_channels.py` to regenerate it"
    )


if __name__ == "__main__":
    text = DOC.read_text()
    new = re.sub(
        re.escape(START) + r".*?" + re.escape(END),
        lambda _: f"{START}\n{rules_table()}\n{END}",
        text,
        flags=re.S,
    )
    DOC.write_text(new)
    sys.stdout.write(f"wrote {DOC}\n")
