"""The channel rule table: every event gets one channel, derived once at ingest.

Rules are tried top to bottom and the first that matches wins, like a default channel grouping.
Each rule tests one of the fields extracted from the message (see `FIELDS`). The table is data:
`channel_case()` compiles it to one SQL CASE expression that the store runs set-wise over a
whole batch, and docs/collect.md prints it.

>>> from touchpath.events.channels import RULES
>>> RULES[0].channel
'<explicit>'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import sqlglot
from sqlglot import exp

__all__ = ["CHANNELS", "FIELDS", "RULES", "FieldSQL", "Rule", "channel_case", "field_expr"]

CHANNELS: tuple[str, ...] = (
    "paid_search",
    "paid_social",
    "display",
    "social",
    "email",
    "sms",
    "push",
    "organic_search",
    "referral",
    "app",
    "store",
    "support",
    "delivery",
    "direct",
)
"""Every channel a rule can give, in the order reports list them."""

FIELDS: dict[str, str] = {
    "prop_channel": "lower(json_extract_string(properties, '$.channel'))",
    "utm_source": "lower(json_extract_string(context, '$.campaign.source'))",
    "utm_medium": "lower(json_extract_string(context, '$.campaign.medium'))",
    "referrer_host": (
        "nullif(lower(regexp_extract(coalesce(json_extract_string(context, '$.page.referrer'), "
        "json_extract_string(properties, '$.referrer')), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?([^/:?#]+)', 1)), '')"
    ),
    "page_host": (
        "nullif(lower(regexp_extract(coalesce(json_extract_string(context, '$.page.url'), "
        "json_extract_string(properties, '$.url')), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?([^/:?#]+)', 1)), '')"
    ),
    "library": "lower(json_extract_string(context, '$.library.name'))",
    "device_type": "lower(json_extract_string(context, '$.device.type'))",
    "has_app": "json_extract_string(context, '$.app') IS NOT NULL",
    "event": "event",
}
"""SQL over the event-log columns `context`, `properties` (JSON) and `event` for each field."""

SOCIAL_SOURCES = (
    "facebook", "fb", "instagram", "ig", "meta", "twitter", "x", "linkedin", "pinterest",
    "tiktok", "snapchat", "reddit", "youtube",
)  # fmt: skip
SOCIAL_HOSTS = (
    r"(^|\.)(facebook|instagram|twitter|x|linkedin|pinterest|tiktok|snapchat|reddit|youtube)\.com$"
    r"|(^|\.)t\.co$|(^|\.)lnkd\.in$"
)
SEARCH_HOSTS = r"(^|\.)(google|bing|duckduckgo|yahoo|baidu|yandex|ecosia|qwant|startpage)\.[a-z.]+$"
APP_LIBRARIES = (
    "analytics-ios", "analytics-android", "analytics-swift", "analytics-kotlin",
    "analytics-react-native", "analytics-flutter", "analytics-xamarin",
)  # fmt: skip
PAID_MEDIA = ("cpc", "ppc", "paid", "paidsearch", "paid_search", "paid-search", "sem", "cpa")

Op = Literal["in", "regex", "true", "not_null", "prefix"]
FieldSQL = Callable[[str], exp.Expr]


def field_expr(name: str) -> exp.Expr:
    """The SQL of field `name` over the event-log columns, from `FIELDS`."""
    return sqlglot.parse_one(FIELDS[name], read="duckdb")


@dataclass(frozen=True)
class Rule:
    """When `field` satisfies `op` with `values`, the event's channel is `channel`."""

    channel: str
    field: str
    op: Op
    values: tuple[str, ...] = ()
    also: Rule | None = None  # a second condition that must hold too
    note: str = ""

    def condition(self, field: FieldSQL | None = None) -> exp.Expr:
        """The rule's test; `field(name)` gives each field's SQL (default: `FIELDS`)."""
        column = (field or field_expr)(self.field)
        cond: exp.Expr
        if self.op == "in":
            cond = exp.In(this=column, expressions=[exp.Literal.string(v) for v in self.values])
        elif self.op == "regex":
            cond = exp.RegexpLike(this=column, expression=exp.Literal.string(self.values[0]))
        elif self.op == "prefix":
            cond = exp.or_(
                *[
                    exp.StartsWith(this=column, expression=exp.Literal.string(v))
                    for v in self.values
                ]
            )
        elif self.op == "not_null":
            cond = exp.Not(this=exp.Is(this=column, expression=exp.Null()))
        else:
            cond = column
        if self.also is not None:
            cond = exp.and_(cond, self.also.condition(field))
        return exp.paren(cond, copy=False)


