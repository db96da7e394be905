"""Personalisation through the real server: a page asks POST /v1/decide with its write key, a
server reads profiles with a token, and every answer comes from the read model the commit
listener keeps current (docs/personalize.md)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import Server

from touchpath.personalize import decision_numbers, get_decision, preview_for

HERO: dict[str, Any] = {
    "name": "hero",
    "variants": {
        "generic": {"title": "New season gear"},
        "vip": {"title": "Welcome back, {{ traits.first_name }}", "tier": "{{ traits.plan }}"},
        "support": {"banner": "Sorry for the wait: priority support is yours"},
    },
    "default": "generic",
    "rules": [
        {
            "name": "waited",
            "when": {"kind": "audience", "audience": "waited"},
            "variant": "support",
        },
        {
            "name": "vip",
            "when": {"kind": "trait", "trait": "plan", "op": "eq", "value": "vip"},
            "variant": "vip",
        },
    ],
}
WAITED = {
    "condition": {
        "kind": "performed",
        "event": {
            "event": "Ticket Resolved",
            "where": [{"property": "wait_hours", "op": "gt", "value": 24}],
        },
    }
}


def _setup(server: Server, *decisions: dict[str, Any]) -> httpx.Client:
    """An editor's client with the `waited` audience and the decisions saved and published."""
    http = server.client("editor")
    assert http.put("/api/audiences/waited", json=WAITED).status_code == 200
    for d in decisions:
        r = http.put(f"/api/decisions/{d['name']}", json=d)
        assert r.status_code == 200, r.text
        r = http.post(f"/api/decisions/{d['name']}/publish", json={"source": "test"})
        assert r.status_code == 200, r.text
    return http


@pytest.fixture
def page(server: Server) -> Iterator[httpx.Client]:
    """A page's script: the source's write key, one kept connection."""
    with httpx.Client(base_url=server.url, auth=(server.write_key, ""), timeout=60) as c:
        yield c


def _send(page: httpx.Client, kind: str, **message: Any) -> None:
    r = page.post(f"/v1/{kind}", json=message)
    assert r.status_code == 200, r.text


def _decide(page: httpx.Client, **body: Any) -> httpx.Response:
    return page.post("/v1/decide", json=body)


def _answer(page: httpx.Client, **ids: Any) -> dict[str, Any]:
    r = _decide(page, **ids)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()["decisions"]
    return answer


