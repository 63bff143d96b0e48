"""Payments' routes follow the API conventions: declared access, documented problems."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from fastapi.routing import APIRoute

from tests.conftest import assert_problem
from tests.integration.kit.test_api_conventions import _access_kinds


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every API route, including those of included routers: FastAPI 0.16x keeps an included
    router as one `_IncludedRouter` entry in `app.routes` rather than copying its routes."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def test_payments_routes_declare_who_may_call_them(app: Any) -> None:
    kinds = {
        f"{sorted(route.methods)[0]} {route.path}": _access_kinds(route.dependant)
        for route in api_routes(app.routes)
        if route.path.startswith("/api/v1/payments")
    }
    assert kinds == {
        "POST /api/v1/payments/webhooks/{provider}": {"public"},
        "GET /api/v1/payments/{payment_id}": {"admin", "caller", "public", "user"},
        "POST /api/v1/payments/{payment_id}/refunds": {"admin", "caller", "public", "user"},
    }


async def test_openapi_documents_the_webhook_problems(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    webhook = spec["paths"]["/api/v1/payments/webhooks/{provider}"]["post"]
    assert sorted(webhook["responses"]) == ["200", "400", "404", "422"]
    assert (
        "refund_exceeds_payment"
        in (
            spec["paths"]["/api/v1/payments/{payment_id}/refunds"]["post"]["responses"]["422"][
                "description"
            ]
        )
    )


async def test_a_provider_name_that_cannot_be_one_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/payments/webhooks/Not%20A%20Provider", content=b"{}")
    body = assert_problem(response, 422, "invalid")
    assert [e["field"] for e in body["errors"]] == ["path.provider"]
