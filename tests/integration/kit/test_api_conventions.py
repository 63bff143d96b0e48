"""The conventions every route follows: problem+json errors, request ids, body limits,
idempotent POSTs, declared access, health and metrics."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.accounts.models import ShopApiKey, User
from tests.conftest import PASSWORD, MakeUser, assert_problem


async def test_problem_shape_for_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    body = assert_problem(response, 404, "not_found")
    assert body == {
        "type": "https://liveloop.dev/problems/not_found",
        "title": "Not Found",
        "status": 404,
        "detail": "No resource at /api/v1/no-such-thing.",
        "code": "not_found",
        "instance": "/api/v1/no-such-thing",
        "request_id": response.headers["x-request-id"],
    }
    method = await client.delete("/api/v1/auth/login")
    assert assert_problem(method, 405, "method_not_allowed")["detail"] == (
        "DELETE is not allowed on /api/v1/auth/login."
    )


async def test_invalid_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert (
        assert_problem(response, 400, "invalid_json")["detail"]
        == "The request body is not valid JSON."
    )


async def test_oversized_bodies_are_refused_with_413(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    big = {
        "email": "big@example.com",
        "password": "x" * 2_000_000,
        "display_name": "Big",
        "country": "GB",
    }
    response = await client.post("/api/v1/auth/signup", json=big)
    assert_problem(response, 413, "payload_too_large")

    async def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 65536

    streamed = await client.post(
        "/api/v1/auth/signup", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(streamed, 413, "payload_too_large")
    assert (
        await session.scalar(
            select(func.count()).select_from(User).where(User.email == "big@example.com")
        )
        == 0
    )


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    mine = await client.get("/healthz", headers={"X-Request-ID": "abc-123-def-456"})
    assert mine.headers["x-request-id"] == "abc-123-def-456"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32
    assert generated.headers["x-request-id"] != "bad id with spaces"


async def test_idempotent_create_replays_and_refuses_a_different_body(
    client: httpx.AsyncClient, make_user: MakeUser, session: AsyncSession
) -> None:
    shop = uuid.uuid4()
    owner = await make_user(shop_id=shop)
    headers = {**owner.headers, "Idempotency-Key": "key-001"}
    first = await client.post(
        f"/api/v1/shops/{shop}/api-keys", json={"name": "erp"}, headers=headers
    )
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    second = await client.post(
        f"/api/v1/shops/{shop}/api-keys", json={"name": "erp"}, headers=headers
    )
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    count = await session.scalar(
        select(func.count()).select_from(ShopApiKey).where(ShopApiKey.shop_id == shop)
    )
    assert count == 1

    conflict = await client.post(
        f"/api/v1/shops/{shop}/api-keys", json={"name": "other"}, headers=headers
    )
    assert_problem(conflict, 422, "idempotency_key_reused")
    # the same key from another caller is another namespace
    other_owner = await make_user(shop_id=shop)
    theirs = await client.post(
        f"/api/v1/shops/{shop}/api-keys",
        json={"name": "erp"},
        headers={**other_owner.headers, "Idempotency-Key": "key-001"},
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


async def test_failed_request_does_not_burn_the_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    body = {
        "email": "idem@example.com",
        "password": "password123",
        "display_name": "I",
        "country": "GB",
    }
    headers = {"Idempotency-Key": "signup-1"}
    weak = await client.post("/api/v1/auth/signup", json=body, headers=headers)
    assert_problem(weak, 422, "weak_password")
    fixed = {**body, "password": PASSWORD}
    ok = await client.post("/api/v1/auth/signup", json=fixed, headers=headers)
    assert ok.status_code == 201
    client.cookies.clear()  # a retry after a lost response has no session cookie either
    replay = await client.post("/api/v1/auth/signup", json=fixed, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["user"]["id"] == ok.json()["user"]["id"]
    assert (
        await session.scalar(
            select(func.count()).select_from(User).where(User.email == "idem@example.com")
        )
        == 1
    )


async def test_bad_idempotency_key_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": "a@b.co", "password": "x"},
        headers={"Idempotency-Key": "k" * 300},
    )
    assert_problem(response, 400, "invalid_idempotency_key")


def _access_kinds(dependant: Any) -> set[str]:
    found = set()
    for dep in dependant.dependencies:
        kind = getattr(dep.call, "__liveloop_access__", None)
        if kind:
            found.add(kind)
        found |= _access_kinds(dep)
    return found


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every API route, including included routers' (FastAPI keeps an included router as one
    entry in `app.routes` with its routes under `original_router`)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def test_every_route_declares_who_may_call_it(app: Any) -> None:
    routes = list(api_routes(app.routes))
    assert len(routes) > 40  # the walk found the contexts' routers, not just the app's own
    undeclared = [
        f"{sorted(route.methods)} {route.path}"
        for route in routes
        if not _access_kinds(route.dependant)
    ]
    assert undeclared == []


async def test_health_readiness_metrics_and_docs(client: httpx.AsyncClient, redis: Any) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    expected = {"database": "ok"} | ({"redis": "ok"} if redis is not None else {})
    assert ready.json() == {"status": "ok", "checks": expected}
    metrics = await client.get("/metrics")
    assert "liveloop_http_requests_total" in metrics.text
    openapi = (await client.get("/openapi.json")).json()
    assert "/api/v1/auth/signup" in openapi["paths"]
    assert (await client.get("/docs")).status_code == 200