def _wait_for(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def _ann(page: httpx.Client) -> None:
    """Ann: a user id, two browsers (anonymous ids), an email and an iPhone."""
    _send(page, "identify", userId="u_ann", anonymousId="a_ann_1",
          traits={"email": "Ann@Shop.Example", "plan": "vip", "first_name": "Ann"})  # fmt: skip
    _send(page, "identify", userId="u_ann", anonymousId="a_ann_2")
    _send(page, "track", event="App Opened", userId="u_ann", anonymousId="a_ann_app",
          context={"device": {"type": "ios", "id": "IDFV-ANN"}})  # fmt: skip


def test_every_identifier_of_a_person_gives_the_same_answer(
    server: Server, page: httpx.Client
) -> None:
    split = {**HERO, "name": "split", "holdout": 0.3, "rules": [
        {"name": "all", "when": {"kind": "not", "cond": {"kind": "audience", "audience": "none"}},
         "split": {"generic": 1, "vip": 1, "support": 1}}]}  # fmt: skip
    http = _setup(server, HERO, split)
    _ann(page)
    ids = {
        "user_id": "u_ann",
        "anonymous_id": "a_ann_2",
        "email": "ann@shop.example",
        "device_id": "IDFV-ANN",
    }

    def profile(kind: str, value: str) -> dict[str, Any]:
        r = http.get(f"/api/personalize/profiles/{kind}:{value}")
        assert r.status_code == 200, (kind, r.text)
        body: dict[str, Any] = r.json()
        return body

    read = _wait_for(lambda: all(
        http.get(f"/api/personalize/profiles/{k}:{v}").status_code == 200 for k, v in ids.items()))  # fmt: skip
    assert read, "some identifier did not resolve within 10 s"
    profiles = {kind: profile(kind, value) for kind, value in ids.items()}
    pids = {p["profile_id"] for p in profiles.values()}
    assert len(pids) == 1, profiles
    ann = profiles["email"]
    assert ann["traits"]["plan"] == "vip" and ann["traits"]["first_name"] == "Ann"
    assert {"kind": "ios.id", "value": "IDFV-ANN"} in ann["identifiers"]
    assert [e["event"] for e in ann["events"]][:1] == ["App Opened"]  # newest first

    by_user = _answer(page, userId="u_ann")
    assert by_user["hero"] == {
        "variant": "vip",
        "content": {"title": "Welcome back, Ann", "tier": "vip"},
    }
    for anon in ("a_ann_1", "a_ann_2", "a_ann_app"):
        assert _answer(page, anonymousId=anon) == by_user, anon
    assert _answer(page, userId="u_ann", anonymousId="a_ann_1") == by_user
    previews = {
        kind: http.post("/api/decisions/split/preview", json={"identifier": f"{kind}:{value}"})
        for kind, value in {**ids, "profile_id": pids.pop()}.items()
    }
    arms = {kind: (r.status_code, r.json()["arm"]) for kind, r in previews.items()}
    assert len(set(arms.values())) == 1, arms
    assert by_user["split"]["variant"] == previews["email"].json()["variant"]


def test_a_write_key_cannot_read_a_profile(server: Server, page: httpx.Client) -> None:
    _setup(server, HERO)
    _ann(page)
    url = f"{server.url}/api/personalize/profiles/user_id:u_ann"
    viewer = server.client("viewer")
    assert _wait_for(lambda: viewer.get(url).status_code == 200)
    r = httpx.get(url, auth=(server.write_key, ""))
    assert r.status_code == 401
    assert "write keys authenticate /v1 only" in r.json()["error"]["message"]
    assert httpx.get(url, params={"writeKey": server.write_key}).status_code == 401
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer tp_forged"}).status_code == 401
    # The public answer holds the variants only, never the profile.
    answer = _decide(page, userId="u_ann").json()
    assert set(answer) == {"success", "decisions"}
    assert set(answer["decisions"]["hero"]) == {"variant", "content"}
    assert "u_ann" not in str(answer) and "Ann@Shop" not in str(answer)


def test_a_trait_or_audience_change_shows_in_the_next_answers(
    server: Server,
    page: httpx.Client,
) -> None:
    _setup(server, HERO)
    _send(page, "identify", userId="u_bob", traits={"plan": "basic", "first_name": "Bob"})
    assert _wait_for(lambda: "hero" in _answer(page, userId="u_bob"))
    assert _answer(page, userId="u_bob")["hero"]["variant"] == "generic"
    for plan, variant in [("vip", "vip"), ("basic", "generic"), ("vip", "vip")]:
        _send(page, "identify", userId="u_bob", traits={"plan": plan})  # 200 after COMMIT
        committed = time.monotonic()
        while _answer(page, userId="u_bob")["hero"]["variant"] != variant:
            assert time.monotonic() - committed < 15, f"plan {plan} not seen after 15 s"
    # An audience: a ticket that waited 30 hours puts Bob in `waited` (the first rule).
    _send(page, "track", userId="u_bob", event="Ticket Resolved", properties={"wait_hours": 30})
    committed = time.monotonic()
    while _answer(page, userId="u_bob")["hero"]["variant"] != "support":
        assert time.monotonic() - committed < 15, "audience entry not seen after 15 s"
        time.sleep(0.005)
    # Each change showed within the 15 s deadline above. How soon (the 1 s target) is a timing,
    # so bench/personalize.py measures it (its freshness probe), not this test: it saw 1.5-2.4 s
    # here when the machine ran at load 30.


def test_trait_changes_keep_showing_while_computed_traits_are_defined(
    server: Server, page: httpx.Client
) -> None:
    """With a computed trait defined and nothing newly computed, each commit still reaches the
    read model (a cursor left with an unfinished result once stopped every later update)."""
    http = _setup(server, HERO)
    body = {"op": "count", "event": {"event": "Order Completed"}}
    assert http.put("/api/traits/orders", json=body).status_code == 200
    _send(page, "identify", userId="u_cid", traits={"plan": "basic"})
    assert _wait_for(lambda: "hero" in _answer(page, userId="u_cid"))
    for plan, variant in [("vip", "vip"), ("basic", "generic"), ("vip", "vip")]:
        _send(page, "identify", userId="u_cid", traits={"plan": plan})
        committed = time.monotonic()
        while _answer(page, userId="u_cid")["hero"]["variant"] != variant:
            assert time.monotonic() - committed < 5, f"plan {plan} not seen after 5 s"
            time.sleep(0.01)


def test_split_assignment_is_stable_per_person(server: Server, page: httpx.Client) -> None:
    ab = {"name": "ab", "variants": {"a": {"v": "a"}, "b": {"v": "b"}}, "default": "a",
          "holdout": 0.2, "rules": [{"name": "everyone", "when": {"kind": "context",
          "path": "page.path", "op": "is_set"}, "split": {"a": 1, "b": 3}}]}  # fmt: skip
    http = _setup(server, ab)
    home = {"page": {"path": "/"}}
    people = [f"anon-{i}" for i in range(600)]
    first = {p: _answer(page, anonymousId=p, context=home)["ab"]["variant"] for p in people[:300]}
    again = {p: _answer(page, anonymousId=p, context=home)["ab"]["variant"] for p in people[:300]}
    assert first == again
    arms = Counter(
        http.post("/api/decisions/ab/preview",
                  json={"identifier": f"anonymous_id:{p}", "context": home}).json()["arm"]
        for p in people
    )  # fmt: skip
    # 20% holdout, then 1:3 between a and b: 120, 120, 360 expected of 600 (about 4 sd bounds).
    assert 75 <= arms["holdout"] <= 165, arms
    assert 75 <= arms["a"] <= 165 and 300 <= arms["b"] <= 420, arms
    # Read from the store file alone, as another process would: the same arms.
    for p in people[:40]:
        alone = preview_for(server.store, "ab", f"anonymous_id:{p}", home)
        assert alone.variant == first[p], p
    served = Counter(first.values())
    assert served["a"] > served["b"] / 3 - 40  # the holdout is served the default, a
    # A new seed reshuffles; the same seed never does, in any process.
    http.put("/api/decisions/ab", json={**ab, "seed": "round-2"})
    http.post("/api/decisions/ab/publish", json={"source": "test"})
    moved = sum(
        _answer(page, anonymousId=p, context=home)["ab"]["variant"] != first[p]
        for p in people[:300]
    )
    assert moved > 50


def test_exposures_land_in_the_log_and_the_experiments_engine_reads_them(
    server: Server, page: httpx.Client
) -> None:
    ab = {"name": "cta", "variants": {"plain": {"c": "Buy"}, "bold": {"c": "BUY NOW"}},
          "default": "plain", "holdout": 0.25,
          "rules": [{"name": "all", "when": {"kind": "context", "path": "page.path",
                     "op": "eq", "value": "/"}, "split": {"plain": 1, "bold": 1}}],
          "goal": {"event": "Order Completed"}, "goal_window": "1d"}  # fmt: skip
    _setup(server, ab)
    served: dict[str, str] = {}
    for i in range(120):
        user = f"u_{i:03d}"
        _send(page, "identify", userId=user)
        served[user] = _answer(page, userId=user, context={"page": {"path": "/"}})["cta"]["variant"]
        _answer(page, userId=user, context={"page": {"path": "/"}})  # a repeat: no 2nd event
    buyers = [u for u, v in served.items() if v == "bold"][:20]
    for user in buyers:
        _send(page, "track", userId=user, event="Order Completed", properties={"revenue": 9})

    def logged() -> list[tuple[Any, ...]]:
        return server.store.query(
            "SELECT user_id, properties->>'$.experiment_id', properties->>'$.variation_id', "
            "properties->>'$.variation_name', source FROM events "
            "WHERE event = 'Experiment Viewed' ORDER BY seq"
        )

    rows = _wait_for(lambda: len(logged()) >= 120 and logged())
    assert len(rows) == 120, "one exposure per person, decision version and arm a day"
    assert {r[1] for r in rows} == {"decision:cta"} and {r[4] for r in rows} == {
        "touchpath.personalize"
    }
    for user, _, arm, variant, _ in rows:
        assert variant == served[user]
        assert arm in ("plain", "bold", "holdout") and (arm == "holdout") <= (variant == "plain")
    spec = get_decision(server.store, "cta").spec
    server.store.wait_idle()
    nums = _wait_for(
        lambda: (
            (n := decision_numbers(server.store, spec))
            and sum(a.exposed for a in n.arms) == 120
            and n
        )
    )
    by_arm = {a.arm: a for a in nums.arms}
    arms = Counter(r[2] for r in rows)
    assert {a: by_arm[a].exposed for a in by_arm} == dict(arms)
    assert by_arm["bold"].conversions == len(buyers)
    assert by_arm["plain"].conversions == 0 and by_arm["holdout"].conversions == 0
    assert nums.control == "holdout" and nums.goal == "Order Completed"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"anonymousId": "a1", "decisions": ["heroo"]}, 404, "decisions[0]: no decision 'heroo'"),
        ({"anonymousId": "a1", "decisions": ["hero", "nope"]}, 404, "decisions[1]"),
        ({"anonymousId": "a1", "decisions": "hero"}, 400, "decisions: must be a list"),
        ({"anonymousId": "a1", "decisions": ["bad name!"]}, 400, "decisions[0]: 'bad name!'"),
        ({"userId": {"id": 1}}, 400, "userId: must be a string, got dict"),
        ({"anonymousId": "x" * 600}, 400, "anonymousId: 600 characters; the limit is 512"),
        ({"userId": "u\n1"}, 400, "userId: holds control characters"),
        ({"userId": "null"}, 400, "one is required ('null' is a blocked value)"),
        ({"decisions": ["hero"]}, 400, "userId or anonymousId: one is required"),
        ({"anonymousId": "a1", "context": {"blob": "x" * 9000}}, 400, "bytes; the limit is 8192"),
        ({"anonymousId": "a1", "context": ["page"]}, 400, "context: must be an object"),
    ],
)
def test_bad_decide_input_gets_a_clear_4xx(
    server: Server, page: httpx.Client, body: dict[str, Any], status: int, says: str
) -> None:
    _setup(server, HERO)
    r = _decide(page, **body)
    assert r.status_code == status, r.text
    assert says in r.json()["error"]["message"], r.text


