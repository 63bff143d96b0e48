"""How many SQL statements completing a checkout takes (create, then confirm and pay), counted
with a `before_cursor_execute` listener; the figures are in docs/BENCHMARKS.md."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import STACK, MakeUser
from tests.integration.commerce.conftest import add_to_cart, checkout_cart, confirm

# One shop, one line, one parcel, card accepted at once, through HTTP (sign-in lookups
# included; savepoints not counted). SQLite and PostgreSQL differ in how rows come back.
EXPECTED = {
    "embedded": {"create": 24, "confirm": 50},
    "production": {"create": 24, "confirm": 47},
}


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def on_execute(*args: Any) -> None:
        statement = str(args[2]).lstrip().split(None, 1)[0].upper()
        if statement not in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)


async def test_statements_to_complete_a_checkout(
    client: httpx.AsyncClient, make_user: MakeUser, shop_factory: Any, engine: AsyncEngine
) -> None:
    shop = await shop_factory()
    buyer = await make_user(country="GB")
    await add_to_cart(client, buyer, shop.variant_id, 1)
    await client.get("/api/v1/carts/current", headers=buyer.headers)  # warm caches
    with counting(engine) as created:
        checkout = await checkout_cart(client, buyer)
    with counting(engine) as confirmed:
        response = await confirm(client, buyer, checkout["id"])
    assert response.json()["status"] == "completed"
    print(f"RESULT checkout_queries stack={STACK} create={len(created)} confirm={len(confirmed)}")
    assert {"create": len(created), "confirm": len(confirmed)} == EXPECTED[STACK]