RULES: tuple[Rule, ...] = (
    Rule("<explicit>", "prop_channel", "in", CHANNELS, note="properties.channel names a channel"),
    Rule(
        "paid_social",
        "utm_medium",
        "in",
        (*PAID_MEDIA, "paid_social", "paidsocial", "social_paid", "social-paid"),
        also=Rule("", "utm_source", "in", SOCIAL_SOURCES),
        note="paid medium from a social source",
    ),
    Rule(
        "paid_social",
        "utm_medium",
        "in",
        ("paid_social", "paidsocial", "social_paid", "social-paid"),
    ),
    Rule("paid_search", "utm_medium", "in", PAID_MEDIA),
    Rule("display", "utm_medium", "in", ("display", "banner", "cpm", "programmatic")),
    Rule("email", "utm_medium", "in", ("email", "e-mail", "e_mail", "newsletter")),
    Rule("sms", "utm_medium", "in", ("sms", "text", "mms")),
    Rule(
        "push",
        "utm_medium",
        "in",
        ("push", "push_notification", "push-notification", "notification"),
    ),
    Rule(
        "social",
        "utm_medium",
        "in",
        ("social", "social-network", "social-media", "sm", "social_network"),
    ),
    Rule("social", "utm_source", "in", SOCIAL_SOURCES, note="any campaign from a social source"),
    Rule("organic_search", "utm_medium", "in", ("organic", "seo")),
    Rule("referral", "utm_medium", "in", ("referral", "affiliate", "partner")),
    Rule(
        "email", "event", "prefix", ("Email ",), note="email events from an ESP (Email Opened, ...)"
    ),
    Rule("sms", "event", "prefix", ("SMS ",)),
    Rule("push", "event", "prefix", ("Push ",)),
    Rule("support", "event", "prefix", ("Ticket ", "Chat ", "Call "), note="help-desk events"),
    Rule("store", "library", "in", ("pos", "pos-terminal", "store")),
    Rule("app", "library", "in", APP_LIBRARIES),
    Rule("app", "has_app", "true", note="context.app is present"),
    Rule("app", "device_type", "in", ("ios", "android", "ipados")),
    Rule("organic_search", "referrer_host", "regex", (SEARCH_HOSTS,)),
    Rule("social", "referrer_host", "regex", (SOCIAL_HOSTS,)),
    Rule(
        "referral", "referrer_host", "not_null", note="any other referrer but the page's own host"
    ),
    Rule("direct", "event", "true", note="everything else"),
)
"""The rule table, first match wins. `<explicit>` takes the value of properties.channel."""


def channel_case(field: FieldSQL | None = None) -> exp.Expr:
    """One SQL CASE that gives the channel.

    By default each field is computed inline from `context`, `properties` and `event`. A caller
    that computes the fields once as columns (the ingest path does, since the referrer host is
    tested by several rules) passes `field=lambda name: exp.column(...)`.
    """
    field = field or field_expr
    case = exp.Case()
    for rule in RULES:
        if rule.channel == "<explicit>":
            value: exp.Expr = field("prop_channel")
        else:
            value = exp.Literal.string(rule.channel)
        cond: exp.Expr = rule.condition(field)
        if rule.field == "referrer_host":
            # A referrer on the page's own host is navigation within the site, not a source.
            same_host = exp.func(
                "coalesce",
                exp.EQ(this=field("referrer_host"), expression=field("page_host")),
                exp.false(),
            )
            cond = exp.and_(cond, exp.Not(this=same_host))
        if rule.op == "true" and rule.channel == "direct":
            return case.else_(value)
        case = case.when(cond, value)
    return case.else_(exp.Literal.string("direct"))