def test_bad_credentials_bodies_and_identifiers_get_a_clear_4xx(server: Server) -> None:
    http = _setup(server, HERO)
    url = f"{server.url}/v1/decide"
    r = httpx.post(url, json={"anonymousId": "a1"})
    assert r.status_code == 401 and "write key: missing" in r.text
    r = httpx.post(url, json={"anonymousId": "a1", "writeKey": "wrong"})
    assert r.status_code == 401 and "no source has this write key" in r.text
    r = httpx.post(url, content=b"{not json", auth=(server.write_key, ""))
    assert r.status_code == 400 and "body: invalid JSON" in r.text
    r = httpx.post(url, content=b"x" * 20_000, auth=(server.write_key, ""))
    assert r.status_code == 400 and "the limit is 16384" in r.text
    assert httpx.post(url, json={"writeKey": server.write_key, "anonymousId": "a"}).is_success
    r = http.get("/api/personalize/profiles/u_ann")
    assert r.status_code == 400 and "is not kind:value" in r.text
    r = http.get("/api/personalize/profiles/user_id:nobody")
    assert r.status_code == 404 and "no profile has user_id 'nobody'" in r.text
    r = http.put("/api/decisions/hero", json={**HERO, "default": "missing"})
    assert r.status_code == 400 and "default: 'missing' is not one of the variants" in r.text
    bad_rule = {**HERO, "rules": [{"name": "r", "when": {"kind": "trait", "trait": "x"},
                                   "variant": "nope"}]}  # fmt: skip
    r = http.put("/api/decisions/hero", json=bad_rule)
    assert r.status_code == 400 and "rules[0].variant: 'nope'" in r.text
    r = http.put("/api/decisions/other", json=HERO)
    assert r.status_code == 400 and "differs from the path" in r.text
    r = http.post("/api/decisions/missing/preview", json={"identifier": "user_id:u1"})
    assert r.status_code == 404 and "decision 'missing': no such decision" in r.text
    r = http.post("/api/decisions/hero/publish", json={"source": "nope"})
    assert r.status_code == 404 and "source 'nope'" in r.text


