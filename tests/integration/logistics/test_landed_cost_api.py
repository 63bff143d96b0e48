"""The landed-cost computation over HTTP, as a buyer's checkout and a seller's tools call it."""

from __future__ import annotations

import httpx

from tests.conftest import assert_problem

REQUEST = {
    "destination": "GB",
    "date": "2026-11-22",
    "currency": "GBP",
    "items": [{"hs_code": "950300", "origin": "CN", "unit_price": "25.00", "quantity": 2}],
    "shipping": "0.00",
}


async def test_uk_low_value_goods_pay_vat_at_checkout(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/logistics/landed-cost", json=REQUEST)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["destination"] == "GB"
    assert body["currency"] == "GBP"
    assert body["goods_value"] == "50.00"
    assert body["duty"] == "0.00"
    assert body["taxes"] == [
        {"name": "VAT", "rate": "0.20", "amount": "10.00", "collected_at": "checkout"}
    ]
    assert body["fees"] == []
    assert body["total_duties_and_taxes"] == "10.00"


async def test_bad_hs_code_names_the_field(client: httpx.AsyncClient) -> None:
    bad = {**REQUEST, "items": [{**REQUEST["items"][0], "hs_code": "12ab"}]}
    body = assert_problem(
        await client.post("/api/v1/logistics/landed-cost", json=bad), 422, "invalid_hs_code"
    )
    assert body["errors"][0]["field"] == "items.0.hs_code"


async def test_unsupported_destination(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/logistics/landed-cost", json={**REQUEST, "destination": "AQ"}
    )
    body = assert_problem(response, 422, "unsupported_destination")
    assert body["errors"][0]["field"] == "destination"
