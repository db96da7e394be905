"""Privacy: delete by userId leaves no trace in any table; suppression drops and can be lifted."""

from __future__ import annotations

from identity_helpers import ingest, msg


def traces(store, needles: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Rows of every table and column that mention any of the needles."""
    found: dict[str, int] = {}
    cols = store.query(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name IN (SELECT table_name FROM "
        "information_schema.tables WHERE table_type = 'BASE TABLE')"
    )
    for table, col in cols:
        for n in needles:
            (k,) = store.query(
                f'SELECT count(*) FROM "{table}" WHERE contains(CAST("{col}" AS VARCHAR), ?)', [n]
            )[0]
            if k:
                found[f"{table}.{col}:{n}"] = int(k)
    return found


def test_delete_leaves_no_trace_and_suppression_drops(server) -> None:  # type: ignore[no-untyped-def]
    store = server.store  # the app's composition root resolves identities as events commit
    ingest(
        store,
        [
            msg("page", 0, name="Home", anonymousId="anon-zed"),
            msg(
                "identify",
                1,
                userId="user-zed",
                anonymousId="anon-zed",
                traits={"email": "zed@mail.io", "plan": "pro"},
            ),
            msg("track", 2, userId="user-zed", event="Order Completed"),
            msg("identify", 3, userId="user-amy", anonymousId="anon-amy"),
            {"type": "track", "userId": "user-zed"},
        ],
    )  # rejected: no event
    with server.client() as http:
        http.put("/api/traits/orders", json={"op": "count", "event": {"event": "Order Completed"}})
        http.put(
            "/api/audiences/buyers",
            json={"condition": {"kind": "performed", "event": {"event": "Order Completed"}}},
        )
        store.wait_idle()
        pid = http.get("/api/profiles/user-zed").json()["profile_id"]
        needles = ["user-zed", "anon-zed", "zed@mail.io", pid]
        assert traces(store, needles)  # the test can see traces when they are there
        r = http.post("/api/privacy/delete", json={"userId": "user-zed"})
        assert r.status_code == 200, r.text
        deleted = r.json()["deleted"]
        assert deleted["events"] == 4 and deleted["rejected"] == 1 and deleted["profiles"] == 1
        assert deleted["identifiers"] == 3 and deleted["audience_members"] == 1
        assert traces(store, needles) == {}
        assert store.query("SELECT count(*) FROM events WHERE user_id = 'user-amy'")[0][0] == 1
        # suppression: 200 and dropped; lifted: stored again
        assert http.put("/api/privacy/suppressions/user_id/user-zed").status_code == 200
        send = {"type": "track", "userId": "user-zed", "event": "Back"}
        auth = (server.write_key, "")
        assert http.post("/v1/track", json=send, auth=auth).status_code == 200
        assert traces(store, ["user-zed"]) == {"suppressions.value:user-zed": 1}
        assert http.delete("/api/privacy/suppressions/user_id/user-zed").status_code == 200
        assert http.post("/v1/track", json=send, auth=auth).status_code == 200
        store.wait_idle()
        assert store.query("SELECT count(*) FROM events WHERE user_id = 'user-zed'")[0][0] == 1
        assert http.delete("/api/privacy/suppressions/user_id/user-zed").status_code == 404