def test_decide_answers_browsers_with_cors(server: Server) -> None:
    _setup(server, HERO)
    pre = httpx.options(
        f"{server.url}/v1/decide",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    r = httpx.post(
        f"{server.url}/v1/decide",
        json={"anonymousId": "a1"},
        auth=(server.write_key, ""),
        headers={"Origin": "https://shop.example"},
    )
    assert r.headers["access-control-allow-origin"] == "*"
    api = httpx.get(f"{server.url}/api/decisions", headers={"Origin": "https://evil.example",
                                                           **server.auth})  # fmt: skip
    assert "access-control-allow-origin" not in api.headers


def test_a_source_answers_only_its_published_version(server: Server, page: httpx.Client) -> None:
    http = _setup(server, HERO)
    other = server.store.create_source("other-site")
    assert _answer(page, anonymousId="a9")["hero"]["content"] == {"title": "New season gear"}
    r = httpx.post(f"{server.url}/v1/decide", json={"anonymousId": "a9"},
                   auth=(other.write_key, ""))  # fmt: skip
    assert r.json()["decisions"] == {}
    changed = {**HERO, "variants": {**HERO["variants"], "generic": {"title": "Autumn sale"}}}
    saved = http.put("/api/decisions/hero", json=changed).json()
    assert saved["version"] == 2 and saved["new"]
    assert http.put("/api/decisions/hero", json=changed).json()["new"] is False
    assert _answer(page, anonymousId="a9")["hero"]["content"]["title"] == "New season gear"
    http.post("/api/decisions/hero/publish", json={"source": "test"})
    assert _answer(page, anonymousId="a9")["hero"]["content"]["title"] == "Autumn sale"
    listed = http.get("/api/decisions").json()
    assert listed[0]["latest"] == 2 and listed[0]["publications"][0]["version"] == 2
    assert [v["version"] for v in http.get("/api/decisions/hero/versions").json()] == [2, 1]
    assert http.get("/api/decisions/hero", params={"version": 1}).json()["spec"]["variants"][
        "generic"
    ] == {"title": "New season gear"}
    http.post("/api/decisions/hero/unpublish", json={"source": "test"})
    assert _answer(page, anonymousId="a9") == {}
    assert http.delete("/api/decisions/hero").json() == {"name": "hero", "versions": 2}
    assert http.get("/api/decisions").json() == []


def test_an_anonymous_visitor_who_signs_in_gets_the_profiles_answer(
    server: Server, page: httpx.Client
) -> None:
    _setup(server, HERO)
    _send(page, "identify", userId="u_cy", traits={"plan": "vip", "first_name": "Cy"})
    _send(page, "page", anonymousId="a_cy_new", properties={"path": "/"})
    assert _wait_for(lambda: _answer(page, anonymousId="a_cy_new")["hero"]["variant"] == "generic")
    _send(page, "identify", userId="u_cy", anonymousId="a_cy_new")  # signs in: merged
    assert _wait_for(lambda: _answer(page, anonymousId="a_cy_new")["hero"]["variant"] == "vip")


def test_a_deleted_person_is_forgotten(server: Server, page: httpx.Client) -> None:
    _setup(server, HERO)
    _ann(page)
    viewer = server.client("viewer")
    url = "/api/personalize/profiles/email:ann@shop.example"
    assert _wait_for(lambda: viewer.get(url).status_code == 200)
    admin = server.client("admin")
    r = admin.post("/api/privacy/delete", json={"userId": "u_ann"})
    assert r.status_code == 200, r.text
    assert _wait_for(lambda: viewer.get(url).status_code == 404, timeout=15)
    assert _answer(page, anonymousId="a_ann_1")["hero"]["variant"] == "generic"


def test_a_new_persons_computed_trait_reaches_the_answer(
    server: Server, page: httpx.Client
) -> None:
    """The demo's home page: a person never seen views a product; the computed `last_category`
    that the rule reads must reach the answer (bench/personalize.py's freshness probe)."""
    http = _setup(server)
    trait = {"op": "last", "event": {"event": "Product Viewed"}, "property": "category"}
    assert http.put("/api/traits/last_category", json=trait).status_code == 200
    hero = {
        "name": "home",
        "variants": {"new": {}, "last": {"category": "{{ computed.last_category }}"}},
        "default": "new",
        "rules": [
            {
                "name": "returning",
                "when": {"kind": "computed", "trait": "last_category", "op": "is_set"},
                "variant": "last",
            }
        ],
    }
    _setup(server, hero)
    for i in range(3):
        user = f"u_new_{i}"
        _send(page, "identify", userId=user)
        _send(page, "track", userId=user, event="Product Viewed", properties={"category": "Tents"})
        committed = time.monotonic()
        while (answer := _answer(page, userId=user)["home"])["variant"] != "last":
            # Timings are the benchmark's (bench/personalize.py); this says the value arrives.
            assert time.monotonic() - committed < 5, f"{user}: not seen after 5 s: {answer}"
            time.sleep(0.01)
        assert answer["content"] == {"category": "Tents"}, answer
