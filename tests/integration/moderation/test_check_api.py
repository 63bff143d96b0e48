"""The link-ban check over HTTP."""

from __future__ import annotations

import httpx

from tests.conftest import assert_problem


async def test_blocked_and_allowed_texts(client: httpx.AsyncClient) -> None:
    blocked = await client.post(
        "/api/v1/moderation/check", json={"text": "cheaper at amzn . to/3xYz"}
    )
    assert blocked.status_code == 200
    body = blocked.json()
    assert body["allowed"] is False
    assert [(f["domain"], f["rule"]) for f in body["findings"]] == [
        ("amzn.to", "marketplace_shortlink")
    ]

    allowed = await client.post(
        "/api/v1/moderation/check", json={"text": "I used to sell on eBay, now only here! £12.99"}
    )
    assert allowed.json() == {"allowed": True, "findings": []}


async def test_oversized_or_malformed_request(client: httpx.AsyncClient) -> None:
    too_long = await client.post("/api/v1/moderation/check", json={"text": "a" * 20001})
    assert [e["field"] for e in assert_problem(too_long, 422, "invalid")["errors"]] == ["text"]
    missing = await client.post("/api/v1/moderation/check", json={})
    assert [e["field"] for e in assert_problem(missing, 422, "invalid")["errors"]] == ["text"]
